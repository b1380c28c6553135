//! UserStore on PostgreSQL: users and their password credentials, and the list of accounts deleted lately.

use super::*;
use crate::store::accounts::UserStore;

#[async_trait]
impl UserStore for PgAccountStore {
    async fn create_user(
        &self,
        user: &User,
        password_hash: &str,
        session: &Session,
    ) -> Result<NewUser, StoreError> {
        self.db
            .run(async |client| {
                let tx = client.transaction().await?;
                fenced()?;
                let inserted = tx
                    .execute(
                        "INSERT INTO users (id, name, email, email_verified, image, created_at, \
                         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        &[
                            &user.id.as_str(),
                            &user.name,
                            &user.email,
                            &user.email_verified,
                            &user.image,
                            &user.created_at,
                            &user.updated_at,
                        ],
                    )
                    .await;
                match inserted {
                    Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                        return Ok(NewUser::EmailTaken);
                    }
                    other => other?,
                };
                tx.execute(
                    "INSERT INTO credentials (user_id, password_hash, created_at, updated_at) \
                     VALUES ($1, $2, $3, $3)",
                    &[&user.id.as_str(), &password_hash, &user.created_at],
                )
                .await?;
                let hash = session.token_hash.0.as_slice();
                tx.execute(INSERT_SESSION, &session_params(session, &hash)).await?;
                tx.commit().await?;
                Ok(NewUser::Created)
            })
            .await
    }
    async fn credentials(&self, email: &Email) -> Result<Option<(User, String)>, StoreError> {
        self.db
            .run(async |client| {
                let statement = client
                    .prepare_cached(&format!(
                        "SELECT {USER_COLUMNS}, c.password_hash FROM users u \
                         JOIN credentials c ON c.user_id = u.id WHERE u.email = $1"
                    ))
                    .await?;
                let row = client.query_opt(&statement, &[&email.as_str()]).await?;
                row.map(|row| Ok((user_from(&row, 0)?, row.try_get(7)?))).transpose()
            })
            .await
    }
    async fn password_hash(&self, user_id: &AccountId) -> Result<Option<String>, StoreError> {
        let user_id: &str = user_id;
        self.db
            .run(async |client| {
                let statement = client
                    .prepare_cached("SELECT password_hash FROM credentials WHERE user_id = $1")
                    .await?;
                let row = client.query_opt(&statement, &[&user_id]).await?;
                row.map(|row| Ok(row.try_get(0)?)).transpose()
            })
            .await
    }
    async fn change_password(
        &self,
        user_id: &AccountId,
        password_hash: &str,
        now: OffsetDateTime,
        replacement: Option<&Session>,
    ) -> Result<bool, StoreError> {
        let user_id: &str = user_id;
        self.db
            .run(async |client| {
                let tx = client.transaction().await?;
                fenced()?;
                let changed = tx
                    .execute(
                        "UPDATE credentials SET password_hash = $2, updated_at = $3 \
                         WHERE user_id = $1",
                        &[&user_id, &password_hash, &now],
                    )
                    .await?;
                if changed == 0 {
                    return Ok(false);
                }
                if let Some(session) = replacement {
                    tx.execute("DELETE FROM sessions WHERE user_id = $1", &[&user_id]).await?;
                    let hash = session.token_hash.0.as_slice();
                    tx.execute(INSERT_SESSION, &session_params(session, &hash)).await?;
                }
                tx.commit().await?;
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
        let (set_image, image) = (image.is_some(), image.flatten());
        self.db
            .run(async |client| {
                let statement = client
                    .prepare_cached(&format!(
                        "UPDATE users u SET name = coalesce($2, u.name), \
                         image = CASE WHEN $3 THEN $4 ELSE u.image END, updated_at = $5 \
                         WHERE u.id = $1 RETURNING {USER_COLUMNS}"
                    ))
                    .await?;
                fenced()?;
                let row = client
                    .query_opt(&statement, &[&user_id, &name, &set_image, &image, &now])
                    .await?;
                row.map(|row| user_from(&row, 0)).transpose()
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
        let (issuer, subject) = (tasks_owner.issuer().as_str(), tasks_owner.subject());
        self.db
            .run(async |client| {
                let tx = client.transaction().await?;
                fenced()?;
                // The owner's row stays, emptied and at a new version: a page cached anywhere is never
                // served again, even if a token still alive writes again under the same owner. It
                // is updated first: every write of the owner's tasks takes its lock first.
                tx.execute(
                    "UPDATE task_owners SET total = 0, version = version + 1 \
                     WHERE issuer = $1 AND subject = $2",
                    &[&issuer, &subject],
                )
                .await?;
                for table in ["tasks", "task_tags", "tags", "lists", "idempotency_keys"] {
                    tx.execute(
                        &format!("DELETE FROM {table} WHERE issuer = $1 AND subject = $2"),
                        &[&issuer, &subject],
                    )
                    .await?;
                }
                // Its credential and sessions go with it (ON DELETE CASCADE).
                let deleted = tx.execute("DELETE FROM users WHERE id = $1", &[&user_id]).await?;
                if deleted == 1 {
                    tx.execute(
                        "INSERT INTO deleted_users (user_id, deleted_at) VALUES ($1, $2) \
                         ON CONFLICT (user_id) DO NOTHING",
                        &[&user_id, &now_ms],
                    )
                    .await?;
                }
                tx.commit().await?;
                Ok(deleted == 1)
            })
            .await
    }
    async fn deleted_users_since(
        &self,
        since_ms: i64,
    ) -> Result<Vec<(AccountId, i64)>, StoreError> {
        self.db
            .run(async |client| {
                let statement = client
                    .prepare_cached(
                        "SELECT user_id, deleted_at FROM deleted_users WHERE deleted_at >= $1 \
                         ORDER BY deleted_at",
                    )
                    .await?;
                let rows = client.query(&statement, &[&since_ms]).await?;
                rows.iter()
                    .map(|row| Ok((row.try_get::<_, String>(0)?.into(), row.try_get(1)?)))
                    .collect()
            })
            .await
    }
    async fn purge_deleted_users(&self, before_ms: i64) -> Result<(), StoreError> {
        self.db
            .run(async |client| {
                let statement = client
                    .prepare_cached("DELETE FROM deleted_users WHERE deleted_at < $1")
                    .await?;
                client.execute(&statement, &[&before_ms]).await?;
                Ok(())
            })
            .await
    }
}
