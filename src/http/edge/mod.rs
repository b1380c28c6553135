//! The request edge: one layer for what every request and response needs, kept in one place so
//! it costs one future per request. It names the request (`X-Request-Id`), finds the client's
//! address, bounds the request's time without ever dropping a write that began (see
//! [`crate::ground::fence`]), gives every error the body of its surface (the API's JSON, the app's plain
//! text), adds the security headers and CSP, and writes the access log line and the request metrics.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Version, header};
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;
use std::net::IpAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::futures::TaskLocalFuture;
use tokio::time::Sleep;
use tower::{Layer, Service};

use crate::ground::fence::WriteFence;
use crate::ground::slots::{BucketSlot, CountedBuckets};
use crate::http::body::{declared_length, declares_body};
use crate::http::error::{ApiError, ErrorCode};

mod admission;
mod client;
mod routes;

use admission::{
    PER_ADDRESS_REFUSALS, Reading, has_one_host, read_whole, shed, take_capacity, take_capacity_of,
};

pub(crate) use client::canonical;
pub use client::{ClientAddr, TrustedProxies, address_key};
pub use routes::{RouteTable, Surface};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// Longest client-chosen request id kept; longer (or non-visible-ASCII) ones are replaced.
const MAX_REQUEST_ID_LEN: usize = 128;

// Header values are constants, so they are checked once, at compile time.
const SECURITY_HEADERS: [(HeaderName, HeaderValue); 3] = [
    (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
    (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
];
/// JSON needs nothing from a browser (OWASP's policy for APIs); only the docs page loads assets.
const API_CSP: HeaderValue = HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'");
const DOCS_CSP: HeaderValue = HeaderValue::from_static(
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
);
/// The app's pages: only this origin's scripts, styles and images; no inline script, no eval.
const PAGE_CSP: HeaderValue = HeaderValue::from_static(
    "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; manifest-src 'self'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
);
const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");
const HSTS: HeaderValue = HeaderValue::from_static("max-age=31536000; includeSubDomains");

/// A `200 application/json` response whose header map already has room for what the edge adds
/// (security headers, CSP, request id, cache control) and a few headers of the handler's, so the
/// hot paths do not grow and rehash it on the way out.
pub fn json_response(body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    let mut headers = HeaderMap::with_capacity(12);
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    *response.headers_mut() = headers;
    response
}

#[derive(Debug, Clone)]
pub struct EdgeConfig {
    pub request_timeout: Duration,
    /// Bodies arrive within this, or the request is a 408.
    pub body_timeout: Duration,
    /// Bodies declared larger are a 413 before they are read.
    pub max_body_bytes: u64,
    /// Send `Strict-Transport-Security` (the public URL is https).
    pub hsts: bool,
    pub trusted_proxies: TrustedProxies,
    /// Requests served at once beyond health checks and the app's files; more are refused at
    /// once (503) rather than queued until they time out. One pool for the task and auth APIs.
    /// A request takes its slot only once its body is in.
    pub capacity: Arc<Semaphore>,
    /// Request bodies being read at once (each at most `max_body_bytes`); more are a 503. Kept
    /// apart from `capacity`, so slow senders cannot take the slots of requests ready to run.
    pub body_readers: Arc<Semaphore>,
    /// Requests in flight per client address (IPv6 by /64), across all its connections and
    /// HTTP/2 streams, bodies being read included; more are a 429. Trusted proxies are exempt.
    pub inflight_per_address: Arc<CountedBuckets<IpAddr>>,
    /// The router's route templates, to name each request's route.
    pub routes: RouteTable,
}

#[derive(Clone)]
pub struct EdgeLayer(Arc<EdgeConfig>);

impl EdgeLayer {
    pub fn new(config: EdgeConfig) -> Self {
        Self(Arc::new(config))
    }
}

impl<S> Layer<S> for EdgeLayer {
    type Service = Edge<S>;

    fn layer(&self, inner: S) -> Edge<S> {
        Edge { inner, config: self.0.clone() }
    }
}

#[derive(Clone)]
pub struct Edge<S> {
    inner: S,
    config: Arc<EdgeConfig>,
}

impl<S> Service<Request> for Edge<S>
where
    S: Service<Request, Error = Infallible> + Clone + Send + 'static,
    S::Response: IntoResponse + Send,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = EdgeFuture<S, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let started = Instant::now();
        let request_id = request_id(request.headers_mut());
        let mut client = None;
        if let Some(&ClientAddr(peer)) = request.extensions().get::<ClientAddr>() {
            let resolved = self.config.trusted_proxies.client(peer, request.headers());
            if resolved != peer {
                request.extensions_mut().insert(ClientAddr(resolved));
            }
            client = Some(resolved);
        }
        let method = request.method().clone();
        let http1 = request.version() < Version::HTTP_2;
        let route = self.config.routes.find(request.uri().path());
        let cross_origin = request.headers().contains_key(header::ORIGIN);
        let surface = Surface::of(request.uri().path());
        let preflight = cross_origin
            && method == Method::OPTIONS
            && request.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
        // Bodies: a declared size over the limit is refused before anything reads it (so no
        // `100 Continue` is sent); any other body is read whole before the request takes a slot
        // (below). Requests without one (most) go straight on.
        let declared = declared_length(request.headers());
        let has_body = declares_body(request.headers());
        let mut address_slot = None;
        let mut refusal = if !has_one_host(&request) {
            Some(StatusCode::BAD_REQUEST)
        } else if declared.is_some_and(|length| length > self.config.max_body_bytes) {
            Some(StatusCode::PAYLOAD_TOO_LARGE)
        } else {
            None
        };
        // Health checks are never refused: a load balancer must always learn the truth.
        if refusal.is_none()
            && surface != Surface::Health
            && let Some(client) = client.filter(|&c| !self.config.trusted_proxies.trusts(c))
        {
            address_slot = self.config.inflight_per_address.try_acquire(&address_key(client));
            if address_slot.is_none() {
                if let Some(count) = PER_ADDRESS_REFUSALS.tick() {
                    tracing::warn!(
                        client = %address_key(client),
                        count,
                        "requests in flight per address at their cap: refused"
                    );
                }
                refusal = Some(StatusCode::TOO_MANY_REQUESTS);
            }
        }
        let fence = WriteFence::new();
        let mut capacity = None;
        let mut answer = None;
        let mut reading = None;
        if refusal.is_none() {
            if has_body {
                match self.config.body_readers.clone().try_acquire_owned() {
                    Ok(reader) => {
                        // The service `poll_ready` made ready goes with the request; a clone stays.
                        let service = self.inner.clone();
                        let service = std::mem::replace(&mut self.inner, service);
                        let (parts, body) = request.into_parts();
                        let read = read_whole(body, &self.config, reader);
                        reading = Some(Box::new(Reading { read: Box::pin(read), parts, service }));
                    }
                    Err(_) => refusal = Some(shed("bodies being read at their cap")),
                }
            } else {
                match take_capacity(&self.config, surface) {
                    // Its future owns what it needs, so no clone of the service is kept.
                    Ok(permit) => {
                        capacity = permit;
                        answer = Some(fence.clone().scope(self.inner.call(request)));
                    }
                    Err(status) => refusal = Some(status),
                }
            }
        }
        EdgeFuture {
            answer,
            reading,
            refusal: refusal.unwrap_or(StatusCode::PAYLOAD_TOO_LARGE),
            // A body left unread on an HTTP/1 connection cannot be skipped to the next request.
            close: refusal.is_some() && has_body && http1,
            http1: http1 && has_body,
            deadline: None,
            fence,
            _capacity: capacity,
            _address_slot: address_slot,
            request: Some(RequestFacts {
                started,
                request_id,
                method,
                route,
                cross_origin,
                preflight,
                surface,
                config: self.config.clone(),
            }),
        }
    }
}

/// What the edge keeps of a request to finish its response and log it.
struct RequestFacts {
    started: Instant,
    request_id: HeaderValue,
    method: Method,
    /// In the config's route table.
    route: Option<usize>,
    cross_origin: bool,
    preflight: bool,
    surface: Surface,
    config: Arc<EdgeConfig>,
}

pin_project_lite::pin_project! {
    /// The edge's future: the body read first (when there is one), then the answer (run with
    /// the request's write fence as the current one), the request timeout (started only when
    /// the answer is not ready at once), and a panic in the answer turned into a 500. A named
    /// type rather than an `async` block, so each request carries its answer once, not once per
    /// state.
    pub struct EdgeFuture<S, F> {
        #[pin]
        answer: Option<TaskLocalFuture<Arc<WriteFence>, F>>,
        // The request while its body arrives.
        // Boxed: most requests have no body, and the future of each stays small.
        reading: Option<Box<Reading<S>>>,
        // Why there is no answer, when there is none.
        refusal: StatusCode,
        // Answer with `Connection: close`: a body was left unread on an HTTP/1 connection.
        close: bool,
        // The request is HTTP/1 and has a body.
        http1: bool,
        #[pin]
        deadline: Option<Sleep>,
        fence: Arc<WriteFence>,
        // Held until the answer is ready.
        _capacity: Option<OwnedSemaphorePermit>,
        _address_slot: Option<BucketSlot>,
        request: Option<RequestFacts>,
    }
}

impl<S, R> Future for EdgeFuture<S, S::Future>
where
    S: Service<Request, Response = R, Error = Infallible>,
    R: IntoResponse,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Some(reading) = this.reading.as_mut() {
            let read = match reading.read.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(read) => read,
            };
            if let Some(reading) = this.reading.take() {
                let Reading { parts, mut service, .. } = *reading;
                let surface = this.request.as_ref().map_or(Surface::App, |facts| facts.surface);
                match read.and_then(|bytes| Ok((bytes, take_capacity_of(this.request, surface)?))) {
                    Ok((bytes, permit)) => {
                        *this._capacity = permit;
                        let request = Request::from_parts(parts, Body::from(bytes));
                        this.answer.set(Some(this.fence.clone().scope(service.call(request))));
                    }
                    Err(status) => {
                        *this.refusal = status;
                        // Only a body that was not read whole leaves bytes on the connection.
                        *this.close = *this.http1 && status != StatusCode::SERVICE_UNAVAILABLE;
                    }
                }
            }
        }
        let response = match this.answer.as_mut().as_pin_mut() {
            // Refused before it was read (bare: `finish` gives it its surface's body).
            None => this.refusal.into_response(),
            Some(answer) => match catch_unwind(AssertUnwindSafe(|| answer.poll(cx))) {
                Ok(Poll::Ready(Ok(response))) => response.into_response(),
                Ok(Poll::Ready(Err(never))) => match never {},
                Ok(Poll::Pending) => {
                    // Most answers are ready at once: only the others start a timer.
                    if this.deadline.is_none()
                        && let Some(facts) = this.request.as_ref()
                    {
                        this.deadline.set(Some(tokio::time::sleep(facts.config.request_timeout)));
                    }
                    let expired = this
                        .deadline
                        .as_mut()
                        .as_pin_mut()
                        .is_some_and(|deadline| deadline.poll(cx).is_ready());
                    // A request whose write began is waited for, so its client learns the
                    // outcome; any other is given up (bare: `finish` gives the 408 its body).
                    if !(expired && this.fence.abandon()) {
                        return Poll::Pending;
                    }
                    this.answer.set(None);
                    StatusCode::REQUEST_TIMEOUT.into_response()
                }
                Err(_) => {
                    tracing::error!("a handler panicked");
                    this.answer.set(None);
                    ApiError::new(ErrorCode::InternalError).into_response()
                }
            },
        };
        let mut response = match this.request.take() {
            Some(facts) => facts.respond(response),
            None => response,
        };
        if *this.close {
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        Poll::Ready(Ok(response))
    }
}

impl RequestFacts {
    /// Gives the response its surface's error body and the headers every response carries,
    /// and writes the access log line and the request metrics.
    fn respond(self, response: Response) -> Response {
        let mut response = finish(response, &self.config, self.preflight, self.surface);
        let route = self.route.and_then(|route| self.config.routes.template(route));
        if route.is_some_and(|route| route.starts_with("/api/")) {
            // Responses about a user's tasks must not be kept by shared or private caches.
            response.headers_mut().insert(header::CACHE_CONTROL, NO_STORE);
        }
        if self.cross_origin {
            strip_cors_unless_allowed(response.headers_mut());
        }
        let status = response.status();
        let elapsed = self.started.elapsed();
        // Paths no route took are labelled by kind, never by the path (no user ids in labels):
        // the app's pages (its one fallback) apart from everything else.
        let route = route.unwrap_or(match self.surface {
            Surface::App => "<app>",
            _ => "<unmatched>",
        });
        crate::ground::telemetry::access(crate::ground::telemetry::Access {
            method: self.method.as_str(),
            route,
            status: status.as_u16(),
            latency_us: elapsed.as_micros() as u64,
            request_id: self.request_id.to_str().unwrap_or("-"),
        });
        crate::ground::metrics::request(&self.method, route, status, elapsed.as_secs_f64());
        response.headers_mut().insert(REQUEST_ID, self.request_id);
        response
    }
}

/// The client's `X-Request-Id` when it is short visible ASCII, else a fresh UUID (also put on the
/// request, so handlers and logs see the one that will be answered).
fn request_id(headers: &mut HeaderMap) -> HeaderValue {
    let given = headers.get(&REQUEST_ID).filter(|value| {
        let bytes = value.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= MAX_REQUEST_ID_LEN
            && bytes.iter().all(|b| (0x21..=0x7e).contains(b))
    });
    if let Some(given) = given {
        return given.clone();
    }
    let mut buffer = uuid::Uuid::encode_buffer();
    let fresh = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buffer);
    let fresh = HeaderValue::from_str(fresh).unwrap_or(HeaderValue::from_static("-"));
    headers.insert(REQUEST_ID, fresh.clone());
    fresh
}

/// Gives error responses made outside our handlers (the router's 405, the body limit's 413, ...)
/// the error body of their surface, and adds the headers every response carries.
fn finish(response: Response, config: &EdgeConfig, preflight: bool, surface: Surface) -> Response {
    let status = response.status();
    let failed = status.is_client_error() || status.is_server_error();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let mut response = if failed && surface == Surface::App {
        plain_error(response, is_json)
    } else if failed
        && surface == Surface::Auth
        && response.extensions().get::<ApiError>().is_some()
    {
        // Our own error, answered in Better Auth's convention under `/api/auth`.
        let (mut parts, _) = response.into_parts();
        match parts.extensions.remove::<ApiError>() {
            Some(error) => answer_instead(parts, error.auth_response(), false),
            None => Response::from_parts(parts, Body::empty()),
        }
    } else if failed && !is_json {
        // A bare status (the router's, the edge's own): the code that stands for it, in the
        // surface's convention, the status kept.
        let (parts, _) = response.into_parts();
        let answer = match surface {
            Surface::Auth => ApiError::for_auth_status(status).auth_response(),
            _ => ApiError::new(ErrorCode::for_status(status)).into_response(),
        };
        answer_instead(parts, answer, true)
    } else {
        response
    };
    // A successful CORS preflight has nothing to say beyond its headers.
    if preflight && status == StatusCode::OK {
        *response.status_mut() = StatusCode::NO_CONTENT;
    }
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, value);
    }
    let csp = match surface {
        Surface::App => PAGE_CSP,
        Surface::Docs => DOCS_CSP,
        Surface::TaskApi | Surface::Health | Surface::Auth => API_CSP,
    };
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    if config.hsts {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    response
}

/// `answer` in place of the response that `parts` began: its body and the headers that describe
/// it, with every other header of `parts`, and the status of `parts` when `keep_status`.
fn answer_instead(
    parts: axum::http::response::Parts,
    mut answer: Response,
    keep_status: bool,
) -> Response {
    let kept: Vec<_> = parts
        .headers
        .iter()
        .filter(|(name, _)| {
            !REPLACED_BY_THE_ERROR.contains(name) && !answer.headers().contains_key(*name)
        })
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    for (name, value) in kept {
        answer.headers_mut().append(name, value);
    }
    if keep_status {
        *answer.status_mut() = parts.status;
    }
    answer
}

/// What an error's answer in another convention replaces of the first answer's headers.
const REPLACED_BY_THE_ERROR: [HeaderName; 4] =
    [header::CONTENT_TYPE, header::CONTENT_LENGTH, header::RETRY_AFTER, header::WWW_AUTHENTICATE];

/// The app's errors made outside its handlers (the edge's 408 and 413, the router's 405, a
/// panic's JSON) get a short plain-text body; the app's own text or HTML is kept.
fn plain_error(response: Response, is_json: bool) -> Response {
    if response.headers().contains_key(header::CONTENT_TYPE) && !is_json {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let reason = parts.status.canonical_reason().unwrap_or("Error");
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(reason))
}

/// tower-http's CORS layer describes its policy (methods, headers, max age) to any origin; an
/// origin that is not allowed learns nothing, not even that policy.
fn strip_cors_unless_allowed(headers: &mut HeaderMap) {
    if headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
        return;
    }
    let names: Vec<HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("access-control-"))
        .cloned()
        .collect();
    for name in names {
        headers.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge_around<F, R>(
        answer: F,
    ) -> Edge<impl Service<Request, Error = Infallible, Response = R, Future: Send> + Clone>
    where
        F: Fn() -> R + Clone + Send + 'static,
        R: IntoResponse + Send + 'static,
    {
        let config = EdgeConfig {
            request_timeout: Duration::from_secs(5),
            body_timeout: Duration::from_secs(5),
            max_body_bytes: 1024,
            hsts: false,
            trusted_proxies: TrustedProxies::default(),
            capacity: Arc::new(Semaphore::new(8)),
            body_readers: Arc::new(Semaphore::new(8)),
            inflight_per_address: CountedBuckets::new(8),
            routes: RouteTable::default(),
        };
        EdgeLayer::new(config).layer(tower::service_fn(move |_: Request| {
            let answer = answer.clone();
            async move { Ok::<_, Infallible>(answer()) }
        }))
    }

    async fn body_of(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn a_panicking_handler_is_a_500_in_its_surfaces_convention() {
        use tower::ServiceExt;
        let panics = || -> Response { panic!("a bug") };
        let api =
            Request::get("/api/u/tasks").header(header::HOST, "x").body(Body::empty()).unwrap();
        let response = edge_around(panics).oneshot(api).await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(response.headers().contains_key(REQUEST_ID));
        assert!(body_of(response).await.contains("INTERNAL_ERROR"));
        let page = Request::get("/tasks").header(header::HOST, "x").body(Body::empty()).unwrap();
        let response = edge_around(panics).oneshot(page).await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "text/plain; charset=utf-8");
    }

    #[tokio::test]
    async fn a_declared_body_over_the_limit_is_refused_before_the_handler_runs() {
        use tower::ServiceExt;
        let reached = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen = reached.clone();
        let service = edge_around(move || {
            seen.store(true, std::sync::atomic::Ordering::SeqCst);
            StatusCode::OK
        });
        let request = Request::post("/api/u/tasks")
            .header(header::HOST, "x")
            .header(header::CONTENT_LENGTH, "4096")
            .body(Body::empty())
            .unwrap();
        let response = service.oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(!reached.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[test]
    fn request_ids_are_kept_only_when_short_visible_ascii() {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID, HeaderValue::from_static("abc-123"));
        assert_eq!(request_id(&mut headers), "abc-123");
        for bad in ["", "has space", &"x".repeat(129)] {
            let mut headers = HeaderMap::new();
            headers.insert(REQUEST_ID, HeaderValue::from_str(bad).unwrap());
            let id = request_id(&mut headers);
            assert_ne!(id, bad);
            assert_eq!(id.len(), 36, "a fresh UUID");
            assert_eq!(headers.get(REQUEST_ID), Some(&id));
        }
    }
}
