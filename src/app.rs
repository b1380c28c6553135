//! Building and running the service: state, router, middleware stack, graceful shutdown.

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use secrecy::ExposeSecret;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore};
use tower_http::LatencyUnit;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::jwks::JwksIssuer;
use crate::auth::{ClaimPolicy, TokenVerifier, TrustedKey};
use crate::config::{ConfigError, Settings};
use crate::error::{ApiError, ErrorCode};
use crate::health;
use crate::http::MAX_BODY_BYTES;
use crate::openapi::ApiDoc;
use crate::store::sqlite::SqliteStore;
use crate::store::{DynTaskStore, StoreError};
use crate::tasks::handlers;

/// What every handler and extractor can reach.
#[derive(Clone)]
pub struct AppState {
    pub verifier: Arc<TokenVerifier>,
    pub tasks: DynTaskStore,
}

impl FromRef<AppState> for Arc<TokenVerifier> {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

impl FromRef<AppState> for DynTaskStore {
    fn from_ref(state: &AppState) -> Self {
        state.tasks.clone()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot open the database: {0}")]
    Database(#[from] StoreError),
    #[error("cannot listen on {0}: {1}")]
    Listen(SocketAddr, std::io::Error),
}

/// The token verifier the settings describe. JWKS issuers are fetched once here; an issuer that
/// cannot be reached does not stop the start (its tokens get 503 until it answers).
pub async fn token_verifier(settings: &Settings) -> Result<TokenVerifier, ConfigError> {
    let shared_secret = settings
        .better_auth_secret
        .as_ref()
        .map(|s| TrustedKey::hs256(s.expose_secret().as_bytes()));
    let policy = ClaimPolicy {
        issuer: settings.jwt_issuer.clone(),
        audience: settings.jwt_audience.clone(),
        leeway_seconds: settings.jwt_leeway,
    };
    let mut issuers = Vec::new();
    for config in settings.jwks_issuers()? {
        let issuer = JwksIssuer::new(&config, settings.jwt_leeway, settings.jwks_cooldown())
            .map_err(ConfigError::InvalidJwksUrl)?;
        let issuer = Arc::new(issuer);
        issuer.refresh().await;
        keep_refreshing(Arc::downgrade(&issuer), settings.jwks_refresh());
        issuers.push(issuer);
    }
    Ok(TokenVerifier::new(shared_secret, policy, issuers))
}

/// Refetches an issuer's keys periodically, so keys it stops publishing stop being trusted;
/// ends when the issuer is dropped.
fn keep_refreshing(issuer: Weak<JwksIssuer>, every: Duration) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            match issuer.upgrade() {
                Some(issuer) => {
                    issuer.refresh().await;
                }
                None => break,
            }
        }
    });
}

/// A built service bound to its port, ready to run.
pub struct Application {
    listener: TcpListener,
    router: Router,
    shutdown_timeout: Duration,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        settings.validate()?;
        let store = SqliteStore::open(settings.sqlite_options()?)?;
        let verifier = token_verifier(&settings).await?;
        let state = AppState { verifier: Arc::new(verifier), tasks: store };
        let listener = TcpListener::bind(settings.listen)
            .await
            .map_err(|e| StartupError::Listen(settings.listen, e))?;
        Ok(Self {
            listener,
            router: router(state, &settings),
            shutdown_timeout: settings.shutdown_timeout(),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish for at most the
    /// configured shutdown timeout.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let stopping = Arc::new(Notify::new());
        let signal = {
            let stopping = stopping.clone();
            async move {
                shutdown.await;
                tracing::info!("shutting down: finishing in-flight requests");
                stopping.notify_one();
            }
        };
        let service = self.router.into_make_service_with_connect_info::<SocketAddr>();
        let server = axum::serve(self.listener, service).with_graceful_shutdown(signal);
        let deadline = async {
            stopping.notified().await;
            tokio::time::sleep(self.shutdown_timeout).await;
        };
        tokio::select! {
            result = server => result,
            () = deadline => {
                tracing::warn!("shutdown deadline passed: dropping the requests still running");
                Ok(())
            }
        }
    }
}

/// The whole HTTP surface.
pub fn router(state: AppState, settings: &Settings) -> Router {
    let api = Router::new()
        .route("/api/{user_id}/tasks", get(handlers::list_tasks).post(handlers::create_task))
        .route(
            "/api/{user_id}/tasks/{id}",
            get(handlers::get_task).put(handlers::replace_task).delete(handlers::delete_task),
        )
        .route("/api/{user_id}/tasks/{id}/complete", patch(handlers::complete_task))
        .layer(middleware::map_response(no_store));

    let load_limit = Arc::new(Semaphore::new(settings.max_concurrency));
    Router::new()
        .merge(api)
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .merge(SwaggerUi::new("/docs").url("/openapi.json", ApiDoc::openapi()))
        .fallback(not_found)
        .with_state(state)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            settings.request_timeout(),
        ))
        .layer(middleware::from_fn_with_state(load_limit, shed_load))
        .layer(middleware::map_response(finish_response))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("a handler panicked");
            ApiError::new(ErrorCode::InternalError).into_response()
        }))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let route = request
                        .extensions()
                        .get::<MatchedPath>()
                        .map_or("<unmatched>", MatchedPath::as_str);
                    let request_id = request
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    tracing::info_span!("request", method = %request.method(), route, request_id)
                })
                .on_request(())
                .on_response(
                    DefaultOnResponse::new().level(Level::INFO).latency_unit(LatencyUnit::Micros),
                ),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

async fn not_found() -> ApiError {
    ApiError::not_found()
}

/// Responses about a user's tasks must not be kept by shared or private caches.
async fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Refuses work beyond the concurrency limit at once, instead of queueing it until it times out.
async fn shed_load(State(limit): State<Arc<Semaphore>>, request: Request, next: Next) -> Response {
    match limit.try_acquire() {
        Ok(_permit) => next.run(request).await,
        Err(_) => {
            tracing::warn!("at capacity: request shed");
            ApiError::new(ErrorCode::ServiceUnavailable).into_response()
        }
    }
}

const SECURITY_HEADERS: [(HeaderName, &str); 4] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
         frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
];

/// Adds the security headers to every response, and gives error responses made outside our
/// handlers (the router's 405, the timeout's 408, ...) the one JSON error body.
async fn finish_response(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let mut response = if (status.is_client_error() || status.is_server_error()) && !is_json {
        let (mut parts, _) = response.into_parts();
        let body = ApiError::new(ErrorCode::for_status(status)).into_response();
        let (body_parts, body) = body.into_parts();
        parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        parts.headers.remove(header::CONTENT_LENGTH);
        if let Some(retry) = body_parts.headers.get(header::RETRY_AFTER) {
            parts.headers.insert(header::RETRY_AFTER, retry.clone());
        }
        Response::from_parts(parts, body)
    } else {
        response
    };
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
