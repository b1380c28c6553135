//! Minting HS256 access tokens with the shared secret: the `taskgate token` command, and the
//! checks on its `--user` and `--ttl` that clap applies before anything is signed.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::domain::auth::MAX_USER_ID_BYTES;

/// The longest lifetime a minted token may have: one year. A bearer token cannot be revoked
/// before its `exp` short of rotating the secret, so a longer one is a mistake, not a wish.
pub const MAX_TTL_SECONDS: u64 = 365 * 24 * 60 * 60;

/// Why no token was minted. The messages complete clap's "invalid value '…' for '--ttl'".
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("a user id must not be empty")]
    EmptyUser,
    #[error(
        "a user id is at most {MAX_USER_ID_BYTES} bytes (the service refuses longer ones), not {0}"
    )]
    UserTooLong(usize),
    #[error(
        "the lifetime must be a whole number of seconds, from 1 to {MAX_TTL_SECONDS} (one year)"
    )]
    TtlNotANumber,
    #[error("a lifetime of 0 seconds would mint a token that is already expired; use at least 1")]
    TtlZero,
    #[error(
        "{0} seconds is more than one year ({MAX_TTL_SECONDS} seconds); mint a shorter-lived token"
    )]
    TtlTooLong(u64),
    #[error("the token's expiry time does not fit in a timestamp")]
    ExpiryOverflow,
    #[error("cannot sign the token: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// `--user`: a user id the service would accept in `sub` (non-empty, at most 255 bytes).
pub fn parse_user(raw: &str) -> Result<String, TokenError> {
    check_user(raw)?;
    Ok(raw.to_owned())
}

/// `--ttl`: whole seconds, from 1 to one year.
pub fn parse_ttl(raw: &str) -> Result<u64, TokenError> {
    let ttl = raw.trim().parse::<u64>().map_err(|_| TokenError::TtlNotANumber)?;
    check_ttl(ttl)?;
    Ok(ttl)
}

fn check_user(user: &str) -> Result<(), TokenError> {
    match user.len() {
        0 => Err(TokenError::EmptyUser),
        len if len > MAX_USER_ID_BYTES => Err(TokenError::UserTooLong(len)),
        _ => Ok(()),
    }
}

fn check_ttl(ttl: u64) -> Result<(), TokenError> {
    match ttl {
        0 => Err(TokenError::TtlZero),
        ttl if ttl > MAX_TTL_SECONDS => Err(TokenError::TtlTooLong(ttl)),
        _ => Ok(()),
    }
}

/// `iat + ttl`, refused rather than wrapped around into a token that expired long ago.
fn expiry(iat: u64, ttl_seconds: u64) -> Result<u64, TokenError> {
    iat.checked_add(ttl_seconds).ok_or(TokenError::ExpiryOverflow)
}

#[derive(Serialize)]
struct AccessClaims<'a> {
    sub: &'a str,
    iat: u64,
    exp: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<&'a str>,
}

/// An HS256 token for `user` valid for `ttl_seconds`, carrying `iss`/`aud` when given. The user
/// and lifetime are checked here too, for callers that did not come through the command line.
pub fn mint_hs256(
    secret: &[u8],
    user: &str,
    ttl_seconds: u64,
    issuer: Option<&str>,
    audience: Option<&str>,
) -> Result<String, TokenError> {
    check_user(user)?;
    check_ttl(ttl_seconds)?;
    let iat = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let exp = expiry(iat, ttl_seconds)?;
    let claims = AccessClaims { sub: user, iat, exp, iss: issuer, aud: audience };
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::Value;

    const SECRET: &[u8] = b"a-unit-test-secret-of-32-bytes-or-more";

    fn claims_of(token: &str) -> Value {
        let payload = token.split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
    }

    #[test]
    fn a_minted_token_lives_exactly_its_ttl() {
        let token = mint_hs256(SECRET, "alice", MAX_TTL_SECONDS, Some("iss"), None).unwrap();
        let claims = claims_of(&token);
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["iss"], "iss");
        assert!(claims.get("aud").is_none());
        let lifetime = claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap();
        assert_eq!(lifetime, MAX_TTL_SECONDS);
    }

    #[test]
    fn user_ids_the_service_would_refuse_are_not_minted() {
        assert!(matches!(parse_user(""), Err(TokenError::EmptyUser)));
        assert!(matches!(parse_user(&"é".repeat(128)), Err(TokenError::UserTooLong(256))));
        assert_eq!(parse_user(&"u".repeat(MAX_USER_ID_BYTES)).unwrap().len(), MAX_USER_ID_BYTES);
        assert!(matches!(mint_hs256(SECRET, "", 60, None, None), Err(TokenError::EmptyUser)));
    }

    #[test]
    fn lifetimes_of_zero_over_a_year_or_not_a_number_are_refused() {
        assert!(matches!(parse_ttl("0"), Err(TokenError::TtlZero)));
        assert!(matches!(parse_ttl("31536001"), Err(TokenError::TtlTooLong(31_536_001))));
        assert!(matches!(parse_ttl(&u64::MAX.to_string()), Err(TokenError::TtlTooLong(_))));
        for raw in ["", "abc", "-1", "1.5", "18446744073709551616"] {
            assert!(matches!(parse_ttl(raw), Err(TokenError::TtlNotANumber)), "{raw:?}");
        }
        assert_eq!(parse_ttl("1").unwrap(), 1);
        assert_eq!(parse_ttl("31536000").unwrap(), MAX_TTL_SECONDS);
        assert!(matches!(mint_hs256(SECRET, "u", 0, None, None), Err(TokenError::TtlZero)));
        let message = TokenError::TtlTooLong(31_536_001).to_string();
        assert!(message.contains("one year"), "{message}");
    }

    #[test]
    fn an_expiry_past_the_largest_timestamp_is_an_error_not_a_wraparound() {
        assert!(matches!(expiry(u64::MAX - 10, 900), Err(TokenError::ExpiryOverflow)));
        assert_eq!(expiry(1000, 900).unwrap(), 1900);
    }
}
