//! An owner's lists on SQLite. Every write runs on the writer thread, so a name checked free is
//! still free when the row goes in (the unique index on the folded name stands behind it anyway).

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::task_sql::{delete_task, read_task, record_change, update_task};
use super::tasks::{Owner, SqliteTaskStore};
use crate::domain::auth::UserId;
use crate::domain::lists::{List, ListDraft, ListId, ListTasks, MAX_LISTS_PER_USER};
use crate::domain::tasks::{Expected, Task, Timestamp};
use crate::store::{Guarded, ListStore, StoreError};

const LIST_COLUMNS: &str =
    "id, name, color, position, tasks, open, version, created_at, updated_at";

fn list_from_row(row: &Row<'_>) -> rusqlite::Result<List> {
    let id: String = row.get(0)?;
    Ok(List {
        id: ListId::parse(&id, "id").map_err(|_| {
            rusqlite::Error::FromSqlConversionFailure(
                0,
                rusqlite::types::Type::Text,
                format!("not a list id: {id}").into(),
            )
        })?,
        name: row.get(1)?,
        color: row.get(2)?,
        position: row.get(3)?,
        tasks: row.get::<_, i64>(4)?.unsigned_abs(),
        open: row.get::<_, i64>(5)?.unsigned_abs(),
        version: row.get::<_, i64>(6)?.unsigned_abs(),
        created_at: row.get(7)?,
        updated_at: row.get(8)?,
    })
}

fn read_list(conn: &Connection, owner: &Owner, id: ListId) -> rusqlite::Result<Option<List>> {
    conn.prepare_cached(&format!(
        "SELECT {LIST_COLUMNS} FROM lists WHERE issuer = ?1 AND subject = ?2 AND id = ?3"
    ))?
    .query_row(params![owner.issuer, owner.subject, id.to_string()], list_from_row)
    .optional()
}

/// Whether another of the owner's lists than `except` has the name whose folding is `key`.
fn name_taken(
    conn: &Connection,
    owner: &Owner,
    key: &str,
    except: Option<ListId>,
) -> rusqlite::Result<bool> {
    let other: Option<String> = conn
        .prepare_cached("SELECT id FROM lists WHERE issuer = ?1 AND subject = ?2 AND key = ?3")?
        .query_row(params![owner.issuer, owner.subject, key], |row| row.get(0))
        .optional()?;
    Ok(other.is_some_and(|other| Some(other) != except.map(|id| id.to_string())))
}

/// The ids of the list's tasks (a subtree is all in one list, so these are whole subtrees).
fn task_ids(conn: &Connection, owner: &Owner, list: ListId) -> rusqlite::Result<Vec<String>> {
    conn.prepare_cached(
        "SELECT id FROM tasks WHERE issuer = ?1 AND subject = ?2 AND list_id = ?3 \
         ORDER BY id",
    )?
    .query_map(params![owner.issuer, owner.subject, list.to_string()], |row| row.get(0))?
    .collect()
}

#[async_trait]
impl ListStore for SqliteTaskStore {
    async fn lists(&self, owner: &UserId) -> Result<Vec<List>, StoreError> {
        let owner = Owner::of(owner);
        self.db
            .read_blocking(move |conn| {
                Ok(conn
                    .prepare_cached(&format!(
                        "SELECT {LIST_COLUMNS} FROM lists WHERE issuer = ?1 AND subject = ?2 \
                         ORDER BY position, key, id"
                    ))?
                    .query_map(params![owner.issuer, owner.subject], list_from_row)?
                    .collect::<rusqlite::Result<_>>()?)
            })
            .await
    }

    async fn get_list(&self, owner: &UserId, id: ListId) -> Result<Option<List>, StoreError> {
        let owner = Owner::of(owner);
        self.db.read(|conn| Ok(read_list(conn, &owner, id)?))
    }

    async fn create_list(&self, user: &UserId, draft: ListDraft) -> Result<List, StoreError> {
        let owner = Owner::of(user);
        self.write(user, move |conn| {
            let (count, last): (i64, Option<i64>) = conn
                .prepare_cached(
                    "SELECT count(*), max(position) FROM lists WHERE issuer = ?1 AND subject = ?2",
                )?
                .query_row(params![owner.issuer, owner.subject], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })?;
            if count.unsigned_abs() >= MAX_LISTS_PER_USER {
                return Err(StoreError::ListLimitReached { limit: MAX_LISTS_PER_USER });
            }
            if name_taken(conn, &owner, &draft.key, None)? {
                return Err(StoreError::ListNameTaken);
            }
            let now = Timestamp::now();
            let list = List {
                id: ListId::new(),
                name: draft.name,
                color: draft.color,
                position: draft.position.unwrap_or_else(|| last.map_or(1, |last| last + 1)),
                tasks: 0,
                open: 0,
                version: 1,
                created_at: now,
                updated_at: now,
            };
            conn.prepare_cached(
                "INSERT INTO lists (issuer, subject, id, name, key, color, position, created_at, \
                 updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                owner.issuer,
                owner.subject,
                list.id.to_string(),
                list.name,
                draft.key,
                list.color,
                list.position,
                list.created_at,
                list.updated_at,
            ])?;
            Ok((list, None))
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
        self.write(user, move |conn| {
            let Some(before) = read_list(conn, &owner, id)? else {
                return Ok((Guarded::Missing, None));
            };
            if !expected.admits(before.version) {
                return Ok((Guarded::Conflict { current: before.version }, None));
            }
            // An omitted position keeps the list where it is.
            let draft = ListDraft { position: draft.position.or(Some(before.position)), ..draft };
            if draft.same_as(&before) {
                return Ok((Guarded::Done(before), None));
            }
            if name_taken(conn, &owner, &draft.key, Some(id))? {
                return Err(StoreError::ListNameTaken);
            }
            let after = List {
                name: draft.name,
                color: draft.color,
                position: draft.position.unwrap_or(before.position),
                version: before.version + 1,
                updated_at: Timestamp::now(),
                ..before
            };
            conn.prepare_cached(
                "UPDATE lists SET name = ?4, key = ?5, color = ?6, position = ?7, version = ?8, \
                 updated_at = ?9 WHERE issuer = ?1 AND subject = ?2 AND id = ?3",
            )?
            .execute(params![
                owner.issuer,
                owner.subject,
                id.to_string(),
                after.name,
                draft.key,
                after.color,
                after.position,
                after.version as i64,
                after.updated_at,
            ])?;
            Ok((Guarded::Done(after), None))
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
        self.write(user, move |conn| {
            let Some(list) = read_list(conn, &owner, id)? else {
                return Ok((Guarded::Missing, None));
            };
            if !expected.admits(list.version) {
                return Ok((Guarded::Conflict { current: list.version }, None));
            }
            if list.tasks > 0 && tasks == ListTasks::Keep {
                return Err(StoreError::ListNotEmpty { tasks: list.tasks });
            }
            let mut changed: Vec<(Task, Option<Task>)> = Vec::new();
            let now = Timestamp::now();
            let ids = task_ids(conn, &owner, id)?;
            let mut ordered = Vec::with_capacity(ids.len());
            for task_id in &ids {
                if let Some(task) = read_task(conn, &owner, task_id)? {
                    ordered.push(task);
                }
            }
            match tasks {
                ListTasks::Keep => {}
                ListTasks::ToInbox => {
                    for task in ordered {
                        let after = Task {
                            list_id: None,
                            version: task.version + 1,
                            updated_at: now,
                            ..task.clone()
                        };
                        update_task(conn, &owner, &task, &after)?;
                        changed.push((task, Some(after)));
                    }
                }
                ListTasks::Delete => {
                    for task in ordered {
                        delete_task(conn, &owner, &task)?;
                        changed.push((task, None));
                    }
                }
            }
            let version = match changed.is_empty() {
                true => None,
                false => {
                    let changes: Vec<_> = changed
                        .iter()
                        .map(|(before, after)| (Some(before), after.as_ref()))
                        .collect();
                    Some(record_change(conn, &owner, &changes)?)
                }
            };
            conn.prepare_cached(
                "DELETE FROM lists WHERE issuer = ?1 AND subject = ?2 AND id = ?3",
            )?
            .execute(params![owner.issuer, owner.subject, id.to_string()])?;
            Ok((Guarded::Done(()), version))
        })
        .await
    }
}
