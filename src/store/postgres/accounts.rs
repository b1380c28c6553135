//! The account store on PostgreSQL: users, credentials and sessions. A new user is one
//! transaction with its credential and first session; the unique e-mail constraint decides
//! between concurrent sign-ups on any instance.

use async_trait::async_trait;
use std::sync::Arc;
use time::OffsetDateTime;
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;

use super::PgDb;
use super::fenced;
use crate::domain::accounts::{AuditEvent, Email, Session, TokenHash, User};
use crate::domain::auth::UserId;
use crate::store::StoreError;
use crate::store::accounts::StoredKey;
use crate::store::accounts::{AccountStore, NewUser};

const USER_COLUMNS: &str = "u.id, u.name, u.email, u.email_verified, u.image, u.created_at, \
                            u.updated_at";
const SESSION_COLUMNS: &str = "s.id, s.token_hash, s.user_id, s.expires_at, s.ip_address, \
                               s.user_agent, s.created_at, s.updated_at";
const INSERT_SESSION: &str = "INSERT INTO sessions (id, token_hash, user_id, expires_at, \
                              ip_address, user_agent, created_at, updated_at) \
                              VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

pub struct PgAccountStore {
    db: Arc<PgDb>,
}

impl PgAccountStore {
    pub fn new(db: Arc<PgDb>) -> Self {
        Self { db }
    }
}

/// A user from `USER_COLUMNS` starting at column `at`.
fn user_from(row: &Row, at: usize) -> Result<User, StoreError> {
    Ok(User {
        id: row.try_get(at)?,
        name: row.try_get(at + 1)?,
        email: row.try_get(at + 2)?,
        email_verified: row.try_get(at + 3)?,
        image: row.try_get(at + 4)?,
        created_at: row.try_get(at + 5)?,
        updated_at: row.try_get(at + 6)?,
    })
}

const SIGNING_KEYS: &str = "SELECT kid, public_key, sealed_private_key, created_at FROM signing_keys ORDER BY created_at, kid";

fn key_from(row: &Row) -> Result<StoredKey, StoreError> {
    Ok(StoredKey {
        kid: row.try_get(0)?,
        public_key: row.try_get(1)?,
        sealed_private_key: row.try_get(2)?,
        created_at: row.try_get(3)?,
    })
}

fn session_from(row: &Row) -> Result<Session, StoreError> {
    let hash: Vec<u8> = row.try_get(1)?;
    let hash: [u8; 32] =
        hash.try_into().map_err(|_| StoreError::internal("a session hash is not 32 bytes"))?;
    Ok(Session {
        id: row.try_get(0)?,
        token_hash: TokenHash(hash),
        user_id: row.try_get(2)?,
        expires_at: row.try_get(3)?,
        ip_address: row.try_get(4)?,
        user_agent: row.try_get(5)?,
        created_at: row.try_get(6)?,
        updated_at: row.try_get(7)?,
    })
}

/// The parameters of `INSERT_SESSION`; `hash` is the session's token hash as a slice.
fn session_params<'a>(
    session: &'a Session,
    hash: &'a &'a [u8],
) -> [&'a (dyn tokio_postgres::types::ToSql + Sync); 8] {
    [
        &session.id,
        hash,
        &session.user_id,
        &session.expires_at,
        &session.ip_address,
        &session.user_agent,
        &session.created_at,
        &session.updated_at,
    ]
}

#[async_trait]
impl AccountStore for PgAccountStore {
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
                            &user.id,
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
                    &[&user.id, &password_hash, &user.created_at],
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
        id: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
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

    async fn session_is_live(&self, id: &str, now: OffsetDateTime) -> Result<bool, StoreError> {
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
        user_id: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<Session>, StoreError> {
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
        user_id: &str,
        session_id: &str,
    ) -> Result<bool, StoreError> {
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
        user_id: &str,
        except: Option<&str>,
    ) -> Result<u64, StoreError> {
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

    async fn password_hash(&self, user_id: &str) -> Result<Option<String>, StoreError> {
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
        user_id: &str,
        password_hash: &str,
        now: OffsetDateTime,
        replacement: Option<&Session>,
    ) -> Result<bool, StoreError> {
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
        user_id: &str,
        name: Option<&str>,
        image: Option<Option<&str>>,
        now: OffsetDateTime,
    ) -> Result<Option<User>, StoreError> {
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
        user_id: &str,
        tasks_owner: &UserId,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let (issuer, subject) = (tasks_owner.issuer().as_str(), tasks_owner.subject());
        self.db
            .run(async |client| {
                let tx = client.transaction().await?;
                fenced()?;
                // The owner's row stays, emptied and at a new version: a page cached anywhere is never
                // served again, even if a token still alive writes again under the same owner.
                for table in ["tasks", "idempotency_keys"] {
                    tx.execute(
                        &format!("DELETE FROM {table} WHERE issuer = $1 AND subject = $2"),
                        &[&issuer, &subject],
                    )
                    .await?;
                }
                tx.execute(
                    "UPDATE task_owners SET total = 0, version = version + 1 \
                     WHERE issuer = $1 AND subject = $2",
                    &[&issuer, &subject],
                )
                .await?;
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

    async fn count_request(
        &self,
        key: &str,
        window_ms: i64,
        now_ms: i64,
    ) -> Result<(i64, i64), StoreError> {
        self.db
            .run(async |client| {
                let statement = client
                    .prepare_cached(
                        "INSERT INTO rate_limits AS r (key, window_start, count) \
                         VALUES ($1, $3, 1) ON CONFLICT (key) DO UPDATE SET \
                         count = CASE WHEN r.window_start + $2 <= $3 THEN 1 \
                                 ELSE r.count + 1 END, \
                         window_start = CASE WHEN r.window_start + $2 <= $3 THEN $3 \
                                        ELSE r.window_start END \
                         RETURNING count, window_start",
                    )
                    .await?;
                let row = client.query_one(&statement, &[&key, &window_ms, &now_ms]).await?;
                Ok((row.try_get(0)?, row.try_get(1)?))
            })
            .await
    }

    async fn deleted_users_since(&self, since_ms: i64) -> Result<Vec<(String, i64)>, StoreError> {
        self.db
            .run(async |client| {
                let statement = client
                    .prepare_cached(
                        "SELECT user_id, deleted_at FROM deleted_users WHERE deleted_at >= $1 \
                         ORDER BY deleted_at",
                    )
                    .await?;
                let rows = client.query(&statement, &[&since_ms]).await?;
                rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get(1)?))).collect()
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

    async fn request_count(
        &self,
        key: &str,
        window_ms: i64,
        now_ms: i64,
    ) -> Result<(i64, i64), StoreError> {
        self.db
            .run(async |client| {
                let statement = client
                    .prepare_cached(
                        "SELECT count, window_start FROM rate_limits \
                         WHERE key = $1 AND window_start + $2 > $3",
                    )
                    .await?;
                let row = client.query_opt(&statement, &[&key, &window_ms, &now_ms]).await?;
                match row {
                    Some(row) => Ok((row.try_get(0)?, row.try_get(1)?)),
                    None => Ok((0, now_ms)),
                }
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

    async fn purge_rate_limits(&self, before_ms: i64) -> Result<(), StoreError> {
        self.db
            .run(async |client| {
                let statement = client
                    .prepare_cached("DELETE FROM rate_limits WHERE window_start < $1")
                    .await?;
                client.execute(&statement, &[&before_ms]).await?;
                Ok(())
            })
            .await
    }

    async fn record_event(&self, user_id: &str, event: &AuditEvent) -> Result<(), StoreError> {
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

    async fn events(&self, user_id: &str, limit: i64) -> Result<Vec<AuditEvent>, StoreError> {
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
