//! Accounts and sessions as Better Auth's protocol knows them: users, e-mail addresses, session
//! tokens (stored only as hashes), sessions and audit events.

use rand::Rng;
use rand::distributions::Alphanumeric;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fmt;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// How long a session lasts from its creation or last refresh (Better Auth's `expiresIn`).
pub const SESSION_LIFETIME: time::Duration = time::Duration::days(7);
/// A session used this long after its last refresh is refreshed (Better Auth's `updateAge`).
pub const SESSION_REFRESH_AGE: time::Duration = time::Duration::days(1);

/// 32 random `[A-Za-z0-9]` characters (190 bits): Better Auth's ids and session tokens.
pub fn random_id() -> String {
    rand::rngs::OsRng.sample_iter(&Alphanumeric).take(32).map(char::from).collect()
}

pub use crate::ground::clock::{now, now_ms, truncate_to_millis};

/// A point in time as JavaScript's `Date.prototype.toISOString` writes it:
/// `2026-12-01T14:00:00.000Z`.
pub fn iso8601(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

fn serialize_iso8601<S: serde::Serializer>(at: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&iso8601(*at))
}

/// Parses what [`iso8601`] writes (for tests and clients of this crate).
pub fn parse_iso8601(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// An e-mail address as stored and compared: trimmed and lowercased, so lookups are
/// case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// The longest address accepted (RFC 5321's path limit).
    pub const MAX_LEN: usize = 254;

    /// `None` unless `raw`, trimmed, looks like `local@domain.tld`: no spaces or control
    /// characters, one `@`, a dot in the domain, at most [`Email::MAX_LEN`] bytes. Lowercased
    /// and in Unicode's composed form (NFC), so `é` typed precomposed or as `e` and a combining
    /// accent is one address, not two accounts.
    pub fn parse(raw: &str) -> Option<Self> {
        use unicode_normalization::UnicodeNormalization;
        let email: String = raw.trim().to_lowercase().nfc().collect();
        let (local, domain) = email.split_once('@')?;
        let plausible = email.len() <= Self::MAX_LEN
            && !local.is_empty()
            && !domain.contains('@')
            && domain.split('.').count() >= 2
            && domain.split('.').all(|label| !label.is_empty())
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        plausible.then_some(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A user, as Better Auth's JSON shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[schema(value_type = String)]
    pub id: AccountId,
    pub name: String,
    pub email: String,
    pub email_verified: bool,
    pub image: Option<String>,
    #[serde(serialize_with = "serialize_iso8601")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(serialize_with = "serialize_iso8601")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// An account's id: 32 random alphanumerics, as Better Auth makes them. Its own type, so that it
/// cannot be passed where a session's id is meant, or the other way round.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct AccountId(String);

/// A session's id, which is also the revocation handle clients see in place of its token.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SessionId(String);

macro_rules! string_id {
    ($name:ident) => {
        impl $name {
            /// A new random id.
            pub fn generate() -> Self {
                Self(random_id())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The text itself, for drivers that bind a `String` by reference.
            pub fn as_string(&self) -> &String {
                &self.0
            }
        }

        /// Ids read back from the database or named by a client (a revocation handle, a token's
        /// `sid`) are opaque text: looking one up that does not exist finds nothing.
        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        /// Looked up by its text (a set of ids answers whether it holds a string).
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_id!(AccountId);
string_id!(SessionId);

/// A session token: the credential a client holds. Only its [`TokenHash`] is ever stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    pub fn generate() -> Self {
        Self(random_id())
    }

    /// `None` unless `raw` has the shape of a token we issue, so nothing else reaches a lookup.
    pub fn parse(raw: &str) -> Option<Self> {
        (raw.len() == 32 && raw.bytes().all(|b| b.is_ascii_alphanumeric()))
            .then(|| Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.as_bytes()).into())
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(redacted)")
    }
}

/// The SHA-256 of a session token: what the stores keep and look sessions up by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenHash(pub [u8; 32]);

/// A session as stored. Its `id` doubles as the revocation handle clients see in place of the
/// token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub token_hash: TokenHash,
    pub user_id: AccountId,
    pub expires_at: OffsetDateTime,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl Session {
    /// A new session for `user_id`, starting now, with its token (returned once, never stored).
    pub fn start(
        user_id: &AccountId,
        ip_address: Option<String>,
        user_agent: Option<String>,
    ) -> (Self, SessionToken) {
        let token = SessionToken::generate();
        let now = now();
        let session = Self {
            id: SessionId::generate(),
            token_hash: token.hash(),
            user_id: user_id.clone(),
            expires_at: now + SESSION_LIFETIME,
            ip_address,
            user_agent,
            created_at: now,
            updated_at: now,
        };
        (session, token)
    }

    /// Whether the session is over at `at`.
    pub fn expired_at(&self, at: OffsetDateTime) -> bool {
        self.expires_at <= at
    }

    /// Whether a use at `at` should push the expiry forward: a day after the last refresh, as
    /// Better Auth does (`expiresAt - expiresIn + updateAge <= now`).
    pub fn due_for_refresh_at(&self, at: OffsetDateTime) -> bool {
        self.expires_at - SESSION_LIFETIME + SESSION_REFRESH_AGE <= at
    }

    /// The session as Better Auth's JSON shows it, with the revocation handle in `token`.
    pub fn view(&self) -> SessionView<'_> {
        SessionView {
            id: &self.id,
            user_id: &self.user_id,
            token: &self.id,
            expires_at: self.expires_at,
            ip_address: self.ip_address.as_deref(),
            user_agent: self.user_agent.as_deref(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// Better Auth's session object. `token` is the session's revocation handle, never a credential.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionView<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub token: &'a str,
    #[serde(serialize_with = "serialize_iso8601")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: OffsetDateTime,
    pub ip_address: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    #[serde(serialize_with = "serialize_iso8601")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(serialize_with = "serialize_iso8601")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// A security event of a user's account, as stored and as `GET /api/auth/audit` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    pub event: String,
    pub ip_address: Option<String>,
    #[serde(serialize_with = "serialize_iso8601")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        assert_eq!(Email::parse("  Ada@Example.COM ").unwrap().as_str(), "ada@example.com");
    }

    #[test]
    fn composed_and_decomposed_emails_are_one_address() {
        let composed = Email::parse("jos\u{e9}@example.com").unwrap();
        let decomposed = Email::parse("jose\u{301}@example.com").unwrap();
        assert_eq!(composed, decomposed);
        assert_eq!(decomposed.as_str(), "jos\u{e9}@example.com");
    }

    #[test]
    fn implausible_emails_are_refused() {
        for bad in ["", "ada", "@example.com", "ada@", "ada@example", "a b@example.com", "a@b@c.d"]
        {
            assert!(Email::parse(bad).is_none(), "{bad}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_none());
    }

    #[test]
    fn ids_and_tokens_are_32_alphanumerics_and_differ() {
        let (a, b) = (random_id(), random_id());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
        assert!(SessionToken::parse(&a).is_some());
        assert!(SessionToken::parse("short").is_none());
        assert!(SessionToken::parse(&format!("{}-", &a[..31])).is_none());
    }

    #[test]
    fn a_session_is_refreshed_only_a_day_after_its_last_refresh() {
        let (session, _) = Session::start(&AccountId::from("u"), None, None);
        let start = session.created_at;
        assert!(!session.due_for_refresh_at(start + time::Duration::hours(23)));
        assert!(session.due_for_refresh_at(start + time::Duration::days(1)));
        assert!(!session.expired_at(start + time::Duration::days(6)));
        assert!(session.expired_at(start + SESSION_LIFETIME));
    }

    #[test]
    fn times_are_written_as_javascript_does() {
        let at = parse_iso8601("2026-12-01T14:03:09.042Z").unwrap();
        assert_eq!(iso8601(at), "2026-12-01T14:03:09.042Z");
    }

    #[test]
    fn a_token_debug_print_hides_it() {
        let token = SessionToken::generate();
        assert!(!format!("{token:?}").contains(token.expose()));
    }
}
