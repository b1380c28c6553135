//! Recently verified tokens. A client sends the same token with every request for its whole
//! lifetime, so the signature (50 µs for EdDSA, 300 µs for RSA or P-256 here) is checked once.
//! The key is the whole token, byte for byte; time claims are checked again on every use, and an
//! entry dies as soon as the key set that verified it changes.

// foldhash (seeded per process), not SipHash: these maps are read on every request.
use foldhash::HashMap;
use std::sync::Mutex;

use super::TokenError;
use super::identity::Identity;

/// Tokens kept, in bytes of token text; past it the cache starts over.
const MAX_BYTES: usize = 4 << 20;

/// When a verified token may be used, in seconds since the epoch, leeway included: from `from`
/// (inclusive) until just before `until`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Validity {
    pub from: f64,
    pub until: f64,
}

impl Validity {
    /// `until` is exclusive (RFC 7519 4.1.4: the token must not be accepted "on or after" `exp`),
    /// `from` inclusive. The first verification and every remembered use go through here, so
    /// they cannot disagree about the last second.
    pub fn check(self, now: i64) -> Result<(), TokenError> {
        let now = now as f64;
        if now >= self.until || now < self.from { Err(TokenError::TokenExpired) } else { Ok(()) }
    }
}

/// Which key verified a token: the shared secret, the service's own keys, or a JWKS issuer's key
/// set of one generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    SharedSecret,
    /// The service's own signing keys (its accounts' tokens).
    Own,
    Issuer {
        index: usize,
        generation: u64,
    },
}

#[derive(Debug, Clone)]
pub struct Verified {
    pub identity: Identity,
    pub validity: Validity,
    pub source: KeySource,
}

#[derive(Default)]
struct Entries {
    by_token: HashMap<Box<str>, Verified>,
    bytes: usize,
}

#[derive(Default)]
pub struct VerifiedTokens {
    entries: Mutex<Entries>,
}

impl VerifiedTokens {
    pub fn get(&self, token: &str) -> Option<Verified> {
        let entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.by_token.get(token).cloned()
    }

    /// Remembers a token whose signature and claims were just verified.
    pub fn insert(&self, token: &str, verified: Verified) {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.bytes + token.len() > MAX_BYTES {
            *entries = Entries::default();
        }
        if entries.by_token.insert(token.into(), verified).is_none() {
            entries.bytes += token.len();
        }
    }

    pub fn forget(&self, token: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.by_token.remove(token).is_some() {
            entries.bytes = entries.bytes.saturating_sub(token.len());
        }
    }
}
