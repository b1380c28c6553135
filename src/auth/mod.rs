//! Authentication: strict token parsing, the key ring and verification, and the extractors.

mod extract;
mod inflight;
pub mod jwks;
pub mod jws;
mod verified;
mod verify;

pub use extract::{Authenticated, ScopedUser};
pub use inflight::{InflightLimiter, InflightSlot};
pub use verify::{
    ClaimPolicy, DeletedAccounts, Identity, Issuer, LiveSessions, MAX_LEEWAY_SECONDS,
    MAX_USER_ID_BYTES, OwnIssuer, OwnKeys, TokenVerifier, TrustedKey, UserId,
};

/// Selects the TLS implementation for outgoing HTTPS (JWKS fetches), once per process.
pub fn install_tls_provider() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        // Err means another part of the process installed one first, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
