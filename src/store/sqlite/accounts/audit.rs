//! AuditStore on SQLite: each user's security events.

use super::*;
use crate::store::accounts::AuditStore;

#[async_trait]
impl AuditStore for SqliteAccountStore {
    async fn record_event(
        &self,
        user_id: &AccountId,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        let user_id: &str = user_id;
        let (user_id, event) = (user_id.to_owned(), event.clone());
        self.db
            .write(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO audit_events (user_id, event, ip_address, created_at) \
                     SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM users WHERE id = ?1)",
                )?
                .execute(params![
                    user_id,
                    event.event,
                    event.ip_address,
                    millis(event.created_at)
                ])?;
                Ok(())
            })
            .await
    }
    async fn events(&self, user_id: &AccountId, limit: i64) -> Result<Vec<AuditEvent>, StoreError> {
        let user_id: &str = user_id;
        self.db.read(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT event, ip_address, created_at FROM audit_events WHERE user_id = ?1 \
                 ORDER BY id DESC LIMIT ?2",
            )?;
            let events = statement
                .query_map(params![user_id, limit], |row| {
                    Ok(AuditEvent {
                        event: row.get(0)?,
                        ip_address: row.get(1)?,
                        created_at: from_millis(row.get(2)?)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(events)
        })
    }
}
