//! KeyStore on PostgreSQL: the signing keys of the accounts' access tokens.

use super::*;
use crate::store::accounts::KeyStore;

#[async_trait]
impl KeyStore for PgAccountStore {
    async fn signing_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        self.db
            .run(async |client| {
                let statement = client.prepare_cached(SIGNING_KEYS).await?;
                client.query(&statement, &[]).await?.iter().map(key_from).collect()
            })
            .await
    }
    async fn add_signing_key(
        &self,
        key: &StoredKey,
        retired_before: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.db
            .run(async |client| {
                let tx = client.transaction().await?;
                tx.execute(
                    "INSERT INTO signing_keys (kid, public_key, sealed_private_key, created_at) \
                     VALUES ($1, $2, $3, $4)",
                    &[&key.kid, &key.public_key, &key.sealed_private_key, &key.created_at],
                )
                .await?;
                tx.execute(
                    "DELETE FROM signing_keys k WHERE EXISTS (SELECT 1 FROM signing_keys newer \
                     WHERE newer.created_at > k.created_at AND newer.created_at < $1)",
                    &[&retired_before],
                )
                .await?;
                tx.commit().await?;
                Ok(())
            })
            .await
    }
    async fn signing_keys_or_insert(
        &self,
        candidate: &StoredKey,
    ) -> Result<Vec<StoredKey>, StoreError> {
        self.db
            .run(async |client| {
                let tx = client.transaction().await?;
                // Instances starting at once take turns, so they all find the same first key.
                tx.batch_execute("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE").await?;
                tx.execute(
                    "INSERT INTO signing_keys (kid, public_key, sealed_private_key, created_at) \
                     SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM signing_keys)",
                    &[
                        &candidate.kid,
                        &candidate.public_key,
                        &candidate.sealed_private_key,
                        &candidate.created_at,
                    ],
                )
                .await?;
                let rows = tx.query(SIGNING_KEYS, &[]).await?;
                tx.commit().await?;
                rows.iter().map(key_from).collect()
            })
            .await
    }
}
