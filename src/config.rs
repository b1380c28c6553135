//! One `Settings` value, read from flags and environment (and `.env`), validated once at start.

use axum::http::HeaderValue;
use clap::{Args, ValueEnum};
use secrecy::{ExposeSecret, SecretString};
use std::net::SocketAddr;
use std::time::Duration;

use crate::domain::auth::MAX_LEEWAY_SECONDS;
use crate::domain::auth::jwks::JwksIssuerConfig;
use crate::http::edge::TrustedProxies;
use crate::store::postgres::PgOptions;
use crate::store::sqlite::{SqliteOptions, Synchronous};
use crate::store::{Backend, StoreConfig};

pub use crate::services::secret::MIN_SECRET_BYTES;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    On,
    Off,
}

pub use crate::ground::redact::redacted_url;
pub use crate::ground::telemetry::LogFormat;
pub use crate::services::keys::TokenAlg;

/// Everything `taskgate serve` can be told. Each flag also reads the environment variable named.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address and port to listen on.
    #[arg(long, env = "TASKGATE_LISTEN", default_value = "127.0.0.1:8080", global = true)]
    pub listen: SocketAddr,

    /// Database URL: `sqlite://path` (created with its folder when missing) or
    /// `postgres://user@host:5432/db`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/taskgate.db", global = true)]
    pub database_url: String,

    /// Shared HS256 secret of a Better Auth deployment (at least 32 bytes).
    #[arg(long, env = "BETTER_AUTH_SECRET", hide_env_values = true, global = true)]
    pub better_auth_secret: Option<SecretString>,

    /// When set, tokens must carry exactly this `iss`.
    #[arg(long, env = "TASKGATE_JWT_ISSUER", global = true)]
    pub jwt_issuer: Option<String>,

    /// When set, tokens must name this audience in `aud`.
    #[arg(long, env = "TASKGATE_JWT_AUDIENCE", global = true)]
    pub jwt_audience: Option<String>,

    /// JWKS URL of one issuer whose tokens are trusted (for Better Auth: `<base URL>/api/auth/jwks`).
    /// Needs TASKGATE_JWT_ISSUER and TASKGATE_JWT_AUDIENCE.
    #[arg(long, env = "TASKGATE_JWKS_URL", global = true)]
    pub jwks_url: Option<String>,

    /// Several JWKS issuers, as JSON: `[{"jwks_url": "...", "issuer": "...", "audience": "..."}]`.
    #[arg(long, env = "TASKGATE_JWKS_ISSUERS", global = true)]
    pub jwks_issuers: Option<String>,

    /// Least seconds between two JWKS refetches caused by tokens with an unknown `kid`.
    #[arg(long, env = "TASKGATE_JWKS_COOLDOWN", default_value_t = 60, global = true)]
    pub jwks_cooldown_secs: u64,

    /// Seconds between periodic JWKS refreshes (so removed keys stop being trusted).
    #[arg(long, env = "TASKGATE_JWKS_REFRESH", default_value_t = 300, global = true)]
    pub jwks_refresh_secs: u64,

    /// Clock-skew allowance for `exp`, `nbf` and `iat`, in seconds (0 to 60).
    #[arg(long, env = "TASKGATE_JWT_LEEWAY", default_value_t = 0, global = true)]
    pub jwt_leeway: u64,

    /// SQLite durability: `full` survives power loss, `normal` may lose the latest commits.
    #[arg(
        long,
        env = "TASKGATE_SQLITE_SYNCHRONOUS",
        value_enum,
        default_value = "full",
        global = true
    )]
    pub sqlite_synchronous: Synchronous,

    /// How long a database call waits for a lock before the request fails with 503, in ms.
    #[arg(long, env = "TASKGATE_DB_BUSY_TIMEOUT_MS", default_value_t = 2000, global = true)]
    pub db_busy_timeout_ms: u64,

    /// PostgreSQL: connections in the pool at most.
    #[arg(long, env = "TASKGATE_DB_MAX_CONNECTIONS", default_value_t = 16, global = true)]
    pub db_max_connections: usize,

    /// PostgreSQL: how long a request may wait for a connection (pool wait and connect), in ms;
    /// then 503.
    #[arg(long, env = "TASKGATE_DB_ACQUIRE_TIMEOUT_MS", default_value_t = 1000, global = true)]
    pub db_acquire_timeout_ms: u64,

    /// PostgreSQL: how long a request's database work may run once it has a connection, in ms
    /// (on the server and on the client); then 503.
    #[arg(long, env = "TASKGATE_DB_STATEMENT_TIMEOUT_MS", default_value_t = 1500, global = true)]
    pub db_statement_timeout_ms: u64,

    /// The most tasks one user may have; the next create is a 409 TASK_LIMIT_REACHED.
    #[arg(long, env = "TASKGATE_MAX_TASKS_PER_USER", default_value_t = 10_000, global = true)]
    pub max_tasks_per_user: u64,

    /// Memory for cached list pages, in MiB (0 turns the cache off).
    #[arg(long, env = "TASKGATE_LIST_CACHE_MB", default_value_t = 16, global = true)]
    pub list_cache_mb: usize,

    /// Requests served at once; more are refused with 503 rather than queued.
    #[arg(long, env = "TASKGATE_MAX_CONCURRENCY", default_value_t = 1024, global = true)]
    pub max_concurrency: usize,

    /// A request still running after this many seconds is answered with 408.
    #[arg(long, env = "TASKGATE_REQUEST_TIMEOUT", default_value_t = 30, global = true)]
    pub request_timeout_secs: u64,

    /// On SIGTERM or Ctrl-C, in-flight requests get this many seconds to finish.
    #[arg(long, env = "TASKGATE_SHUTDOWN_TIMEOUT", default_value_t = 10, global = true)]
    pub shutdown_timeout_secs: u64,

    /// Seconds a client has to send a request's headers, from its first byte (or from the
    /// connection's start); slower clients are disconnected.
    #[arg(long, env = "TASKGATE_HEADER_TIMEOUT", default_value_t = 10, global = true)]
    pub header_timeout_secs: u64,

    /// Seconds a keep-alive connection may stay idle between requests before it is closed.
    #[arg(long, env = "TASKGATE_IDLE_TIMEOUT", default_value_t = 60, global = true)]
    pub idle_timeout_secs: u64,

    /// Seconds a client has to send a request body once its headers are in; slower is a 408.
    #[arg(long, env = "TASKGATE_BODY_TIMEOUT", default_value_t = 10, global = true)]
    pub body_timeout_secs: u64,

    /// Open connections at most; more are closed at once. Default: the file-descriptor limit
    /// less headroom for the database, JWKS fetches and logs.
    #[arg(long, env = "TASKGATE_MAX_CONNECTIONS", global = true)]
    pub max_connections: Option<usize>,

    /// Open connections at most from one client address (IPv6: one /64), so that one address
    /// cannot take every connection; more are closed at once. Trusted proxies are exempt.
    #[arg(
        long,
        env = "TASKGATE_MAX_CONNECTIONS_PER_ADDRESS",
        default_value_t = 256,
        global = true
    )]
    pub max_connections_per_address: usize,

    /// Requests one client address (IPv6: one /64) may have in flight at once, across all its
    /// connections and HTTP/2 streams, bodies still arriving included; more get 429. Trusted
    /// proxies are exempt (their clients are counted by the address they forward).
    #[arg(long, env = "TASKGATE_MAX_INFLIGHT_PER_ADDRESS", default_value_t = 256, global = true)]
    pub max_inflight_per_address: usize,

    /// Requests one user may have in flight at once; more get 429.
    #[arg(long, env = "TASKGATE_MAX_INFLIGHT_PER_USER", default_value_t = 32, global = true)]
    pub max_inflight_per_user: usize,

    /// Browser origins allowed to call the API cross-origin, comma-separated exact origins
    /// (`https://app.example`); empty means same-origin only.
    #[arg(long, env = "TASKGATE_CORS_ORIGINS", default_value = "", global = true)]
    pub cors_origins: String,

    /// Browser origins besides the public URL's (and the CORS origins) that may make
    /// cookie-authenticated POSTs to /api/auth, comma-separated exact origins.
    #[arg(long, env = "TASKGATE_TRUSTED_ORIGINS", default_value = "", global = true)]
    pub trusted_origins: String,

    /// The task API refuses an access token of this service's accounts whose session has ended
    /// (signed out, revoked), within 5 seconds on every instance; otherwise such a token lives
    /// until it expires (15 minutes at most).
    #[arg(
        long,
        env = "TASKGATE_STRICT_SESSIONS",
        action = clap::ArgAction::Set,
        value_parser = clap::builder::BoolishValueParser::new(),
        default_value_t = false,
        global = true
    )]
    pub strict_sessions: bool,

    /// The rate limits of /api/auth (per address, and per account for sign-ins); `off` is for tests.
    #[arg(long, env = "TASKGATE_RATE_LIMIT", value_enum, default_value = "on", global = true)]
    pub rate_limit: Switch,

    /// How the accounts' access tokens are signed: `EdDSA` (published at /api/auth/jwks) or
    /// `HS256` (with the server secret, for services that verify with the shared secret).
    #[arg(long, env = "TASKGATE_TOKEN_ALG", value_enum, default_value = "EdDSA", global = true)]
    pub token_alg: TokenAlg,

    /// Seconds between two reads of the signing keys, so `taskgate keys rotate` reaches a running
    /// instance (1 to 30).
    #[arg(long, env = "TASKGATE_KEYS_RELOAD", default_value_t = 30, global = true)]
    pub keys_reload_secs: u64,

    /// Where to serve Prometheus metrics (`127.0.0.1:9090`); off unless set.
    #[arg(long, env = "TASKGATE_METRICS_LISTEN", global = true)]
    pub metrics_listen: Option<SocketAddr>,

    /// Proxies whose `X-Forwarded-For` is believed, comma-separated addresses or CIDRs.
    #[arg(long, env = "TASKGATE_TRUSTED_PROXIES", default_value = "", global = true)]
    pub trusted_proxies: String,

    /// The URL clients reach this service at (`https://todo.example`); https turns on HSTS.
    #[arg(long, env = "TASKGATE_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Log line format.
    #[arg(long, env = "TASKGATE_LOG_FORMAT", value_enum, default_value = "text", global = true)]
    pub log_format: LogFormat,
}

/// `TASKGATE_SQLITE_SYNCHRONOUS`'s values: the command line's view of a store setting, kept here so
/// the store knows nothing of clap.
impl ValueEnum for Synchronous {
    fn value_variants<'a>() -> &'a [Self] {
        &[Synchronous::Full, Synchronous::Normal]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(match self {
            Synchronous::Full => "full",
            Synchronous::Normal => "normal",
        }))
    }
}

/// A configuration the service refuses to start with; the message says how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "BETTER_AUTH_SECRET must be at least {MIN_SECRET_BYTES} bytes (it has {0}); \
         generate one with `openssl rand -base64 32`"
    )]
    SecretTooShort(usize),
    #[error(
        "BETTER_AUTH_SECRET is required with PostgreSQL, where every instance must share one \
         secret (it signs session cookies and seals the signing keys); generate one with \
         `openssl rand -base64 32`"
    )]
    SecretRequiredWithPostgres,
    #[error(
        "TASKGATE_JWKS_URL needs TASKGATE_JWT_ISSUER and TASKGATE_JWT_AUDIENCE (for Better Auth: its \
         base URL, e.g. https://app.example, for both)"
    )]
    JwksNeedsIssuerAndAudience,
    #[error(
        "TASKGATE_JWKS_ISSUERS must be a JSON array of {{\"jwks_url\", \"issuer\", \"audience\"}} \
         objects, all three non-empty: {0}"
    )]
    InvalidJwksIssuers(String),
    #[error("JWKS issuer: {0}")]
    InvalidJwksUrl(String),
    #[error("TASKGATE_JWT_LEEWAY must be between 0 and {MAX_LEEWAY_SECONDS} seconds (it is {0})")]
    LeewayTooLarge(u64),
    #[error(
        "DATABASE_URL `{}` is not supported: use sqlite://path/to/file.db or \
         postgres://user@host:5432/database",
        redacted_url(.0)
    )]
    UnsupportedDatabase(String),
    #[error(
        "DATABASE_URL `{0}` is an in-memory SQLite database, which would be empty for every \
         connection and lost at exit: use a file, such as sqlite://data/taskgate.db"
    )]
    InMemoryDatabase(String),
    #[error("DATABASE_URL `{}` is not a valid PostgreSQL URL: {reason}", redacted_url(.url))]
    InvalidPostgresUrl { url: String, reason: String },
    #[error(
        "TASKGATE_CORS_ORIGINS or TASKGATE_TRUSTED_ORIGINS: `{0}` is not an origin; list exact origins such as \
         https://app.example or http://localhost:3000 (scheme, host and port; no path, no `*`)"
    )]
    InvalidCorsOrigin(String),
    #[error("TASKGATE_TRUSTED_PROXIES: `{0}` is not an IP address or CIDR (e.g. 10.0.0.0/8)")]
    InvalidTrustedProxy(String),
    #[error("TASKGATE_PUBLIC_URL `{}` must be an http or https URL", redacted_url(.0))]
    InvalidPublicUrl(String),
    #[error("{0} must be greater than zero")]
    Zero(&'static str),
    #[error("{0} must not be empty when set")]
    Empty(&'static str),
}

impl Settings {
    /// Checks everything that can be checked before touching the network or the disk.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(secret) = &self.better_auth_secret
            && secret.expose_secret().len() < MIN_SECRET_BYTES
        {
            return Err(ConfigError::SecretTooShort(secret.expose_secret().len()));
        }
        // SQLite without a secret makes one beside its file; instances sharing PostgreSQL
        // cannot each make their own.
        if self.better_auth_secret.is_none() && PgOptions::from_url(&self.database_url).is_some() {
            return Err(ConfigError::SecretRequiredWithPostgres);
        }
        if self.jwt_leeway > MAX_LEEWAY_SECONDS {
            return Err(ConfigError::LeewayTooLarge(self.jwt_leeway));
        }
        if self.jwt_issuer.as_deref() == Some("") {
            return Err(ConfigError::Empty("TASKGATE_JWT_ISSUER"));
        }
        if self.jwt_audience.as_deref() == Some("") {
            return Err(ConfigError::Empty("TASKGATE_JWT_AUDIENCE"));
        }
        self.cors_origins()?;
        parse_origins(&self.trusted_origins)?;
        self.trusted_proxies()?;
        if let Some(url) = &self.public_url
            && !reqwest::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
        {
            return Err(ConfigError::InvalidPublicUrl(url.clone()));
        }
        for (name, value) in [
            ("TASKGATE_HEADER_TIMEOUT", self.header_timeout_secs),
            ("TASKGATE_IDLE_TIMEOUT", self.idle_timeout_secs),
            ("TASKGATE_BODY_TIMEOUT", self.body_timeout_secs),
            ("TASKGATE_MAX_CONNECTIONS", self.max_connections.unwrap_or(1) as u64),
            ("TASKGATE_MAX_CONNECTIONS_PER_ADDRESS", self.max_connections_per_address as u64),
            ("TASKGATE_MAX_INFLIGHT_PER_USER", self.max_inflight_per_user as u64),
            ("TASKGATE_MAX_INFLIGHT_PER_ADDRESS", self.max_inflight_per_address as u64),
            ("TASKGATE_MAX_CONCURRENCY", self.max_concurrency as u64),
            ("TASKGATE_REQUEST_TIMEOUT", self.request_timeout_secs),
            ("TASKGATE_DB_BUSY_TIMEOUT_MS", self.db_busy_timeout_ms),
            ("TASKGATE_DB_MAX_CONNECTIONS", self.db_max_connections as u64),
            ("TASKGATE_DB_ACQUIRE_TIMEOUT_MS", self.db_acquire_timeout_ms),
            ("TASKGATE_DB_STATEMENT_TIMEOUT_MS", self.db_statement_timeout_ms),
            ("TASKGATE_MAX_TASKS_PER_USER", self.max_tasks_per_user),
            ("TASKGATE_JWKS_REFRESH", self.jwks_refresh_secs),
            // Zero would let every token with an unknown kid make us fetch from the issuer.
            ("TASKGATE_JWKS_COOLDOWN", self.jwks_cooldown_secs),
        ] {
            if value == 0 {
                return Err(ConfigError::Zero(name));
            }
        }
        self.store_config().map(|_| ())
    }

    /// Every configured JWKS issuer: TASKGATE_JWKS_URL's, then TASKGATE_JWKS_ISSUERS'.
    pub fn jwks_issuers(&self) -> Result<Vec<JwksIssuerConfig>, ConfigError> {
        let mut issuers = Vec::new();
        if let Some(jwks_url) = self.jwks_url.as_ref().filter(|url| !url.is_empty()) {
            let (Some(issuer), Some(audience)) = (&self.jwt_issuer, &self.jwt_audience) else {
                return Err(ConfigError::JwksNeedsIssuerAndAudience);
            };
            issuers.push(JwksIssuerConfig {
                jwks_url: jwks_url.clone(),
                issuer: issuer.clone(),
                audience: audience.clone(),
            });
        }
        if let Some(json) = self.jwks_issuers.as_ref().filter(|json| !json.trim().is_empty()) {
            let listed: Vec<JwksIssuerConfig> = serde_json::from_str(json)
                .map_err(|e| ConfigError::InvalidJwksIssuers(e.to_string()))?;
            if let Some(bad) = listed
                .iter()
                .find(|i| i.jwks_url.is_empty() || i.issuer.is_empty() || i.audience.is_empty())
            {
                return Err(ConfigError::InvalidJwksIssuers(format!("empty field in {bad:?}")));
            }
            issuers.extend(listed);
        }
        Ok(issuers)
    }

    pub fn jwks_cooldown(&self) -> Duration {
        Duration::from_secs(self.jwks_cooldown_secs)
    }

    pub fn jwks_refresh(&self) -> Duration {
        Duration::from_secs(self.jwks_refresh_secs)
    }

    /// The database `DATABASE_URL` names, with the limits every store applies.
    /// The server secret these settings give, the one place it is resolved: `BETTER_AUTH_SECRET`,
    /// else on SQLite the secret kept beside the database file (made on first use).
    pub fn server_secret(
        &self,
        store: &StoreConfig,
    ) -> Result<secrecy::SecretString, crate::services::secret::SecretError> {
        crate::services::secret::resolve(self.better_auth_secret.as_ref(), store.sqlite_path())
    }

    pub fn store_config(&self) -> Result<StoreConfig, ConfigError> {
        let url = &self.database_url;
        let backend = if let Some(options) = SqliteOptions::from_url(url) {
            if SqliteOptions::names_memory(url) {
                return Err(ConfigError::InMemoryDatabase(url.clone()));
            }
            Backend::Sqlite(SqliteOptions {
                synchronous: self.sqlite_synchronous,
                busy_timeout: Duration::from_millis(self.db_busy_timeout_ms),
                ..options
            })
        } else if let Some(parsed) = PgOptions::from_url(url) {
            let mut options = parsed
                .map_err(|reason| ConfigError::InvalidPostgresUrl { url: url.clone(), reason })?;
            options.max_connections = self.db_max_connections;
            options.acquire_timeout = Duration::from_millis(self.db_acquire_timeout_ms);
            options.statement_timeout = Duration::from_millis(self.db_statement_timeout_ms);
            Backend::Postgres(Box::new(options))
        } else {
            return Err(ConfigError::UnsupportedDatabase(url.clone()));
        };
        Ok(StoreConfig {
            backend,
            list_cache_bytes: self.list_cache_mb.saturating_mul(1 << 20),
            max_tasks_per_user: self.max_tasks_per_user,
        })
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_secs(self.shutdown_timeout_secs)
    }

    pub fn header_timeout(&self) -> Duration {
        Duration::from_secs(self.header_timeout_secs)
    }

    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }

    pub fn body_timeout(&self) -> Duration {
        Duration::from_secs(self.body_timeout_secs)
    }

    /// Where clients reach the service: `TASKGATE_PUBLIC_URL` without a trailing slash, else
    /// `http://` and the address it listens on (`bound`: the port 0 was turned into).
    pub fn public_url_or(&self, bound: SocketAddr) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{bound}"),
        }
    }

    pub fn public_url_is_https(&self) -> bool {
        self.public_url.as_deref().is_some_and(|url| url.starts_with("https://"))
    }

    /// The allowed cross-origin callers, each an exact serialized origin.
    pub fn cors_origins(&self) -> Result<Vec<HeaderValue>, ConfigError> {
        parse_origins(&self.cors_origins)
    }

    /// The origins whose cookie-authenticated POSTs /api/auth accepts: the public URL's (`bound`
    /// stands in for it when unset), TASKGATE_TRUSTED_ORIGINS, and the CORS origins (a browser
    /// app allowed to call with credentials is trusted to post them).
    /// Listening on a loopback address (or on every address, with no public URL set),
    /// `localhost`, `127.0.0.1` and `[::1]` with its port are all the service's own origin: a
    /// browser may be pointed at any of them.
    pub fn trusted_origins(&self, bound: SocketAddr) -> Result<Vec<String>, ConfigError> {
        let public = self.public_url_or(bound);
        let mut origins: Vec<String> = reqwest::Url::parse(&public)
            .map(|url| url.origin().ascii_serialization())
            .into_iter()
            .collect();
        if bound.ip().is_loopback() || (bound.ip().is_unspecified() && self.public_url.is_none()) {
            let port = bound.port();
            for host in ["localhost", "127.0.0.1", "[::1]"] {
                let origin = format!("http://{host}:{port}");
                if !origins.contains(&origin) {
                    origins.push(origin);
                }
            }
        }
        for origin in parse_origins(&self.trusted_origins)?.into_iter().chain(self.cors_origins()?)
        {
            origins.extend(origin.to_str().ok().map(str::to_owned));
        }
        Ok(origins)
    }

    pub fn trusted_proxies(&self) -> Result<TrustedProxies, ConfigError> {
        TrustedProxies::parse(&self.trusted_proxies).map_err(ConfigError::InvalidTrustedProxy)
    }

    /// What the start-up log line says about this configuration: nothing secret.
    pub fn summary(&self) -> Summary {
        let mut key_sources = vec!["its own accounts (EdDSA, /api/auth/jwks)".to_owned()];
        if self.better_auth_secret.is_some() {
            key_sources.push("BETTER_AUTH_SECRET (HS256)".to_owned());
        } else {
            key_sources.push("the secret beside the SQLite file (HS256)".to_owned());
        }
        for issuer in self.jwks_issuers().unwrap_or_default() {
            key_sources.push(format!("JWKS {}", redacted_url(&issuer.jwks_url)));
        }
        Summary {
            database: redacted_url(&self.database_url),
            key_sources: key_sources.join(", "),
            issuer_enforced: self.jwt_issuer.is_some(),
            audience_enforced: self.jwt_audience.is_some(),
        }
    }
}

/// A comma-separated list of exact origins (scheme, host and port; no path, no `*`).
fn parse_origins(list: &str) -> Result<Vec<HeaderValue>, ConfigError> {
    list.split(',')
        .map(str::trim)
        .filter(|origin| !origin.is_empty())
        .map(|origin| {
            let parsed = reqwest::Url::parse(origin).ok().filter(|url| {
                matches!(url.scheme(), "http" | "https")
                    && url.origin().ascii_serialization() == origin
            });
            parsed
                .and_then(|_| HeaderValue::from_str(origin).ok())
                .ok_or_else(|| ConfigError::InvalidCorsOrigin(origin.to_owned()))
        })
        .collect()
}

/// The parts of the configuration worth stating at start.
#[derive(Debug)]
pub struct Summary {
    pub database: String,
    pub key_sources: String,
    /// For the shared secret; JWKS issuers always check both.
    pub issuer_enforced: bool,
    pub audience_enforced: bool,
}

/// Environment variables that look like ours but are not: most likely typos, which would
/// otherwise silently leave a setting (an audience check, say) off.
pub fn unknown_taskgate_variables(known: &[&str]) -> Vec<String> {
    let mut unknown: Vec<String> = std::env::vars_os()
        .filter_map(|(name, _)| name.into_string().ok())
        .filter(|name| name.starts_with("TASKGATE_") && !known.contains(&name.as_str()))
        .collect();
    unknown.sort();
    unknown
}

/// Loads `.env` from the working folder or the nearest folder above it that has one. A problem is
/// described by line number only: the line itself may hold a secret.
pub fn load_dotenv() -> Option<String> {
    let cwd = std::env::current_dir().ok()?;
    let path = cwd.ancestors().map(|dir| dir.join(".env")).find(|path| path.is_file())?;
    match dotenvy::from_path(&path) {
        Ok(()) => None,
        Err(dotenvy::Error::LineParse(text, _)) => {
            let first = text.lines().next().unwrap_or("");
            let line = std::fs::read_to_string(&path)
                .ok()
                .and_then(|content| content.lines().position(|l| l.contains(first)))
                .map_or_else(|| "?".to_owned(), |index| (index + 1).to_string());
            Some(format!(
                "{}: line {line} is not NAME=value; it and the lines after it were not read",
                path.display()
            ))
        }
        Err(dotenvy::Error::Io(error)) => Some(format!("cannot read {}: {error}", path.display())),
        Err(_) => Some(format!("{}: cannot be read as a .env file", path.display())),
    }
}
