//! Signing up, in and out, the current session, and the access tokens it gives.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::session::{CurrentSession, PresentedToken, SessionIfAny};
use super::user::{valid_image, valid_name};
use super::*;
use crate::http::accounts::guard::Guesser;

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct SignUp {
    /// At most 255 characters.
    name: String,
    /// Trimmed and lowercased; at most 254 bytes.
    email: String,
    /// 8 to 128 characters, and not one of the most common passwords.
    password: String,
    /// A URL of at most 2,048 characters.
    #[serde(default)]
    image: Option<String>,
}

#[utoipa::path(
    post, path = "/api/auth/sign-up/email", tag = "auth",
    request_body = SignUp,
    responses(
        (status = 200, description = "The account and its first session", body = SessionStarted, headers(
            ("set-auth-token" = String, description = "The signed session token, for `Authorization: Bearer`"),
            ("Set-Cookie" = String, description = "The session cookie, for browsers"),
        )),
        (status = 400, response = AuthSignUpRefused),
        (status = 403, response = AuthCrossSite),
        (status = 413, response = AuthPayloadTooLarge),
        (status = 415, response = AuthUnsupportedMediaType),
        (status = 422, response = AuthEmailTaken),
        (status = 429, response = AuthTooManyRequests),
        (status = 503, response = AuthUnavailable),
    )
)]
#[tracing::instrument(name = "sign_up", skip_all)]
pub(crate) async fn sign_up(
    State(state): State<AccountsState>,
    client: Option<axum::Extension<ClientAddr>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body: SignUp = parse_body(body)?;
    let email = Email::parse(&body.email).ok_or_else(|| ApiError::new(ErrorCode::InvalidEmail))?;
    let password = Password::new(body.password).map_err(ApiError::password)?;
    if !valid_name(&body.name) {
        return Err(ApiError::invalid_body_field("name"));
    }
    if body.image.as_deref().is_some_and(|image| !valid_image(image)) {
        return Err(ApiError::invalid_body_field("image"));
    }
    let hash = state.hasher.hash(&password).await?;
    let now = crate::domain::accounts::now();
    let user = User {
        id: AccountId::generate(),
        name: body.name,
        email: email.as_str().to_owned(),
        email_verified: false,
        image: body.image,
        created_at: now,
        updated_at: now,
    };
    let (ip, agent) = origin_of(&headers, client.as_deref());
    let (session, token) = Session::start(&user.id, ip, agent);
    match state.store.create_user(&user, &hash, &session).await? {
        NewUser::Created => {
            tracing::info!(user_id = %user.id, "signed up");
            audit(&state, &user.id, "sign-up", client.as_deref()).await?;
            let body = SessionStarted { token: Some(token.expose().to_owned()), user };
            Ok(with_session_cookie(&state.cookies, &token, body))
        }
        NewUser::EmailTaken => Err(ApiError::new(ErrorCode::UserAlreadyExistsUseAnotherEmail)),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct SignIn {
    email: String,
    password: String,
}

#[utoipa::path(
    post, path = "/api/auth/sign-in/email", tag = "auth",
    request_body = SignIn,
    responses(
        (status = 200, description = "A new session", body = SignedIn, headers(
            ("set-auth-token" = String, description = "The signed session token, for `Authorization: Bearer`"),
            ("Set-Cookie" = String, description = "The session cookie, for browsers"),
        )),
        (status = 400, response = AuthSignInRefused),
        (status = 401, response = AuthInvalidCredentials),
        (status = 403, response = AuthCrossSite),
        (status = 413, response = AuthPayloadTooLarge),
        (status = 415, response = AuthUnsupportedMediaType),
        (status = 429, response = AuthTooManyRequests),
        (status = 503, response = AuthUnavailable),
    )
)]
#[tracing::instrument(name = "sign_in", skip_all)]
pub(crate) async fn sign_in(
    State(state): State<AccountsState>,
    client: Option<axum::Extension<ClientAddr>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body: SignIn = parse_body(body)?;
    let email = Email::parse(&body.email).ok_or_else(|| ApiError::new(ErrorCode::InvalidEmail))?;
    let password = Password::for_sign_in(body.password).map_err(ApiError::password)?;
    let guesser = Guesser::new(email.as_str(), client.as_deref());
    if let Err(limited) = guesser.may_try(&state.limiter).await? {
        let client = guesser.address.map(tracing::field::display);
        tracing::warn!(
            rule = limited.rule,
            client,
            "rate limit hit: wrong passwords at one account"
        );
        return Err(ApiError::too_many_requests(limited));
    }
    let found = state.store.credentials(&email).await?;
    // An unknown e-mail is checked against the dummy hash: same work, same answer.
    let stored = found.as_ref().map(|(_, hash)| hash.as_str());
    let verified = state.hasher.verify(&password, stored).await?;
    let Some((user, _)) = found.as_ref().filter(|_| verified).cloned() else {
        tracing::warn!(client = guesser.address.map(tracing::field::display), "sign-in failed");
        // Counted after the answer, so an existing account answers no slower than an unknown
        // e-mail (both count).
        let (state, client) = (state.clone(), client.map(|axum::Extension(c)| c));
        tokio::spawn(async move {
            let _ = guesser.failed(&state.limiter).await;
            if let Some((user, _)) = found {
                let _ = audit(&state, &user.id, "sign-in-failed", client.as_ref()).await;
            }
        });
        return Err(ApiError::new(ErrorCode::InvalidEmailOrPassword));
    };
    let (ip, agent) = origin_of(&headers, client.as_deref());
    let (session, token) = Session::start(&user.id, ip, agent);
    state.store.create_session(&session).await?;
    tracing::info!(user_id = %user.id, "signed in");
    audit(&state, &user.id, "sign-in", client.as_deref()).await?;
    let body = SignedIn { redirect: false, token: token.expose().to_owned(), user };
    Ok(with_session_cookie(&state.cookies, &token, body))
}

#[utoipa::path(
    get, path = "/api/auth/get-session", tag = "auth",
    responses(
        (status = 200, description = "The live session and its user, or `null` without one (a cookie naming no live session is cleared)", body = Option<SessionAndUser>, headers(
            ("set-auth-jwt" = String, description = "With a live session: a 15-minute JWT for the task API"),
        )),
        (status = 429, response = AuthTooManyRequests),
        (status = 503, response = AuthUnavailable),
    ),
    security((), ("SessionCookie" = []), ("SessionBearer" = []))
)]
#[tracing::instrument(name = "get_session", skip_all)]
pub(crate) async fn get_session(
    State(state): State<AccountsState>,
    found: SessionIfAny,
) -> Result<Response, ApiError> {
    match found.current {
        Some(CurrentSession { session, user, token, refreshed }) => {
            let jwt = state
                .signer
                .mint(&user, &session, crate::ground::clock::unix_now())
                .map_err(|e| ApiError::internal(&e))?;
            let body = SessionAndUser { session: session.view(), user: &user };
            let mut response = if refreshed {
                with_session_cookie(&state.cookies, &token, body)
            } else {
                axum::Json(body).into_response()
            };
            if let Ok(jwt) = HeaderValue::from_str(&jwt) {
                response.headers_mut().insert("set-auth-jwt", jwt);
            }
            Ok(response)
        }
        // A cookie that names no live session is cleared, as Better Auth does.
        None if found.presented => Ok(clearing_cookie(&state.cookies, ())),
        None => Ok(axum::Json(()).into_response()),
    }
}

#[utoipa::path(
    post, path = "/api/auth/sign-out", tag = "auth",
    responses(
        (status = 200, description = "The session, if any, is over and the cookie cleared", body = Success, example = signed_out),
        (status = 403, response = AuthCrossSite),
        (status = 429, response = AuthTooManyRequests),
        (status = 503, response = AuthUnavailable),
    ),
    security((), ("SessionCookie" = []), ("SessionBearer" = []))
)]
#[tracing::instrument(name = "sign_out", skip_all)]
pub(crate) async fn sign_out(
    State(state): State<AccountsState>,
    client: Option<axum::Extension<ClientAddr>>,
    PresentedToken(token): PresentedToken,
) -> Result<Response, ApiError> {
    if let Some(token) = token
        && let Some((session, _)) = state.store.session(&token.hash()).await?
        && state.store.delete_session(&token.hash()).await?
    {
        tracing::info!(user_id = %session.user_id, "signed out: session revoked");
        audit(&state, &session.user_id, "sign-out", client.as_deref()).await?;
    }
    Ok(clearing_cookie(&state.cookies, Success::SIGNED_OUT))
}

/// A 15-minute access token for the task API, for the request's session.
#[utoipa::path(
    get, path = "/api/auth/token", tag = "auth",
    responses(
        (status = 200, description = "A 15-minute JWT for the task API", body = AccessToken),
        (status = 401, response = AuthUnauthorized),
        (status = 429, response = AuthTooManyRequests),
        (status = 503, response = AuthUnavailable),
    ),
    security(("SessionCookie" = []), ("SessionBearer" = []))
)]
#[tracing::instrument(name = "token", skip_all)]
pub(crate) async fn token(
    State(state): State<AccountsState>,
    current: CurrentSession,
) -> Result<Response, ApiError> {
    let CurrentSession { session, user, token, refreshed } = current;
    let jwt = state
        .signer
        .mint(&user, &session, crate::ground::clock::unix_now())
        .map_err(|e| ApiError::internal(&e))?;
    let body = AccessToken { token: jwt };
    if refreshed {
        Ok(with_session_cookie(&state.cookies, &token, body))
    } else {
        Ok(axum::Json(body).into_response())
    }
}

/// The public keys of the service's tokens.
#[utoipa::path(
    get, path = "/api/auth/jwks", tag = "auth",
    responses(
        (status = 200, description = "The public keys the access tokens are signed with", body = JwkSet),
        (status = 429, response = AuthTooManyRequests),
        (status = 503, response = AuthUnavailable),
    )
)]
pub(crate) async fn jwks(State(state): State<AccountsState>) -> axum::Json<JwkSet> {
    axum::Json(state.signer.jwks())
}
