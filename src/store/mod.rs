//! Storage behind traits: handlers see only [`TaskStore`]. Each backend is one module with one
//! shared database handle (SQLite: the writer thread and the readers; PostgreSQL: the pool) and one
//! store per entity on top of it; [`connect`] is the one place that picks the backend.

pub mod accounts;
pub mod cached;
pub mod postgres;
pub mod sqlite;

use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

use crate::domain::auth::UserId;
use crate::domain::lists::{List, ListDraft, ListId, ListTasks};
use crate::domain::tasks::idempotency::IdempotencyKey;
use crate::domain::tasks::{
    Completion, Expected, Invalid, TagName, TagSummary, Task, TaskDraft, TaskId, TaskPage,
    TaskQuery,
};

/// The underlying error of a failed store call, kept for the log.
pub type Source = Box<dyn std::error::Error + Send + Sync>;

/// Why a store call failed. Causes are kept for the log and never reach a client.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database is locked, gone, unreachable or overloaded: worth retrying.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] Source),
    /// The owner already has the most tasks allowed; nothing was written.
    #[error("the owner already has {limit} tasks, the most allowed")]
    LimitReached { limit: u64 },
    /// The write would give the owner more tags than allowed; nothing was written.
    #[error("the owner already has {limit} tags, the most allowed")]
    TagLimitReached { limit: u64 },
    /// The input names a list or a parent the owner does not have, or would nest subtasks too
    /// deep or in a cycle; nothing was written. The same answer for another user's list or task
    /// as for one that does not exist.
    #[error("invalid input: {0:?}")]
    Invalid(Invalid),
    /// Another of the owner's lists has this name (compared case-insensitively).
    #[error("the owner already has a list of this name")]
    ListNameTaken,
    /// The owner already has the most lists allowed; nothing was written.
    #[error("the owner already has {limit} lists, the most allowed")]
    ListLimitReached { limit: u64 },
    /// The list has tasks and the request did not say what becomes of them.
    #[error("the list has {tasks} tasks")]
    ListNotEmpty { tasks: u64 },
    /// The task has subtasks and the request did not say to delete them.
    #[error("the task has {subtasks} subtasks")]
    TaskHasSubtasks { subtasks: u64 },
    /// Anything else: a bug, corruption, or a schema this build does not know.
    #[error("database error: {0}")]
    Internal(#[source] Source),
}

impl StoreError {
    pub fn unavailable(cause: impl Into<Source>) -> Self {
        Self::Unavailable(cause.into())
    }

    pub fn internal(cause: impl Into<Source>) -> Self {
        Self::Internal(cause.into())
    }
}

/// What [`TaskStore::create_once`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOutcome {
    /// The key was new (or expired): the task was created and the key recorded with it.
    Created(Task),
    /// The owner used the key for the same request within the key's lifetime: the task as first
    /// answered (even if it has since changed or been deleted); nothing was written.
    Replayed(Task),
    /// The owner used the key for a different request within its lifetime; nothing was written.
    KeyReused,
}

/// What a conditional write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guarded<T> {
    /// Written (or, when it would have changed nothing, left as it was): the result.
    Done(T),
    /// The owner has no such task.
    Missing,
    /// The task's version is not one the write expected; nothing was written.
    Conflict { current: u64 },
}

/// Every operation is scoped by owner, the pair (issuer, subject): a task id alone never reaches a
/// row. Every write that changes an owner's tasks also changes the owner's list version and keeps
/// the owner's task count, in the write's own transaction.
#[async_trait]
pub trait TaskStore: Send + Sync + 'static {
    /// A page of the owner's tasks that match the query's filter, in its order, after its
    /// cursor; with how many match in all and the list version, all read from one snapshot.
    async fn list(&self, owner: &UserId, query: &TaskQuery) -> Result<Arc<TaskPage>, StoreError>;
    /// The owner's current list version (0 before the first write), in one indexed lookup: a
    /// page read under this version is still exactly what [`TaskStore::list`] would return.
    async fn list_version(&self, owner: &UserId) -> Result<u64, StoreError>;
    async fn get(&self, owner: &UserId, id: TaskId) -> Result<Option<Task>, StoreError>;
    /// Fails with [`StoreError::LimitReached`] when the owner has the most tasks allowed, and
    /// [`StoreError::TagLimitReached`] when the draft's new tags would pass the most allowed.
    /// The task's tags take the owner's spelling of each tag that exists.
    async fn create(&self, owner: &UserId, draft: TaskDraft) -> Result<Task, StoreError>;
    /// Creates a task at most once per owner and key within
    /// [`KEY_LIFETIME_SECS`](crate::domain::tasks::idempotency::KEY_LIFETIME_SECS), telling requests apart
    /// by [`Fingerprint`](crate::domain::tasks::idempotency::Fingerprint). The key is recorded in the same
    /// transaction as the task, so a failed or refused write records neither. Concurrent calls
    /// with one owner and key create one task between them: the others replay it (an
    /// implementation whose transactions can race re-reads the key after a primary-key conflict).
    async fn create_once(
        &self,
        owner: &UserId,
        draft: TaskDraft,
        key: &IdempotencyKey,
    ) -> Result<CreateOutcome, StoreError>;
    /// Replaces everything a client sets, if the task's version is `expected`, in one
    /// transaction. A draft that changes nothing writes nothing and keeps the version.
    async fn replace(
        &self,
        owner: &UserId,
        id: TaskId,
        draft: TaskDraft,
        expected: Expected,
    ) -> Result<Guarded<Task>, StoreError>;
    /// Sets or toggles completion, as [`TaskStore::replace`] does.
    async fn set_completion(
        &self,
        owner: &UserId,
        id: TaskId,
        completion: Completion,
        expected: Expected,
    ) -> Result<Guarded<Task>, StoreError>;
    /// Deletes the task if its version is `expected`; with its subtasks at every level when
    /// `with_subtasks`, and otherwise fails with [`StoreError::TaskHasSubtasks`] if it has any.
    async fn delete(
        &self,
        owner: &UserId,
        id: TaskId,
        expected: Expected,
        with_subtasks: bool,
    ) -> Result<Guarded<()>, StoreError>;
    /// The owner's tags (those on at least one task), with their counts, by name case-insensitively.
    async fn tags(&self, owner: &UserId) -> Result<Vec<TagSummary>, StoreError>;
    /// Renames the tag whose key is `key` on every task (each changed task gets a new version);
    /// into an existing tag, the two merge. `false` when the owner has no such tag.
    async fn rename_tag(&self, owner: &UserId, key: &str, to: TagName) -> Result<bool, StoreError>;
    /// Removes the tag from every task (each gets a new version); `false` when there is none.
    async fn delete_tag(&self, owner: &UserId, key: &str) -> Result<bool, StoreError>;
    /// Succeeds when writes can succeed: the database answers and the writer is running.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Figures for the metrics endpoint: queue depths, cache sizes, connections.
    fn gauges(&self) -> Vec<Gauge> {
        Vec::new()
    }
}

/// An owner's lists. A list's `tasks` and `open` are kept by every task write in the write's
/// own transaction. Writes that move or delete tasks change the owner's task-list version, as
/// every task write does.
#[async_trait]
pub trait ListStore: Send + Sync + 'static {
    /// The owner's lists, by position, then name (case-insensitively), then id.
    async fn lists(&self, owner: &UserId) -> Result<Vec<List>, StoreError>;
    async fn get_list(&self, owner: &UserId, id: ListId) -> Result<Option<List>, StoreError>;
    /// Fails with [`StoreError::ListNameTaken`] or [`StoreError::ListLimitReached`].
    async fn create_list(&self, owner: &UserId, draft: ListDraft) -> Result<List, StoreError>;
    /// Replaces name, colour and position if the list's version is `expected`; a draft that
    /// changes nothing keeps the version.
    async fn replace_list(
        &self,
        owner: &UserId,
        id: ListId,
        draft: ListDraft,
        expected: Expected,
    ) -> Result<Guarded<List>, StoreError>;
    /// Deletes the list if its version is `expected`, doing `tasks` with its tasks; fails with
    /// [`StoreError::ListNotEmpty`] when it has some and `tasks` is [`ListTasks::Keep`].
    async fn delete_list(
        &self,
        owner: &UserId,
        id: ListId,
        expected: Expected,
        tasks: ListTasks,
    ) -> Result<Guarded<()>, StoreError>;
}

pub type DynListStore = Arc<dyn ListStore>;

/// One figure a store reports; `name` is a Prometheus metric name.
#[derive(Debug, Clone, PartialEq)]
pub struct Gauge {
    pub name: &'static str,
    pub value: f64,
}

pub type DynTaskStore = Arc<dyn TaskStore>;

/// Which database, and how to use it.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite(sqlite::SqliteOptions),
    Postgres(Box<postgres::PgOptions>),
}

/// What [`connect`] needs: the backend and the limits every store applies.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub backend: Backend,
    /// Bytes of rendered list pages kept in memory (0: no cache).
    pub list_cache_bytes: usize,
    /// The most tasks one owner may have.
    pub max_tasks_per_user: u64,
}

impl StoreConfig {
    /// The SQLite database file, when the backend is SQLite.
    pub fn sqlite_path(&self) -> Option<&std::path::Path> {
        match &self.backend {
            Backend::Sqlite(options) => Some(&options.path),
            Backend::Postgres(_) => None,
        }
    }
}

/// Every store of the service, on one shared database handle.
#[derive(Clone)]
pub struct Stores {
    pub tasks: DynTaskStore,
    pub lists: DynListStore,
    pub accounts: accounts::DynAccountStore,
}

impl Stores {
    /// The account store of one concern, for the service that needs only it.
    pub fn sessions(&self) -> Arc<dyn accounts::SessionStore> {
        self.accounts.clone()
    }

    pub fn users(&self) -> Arc<dyn accounts::UserStore> {
        self.accounts.clone()
    }

    pub fn limits(&self) -> Arc<dyn accounts::LimitStore> {
        self.accounts.clone()
    }

    pub fn keys(&self) -> Arc<dyn accounts::KeyStore> {
        self.accounts.clone()
    }
}

/// Opens (creating and migrating as needed) the database `config` names, and the stores on it.
pub async fn connect(config: &StoreConfig) -> Result<Stores, StoreError> {
    let (tasks, lists, accounts): (DynTaskStore, DynListStore, accounts::DynAccountStore) =
        match &config.backend {
            Backend::Sqlite(options) => {
                let db = sqlite::SqliteDb::open(options.clone())?;
                let accounts = Arc::new(sqlite::SqliteAccountStore::new(db.clone()));
                let tasks = Arc::new(sqlite::SqliteTaskStore::new(db, config.max_tasks_per_user));
                (tasks.clone(), tasks, accounts)
            }
            Backend::Postgres(options) => {
                let db = postgres::PgDb::connect((**options).clone()).await?;
                let accounts = Arc::new(postgres::PgAccountStore::new(db.clone()));
                let tasks = Arc::new(postgres::PgTaskStore::new(db, config.max_tasks_per_user));
                (tasks.clone(), tasks, accounts)
            }
        };
    let tasks = match config.list_cache_bytes {
        0 => tasks,
        bytes => Arc::new(cached::CachedTaskStore::new(tasks, bytes)),
    };
    Ok(Stores { tasks, lists, accounts })
}

/// What opening a database did to its schema: the version it was at, and the one it is at now
/// (the migrations `from + 1 ..= to` were applied).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaChange {
    pub from: usize,
    pub to: usize,
}

impl std::fmt::Display for SchemaChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.to - self.from.min(self.to) {
            0 => write!(f, "is up to date (schema version {})", self.to),
            1 => write!(f, "applied migration {} (schema version {})", self.to, self.to),
            _ => write!(
                f,
                "applied migrations {} to {} (schema version {})",
                self.from + 1,
                self.to,
                self.to
            ),
        }
    }
}

/// Creates or upgrades the schema of the database `config` names; returns where it is, fit for
/// a message (no credentials), and what was done.
pub async fn migrate(config: &StoreConfig) -> Result<(String, SchemaChange), StoreError> {
    match &config.backend {
        Backend::Sqlite(options) => {
            let db = sqlite::SqliteDb::open(options.clone())?;
            Ok((options.path.display().to_string(), db.schema))
        }
        Backend::Postgres(options) => {
            let db = postgres::PgDb::connect((**options).clone()).await?;
            Ok((options.redacted(), db.schema))
        }
    }
}

pub(crate) use crate::ground::clock::unix_now;

/// The default time a PostgreSQL connection may take to be had (pool wait and connect).
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_millis(1000);
/// The default time one database call may run once it has its connection.
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_millis(1500);
