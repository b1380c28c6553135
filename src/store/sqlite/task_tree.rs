//! Lists and subtasks in the task writes on SQLite: where a written task goes (its list and its
//! parent, checked against the owner's own), and the subtree a task carries with it.

use rusqlite::{Connection, params};

use super::task_sql::task_from_row;
use super::tasks::{COLUMNS, Owner};
use crate::domain::lists::ListId;
use crate::domain::tasks::{Invalid, MAX_LEVELS, Task, TaskId};
use crate::store::StoreError;

/// Where a task goes, as its input says.
pub(super) struct Placing {
    pub list_id: Option<ListId>,
    /// Whether the input named a list (a subtask otherwise takes its parent's).
    pub list_given: bool,
    pub parent_id: Option<TaskId>,
}

/// The list a task written with `placing` is in, after checking its list and parent against the
/// owner's: a list or a parent the owner does not have is refused the same way whether it
/// exists for another user or not at all. `moving` is the task as it is (none: a new task),
/// whose subtree moves with it: its new parent may not be in it, nor put it below level 4.
pub(super) fn place(
    conn: &Connection,
    owner: &Owner,
    placing: &Placing,
    moving: Option<&Task>,
) -> Result<Option<ListId>, StoreError> {
    // Not given, a top-level task's list is the inbox (a PUT replaces; a patch's null removes).
    let wanted = placing.list_given.then_some(placing.list_id);
    if let Some(task) = moving
        && placing.parent_id == task.parent_id
        && (wanted.is_none() && task.parent_id.is_some() || wanted == Some(task.list_id))
    {
        // Where it is already, which was checked when it went there.
        return Ok(task.list_id);
    }
    let Some(parent_id) = placing.parent_id else {
        if let Some(Some(list)) = wanted
            && !list_exists(conn, owner, list)?
        {
            return Err(refused("list_id", "is not one of your lists"));
        }
        return Ok(wanted.flatten());
    };
    if moving.is_some_and(|task| task.id == parent_id) {
        return Err(refused("parent_id", "cannot be the task itself"));
    }
    let Some((parent_list, mut above)) = parent_of(conn, owner, parent_id)? else {
        return Err(refused("parent_id", "is not one of your tasks"));
    };
    // The parent's level: 1 for a top-level task, one more for each ancestor.
    let mut level = 1;
    while let Some(ancestor) = above {
        if moving.is_some_and(|task| task.id == ancestor) {
            return Err(refused("parent_id", "is a subtask of this task: that would be a cycle"));
        }
        level += 1;
        if level > MAX_LEVELS {
            break;
        }
        above = parent_of(conn, owner, ancestor)?.and_then(|(_, parent)| parent);
    }
    let height = match moving {
        Some(task) => {
            1 + subtree(conn, owner, task.id)?.iter().map(|(_, depth)| *depth).max().unwrap_or(0)
        }
        None => 1,
    };
    if level + height > MAX_LEVELS {
        return Err(refused(
            "parent_id",
            "would nest subtasks more than 4 levels deep (a task and 3 levels below it)",
        ));
    }
    if wanted.is_some_and(|list| list != parent_list) {
        return Err(refused(
            "list_id",
            "must be the parent's list: a subtask is in its parent's list",
        ));
    }
    Ok(parent_list)
}

fn refused(field: &str, message: &str) -> StoreError {
    StoreError::Invalid(Invalid::field(field, message))
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
