//! The PostgreSQL backend: one shared pool ([`PgDb`]) that every store uses, for several
//! stateless instances on one database.
//!
//! A database that goes away must cost a request a fast 503, never a hang: getting a connection
//! (pool wait and connect) is bounded by the acquire timeout, and the work done with it by the
//! statement timeout, on the server (`statement_timeout`) and on the client, where a deadline
//! catches a server that stopped answering on an open connection (a network partition); such a
//! connection is discarded, never returned to the pool. TCP keepalive and `TCP_USER_TIMEOUT` close
//! dead idle connections. New connections are made on demand, so the service recovers by itself
//! when the database comes back.
//!
//! `sslmode=require` in the URL (as Neon and most hosted PostgreSQL give it) encrypts with rustls
//! and verifies the server's certificate against the system's roots; otherwise (`prefer`, the
//! default, or `disable`) connections are not encrypted, as for a database on the same host or
//! network.
//!
//! Migrations are embedded and applied at start under a session advisory lock, so instances
//! starting at once on an empty database do not race; each migration runs in its own transaction.

mod accounts;
mod lists;
mod tags;
mod task_list;
mod task_sql;
mod task_tree;
mod tasks;

pub use accounts::PgAccountStore;
pub use tasks::PgTaskStore;

use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime,
};
use std::error::Error as _;
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::config::SslMode;
use tokio_postgres::error::SqlState;
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres::{NoTls, Socket};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::{DEFAULT_ACQUIRE_TIMEOUT, DEFAULT_STATEMENT_TIMEOUT, Gauge, StoreError};

const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/postgres/0001_tasks.sql"),
    include_str!("../../../migrations/postgres/0002_accounts.sql"),
    include_str!("../../../migrations/postgres/0003_signing_keys.sql"),
    include_str!("../../../migrations/postgres/0004_rate_limits.sql"),
    include_str!("../../../migrations/postgres/0005_audit.sql"),
    include_str!("../../../migrations/postgres/0006_session_expiry.sql"),
    include_str!("../../../migrations/postgres/0007_deleted_users.sql"),
    include_str!("../../../migrations/postgres/0008_organising.sql"),
    include_str!("../../../migrations/postgres/0009_find.sql"),
    include_str!("../../../migrations/postgres/0010_lists.sql"),
];
/// Where a migration has the store fill what only Rust computes (migration 8: the title keys
/// and search words of existing tasks), between the SQL before and after it.
const FILL_MARKER: &str = "\n-- taskgate: fill\n";
/// The client waits this much longer than the server's `statement_timeout`, so that a slow
/// statement is ended by the server (the connection stays usable) and only a server that stopped
/// answering is ended by the client (the connection is discarded).
const CLIENT_MARGIN: Duration = Duration::from_millis(200);
/// How long a start waits for another instance's migrations before giving up.
const MIGRATION_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// How to reach PostgreSQL and how long to wait for it.
#[derive(Clone)]
pub struct PgOptions {
    pub config: tokio_postgres::Config,
    /// Connections the pool holds at most (`TASKGATE_DB_MAX_CONNECTIONS`).
    pub max_connections: usize,
    /// How long a call may wait for a connection, pool wait and connect included.
    pub acquire_timeout: Duration,
    /// How long a call may run once it has a connection, on the server and on the client.
    pub statement_timeout: Duration,
    redacted: String,
}

impl std::fmt::Debug for PgOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgOptions")
            .field("url", &self.redacted)
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .finish()
    }
}

impl PgOptions {
    /// `None` unless `url` is a `postgres://` or `postgresql://` URL; `Some(Err)` when it is one
    /// but cannot be parsed (the error names no part of the URL, which may hold a password).
    pub fn from_url(url: &str) -> Option<Result<Self, String>> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return None;
        }
        Some(url.parse::<tokio_postgres::Config>().map_err(|e| e.to_string()).map(|config| Self {
            config,
            max_connections: 16,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
            statement_timeout: DEFAULT_STATEMENT_TIMEOUT,
            redacted: crate::ground::redact::redacted_url(url),
        }))
    }

    /// The URL with no credentials or query, fit for logs.
    pub fn redacted(&self) -> String {
        self.redacted.clone()
    }

    /// The driver's configuration with our timeouts, keepalives and session settings.
    fn driver_config(&self) -> tokio_postgres::Config {
        let mut config = self.config.clone();
        let statement_ms = self.statement_timeout.as_millis();
        // Session settings go with the connection's start-up, so a pooled connection always has
        // them; options already in the URL (a search_path, say) are kept.
        let options = format!(
            "{} -c statement_timeout={statement_ms} -c idle_in_transaction_session_timeout={}",
            config.get_options().unwrap_or_default(),
            statement_ms.saturating_mul(4)
        );
        config
            .options(options.trim_start())
            .application_name("taskgate")
            .connect_timeout(self.acquire_timeout)
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(5))
            .keepalives_interval(Duration::from_secs(1))
            .keepalives_retries(3)
            .tcp_user_timeout(self.acquire_timeout + self.statement_timeout);
        config
    }
}

/// The one pool on a PostgreSQL database.
pub struct PgDb {
    pool: Pool,
    acquire_timeout: Duration,
    statement_timeout: Duration,
    /// What connecting did to the schema.
    pub schema: super::SchemaChange,
}

impl PgDb {
    /// Connects, applies the migrations this build has and the database lacks, and keeps the pool.
    pub async fn connect(options: PgOptions) -> Result<Arc<Self>, StoreError> {
        let config = options.driver_config();
        let recycling = ManagerConfig { recycling_method: RecyclingMethod::Fast };
        let (manager, schema) = if config.get_ssl_mode() == SslMode::Require {
            let tls = rustls_connector()?;
            let schema = migrate(&config, tls.clone(), &options).await?;
            (Manager::from_config(config, tls, recycling), schema)
        } else {
            let schema = migrate(&config, NoTls, &options).await?;
            (Manager::from_config(config, NoTls, recycling), schema)
        };
        let pool = Pool::builder(manager)
            .max_size(options.max_connections)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(options.acquire_timeout))
            .create_timeout(Some(options.acquire_timeout))
            .recycle_timeout(Some(options.acquire_timeout))
            .build()
            .map_err(|e| StoreError::internal(format!("cannot build the connection pool: {e}")))?;
        if schema.from != schema.to {
            tracing::info!(database = options.redacted(), "{schema}");
        }
        Ok(Arc::new(Self {
            pool,
            acquire_timeout: options.acquire_timeout,
            statement_timeout: options.statement_timeout,
            schema,
        }))
    }

    /// Runs `work` on a pooled connection, within the acquire and statement timeouts. A
    /// connection whose work timed out may be stuck on a server that stopped answering: it is
    /// closed rather than put back.
    pub async fn run<T>(
        &self,
        work: impl AsyncFnOnce(&mut Object) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut client = match tokio::time::timeout(self.acquire_timeout, self.pool.get()).await {
            Ok(Ok(client)) => client,
            Ok(Err(error)) => return Err(pool_error(error)),
            Err(_) => return Err(StoreError::unavailable("timed out waiting for a connection")),
        };
        let deadline = self.statement_timeout + CLIENT_MARGIN;
        match tokio::time::timeout(deadline, work(&mut client)).await {
            Ok(result) => result,
            Err(_) => {
                drop(Object::take(client));
                Err(StoreError::unavailable("the database did not answer in time"))
            }
        }
    }

    /// Whether writes can succeed: a connection can be had, the server answers, and it is not a
    /// read-only standby.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let writable = self
            .run(async |client| {
                let row = client.query_one("SELECT NOT pg_is_in_recovery()", &[]).await?;
                Ok(row.try_get::<_, bool>(0)?)
            })
            .await?;
        if writable { Ok(()) } else { Err(StoreError::unavailable("the database is read-only")) }
    }

    pub fn gauges(&self) -> Vec<Gauge> {
        let status = self.pool.status();
        vec![
            Gauge { name: "taskgate_db_connections", value: status.size as f64 },
            Gauge { name: "taskgate_db_idle_connections", value: status.available as f64 },
            Gauge { name: "taskgate_db_waiting", value: status.waiting as f64 },
        ]
    }
}

/// A request already answered with a timeout must not write: checked inside each write's
/// transaction, before its first statement.
pub(super) fn fenced() -> Result<(), StoreError> {
    use crate::ground::fence;
    if fence::begin_write(fence::current().as_deref()) {
        Ok(())
    } else {
        Err(StoreError::unavailable("the request timed out before its write"))
    }
}

/// Applies the embedded migrations on a connection of its own, under a session advisory lock
/// keyed by the schema, so concurrent starts take turns and later ones find the work done.
async fn migrate<T>(
    config: &tokio_postgres::Config,
    tls: T,
    options: &PgOptions,
) -> Result<super::SchemaChange, StoreError>
where
    T: MakeTlsConnect<Socket>,
    T::Stream: Send + 'static,
{
    let unreachable = |e: tokio_postgres::Error| {
        let cause = match e.source() {
            Some(source) => format!("{e}: {source}"),
            None => e.to_string(),
        };
        StoreError::unavailable(format!("cannot reach PostgreSQL at {}: {cause}", options.redacted))
    };
    let (mut client, connection) = config.connect(tls).await.map_err(unreachable)?;
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    // Only the wait for the lock is bounded: the migrations themselves (filling a large table,
    // building its indexes) take what they take.
    let locked = tokio::time::timeout(
        MIGRATION_LOCK_TIMEOUT,
        // NOTICEs ("relation ... already exists, skipping") are no news at every start.
        client.batch_execute(
            "SET statement_timeout = 0; SET client_min_messages = warning; \
             SELECT pg_advisory_lock(hashtext('taskgate migrations ' || current_schema()))",
        ),
    )
    .await;
    let result = match locked {
        Err(_) => {
            Err(StoreError::unavailable("timed out waiting for another instance's migrations"))
        }
        Ok(Err(error)) => Err(error.into()),
        Ok(Ok(())) => apply_migrations(&mut client).await,
    };
    // Closing the session releases the advisory lock.
    drop(client);
    let _ = driver.await;
    result
}

/// Applies the migrations the database lacks, under the lock, each in its own transaction.
async fn apply_migrations(
    client: &mut tokio_postgres::Client,
) -> Result<super::SchemaChange, StoreError> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS taskgate_migrations (\
                 version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .await?;
    let applied: i32 = client
        .query_one("SELECT coalesce(max(version), 0) FROM taskgate_migrations", &[])
        .await?
        .get(0);
    let applied = usize::try_from(applied).unwrap_or(0);
    if applied > MIGRATIONS.len() {
        return Err(StoreError::internal(format!(
            "the database is at schema version {applied}, newer than this taskgate ({}); \
                 upgrade taskgate",
            MIGRATIONS.len()
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = client.transaction().await?;
        match sql.split_once(FILL_MARKER) {
            None => tx.batch_execute(sql).await?,
            Some((before, after)) => {
                tx.batch_execute(before).await?;
                task_sql::fill_organising_columns(&tx).await?;
                tx.batch_execute(after).await?;
            }
        }
        tx.execute("INSERT INTO taskgate_migrations (version) VALUES ($1)", &[&(index as i32 + 1)])
            .await?;
        tx.commit().await?;
    }
    Ok(super::SchemaChange { from: applied, to: MIGRATIONS.len() })
}

/// TLS that verifies the server's certificate against the system's roots.
fn rustls_connector() -> Result<MakeRustlsConnect, StoreError> {
    use rustls_platform_verifier::ConfigVerifierExt;
    crate::ground::tls::install_tls_provider();
    let config = rustls::ClientConfig::with_platform_verifier()
        .map_err(|e| StoreError::internal(format!("cannot set up TLS: {e}")))?;
    Ok(MakeRustlsConnect::new(config))
}

fn pool_error(error: PoolError) -> StoreError {
    match error {
        PoolError::Backend(error) => error.into(),
        PoolError::Timeout(_) => StoreError::unavailable("timed out waiting for a connection"),
        other => StoreError::unavailable(other.to_string()),
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(error: tokio_postgres::Error) -> Self {
        let Some(code) = error.code() else {
            // Without a server error code: the connection failed or closed, or a value did not
            // convert. Only the latter is a bug.
            let bug = error.source().is_none()
                && ["error serializing", "error deserializing", "invalid column", "expected "]
                    .iter()
                    .any(|prefix| error.to_string().starts_with(prefix));
            return if bug { StoreError::internal(error) } else { StoreError::unavailable(error) };
        };
        let transient = code.code().starts_with("08") // connection exceptions
            || code.code().starts_with("53") // insufficient resources
            || code.code().starts_with("57") // operator intervention: canceled, shutting down
            || [
                SqlState::T_R_SERIALIZATION_FAILURE,
                SqlState::T_R_DEADLOCK_DETECTED,
                SqlState::READ_ONLY_SQL_TRANSACTION,
                SqlState::LOCK_NOT_AVAILABLE,
            ]
            .contains(code);
        let cause = match error.as_db_error() {
            Some(db) => format!("{} ({})", db.message(), code.code()),
            None => error.to_string(),
        };
        if transient { StoreError::unavailable(cause) } else { StoreError::internal(cause) }
    }
}
