//! UserStore on SQLite: users and their password credentials, and the list of accounts deleted lately.

use super::*;
use crate::store::accounts::UserStore;

#[async_trait]
impl UserStore for SqliteAccountStore {
    async fn create_user(
        &self,
        user: &User,
        password_hash: &str,
        session: &Session,
    ) -> Result<NewUser, StoreError> {
        let (user, password_hash, session) =
            (user.clone(), password_hash.to_owned(), session.clone());
        self.db
            .write(move |conn| {
                let taken = conn
                    .prepare_cached("SELECT 1 FROM users WHERE email = ?1")?
                    .query_row([&user.email], |_| Ok(()))
                    .optional()?
                    .is_some();
                if taken {
                    return Ok(NewUser::EmailTaken);
                }
                conn.prepare_cached(
                    "INSERT INTO users (id, name, email, email_verified, image, created_at, \
                     updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![
                    user.id.as_str(),
                    user.name,
                    user.email,
                    user.email_verified,
                    user.image,
                    millis(user.created_at),
                    millis(user.updated_at),
                ])?;
                conn.prepare_cached(
                    "INSERT INTO credentials (user_id, password_hash, created_at, updated_at) \
                     VALUES (?1, ?2, ?3, ?3)",
                )?
                .execute(params![
                    user.id.as_str(),
                    password_hash,
                    millis(user.created_at)
                ])?;
                insert_session(conn, &session)?;
                Ok(NewUser::Created)
            })
            .await
    }
    async fn credentials(&self, email: &Email) -> Result<Option<(User, String)>, StoreError> {
        self.db.read(|conn| {
            let sql = format!(
                "SELECT {USER_COLUMNS}, c.password_hash FROM users u \
                 JOIN credentials c ON c.user_id = u.id WHERE u.email = ?1"
            );
            Ok(conn
                .prepare_cached(&sql)?
                .query_row([email.as_str()], |row| Ok((user_from(row, 0)?, row.get(7)?)))
                .optional()?)
        })
    }
    async fn password_hash(&self, user_id: &AccountId) -> Result<Option<String>, StoreError> {
        let user_id: &str = user_id;
        self.db.read(|conn| {
            Ok(conn
                .prepare_cached("SELECT password_hash FROM credentials WHERE user_id = ?1")?
                .query_row([user_id], |row| row.get(0))
                .optional()?)
        })
    }
    async fn change_password(
        &self,
        user_id: &AccountId,
        password_hash: &str,
        now: OffsetDateTime,
        replacement: Option<&Session>,
    ) -> Result<bool, StoreError> {
        let user_id: &str = user_id;
        let (user_id, password_hash) = (user_id.to_owned(), password_hash.to_owned());
        let replacement = replacement.cloned();
        self.db
            .write(move |conn| {
                let changed = conn
                    .prepare_cached(
                        "UPDATE credentials SET password_hash = ?2, updated_at = ?3 \
                         WHERE user_id = ?1",
                    )?
                    .execute(params![user_id, password_hash, millis(now)])?;
                if changed == 0 {
                    return Ok(false);
                }
                if let Some(session) = &replacement {
                    conn.prepare_cached("DELETE FROM sessions WHERE user_id = ?1")?
                        .execute([&user_id])?;
                    insert_session(conn, session)?;
                }
                Ok(true)
            })
            .await
    }
    async fn update_user(
        &self,
        user_id: &AccountId,
        name: Option<&str>,
        image: Option<Option<&str>>,
        now: OffsetDateTime,
    ) -> Result<Option<User>, StoreError> {
        let user_id: &str = user_id;
        let user_id = user_id.to_owned();
        let name = name.map(str::to_owned);
        let (set_image, image) = (image.is_some(), image.flatten().map(str::to_owned));
        self.db
            .write(move |conn| {
                let sql = format!(
                    "UPDATE users SET name = coalesce(?2, name), \
                     image = CASE WHEN ?3 THEN ?4 ELSE image END, updated_at = ?5 \
                     WHERE id = ?1 RETURNING {}",
                    USER_COLUMNS.replace("u.", "")
                );
                Ok(conn
                    .prepare_cached(&sql)?
                    .query_row(params![user_id, name, set_image, image, millis(now)], |row| {
                        user_from(row, 0)
                    })
                    .optional()?)
            })
            .await
    }
    async fn delete_user(
        &self,
        user_id: &AccountId,
        tasks_owner: &UserId,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let user_id: &str = user_id;
        let user_id = user_id.to_owned();
        let (issuer, subject) =
            (tasks_owner.issuer().as_str().to_owned(), tasks_owner.subject().to_owned());
        let (versions, owner) = (self.db.versions.clone(), tasks_owner.clone());
        let committed = move |(_, version): &(bool, Option<u64>)| {
            // The in-memory list versions follow the file's once the deletion is durable.
            if let Some(version) = version {
                versions.raise(&owner, *version);
            }
        };
        let (deleted, _) = self
            .db
            .write_then(
                move |conn| {
                    // The owner's row stays, emptied and at a new version: a page cached anywhere
                    // is never served again, even if a token still alive writes again.
                    // Their search rows go when the writer applies what was staged.
                    conn.prepare_cached(
                        "INSERT INTO search_pending (search_id, owner, text) \
                         SELECT search_id, '', NULL FROM tasks WHERE issuer = ?1 AND subject = ?2 \
                         ON CONFLICT (search_id) DO UPDATE SET owner = '', text = NULL",
                    )?
                    .execute(params![issuer, subject])?;
                    for table in ["tasks", "task_tags", "tags", "lists", "idempotency_keys"] {
                        conn.prepare_cached(&format!(
                            "DELETE FROM {table} WHERE issuer = ?1 AND subject = ?2"
                        ))?
                        .execute(params![issuer, subject])?;
                    }
                    let version: Option<i64> = conn
                        .prepare_cached(
                            "UPDATE task_owners SET total = 0, version = version + 1, none_open = 0, \
                             none_done = 0, low_open = 0, low_done = 0, medium_open = 0, \
                             medium_done = 0, high_open = 0, high_done = 0 \
                             WHERE issuer = ?1 AND subject = ?2 RETURNING version",
                        )?
                        .query_row(params![issuer, subject], |row| row.get(0))
                        .optional()?;
                    // Its credential and sessions go with it (ON DELETE CASCADE).
                    let deleted = conn
                        .prepare_cached("DELETE FROM users WHERE id = ?1")?
                        .execute([&user_id])?;
                    if deleted == 1 {
                        conn.prepare_cached(
                            "INSERT INTO deleted_users (user_id, deleted_at) VALUES (?1, ?2) \
                             ON CONFLICT (user_id) DO NOTHING",
                        )?
                        .execute(params![user_id, now_ms])?;
                    }
                    Ok((deleted == 1, version.map(i64::unsigned_abs)))
                },
                committed,
            )
            .await?;
        Ok(deleted)
    }
    async fn deleted_users_since(
        &self,
        since_ms: i64,
    ) -> Result<Vec<(AccountId, i64)>, StoreError> {
        self.db.read(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT user_id, deleted_at FROM deleted_users WHERE deleted_at >= ?1 \
                 ORDER BY deleted_at",
            )?;
            let rows = statement
                .query_map([since_ms], |row| Ok((row.get::<_, String>(0)?.into(), row.get(1)?)))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }
    async fn purge_deleted_users(&self, before_ms: i64) -> Result<(), StoreError> {
        self.db
            .write(move |conn| {
                conn.prepare_cached("DELETE FROM deleted_users WHERE deleted_at < ?1")?
                    .execute([before_ms])?;
                Ok(())
            })
            .await
    }
}
