//! The accounts' extractors: the only `/api/auth` code that reads a session credential (the
//! cookie, or `Authorization: Bearer <session token>`). Naming [`CurrentSession`] in a handler's
//! signature is the whole opt-in: without a live session the answer is 401 `UNAUTHORIZED`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::AccountsState;
use crate::domain::accounts::{SESSION_LIFETIME, Session, SessionToken, User, now};
use crate::http::error::{ApiError, ErrorCode};

/// The session token the request presents, live or not (sign-out ends it either way).
pub(crate) struct PresentedToken(pub Option<SessionToken>);

/// The request's live session and its user, with the expiry slid forward when it was due
/// (`refreshed`: the answer then sets the cookie again).
pub(crate) struct CurrentSession {
    pub session: Session,
    pub user: User,
    pub token: SessionToken,
    pub refreshed: bool,
}

/// The request's live session if it has one; `presented` says whether it named a session at all
/// (get-session clears a cookie that names none that lives).
pub(crate) struct SessionIfAny {
    pub current: Option<CurrentSession>,
    pub presented: bool,
}

impl FromRequestParts<AccountsState> for PresentedToken {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AccountsState,
    ) -> Result<Self, ApiError> {
        Ok(Self(state.cookies.token_of(&parts.headers)))
    }
}

impl FromRequestParts<AccountsState> for SessionIfAny {
    type Rejection = ApiError;

    /// An expired session is deleted as it is presented.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AccountsState,
    ) -> Result<Self, ApiError> {
        let Some(token) = state.cookies.token_of(&parts.headers) else {
            return Ok(Self { current: None, presented: false });
        };
        let none = Self { current: None, presented: true };
        let hash = token.hash();
        let Some((mut session, user)) = state.store.session(&hash).await? else {
            return Ok(none);
        };
        let now = now();
        if session.expired_at(now) {
            state.store.delete_session(&hash).await?;
            return Ok(none);
        }
        let refreshed = session.due_for_refresh_at(now);
        if refreshed {
            let expires_at = now + SESSION_LIFETIME;
            if !state.store.refresh_session(&session.id, expires_at, now).await? {
                return Ok(none);
            }
            session.expires_at = expires_at;
            session.updated_at = now;
        }
        let current = CurrentSession { session, user, token, refreshed };
        Ok(Self { current: Some(current), presented: true })
    }
}

impl FromRequestParts<AccountsState> for CurrentSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AccountsState,
    ) -> Result<Self, ApiError> {
        SessionIfAny::from_request_parts(parts, state)
            .await?
            .current
            .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized))
    }
}
