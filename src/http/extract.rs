//! The auth extractors: the only code that reads credentials. Naming [`Authenticated`] or
//! [`ScopedUser`] in a handler's signature is the whole opt-in to protection.

use axum::extract::{FromRef, FromRequestParts, MatchedPath, RawPathParams};
use axum::http::{header, request::Parts};
use std::sync::Arc;

use crate::domain::auth::{Identity, TokenVerifier, UserId};
use crate::http::edge::ClientAddr;
use crate::http::error::{ApiError, ErrorCode};
use crate::services::inflight::{InflightLimiter, InflightSlot};

/// A request whose bearer token verified. It holds one of its user's in-flight slots until the
/// handler returns.
#[derive(Debug)]
pub struct Authenticated {
    pub identity: Identity,
    /// Given back when the handler's extractors are dropped.
    _slot: InflightSlot,
}

/// A request whose bearer token verified and whose token user is the `{user_id}` of the path.
#[derive(Debug)]
pub struct ScopedUser {
    pub user: UserId,
    _slot: InflightSlot,
}

impl<S> FromRequestParts<S> for Authenticated
where
    Arc<TokenVerifier>: FromRef<S>,
    Arc<InflightLimiter>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let verifier = Arc::<TokenVerifier>::from_ref(state);
        let verified = match bearer_token(parts) {
            Ok(token) => {
                verifier.verify(token, crate::ground::clock::unix_now()).await.map_err(Into::into)
            }
            Err(code) => Err(code),
        };
        let identity = verified.map_err(|code| reject(parts, code, None))?;
        match Arc::<InflightLimiter>::from_ref(state).try_acquire(&identity.user_id) {
            Some(slot) => Ok(Authenticated { identity, _slot: slot }),
            None => Err(reject(parts, ErrorCode::TooManyRequests, Some(&identity.user_id))),
        }
    }
}

impl<S> FromRequestParts<S> for ScopedUser
where
    Arc<TokenVerifier>: FromRef<S>,
    Arc<InflightLimiter>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Authenticated { identity, _slot } =
            Authenticated::from_request_parts(parts, state).await?;
        // Path segments arrive percent-decoded; the comparison is then byte for byte.
        let params = RawPathParams::from_request_parts(parts, state).await;
        let own_path = params.is_ok_and(|params| {
            params.iter().any(|(name, value)| {
                name == "user_id" && value.as_bytes() == identity.user_id.subject().as_bytes()
            })
        });
        if own_path {
            Ok(ScopedUser { user: identity.user_id, _slot })
        } else {
            Err(reject(parts, ErrorCode::ForbiddenUserAccess, Some(&identity.user_id)))
        }
    }
}

/// RFC 6750 §2.1: exactly one `Authorization: Bearer <token>` header, scheme case-insensitive,
/// and no second copy of the credential in the query string.
fn bearer_token(parts: &Parts) -> Result<&str, ErrorCode> {
    if has_query_token(parts) {
        return Err(ErrorCode::InvalidHeaderFormat);
    }
    let mut values = parts.headers.get_all(header::AUTHORIZATION).iter();
    let value = values.next().ok_or(ErrorCode::MissingToken)?;
    if values.next().is_some() {
        return Err(ErrorCode::InvalidHeaderFormat);
    }
    let value = value.to_str().map_err(|_| ErrorCode::InvalidHeaderFormat)?;
    let (scheme, token) = value.split_once(' ').ok_or(ErrorCode::InvalidHeaderFormat)?;
    let token = token.trim_matches(' ');
    if !scheme.eq_ignore_ascii_case("bearer")
        || token.is_empty()
        || token.as_bytes().contains(&b' ')
    {
        return Err(ErrorCode::InvalidHeaderFormat);
    }
    Ok(token)
}

fn has_query_token(parts: &Parts) -> bool {
    parts.uri.query().is_some_and(|query| {
        query.split('&').any(|pair| pair.split('=').next() == Some("access_token"))
    })
}

/// Logs the failure (never the credential) and turns it into the response error. Values a client
/// chose (the token's user id, the request id) are escaped by the log formatter
/// (`telemetry::Untrusted`), so they cannot forge a log line or send terminal escapes.
fn reject(parts: &Parts, code: ErrorCode, user_id: Option<&UserId>) -> ApiError {
    let route = parts.extensions.get::<MatchedPath>().map_or("", MatchedPath::as_str);
    let client = parts.extensions.get::<ClientAddr>().map(|ClientAddr(addr)| *addr);
    let request_id = parts.headers.get("x-request-id");
    tracing::warn!(
        error_code = code.as_str(),
        route,
        client = client.map(tracing::field::display),
        user_id = user_id.map(UserId::subject),
        request_id = request_id.and_then(|id| id.to_str().ok()),
        "request refused"
    );
    crate::ground::metrics::auth_refusal(code.as_str());
    ApiError::new(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(uri: &str, auth: &[&str]) -> Parts {
        let mut builder = Request::builder().uri(uri);
        for value in auth {
            builder = builder.header(header::AUTHORIZATION, *value);
        }
        builder.body(()).unwrap().into_parts().0
    }

    #[test]
    fn the_scheme_is_case_insensitive() {
        for scheme in ["Bearer", "bearer", "BEARER"] {
            let p = parts("/", &[&format!("{scheme} abc")]);
            assert_eq!(bearer_token(&p), Ok("abc"));
        }
    }

    #[test]
    fn header_problems_are_classified() {
        assert_eq!(bearer_token(&parts("/", &[])), Err(ErrorCode::MissingToken));
        for bad in ["Basic abc", "Bearer", "Bearer ", "Bearer a b", "Token abc"] {
            assert_eq!(
                bearer_token(&parts("/", &[bad])),
                Err(ErrorCode::InvalidHeaderFormat),
                "{bad}"
            );
        }
        let twice = parts("/", &["Bearer a", "Bearer a"]);
        assert_eq!(bearer_token(&twice), Err(ErrorCode::InvalidHeaderFormat));
        let with_query = parts("/x?access_token=a", &["Bearer a"]);
        assert_eq!(bearer_token(&with_query), Err(ErrorCode::InvalidHeaderFormat));
    }
}
