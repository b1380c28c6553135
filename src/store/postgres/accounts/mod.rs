//! The account store on PostgreSQL: users, credentials and sessions. A new user is one
//! transaction with its credential and first session; the unique e-mail constraint decides
//! between concurrent sign-ups on any instance.
//!
//! The typed ids (`AccountId`, `SessionId`) end here: each method binds them as text.

mod audit;
mod keys;
mod limits;
mod sessions;
mod users;

use async_trait::async_trait;
use std::sync::Arc;
use time::OffsetDateTime;
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;

use super::PgDb;
use super::fenced;
use crate::domain::accounts::{AccountId, AuditEvent, Email, Session, SessionId, TokenHash, User};
use crate::domain::auth::UserId;
use crate::store::StoreError;
use crate::store::accounts::NewUser;
use crate::store::accounts::StoredKey;

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
        id: row.try_get::<_, String>(at)?.into(),
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
        id: row.try_get::<_, String>(0)?.into(),
        token_hash: TokenHash(hash),
        user_id: row.try_get::<_, String>(2)?.into(),
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
        session.id.as_string(),
        hash,
        session.user_id.as_string(),
        &session.expires_at,
        &session.ip_address,
        &session.user_agent,
        &session.created_at,
        &session.updated_at,
    ]
}
