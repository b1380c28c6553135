//! Token verification: strict parsing of compact JWS, the key ring (the shared secret, the
//! service's own keys, JWKS issuers) and the claim checks.

mod error;
mod identity;
pub mod jwks;
pub mod jws;
mod verified;
mod verify;

pub use error::TokenError;
pub use identity::{ClaimPolicy, Identity, Issuer, MAX_LEEWAY_SECONDS, MAX_USER_ID_BYTES, UserId};
pub use verify::{DeletedAccounts, LiveSessions, OwnIssuer, OwnKeys, TokenVerifier, TrustedKey};
