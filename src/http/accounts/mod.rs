//! The `/api/auth` routes, with Better Auth's paths, bodies, responses and `{"code","message"}`
//! errors. This router is merged outside the task API's layers: its errors (405, 413, a body that
//! is not JSON) are its own, never the task API's error body.

pub mod cookie;
mod guard;
pub mod openapi;
pub mod responses;
mod session;
mod sessions;
mod sign;
mod user;

use guard::{check_origin, limit_rate};
use sessions::{list_sessions, revoke_other_sessions, revoke_session, revoke_sessions};
use sign::{get_session, jwks, sign_in, sign_out, sign_up, token};
use user::{audit_events, change_password, delete_user, update_user};

pub use crate::http::error::{ApiError, ErrorCode};

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::Arc;

use crate::domain::accounts::{
    AccountId, AuditEvent, Email, Session, SessionId, SessionToken, SessionView, User,
};
use crate::domain::auth::{Issuer, UserId};
use crate::http::accounts::cookie::CookieJar;
use crate::http::accounts::responses::{
    AccessToken, AuthBadRequest, AuthCrossSite, AuthEmailTaken, AuthInvalidCredentials,
    AuthNewPasswordRefused, AuthPayloadTooLarge, AuthSignInRefused, AuthSignUpRefused,
    AuthTooManyRequests, AuthUnauthorized, AuthUnavailable, AuthUnsupportedMediaType,
    AuthUpdateRefused, AuthWrongPassword, Done, SessionAndUser, SessionStarted, SignedIn, Success,
    done, signed_out, user_deleted,
};
use crate::http::edge::ClientAddr;
use crate::services::keys::JwkSet;
use crate::services::keys::Signer;
use crate::services::limits::{self, Limited, RateLimiter};
use crate::services::password::{Password, PasswordHasher};
use crate::store::StoreError;
use crate::store::accounts::{DynAccountStore, NewUser};

/// The largest body an auth request may have: a few short fields.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// The longest name and image URL accepted.
const MAX_NAME_CHARS: usize = 255;
const MAX_IMAGE_CHARS: usize = 2048;
/// A user agent is kept for the session list, cut to this many characters.
const MAX_USER_AGENT_CHARS: usize = 512;

/// What the auth handlers share.
#[derive(Clone)]
pub struct AccountsState {
    pub store: DynAccountStore,
    pub hasher: PasswordHasher,
    pub cookies: CookieJar,
    pub signer: Arc<Signer>,
    /// Told of each deletion, so this instance refuses the account's tokens at once.
    pub deleted: Arc<crate::services::deleted::DeletedUsers>,
    /// The origins whose cookie-authenticated POSTs are accepted (CSRF).
    pub trusted_origins: Arc<[String]>,
    pub limiter: Arc<RateLimiter>,
}

/// Every route under `/api/auth`, its fallbacks answering in Better Auth's error format.
pub fn router(state: AccountsState) -> Router {
    let routes = Router::new()
        .route("/sign-up/email", post(sign_up))
        .route("/sign-in/email", post(sign_in))
        .route("/get-session", get(get_session))
        .route("/sign-out", post(sign_out))
        .route("/token", get(token))
        .route("/list-sessions", get(list_sessions))
        .route("/revoke-session", post(revoke_session))
        .route("/revoke-sessions", post(revoke_sessions))
        .route("/revoke-other-sessions", post(revoke_other_sessions))
        .route("/change-password", post(change_password))
        .route("/update-user", post(update_user))
        .route("/delete-user", post(delete_user))
        .route("/audit", get(audit_events))
        .route("/jwks", get(jwks))
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async { ApiError::new(ErrorCode::MethodNotAllowed) })
        .layer(axum::middleware::from_fn_with_state(state.clone(), check_origin))
        .layer(axum::middleware::from_fn_with_state(state.clone(), limit_rate))
        .with_state(state)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Responses about a session must not be kept by any cache.
        .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    Router::new().nest("/api/auth", routes)
}

/// A JSON body of type `T`, or Better Auth's errors: 413 past the limit, 400 `VALIDATION_ERROR`
/// naming the field otherwise. Serde's own message is not echoed: it may quote the input.
fn parse_body<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(ErrorCode::PayloadTooLarge)
        } else {
            ApiError::invalid_body_field("")
        }
    })?;
    let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
    serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|error| ApiError::invalid_body_field(&error.path().to_string()))
}

/// The response of a request that started or refreshed a session: the cookie for browsers, the
/// signed token in `set-auth-token` for everyone else.
fn with_session_cookie(
    cookies: &CookieJar,
    token: &SessionToken,
    body: impl serde::Serialize,
) -> Response {
    let mut response = axum::Json(body).into_response();
    let headers = response.headers_mut();
    if let Ok(cookie) = HeaderValue::from_str(&cookies.set(token)) {
        headers.append(header::SET_COOKIE, cookie);
    }
    if let Ok(signed) = HeaderValue::from_str(&cookies.signed_value(token)) {
        headers.insert("set-auth-token", signed);
    }
    response
}

fn clearing_cookie(cookies: &CookieJar, body: impl serde::Serialize) -> Response {
    let mut response = axum::Json(body).into_response();
    if let Ok(cookie) = HeaderValue::from_str(&cookies.clear()) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The most events `GET /audit` returns.
const MAX_AUDIT_EVENTS: i64 = 100;

/// Records a security event of `user_id`, from `client`.
async fn audit(
    state: &AccountsState,
    user_id: &AccountId,
    event: &str,
    client: Option<&ClientAddr>,
) -> Result<(), ApiError> {
    let event = AuditEvent {
        event: event.to_owned(),
        ip_address: client.map(|ClientAddr(ip)| ip.to_string()),
        created_at: crate::domain::accounts::now(),
    };
    Ok(state.store.record_event(user_id, &event).await?)
}

/// The client address and user agent a new session records.
fn origin_of(headers: &HeaderMap, client: Option<&ClientAddr>) -> (Option<String>, Option<String>) {
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|agent| agent.chars().take(MAX_USER_AGENT_CHARS).collect());
    (client.map(|ClientAddr(ip)| ip.to_string()), agent)
}
