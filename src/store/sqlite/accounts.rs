//! The account store on SQLite: users, credentials and sessions; times in Unix milliseconds.
//! Writes go through the one writer thread, which runs them one after another, so a check and
//! the write that depends on it cannot be raced.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};
use std::sync::Arc;
use time::OffsetDateTime;

use super::SqliteDb;
use crate::domain::accounts::{AuditEvent, Email, Session, TokenHash, User};
use crate::domain::auth::UserId;
use crate::store::StoreError;
use crate::store::accounts::StoredKey;
use crate::store::accounts::{AccountStore, NewUser};

const USER_COLUMNS: &str = "u.id, u.name, u.email, u.email_verified, u.image, u.created_at, \
                            u.updated_at";
const SESSION_COLUMNS: &str = "s.id, s.token_hash, s.user_id, s.expires_at, s.ip_address, \
                               s.user_agent, s.created_at, s.updated_at";

pub struct SqliteAccountStore {
    db: Arc<SqliteDb>,
}

impl SqliteAccountStore {
    pub fn new(db: Arc<SqliteDb>) -> Self {
        Self { db }
    }
}

fn millis(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn from_millis(millis: i64) -> rusqlite::Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Integer, e.into())
    })
}

/// A user from `USER_COLUMNS` starting at column `at`.
fn user_from(row: &Row<'_>, at: usize) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(at)?,
        name: row.get(at + 1)?,
        email: row.get(at + 2)?,
        email_verified: row.get(at + 3)?,
        image: row.get(at + 4)?,
        created_at: from_millis(row.get(at + 5)?)?,
        updated_at: from_millis(row.get(at + 6)?)?,
    })
}

/// Every signing key, oldest first.
fn signing_keys(conn: &Connection) -> Result<Vec<StoredKey>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT kid, public_key, sealed_private_key, created_at FROM signing_keys \
         ORDER BY created_at, kid",
    )?;
    let keys = statement
        .query_map([], |row| {
            Ok(StoredKey {
                kid: row.get(0)?,
                public_key: row.get(1)?,
                sealed_private_key: row.get(2)?,
                created_at: from_millis(row.get(3)?)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(keys)
}

fn session_from(row: &Row<'_>) -> rusqlite::Result<Session> {
    let hash: Vec<u8> = row.get(1)?;
    let hash: [u8; 32] = hash.try_into().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            1,
            rusqlite::types::Type::Blob,
            "not 32 bytes".into(),
        )
    })?;
    Ok(Session {
        id: row.get(0)?,
        token_hash: TokenHash(hash),
        user_id: row.get(2)?,
        expires_at: from_millis(row.get(3)?)?,
        ip_address: row.get(4)?,
        user_agent: row.get(5)?,
        created_at: from_millis(row.get(6)?)?,
        updated_at: from_millis(row.get(7)?)?,
    })
}

fn insert_session(conn: &rusqlite::Connection, session: &Session) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO sessions (id, token_hash, user_id, expires_at, ip_address, user_agent, \
         created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        session.id,
        session.token_hash.0.as_slice(),
        session.user_id,
        millis(session.expires_at),
        session.ip_address,
        session.user_agent,
        millis(session.created_at),
        millis(session.updated_at),
    ])?;
    Ok(())
}

#[async_trait]
impl AccountStore for SqliteAccountStore {
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
                    user.id,
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
                    user.id,
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
        id: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
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

    async fn session_is_live(&self, id: &str, now: OffsetDateTime) -> Result<bool, StoreError> {
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
        user_id: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<Session>, StoreError> {
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
        user_id: &str,
        session_id: &str,
    ) -> Result<bool, StoreError> {
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
        user_id: &str,
        except: Option<&str>,
    ) -> Result<u64, StoreError> {
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

    async fn password_hash(&self, user_id: &str) -> Result<Option<String>, StoreError> {
        self.db.read(|conn| {
            Ok(conn
                .prepare_cached("SELECT password_hash FROM credentials WHERE user_id = ?1")?
                .query_row([user_id], |row| row.get(0))
                .optional()?)
        })
    }

    async fn change_password(
        &self,
        user_id: &str,
        password_hash: &str,
        now: OffsetDateTime,
        replacement: Option<&Session>,
    ) -> Result<bool, StoreError> {
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
        user_id: &str,
        name: Option<&str>,
        image: Option<Option<&str>>,
        now: OffsetDateTime,
    ) -> Result<Option<User>, StoreError> {
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
        user_id: &str,
        tasks_owner: &UserId,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
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
                    for table in ["tasks", "idempotency_keys"] {
                        conn.prepare_cached(&format!(
                            "DELETE FROM {table} WHERE issuer = ?1 AND subject = ?2"
                        ))?
                        .execute(params![issuer, subject])?;
                    }
                    let version: Option<i64> = conn
                        .prepare_cached(
                            "UPDATE task_owners SET total = 0, version = version + 1 \
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

    async fn count_request(
        &self,
        key: &str,
        window_ms: i64,
        now_ms: i64,
    ) -> Result<(i64, i64), StoreError> {
        let key = key.to_owned();
        self.db
            .write(move |conn| {
                Ok(conn
                    .prepare_cached(
                        "INSERT INTO rate_limits (key, window_start, count) VALUES (?1, ?3, 1) \
                         ON CONFLICT (key) DO UPDATE SET \
                         count = CASE WHEN window_start + ?2 <= ?3 THEN 1 ELSE count + 1 END, \
                         window_start = CASE WHEN window_start + ?2 <= ?3 THEN ?3 \
                                        ELSE window_start END \
                         RETURNING count, window_start",
                    )?
                    .query_row(params![key, window_ms, now_ms], |row| {
                        Ok((row.get(0)?, row.get(1)?))
                    })?)
            })
            .await
    }

    async fn deleted_users_since(&self, since_ms: i64) -> Result<Vec<(String, i64)>, StoreError> {
        self.db.read(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT user_id, deleted_at FROM deleted_users WHERE deleted_at >= ?1 \
                 ORDER BY deleted_at",
            )?;
            let rows = statement.query_map([since_ms], |row| Ok((row.get(0)?, row.get(1)?)))?;
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

    async fn request_count(
        &self,
        key: &str,
        window_ms: i64,
        now_ms: i64,
    ) -> Result<(i64, i64), StoreError> {
        let running = self.db.read(|conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT count, window_start FROM rate_limits \
                     WHERE key = ?1 AND window_start + ?2 > ?3",
                )?
                .query_row(params![key, window_ms, now_ms], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()?)
        })?;
        Ok(running.unwrap_or((0, now_ms)))
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

    async fn purge_rate_limits(&self, before_ms: i64) -> Result<(), StoreError> {
        self.db
            .write(move |conn| {
                conn.prepare_cached("DELETE FROM rate_limits WHERE window_start < ?1")?
                    .execute([before_ms])?;
                Ok(())
            })
            .await
    }

    async fn record_event(&self, user_id: &str, event: &AuditEvent) -> Result<(), StoreError> {
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

    async fn events(&self, user_id: &str, limit: i64) -> Result<Vec<AuditEvent>, StoreError> {
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
