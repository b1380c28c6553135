//! The ground floor: small pieces every layer may use and that use nothing of ours (the clock,
//! redaction, TLS set-up, logging, metrics counters, counted slots, the write fence).

pub mod clock;
pub mod fence;
pub mod metrics;
pub mod redact;
pub mod slots;
pub mod telemetry;
pub mod tls;
