//! The SQL of the SQLite task store: rows to tasks and back, the owner's row (count and list
//! version), page reads, and the purge of expired idempotency keys.

use super::tasks::{COLUMNS, Owner, PURGE_LIMIT};
use crate::domain::auth::UserId;
use crate::domain::tasks::idempotency::KEY_LIFETIME_SECS;
use crate::domain::tasks::{PageRequest, Task, TaskDraft, TaskId, TaskPage, Timestamp};
use crate::store::StoreError;
use rusqlite::{Connection, OptionalExtension, Row, params};

/// Deletes up to [`PURGE_LIMIT`] keys that expired by `now`; returns how many.
pub(super) fn purge_expired_keys(conn: &Connection, now: i64) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "DELETE FROM idempotency_keys WHERE (issuer, subject, key) IN \
         (SELECT issuer, subject, key FROM idempotency_keys WHERE created_at <= ?1 LIMIT ?2)",
    )?
    .execute(params![now - KEY_LIFETIME_SECS, PURGE_LIMIT as i64])
}

/// A new task for `owner`, stamped now.
pub(super) fn new_task(owner: &UserId, draft: TaskDraft) -> Task {
    let now = Timestamp::now();
    Task {
        id: TaskId::new(),
        user_id: owner.subject().to_owned(),
        title: draft.title,
        description: draft.description,
        completed: draft.completed,
        completed_at: draft.completed.then_some(now),
        created_at: now,
        updated_at: now,
    }
}

/// Records one more task for the owner, and a new list version; returns the owner's number of
/// tasks and list version after it. (No `RETURNING` on the writer: SQLite gathers its rows in a
/// temporary table, which cost more than the indexed read after the write.)
pub(super) fn count_new_task(conn: &Connection, owner: &Owner) -> rusqlite::Result<(u64, u64)> {
    conn.prepare_cached(
        "INSERT INTO task_owners (issuer, subject, total, version) VALUES (?1, ?2, 1, 1) \
         ON CONFLICT (issuer, subject) DO UPDATE SET total = total + 1, version = version + 1",
    )?
    .execute(params![owner.issuer, owner.subject])?;
    conn.prepare_cached(
        "SELECT total, version FROM task_owners WHERE issuer = ?1 AND subject = ?2",
    )?
    .query_row(params![owner.issuer, owner.subject], |row| {
        Ok((row.get::<_, i64>(0)?.unsigned_abs(), row.get::<_, i64>(1)?.unsigned_abs()))
    })
}

/// Records a change to the tasks of an owner that has some: `added` more (or fewer) of them, and
/// a new list version, which it returns.
pub(super) fn record_change(conn: &Connection, owner: &Owner, added: i64) -> rusqlite::Result<u64> {
    conn.prepare_cached(
        "UPDATE task_owners SET total = total + ?3, version = version + 1 \
         WHERE issuer = ?1 AND subject = ?2",
    )?
    .execute(params![owner.issuer, owner.subject, added])?;
    conn.prepare_cached("SELECT version FROM task_owners WHERE issuer = ?1 AND subject = ?2")?
        .query_row(params![owner.issuer, owner.subject], |row| {
            Ok(row.get::<_, i64>(0)?.unsigned_abs())
        })
}

/// After an update of the task `id` of `owner` that changed `updated` rows: the task as it now
/// is, and the owner's new list version; neither when no task matched.
pub(super) fn after_update(
    conn: &Connection,
    owner: &Owner,
    id: &str,
    updated: usize,
) -> rusqlite::Result<(Option<Task>, Option<u64>)> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!("SELECT {COLUMNS} FROM tasks WHERE issuer = ?1 AND subject = ?2 AND id = ?3")
    });
    if updated == 0 {
        return Ok((None, None));
    }
    let task = conn
        .prepare_cached(&SQL)?
        .query_row(params![owner.issuer, owner.subject, id], task_from_row)
        .optional()?;
    let version = match task {
        Some(_) => Some(record_change(conn, owner, 0)?),
        None => None,
    };
    Ok((task, version))
}

/// Inserts the task, unless the owner already has `max_tasks`; returns the owner's list version.
pub(super) fn insert_task(
    conn: &Connection,
    owner: &Owner,
    task: &Task,
    max_tasks: u64,
) -> Result<u64, StoreError> {
    let (total, version) = count_new_task(conn, owner)?;
    if total > max_tasks {
        // The write's savepoint is rolled back, the count with it.
        return Err(StoreError::LimitReached { limit: max_tasks });
    }
    conn.prepare_cached(
        "INSERT INTO tasks (issuer, subject, id, title, description, completed, completed_at, \
         created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        owner.issuer,
        owner.subject,
        task.id.to_string(),
        task.title,
        task.description,
        task.completed,
        task.completed_at,
        task.created_at,
        task.updated_at
    ])?;
    Ok(version)
}

/// Timestamps are stored as the text they are served as, so rows written before they were typed
/// read back unchanged.
impl rusqlite::ToSql for Timestamp {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.to_string().into())
    }
}

impl rusqlite::types::FromSql for Timestamp {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let text = value.as_bytes()?;
        Timestamp::parse_bytes(text).ok_or_else(|| {
            let text = String::from_utf8_lossy(text);
            rusqlite::types::FromSqlError::Other(format!("not a timestamp: {text:?}").into())
        })
    }
}

pub(super) fn task_from_row(row: &Row<'_>) -> rusqlite::Result<Task> {
    Ok(Task {
        user_id: row.get(0)?,
        id: {
            let id: String = row.get(1)?;
            TaskId::parse(&id).map_err(|_| {
                rusqlite::Error::FromSqlConversionFailure(
                    1,
                    rusqlite::types::Type::Text,
                    format!("not a task id: {id}").into(),
                )
            })?
        },
        title: row.get(2)?,
        description: row.get(3)?,
        completed: row.get(4)?,
        completed_at: row.get(5)?,
        created_at: row.get(6)?,
        updated_at: row.get(7)?,
    })
}

/// The owner's number of tasks and list version; zeros before the owner's first write.
pub(super) fn owner_row(conn: &Connection, owner: &Owner) -> rusqlite::Result<(u64, u64)> {
    Ok(conn
        .prepare_cached(
            "SELECT total, version FROM task_owners WHERE issuer = ?1 AND subject = ?2",
        )?
        .query_row(params![owner.issuer, owner.subject], |row| {
            Ok((row.get::<_, i64>(0)?.unsigned_abs(), row.get::<_, i64>(1)?.unsigned_abs()))
        })
        .optional()?
        .unwrap_or((0, 0)))
}

pub(super) fn read_page(
    conn: &Connection,
    owner: &Owner,
    page: PageRequest,
) -> rusqlite::Result<TaskPage> {
    // One row past the page tells whether another follows; the scan runs in key order, so
    // taking rows stops it early. Parameters are CAST because SQLite re-prepares a statement
    // on every run when its plan (here, the ORDER BY) depends on a bound value, and a bound
    // `LIMIT` would do the same: see `list_statements_are_prepared_once`.
    let fetch = page.limit as usize + 1;
    let mut tasks = match page.after {
        None => conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM tasks WHERE issuer = CAST(?1 AS TEXT) \
                 AND subject = CAST(?2 AS TEXT) ORDER BY id DESC"
            ))?
            .query_map(params![owner.issuer, owner.subject], task_from_row)?
            .take(fetch)
            .collect::<rusqlite::Result<Vec<_>>>()?,
        Some(after) => conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM tasks WHERE issuer = CAST(?1 AS TEXT) \
                 AND subject = CAST(?2 AS TEXT) AND id < CAST(?3 AS TEXT) ORDER BY id DESC"
            ))?
            .query_map(params![owner.issuer, owner.subject, after.to_string()], task_from_row)?
            .take(fetch)
            .collect::<rusqlite::Result<Vec<_>>>()?,
    };
    let (total, version) = owner_row(conn, owner)?;
    let next = if tasks.len() > page.limit as usize {
        tasks.truncate(page.limit as usize);
        tasks.last().map(|task| task.id)
    } else {
        None
    };
    Ok(TaskPage::new(tasks, total, next, version))
}

/// Pages of at most this many rows (the default size) are read on the calling thread: a hop to a
/// blocking thread costs more than reading them, and under load the hop's extra thread competes
/// with the writer for the CPU. Larger pages are read on a blocking thread.
pub(super) const INLINE_PAGE_ROWS: u32 = crate::domain::tasks::DEFAULT_PAGE_SIZE;

/// One read transaction: the rows, the total and the version of one snapshot.
pub(super) fn read_snapshot(
    conn: &Connection,
    owner: &Owner,
    page: PageRequest,
) -> Result<TaskPage, StoreError> {
    conn.execute_batch("BEGIN")?;
    let found = read_page(conn, owner, page);
    let ended = conn.execute_batch(if found.is_ok() { "COMMIT" } else { "ROLLBACK" });
    let found = found?;
    ended?;
    Ok(found)
}
