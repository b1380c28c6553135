//! A user's sessions: listing them and ending one, the others, or all.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::session::CurrentSession;
use super::*;

/// The user's live sessions; each `token` is a revocation handle, never a credential.
#[utoipa::path(
    get, path = "/api/auth/list-sessions", tag = "auth",
    responses(
        (status = 200, description = "The user's live sessions", body = [SessionView]),
        (status = 401, response = AuthUnauthorized),
        (status = 429, response = AuthTooManyRequests),
        (status = 503, response = AuthUnavailable),
    ),
    security(("SessionCookie" = []), ("SessionBearer" = []))
)]
#[tracing::instrument(name = "list_sessions", skip_all)]
pub(crate) async fn list_sessions(
    State(state): State<AccountsState>,
    current: CurrentSession,
) -> Result<Response, ApiError> {
    let user = current.user;
    let sessions = state.store.list_sessions(&user.id, crate::domain::accounts::now()).await?;
    let views: Vec<_> = sessions.iter().map(Session::view).collect();
    Ok(axum::Json(views).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct RevokeSession {
    /// The session's revocation handle, as `list-sessions` shows it (not a session token).
    token: String,
}

/// Ends one of the user's sessions, named by its handle; another user's handle changes nothing.
#[utoipa::path(
    post, path = "/api/auth/revoke-session", tag = "auth",
    request_body = RevokeSession,
    responses(
        (status = 200, description = "The session is over, if it was one of the user's", body = Done, example = done),
        (status = 400, response = AuthBadRequest),
        (status = 401, response = AuthUnauthorized),
        (status = 403, response = AuthCrossSite),
        (status = 413, response = AuthPayloadTooLarge),
        (status = 415, response = AuthUnsupportedMediaType),
        (status = 429, response = AuthTooManyRequests),
        (status = 503, response = AuthUnavailable),
    ),
    security(("SessionCookie" = []), ("SessionBearer" = []))
)]
#[tracing::instrument(name = "revoke_session", skip_all)]
pub(crate) async fn revoke_session(
    State(state): State<AccountsState>,
    client: Option<axum::Extension<ClientAddr>>,
    current: CurrentSession,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let CurrentSession { session, user, .. } = current;
    let body: RevokeSession = parse_body(body)?;
    let handle = SessionId::from(body.token);
    if state.store.delete_user_session(&user.id, &handle).await? {
        tracing::info!(user_id = %user.id, "session revoked");
        audit(&state, &user.id, "session-revoked", client.as_deref()).await?;
    }
    let status = Done::DONE;
    if handle == session.id {
        Ok(clearing_cookie(&state.cookies, status))
    } else {
        Ok(axum::Json(status).into_response())
    }
}

/// Ends every session of the user, this one included.
#[utoipa::path(
    post, path = "/api/auth/revoke-sessions", tag = "auth",
    responses(
        (status = 200, description = "Every session of the user is over, this one included", body = Done, example = done),
        (status = 401, response = AuthUnauthorized),
        (status = 403, response = AuthCrossSite),
        (status = 429, response = AuthTooManyRequests),
        (status = 503, response = AuthUnavailable),
    ),
    security(("SessionCookie" = []), ("SessionBearer" = []))
)]
#[tracing::instrument(name = "revoke_sessions", skip_all)]
pub(crate) async fn revoke_sessions(
    State(state): State<AccountsState>,
    client: Option<axum::Extension<ClientAddr>>,
    current: CurrentSession,
) -> Result<Response, ApiError> {
    let user = current.user;
    let ended = state.store.delete_user_sessions(&user.id, None).await?;
    tracing::info!(user_id = %user.id, ended, "all sessions revoked");
    audit(&state, &user.id, "sessions-revoked", client.as_deref()).await?;
    Ok(clearing_cookie(&state.cookies, Done::DONE))
}

/// Ends every session of the user but this one.
#[utoipa::path(
    post, path = "/api/auth/revoke-other-sessions", tag = "auth",
    responses(
        (status = 200, description = "Every other session of the user is over", body = Done, example = done),
        (status = 401, response = AuthUnauthorized),
        (status = 403, response = AuthCrossSite),
        (status = 429, response = AuthTooManyRequests),
        (status = 503, response = AuthUnavailable),
    ),
    security(("SessionCookie" = []), ("SessionBearer" = []))
)]
#[tracing::instrument(name = "revoke_other_sessions", skip_all)]
pub(crate) async fn revoke_other_sessions(
    State(state): State<AccountsState>,
    client: Option<axum::Extension<ClientAddr>>,
    current: CurrentSession,
) -> Result<Response, ApiError> {
    let CurrentSession { session, user, .. } = current;
    let ended = state.store.delete_user_sessions(&user.id, Some(&session.id)).await?;
    tracing::info!(user_id = %user.id, ended, "other sessions revoked");
    audit(&state, &user.id, "other-sessions-revoked", client.as_deref()).await?;
    Ok(axum::Json(Done::DONE).into_response())
}
