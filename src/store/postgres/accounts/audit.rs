//! AuditStore on PostgreSQL: each user's security events.

use super::*;
use crate::store::accounts::AuditStore;

#[async_trait]
impl AuditStore for PgAccountStore {
    async fn record_event(
        &self,
        user_id: &AccountId,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        let user_id: &str = user_id;
        self.db
            .run(async |client| {
                let statement = client
                    .prepare_cached(
                        "INSERT INTO audit_events (user_id, event, ip_address, created_at) \
                         SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM users WHERE id = $1)",
                    )
                    .await?;
                fenced()?;
                client
                    .execute(
                        &statement,
                        &[&user_id, &event.event, &event.ip_address, &event.created_at],
                    )
                    .await?;
                Ok(())
            })
            .await
    }
    async fn events(&self, user_id: &AccountId, limit: i64) -> Result<Vec<AuditEvent>, StoreError> {
        let user_id: &str = user_id;
        self.db
            .run(async |client| {
                let statement = client
                    .prepare_cached(
                        "SELECT event, ip_address, created_at FROM audit_events \
                         WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
                    )
                    .await?;
                let rows = client.query(&statement, &[&user_id, &limit]).await?;
                rows.iter()
                    .map(|row| {
                        Ok(AuditEvent {
                            event: row.try_get(0)?,
                            ip_address: row.try_get(1)?,
                            created_at: row.try_get(2)?,
                        })
                    })
                    .collect()
            })
            .await
    }
}
