//! The purge of expired sessions. A session is deleted when it is presented after its expiry,
//! but most expired sessions are never presented again; without this they would pile up. Every
//! instance purges now and then in bounded batches, so no purge holds the database for long.

use std::sync::Weak;
use std::time::Duration;
use time::OffsetDateTime;

use crate::store::StoreError;
use crate::store::accounts::SessionStore;

/// Time between two purges by one instance.
pub const PURGE_EVERY: Duration = Duration::from_secs(60);
/// Most sessions one statement deletes.
pub const BATCH: i64 = 500;
/// Most batches in one purge: a backlog beyond this waits for the next purge.
pub const MAX_BATCHES: u32 = 20;

/// Deletes the sessions expired at `now`, `batch` at a time, at most `max_batches` times;
/// returns how many went. `now` is a parameter so tests choose the clock.
pub async fn purge_expired_sessions(
    store: &dyn SessionStore,
    now: OffsetDateTime,
    batch: i64,
    max_batches: u32,
) -> Result<u64, StoreError> {
    let mut purged = 0;
    for _ in 0..max_batches {
        let deleted = store.purge_expired_sessions(now, batch).await?;
        purged += deleted;
        if deleted < u64::try_from(batch).unwrap_or(0) {
            break;
        }
    }
    Ok(purged)
}

/// Purges every [`PURGE_EVERY`] until the store is dropped (the application stopped).
pub fn keep_purging(store: Weak<dyn SessionStore>) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(PURGE_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let Some(store) = store.upgrade() else { break };
            match purge_expired_sessions(
                &*store,
                crate::domain::accounts::now(),
                BATCH,
                MAX_BATCHES,
            )
            .await
            {
                Ok(0) => {}
                Ok(purged) => tracing::info!(purged, "purged expired sessions"),
                // The next tick tries again; an expired session is refused when presented anyway.
                Err(error) => tracing::warn!(%error, "cannot purge expired sessions"),
            }
        }
    });
}
