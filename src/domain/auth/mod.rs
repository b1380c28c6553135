//! Token verification: strict parsing of compact JWS, the key ring (the shared secret, the
//! service's own keys, JWKS issuers) and the claim checks.

pub mod jwks;
pub mod jws;
mod verified;
mod verify;

pub use verify::{
    ClaimPolicy, DeletedAccounts, Identity, Issuer, LiveSessions, MAX_LEEWAY_SECONDS,
    MAX_USER_ID_BYTES, OwnIssuer, OwnKeys, TokenVerifier, TrustedKey, UserId,
};
