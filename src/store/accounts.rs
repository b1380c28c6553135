//! The account stores' contracts, one per concern: users (with their password credentials),
//! sessions, rate-limit counters, audit events and signing keys; and [`AccountStore`], all of them.

use async_trait::async_trait;
use std::sync::Arc;
use time::OffsetDateTime;

use super::StoreError;
use crate::domain::accounts::{AccountId, AuditEvent, Email, Session, SessionId, TokenHash, User};
use crate::domain::auth::UserId;

/// A signing key as the stores keep it: the public key in the clear, the private key sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub kid: String,
    /// The raw 32-byte Ed25519 public key.
    pub public_key: Vec<u8>,
    /// Nonce, then the ChaCha20-Poly1305 ciphertext of the 32-byte seed, bound to `kid`.
    pub sealed_private_key: Vec<u8>,
    pub created_at: OffsetDateTime,
}

/// What [`UserStore::create_user`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewUser {
    Created,
    /// Another user has the e-mail address; nothing was written.
    EmailTaken,
}

/// Users and their password credentials, and the list of accounts deleted lately.
#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// Creates the user, its password credential and its first session in one transaction.
    async fn create_user(
        &self,
        user: &User,
        password_hash: &str,
        session: &Session,
    ) -> Result<NewUser, StoreError>;
    /// The user with this e-mail address and its password hash.
    async fn credentials(&self, email: &Email) -> Result<Option<(User, String)>, StoreError>;
    /// The user's password hash.
    async fn password_hash(&self, user_id: &AccountId) -> Result<Option<String>, StoreError>;
    /// Replaces the user's password hash; with `replacement`, in the same transaction, ends every
    /// session of the user and starts that one. `false` when the user is gone.
    async fn change_password(
        &self,
        user_id: &AccountId,
        password_hash: &str,
        now: OffsetDateTime,
        replacement: Option<&Session>,
    ) -> Result<bool, StoreError>;
    /// Sets the user's name and, when given, image; the updated user, `None` when gone.
    async fn update_user(
        &self,
        user_id: &AccountId,
        name: Option<&str>,
        image: Option<Option<&str>>,
        now: OffsetDateTime,
    ) -> Result<Option<User>, StoreError>;
    /// Deletes the user with its credential and sessions, and the tasks of `tasks_owner` (the
    /// user as the task API knows it), and records the deletion at `now_ms` (see
    /// [`UserStore::deleted_users_since`]), in one transaction. `false` when the user was gone.
    async fn delete_user(
        &self,
        user_id: &AccountId,
        tasks_owner: &UserId,
        now_ms: i64,
    ) -> Result<bool, StoreError>;
    /// The users deleted at or after `since_ms`, with when, oldest first.
    async fn deleted_users_since(&self, since_ms: i64)
    -> Result<Vec<(AccountId, i64)>, StoreError>;
    /// Forgets the deletions recorded before `before_ms`.
    async fn purge_deleted_users(&self, before_ms: i64) -> Result<(), StoreError>;
}

/// Sessions, looked up by the hash of their token only; every operation a user can ask for is scoped by that user's id.
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    async fn create_session(&self, session: &Session) -> Result<(), StoreError>;
    /// The session whose token hashes to `hash`, with its user, expired or not.
    async fn session(&self, hash: &TokenHash) -> Result<Option<(Session, User)>, StoreError>;
    /// Moves the session's expiry to `expires_at` (its `updated_at` to `now`); `false` when it
    /// is gone.
    async fn refresh_session(
        &self,
        id: &SessionId,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Ends the session whose token hashes to `hash`; `false` when there was none.
    async fn delete_session(&self, hash: &TokenHash) -> Result<bool, StoreError>;
    /// Whether the session with this id exists and has not expired at `now`.
    async fn session_is_live(
        &self,
        id: &SessionId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// The user's sessions that have not expired at `now`, oldest first.
    async fn list_sessions(
        &self,
        user_id: &AccountId,
        now: OffsetDateTime,
    ) -> Result<Vec<Session>, StoreError>;
    /// Ends the user's session with this id; `false` when the user has none such.
    async fn delete_user_session(
        &self,
        user_id: &AccountId,
        session_id: &SessionId,
    ) -> Result<bool, StoreError>;
    /// Ends every session of the user but `except`; returns how many ended.
    async fn delete_user_sessions(
        &self,
        user_id: &AccountId,
        except: Option<&SessionId>,
    ) -> Result<u64, StoreError>;
    /// Deletes at most `limit` sessions expired at `now` (of any user); returns how many.
    async fn purge_expired_sessions(
        &self,
        now: OffsetDateTime,
        limit: i64,
    ) -> Result<u64, StoreError>;
}

/// Rate-limit counters in fixed windows, shared by every instance on the database.
#[async_trait]
pub trait LimitStore: Send + Sync + 'static {
    /// Counts one request against `key` in a fixed window of `window_ms` starting at the key's
    /// first request (a window over at `now_ms` starts a new one); returns the count so far and
    /// when the window started, in Unix milliseconds. One atomic statement, shared by every
    /// instance on the database.
    async fn count_request(
        &self,
        key: &str,
        window_ms: i64,
        now_ms: i64,
    ) -> Result<(i64, i64), StoreError>;
    /// The count of `key`'s window running at `now_ms` and when it started (`(0, now_ms)` when
    /// none runs); counts nothing.
    async fn request_count(
        &self,
        key: &str,
        window_ms: i64,
        now_ms: i64,
    ) -> Result<(i64, i64), StoreError>;
    /// Forgets counters whose window started before `before_ms`.
    async fn purge_rate_limits(&self, before_ms: i64) -> Result<(), StoreError>;
}

/// Each user's security events.
#[async_trait]
pub trait AuditStore: Send + Sync + 'static {
    /// Records a security event of the user (nothing when the user is gone).
    async fn record_event(&self, user_id: &AccountId, event: &AuditEvent)
    -> Result<(), StoreError>;
    /// The user's latest `limit` events, newest first.
    async fn events(&self, user_id: &AccountId, limit: i64) -> Result<Vec<AuditEvent>, StoreError>;
}

/// The signing keys of the accounts' access tokens.
#[async_trait]
pub trait KeyStore: Send + Sync + 'static {
    /// Every signing key, oldest first.
    async fn signing_keys(&self) -> Result<Vec<StoredKey>, StoreError>;
    /// Adds `key`, the newest, and in the same transaction deletes every key that a newer key
    /// replaced before `retired_before` (its tokens have expired).
    async fn add_signing_key(
        &self,
        key: &StoredKey,
        retired_before: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Every signing key, oldest first; when there is none, `candidate` is stored first. Instances
    /// starting at once agree on one first key.
    async fn signing_keys_or_insert(
        &self,
        candidate: &StoredKey,
    ) -> Result<Vec<StoredKey>, StoreError>;
}

/// Every account store at once: what the accounts' HTTP handlers use. The services take only the
/// store of their concern (a `DynAccountStore` coerces to any of them).
pub trait AccountStore: UserStore + SessionStore + LimitStore + AuditStore + KeyStore {}

impl<T: UserStore + SessionStore + LimitStore + AuditStore + KeyStore> AccountStore for T {}

pub type DynAccountStore = Arc<dyn AccountStore>;
