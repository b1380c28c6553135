//! KeyStore on SQLite: the signing keys of the accounts' access tokens.

use super::*;
use crate::store::accounts::KeyStore;

#[async_trait]
impl KeyStore for SqliteAccountStore {
    async fn signing_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        self.db.read(signing_keys)
    }
    async fn add_signing_key(
        &self,
        key: &StoredKey,
        retired_before: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let key = key.clone();
        let retired_before = millis(retired_before);
        self.db
            // One write job: both statements commit or neither does.
            .write(move |conn| {
                conn.execute(
                    "INSERT INTO signing_keys (kid, public_key, sealed_private_key, created_at) \
                     VALUES (?1, ?2, ?3, ?4)",
                    params![
                        key.kid,
                        key.public_key,
                        key.sealed_private_key,
                        millis(key.created_at)
                    ],
                )?;
                conn.execute(
                    "DELETE FROM signing_keys WHERE EXISTS (SELECT 1 FROM signing_keys AS newer \
                     WHERE newer.created_at > signing_keys.created_at AND newer.created_at < ?1)",
                    [retired_before],
                )?;
                Ok(())
            })
            .await
    }
    async fn signing_keys_or_insert(
        &self,
        candidate: &StoredKey,
    ) -> Result<Vec<StoredKey>, StoreError> {
        let candidate = candidate.clone();
        // On the writer thread, so the check and the insert cannot be raced.
        self.db
            .write(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO signing_keys (kid, public_key, sealed_private_key, created_at) \
                     SELECT ?1, ?2, ?3, ?4 WHERE NOT EXISTS (SELECT 1 FROM signing_keys)",
                )?
                .execute(params![
                    candidate.kid,
                    candidate.public_key,
                    candidate.sealed_private_key,
                    millis(candidate.created_at),
                ])?;
                signing_keys(conn)
            })
            .await
    }
}
