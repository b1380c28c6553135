//! The account itself: its password, name and image, its deletion, and its audit log.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::session::CurrentSession;
use super::*;

/// A name: at most [`MAX_NAME_CHARS`], no control or bidirectional control characters (which
/// could make a name display as something else).
pub(super) fn valid_name(name: &str) -> bool {
    name.chars().count() <= MAX_NAME_CHARS
        && !name.chars().any(|c| c.is_control() || crate::domain::tasks::is_bidi_control(c))
}

/// An image URL: at most [`MAX_IMAGE_CHARS`], no control characters.
pub(super) fn valid_image(image: &str) -> bool {
    image.chars().count() <= MAX_IMAGE_CHARS && !image.chars().any(char::is_control)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChangePassword {
    /// 8 to 128 characters, and not one of the most common passwords.
    new_password: String,
    current_password: String,
    /// End every session of the user and start a new one, whose token the answer carries.
    #[serde(default)]
    revoke_other_sessions: bool,
}

/// The user's current password, checked; 400 `INVALID_PASSWORD` when wrong. Wrong ones count
/// against the account (someone holding a stolen session may be guessing): 10 a minute, then
/// 429; each is in the audit log.
async fn check_password(
    state: &AccountsState,
    user: &User,
    password: String,
    client: Option<&ClientAddr>,
) -> Result<(), ApiError> {
    let password = Password::for_sign_in(password).map_err(ApiError::password)?;
    let rule = limits::PASSWORD_CHECKS_PER_ACCOUNT;
    if let Some(counted) = state.limiter.count(rule, &user.id).await?
        && counted.full
    {
        tracing::warn!(user_id = %user.id, "rate limit hit: wrong current passwords");
        return Err(ApiError::too_many_requests(counted.limited));
    }
    let stored = state
        .store
        .password_hash(&user.id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::CredentialAccountNotFound))?;
    if state.hasher.verify(&password, Some(&stored)).await? {
        Ok(())
    } else {
        tracing::warn!(user_id = %user.id, "wrong current password");
        state.limiter.record(rule, &user.id).await?;
        audit(state, &user.id, "wrong-password", client).await?;
        Err(ApiError::new(ErrorCode::InvalidPassword))
    }
}

/// Replaces the password; with `revokeOtherSessions`, every session ends and a new one starts
/// (its token in the body and the cookie), in one transaction.
#[utoipa::path(
    post, path = "/api/auth/change-password", tag = "auth",
    request_body = ChangePassword,
    responses(
        (status = 200, description = "The password is changed; with `revokeOtherSessions`, a new session replaces every one", body = SessionStarted),
        (status = 400, response = AuthNewPasswordRefused),
        (status = 401, response = AuthUnauthorized),
        (status = 403, response = AuthCrossSite),
        (status = 413, response = AuthPayloadTooLarge),
        (status = 415, response = AuthUnsupportedMediaType),
        (status = 429, response = AuthTooManyRequests),
        (status = 503, response = AuthUnavailable),
    ),
    security(("SessionCookie" = []), ("SessionBearer" = []))
)]
#[tracing::instrument(name = "change_password", skip_all)]
pub(crate) async fn change_password(
    State(state): State<AccountsState>,
    client: Option<axum::Extension<ClientAddr>>,
    current: CurrentSession,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let user = current.user;
    let body: ChangePassword = parse_body(body)?;
    let new_password = Password::new(body.new_password).map_err(ApiError::password)?;
    check_password(&state, &user, body.current_password, client.as_deref()).await?;
    let hash = state.hasher.hash(&new_password).await?;
    let replacement = body.revoke_other_sessions.then(|| {
        let (ip, agent) = origin_of(&headers, client.as_deref());
        Session::start(&user.id, ip, agent)
    });
    let changed = state
        .store
        .change_password(
            &user.id,
            &hash,
            crate::domain::accounts::now(),
            replacement.as_ref().map(|(s, _)| s),
        )
        .await?;
    if !changed {
        return Err(ApiError::new(ErrorCode::Unauthorized));
    }
    let revoked_others = body.revoke_other_sessions;
    tracing::info!(user_id = %user.id, revoked_others, "password changed");
    audit(&state, &user.id, "password-changed", client.as_deref()).await?;
    match replacement {
        Some((_, token)) => {
            let body = SessionStarted { token: Some(token.expose().to_owned()), user };
            Ok(with_session_cookie(&state.cookies, &token, body))
        }
        None => Ok(axum::Json(SessionStarted { token: None, user }).into_response()),
    }
}

/// The body of update-user: at least one of the two; the e-mail cannot be changed here. Each
/// field is told apart absent (unchanged) from `null` (the image: removed; the name: refused).
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct UpdateUser {
    /// At most 255 characters.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    name: Option<Option<String>>,
    /// A URL of at most 2,048 characters, or `null` to remove the image.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    image: Option<Option<String>>,
}

/// A field that is present, `null` or not (an absent one stays `None` by `default`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// Sets the user's name and image; the e-mail cannot be changed here.
#[utoipa::path(
    post, path = "/api/auth/update-user", tag = "auth",
    request_body = UpdateUser,
    responses(
        (status = 200, description = "The user is updated", body = Done, example = done),
        (status = 400, response = AuthUpdateRefused),
        (status = 401, response = AuthUnauthorized),
        (status = 403, response = AuthCrossSite),
        (status = 413, response = AuthPayloadTooLarge),
        (status = 415, response = AuthUnsupportedMediaType),
        (status = 429, response = AuthTooManyRequests),
        (status = 503, response = AuthUnavailable),
    ),
    security(("SessionCookie" = []), ("SessionBearer" = []))
)]
#[tracing::instrument(name = "update_user", skip_all)]
pub(crate) async fn update_user(
    State(state): State<AccountsState>,
    current: CurrentSession,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let user = current.user;
    let Value::Object(body) = parse_body::<Value>(body)? else {
        return Err(ApiError::new(ErrorCode::BodyMustBeAnObject));
    };
    if body.contains_key("email") {
        return Err(ApiError::new(ErrorCode::EmailCanNotBeUpdated));
    }
    let body: UpdateUser = serde_path_to_error::deserialize(Value::Object(body))
        .map_err(|error| ApiError::invalid_body_field(&error.path().to_string()))?;
    let name = match &body.name {
        None => None,
        Some(Some(name)) if valid_name(name) => Some(name.as_str()),
        Some(_) => return Err(ApiError::invalid_body_field("name")),
    };
    let image = match &body.image {
        None => None,
        Some(None) => Some(None),
        Some(Some(image)) if valid_image(image) => Some(Some(image.as_str())),
        Some(_) => return Err(ApiError::invalid_body_field("image")),
    };
    if name.is_none() && image.is_none() {
        return Err(ApiError::nothing_to_update());
    }
    match state.store.update_user(&user.id, name, image, crate::domain::accounts::now()).await? {
        Some(_) => Ok(axum::Json(Done::DONE).into_response()),
        None => Err(ApiError::new(ErrorCode::Unauthorized)),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct DeleteUser {
    /// The user's current password, to confirm.
    password: String,
}

/// Deletes the user, with its sessions and tasks, once its password is confirmed.
#[utoipa::path(
    post, path = "/api/auth/delete-user", tag = "auth",
    request_body = DeleteUser,
    responses(
        (status = 200, description = "The user, its sessions and its tasks are deleted", body = Success, example = user_deleted),
        (status = 400, response = AuthWrongPassword),
        (status = 401, response = AuthUnauthorized),
        (status = 403, response = AuthCrossSite),
        (status = 413, response = AuthPayloadTooLarge),
        (status = 415, response = AuthUnsupportedMediaType),
        (status = 429, response = AuthTooManyRequests),
        (status = 503, response = AuthUnavailable),
    ),
    security(("SessionCookie" = []), ("SessionBearer" = []))
)]
#[tracing::instrument(name = "delete_user", skip_all)]
pub(crate) async fn delete_user(
    State(state): State<AccountsState>,
    client: Option<axum::Extension<ClientAddr>>,
    current: CurrentSession,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let user = current.user;
    let body: DeleteUser = parse_body(body)?;
    check_password(&state, &user, body.password, client.as_deref()).await?;
    let owner = UserId::new(Issuer::accounts(), &user.id)
        .ok_or_else(|| ApiError::internal(&"a user id that is no task owner"))?;
    state.store.delete_user(&user.id, &owner, crate::domain::accounts::now_ms()).await?;
    state.deleted.add(&user.id);
    tracing::info!(user_id = %user.id, "user deleted with its sessions and tasks");
    Ok(clearing_cookie(&state.cookies, Success::USER_DELETED))
}

/// The user's own security events, newest first.
#[utoipa::path(
    get, path = "/api/auth/audit", tag = "auth",
    responses(
        (status = 200, description = "The user's security events, newest first (at most 100)", body = [AuditEvent]),
        (status = 401, response = AuthUnauthorized),
        (status = 429, response = AuthTooManyRequests),
        (status = 503, response = AuthUnavailable),
    ),
    security(("SessionCookie" = []), ("SessionBearer" = []))
)]
#[tracing::instrument(name = "audit", skip_all)]
pub(crate) async fn audit_events(
    State(state): State<AccountsState>,
    current: CurrentSession,
) -> Result<Response, ApiError> {
    let user = current.user;
    let events = state.store.events(&user.id, MAX_AUDIT_EVENTS).await?;
    Ok(axum::Json(events).into_response())
}
