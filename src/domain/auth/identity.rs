//! Who a verified token speaks for: its issuer and user id (an owner is the pair), the session it
//! names, and what the claims of one key's tokens must say.

use std::fmt;
use std::sync::Arc;

/// The longest user id we accept from a token; anything longer is not an id we issue or store.
pub const MAX_USER_ID_BYTES: usize = 255;
/// The largest leeway the configuration may set, in seconds.
pub const MAX_LEEWAY_SECONDS: u64 = 60;

/// Who signed a token, as part of its owner's identity: tokens from different issuers never name
/// the same owner, even with the same `sub`. The shared secret is the empty issuer (a configured
/// issuer is never empty); each JWKS issuer is named by its configured `iss`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Issuer(Arc<str>);

impl Issuer {
    /// The issuer of tokens verified with `BETTER_AUTH_SECRET`.
    pub fn shared_secret() -> Self {
        Self(Arc::from(""))
    }

    /// The service's own accounts, whatever its public URL (the `iss` of its tokens) is or
    /// becomes, so a changed URL keeps every user's tasks.
    pub fn accounts() -> Self {
        Self(Arc::from("urn:taskgate:accounts"))
    }

    /// A JWKS issuer, by the `iss` its configuration names.
    pub fn named(iss: &str) -> Self {
        Self(Arc::from(iss))
    }

    /// As stored: empty for the shared secret.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_str() {
            "" => f.write_str("shared-secret"),
            iss => fmt::Debug::fmt(iss, f),
        }
    }
}

/// A user: the pair (issuer, subject). The subject is the non-empty opaque string of the token's
/// `sub` (or `uid`), compared byte for byte with the path's `{user_id}`; the issuer keeps two
/// issuers' users apart in storage.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UserId {
    issuer: Issuer,
    /// Shared: a request clones its user several times (token cache, fairness slot, handlers).
    subject: Arc<str>,
}

impl UserId {
    /// `None` unless `subject` is 1 to [`MAX_USER_ID_BYTES`] bytes without control characters
    /// (a NUL could not be stored on PostgreSQL, and none belongs in a path or a log).
    pub fn new(issuer: Issuer, subject: &str) -> Option<Self> {
        (!subject.is_empty()
            && subject.len() <= MAX_USER_ID_BYTES
            && !subject.chars().any(char::is_control))
        .then(|| Self { issuer, subject: subject.into() })
    }

    /// The subject: what the path's `{user_id}` and a task's `user_id` show.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    pub fn issuer(&self) -> &Issuer {
        &self.issuer
    }
}

impl fmt::Debug for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}@{:?}", self.subject, self.issuer)
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.subject)
    }
}

/// Who a verified access token speaks for.
#[derive(Debug, Clone)]
pub struct Identity {
    pub user_id: UserId,
    /// The `sid` claim, when the issuer names the session the token was minted from.
    pub session_id: Option<String>,
}

/// What the claims of tokens verified by one key must say.
#[derive(Debug, Clone, Default)]
pub struct ClaimPolicy {
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub leeway_seconds: u64,
}
