//! The embedded SQLite backend: one shared database handle ([`SqliteDb`]) that every store uses.
//!
//! One process owns a database file: [`SqliteDb::open`] takes an exclusive lock on a file beside
//! it and refuses to start when another process holds it. Point reads run inline on the calling
//! task through a small pool of read-only connections (microseconds, less than a hop to a blocking
//! thread); reads that can take longer, such as a page of up to 500 rows, run on blocking threads.
//! WAL readers never wait for the writer. All writes go to one writer thread that commits whatever
//! has queued up in a single `BEGIN IMMEDIATE` transaction (group commit), each write in its own
//! savepoint; a caller is answered only after its transaction is durable, so a write is visible to
//! the very next read.
//!
//! Checkpoints (copying the WAL back into the database file, and an `fsync` of that file) run on a
//! checkpointer thread of their own. SQLite's automatic checkpoint would run them inside the
//! writer's `COMMIT`, holding up that batch's answers and every write queued behind it for as long
//! as the copy and the `fsync` take: that was the write-latency tail under load.

mod accounts;
mod lists;
mod tags;
mod task_list;
mod task_sql;
mod task_tree;
mod tasks;
mod writer;

pub use accounts::SqliteAccountStore;
pub use tasks::SqliteTaskStore;

use crate::store::UserId;
use rusqlite::hooks::Wal;
use rusqlite::{Connection, ErrorCode as SqliteCode, OpenFlags, TransactionBehavior};
// foldhash (seeded per process), not SipHash: these maps are read on every request.
use foldhash::HashMap;
use std::ffi::c_int;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc as std_mpsc};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

use super::{Gauge, StoreError};
use crate::ground::fence;
use writer::{after_commit, run_checkpointer, run_writer};

const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/sqlite/0001_tasks.sql"),
    include_str!("../../../migrations/sqlite/0002_idempotency.sql"),
    include_str!("../../../migrations/sqlite/0003_owners.sql"),
    include_str!("../../../migrations/sqlite/0004_accounts.sql"),
    include_str!("../../../migrations/sqlite/0005_signing_keys.sql"),
    include_str!("../../../migrations/sqlite/0006_rate_limits.sql"),
    include_str!("../../../migrations/sqlite/0007_audit.sql"),
    include_str!("../../../migrations/sqlite/0008_session_expiry.sql"),
    include_str!("../../../migrations/sqlite/0009_deleted_users.sql"),
    include_str!("../../../migrations/sqlite/0010_organising.sql"),
    include_str!("../../../migrations/sqlite/0011_owner_counts.sql"),
    include_str!("../../../migrations/sqlite/0012_lists.sql"),
];
/// How much of the database file readers read through a memory map (address space, not
/// memory: the pages are the kernel's page cache); a larger file reads the rest as before.
const MMAP_BYTES: i64 = 1 << 30;
/// Writes queued beyond this wait (back-pressure) rather than grow memory without bound.
const WRITE_QUEUE: usize = 4096;
/// The most writes one transaction commits; bounds the latency a batch adds.
const MAX_BATCH: usize = 512;
/// WAL pages past which the checkpointer is woken after a commit: about 32 MiB at the default
/// page size, eight times SQLite's default. Each checkpoint ends with an `fsync` of every database
/// page it copied, on the writer (see `after_commit`), and any WAL `fsync` meeting it waits too:
/// 15-25 ms with all writes queued behind it, about six times a second under steady writes at
/// SQLite's default. A page written often is copied once per checkpoint, so fewer, larger
/// checkpoints write the database file less in all: at 8,000 pages the stalls come about 1.6
/// times a second instead of six.
const CHECKPOINT_PAGES: c_int = 8000;
/// WAL pages past which the writer checkpoints itself (slowing writes down), so the WAL stays
/// bounded when the checkpointer cannot keep up: about 128 MiB at the default page size.
const WAL_LIMIT_PAGES: c_int = 32_000;
/// SQLite's default page size, which the database keeps.
#[cfg(test)]
const PAGE_BYTES: i64 = 4096;
/// A WAL file larger than this is cut back to it when SQLite starts it over.
const WAL_KEEP_BYTES: i64 = 64 << 20;

/// SQLite's `synchronous` setting: FULL survives power loss; NORMAL may lose the last commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    Full,
    Normal,
}

#[derive(Debug, Clone)]
pub struct SqliteOptions {
    pub path: PathBuf,
    pub synchronous: Synchronous,
    /// How long a statement waits for a lock held by another connection before the request is a 503.
    pub busy_timeout: Duration,
}

impl SqliteOptions {
    /// Accepts `sqlite://path` or `sqlite:path` (a query string such as `?mode=rwc` is ignored).
    /// Defaults: `synchronous=FULL`, a 2 s busy timeout.
    pub fn from_url(url: &str) -> Option<Self> {
        let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
        let path = rest.split('?').next().filter(|path| !path.is_empty())?;
        Some(Self {
            path: PathBuf::from(path),
            synchronous: Synchronous::Full,
            busy_timeout: Duration::from_secs(2),
        })
    }

    /// Whether `url` asks for an in-memory database, which each connection would see as a
    /// different, empty database: the writer and the readers would not share one.
    pub fn names_memory(url: &str) -> bool {
        let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"));
        rest.is_some_and(|rest| {
            let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
            path == ":memory:"
                || path.starts_with("file::memory:")
                || query.split('&').any(|pair| pair == "mode=memory")
        })
    }

    /// The file whose exclusive lock says which process owns the database.
    fn lock_path(&self) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push(".lock");
        PathBuf::from(name)
    }
}

type Reply = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// A write: runs inside the batch transaction, says whether it succeeded, and returns how to
/// answer its caller once the batch's fate is known.
type WriteJob = Box<dyn FnOnce(&Connection) -> (bool, Reply) + Send>;

/// The one handle on a SQLite database: its lock, its writer thread and its readers.
pub struct SqliteDb {
    options: SqliteOptions,
    readers: Mutex<Vec<Connection>>,
    writer: mpsc::Sender<WriteJob>,
    /// Held (open and locked) for as long as this handle lives.
    _owner_lock: File,
    /// Every store that changes an owner's tasks raises the owner's list version here.
    pub(super) versions: Arc<Versions>,
    checkpoints: Arc<CheckpointState>,
    /// What opening did to the schema.
    pub schema: super::SchemaChange,
}

/// What the writer and the checkpointer share.
#[derive(Default)]
struct CheckpointState {
    /// Checkpoints the checkpointer thread has run.
    done: AtomicU64,
    /// The checkpointer has copied the WAL up to where it stood when it began; the writer copies
    /// what was committed since (a few frames) after its next commit. SQLite starts the WAL over
    /// only at a write that begins once all of it has been copied, which under steady writes the
    /// checkpointer alone never sees.
    tail_left: AtomicBool,
}

/// Owners' list versions in memory, so that checking a cached page costs no read. Exact because
/// one process owns the file (its lock) and every write goes through this process's writer, which
/// raises the owner's entry once the write is durable and before anyone is answered. An owner
/// with no entry is read from the file; entries only ever move forward, so a read that raced a
/// write cannot put an older version back.
#[derive(Default)]
pub(super) struct Versions(Mutex<HashMap<UserId, u64>>);

/// Entries kept at most; past it they are dropped and read again from the file.
const MAX_VERSIONS: usize = 100_000;

impl Versions {
    pub(super) fn get(&self, owner: &UserId) -> Option<u64> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(owner).copied()
    }

    pub(super) fn raise(&self, owner: &UserId, version: u64) {
        let mut versions = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if versions.len() >= MAX_VERSIONS && !versions.contains_key(owner) {
            versions.clear();
        }
        let entry = versions.entry(owner.clone()).or_insert(version);
        *entry = (*entry).max(version);
    }
}

impl SqliteDb {
    /// Takes the database's lock, opens (creating it and its folder if needed) and migrates the
    /// database, and starts the writer.
    pub fn open(options: SqliteOptions) -> Result<Arc<Self>, StoreError> {
        if let Some(dir) = options.path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::unavailable(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let owner_lock = take_owner_lock(&options)?;
        let mut conn = open_connection(&options, false)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "journal_size_limit", WAL_KEEP_BYTES)?;
        let schema = migrate(&mut conn)?;
        let checkpoints = Arc::new(CheckpointState::default());
        let checkpoint_conn = open_connection(&options, false)?;
        // One pending wake-up is enough: a checkpoint copies everything committed before it.
        let (wake, woken) = std_mpsc::sync_channel(1);
        let state = checkpoints.clone();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || run_checkpointer(checkpoint_conn, woken, &state))
            .map_err(|e| StoreError::internal(format!("cannot start the checkpointer: {e}")))?;
        // Replaces SQLite's automatic checkpoint on this connection (it is a WAL hook too).
        let state = checkpoints.clone();
        conn.wal_hook(Some(move |wal: &mut Wal, pages: c_int| {
            after_commit(wal, pages, &wake, &state);
            Ok(())
        }))?;
        let (writer, queue) = mpsc::channel(WRITE_QUEUE);
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run_writer(conn, queue))
            .map_err(|e| StoreError::internal(format!("cannot start the writer thread: {e}")))?;
        if schema.from != schema.to {
            tracing::info!(database = %options.path.display(), "{schema}");
        }
        Ok(Arc::new(Self {
            options,
            readers: Mutex::new(Vec::new()),
            writer,
            _owner_lock: owner_lock,
            versions: Arc::default(),
            checkpoints,
            schema,
        }))
    }

    pub fn path(&self) -> &Path {
        &self.options.path
    }

    /// Runs `f` on a pooled read-only connection, on the calling thread: for point reads only.
    /// The pool never holds more connections than there were concurrent readers.
    pub fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pooled = self.readers.lock().map_err(|_| poisoned())?.pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => open_connection(&self.options, true)?,
        };
        let result = f(&conn);
        self.readers.lock().map_err(|_| poisoned())?.push(conn);
        result
    }

    /// Runs `f` like [`SqliteDb::read`], on a blocking thread: for reads that may take longer
    /// than a hop to one, so they never hold up the runtime's threads.
    pub async fn read_blocking<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.read(f))
            .await
            .map_err(|e| StoreError::internal(format!("a read panicked: {e}")))?
    }

    /// Runs `f` in the writer's next batch and answers once the batch is durable. A write that
    /// fails is rolled back alone; the others of its batch still commit.
    pub async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.write_then(f, |_| {}).await
    }

    /// [`SqliteDb::write`], and `committed` run on the write's value once it is durable, before
    /// the caller is answered, even if the caller has gone away meanwhile.
    pub async fn write_then<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
        committed: impl FnOnce(&T) + Send + 'static,
    ) -> Result<T, StoreError> {
        let (answer, answered) = oneshot::channel();
        let fence = fence::current();
        let job: WriteJob = Box::new(move |conn| {
            // A request already answered with a timeout must not change anything.
            let result = if fence::begin_write(fence.as_deref()) {
                f(conn)
            } else {
                Err(StoreError::unavailable("the request timed out before its write"))
            };
            let succeeded = result.is_ok();
            let reply: Reply = Box::new(move |outcome| {
                let result = outcome.and(result);
                if let Ok(value) = &result {
                    committed(value);
                }
                let _ = answer.send(result);
            });
            (succeeded, reply)
        });
        let gone = || StoreError::unavailable("the SQLite writer has stopped");
        self.writer.send(job).await.map_err(|_| gone())?;
        answered.await.map_err(|_| gone())?
    }

    /// Whether writes can succeed: the writer runs and a reader answers.
    pub fn ping(&self) -> Result<(), StoreError> {
        if self.writer.is_closed() {
            return Err(StoreError::unavailable("the SQLite writer has stopped"));
        }
        self.read(|conn| {
            Ok(conn.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))?)
        })
    }

    pub fn gauges(&self) -> Vec<Gauge> {
        let readers = self.readers.lock().map_or(0, |readers| readers.len());
        vec![
            Gauge {
                name: "taskgate_db_writer_queue",
                value: (WRITE_QUEUE - self.writer.capacity()) as f64,
            },
            Gauge { name: "taskgate_db_idle_readers", value: readers as f64 },
            Gauge {
                name: "taskgate_db_checkpoints",
                value: self.checkpoints.done.load(Ordering::Relaxed) as f64,
            },
        ]
    }
}

/// The exclusive lock that makes this process the database's only one: a second process on the
/// same file would serve pages cached before the first one's writes.
fn take_owner_lock(options: &SqliteOptions) -> Result<File, StoreError> {
    let path = options.lock_path();
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| StoreError::unavailable(format!("cannot open {}: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::unavailable(format!(
            "another taskgate process is using {} (it holds {}); one process owns a SQLite \
             database: stop the other one, or run several instances on PostgreSQL",
            options.path.display(),
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(StoreError::unavailable(format!("cannot lock {}: {e}", path.display())))
        }
    }
}

fn open_connection(options: &SqliteOptions, read_only: bool) -> Result<Connection, StoreError> {
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
    // Readers read pages through a memory map instead of a read() each into the connection's own
    // cache: a list walking an index reads hundreds of them (half its time, measured), and the
    // map is the kernel's page cache, shared by every reader instead of copied into each. The
    // writer keeps reading into its cache (the pages it changes are written from there anyway).
    if read_only {
        conn.pragma_update(None, "mmap_size", MMAP_BYTES)?;
    }
    // A statement per list shape (filters and sort) in use, besides the writes'.
    conn.set_prepared_statement_cache_capacity(128);
    task_sql::register_functions(&conn)?;
    // `rarray(?)`: a search's matches bound as one value (see task_list).
    rusqlite::vtab::array::load_module(&conn)?;
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<super::SchemaChange, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let applied: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let applied = usize::try_from(applied).unwrap_or(usize::MAX);
    if applied > MIGRATIONS.len() {
        return Err(StoreError::internal(format!(
            "the database is at schema version {applied}, newer than this taskgate ({}); upgrade taskgate",
            MIGRATIONS.len()
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
    }
    tx.commit()?;
    Ok(super::SchemaChange { from: applied, to: MIGRATIONS.len() })
}

fn poisoned() -> StoreError {
    StoreError::internal("reader pool lock poisoned")
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        classify(&error)
    }
}

fn classify(error: &rusqlite::Error) -> StoreError {
    match error.sqlite_error_code() {
        Some(
            SqliteCode::DatabaseBusy
            | SqliteCode::DatabaseLocked
            | SqliteCode::CannotOpen
            | SqliteCode::DiskFull
            | SqliteCode::SystemIoFailure
            | SqliteCode::OutOfMemory,
        ) => StoreError::unavailable(error.to_string()),
        _ => StoreError::internal(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(dir: &tempfile::TempDir) -> SqliteOptions {
        SqliteOptions::from_url(&format!("sqlite://{}/t.db", dir.path().display())).unwrap()
    }

    #[test]
    fn a_second_handle_on_the_same_file_is_refused_until_the_first_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let first = SqliteDb::open(options(&dir)).unwrap();
        let refused = SqliteDb::open(options(&dir)).err().expect("refused");
        let message = refused.to_string();
        assert!(message.contains("another taskgate process is using"), "{message}");
        drop(first);
        SqliteDb::open(options(&dir)).expect("the lock died with its owner");
    }

    #[test]
    fn in_memory_urls_are_recognised() {
        for url in ["sqlite://:memory:", "sqlite::memory:", "sqlite://file::memory:?cache=shared"] {
            assert!(SqliteOptions::names_memory(url), "{url}");
        }
        assert!(SqliteOptions::names_memory("sqlite://x.db?mode=memory"));
        assert!(!SqliteOptions::names_memory("sqlite://data/memory.db"));
    }

    #[test]
    fn a_version_2_database_keeps_its_tasks_and_keys_under_the_shared_secret() {
        let dir = tempfile::tempdir().unwrap();
        let options = options(&dir);
        {
            let conn = Connection::open(&options.path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.execute_batch(MIGRATIONS[1]).unwrap();
            conn.execute_batch(
                "PRAGMA user_version = 2; \
                 INSERT INTO tasks VALUES ('alice', 'a1', 'one', NULL, 0, NULL, 't', 't'), \
                 ('alice', 'a2', 'two', NULL, 1, 't', 't', 't'), \
                 ('bob', 'b1', 'three', NULL, 0, NULL, 't', 't'); \
                 INSERT INTO idempotency_keys VALUES ('alice', 'k', zeroblob(32), 'a1', '{}', 1);",
            )
            .unwrap();
        }
        let db = SqliteDb::open(options).unwrap();
        let owners: Vec<(String, String, i64, i64)> = db
            .read(|conn| {
                let mut statement = conn.prepare("SELECT * FROM task_owners ORDER BY subject")?;
                let rows = statement
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })
            .unwrap();
        assert_eq!(owners, [("".into(), "alice".into(), 2, 1), ("".into(), "bob".into(), 1, 1)]);
        let (tasks, keys): (i64, i64) = db
            .read(|conn| {
                Ok(conn.query_row(
                    "SELECT (SELECT count(*) FROM tasks WHERE issuer = ''), \
                     (SELECT count(*) FROM idempotency_keys WHERE issuer = '' AND subject = 'alice')",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?)
            })
            .unwrap();
        assert_eq!((tasks, keys), (3, 1));
    }

    #[tokio::test]
    async fn a_committed_write_runs_its_hook_even_when_its_caller_has_gone() {
        let dir = tempfile::tempdir().unwrap();
        let db = SqliteDb::open(options(&dir)).unwrap();
        // A first write holds the writer until released, so the second one waits in the queue.
        let (release, released) = std::sync::mpsc::channel::<()>();
        let holder = {
            let db = db.clone();
            tokio::spawn(async move {
                db.write(move |_| {
                    let _ = released.recv();
                    Ok(())
                })
                .await
            })
        };
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let caller = {
            let (db, ran) = (db.clone(), ran.clone());
            tokio::spawn(async move {
                let hook = move |_: &()| ran.store(true, std::sync::atomic::Ordering::SeqCst);
                db.write_then(|conn| Ok(conn.execute_batch("SELECT 1")?), hook).await
            })
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while WRITE_QUEUE - db.writer.capacity() < 1 && std::time::Instant::now() < deadline {
            tokio::task::yield_now().await;
        }
        caller.abort();
        assert!(caller.await.unwrap_err().is_cancelled());
        release.send(()).unwrap();
        holder.await.unwrap().unwrap();
        // The hook runs on the writer thread before it answers the (gone) caller.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !ran.load(std::sync::atomic::Ordering::SeqCst) && std::time::Instant::now() < deadline
        {
            tokio::task::yield_now().await;
        }
        assert!(ran.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wal_starts_over_under_steady_writes() {
        let dir = tempfile::tempdir().unwrap();
        let db = SqliteDb::open(options(&dir)).unwrap();
        db.write(|conn| Ok(conn.execute_batch("CREATE TABLE filler (data BLOB)")?)).await.unwrap();
        // 8 writers x 64 KiB writes, three checkpoints' worth (about 94 MiB) through the WAL,
        // with writes arriving while every checkpoint runs. Were the WAL never started over, it
        // would hold all of it.
        let threshold = i64::from(CHECKPOINT_PAGES) * PAGE_BYTES;
        let writes_each = 3 * threshold / (8 * 65536);
        let writers: Vec<_> = (0..8)
            .map(|_| {
                let db = db.clone();
                tokio::spawn(async move {
                    for _ in 0..writes_each {
                        db.write(|conn| {
                            Ok(conn.execute("INSERT INTO filler VALUES (zeroblob(65536))", [])?)
                        })
                        .await
                        .unwrap();
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.await.unwrap();
        }
        let wal = dir.path().join("t.db-wal");
        let wal_bytes = std::fs::metadata(&wal).unwrap().len();
        assert!(wal_bytes < 2 * threshold as u64, "the WAL grew to {wal_bytes} bytes");
    }

    #[tokio::test]
    async fn a_grown_wal_is_checkpointed_by_the_checkpointer_not_inside_the_writers_commit() {
        let dir = tempfile::tempdir().unwrap();
        let db = SqliteDb::open(options(&dir)).unwrap();
        // Past the checkpoint threshold, short of the writer's own limit.
        let blob_bytes = (i64::from(CHECKPOINT_PAGES) + 500) * PAGE_BYTES;
        db.write(move |conn| {
            conn.execute_batch("CREATE TABLE filler (data BLOB)")?;
            conn.execute("INSERT INTO filler VALUES (zeroblob(?1))", [blob_bytes])?;
            Ok(())
        })
        .await
        .unwrap();
        // Had SQLite's automatic checkpoint run inside the commit, the counter would stay at 0.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while db.checkpoints.done.load(Ordering::Relaxed) == 0 {
            assert!(std::time::Instant::now() < deadline, "no checkpoint within 10 s");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let copied = std::fs::metadata(&db.options.path).unwrap().len();
        assert!(
            copied >= blob_bytes as u64,
            "the database file holds {copied} bytes after the checkpoint"
        );
        let checkpoints = db.gauges().into_iter().find(|g| g.name == "taskgate_db_checkpoints");
        assert!(checkpoints.is_some_and(|g| g.value >= 1.0));
    }

    #[tokio::test]
    async fn ping_fails_once_the_writer_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let db = SqliteDb::open(options(&dir)).unwrap();
        db.ping().unwrap();
        // A job that panics takes the writer thread down with it, as a bug in a write would.
        let died = db
            .write(|_| -> Result<(), StoreError> { panic!("a write that panics") })
            .await
            .unwrap_err();
        assert!(matches!(died, StoreError::Unavailable(_)), "{died:?}");
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !db.writer.is_closed() && std::time::Instant::now() < deadline {
            tokio::task::yield_now().await;
        }
        let refused = db.ping().unwrap_err();
        assert!(refused.to_string().contains("writer has stopped"), "{refused}");
    }
}
