//! Lists and subtasks in the task writes on PostgreSQL: where a written task goes (its list and
//! its parent, checked against the owner's own), the subtree a task carries with it, and the
//! lists' counts. Everything here runs in a write's transaction after it took the owner's row
//! lock, which every write of the owner's tasks and lists takes first: the tree checked cannot
//! change before the write commits, so two tasks moved under each other at once take turns and
//! the second is refused as a cycle, and the counts move one write at a time.

use deadpool_postgres::GenericClient;
use std::sync::LazyLock;
use uuid::Uuid;

use super::task_sql::{COLUMNS, Owner, task_from_row, update_task};
use crate::domain::lists::ListId;
use crate::domain::tasks::tree::{Parent, Placing, under_parent};
use crate::domain::tasks::{Invalid, MAX_LEVELS, Task, TaskId};
use crate::store::StoreError;

/// The parent (`$3`) and its ancestors, nearest first, one past the deepest level allowed.
static ANCESTORS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH RECURSIVE up (id, list_id, parent_id, level) AS ( \
         SELECT id, list_id, parent_id, 1 FROM tasks \
         WHERE issuer = $1 AND subject = $2 AND id = $3 \
         UNION ALL \
         SELECT t.id, t.list_id, t.parent_id, up.level + 1 FROM up JOIN tasks t \
         ON t.issuer = $1 AND t.subject = $2 AND t.id = up.parent_id \
         WHERE up.level <= {MAX_LEVELS}) \
         SELECT id, list_id, parent_id FROM up ORDER BY level"
    )
});

/// The task's (`$3`) subtasks at every level with their depth below it, parents first; bounded
/// past the deepest level allowed, so a corrupt cycle ends.
static SUBTREE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH RECURSIVE below (task_id, depth) AS ( \
         SELECT id, 1 FROM tasks WHERE issuer = $1 AND subject = $2 AND parent_id = $3 \
         UNION ALL \
         SELECT t.id, below.depth + 1 FROM below JOIN tasks t \
         ON t.issuer = $1 AND t.subject = $2 AND t.parent_id = below.task_id \
         WHERE below.depth < {} \
         ) \
         SELECT {COLUMNS}, below.depth FROM below JOIN tasks \
         ON tasks.issuer = $1 AND tasks.subject = $2 AND tasks.id = below.task_id \
         ORDER BY below.depth, tasks.id",
        MAX_LEVELS + 1
    )
});

/// The list a task written with `placing` is in, after checking its list and parent against the
/// owner's (the rules are [`under_parent`]'s): a list or a parent the owner does not have is
/// refused the same way whether it exists for another user or not at all. `moving` is the task
/// as it is (none: a new task), whose subtree moves with it.
pub(super) async fn place<C: GenericClient>(
    client: &C,
    owner: Owner<'_>,
    placing: &Placing,
    moving: Option<&Task>,
) -> Result<Option<ListId>, StoreError> {
    if let Some(list) = moving.and_then(|task| placing.unchanged(task)) {
        return Ok(list);
    }
    let Some(parent_id) = placing.parent_id else {
        let list = placing.top_level_list();
        if let Some(list) = list
            && !list_exists(client, owner, list).await?
        {
            return Err(StoreError::Invalid(Invalid::field("list_id", "is not one of your lists")));
        }
        return Ok(list);
    };
    let statement = client.prepare_cached(&ANCESTORS).await?;
    let rows =
        client.query(&statement, &[&owner.issuer, &owner.subject, &parent_id.as_uuid()]).await?;
    let parent = match rows.split_first() {
        None => None,
        Some((parent, above)) => Some(Parent {
            list_id: parent.try_get::<_, Option<Uuid>>(1)?.map(ListId::from_uuid),
            ancestors: above
                .iter()
                .map(|row| Ok(TaskId::from_uuid(row.try_get::<_, Uuid>(0)?)))
                .collect::<Result<_, StoreError>>()?,
        }),
    };
    let moving = match moving {
        Some(task) => {
            let below = subtree(client, owner, task.id).await?;
            Some((task.id, 1 + below.iter().map(|(_, depth)| *depth).max().unwrap_or(0)))
        }
        None => None,
    };
    under_parent(placing, parent_id, parent.as_ref(), moving).map_err(StoreError::Invalid)
}

async fn list_exists<C: GenericClient>(
    client: &C,
    owner: Owner<'_>,
    list: ListId,
) -> Result<bool, StoreError> {
    let statement = client
        .prepare_cached("SELECT 1 FROM lists WHERE issuer = $1 AND subject = $2 AND id = $3")
        .await?;
    let row =
        client.query_opt(&statement, &[&owner.issuer, &owner.subject, &list.as_uuid()]).await?;
    Ok(row.is_some())
}

/// The task's subtasks at every level, each with its depth below the task (1: a child), parents
/// before their children.
pub(super) async fn subtree<C: GenericClient>(
    client: &C,
    owner: Owner<'_>,
    id: TaskId,
) -> Result<Vec<(Task, usize)>, StoreError> {
    let statement = client.prepare_cached(&SUBTREE).await?;
    let rows = client.query(&statement, &[&owner.issuer, &owner.subject, &id.as_uuid()]).await?;
    let depth_at = COLUMNS.split(',').count();
    rows.iter()
        .map(|row| {
            Ok((task_from_row(row, 0)?, row.try_get::<_, i32>(depth_at)?.unsigned_abs() as usize))
        })
        .collect()
}

/// What a write from `before` to `after` does to the task's subtasks at every level: a move to
/// another list (or the inbox) moves them all; a completion completes the open ones (those
/// completed already keep their moment). Each changed subtask gets a new version. Returns each
/// as it was and as it is.
pub(super) async fn carry_subtree<C: GenericClient>(
    tx: &C,
    owner: Owner<'_>,
    before: &Task,
    after: &Task,
) -> Result<Vec<(Task, Task)>, StoreError> {
    let moved = before.list_id != after.list_id;
    let completed = after.completed && !before.completed;
    if !moved && !completed {
        return Ok(Vec::new());
    }
    let mut carried = Vec::new();
    for (subtask, _) in subtree(tx, owner, after.id).await? {
        let mut draft = subtask.to_draft();
        draft.list_id = after.list_id;
        draft.completed |= completed;
        if !draft.same_as(&subtask) {
            let changed = update_task(tx, owner, &subtask, &draft).await?;
            carried.push((subtask, changed));
        }
    }
    Ok(carried)
}

/// Keeps the lists' `tasks` and `open` in step with a write's changes to tasks, each a task as
/// it was and as it is (`None`: created, or deleted), in one statement.
pub(super) async fn count_in_lists<C: GenericClient>(
    client: &C,
    owner: Owner<'_>,
    changes: &[(Option<&Task>, Option<&Task>)],
) -> Result<(), StoreError> {
    let mut lists: Vec<(Uuid, i64, i64)> = Vec::new();
    for (before, after) in changes {
        for (task, sign) in [(before, -1), (after, 1)] {
            let Some((task, list)) = task.and_then(|task| Some((task, task.list_id?))) else {
                continue;
            };
            let open = if task.completed { 0 } else { sign };
            match lists.iter_mut().find(|(id, _, _)| *id == list.as_uuid()) {
                Some((_, tasks, opened)) => {
                    *tasks += sign;
                    *opened += open;
                }
                None => lists.push((list.as_uuid(), sign, open)),
            }
        }
    }
    lists.retain(|(_, tasks, open)| (*tasks, *open) != (0, 0));
    if lists.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = lists.iter().map(|(id, _, _)| *id).collect();
    let tasks: Vec<i64> = lists.iter().map(|(_, tasks, _)| *tasks).collect();
    let open: Vec<i64> = lists.iter().map(|(_, _, open)| *open).collect();
    let statement = client
        .prepare_cached(
            "UPDATE lists SET tasks = lists.tasks + n.tasks, open = lists.open + n.open \
             FROM unnest($3::uuid[], $4::int8[], $5::int8[]) AS n (id, tasks, open) \
             WHERE lists.issuer = $1 AND lists.subject = $2 AND lists.id = n.id",
        )
        .await?;
    client.execute(&statement, &[&owner.issuer, &owner.subject, &ids, &tasks, &open]).await?;
    Ok(())
}
