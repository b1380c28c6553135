//! An owner's lists on PostgreSQL. Every write takes the owner's row lock first, as the task
//! writes do, so a name checked free is still free when the row goes in (the unique index on
//! the folded name stands behind it), the limit is counted by one writer at a time, and a list
//! emptied or deleted is not filled by a task write meanwhile.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use time::OffsetDateTime;
use tokio_postgres::Row;
use uuid::Uuid;

use super::fenced;
use super::task_sql::{Owner, forget_unused_tags, lock_owner};
use super::tasks::PgTaskStore;
use crate::domain::auth::UserId;
use crate::domain::lists::{List, ListDraft, ListId, ListTasks, MAX_LISTS_PER_USER};
use crate::domain::tasks::{Expected, Timestamp};
use crate::store::{Guarded, ListStore, StoreError};

const LIST_COLUMNS: &str =
    "id, name, color, position, tasks, open, version, created_at, updated_at";

/// Takes the owner's row lock, making the row of an owner that never wrote (no tasks, at
/// version 0), as a list can be made before any task.
const CLAIM_OWNER: &str = "INSERT INTO task_owners AS o (issuer, subject, total, version) \
     VALUES ($1, $2, 0, 0) ON CONFLICT (issuer, subject) DO UPDATE SET total = o.total";

/// Moves the list's (`$3`) tasks to the inbox, each one version higher, and counts a change of
/// the owner's list (the counts by priority stay as they are, kept or not).
const TO_INBOX: &str = "WITH t AS (UPDATE tasks SET list_id = NULL, version = version + 1, \
     updated_at = statement_timestamp() WHERE issuer = $1 AND subject = $2 AND list_id = $3) \
     UPDATE task_owners SET version = version + 1, priorities_at = CASE \
     WHEN priorities_at = version THEN version + 1 ELSE priorities_at END \
     WHERE issuer = $1 AND subject = $2";

/// Deletes the list's (`$3`) tasks with their tag rows (a subtree is all in one list, so whole
/// subtrees go), counting them gone from the owner's tasks, tags and priorities; returns the
/// keys of the tags they had, which may now be unused.
const DELETE_TASKS: &str = "WITH t AS (DELETE FROM tasks \
     WHERE issuer = $1 AND subject = $2 AND list_id = $3 RETURNING id, priority), \
     k AS (DELETE FROM task_tags WHERE issuer = $1 AND subject = $2 \
     AND task_id IN (SELECT id FROM t) RETURNING key, completed), \
     g AS (UPDATE tags SET tasks = tags.tasks - n.tasks, open = tags.open - n.open \
     FROM (SELECT key, count(*) AS tasks, count(*) FILTER (WHERE NOT completed) AS open \
     FROM k GROUP BY key) AS n \
     WHERE tags.issuer = $1 AND tags.subject = $2 AND tags.key = n.key), \
     o AS (UPDATE task_owners SET total = total - (SELECT count(*) FROM t), \
     version = version + 1, priorities = CASE WHEN priorities_at = version THEN \
     ARRAY(SELECT kept - (SELECT count(*) FROM t WHERE t.priority = p.rank - 1) \
     FROM unnest(priorities) WITH ORDINALITY AS p (kept, rank) ORDER BY p.rank) \
     ELSE priorities END, \
     priorities_at = CASE WHEN priorities_at = version THEN version + 1 ELSE priorities_at END \
     WHERE issuer = $1 AND subject = $2) \
     SELECT DISTINCT key FROM k";

fn list_from_row(row: &Row) -> Result<List, StoreError> {
    let at = |index: usize| -> Result<Timestamp, StoreError> {
        Ok(Timestamp::from_datetime(row.try_get::<_, OffsetDateTime>(index)?))
    };
    Ok(List {
        id: ListId::from_uuid(row.try_get(0)?),
        name: row.try_get(1)?,
        color: row.try_get(2)?,
        position: row.try_get(3)?,
        tasks: row.try_get::<_, i64>(4)?.unsigned_abs(),
        open: row.try_get::<_, i64>(5)?.unsigned_abs(),
        version: row.try_get::<_, i64>(6)?.unsigned_abs(),
        created_at: at(7)?,
        updated_at: at(8)?,
    })
}

async fn read_list<C: GenericClient>(
    client: &C,
    owner: Owner<'_>,
    id: ListId,
) -> Result<Option<List>, StoreError> {
    let statement = client
        .prepare_cached(&format!(
            "SELECT {LIST_COLUMNS} FROM lists WHERE issuer = $1 AND subject = $2 AND id = $3"
        ))
        .await?;
    let row = client.query_opt(&statement, &[&owner.issuer, &owner.subject, &id.as_uuid()]).await?;
    row.map(|row| list_from_row(&row)).transpose()
}

/// Whether another of the owner's lists than `except` has the name whose folding is `key`.
async fn name_taken<C: GenericClient>(
    client: &C,
    owner: Owner<'_>,
    key: &str,
    except: Option<ListId>,
) -> Result<bool, StoreError> {
    let statement = client
        .prepare_cached("SELECT id FROM lists WHERE issuer = $1 AND subject = $2 AND key = $3")
        .await?;
    let row = client.query_opt(&statement, &[&owner.issuer, &owner.subject, &key]).await?;
    let other = row.map(|row| row.try_get::<_, Uuid>(0)).transpose()?;
    Ok(other.is_some_and(|other| Some(other) != except.map(ListId::as_uuid)))
}

#[async_trait]
impl ListStore for PgTaskStore {
    async fn lists(&self, user: &UserId) -> Result<Vec<List>, StoreError> {
        let owner = Owner::of(user);
        self.db
            .run(async |client| {
                let statement = client
                    .prepare_cached(&format!(
                        "SELECT {LIST_COLUMNS} FROM lists WHERE issuer = $1 AND subject = $2 \
                         ORDER BY position, key, id"
                    ))
                    .await?;
                let rows = client.query(&statement, &[&owner.issuer, &owner.subject]).await?;
                rows.iter().map(list_from_row).collect()
            })
            .await
    }

    async fn get_list(&self, user: &UserId, id: ListId) -> Result<Option<List>, StoreError> {
        let owner = Owner::of(user);
        self.db.run(async |client| read_list(&*client, owner, id).await).await
    }

    async fn create_list(&self, user: &UserId, draft: ListDraft) -> Result<List, StoreError> {
        let owner = Owner::of(user);
        self.db
            .run(async |client| {
                let tx = client.transaction().await?;
                tx.execute(CLAIM_OWNER, &[&owner.issuer, &owner.subject]).await?;
                let row = tx
                    .query_one(
                        "SELECT count(*), max(position) FROM lists \
                         WHERE issuer = $1 AND subject = $2",
                        &[&owner.issuer, &owner.subject],
                    )
                    .await?;
                let (count, last): (i64, Option<i64>) = (row.try_get(0)?, row.try_get(1)?);
                if count.unsigned_abs() >= MAX_LISTS_PER_USER {
                    return Err(StoreError::ListLimitReached { limit: MAX_LISTS_PER_USER });
                }
                if name_taken(&tx, owner, &draft.key, None).await? {
                    return Err(StoreError::ListNameTaken);
                }
                let position = draft.position.unwrap_or_else(|| last.map_or(1, |last| last + 1));
                let statement = tx
                    .prepare_cached(&format!(
                        "INSERT INTO lists (issuer, subject, id, name, key, color, position, \
                         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, \
                         statement_timestamp(), statement_timestamp()) RETURNING {LIST_COLUMNS}"
                    ))
                    .await?;
                let id = ListId::new().as_uuid();
                let row = tx
                    .query_one(
                        &statement,
                        &[
                            &owner.issuer,
                            &owner.subject,
                            &id,
                            &draft.name,
                            &draft.key,
                            &draft.color,
                            &position,
                        ],
                    )
                    .await?;
                let list = list_from_row(&row)?;
                fenced()?;
                tx.commit().await?;
                Ok(list)
            })
            .await
    }

    async fn replace_list(
        &self,
        user: &UserId,
        id: ListId,
        draft: ListDraft,
        expected: Expected,
    ) -> Result<Guarded<List>, StoreError> {
        let owner = Owner::of(user);
        self.db
            .run(async |client| {
                let tx = client.transaction().await?;
                if !lock_owner(&tx, owner).await? {
                    return Ok(Guarded::Missing);
                }
                let Some(before) = read_list(&tx, owner, id).await? else {
                    return Ok(Guarded::Missing);
                };
                if !expected.admits(before.version) {
                    return Ok(Guarded::Conflict { current: before.version });
                }
                // An omitted position keeps the list where it is.
                let draft =
                    ListDraft { position: draft.position.or(Some(before.position)), ..draft };
                if draft.same_as(&before) {
                    return Ok(Guarded::Done(before));
                }
                if name_taken(&tx, owner, &draft.key, Some(id)).await? {
                    return Err(StoreError::ListNameTaken);
                }
                let statement = tx
                    .prepare_cached(&format!(
                        "UPDATE lists SET name = $4, key = $5, color = $6, position = $7, \
                         version = version + 1, updated_at = statement_timestamp() \
                         WHERE issuer = $1 AND subject = $2 AND id = $3 RETURNING {LIST_COLUMNS}"
                    ))
                    .await?;
                let position = draft.position.unwrap_or(before.position);
                let row = tx
                    .query_one(
                        &statement,
                        &[
                            &owner.issuer,
                            &owner.subject,
                            &id.as_uuid(),
                            &draft.name,
                            &draft.key,
                            &draft.color,
                            &position,
                        ],
                    )
                    .await?;
                let after = list_from_row(&row)?;
                fenced()?;
                tx.commit().await?;
                Ok(Guarded::Done(after))
            })
            .await
    }

    async fn delete_list(
        &self,
        user: &UserId,
        id: ListId,
        expected: Expected,
        tasks: ListTasks,
    ) -> Result<Guarded<()>, StoreError> {
        let owner = Owner::of(user);
        self.db
            .run(async |client| {
                let tx = client.transaction().await?;
                if !lock_owner(&tx, owner).await? {
                    return Ok(Guarded::Missing);
                }
                let Some(list) = read_list(&tx, owner, id).await? else {
                    return Ok(Guarded::Missing);
                };
                if !expected.admits(list.version) {
                    return Ok(Guarded::Conflict { current: list.version });
                }
                let by_list: &[&(dyn tokio_postgres::types::ToSql + Sync)] =
                    &[&owner.issuer, &owner.subject, &id.as_uuid()];
                match (list.tasks, tasks) {
                    (0, _) => {}
                    (tasks, ListTasks::Keep) => return Err(StoreError::ListNotEmpty { tasks }),
                    (_, ListTasks::ToInbox) => {
                        tx.execute(TO_INBOX, by_list).await?;
                    }
                    (_, ListTasks::Delete) => {
                        let rows = tx.query(DELETE_TASKS, by_list).await?;
                        let keys: Vec<&str> =
                            rows.iter().map(|row| row.try_get(0)).collect::<Result<_, _>>()?;
                        forget_unused_tags(&tx, owner, &keys).await?;
                    }
                }
                tx.execute(
                    "DELETE FROM lists WHERE issuer = $1 AND subject = $2 AND id = $3",
                    by_list,
                )
                .await?;
                fenced()?;
                tx.commit().await?;
                Ok(Guarded::Done(()))
            })
            .await
    }
}
