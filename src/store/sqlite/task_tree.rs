//! Lists and subtasks in the task writes on SQLite: where a written task goes (its list and its
//! parent, checked against the owner's own), and the subtree a task carries with it.

use rusqlite::{Connection, params};

use super::task_sql::task_from_row;
use super::tasks::{COLUMNS, Owner};
use crate::domain::lists::ListId;
use crate::domain::tasks::tree::{Parent, Placing, under_parent};
use crate::domain::tasks::{Invalid, MAX_LEVELS, Task, TaskId};
use crate::store::StoreError;

/// The list a task written with `placing` is in, after checking its list and parent against the
/// owner's (the rules are [`under_parent`]'s): a list or a parent the owner does not have
/// is refused the same way whether it exists for another user or not at all. `moving` is the
/// task as it is (none: a new task), whose subtree moves with it.
pub(super) fn place(
    conn: &Connection,
    owner: &Owner,
    placing: &Placing,
    moving: Option<&Task>,
) -> Result<Option<ListId>, StoreError> {
    if let Some(list) = moving.and_then(|task| placing.unchanged(task)) {
        return Ok(list);
    }
    let Some(parent_id) = placing.parent_id else {
        let list = placing.top_level_list();
        if let Some(list) = list
            && !list_exists(conn, owner, list)?
        {
            return Err(StoreError::Invalid(Invalid::field("list_id", "is not one of your lists")));
        }
        return Ok(list);
    };
    let parent = match parent_of(conn, owner, parent_id)? {
        None => None,
        Some((list_id, mut above)) => {
            let mut ancestors = Vec::new();
            // One past the deepest level allowed is enough to refuse, and ends a corrupt cycle.
            while let Some(ancestor) = above.filter(|_| ancestors.len() < MAX_LEVELS) {
                ancestors.push(ancestor);
                above = parent_of(conn, owner, ancestor)?.and_then(|(_, parent)| parent);
            }
            Some(Parent { list_id, ancestors })
        }
    };
    let moving = match moving {
        Some(task) => {
            let below = subtree(conn, owner, task.id)?;
            Some((task.id, 1 + below.iter().map(|(_, depth)| *depth).max().unwrap_or(0)))
        }
        None => None,
    };
    under_parent(placing, parent_id, parent.as_ref(), moving).map_err(StoreError::Invalid)
}

fn list_exists(conn: &Connection, owner: &Owner, list: ListId) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM lists WHERE issuer = ?1 AND subject = ?2 AND id = ?3")?
        .exists(params![owner.issuer, owner.subject, list.to_string()])
}

/// The task's list and parent, if the owner has it.
#[allow(clippy::type_complexity)]
fn parent_of(
    conn: &Connection,
    owner: &Owner,
    id: TaskId,
) -> Result<Option<(Option<ListId>, Option<TaskId>)>, StoreError> {
    let row: Option<(Option<String>, Option<String>)> = conn
        .prepare_cached(
            "SELECT list_id, parent_id FROM tasks WHERE issuer = ?1 AND subject = ?2 AND id = ?3",
        )?
        .query_row(params![owner.issuer, owner.subject, id.to_string()], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .map(Some)
        .or_else(|error| match error {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            error => Err(error),
        })?;
    let Some((list, parent)) = row else { return Ok(None) };
    let corrupt = |what: String| StoreError::internal(format!("a stored id out of range: {what}"));
    let list = list.map(|id| ListId::parse(&id, "list_id").map_err(|_| corrupt(id))).transpose()?;
    let parent = parent.map(|id| TaskId::parse(&id).map_err(|_| corrupt(id))).transpose()?;
    Ok(Some((list, parent)))
}

/// The task's subtasks at every level, each with its depth below the task (1: a child), parents
/// before their children. Bounded past the deepest level allowed, so a corrupt cycle ends.
pub(super) fn subtree(
    conn: &Connection,
    owner: &Owner,
    id: TaskId,
) -> rusqlite::Result<Vec<(Task, usize)>> {
    let sql = format!(
        "WITH RECURSIVE below (task_id, depth) AS ( \
             SELECT id, 1 FROM tasks WHERE issuer = ?1 AND subject = ?2 AND parent_id = ?3 \
             UNION ALL \
             SELECT t.id, below.depth + 1 FROM below JOIN tasks t \
                 ON t.issuer = ?1 AND t.subject = ?2 AND t.parent_id = below.task_id \
             WHERE below.depth < {} \
         ) \
         SELECT {COLUMNS}, below.depth FROM below JOIN tasks \
             ON tasks.issuer = ?1 AND tasks.subject = ?2 AND tasks.id = below.task_id \
         ORDER BY below.depth",
        MAX_LEVELS + 1
    );
    conn.prepare_cached(&sql)?
        .query_map(params![owner.issuer, owner.subject, id.to_string()], |row| {
            Ok((task_from_row(row)?, row.get::<_, i64>(17)?.unsigned_abs() as usize))
        })?
        .collect()
}
