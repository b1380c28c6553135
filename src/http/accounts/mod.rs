//! The `/api/auth` routes, with Better Auth's paths, bodies, responses and `{"code","message"}`
//! errors. This router is merged outside the task API's layers: its errors (405, 413, a body that
//! is not JSON) are its own, never the task API's error body.

pub mod cookie;
pub mod openapi;
pub mod responses;

pub use crate::http::error::AuthError;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::sync::Arc;

use crate::domain::accounts::{AuditEvent, Email, Session, SessionToken, SessionView, User};
use crate::domain::auth::{Issuer, UserId};
use crate::http::accounts::cookie::CookieJar;
use crate::http::accounts::responses::{
    AccessToken, AuthBadRequest, AuthCrossSite, AuthEmailTaken, AuthInvalidCredentials,
    AuthNewPasswordRefused, AuthPayloadTooLarge, AuthSignInRefused, AuthSignUpRefused,
    AuthTooManyRequests, AuthUnauthorized, AuthUnavailable, AuthUnsupportedMediaType,
    AuthUpdateRefused, AuthWrongPassword, CurrentSession, Done, Jwks, SessionStarted, SignedIn,
    Success, UpdateUser,
};
use crate::http::edge::ClientAddr;
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
        .fallback(|| async { AuthError::not_found() })
        .method_not_allowed_fallback(|| async { AuthError::method_not_allowed() })
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

/// Paths whose requests check or set a password: the strict per-address limit applies.
const CREDENTIAL_PATHS: [&str; 4] =
    ["/sign-in/email", "/sign-up/email", "/change-password", "/delete-user"];

/// The per-address limits, before anything else runs. The address is the peer's, or the one a
/// trusted proxy reports (the edge decides), so a forged `X-Forwarded-For` resets nothing.
async fn limit_rate(
    State(state): State<AccountsState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let Some(ClientAddr(client)) = request.extensions().get::<ClientAddr>().copied() else {
        return next.run(request).await;
    };
    // IPv6 by /64: one host holds a whole /64 and could otherwise count as 2^64 addresses.
    let client = crate::http::edge::address_key(client).to_string();
    let path = request.uri().path();
    let mut rules = vec![limits::PER_ADDRESS];
    if CREDENTIAL_PATHS.iter().any(|credential| path.ends_with(credential)) {
        rules.push(limits::CREDENTIALS_PER_ADDRESS);
    }
    for rule in rules {
        match state.limiter.check(rule, &client).await {
            Ok(Ok(())) => {}
            Ok(Err(limited)) => {
                tracing::warn!(rule = limited.rule, %client, route = path, "rate limit hit");
                return AuthError::too_many_requests(limited).into_response();
            }
            Err(error) => return AuthError::from(error).into_response(),
        }
    }
    next.run(request).await
}

/// CSRF, login CSRF included: a request that changes state is refused (403) when a browser says
/// it comes from a page of another origin, cookie or not (a cross-site form needs no cookie to
/// sign its victim into the attacker's account). Browsers say where a request comes from in
/// `Origin`, or, failing that, `Sec-Fetch-Site`; a request with the session cookie must say it.
/// Clients that are no browser (curl, Better Auth's client in Node) send neither and carry no
/// ambient credentials, so they pass. Then a body must be `application/json` (415), which no
/// HTML form can send.
async fn check_origin(
    State(state): State<AccountsState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if let Some(refused) = cross_site_refusal(&state, &request) {
        return refused.into_response();
    }
    if has_body(request.headers()) && !is_json(request.headers()) {
        return AuthError::unsupported_media_type().into_response();
    }
    next.run(request).await
}

fn cross_site_refusal(
    state: &AccountsState,
    request: &axum::extract::Request,
) -> Option<AuthError> {
    use axum::http::Method;
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    let headers = request.headers();
    // An origin that is not text is no origin we trust.
    let origin = headers.get(header::ORIGIN).map(|v| v.to_str().unwrap_or("null"));
    let refused = match origin {
        Some("null") => AuthError::missing_origin(),
        Some(origin) if !state.trusted_origins.iter().any(|trusted| trusted == origin) => {
            AuthError::invalid_origin()
        }
        Some(_) => return None,
        None => {
            let site = headers.get("sec-fetch-site").map(|v| v.to_str().unwrap_or("cross-site"));
            if site.is_some_and(|site| site != "same-origin" && site != "none") {
                AuthError::invalid_origin()
            } else if carries_session_cookie(&state.cookies, headers) {
                AuthError::missing_origin()
            } else {
                return None;
            }
        }
    };
    tracing::warn!(
        route = request.uri().path(),
        origin = origin.map(|o| tracing::field::display(crate::ground::telemetry::Untrusted(o))),
        "cross-site request refused"
    );
    Some(refused)
}

fn carries_session_cookie(cookies: &CookieJar, headers: &HeaderMap) -> bool {
    let name = cookies.name();
    headers.get_all(header::COOKIE).iter().any(|value| {
        value.to_str().is_ok_and(|value| {
            value.split(';').any(|pair| pair.trim().split('=').next() == Some(name))
        })
    })
}

/// Whether the request says a body follows.
fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
            .is_some_and(|length| length > 0)
}

/// `application/json`, parameters (a charset) allowed.
fn is_json(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|value| {
        value.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/json")
    })
}

/// A JSON body of type `T`, or Better Auth's errors: 413 past the limit, 400 `VALIDATION_ERROR`
/// naming the field otherwise. Serde's own message is not echoed: it may quote the input.
fn parse_body<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, AuthError> {
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AuthError::body_too_large()
        } else {
            AuthError::validation("")
        }
    })?;
    let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
    serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|error| AuthError::validation(&error.path().to_string()))
}

/// The response of a request that started or refreshed a session: the cookie for browsers, the
/// signed token in `set-auth-token` for everyone else.
fn with_session_cookie(cookies: &CookieJar, token: &SessionToken, body: Value) -> Response {
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

fn clearing_cookie(cookies: &CookieJar, body: Value) -> Response {
    let mut response = axum::Json(body).into_response();
    if let Ok(cookie) = HeaderValue::from_str(&cookies.clear()) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The answer of the revoke routes and update-user.
pub(crate) fn done() -> Value {
    json!({ "status": true })
}

/// The answer of sign-out.
pub(crate) fn signed_out() -> Value {
    json!({ "success": true })
}

/// The answer of delete-user.
pub(crate) fn user_deleted() -> Value {
    json!({ "success": true, "message": "User deleted" })
}

/// The most events `GET /audit` returns.
const MAX_AUDIT_EVENTS: i64 = 100;

/// Records a security event of `user_id`, from `client`.
async fn audit(
    state: &AccountsState,
    user_id: &str,
    event: &str,
    client: Option<&ClientAddr>,
) -> Result<(), AuthError> {
    let event = AuditEvent {
        event: event.to_owned(),
        ip_address: client.map(|ClientAddr(ip)| ip.to_string()),
        created_at: crate::domain::accounts::now(),
    };
    Ok(state.store.record_event(user_id, &event).await?)
}

/// A name: at most [`MAX_NAME_CHARS`], no control or bidirectional control characters (which
/// could make a name display as something else).
fn valid_name(name: &str) -> bool {
    name.chars().count() <= MAX_NAME_CHARS
        && !name.chars().any(|c| c.is_control() || crate::domain::tasks::is_bidi_control(c))
}

/// An image URL: at most [`MAX_IMAGE_CHARS`], no control characters.
fn valid_image(image: &str) -> bool {
    image.chars().count() <= MAX_IMAGE_CHARS && !image.chars().any(char::is_control)
}

/// The client address and user agent a new session records.
fn origin_of(headers: &HeaderMap, client: Option<&ClientAddr>) -> (Option<String>, Option<String>) {
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|agent| agent.chars().take(MAX_USER_AGENT_CHARS).collect());
    (client.map(|ClientAddr(ip)| ip.to_string()), agent)
}

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
) -> Result<Response, AuthError> {
    let body: SignUp = parse_body(body)?;
    let email = Email::parse(&body.email).ok_or_else(AuthError::invalid_email)?;
    let password = Password::new(body.password).map_err(AuthError::password)?;
    if !valid_name(&body.name) {
        return Err(AuthError::validation("name"));
    }
    if body.image.as_deref().is_some_and(|image| !valid_image(image)) {
        return Err(AuthError::validation("image"));
    }
    let hash = state.hasher.hash(&password).await?;
    let now = crate::domain::accounts::now();
    let user = User {
        id: crate::domain::accounts::random_id(),
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
            let body = json!({ "token": token.expose(), "user": user });
            Ok(with_session_cookie(&state.cookies, &token, body))
        }
        NewUser::EmailTaken => Err(AuthError::email_taken()),
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
) -> Result<Response, AuthError> {
    let body: SignIn = parse_body(body)?;
    let email = Email::parse(&body.email).ok_or_else(AuthError::invalid_email)?;
    let password = Password::for_sign_in(body.password).map_err(AuthError::password)?;
    let guesser = Guesser::new(email.as_str(), client.as_deref());
    if let Err(limited) = guesser.may_try(&state.limiter).await? {
        let client = guesser.address.map(tracing::field::display);
        tracing::warn!(
            rule = limited.rule,
            client,
            "rate limit hit: wrong passwords at one account"
        );
        return Err(AuthError::too_many_requests(limited));
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
        return Err(AuthError::invalid_credentials());
    };
    let (ip, agent) = origin_of(&headers, client.as_deref());
    let (session, token) = Session::start(&user.id, ip, agent);
    state.store.create_session(&session).await?;
    tracing::info!(user_id = %user.id, "signed in");
    audit(&state, &user.id, "sign-in", client.as_deref()).await?;
    let body = json!({ "redirect": false, "token": token.expose(), "user": user });
    Ok(with_session_cookie(&state.cookies, &token, body))
}

/// Who is guessing a password at one account: the account's e-mail and the client's address
/// (IPv6 by /64). Wrong passwords count per account and per (account, address): an address
/// that guessed wrong 10 times in a minute waits out its minute, and once the account has 10
/// wrong passwords in a minute from anywhere, only addresses without a wrong one at it are
/// still heard. So the owner's right password from a clean address always gets through, and
/// guesses at one account are bounded by 10 a minute plus one per address a minute.
struct Guesser {
    account: String,
    /// The pair's subject: account and address.
    pair: String,
    address: Option<std::net::IpAddr>,
}

impl Guesser {
    fn new(account: &str, client: Option<&ClientAddr>) -> Self {
        let address = client.map(|ClientAddr(ip)| crate::http::edge::address_key(*ip));
        let pair = match address {
            Some(address) => format!("{account} {address}"),
            None => format!("{account} -"),
        };
        Self { account: account.to_owned(), pair, address }
    }

    /// `Err` when this guesser must wait before its next password is checked.
    async fn may_try(&self, limiter: &RateLimiter) -> Result<Result<(), Limited>, StoreError> {
        let Some(here) =
            limiter.count(limits::FAILURES_PER_ACCOUNT_AND_ADDRESS, &self.pair).await?
        else {
            return Ok(Ok(()));
        };
        if here.full {
            return Ok(Err(here.limited));
        }
        if here.count > 0
            && let Some(anywhere) =
                limiter.count(limits::FAILURES_PER_ACCOUNT, &self.account).await?
            && anywhere.full
        {
            // Free again when either window ends: this address's, or the account's.
            let retry_after_secs =
                here.limited.retry_after_secs.min(anywhere.limited.retry_after_secs);
            return Ok(Err(Limited { rule: anywhere.limited.rule, retry_after_secs }));
        }
        Ok(Ok(()))
    }

    async fn failed(&self, limiter: &RateLimiter) -> Result<(), StoreError> {
        limiter.record(limits::FAILURES_PER_ACCOUNT_AND_ADDRESS, &self.pair).await?;
        limiter.record(limits::FAILURES_PER_ACCOUNT, &self.account).await
    }
}

/// The request's live session and its user, refreshing the expiry when it is due. `Ok(None)`
/// without a valid session; an expired one is deleted.
async fn current_session(
    state: &AccountsState,
    headers: &HeaderMap,
) -> Result<Option<(Session, User, SessionToken, bool)>, AuthError> {
    let Some(token) = state.cookies.token_of(headers) else {
        return Ok(None);
    };
    let hash = token.hash();
    let Some((mut session, user)) = state.store.session(&hash).await? else {
        return Ok(None);
    };
    let now = crate::domain::accounts::now();
    if session.expired_at(now) {
        state.store.delete_session(&hash).await?;
        return Ok(None);
    }
    let refreshed = session.due_for_refresh_at(now);
    if refreshed {
        let expires_at = now + crate::domain::accounts::SESSION_LIFETIME;
        if !state.store.refresh_session(&session.id, expires_at, now).await? {
            return Ok(None);
        }
        session.expires_at = expires_at;
        session.updated_at = now;
    }
    Ok(Some((session, user, token, refreshed)))
}

#[utoipa::path(
    get, path = "/api/auth/get-session", tag = "auth",
    responses(
        (status = 200, description = "The live session and its user, or `null` without one (a cookie naming no live session is cleared)", body = Option<CurrentSession>, headers(
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
    headers: HeaderMap,
) -> Result<Response, AuthError> {
    let presented = state.cookies.token_of(&headers).is_some();
    match current_session(&state, &headers).await? {
        Some((session, user, token, refreshed)) => {
            let jwt = state
                .signer
                .mint(&user, &session, crate::ground::clock::unix_now())
                .map_err(|e| AuthError::internal(&e))?;
            let body = json!({ "session": session.view(), "user": user });
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
        None if presented => Ok(clearing_cookie(&state.cookies, Value::Null)),
        None => Ok(axum::Json(Value::Null).into_response()),
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
    headers: HeaderMap,
) -> Result<Response, AuthError> {
    if let Some(token) = state.cookies.token_of(&headers)
        && let Some((session, _)) = state.store.session(&token.hash()).await?
        && state.store.delete_session(&token.hash()).await?
    {
        tracing::info!(user_id = %session.user_id, "signed out: session revoked");
        audit(&state, &session.user_id, "sign-out", client.as_deref()).await?;
    }
    Ok(clearing_cookie(&state.cookies, signed_out()))
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
    headers: HeaderMap,
) -> Result<Response, AuthError> {
    let (session, user, token, refreshed) =
        current_session(&state, &headers).await?.ok_or_else(AuthError::unauthorized)?;
    let jwt = state
        .signer
        .mint(&user, &session, crate::ground::clock::unix_now())
        .map_err(|e| AuthError::internal(&e))?;
    let body = json!({ "token": jwt });
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
        (status = 200, description = "The public keys the access tokens are signed with", body = Jwks),
        (status = 429, response = AuthTooManyRequests),
        (status = 503, response = AuthUnavailable),
    )
)]
pub(crate) async fn jwks(State(state): State<AccountsState>) -> Response {
    axum::Json(state.signer.jwks()).into_response()
}

/// The request's live session, or 401 `UNAUTHORIZED`.
async fn require_session(
    state: &AccountsState,
    headers: &HeaderMap,
) -> Result<(Session, User), AuthError> {
    let (session, user, _, _) =
        current_session(state, headers).await?.ok_or_else(AuthError::unauthorized)?;
    Ok((session, user))
}

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
    headers: HeaderMap,
) -> Result<Response, AuthError> {
    let (_, user) = require_session(&state, &headers).await?;
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
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AuthError> {
    let (session, user) = require_session(&state, &headers).await?;
    let body: RevokeSession = parse_body(body)?;
    if state.store.delete_user_session(&user.id, &body.token).await? {
        tracing::info!(user_id = %user.id, "session revoked");
        audit(&state, &user.id, "session-revoked", client.as_deref()).await?;
    }
    let status = done();
    if body.token == session.id {
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
    headers: HeaderMap,
) -> Result<Response, AuthError> {
    let (_, user) = require_session(&state, &headers).await?;
    let ended = state.store.delete_user_sessions(&user.id, None).await?;
    tracing::info!(user_id = %user.id, ended, "all sessions revoked");
    audit(&state, &user.id, "sessions-revoked", client.as_deref()).await?;
    Ok(clearing_cookie(&state.cookies, done()))
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
    headers: HeaderMap,
) -> Result<Response, AuthError> {
    let (session, user) = require_session(&state, &headers).await?;
    let ended = state.store.delete_user_sessions(&user.id, Some(&session.id)).await?;
    tracing::info!(user_id = %user.id, ended, "other sessions revoked");
    audit(&state, &user.id, "other-sessions-revoked", client.as_deref()).await?;
    Ok(axum::Json(done()).into_response())
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
) -> Result<(), AuthError> {
    let password = Password::for_sign_in(password).map_err(AuthError::password)?;
    let rule = limits::PASSWORD_CHECKS_PER_ACCOUNT;
    if let Some(counted) = state.limiter.count(rule, &user.id).await?
        && counted.full
    {
        tracing::warn!(user_id = %user.id, "rate limit hit: wrong current passwords");
        return Err(AuthError::too_many_requests(counted.limited));
    }
    let stored = state.store.password_hash(&user.id).await?.ok_or_else(|| {
        AuthError::bad_request("CREDENTIAL_ACCOUNT_NOT_FOUND", "Credential account not found")
    })?;
    if state.hasher.verify(&password, Some(&stored)).await? {
        Ok(())
    } else {
        tracing::warn!(user_id = %user.id, "wrong current password");
        state.limiter.record(rule, &user.id).await?;
        audit(state, &user.id, "wrong-password", client).await?;
        Err(AuthError::invalid_password())
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
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AuthError> {
    let (_, user) = require_session(&state, &headers).await?;
    let body: ChangePassword = parse_body(body)?;
    let new_password = Password::new(body.new_password).map_err(AuthError::password)?;
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
        return Err(AuthError::unauthorized());
    }
    let revoked_others = body.revoke_other_sessions;
    tracing::info!(user_id = %user.id, revoked_others, "password changed");
    audit(&state, &user.id, "password-changed", client.as_deref()).await?;
    match replacement {
        Some((_, token)) => {
            let body = json!({ "token": token.expose(), "user": user });
            Ok(with_session_cookie(&state.cookies, &token, body))
        }
        None => Ok(axum::Json(json!({ "token": null, "user": user })).into_response()),
    }
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
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AuthError> {
    let (_, user) = require_session(&state, &headers).await?;
    let Value::Object(body) = parse_body::<Value>(body)? else {
        return Err(AuthError::bad_request("BODY_MUST_BE_AN_OBJECT", "Body must be an object"));
    };
    if body.contains_key("email") {
        return Err(AuthError::email_cannot_be_updated());
    }
    let name = match body.get("name") {
        None => None,
        Some(Value::String(name)) if valid_name(name) => Some(name.as_str()),
        Some(_) => return Err(AuthError::validation("name")),
    };
    let image = match body.get("image") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(image)) if valid_image(image) => Some(Some(image.as_str())),
        Some(_) => return Err(AuthError::validation("image")),
    };
    if name.is_none() && image.is_none() {
        return Err(AuthError::bad_request("BAD_REQUEST", "No fields to update"));
    }
    match state.store.update_user(&user.id, name, image, crate::domain::accounts::now()).await? {
        Some(_) => Ok(axum::Json(done()).into_response()),
        None => Err(AuthError::unauthorized()),
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
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AuthError> {
    let (_, user) = require_session(&state, &headers).await?;
    let body: DeleteUser = parse_body(body)?;
    check_password(&state, &user, body.password, client.as_deref()).await?;
    let owner = UserId::new(Issuer::accounts(), &user.id)
        .ok_or_else(|| AuthError::internal(&"a user id that is no task owner"))?;
    state.store.delete_user(&user.id, &owner, crate::domain::accounts::now_ms()).await?;
    state.deleted.add(&user.id);
    tracing::info!(user_id = %user.id, "user deleted with its sessions and tasks");
    Ok(clearing_cookie(&state.cookies, user_deleted()))
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
    headers: HeaderMap,
) -> Result<Response, AuthError> {
    let (_, user) = require_session(&state, &headers).await?;
    let events = state.store.events(&user.id, MAX_AUDIT_EVENTS).await?;
    Ok(axum::Json(events).into_response())
}
