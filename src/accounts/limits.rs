//! Rate limits of the auth endpoints, counted in the database so every instance shares them:
//! Better Auth's defaults per client address, and a per-account limit on sign-in attempts so
//! guesses spread over many addresses still reach one account only so often. Windows are fixed
//! and short: a limit is never a permanent lockout.

use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicI64, Ordering};

use crate::store::StoreError;
use crate::store::accounts::DynAccountStore;

/// One limit: at most `max` requests per `window_ms` for each subject.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub name: &'static str,
    pub window_ms: i64,
    pub max: i64,
}

/// Every request to /api/auth, per client address (Better Auth: 100 per 60 s).
pub const PER_ADDRESS: Rule = Rule { name: "address", window_ms: 60_000, max: 100 };
/// Requests that check or set a password, per client address (Better Auth: 3 per 10 s).
pub const CREDENTIALS_PER_ADDRESS: Rule = Rule { name: "credentials", window_ms: 10_000, max: 3 };
/// Sign-in attempts at one account, from anywhere: 10 a minute.
pub const SIGN_INS_PER_ACCOUNT: Rule = Rule { name: "account", window_ms: 60_000, max: 10 };

/// Counters older than this are purged.
const KEEP_MS: i64 = 10 * 60_000;
/// Least time between two purges by one instance.
const PURGE_EVERY_MS: i64 = 60_000;

/// A request over its limit, and how long until the window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub rule: &'static str,
    pub retry_after_secs: u64,
}

pub struct RateLimiter {
    store: DynAccountStore,
    enabled: bool,
    next_purge_ms: AtomicI64,
}

impl RateLimiter {
    pub fn new(store: DynAccountStore, enabled: bool) -> Self {
        Self { store, enabled, next_purge_ms: AtomicI64::new(0) }
    }

    /// Counts one request of `subject` (an address, an e-mail) under `rule`.
    pub async fn check(
        &self,
        rule: Rule,
        subject: &str,
    ) -> Result<Result<(), Limited>, StoreError> {
        if !self.enabled {
            return Ok(Ok(()));
        }
        let now = crate::accounts::now();
        let now_ms = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
        self.purge_if_due(now_ms).await?;
        // Hashed, so a key has a fixed size and the table holds no addresses or e-mails.
        let key = format!("{}:{:x}", rule.name, Sha256::digest(subject.as_bytes()));
        let (count, started) = self.store.count_request(&key, rule.window_ms, now_ms).await?;
        if count <= rule.max {
            return Ok(Ok(()));
        }
        let left_ms = (started + rule.window_ms - now_ms).max(1);
        let retry_after_secs = u64::try_from((left_ms + 999) / 1000).unwrap_or(1);
        Ok(Err(Limited { rule: rule.name, retry_after_secs }))
    }

    async fn purge_if_due(&self, now_ms: i64) -> Result<(), StoreError> {
        let due = self.next_purge_ms.load(Ordering::Relaxed);
        if now_ms >= due
            && self
                .next_purge_ms
                .compare_exchange(
                    due,
                    now_ms + PURGE_EVERY_MS,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
        {
            self.store.purge_rate_limits(now_ms - KEEP_MS).await?;
        }
        Ok(())
    }
}
