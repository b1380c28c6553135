//! The task store on PostgreSQL: every query scoped by (issuer, subject); every write changes the
//! owner's `task_owners` row (count and list version) in the same statement or transaction, so the
//! cap holds and every instance's cache sees the write at once. Simple writes are one statement
//! each (one round trip); an idempotent create is one transaction with its key.

use async_trait::async_trait;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use time::OffsetDateTime;
use tokio_postgres::Row;
use uuid::Uuid;

use super::PgDb;
use super::fenced;
use crate::domain::auth::UserId;
use crate::domain::tasks::idempotency::{Fingerprint, IdempotencyKey, KEY_LIFETIME_SECS};
use crate::domain::tasks::{Completion, PageRequest, Task, TaskDraft, TaskId, TaskPage, Timestamp};
use crate::store::{CreateOutcome, Gauge, StoreError, TaskStore, unix_now};

/// Least seconds between two purges of expired idempotency keys by this instance.
const PURGE_EVERY_SECS: i64 = 60;
/// The most expired keys one purge deletes, so that a purge adds little to its create.
const PURGE_LIMIT: i64 = 1000;
const COLUMNS: &str =
    "subject, id, title, description, completed, completed_at, created_at, updated_at";

/// Inserts a task and counts it in one statement, unless the owner has `$7` tasks already: then
/// the owner's row is left alone and no row comes back.
const CREATE: &str = "WITH owner AS ( \
       INSERT INTO task_owners AS o (issuer, subject, total, version) VALUES ($1, $2, 1, 1) \
       ON CONFLICT (issuer, subject) DO UPDATE SET total = o.total + 1, version = o.version + 1 \
       WHERE o.total < $7 RETURNING o.total) \
     INSERT INTO tasks (issuer, subject, id, title, description, completed, completed_at, \
       created_at, updated_at) \
     SELECT $1, $2, $3, $4, $5, $6, CASE WHEN $6 THEN now() END, now(), now() FROM owner \
     RETURNING subject, id, title, description, completed, completed_at, created_at, updated_at";

pub struct PgTaskStore {
    db: Arc<PgDb>,
    max_tasks: i64,
    /// The Unix second from which the next idempotent create also purges expired keys.
    next_purge: AtomicI64,
}

impl PgTaskStore {
    pub fn new(db: Arc<PgDb>, max_tasks: u64) -> Self {
        Self {
            db,
            max_tasks: i64::try_from(max_tasks).unwrap_or(i64::MAX),
            next_purge: AtomicI64::new(0),
        }
    }

    /// `true` for the one caller that should purge expired keys now: at most once a minute.
    fn claim_purge(&self) -> bool {
        let now = unix_now();
        let due = self.next_purge.load(Ordering::Relaxed);
        now >= due
            && self
                .next_purge
                .compare_exchange(due, now + PURGE_EVERY_SECS, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

fn task_from_row(row: &Row, first: usize) -> Result<Task, StoreError> {
    let timestamp = |index: usize| -> Result<Timestamp, StoreError> {
        Ok(Timestamp::from_datetime(row.try_get::<_, OffsetDateTime>(first + index)?))
    };
    let completed_at: Option<OffsetDateTime> = row.try_get(first + 5)?;
    Ok(Task {
        user_id: row.try_get(first)?,
        id: TaskId::from_uuid(row.try_get::<_, Uuid>(first + 1)?),
        title: row.try_get(first + 2)?,
        description: row.try_get(first + 3)?,
        completed: row.try_get(first + 4)?,
        completed_at: completed_at.map(Timestamp::from_datetime),
        created_at: timestamp(6)?,
        updated_at: timestamp(7)?,
    })
}

#[async_trait]
impl TaskStore for PgTaskStore {
    async fn list(&self, owner: &UserId, page: PageRequest) -> Result<Arc<TaskPage>, StoreError> {
        let (issuer, subject) = (owner.issuer().as_str(), owner.subject());
        let fetch = i64::from(page.limit) + 1;
        // One statement, so the rows, the total and the version are of one snapshot. An owner
        // that never wrote has no row and gets an empty page; the LEFT JOIN keeps the owner's
        // row when a page is empty.
        let rows = self
            .db
            .run(async |client| {
                let rows = match page.after {
                    None => {
                        let statement = client
                            .prepare_cached(&format!(
                                "SELECT o.total, o.version, t.* FROM task_owners o LEFT JOIN \
                                 LATERAL (SELECT {COLUMNS} FROM tasks WHERE issuer = o.issuer \
                                 AND subject = o.subject ORDER BY id DESC LIMIT $3) t ON true \
                                 WHERE o.issuer = $1 AND o.subject = $2"
                            ))
                            .await?;
                        client.query(&statement, &[&issuer, &subject, &fetch]).await?
                    }
                    Some(after) => {
                        let statement = client
                            .prepare_cached(&format!(
                                "SELECT o.total, o.version, t.* FROM task_owners o LEFT JOIN \
                                 LATERAL (SELECT {COLUMNS} FROM tasks WHERE issuer = o.issuer \
                                 AND subject = o.subject AND id < $4 ORDER BY id DESC LIMIT $3) \
                                 t ON true WHERE o.issuer = $1 AND o.subject = $2"
                            ))
                            .await?;
                        let after = after.as_uuid();
                        client.query(&statement, &[&issuer, &subject, &fetch, &after]).await?
                    }
                };
                Ok(rows)
            })
            .await?;
        let (mut total, mut version, mut tasks) = (0, 0, Vec::with_capacity(rows.len()));
        for row in &rows {
            total = row.try_get::<_, i64>(0)?.unsigned_abs();
            version = row.try_get::<_, i64>(1)?.unsigned_abs();
            if row.try_get::<_, Option<Uuid>>(3)?.is_some() {
                tasks.push(task_from_row(row, 2)?);
            }
        }
        let next = if tasks.len() > page.limit as usize {
            tasks.truncate(page.limit as usize);
            tasks.last().map(|task| task.id)
        } else {
            None
        };
        Ok(Arc::new(TaskPage::new(tasks, total, next, version)))
    }

    async fn list_version(&self, owner: &UserId) -> Result<u64, StoreError> {
        let (issuer, subject) = (owner.issuer().as_str(), owner.subject());
        self.db
            .run(async |client| {
                let statement = client
                    .prepare_cached(
                        "SELECT version FROM task_owners WHERE issuer = $1 AND subject = $2",
                    )
                    .await?;
                let row = client.query_opt(&statement, &[&issuer, &subject]).await?;
                Ok(row
                    .map(|row| row.try_get::<_, i64>(0))
                    .transpose()?
                    .map_or(0, i64::unsigned_abs))
            })
            .await
    }

    async fn get(&self, owner: &UserId, id: TaskId) -> Result<Option<Task>, StoreError> {
        let (issuer, subject, id) = (owner.issuer().as_str(), owner.subject(), id.as_uuid());
        self.db
            .run(async |client| {
                let statement = client
                    .prepare_cached(&format!(
                        "SELECT {COLUMNS} FROM tasks WHERE issuer = $1 AND subject = $2 AND id = $3"
                    ))
                    .await?;
                let row = client.query_opt(&statement, &[&issuer, &subject, &id]).await?;
                row.map(|row| task_from_row(&row, 0)).transpose()
            })
            .await
    }

    async fn create(&self, owner: &UserId, draft: TaskDraft) -> Result<Task, StoreError> {
        let (issuer, subject, id) = (owner.issuer().as_str(), owner.subject(), Uuid::now_v7());
        let max_tasks = self.max_tasks;
        self.db
            .run(async |client| {
                let statement = client.prepare_cached(CREATE).await?;
                fenced()?;
                let row = client
                    .query_opt(
                        &statement,
                        &[
                            &issuer,
                            &subject,
                            &id,
                            &draft.title,
                            &draft.description,
                            &draft.completed,
                            &max_tasks,
                        ],
                    )
                    .await?;
                match row {
                    Some(row) => task_from_row(&row, 0),
                    None => Err(StoreError::LimitReached { limit: max_tasks.unsigned_abs() }),
                }
            })
            .await
    }

    async fn create_once(
        &self,
        owner: &UserId,
        draft: TaskDraft,
        key: &IdempotencyKey,
    ) -> Result<CreateOutcome, StoreError> {
        let (issuer, subject, id) = (owner.issuer().as_str(), owner.subject(), Uuid::now_v7());
        let (key, fingerprint) = (key.as_str(), Fingerprint::of(&draft).0.to_vec());
        let (max_tasks, purge) = (self.max_tasks, self.claim_purge());
        let lifetime = KEY_LIFETIME_SECS as f64;
        self.db
            .run(async |client| {
                let find = client
                    .prepare_cached(
                        "SELECT fingerprint, response FROM idempotency_keys \
                         WHERE issuer = $1 AND subject = $2 AND key = $3 \
                         AND created_at > now() - make_interval(secs => $4)",
                    )
                    .await?;
                let create = client.prepare_cached(CREATE).await?;
                // A key that expired is taken over; a live one (written meanwhile by a
                // concurrent request) is left alone, and then nothing comes back.
                let record = client
                    .prepare_cached(
                        "INSERT INTO idempotency_keys AS k \
                         (issuer, subject, key, fingerprint, task_id, response, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, now()) \
                         ON CONFLICT (issuer, subject, key) DO UPDATE SET \
                         fingerprint = excluded.fingerprint, task_id = excluded.task_id, \
                         response = excluded.response, created_at = excluded.created_at \
                         WHERE k.created_at <= now() - make_interval(secs => $7)",
                    )
                    .await?;
                let replay = |row: tokio_postgres::Row| -> Result<CreateOutcome, StoreError> {
                    if row.try_get::<_, Vec<u8>>(0)? != fingerprint {
                        return Ok(CreateOutcome::KeyReused);
                    }
                    let first = serde_json::from_str(row.try_get(1)?)
                        .map_err(|e| StoreError::internal(format!("a stored answer: {e}")))?;
                    Ok(CreateOutcome::Replayed(first))
                };
                if purge {
                    // A statement of its own, outside the create's transaction: holding other
                    // owners' key rows while waiting for this owner's row could deadlock.
                    let purged = client
                        .execute(
                            "DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(\
                             SELECT ctid FROM idempotency_keys \
                             WHERE created_at <= now() - make_interval(secs => $1) LIMIT $2))",
                            &[&lifetime, &PURGE_LIMIT],
                        )
                        .await?;
                    if purged >= PURGE_LIMIT.unsigned_abs() {
                        // More may be left: let the next create go on purging.
                        self.next_purge.store(unix_now(), Ordering::Relaxed);
                    }
                }
                if let Some(row) =
                    client.query_opt(&find, &[&issuer, &subject, &key, &lifetime]).await?
                {
                    return replay(row);
                }
                let tx = client.transaction().await?;
                let params: [&(dyn tokio_postgres::types::ToSql + Sync); 7] = [
                    &issuer,
                    &subject,
                    &id,
                    &draft.title,
                    &draft.description,
                    &draft.completed,
                    &max_tasks,
                ];
                let Some(row) = tx.query_opt(&create, &params).await? else {
                    // At the cap; but a concurrent request with this key may have taken the last
                    // place since the lookup, and then this one is its retry.
                    tx.rollback().await?;
                    let row =
                        client.query_opt(&find, &[&issuer, &subject, &key, &lifetime]).await?;
                    return match row {
                        Some(row) => replay(row),
                        None => Err(StoreError::LimitReached { limit: max_tasks.unsigned_abs() }),
                    };
                };
                let task = task_from_row(&row, 0)?;
                let response = serde_json::to_string(&task)
                    .map_err(|e| StoreError::internal(format!("an answer to store: {e}")))?;
                let recorded = tx
                    .execute(
                        &record,
                        &[&issuer, &subject, &key, &fingerprint, &id, &response, &lifetime],
                    )
                    .await?;
                if recorded == 0 {
                    // A concurrent request with this key committed first (the insert waited for
                    // it): undo this task and answer as that request did.
                    tx.rollback().await?;
                    let row =
                        client.query_opt(&find, &[&issuer, &subject, &key, &lifetime]).await?;
                    return match row {
                        Some(row) => replay(row),
                        None => Err(StoreError::unavailable("an idempotency key changed hands")),
                    };
                }
                // A request already answered with a timeout must not change anything.
                fenced()?;
                tx.commit().await?;
                Ok(CreateOutcome::Created(task))
            })
            .await
    }

    async fn replace(
        &self,
        owner: &UserId,
        id: TaskId,
        draft: TaskDraft,
    ) -> Result<Option<Task>, StoreError> {
        let (issuer, subject, id) = (owner.issuer().as_str(), owner.subject(), id.as_uuid());
        self.db
            .run(async |client| {
                let statement = client
                    .prepare_cached(&format!(
                        "WITH t AS (UPDATE tasks SET title = $4, description = $5, \
                         completed = $6, completed_at = CASE WHEN $6 THEN \
                         coalesce(completed_at, now()) END, updated_at = now() \
                         WHERE issuer = $1 AND subject = $2 AND id = $3 RETURNING {COLUMNS}), \
                         o AS (UPDATE task_owners SET version = version + 1 \
                         WHERE issuer = $1 AND subject = $2 AND EXISTS (SELECT 1 FROM t)) \
                         SELECT * FROM t"
                    ))
                    .await?;
                fenced()?;
                let row = client
                    .query_opt(
                        &statement,
                        &[
                            &issuer,
                            &subject,
                            &id,
                            &draft.title,
                            &draft.description,
                            &draft.completed,
                        ],
                    )
                    .await?;
                row.map(|row| task_from_row(&row, 0)).transpose()
            })
            .await
    }

    async fn set_completion(
        &self,
        owner: &UserId,
        id: TaskId,
        completion: Completion,
    ) -> Result<Option<Task>, StoreError> {
        let (issuer, subject, id) = (owner.issuer().as_str(), owner.subject(), id.as_uuid());
        let set_to = match completion {
            Completion::Toggle => None,
            Completion::Set(completed) => Some(completed),
        };
        self.db
            .run(async |client| {
                // Right-hand sides see the old row, so `completed` below is the value before it.
                let statement = client
                    .prepare_cached(&format!(
                        "WITH t AS (UPDATE tasks SET \
                         completed = coalesce($4::boolean, NOT completed), \
                         completed_at = CASE WHEN coalesce($4::boolean, NOT completed) \
                         THEN coalesce(completed_at, now()) END, updated_at = now() \
                         WHERE issuer = $1 AND subject = $2 AND id = $3 RETURNING {COLUMNS}), \
                         o AS (UPDATE task_owners SET version = version + 1 \
                         WHERE issuer = $1 AND subject = $2 AND EXISTS (SELECT 1 FROM t)) \
                         SELECT * FROM t"
                    ))
                    .await?;
                fenced()?;
                let row = client.query_opt(&statement, &[&issuer, &subject, &id, &set_to]).await?;
                row.map(|row| task_from_row(&row, 0)).transpose()
            })
            .await
    }

    async fn delete(&self, owner: &UserId, id: TaskId) -> Result<bool, StoreError> {
        let (issuer, subject, id) = (owner.issuer().as_str(), owner.subject(), id.as_uuid());
        self.db
            .run(async |client| {
                let statement = client
                    .prepare_cached(
                        "WITH t AS (DELETE FROM tasks \
                         WHERE issuer = $1 AND subject = $2 AND id = $3 RETURNING id), \
                         o AS (UPDATE task_owners SET total = total - 1, version = version + 1 \
                         WHERE issuer = $1 AND subject = $2 AND EXISTS (SELECT 1 FROM t)) \
                         SELECT count(*) FROM t",
                    )
                    .await?;
                fenced()?;
                let row = client.query_one(&statement, &[&issuer, &subject, &id]).await?;
                Ok(row.try_get::<_, i64>(0)? > 0)
            })
            .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await
    }

    fn gauges(&self) -> Vec<Gauge> {
        self.db.gauges()
    }
}
