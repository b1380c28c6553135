//! The task store on SQLite: every query scoped by (issuer, subject), every write keeping the
//! owner's row in `task_owners` (count and list version) in its own transaction.

use super::Versions;
use async_trait::async_trait;
use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, params};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use super::SqliteDb;
use super::task_list::{INLINE_PAGE_ROWS, read_snapshot};
use super::task_sql::*;
use super::task_tree::{place, subtree};
use crate::domain::auth::UserId;
use crate::domain::tasks::idempotency::{Fingerprint, IdempotencyKey, KEY_LIFETIME_SECS};
use crate::domain::tasks::tree::Placing;
use crate::domain::tasks::{
    Completion, Expected, SortKey, TagName, TagSummary, Task, TaskDraft, TaskFilter, TaskId,
    TaskPage, TaskQuery, Timestamp,
};
use crate::store::{CreateOutcome, Gauge, Guarded, StoreError, TaskStore, unix_now};

/// Least seconds between two purges of expired idempotency keys.
const PURGE_EVERY_SECS: i64 = 60;
/// The most expired keys one purge deletes, so that a purge adds little to its batch.
pub(super) const PURGE_LIMIT: usize = 1000;
pub(super) const COLUMNS: &str = "subject, id, title, description, completed, completed_at, \
     created_at, updated_at, priority, tags, due_date, due_time, due_zone, due_at, version, \
     list_id, parent_id";

pub struct SqliteTaskStore {
    pub(super) db: Arc<SqliteDb>,
    max_tasks: u64,
    /// The Unix second from which the next idempotent create also purges expired keys.
    next_purge: Arc<AtomicI64>,
    versions: Arc<Versions>,
}

/// An owner as the two text columns every query is scoped by.
#[derive(Clone)]
pub(super) struct Owner {
    pub(super) issuer: String,
    pub(super) subject: String,
}

impl Owner {
    pub(super) fn of(user: &UserId) -> Self {
        Self { issuer: user.issuer().as_str().to_owned(), subject: user.subject().to_owned() }
    }
}

impl SqliteTaskStore {
    pub fn new(db: Arc<SqliteDb>, max_tasks: u64) -> Self {
        Self {
            versions: db.versions.clone(),
            db,
            max_tasks,
            next_purge: Arc::new(AtomicI64::new(0)),
        }
    }

    /// Runs `f` in the writer's next batch; `f` also returns the owner's list version after it
    /// (`None` when it changed nothing), which the in-memory versions take once it is durable.
    pub(super) async fn write<T: Send + 'static>(
        &self,
        owner: &UserId,
        f: impl FnOnce(&Connection) -> Result<(T, Option<u64>), StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (versions, owner) = (self.versions.clone(), owner.clone());
        let committed = move |(_, version): &(T, Option<u64>)| {
            if let Some(version) = version {
                versions.raise(&owner, *version);
            }
        };
        let (value, _) = self.db.write_then(f, committed).await?;
        Ok(value)
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
        let mut task = new_task(owner, &draft);
        let (key, max_tasks) = (key.as_str().to_owned(), self.max_tasks);
        let purge = self.claim_purge(now);
        let next_purge = self.next_purge.clone();
        // One job, so the lookup, the task and its key share a transaction, and the writer
        // thread runs jobs one after another: of concurrent requests with one key, the first
        // creates and the others find its row.
        let user = owner.clone();
        let owner = Owner::of(owner);
        self.write(&user, move |conn| {
            if purge && purge_expired_keys(conn, now)? == PURGE_LIMIT {
                // More may be left: let the next create go on purging.
                next_purge.store(now, Ordering::Relaxed);
            }
            let found = conn
                .prepare_cached(
                    "SELECT fingerprint, response, created_at FROM idempotency_keys \
                         WHERE issuer = ?1 AND subject = ?2 AND key = ?3",
                )?
                .query_row(params![owner.issuer, owner.subject, key], |row| {
                    Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, String>(1)?, row.get::<_, i64>(2)?))
                })
                .optional()?;
            if let Some((stored, response, created_at)) = found
                && now - created_at < KEY_LIFETIME_SECS
            {
                if stored != fingerprint.0 {
                    return Ok((CreateOutcome::KeyReused, None));
                }
                let first = serde_json::from_str(&response).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(1, Type::Text, e.into())
                })?;
                return Ok((CreateOutcome::Replayed(first), None));
            }
            let version = insert_task(conn, &owner, &mut task, &draft, max_tasks)?;
            let response = serde_json::to_string(&task)
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
            // An expired row for this key is taken over by the new request.
            conn.prepare_cached(
                "INSERT INTO idempotency_keys \
                     (issuer, subject, key, fingerprint, task_id, response, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                     ON CONFLICT (issuer, subject, key) DO UPDATE SET \
                     fingerprint = excluded.fingerprint, task_id = excluded.task_id, \
                     response = excluded.response, created_at = excluded.created_at",
            )?
            .execute(params![
                owner.issuer,
                owner.subject,
                key,
                fingerprint.0,
                task.id.to_string(),
                response,
                now
            ])?;
            Ok((CreateOutcome::Created(task), Some(version)))
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

/// What a write from `before` to `after` does to the task's subtasks at every level: a move to
/// another list (or the inbox) moves them all; a completion completes the open ones (those
/// completed already keep their moment). Each changed subtask gets a new version. Returns each
/// as it was and as it is.
fn carry_subtree(
    conn: &Connection,
    owner: &Owner,
    before: &Task,
    after: &Task,
) -> Result<Vec<(Task, Task)>, StoreError> {
    let moved = before.list_id != after.list_id;
    let completed = after.completed && !before.completed;
    if !moved && !completed {
        return Ok(Vec::new());
    }
    let mut carried = Vec::new();
    for (subtask, _) in subtree(conn, owner, after.id)? {
        let mut changed = subtask.clone();
        changed.list_id = after.list_id;
        if completed && !changed.completed {
            changed.completed = true;
            changed.completed_at = Some(after.updated_at);
        }
        if changed != subtask {
            changed.version += 1;
            changed.updated_at = after.updated_at;
            update_task(conn, owner, &subtask, &changed)?;
            carried.push((subtask, changed));
        }
    }
    Ok(carried)
}

impl SqliteTaskStore {
    /// Reads the task in the writer's transaction and, if `expected` admits its version, writes
    /// what `change` makes of it (nothing when `change` returns `None`): one version higher,
    /// stamped now.
    async fn update(
        &self,
        user: &UserId,
        id: TaskId,
        expected: Expected,
        change: impl FnOnce(&Task) -> Option<TaskDraft> + Send + 'static,
    ) -> Result<Guarded<Task>, StoreError> {
        let owner = Owner::of(user);
        self.write(user, move |conn| {
            let Some(before) = read_task(conn, &owner, &id.to_string())? else {
                return Ok((Guarded::Missing, None));
            };
            if !expected.admits(before.version) {
                return Ok((Guarded::Conflict { current: before.version }, None));
            }
            let Some(mut draft) = change(&before) else {
                return Ok((Guarded::Done(before), None));
            };
            (draft.list_id, draft.list_given) =
                (place(conn, &owner, &Placing::of(&draft), Some(&before))?, true);
            if draft.same_as(&before) {
                return Ok((Guarded::Done(before), None));
            }
            let now = Timestamp::now();
            let (tags, created) = spell_tags(conn, &owner, &draft.tags)?;
            let after = Task {
                title: draft.title,
                description: draft.description,
                completed: draft.completed,
                completed_at: match draft.completed {
                    true => before.completed_at.or(Some(now)),
                    false => None,
                },
                updated_at: now,
                priority: draft.priority,
                tags,
                due: draft.due,
                list_id: draft.list_id,
                parent_id: draft.parent_id,
                version: before.version + 1,
                ..before.clone()
            };
            update_task(conn, &owner, &before, &after)?;
            if created {
                check_tag_limit(conn, &owner)?;
            }
            let carried = carry_subtree(conn, &owner, &before, &after)?;
            let mut changes = vec![(Some(&before), Some(&after))];
            changes.extend(carried.iter().map(|(was, is)| (Some(was), Some(is))));
            let version = record_change(conn, &owner, &changes)?;
            Ok((Guarded::Done(after), Some(version)))
        })
        .await
    }
}

#[async_trait]
impl TaskStore for SqliteTaskStore {
    async fn list(&self, owner: &UserId, query: &TaskQuery) -> Result<Arc<TaskPage>, StoreError> {
        let owner = Owner::of(owner);
        // A page that is one range of an index (the default list, or a list's tasks or a task's
        // subtasks in creation order, see task_list) is read on this thread; others may read
        // many rows to find theirs, and go to a blocking thread.
        let one_range = query.sort.key == SortKey::Created
            && query.filter.parent != Some(None)
            && TaskFilter { list: None, parent: None, ..query.filter.clone() }.is_empty();
        let found = if query.limit <= INLINE_PAGE_ROWS && one_range {
            self.db.read(|conn| read_snapshot(conn, &owner, query))?
        } else {
            let query = query.clone();
            self.db.read_blocking(move |conn| read_snapshot(conn, &owner, &query)).await?
        };
        Ok(Arc::new(found))
    }

    async fn list_version(&self, owner: &UserId) -> Result<u64, StoreError> {
        if let Some(version) = self.versions.get(owner) {
            return Ok(version);
        }
        let version = self.db.read(|conn| Ok(owner_row(conn, &Owner::of(owner))?.1))?;
        self.versions.raise(owner, version);
        Ok(version)
    }

    async fn get(&self, owner: &UserId, id: TaskId) -> Result<Option<Task>, StoreError> {
        let owner = Owner::of(owner);
        self.db.read(|conn| Ok(read_task(conn, &owner, &id.to_string())?))
    }

    async fn create(&self, owner_id: &UserId, draft: TaskDraft) -> Result<Task, StoreError> {
        let mut task = new_task(owner_id, &draft);
        let (owner, max_tasks) = (Owner::of(owner_id), self.max_tasks);
        self.write(owner_id, move |conn| {
            insert_task(conn, &owner, &mut task, &draft, max_tasks)
                .map(|version| (task, Some(version)))
        })
        .await
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
        expected: Expected,
    ) -> Result<Guarded<Task>, StoreError> {
        self.update(owner, id, expected, move |_| Some(draft)).await
    }

    async fn set_completion(
        &self,
        owner: &UserId,
        id: TaskId,
        completion: Completion,
        expected: Expected,
    ) -> Result<Guarded<Task>, StoreError> {
        self.update(owner, id, expected, move |task| Some(task.completed_as(completion))).await
    }

    async fn delete(
        &self,
        owner: &UserId,
        id: TaskId,
        expected: Expected,
        with_subtasks: bool,
    ) -> Result<Guarded<()>, StoreError> {
        let (user, owner) = (owner, Owner::of(owner));
        self.write(user, move |conn| {
            let Some(task) = read_task(conn, &owner, &id.to_string())? else {
                return Ok((Guarded::Missing, None));
            };
            if !expected.admits(task.version) {
                return Ok((Guarded::Conflict { current: task.version }, None));
            }
            let below = subtree(conn, &owner, task.id)?;
            if !below.is_empty() && !with_subtasks {
                return Err(StoreError::TaskHasSubtasks { subtasks: below.len() as u64 });
            }
            // Children before their parents.
            for (subtask, _) in below.iter().rev() {
                delete_task(conn, &owner, subtask)?;
            }
            delete_task(conn, &owner, &task)?;
            let mut changes = vec![(Some(&task), None)];
            changes.extend(below.iter().map(|(subtask, _)| (Some(subtask), None)));
            Ok((Guarded::Done(()), Some(record_change(conn, &owner, &changes)?)))
        })
        .await
    }

    async fn tags(&self, owner: &UserId) -> Result<Vec<TagSummary>, StoreError> {
        let owner = Owner::of(owner);
        self.db.read_blocking(move |conn| super::tags::summaries(conn, &owner)).await
    }

    async fn rename_tag(&self, owner: &UserId, key: &str, to: TagName) -> Result<bool, StoreError> {
        let (user, owner, key) = (owner, Owner::of(owner), key.to_owned());
        self.write(user, move |conn| super::tags::rename(conn, &owner, &key, Some(&to))).await
    }

    async fn delete_tag(&self, owner: &UserId, key: &str) -> Result<bool, StoreError> {
        let (user, owner, key) = (owner, Owner::of(owner), key.to_owned());
        self.write(user, move |conn| super::tags::rename(conn, &owner, &key, None)).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping()
    }

    fn gauges(&self) -> Vec<Gauge> {
        self.db.gauges()
    }
}

#[cfg(test)]
mod tests {
    use super::super::SqliteOptions;
    use super::*;
    use crate::ground::fence::WriteFence;
    use rusqlite::StatementStatus;

    fn open_store(dir: &tempfile::TempDir) -> SqliteTaskStore {
        let url = format!("sqlite://{}/t.db", dir.path().display());
        SqliteTaskStore::new(SqliteDb::open(SqliteOptions::from_url(&url).unwrap()).unwrap(), 10)
    }

    /// A second, writable connection to the store's file, as a tool would open.
    fn side_connection(store: &SqliteTaskStore) -> Connection {
        super::super::open_connection(&store.db.options, false).unwrap()
    }

    fn owner(subject: &str) -> UserId {
        UserId::new(crate::domain::auth::Issuer::shared_secret(), subject).unwrap()
    }

    fn draft(title: &str) -> TaskDraft {
        TaskDraft { title: title.into(), ..Default::default() }
    }

    fn key(value: &str) -> IdempotencyKey {
        IdempotencyKey::parse(value).unwrap()
    }

    fn keys_stored(store: &SqliteTaskStore) -> Vec<String> {
        store
            .db
            .read(|conn| {
                Ok(conn
                    .prepare("SELECT key FROM idempotency_keys ORDER BY key")?
                    .query_map([], |row| row.get(0))?
                    .collect::<rusqlite::Result<_>>()?)
            })
            .unwrap()
    }

    async fn task_count(store: &SqliteTaskStore, owner: &UserId) -> u64 {
        store.list(owner, &TaskQuery::newest(1)).await.unwrap().total
    }

    #[test]
    fn in_memory_versions_only_move_forward() {
        let versions = Versions::default();
        let (u, v) = (owner("u"), owner("v"));
        assert_eq!(versions.get(&u), None);
        versions.raise(&u, 3);
        // A read that started before a write stores what it saw after the write raised it.
        versions.raise(&u, 2);
        assert_eq!(versions.get(&u), Some(3));
        versions.raise(&u, 4);
        assert_eq!((versions.get(&u), versions.get(&v)), (Some(4), None));
    }

    #[tokio::test]
    async fn a_key_is_replayed_for_24_hours_and_then_names_a_new_request() {
        let dir = tempfile::tempdir().unwrap();
        let store = open_store(&dir);
        let (owner, k, t0) = (owner("u"), key("k"), unix_now());

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
        let (owner, t0) = (owner("u"), unix_now());
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
        let (owner, now) = (owner("u"), unix_now());
        let mut side = side_connection(&store);
        let tx = side.transaction().unwrap();
        for n in 0..PURGE_LIMIT + 10 {
            tx.execute(
                "INSERT INTO idempotency_keys VALUES ('', 'v', ?1, zeroblob(32), 'id', '{}', ?2)",
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
        let owner = owner("u");
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
        let owner = owner("u");
        side_connection(&store)
            .execute_batch(
                "CREATE TRIGGER no_keys BEFORE INSERT ON idempotency_keys \
                 BEGIN SELECT RAISE(ABORT, 'refused'); END;",
            )
            .unwrap();
        let failed = store.create_once(&owner, draft("a"), &key("k")).await;
        assert!(
            matches!(&failed, Err(StoreError::Internal(cause)) if cause.to_string().contains("refused")),
            "the key's insert failed: {failed:?}"
        );
        assert_eq!(task_count(&store, &owner).await, 0, "the task was rolled back with its key");
    }

    #[tokio::test]
    async fn list_statements_are_prepared_once() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db", dir.path().display());
        let store = SqliteTaskStore::new(
            SqliteDb::open(SqliteOptions::from_url(&url).unwrap()).unwrap(),
            10,
        );
        let owner = owner("u");
        for n in 0..3 {
            let draft = TaskDraft { title: format!("t{n}"), ..Default::default() };
            store.create(&owner, draft).await.unwrap();
        }
        let first = store.list(&owner, &TaskQuery::newest(2)).await.unwrap();
        let after = TaskQuery::newest(2).cursor_after(first.tasks.last().unwrap());
        for limit in [2, 100, 500, 2] {
            let next = TaskQuery::parse(Some(&format!("limit={limit}&cursor={after}")), 0).unwrap();
            store.list(&owner, &TaskQuery::newest(limit)).await.unwrap();
            store.list(&owner, &next).await.unwrap();
        }
        let conn = store.db.readers.lock().unwrap().pop().unwrap();
        let mut cached = 0;
        for sql in [
            format!(
                "SELECT {COLUMNS} FROM tasks WHERE issuer = CAST(?1 AS TEXT) \
                 AND subject = CAST(?2 AS TEXT) ORDER BY id DESC"
            ),
            format!(
                "SELECT {COLUMNS} FROM tasks WHERE issuer = CAST(?1 AS TEXT) \
                 AND subject = CAST(?2 AS TEXT) AND id < CAST(?3 AS TEXT) ORDER BY id DESC"
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
