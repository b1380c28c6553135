//! Why a token was refused, as token verification says it; the HTTP layer maps each to its code.

/// A refused (or uncheckable) access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a well-formed compact JWS, too large, `crit` present, `exp` missing or not a number.
    #[error("malformed token")]
    MalformedToken,
    /// The signature does not verify, or the algorithm is not the key's.
    #[error("invalid token signature")]
    InvalidTokenSignature,
    /// Past `exp` (plus leeway), or `nbf`/`iat` in the future.
    #[error("token expired")]
    TokenExpired,
    /// No usable user id in `sub`/`uid`.
    #[error("no usable user id")]
    MissingUidClaim,
    /// Wrong `iss` or `aud`, or not an access token.
    #[error("invalid token claims")]
    InvalidTokenClaims,
    /// The session the token was minted from has ended, or its account was deleted.
    #[error("session revoked")]
    SessionRevoked,
    /// What the check needs (an issuer's keys, the session store) cannot be reached: not the
    /// client's fault.
    #[error("cannot be checked now")]
    Unavailable,
}
