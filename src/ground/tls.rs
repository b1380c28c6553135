//! The process's TLS implementation for outgoing connections (JWKS fetches, PostgreSQL).

/// Selects the TLS implementation for outgoing HTTPS and database TLS, once per process.
pub fn install_tls_provider() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        // Err means another part of the process installed one first, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
