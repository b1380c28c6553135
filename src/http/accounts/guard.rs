//! What runs before every `/api/auth` handler: the per-address rate limits, the CSRF check
//! (login CSRF included) and the JSON-only body rule; and the wrong-password limits of sign-in.

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use super::*;

/// Paths whose requests check or set a password: the strict per-address limit applies.
const CREDENTIAL_PATHS: [&str; 4] =
    ["/sign-in/email", "/sign-up/email", "/change-password", "/delete-user"];

/// The per-address limits, before anything else runs. The address is the peer's, or the one a
/// trusted proxy reports (the edge decides), so a forged `X-Forwarded-For` resets nothing.
pub(super) async fn limit_rate(
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
                return ApiError::too_many_requests(limited).into_response();
            }
            Err(error) => return ApiError::from(error).into_response(),
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
pub(super) async fn check_origin(
    State(state): State<AccountsState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if let Some(refused) = cross_site_refusal(&state, &request) {
        return refused.into_response();
    }
    if crate::http::body::declares_body(request.headers()) && !is_json(request.headers()) {
        return ApiError::new(ErrorCode::UnsupportedMediaType).into_response();
    }
    next.run(request).await
}

fn cross_site_refusal(state: &AccountsState, request: &axum::extract::Request) -> Option<ApiError> {
    use axum::http::Method;
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    let headers = request.headers();
    // An origin that is not text is no origin we trust.
    let origin = headers.get(header::ORIGIN).map(|v| v.to_str().unwrap_or("null"));
    let refused = match origin {
        Some("null") => ApiError::new(ErrorCode::MissingOrNullOrigin),
        Some(origin) if !state.trusted_origins.iter().any(|trusted| trusted == origin) => {
            ApiError::new(ErrorCode::InvalidOrigin)
        }
        Some(_) => return None,
        None => {
            let site = headers.get("sec-fetch-site").map(|v| v.to_str().unwrap_or("cross-site"));
            if site.is_some_and(|site| site != "same-origin" && site != "none") {
                ApiError::new(ErrorCode::InvalidOrigin)
            } else if carries_session_cookie(&state.cookies, headers) {
                ApiError::new(ErrorCode::MissingOrNullOrigin)
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

/// `application/json`, parameters (a charset) allowed.
fn is_json(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|value| {
        value.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/json")
    })
}

/// Who is guessing a password at one account: the account's e-mail and the client's address
/// (IPv6 by /64). Wrong passwords count per account and per (account, address): an address
/// that guessed wrong 10 times in a minute waits out its minute, and once the account has 10
/// wrong passwords in a minute from anywhere, only addresses without a wrong one at it are
/// still heard. So the owner's right password from a clean address always gets through, and
/// guesses at one account are bounded by 10 a minute plus one per address a minute.
pub(super) struct Guesser {
    account: String,
    /// The pair's subject: account and address.
    pair: String,
    pub(super) address: Option<std::net::IpAddr>,
}

impl Guesser {
    pub(super) fn new(account: &str, client: Option<&ClientAddr>) -> Self {
        let address = client.map(|ClientAddr(ip)| crate::http::edge::address_key(*ip));
        let pair = match address {
            Some(address) => format!("{account} {address}"),
            None => format!("{account} -"),
        };
        Self { account: account.to_owned(), pair, address }
    }

    /// `Err` when this guesser must wait before its next password is checked.
    pub(super) async fn may_try(
        &self,
        limiter: &RateLimiter,
    ) -> Result<Result<(), Limited>, StoreError> {
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

    pub(super) async fn failed(&self, limiter: &RateLimiter) -> Result<(), StoreError> {
        limiter.record(limits::FAILURES_PER_ACCOUNT_AND_ADDRESS, &self.pair).await?;
        limiter.record(limits::FAILURES_PER_ACCOUNT, &self.account).await
    }
}
