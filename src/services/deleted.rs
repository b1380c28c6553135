//! Deleted accounts' access tokens. A token stays signed until it expires, so every instance
//! keeps the list of accounts deleted lately, read from the database every second, and the
//! verifier refuses their tokens: at once on the instance that deleted the account, within
//! [`crate::services::strict::REVOCATION_WINDOW`] everywhere else, strict sessions or not.

use std::collections::HashSet;
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use crate::domain::accounts::AccountId;
use crate::domain::auth::DeletedAccounts;
use crate::store::StoreError;
use crate::store::accounts::UserStore;

/// How often each instance reads the list.
const READ_EVERY: Duration = Duration::from_secs(1);
/// How long a deletion is remembered: longer than any access token lives, leeway included.
const REMEMBER_MS: i64 = 2 * 60 * 60 * 1000;
/// Deletions older than this are purged from the database (by any instance, now and then).
const KEEP_MS: i64 = 24 * 60 * 60 * 1000;
/// Reads between two purges.
const PURGE_EVERY_READS: u32 = 600;

pub struct DeletedUsers {
    store: Arc<dyn UserStore>,
    recent: RwLock<HashSet<AccountId>>,
}

impl DeletedUsers {
    /// The list as the database has it now.
    pub async fn load(store: Arc<dyn UserStore>) -> Result<Arc<Self>, StoreError> {
        let deleted = Arc::new(Self { store, recent: RwLock::new(HashSet::new()) });
        deleted.read().await?;
        Ok(deleted)
    }

    /// Tells this instance at once of a deletion it made.
    pub fn add(&self, user_id: &AccountId) {
        self.recent.write().unwrap_or_else(|p| p.into_inner()).insert(user_id.clone());
    }

    async fn read(&self) -> Result<(), StoreError> {
        let since = crate::domain::accounts::now_ms() - REMEMBER_MS;
        let rows = self.store.deleted_users_since(since).await?;
        let recent = rows.into_iter().map(|(user_id, _)| user_id).collect();
        *self.recent.write().unwrap_or_else(|p| p.into_inner()) = recent;
        Ok(())
    }

    /// Reads the list every [`READ_EVERY`] until it is dropped (the application stopped). A
    /// database that does not answer leaves the last list in force.
    pub fn keep_reading(deleted: Weak<Self>) {
        tokio::spawn(async move {
            let mut reads = 0u32;
            loop {
                tokio::time::sleep(READ_EVERY).await;
                let Some(deleted) = deleted.upgrade() else { break };
                if let Err(error) = deleted.read().await {
                    tracing::warn!(%error, "cannot read the deleted accounts");
                }
                reads += 1;
                if reads.is_multiple_of(PURGE_EVERY_READS) {
                    let before = crate::domain::accounts::now_ms() - KEEP_MS;
                    if let Err(error) = deleted.store.purge_deleted_users(before).await {
                        tracing::warn!(%error, "cannot purge the deleted accounts");
                    }
                }
            }
        });
    }
}

impl DeletedAccounts for DeletedUsers {
    fn is_deleted(&self, user_id: &str) -> bool {
        self.recent.read().unwrap_or_else(|p| p.into_inner()).contains(user_id)
    }
}
