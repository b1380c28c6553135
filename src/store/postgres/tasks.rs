//! The task store on PostgreSQL: every query scoped by (issuer, subject); every write changes the
//! owner's `task_owners` row (count and list version) in the same statement or transaction, so the
//! cap holds and every instance's cache sees the write at once. A create without tags is one
//! statement (one round trip); other writes are one transaction that first takes the owner's
//! row lock, so one owner's writes take turns, always in the same lock order.

use async_trait::async_trait;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use uuid::Uuid;

use super::task_sql::{
    Owner, delete_task, insert_task, lock_task, one_statement, task_from_row, update_task,
};
use super::task_tree::{carry_subtree, count_in_lists, place, subtree};
use super::{PgDb, fenced};
use crate::domain::auth::UserId;
use crate::domain::tasks::idempotency::{Fingerprint, IdempotencyKey, KEY_LIFETIME_SECS};
use crate::domain::tasks::tree::Placing;
use crate::domain::tasks::{
    Completion, Expected, TagName, TagSummary, Task, TaskDraft, TaskId, TaskPage, TaskQuery,
};
use crate::store::{CreateOutcome, Gauge, Guarded, StoreError, TaskStore, unix_now};

/// Least seconds between two purges of expired idempotency keys by this instance.
const PURGE_EVERY_SECS: i64 = 60;
/// The most expired keys one purge deletes, so that a purge adds little to its create.
const PURGE_LIMIT: i64 = 1000;

pub struct PgTaskStore {
    pub(super) db: Arc<PgDb>,
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

    fn limit_reached(&self) -> StoreError {
        StoreError::LimitReached { limit: self.max_tasks.unsigned_abs() }
    }

    /// Reads the task under the owner's lock and, if `expected` admits its version, writes what
    /// `change` makes of it (nothing when `change` returns `None` or a draft that changes
    /// nothing): one version higher, stamped now, its subtree carried with it.
    async fn update(
        &self,
        user: &UserId,
        id: TaskId,
        expected: Expected,
        change: impl FnOnce(&Task) -> Option<TaskDraft>,
    ) -> Result<Guarded<Task>, StoreError> {
        let owner = Owner::of(user);
        self.db
            .run(async |client| {
                // Dropping the transaction unfinished rolls it back (without waiting for it).
                let tx = client.transaction().await?;
                let Some(before) = lock_task(&tx, owner, id.as_uuid()).await? else {
                    return Ok(Guarded::Missing);
                };
                if !expected.admits(before.version) {
                    return Ok(Guarded::Conflict { current: before.version });
                }
                let Some(mut draft) = change(&before) else {
                    return Ok(Guarded::Done(before));
                };
                draft.list_id = place(&tx, owner, &Placing::of(&draft), Some(&before)).await?;
                draft.list_given = true;
                if draft.same_as(&before) {
                    return Ok(Guarded::Done(before));
                }
                let after = update_task(&tx, owner, &before, &draft).await?;
                let carried = carry_subtree(&tx, owner, &before, &after).await?;
                let mut changes = vec![(Some(&before), Some(&after))];
                changes.extend(carried.iter().map(|(was, is)| (Some(was), Some(is))));
                count_in_lists(&tx, owner, &changes).await?;
                fenced()?;
                tx.commit().await?;
                Ok(Guarded::Done(after))
            })
            .await
    }
}

#[async_trait]
impl TaskStore for PgTaskStore {
    async fn list(&self, owner: &UserId, query: &TaskQuery) -> Result<Arc<TaskPage>, StoreError> {
        super::task_list::list(&self.db, Owner::of(owner), query).await
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
                        "SELECT {} FROM tasks WHERE issuer = $1 AND subject = $2 AND id = $3",
                        super::task_sql::COLUMNS
                    ))
                    .await?;
                let row = client.query_opt(&statement, &[&issuer, &subject, &id]).await?;
                row.map(|row| task_from_row(&row, 0)).transpose()
            })
            .await
    }

    async fn create(&self, user: &UserId, draft: TaskDraft) -> Result<Task, StoreError> {
        let (owner, id) = (Owner::of(user), Uuid::now_v7());
        self.db
            .run(async |client| {
                let created = if one_statement(&draft) {
                    // One statement: fenced before it.
                    fenced()?;
                    insert_task(&*client, owner, id, &draft, self.max_tasks).await?
                } else {
                    let tx = client.transaction().await?;
                    let created = insert_task(&tx, owner, id, &draft, self.max_tasks).await?;
                    if created.is_some() {
                        fenced()?;
                        tx.commit().await?;
                    }
                    created
                };
                created.ok_or_else(|| self.limit_reached())
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
                let owner = Owner { issuer, subject };
                let Some(task) = insert_task(&tx, owner, id, &draft, max_tasks).await? else {
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
        user: &UserId,
        id: TaskId,
        expected: Expected,
        with_subtasks: bool,
    ) -> Result<Guarded<()>, StoreError> {
        let owner = Owner::of(user);
        self.db
            .run(async |client| {
                let tx = client.transaction().await?;
                let Some(task) = lock_task(&tx, owner, id.as_uuid()).await? else {
                    return Ok(Guarded::Missing);
                };
                if !expected.admits(task.version) {
                    return Ok(Guarded::Conflict { current: task.version });
                }
                let below = subtree(&tx, owner, task.id).await?;
                if !below.is_empty() && !with_subtasks {
                    return Err(StoreError::TaskHasSubtasks { subtasks: below.len() as u64 });
                }
                // Children before their parents.
                for (subtask, _) in below.iter().rev() {
                    delete_task(&tx, owner, subtask).await?;
                }
                delete_task(&tx, owner, &task).await?;
                let mut changes = vec![(Some(&task), None)];
                changes.extend(below.iter().map(|(subtask, _)| (Some(subtask), None)));
                count_in_lists(&tx, owner, &changes).await?;
                fenced()?;
                tx.commit().await?;
                Ok(Guarded::Done(()))
            })
            .await
    }

    async fn tags(&self, owner: &UserId) -> Result<Vec<TagSummary>, StoreError> {
        let owner = Owner::of(owner);
        self.db.run(async |client| super::tags::summaries(&*client, owner).await).await
    }

    async fn rename_tag(&self, owner: &UserId, key: &str, to: TagName) -> Result<bool, StoreError> {
        self.retag(owner, key, Some(&to)).await
    }

    async fn delete_tag(&self, owner: &UserId, key: &str) -> Result<bool, StoreError> {
        self.retag(owner, key, None).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await
    }

    fn gauges(&self) -> Vec<Gauge> {
        self.db.gauges()
    }
}

impl PgTaskStore {
    /// [`TaskStore::rename_tag`], or [`TaskStore::delete_tag`] when `to` is `None`.
    async fn retag(
        &self,
        user: &UserId,
        key: &str,
        to: Option<&TagName>,
    ) -> Result<bool, StoreError> {
        let owner = Owner::of(user);
        self.db
            .run(async |client| {
                let tx = client.transaction().await?;
                let found = super::tags::rename(&tx, owner, key, to).await?;
                if found {
                    fenced()?;
                    tx.commit().await?;
                }
                Ok(found)
            })
            .await
    }
}
