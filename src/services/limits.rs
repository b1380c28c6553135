//! Rate limits of the auth endpoints, counted in the database so every instance shares them:
//! Better Auth's defaults per client address (IPv6 by /64), and limits on wrong passwords per
//! account, so guesses spread over many addresses still reach one account only so often while
//! a stranger cannot keep its owner out. Windows are fixed and short: a limit is never a
//! permanent lockout.

use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use crate::store::StoreError;
use crate::store::accounts::LimitStore;

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
/// Wrong passwords at one account from one address: 10 a minute, then that address waits.
pub const FAILURES_PER_ACCOUNT_AND_ADDRESS: Rule =
    Rule { name: "account-address", window_ms: 60_000, max: 10 };
/// Wrong passwords at one account from anywhere: past 10 a minute, only addresses without a
/// wrong password at that account in their window are still heard, so a stranger's guesses
/// never refuse the owner's right password from a clean address.
pub const FAILURES_PER_ACCOUNT: Rule = Rule { name: "account", window_ms: 60_000, max: 10 };
/// Wrong current passwords (change-password, delete-user) at one signed-in account: 10 a minute.
pub const PASSWORD_CHECKS_PER_ACCOUNT: Rule =
    Rule { name: "password-check", window_ms: 60_000, max: 10 };

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
    store: Arc<dyn LimitStore>,
    enabled: bool,
    next_purge_ms: AtomicI64,
}

impl RateLimiter {
    pub fn new(store: Arc<dyn LimitStore>, enabled: bool) -> Self {
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
        let now_ms = now_ms();
        self.purge_if_due(now_ms).await?;
        let (count, started) =
            self.store.count_request(&key(rule, subject), rule.window_ms, now_ms).await?;
        if count <= rule.max {
            return Ok(Ok(()));
        }
        Ok(Err(limited(rule, started, now_ms)))
    }

    /// What `subject` has counted so far under `rule` in the window running now, counting
    /// nothing: `Err` once it has reached the rule's most. `None` while limits are off.
    pub async fn count(&self, rule: Rule, subject: &str) -> Result<Option<Counted>, StoreError> {
        if !self.enabled {
            return Ok(None);
        }
        let now_ms = now_ms();
        let (count, started) =
            self.store.request_count(&key(rule, subject), rule.window_ms, now_ms).await?;
        let limited = limited(rule, started, now_ms);
        Ok(Some(Counted { count, full: count >= rule.max, limited }))
    }

    /// Counts one event of `subject` under `rule` (a wrong password), answering nothing.
    pub async fn record(&self, rule: Rule, subject: &str) -> Result<(), StoreError> {
        if self.enabled {
            self.store.count_request(&key(rule, subject), rule.window_ms, now_ms()).await?;
        }
        Ok(())
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

/// A subject's count under a rule, as [`RateLimiter::count`] reads it.
#[derive(Debug, Clone, Copy)]
pub struct Counted {
    pub count: i64,
    /// The count has reached the rule's most.
    pub full: bool,
    /// The answer to give while it is full: when its window ends.
    pub limited: Limited,
}

/// The stored key of `subject` under `rule`: hashed, so a key has a fixed size and the table
/// holds no addresses or e-mails.
fn key(rule: Rule, subject: &str) -> String {
    format!("{}:{:x}", rule.name, Sha256::digest(subject.as_bytes()))
}

use crate::domain::accounts::now_ms;

/// The refusal of a window that started at `started`, seen at `now_ms`.
fn limited(rule: Rule, started: i64, now_ms: i64) -> Limited {
    let left_ms = (started + rule.window_ms - now_ms).max(1);
    let retry_after_secs = u64::try_from((left_ms + 999) / 1000).unwrap_or(1);
    Limited { rule: rule.name, retry_after_secs }
}
