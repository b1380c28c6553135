//! The account store on SQLite: users, credentials and sessions; times in Unix milliseconds.
//! Writes go through the one writer thread, which runs them one after another, so a check and
//! the write that depends on it cannot be raced.
//!
//! The typed ids (`AccountId`, `SessionId`) end here: each method binds them as text.

mod audit;
mod keys;
mod limits;
mod sessions;
mod users;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};
use std::sync::Arc;
use time::OffsetDateTime;

use super::SqliteDb;
use crate::domain::accounts::{AccountId, AuditEvent, Email, Session, SessionId, TokenHash, User};
use crate::domain::auth::UserId;
use crate::store::StoreError;
use crate::store::accounts::NewUser;
use crate::store::accounts::StoredKey;

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
        id: row.get::<_, String>(at)?.into(),
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
        id: row.get::<_, String>(0)?.into(),
        token_hash: TokenHash(hash),
        user_id: row.get::<_, String>(2)?.into(),
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
        session.id.as_str(),
        session.token_hash.0.as_slice(),
        session.user_id.as_str(),
        millis(session.expires_at),
        session.ip_address,
        session.user_agent,
        millis(session.created_at),
        millis(session.updated_at),
    ])?;
    Ok(())
}
