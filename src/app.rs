//! Building and running the service: state, router, middleware stack, graceful shutdown.

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, header};
use secrecy::ExposeSecret;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::{ConfigError, Settings, TokenAlg};
use crate::domain::auth::jwks::JwksIssuer;
use crate::domain::auth::{ClaimPolicy, OwnIssuer, TokenVerifier, TrustedKey};
use crate::ground::slots::CountedBuckets;
use crate::http::accounts::AccountsState;
use crate::http::accounts::cookie::CookieJar;
use crate::http::body::MAX_BODY_BYTES;
use crate::http::edge::{EdgeConfig, EdgeLayer, RouteTable, TrustedProxies};
use crate::http::health;
use crate::http::{AppState, HttpService};
use crate::serve::{ConnectionLimits, serve};
use crate::services::inflight::InflightLimiter;
use crate::services::keys::{KeyError, Signer};
use crate::services::limits::RateLimiter;
use crate::services::password::PasswordHasher;
use crate::services::secret::SecretError;
use crate::store::{DynTaskStore, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot open the database: {0}")]
    Database(#[from] StoreError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error("cannot listen on {0}: {1}")]
    Listen(SocketAddr, std::io::Error),
    #[error("cannot serve metrics on {0}: {1}")]
    Metrics(SocketAddr, std::io::Error),
    #[error("the route templates conflict (a bug): {0}")]
    Routes(#[from] matchit::InsertError),
}

/// The token verifier the settings describe, trusting HS256 tokens of `shared_secret`. JWKS
/// issuers are fetched once here; an issuer that cannot be reached does not stop the start (its
/// tokens get 503 until it answers).
pub async fn token_verifier(
    settings: &Settings,
    shared_secret: Option<&secrecy::SecretString>,
) -> Result<TokenVerifier, ConfigError> {
    let shared_secret = shared_secret.map(|s| TrustedKey::hs256(s.expose_secret().as_bytes()));
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
    router: HttpService,
    limits: ConnectionLimits,
    proxies: TrustedProxies,
    metrics: Option<(TcpListener, DynTaskStore)>,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        settings.validate()?;
        let store_config = settings.store_config()?;
        let secret = settings.server_secret(&store_config)?;
        let listener = TcpListener::bind(settings.listen)
            .await
            .map_err(|e| StartupError::Listen(settings.listen, e))?;
        let bound = listener.local_addr().map_err(|e| StartupError::Listen(settings.listen, e))?;
        let public_url = settings.public_url_or(bound);
        let trusted_origins = settings.trusted_origins(bound)?;
        let stores = crate::store::connect(&store_config).await?;
        let store = stores.tasks.clone();
        let sessions = stores.sessions();
        crate::services::purge::keep_purging(Arc::downgrade(&sessions));
        let signer = Arc::new(
            Signer::load(&stores.keys(), &secret, public_url.clone(), settings.token_alg).await?,
        );
        Signer::keep_reloading(
            Arc::downgrade(&signer),
            Duration::from_secs(settings.keys_reload_secs),
        );
        let deleted = crate::services::deleted::DeletedUsers::load(stores.users()).await?;
        crate::services::deleted::DeletedUsers::keep_reading(Arc::downgrade(&deleted));
        let own = OwnIssuer {
            keys: signer.clone(),
            secret: (settings.token_alg == TokenAlg::Hs256)
                .then(|| TrustedKey::hs256(secret.expose_secret().as_bytes())),
            policy: ClaimPolicy {
                issuer: Some(public_url.clone()),
                audience: Some(public_url),
                leeway_seconds: settings.jwt_leeway,
            },
            sessions: settings.strict_sessions.then(|| {
                Arc::new(crate::services::strict::StrictSessions::new(sessions.clone()))
                    as Arc<dyn crate::domain::auth::LiveSessions>
            }),
            deleted: Some(deleted.clone()),
        };
        let accounts = AccountsState {
            store: stores.accounts.clone(),
            hasher: PasswordHasher::new(PasswordHasher::default_permits()),
            cookies: CookieJar::new(secret.clone(), settings.public_url_is_https()),
            signer,
            deleted,
            trusted_origins: trusted_origins.into(),
            limiter: Arc::new(RateLimiter::new(
                stores.limits(),
                settings.rate_limit == crate::config::Switch::On,
            )),
        };
        // The generated secret of a SQLite start is a shared secret like a configured one, so
        // `taskgate token` run beside the database mints tokens this service accepts.
        let verifier = token_verifier(&settings, Some(&secret)).await?.with_own_issuer(own);
        let state = AppState {
            verifier: Arc::new(verifier),
            tasks: store.clone(),
            lists: stores.lists.clone(),
            inflight: InflightLimiter::new(settings.max_inflight_per_user),
            capacity: Arc::new(Semaphore::new(settings.max_concurrency)),
        };
        let metrics = match settings.metrics_listen {
            Some(address) => Some((
                crate::http::metrics::listen(address)
                    .await
                    .map_err(|e| StartupError::Metrics(address, e))?,
                store,
            )),
            None => None,
        };
        Ok(Self {
            listener,
            router: router(state, accounts, &settings)?,
            limits: ConnectionLimits {
                header_timeout: settings.header_timeout(),
                idle_timeout: settings.idle_timeout(),
                max_connections: settings
                    .max_connections
                    .unwrap_or_else(crate::serve::default_max_connections),
                max_connections_per_address: settings.max_connections_per_address,
                shutdown_timeout: settings.shutdown_timeout(),
            },
            proxies: settings.trusted_proxies()?,
            metrics,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// Where metrics are served, when they are.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|(listener, _)| listener.local_addr().ok())
    }

    pub fn max_connections(&self) -> usize {
        self.limits.max_connections
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish for at most the
    /// configured shutdown timeout.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        if let Some((listener, store)) = self.metrics {
            tokio::spawn(crate::http::metrics::serve(listener, store));
        }
        serve(self.listener, self.router, self.limits, self.proxies, shutdown).await
    }
}

/// Headers a browser on another origin may read from our responses.
const EXPOSED_HEADERS: [&str; 7] =
    ["link", "x-total-count", "x-request-id", "location", "etag", "set-auth-jwt", "set-auth-token"];

/// The whole HTTP surface.
pub fn router(
    state: AppState,
    accounts: AccountsState,
    settings: &Settings,
) -> Result<HttpService, StartupError> {
    let edge = EdgeLayer::new(EdgeConfig {
        request_timeout: settings.request_timeout(),
        body_timeout: settings.body_timeout(),
        max_body_bytes: MAX_BODY_BYTES as u64,
        hsts: settings.public_url_is_https(),
        trusted_proxies: settings.trusted_proxies()?,
        capacity: state.capacity.clone(),
        // Bodies are at most MAX_BODY_BYTES: this bounds their memory to a few hundred MiB.
        body_readers: Arc::new(Semaphore::new(body_readers(settings.max_concurrency))),
        inflight_per_address: CountedBuckets::new(settings.max_inflight_per_address),
        routes: route_table()?,
    });
    let origins = settings.cors_origins()?;
    // Around the whole router, not as a router `layer`, which would wrap every route and cost a
    // boxed clone and a boxed future per request and level. For the same reason the edge also
    // reads and times bodies, sheds work past the concurrency limit and catches panics: tower
    // has layers for each, but each would be one more level (callgrind counted /healthz at
    // 24,957 instructions with tower's layers, 21,439 with one edge, 18,914 with the edge
    // around the router instead of on it).
    let stack = ServiceBuilder::new()
        .layer(edge)
        .option_layer((!origins.is_empty()).then(|| cors(origins)));
    // Each resource module brings its own router. The web app's (static bytes, outside the limit)
    // has the one fallback: every path no route takes gets the app's page, or, under the API, a
    // bare 404 that the edge gives the JSON body of the API the path belongs to.
    let routes = Router::new()
        .merge(health::router())
        .merge(crate::http::tasks::router())
        .merge(crate::http::lists::router())
        .merge(crate::http::openapi::router())
        .with_state(state)
        .merge(crate::http::accounts::router(accounts))
        .merge(crate::http::web::router());
    Ok(stack.service(routes))
}

/// Request bodies read at once: four per request slot, so that requests whose bodies are in
/// always find more waiting than slots, at most 64 KiB each.
pub fn body_readers(max_concurrency: usize) -> usize {
    max_concurrency.saturating_mul(4)
}

/// The templates of every route [`router`] serves: the documented API's (tasks, health,
/// `/api/auth`), the docs' and the app's assets. Other paths are the fallbacks'.
pub fn route_table() -> Result<RouteTable, matchit::InsertError> {
    let undocumented = crate::http::openapi::ROUTES.into_iter().chain(crate::http::web::ROUTES);
    RouteTable::new(
        crate::http::openapi::documented_routes().into_iter().chain(undocumented.map(String::from)),
    )
}

/// Cross-origin access for the configured origins only: never `*`, never a reflected origin.
fn cors(origins: Vec<HeaderValue>) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_credentials(true)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers(EXPOSED_HEADERS.map(HeaderName::from_static))
        .max_age(Duration::from_secs(600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_labelled_with_the_template_axum_routes_them_by() {
        let table = route_table().unwrap();
        let label = |path: &str| table.find(path).and_then(|route| table.template(route));
        // What axum's `MatchedPath` says for each (read off the router before the edge moved
        // around it); `None` is a fallback's path.
        let cases = [
            ("/api/alice/tasks", Some("/api/{user_id}/tasks")),
            ("/api/alice/tasks/0190", Some("/api/{user_id}/tasks/{id}")),
            ("/api/alice/tasks/0190/complete", Some("/api/{user_id}/tasks/{id}/complete")),
            ("/api/a%2Fb/tasks", Some("/api/{user_id}/tasks")),
            // A user named `auth` has tasks too: the task route outranks the auth fallback.
            ("/api/auth/tasks", Some("/api/{user_id}/tasks")),
            ("/api/alice/tasks/", None),
            ("/api/alice/tasks/0190/complete/x", None),
            ("/api", None),
            ("/api/alice", None),
            ("/api/auth/sign-in/email", Some("/api/auth/sign-in/email")),
            ("/api/auth/jwks", Some("/api/auth/jwks")),
            ("/api/auth/get-session", Some("/api/auth/get-session")),
            ("/api/auth", None),
            ("/api/auth/nope", None),
            ("/healthz", Some("/healthz")),
            ("/readyz", Some("/readyz")),
            ("/healthz/x", None),
            ("/openapi.json", Some("/openapi.json")),
            ("/docs", Some("/docs")),
            ("/docs/", Some("/docs/")),
            ("/docs/index.html", Some("/docs/{*rest}")),
            ("/assets/", Some("/assets/")),
            ("/assets/app.js", Some("/assets/{*file}")),
            ("/assets/x/y", Some("/assets/{*file}")),
            ("/assets", None),
            ("/", None),
            ("/tasks", None),
        ];
        for (path, expected) in cases {
            assert_eq!(label(path), expected, "{path}");
        }
    }

    #[test]
    fn every_documented_route_has_its_label() {
        let table = route_table().unwrap();
        for template in crate::http::openapi::documented_routes() {
            // A template is a path of itself (its `{name}` a segment like any other).
            let route = table.find(&template).unwrap_or_else(|| panic!("{template}"));
            assert_eq!(table.template(route), Some(template.as_str()));
        }
    }
}
