//! The embedded SQLite backend.
//!
//! Reads run inline on the calling task through a small pool of read-only connections: a page of at
//! most 500 rows read from a WAL snapshot costs microseconds, far less than a hop to a blocking
//! thread, and WAL readers never wait for the writer. All writes go to one writer thread that
//! commits whatever has queued up in a single `BEGIN IMMEDIATE` transaction (group commit), each
//! write in its own savepoint; a caller is answered only after its transaction is durable, so a
//! write is visible to the very next read.

use async_trait::async_trait;
use rusqlite::types::Type;
use rusqlite::{
    Connection, ErrorCode as SqliteCode, OpenFlags, OptionalExtension, Row, TransactionBehavior,
    params,
};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot};

use super::cache::ListCache;
use super::{CreateOutcome, Gauge, StoreError, TaskStore};
use crate::auth::UserId;
use crate::fence;
use crate::tasks::idempotency::{Fingerprint, IdempotencyKey, KEY_LIFETIME_SECS};
use crate::tasks::{Completion, PageRequest, Task, TaskDraft, TaskId, TaskPage, timestamp_now};

const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_tasks.sql"),
    include_str!("../../migrations/sqlite/0002_idempotency.sql"),
];
/// Writes queued beyond this wait (back-pressure) rather than grow memory without bound.
const WRITE_QUEUE: usize = 4096;
/// The most writes one transaction commits; bounds the latency a batch adds.
const MAX_BATCH: usize = 512;
/// Least seconds between two purges of expired idempotency keys.
const PURGE_EVERY_SECS: i64 = 60;
/// The most expired keys one purge deletes, so that a purge adds little to its batch.
const PURGE_LIMIT: usize = 1000;
const COLUMNS: &str =
    "id, user_id, title, description, completed, completed_at, created_at, updated_at";

/// SQLite's `synchronous` setting: FULL survives power loss; NORMAL may lose the last commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Synchronous {
    Full,
    Normal,
}

#[derive(Debug, Clone)]
pub struct SqliteOptions {
    pub path: PathBuf,
    pub synchronous: Synchronous,
    /// How long a statement waits for a lock held by another process before the request is a 503.
    pub busy_timeout: Duration,
    /// Bytes of list pages kept in memory (0: none).
    pub list_cache_bytes: usize,
}

impl SqliteOptions {
    /// Accepts `sqlite://path` or `sqlite:path` (a query string such as `?mode=rwc` is ignored).
    /// Defaults: `synchronous=FULL`, a 2 s busy timeout, 16 MiB of list cache.
    pub fn from_url(url: &str) -> Option<Self> {
        let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
        let path = rest.split('?').next().filter(|path| !path.is_empty())?;
        Some(Self {
            path: PathBuf::from(path),
            synchronous: Synchronous::Full,
            busy_timeout: Duration::from_secs(2),
            list_cache_bytes: 16 << 20,
        })
    }
}

type Reply = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// A write: runs inside the batch transaction, says whether it succeeded, and returns how to
/// answer its caller once the batch's fate is known.
type WriteJob = Box<dyn FnOnce(&Connection) -> (bool, Reply) + Send>;

pub struct SqliteStore {
    options: SqliteOptions,
    readers: Mutex<Vec<Connection>>,
    writer: mpsc::Sender<WriteJob>,
    /// Only this process writes the file, so invalidating on our own commits keeps it exact.
    pages: Arc<ListCache>,
    /// The Unix second from which the next idempotent create also purges expired keys.
    next_purge: Arc<AtomicI64>,
}

impl SqliteStore {
    /// Opens (creating it and its folder if needed) and migrates the database, and starts the writer.
    pub fn open(options: SqliteOptions) -> Result<Arc<Self>, StoreError> {
        if let Some(dir) = options.path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let mut conn = open_connection(&options, false).map_err(classify)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(classify)?;
        migrate(&mut conn)?;
        let (writer, queue) = mpsc::channel(WRITE_QUEUE);
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run_writer(conn, queue))
            .map_err(|e| StoreError::Internal(format!("cannot start the writer thread: {e}")))?;
        let pages = Arc::new(ListCache::new(options.list_cache_bytes));
        Ok(Arc::new(Self {
            options,
            readers: Mutex::new(Vec::new()),
            writer,
            pages,
            next_purge: Arc::new(AtomicI64::new(0)),
        }))
    }

    pub fn path(&self) -> &Path {
        &self.options.path
    }

    /// Runs `f` on a pooled read-only connection. The pool never holds more connections than
    /// there were concurrent readers, which is at most the number of runtime worker threads.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let pooled = self.readers.lock().map_err(|_| poisoned())?.pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => open_connection(&self.options, true).map_err(classify)?,
        };
        let result = f(&conn).map_err(classify);
        self.readers.lock().map_err(|_| poisoned())?.push(conn);
        result
    }

    /// Runs `f` in the writer's next batch and answers once the batch is durable, after
    /// invalidating `owner`'s cached pages.
    async fn write<T: Send + 'static>(
        &self,
        owner: &UserId,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (answer, answered) = oneshot::channel();
        let (pages, owner) = (self.pages.clone(), owner.as_str().to_owned());
        let fence = fence::current();
        let job: WriteJob = Box::new(move |conn| {
            // A request already answered with a timeout must not change anything.
            let result = if fence::begin_write(fence.as_deref()) {
                f(conn).map_err(classify)
            } else {
                Err(StoreError::Unavailable("the request timed out before its write".into()))
            };
            let succeeded = result.is_ok();
            let reply: Reply = Box::new(move |committed| {
                pages.invalidate(&owner);
                let _ = answer.send(committed.and(result));
            });
            (succeeded, reply)
        });
        let gone = || StoreError::Unavailable("the writer has stopped".into());
        self.writer.send(job).await.map_err(|_| gone())?;
        answered.await.map_err(|_| gone())?
    }

    /// [`TaskStore::create_once`] at Unix second `now` (tests move the clock).
    async fn create_once_at(
        &self,
        owner: &UserId,
        draft: TaskDraft,
        key: &IdempotencyKey,
        now: i64,
    ) -> Result<CreateOutcome, StoreError> {
        let fingerprint = Fingerprint::of(&draft);
        let task = new_task(owner, draft);
        let key = key.as_str().to_owned();
        let purge = self.claim_purge(now);
        let next_purge = self.next_purge.clone();
        // One job, so the lookup, the task and its key share a transaction, and the writer
        // thread runs jobs one after another: of concurrent requests with one key, the first
        // creates and the others find its row.
        self.write(owner, move |conn| {
            if purge && purge_expired_keys(conn, now)? == PURGE_LIMIT {
                // More may be left: let the next create go on purging.
                next_purge.store(now, Ordering::Relaxed);
            }
            let found = conn
                .prepare_cached(
                    "SELECT fingerprint, response, created_at FROM idempotency_keys \
                     WHERE user_id = ?1 AND key = ?2",
                )?
                .query_row(params![task.user_id, key], |row| {
                    Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, String>(1)?, row.get::<_, i64>(2)?))
                })
                .optional()?;
            if let Some((stored, response, created_at)) = found
                && now - created_at < KEY_LIFETIME_SECS
            {
                if stored != fingerprint.0 {
                    return Ok(CreateOutcome::KeyReused);
                }
                let first = serde_json::from_str(&response).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(1, Type::Text, e.into())
                })?;
                return Ok(CreateOutcome::Replayed(first));
            }
            insert_task(conn, &task)?;
            let response = serde_json::to_string(&task)
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
            // An expired row for this key is taken over by the new request.
            conn.prepare_cached(
                "INSERT INTO idempotency_keys \
                 (user_id, key, fingerprint, task_id, response, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (user_id, key) DO UPDATE SET fingerprint = excluded.fingerprint, \
                 task_id = excluded.task_id, response = excluded.response, \
                 created_at = excluded.created_at",
            )?
            .execute(params![
                task.user_id,
                key,
                fingerprint.0,
                task.id,
                response,
                now
            ])?;
            Ok(CreateOutcome::Created(task))
        })
        .await
    }

    /// `true` for the one caller that should purge expired keys now: at most once a minute.
    fn claim_purge(&self, now: i64) -> bool {
        let due = self.next_purge.load(Ordering::Relaxed);
        now >= due
            && self
                .next_purge
                .compare_exchange(due, now + PURGE_EVERY_SECS, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

/// Deletes up to [`PURGE_LIMIT`] keys that expired by `now`; returns how many.
fn purge_expired_keys(conn: &Connection, now: i64) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "DELETE FROM idempotency_keys WHERE (user_id, key) IN \
         (SELECT user_id, key FROM idempotency_keys WHERE created_at <= ?1 LIMIT ?2)",
    )?
    .execute(params![now - KEY_LIFETIME_SECS, PURGE_LIMIT as i64])
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
}

/// A new task for `owner`, stamped now.
fn new_task(owner: &UserId, draft: TaskDraft) -> Task {
    let now = timestamp_now();
    Task {
        id: TaskId::new().to_string(),
        user_id: owner.as_str().to_owned(),
        title: draft.title,
        description: draft.description,
        completed: draft.completed,
        completed_at: draft.completed.then(|| now.clone()),
        created_at: now.clone(),
        updated_at: now,
    }
}

fn insert_task(conn: &Connection, task: &Task) -> rusqlite::Result<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO tasks ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    ))?
    .execute(params![
        task.id,
        task.user_id,
        task.title,
        task.description,
        task.completed,
        task.completed_at,
        task.created_at,
        task.updated_at
    ])?;
    Ok(())
}

fn open_connection(options: &SqliteOptions, read_only: bool) -> rusqlite::Result<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(&options.path, flags)?;
    conn.busy_timeout(options.busy_timeout)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    let synchronous = match options.synchronous {
        Synchronous::Full => "FULL",
        Synchronous::Normal => "NORMAL",
    };
    conn.pragma_update(None, "synchronous", synchronous)?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(classify)?;
    let applied: i64 =
        tx.query_row("PRAGMA user_version", [], |row| row.get(0)).map_err(classify)?;
    let applied = usize::try_from(applied).unwrap_or(usize::MAX);
    if applied > MIGRATIONS.len() {
        return Err(StoreError::Internal(format!(
            "the database is at schema version {applied}, newer than this taskgate ({}); upgrade taskgate",
            MIGRATIONS.len()
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        tx.execute_batch(sql).map_err(classify)?;
        tx.pragma_update(None, "user_version", index as i64 + 1).map_err(classify)?;
    }
    tx.commit().map_err(classify)
}

fn run_writer(conn: Connection, mut queue: mpsc::Receiver<WriteJob>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.blocking_recv().map(|job| batch.push(job)).is_some() {
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(&conn, batch.drain(..));
    }
}

fn commit_batch(conn: &Connection, jobs: impl Iterator<Item = WriteJob>) {
    let mut replies = Vec::with_capacity(MAX_BATCH);
    let outcome = (|| {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        for job in jobs {
            conn.execute_batch("SAVEPOINT job")?;
            let (succeeded, reply) = job(conn);
            replies.push(reply);
            // A failed write is undone alone; the others in the batch still commit.
            if !succeeded {
                conn.execute_batch("ROLLBACK TO job")?;
            }
            conn.execute_batch("RELEASE job")?;
        }
        conn.execute_batch("COMMIT")
    })();
    if outcome.is_err() && !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    for reply in replies {
        reply(outcome.as_ref().map(|_| ()).map_err(classify_ref));
    }
    // Jobs never started (BEGIN failed) are dropped here, which answers their callers with an error.
}

fn poisoned() -> StoreError {
    StoreError::Internal("reader pool lock poisoned".into())
}

fn classify(error: rusqlite::Error) -> StoreError {
    classify_ref(&error)
}

fn classify_ref(error: &rusqlite::Error) -> StoreError {
    match error.sqlite_error_code() {
        Some(
            SqliteCode::DatabaseBusy
            | SqliteCode::DatabaseLocked
            | SqliteCode::CannotOpen
            | SqliteCode::DiskFull
            | SqliteCode::SystemIoFailure
            | SqliteCode::OutOfMemory,
        ) => StoreError::Unavailable(error.to_string()),
        _ => StoreError::Internal(error.to_string()),
    }
}

fn task_from_row(row: &Row<'_>) -> rusqlite::Result<Task> {
    Ok(Task {
        id: row.get(0)?,
        user_id: row.get(1)?,
        title: row.get(2)?,
        description: row.get(3)?,
        completed: row.get(4)?,
        completed_at: row.get(5)?,
        created_at: row.get(6)?,
        updated_at: row.get(7)?,
    })
}

#[async_trait]
impl TaskStore for SqliteStore {
    async fn list(&self, owner: &UserId, page: PageRequest) -> Result<Arc<TaskPage>, StoreError> {
        let ticket = match self.pages.get(owner.as_str(), page) {
            Ok(cached) => {
                crate::metrics::count("taskgate_list_cache_hits_total");
                return Ok(cached);
            }
            Err(ticket) => ticket,
        };
        crate::metrics::count("taskgate_list_cache_misses_total");
        let found = Arc::new(self.read(|conn| {
            // One row past the page tells whether another follows; the scan runs in key order, so
            // taking rows stops it early. Parameters are CAST because SQLite re-prepares a statement
            // on every run when its plan (here, the ORDER BY) depends on a bound value, and a bound
            // `LIMIT` would do the same: see `list_statements_are_prepared_once`.
            let fetch = page.limit as usize + 1;
            let mut tasks = match page.after {
                None => conn
                    .prepare_cached(&format!(
                        "SELECT {COLUMNS} FROM tasks WHERE user_id = CAST(?1 AS TEXT) ORDER BY id DESC"
                    ))?
                    .query_map(params![owner.as_str()], task_from_row)?
                    .take(fetch)
                    .collect::<rusqlite::Result<Vec<_>>>()?,
                Some(after) => conn
                    .prepare_cached(&format!(
                        "SELECT {COLUMNS} FROM tasks WHERE user_id = CAST(?1 AS TEXT) AND id < CAST(?2 AS TEXT) \
                         ORDER BY id DESC"
                    ))?
                    .query_map(params![owner.as_str(), after.to_string()], task_from_row)?
                    .take(fetch)
                    .collect::<rusqlite::Result<Vec<_>>>()?,
            };
            let total: i64 = conn
                .prepare_cached("SELECT count(*) FROM tasks WHERE user_id = ?1")?
                .query_row([owner.as_str()], |row| row.get(0))?;
            let next = if tasks.len() > page.limit as usize {
                tasks.truncate(page.limit as usize);
                tasks.last().and_then(|task| TaskId::parse(&task.id).ok())
            } else {
                None
            };
            Ok(TaskPage::new(tasks, total.unsigned_abs(), next))
        })?);
        self.pages.put(owner.as_str(), page, ticket, found.clone());
        Ok(found)
    }

    async fn get(&self, owner: &UserId, id: TaskId) -> Result<Option<Task>, StoreError> {
        self.read(|conn| {
            conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM tasks WHERE user_id = ?1 AND id = ?2"
            ))?
            .query_row(params![owner.as_str(), id.to_string()], task_from_row)
            .optional()
        })
    }

    async fn create(&self, owner: &UserId, draft: TaskDraft) -> Result<Task, StoreError> {
        let task = new_task(owner, draft);
        self.write(owner, move |conn| insert_task(conn, &task).map(|()| task)).await
    }

    async fn create_once(
        &self,
        owner: &UserId,
        draft: TaskDraft,
        key: &IdempotencyKey,
    ) -> Result<CreateOutcome, StoreError> {
        self.create_once_at(owner, draft, key, unix_now()).await
    }

    async fn replace(
        &self,
        owner: &UserId,
        id: TaskId,
        draft: TaskDraft,
    ) -> Result<Option<Task>, StoreError> {
        let (user, now) = (owner.as_str().to_owned(), timestamp_now());
        self.write(owner, move |conn| {
            conn.prepare_cached(&format!(
                "UPDATE tasks SET title = ?3, description = ?4, completed = ?5, \
                 completed_at = CASE WHEN ?5 THEN coalesce(completed_at, ?6) END, updated_at = ?6 \
                 WHERE user_id = ?1 AND id = ?2 RETURNING {COLUMNS}"
            ))?
            .query_row(
                params![user, id.to_string(), draft.title, draft.description, draft.completed, now],
                task_from_row,
            )
            .optional()
        })
        .await
    }

    async fn set_completion(
        &self,
        owner: &UserId,
        id: TaskId,
        completion: Completion,
    ) -> Result<Option<Task>, StoreError> {
        let (user, now) = (owner.as_str().to_owned(), timestamp_now());
        let set_to = match completion {
            Completion::Toggle => None,
            Completion::Set(completed) => Some(completed),
        };
        self.write(owner, move |conn| {
            // Right-hand sides see the old row, so `completed` below is the value before the update.
            conn.prepare_cached(&format!(
                "UPDATE tasks SET completed = coalesce(?3, 1 - completed), \
                 completed_at = CASE WHEN coalesce(?3, 1 - completed) THEN coalesce(completed_at, ?4) END, \
                 updated_at = ?4 WHERE user_id = ?1 AND id = ?2 RETURNING {COLUMNS}"
            ))?
            .query_row(params![user, id.to_string(), set_to, now], task_from_row)
            .optional()
        })
        .await
    }

    async fn delete(&self, owner: &UserId, id: TaskId) -> Result<bool, StoreError> {
        let user = owner.as_str().to_owned();
        self.write(owner, move |conn| {
            let deleted = conn
                .prepare_cached("DELETE FROM tasks WHERE user_id = ?1 AND id = ?2")?
                .execute(params![user, id.to_string()])?;
            Ok(deleted > 0)
        })
        .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|conn| conn.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(())))
    }

    fn gauges(&self) -> Vec<Gauge> {
        let (cached_bytes, cached_users) = self.pages.usage();
        let readers = self.readers.lock().map_or(0, |readers| readers.len());
        vec![
            Gauge {
                name: "taskgate_db_writer_queue",
                value: (WRITE_QUEUE - self.writer.capacity()) as f64,
            },
            Gauge { name: "taskgate_db_idle_readers", value: readers as f64 },
            Gauge { name: "taskgate_list_cache_bytes", value: cached_bytes as f64 },
            Gauge { name: "taskgate_list_cache_users", value: cached_users as f64 },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fence::WriteFence;
    use rusqlite::StatementStatus;

    fn open_store(dir: &tempfile::TempDir) -> Arc<SqliteStore> {
        let url = format!("sqlite://{}/t.db", dir.path().display());
        SqliteStore::open(SqliteOptions::from_url(&url).unwrap()).unwrap()
    }

    /// A second, writable connection to the store's file, as another process would have.
    fn side_connection(store: &SqliteStore) -> Connection {
        open_connection(&store.options, false).unwrap()
    }

    fn draft(title: &str) -> TaskDraft {
        TaskDraft { title: title.into(), description: None, completed: false }
    }

    fn key(value: &str) -> IdempotencyKey {
        IdempotencyKey::parse(value).unwrap()
    }

    fn keys_stored(store: &SqliteStore) -> Vec<String> {
        store
            .read(|conn| {
                conn.prepare("SELECT key FROM idempotency_keys ORDER BY key")?
                    .query_map([], |row| row.get(0))?
                    .collect()
            })
            .unwrap()
    }

    async fn task_count(store: &SqliteStore, owner: &UserId) -> u64 {
        store.list(owner, PageRequest { limit: 1, after: None }).await.unwrap().total
    }

    #[tokio::test]
    async fn a_key_is_replayed_for_24_hours_and_then_names_a_new_request() {
        let dir = tempfile::tempdir().unwrap();
        let store = open_store(&dir);
        let (owner, k, t0) = (UserId::parse("u").unwrap(), key("k"), unix_now());

        let CreateOutcome::Created(first) =
            store.create_once_at(&owner, draft("a"), &k, t0).await.unwrap()
        else {
            panic!("a new key creates")
        };
        let last_second = t0 + KEY_LIFETIME_SECS - 1;
        assert_eq!(
            store.create_once_at(&owner, draft("a"), &k, last_second).await.unwrap(),
            CreateOutcome::Replayed(first.clone())
        );
        assert_eq!(
            store.create_once_at(&owner, draft("b"), &k, last_second).await.unwrap(),
            CreateOutcome::KeyReused
        );

        let expired = t0 + KEY_LIFETIME_SECS;
        let CreateOutcome::Created(second) =
            store.create_once_at(&owner, draft("b"), &k, expired).await.unwrap()
        else {
            panic!("an expired key creates again")
        };
        assert_ne!(second.id, first.id);
        assert_eq!(
            store.create_once_at(&owner, draft("a"), &k, expired + 1).await.unwrap(),
            CreateOutcome::KeyReused,
            "the key now stands for the second request"
        );
        assert_eq!(task_count(&store, &owner).await, 2);
    }

    #[tokio::test]
    async fn expired_keys_are_purged_at_most_once_a_minute() {
        let dir = tempfile::tempdir().unwrap();
        let store = open_store(&dir);
        let (owner, t0) = (UserId::parse("u").unwrap(), unix_now());
        let create = async |name: &str, at: i64| {
            store.create_once_at(&owner, draft(name), &key(name), at).await.unwrap();
        };
        create("k1", t0).await;
        create("k2", t0 + 1).await;
        let day = t0 + KEY_LIFETIME_SECS;
        create("k3", day).await;
        assert_eq!(keys_stored(&store), ["k2", "k3"], "k1 expired and was purged");
        create("k4", day + PURGE_EVERY_SECS - 1).await;
        assert_eq!(keys_stored(&store), ["k2", "k3", "k4"], "k2 expired, but a purge ran lately");
        create("k5", day + PURGE_EVERY_SECS).await;
        assert_eq!(keys_stored(&store), ["k3", "k4", "k5"]);
    }

    #[tokio::test]
    async fn a_purge_that_reaches_its_limit_lets_the_next_create_purge_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = open_store(&dir);
        let (owner, now) = (UserId::parse("u").unwrap(), unix_now());
        let mut side = side_connection(&store);
        let tx = side.transaction().unwrap();
        for n in 0..PURGE_LIMIT + 10 {
            tx.execute(
                "INSERT INTO idempotency_keys VALUES ('v', ?1, zeroblob(32), 'id', '{}', ?2)",
                params![format!("old{n:05}"), now - KEY_LIFETIME_SECS],
            )
            .unwrap();
        }
        tx.commit().unwrap();
        store.create_once_at(&owner, draft("a"), &key("a"), now).await.unwrap();
        assert_eq!(keys_stored(&store).len(), 11, "one purge deletes at most PURGE_LIMIT keys");
        store.create_once_at(&owner, draft("b"), &key("b"), now + 1).await.unwrap();
        assert_eq!(keys_stored(&store), ["a", "b"], "the next create purged the rest at once");
    }

    #[tokio::test]
    async fn a_write_refused_by_a_timed_out_request_records_neither_task_nor_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = open_store(&dir);
        let owner = UserId::parse("u").unwrap();
        let fence = WriteFence::new();
        assert!(fence.abandon());
        let refused = fence.scope(store.create_once(&owner, draft("a"), &key("k"))).await;
        assert!(matches!(refused, Err(StoreError::Unavailable(_))), "{refused:?}");
        assert_eq!(task_count(&store, &owner).await, 0);
        assert!(keys_stored(&store).is_empty());
        let retried = store.create_once(&owner, draft("b"), &key("k")).await.unwrap();
        assert!(matches!(retried, CreateOutcome::Created(_)), "the key is still free: {retried:?}");
    }

    #[tokio::test]
    async fn the_key_and_its_task_commit_or_fail_together() {
        let dir = tempfile::tempdir().unwrap();
        let store = open_store(&dir);
        let owner = UserId::parse("u").unwrap();
        side_connection(&store)
            .execute_batch(
                "CREATE TRIGGER no_keys BEFORE INSERT ON idempotency_keys \
                 BEGIN SELECT RAISE(ABORT, 'refused'); END;",
            )
            .unwrap();
        let failed = store.create_once(&owner, draft("a"), &key("k")).await;
        assert!(
            matches!(&failed, Err(StoreError::Internal(cause)) if cause.contains("refused")),
            "the key's insert failed: {failed:?}"
        );
        assert_eq!(task_count(&store, &owner).await, 0, "the task was rolled back with its key");
    }

    #[tokio::test]
    async fn list_statements_are_prepared_once() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db", dir.path().display());
        let options =
            SqliteOptions { list_cache_bytes: 0, ..SqliteOptions::from_url(&url).unwrap() };
        let store = SqliteStore::open(options).unwrap();
        let owner = UserId::parse("u").unwrap();
        for n in 0..3 {
            let draft = TaskDraft { title: format!("t{n}"), description: None, completed: false };
            store.create(&owner, draft).await.unwrap();
        }
        let first = store.list(&owner, PageRequest { limit: 2, after: None }).await.unwrap();
        let after = first.next;
        for limit in [2, 100, 500, 2] {
            store.list(&owner, PageRequest { limit, after: None }).await.unwrap();
            store.list(&owner, PageRequest { limit, after }).await.unwrap();
        }
        let conn = store.readers.lock().unwrap().pop().unwrap();
        let mut cached = 0;
        for sql in [
            format!(
                "SELECT {COLUMNS} FROM tasks WHERE user_id = CAST(?1 AS TEXT) ORDER BY id DESC"
            ),
            format!(
                "SELECT {COLUMNS} FROM tasks WHERE user_id = CAST(?1 AS TEXT) AND id < CAST(?2 AS TEXT) \
                 ORDER BY id DESC"
            ),
        ] {
            let statement = conn.prepare_cached(&sql).unwrap();
            assert!(
                statement.get_status(StatementStatus::Run) >= 4,
                "the list used this statement"
            );
            assert_eq!(statement.get_status(StatementStatus::RePrepare), 0, "{sql}");
            cached += 1;
        }
        assert_eq!(cached, 2);
    }
}
