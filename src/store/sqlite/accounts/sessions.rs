//! SessionStore on SQLite: sessions, looked up by the hash of their token only; every operation a user can ask for is scoped by that user's id.

use super::*;
use crate::store::accounts::SessionStore;

#[async_trait]
impl SessionStore for SqliteAccountStore {
    async fn create_session(&self, session: &Session) -> Result<(), StoreError> {
        let session = session.clone();
        self.db.write(move |conn| Ok(insert_session(conn, &session)?)).await
    }
    async fn session(&self, hash: &TokenHash) -> Result<Option<(Session, User)>, StoreError> {
        self.db.read(|conn| {
            let sql = format!(
                "SELECT {SESSION_COLUMNS}, {USER_COLUMNS} FROM sessions s \
                 JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1"
            );
            Ok(conn
                .prepare_cached(&sql)?
                .query_row([hash.0.as_slice()], |row| Ok((session_from(row)?, user_from(row, 8)?)))
                .optional()?)
        })
    }
    async fn refresh_session(
        &self,
        id: &SessionId,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let id: &str = id;
        let id = id.to_owned();
        self.db
            .write(move |conn| {
                let changed = conn
                    .prepare_cached(
                        "UPDATE sessions SET expires_at = ?2, updated_at = ?3 WHERE id = ?1",
                    )?
                    .execute(params![id, millis(expires_at), millis(now)])?;
                Ok(changed == 1)
            })
            .await
    }
    async fn delete_session(&self, hash: &TokenHash) -> Result<bool, StoreError> {
        let hash = *hash;
        self.db
            .write(move |conn| {
                let deleted = conn
                    .prepare_cached("DELETE FROM sessions WHERE token_hash = ?1")?
                    .execute([hash.0.as_slice()])?;
                Ok(deleted == 1)
            })
            .await
    }
    async fn session_is_live(
        &self,
        id: &SessionId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let id: &str = id;
        self.db.read(|conn| {
            Ok(conn
                .prepare_cached("SELECT 1 FROM sessions WHERE id = ?1 AND expires_at > ?2")?
                .query_row(params![id, millis(now)], |_| Ok(()))
                .optional()?
                .is_some())
        })
    }
    async fn list_sessions(
        &self,
        user_id: &AccountId,
        now: OffsetDateTime,
    ) -> Result<Vec<Session>, StoreError> {
        let user_id: &str = user_id;
        self.db.read(|conn| {
            let sql = format!(
                "SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.user_id = ?1 AND s.expires_at > ?2 \
                 ORDER BY s.created_at, s.id"
            );
            let mut statement = conn.prepare_cached(&sql)?;
            let sessions = statement
                .query_map(params![user_id, millis(now)], session_from)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(sessions)
        })
    }
    async fn delete_user_session(
        &self,
        user_id: &AccountId,
        session_id: &SessionId,
    ) -> Result<bool, StoreError> {
        let user_id: &str = user_id;
        let session_id: &str = session_id;
        let (user_id, session_id) = (user_id.to_owned(), session_id.to_owned());
        self.db
            .write(move |conn| {
                let deleted = conn
                    .prepare_cached("DELETE FROM sessions WHERE user_id = ?1 AND id = ?2")?
                    .execute(params![user_id, session_id])?;
                Ok(deleted == 1)
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
        let (user_id, except) = (user_id.to_owned(), except.map(str::to_owned));
        self.db
            .write(move |conn| {
                let deleted = conn
                    .prepare_cached(
                        "DELETE FROM sessions WHERE user_id = ?1 AND (?2 IS NULL OR id <> ?2)",
                    )?
                    .execute(params![user_id, except])?;
                Ok(deleted as u64)
            })
            .await
    }
    async fn purge_expired_sessions(
        &self,
        now: OffsetDateTime,
        limit: i64,
    ) -> Result<u64, StoreError> {
        let now = millis(now);
        self.db
            .write(move |conn| {
                let deleted = conn
                    .prepare_cached(
                        "DELETE FROM sessions WHERE id IN \
                         (SELECT id FROM sessions WHERE expires_at <= ?1 LIMIT ?2)",
                    )?
                    .execute(params![now, limit])?;
                Ok(u64::try_from(deleted).unwrap_or(u64::MAX))
            })
            .await
    }
}
