//! SessionStore on PostgreSQL: sessions, looked up by the hash of their token only; every operation a user can ask for is scoped by that user's id.

use super::*;
use crate::store::accounts::SessionStore;

#[async_trait]
impl SessionStore for PgAccountStore {
    async fn create_session(&self, session: &Session) -> Result<(), StoreError> {
        self.db
            .run(async |client| {
                let statement = client.prepare_cached(INSERT_SESSION).await?;
                fenced()?;
                let hash = session.token_hash.0.as_slice();
                client.execute(&statement, &session_params(session, &hash)).await?;
                Ok(())
            })
            .await
    }
    async fn session(&self, hash: &TokenHash) -> Result<Option<(Session, User)>, StoreError> {
        self.db
            .run(async |client| {
                let statement = client
                    .prepare_cached(&format!(
                        "SELECT {SESSION_COLUMNS}, {USER_COLUMNS} FROM sessions s \
                         JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1"
                    ))
                    .await?;
                let row = client.query_opt(&statement, &[&hash.0.as_slice()]).await?;
                row.map(|row| Ok((session_from(&row)?, user_from(&row, 8)?))).transpose()
            })
            .await
    }
    async fn refresh_session(
        &self,
        id: &SessionId,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let id: &str = id;
        self.db
            .run(async |client| {
                let statement = client
                    .prepare_cached(
                        "UPDATE sessions SET expires_at = $2, updated_at = $3 WHERE id = $1",
                    )
                    .await?;
                fenced()?;
                Ok(client.execute(&statement, &[&id, &expires_at, &now]).await? == 1)
            })
            .await
    }
    async fn delete_session(&self, hash: &TokenHash) -> Result<bool, StoreError> {
        self.db
            .run(async |client| {
                let statement =
                    client.prepare_cached("DELETE FROM sessions WHERE token_hash = $1").await?;
                fenced()?;
                Ok(client.execute(&statement, &[&hash.0.as_slice()]).await? == 1)
            })
            .await
    }
    async fn session_is_live(
        &self,
        id: &SessionId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let id: &str = id;
        self.db
            .run(async |client| {
                let statement = client
                    .prepare_cached("SELECT 1 FROM sessions WHERE id = $1 AND expires_at > $2")
                    .await?;
                Ok(client.query_opt(&statement, &[&id, &now]).await?.is_some())
            })
            .await
    }
    async fn list_sessions(
        &self,
        user_id: &AccountId,
        now: OffsetDateTime,
    ) -> Result<Vec<Session>, StoreError> {
        let user_id: &str = user_id;
        self.db
            .run(async |client| {
                let statement = client
                    .prepare_cached(&format!(
                        "SELECT {SESSION_COLUMNS} FROM sessions s \
                         WHERE s.user_id = $1 AND s.expires_at > $2 ORDER BY s.created_at, s.id"
                    ))
                    .await?;
                let rows = client.query(&statement, &[&user_id, &now]).await?;
                rows.iter().map(session_from).collect()
            })
            .await
    }
    async fn delete_user_session(
        &self,
        user_id: &AccountId,
        session_id: &SessionId,
    ) -> Result<bool, StoreError> {
        let user_id: &str = user_id;
        let session_id: &str = session_id;
        self.db
            .run(async |client| {
                let statement = client
                    .prepare_cached("DELETE FROM sessions WHERE user_id = $1 AND id = $2")
                    .await?;
                fenced()?;
                Ok(client.execute(&statement, &[&user_id, &session_id]).await? == 1)
            })
            .await
    }
    async fn delete_user_sessions(
        &self,
        user_id: &AccountId,
        except: Option<&SessionId>,
    ) -> Result<u64, StoreError> {
        let user_id: &str = user_id;
        let except: Option<&str> = except.map(|id| id.as_str());
        self.db
            .run(async |client| {
                let statement = client
                    .prepare_cached(
                        "DELETE FROM sessions WHERE user_id = $1 \
                         AND ($2::text IS NULL OR id <> $2)",
                    )
                    .await?;
                fenced()?;
                Ok(client.execute(&statement, &[&user_id, &except]).await?)
            })
            .await
    }
    async fn purge_expired_sessions(
        &self,
        now: OffsetDateTime,
        limit: i64,
    ) -> Result<u64, StoreError> {
        self.db
            .run(async |client| {
                let statement = client
                    .prepare_cached(
                        "DELETE FROM sessions WHERE id IN \
                         (SELECT id FROM sessions WHERE expires_at <= $1 LIMIT $2)",
                    )
                    .await?;
                Ok(client.execute(&statement, &[&now, &limit]).await?)
            })
            .await
    }
}
