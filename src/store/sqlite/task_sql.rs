//! The SQL of the SQLite task store: rows to tasks and back, the owner's row (count and list
//! version), page reads, and the purge of expired idempotency keys.

use super::task_tree::place;
use super::tasks::{COLUMNS, Owner, PURGE_LIMIT};
use crate::domain::auth::UserId;
use crate::domain::lists::ListId;
use crate::domain::tasks::due::{DueTime, time_text};
use crate::domain::tasks::fields::{MAX_TAGS_PER_USER, fold};
use crate::domain::tasks::idempotency::KEY_LIFETIME_SECS;
use crate::domain::tasks::tree::Placing;
use crate::domain::tasks::{Due, Priority, TagName, Task, TaskDraft, TaskId, Timestamp};
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

/// A new task for `owner`, stamped now; its tags are spelled as given until the insert takes
/// the owner's spelling of each.
pub(super) fn new_task(owner: &UserId, draft: &TaskDraft) -> Task {
    let now = Timestamp::now();
    Task {
        id: TaskId::new(),
        user_id: owner.subject().to_owned(),
        title: draft.title.clone(),
        description: draft.description.clone(),
        completed: draft.completed,
        completed_at: draft.completed.then_some(now),
        created_at: now,
        updated_at: now,
        priority: draft.priority,
        tags: draft.tags.iter().map(|tag| tag.name.clone()).collect(),
        due: draft.due.clone(),
        list_id: draft.list_id,
        parent_id: draft.parent_id,
        version: 1,
    }
}

/// The functions the migrations (and nothing at run time) call.
pub(super) fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("taskgate_fold", 1, flags, |ctx| Ok(fold(&ctx.get::<String>(0)?)))?;
    conn.create_scalar_function("taskgate_micros", 1, flags, |ctx| {
        Ok(Timestamp::parse(&ctx.get::<String>(0)?).map_or(0, Timestamp::unix_micros))
    })?;
    conn.create_scalar_function("taskgate_owner_token", 2, flags, |ctx| {
        Ok(owner_token(&ctx.get::<String>(0)?, &ctx.get::<String>(1)?))
    })
}

/// The token that stands for an owner in `task_search`: letters and digits only, so the
/// tokenizer keeps it whole, and never a word anyone types.
pub(super) fn owner_token(issuer: &str, subject: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update((issuer.len() as u64).to_be_bytes());
    hash.update(issuer.as_bytes());
    hash.update(subject.as_bytes());
    let digest = hash.finalize();
    let mut token = String::with_capacity(34);
    token.push_str("owner");
    for byte in &digest[..12] {
        token.push_str(&format!("{byte:02x}"));
    }
    token
}

fn search_id_of(conn: &Connection, owner: &Owner, id: &str) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "SELECT search_id FROM tasks WHERE issuer = ?1 AND subject = ?2 AND id = ?3",
    )?
    .query_row(params![owner.issuer, owner.subject, id], |row| row.get(0))
}

/// Records what a task's search row is to be (`None`: gone), for [`apply_staged_search`].
fn stage_search(
    conn: &Connection,
    search_id: i64,
    row: Option<(&Owner, String)>,
) -> rusqlite::Result<()> {
    let (owner, text) = match row {
        Some((owner, text)) => (owner_token(&owner.issuer, &owner.subject), Some(text)),
        None => (String::new(), None),
    };
    conn.prepare_cached(
        "INSERT INTO search_pending (search_id, owner, text) VALUES (?1, ?2, ?3) \
         ON CONFLICT (search_id) DO UPDATE SET owner = excluded.owner, text = excluded.text",
    )?
    .execute(params![search_id, owner, text])?;
    Ok(())
}

/// Brings `task_search` up to the rows staged by the writes of this transaction, in a few
/// statements: run by the writer once per batch, outside the writes' savepoints (see
/// `search_pending` in migration 10).
pub(super) fn apply_staged_search(conn: &Connection) -> rusqlite::Result<()> {
    let staged = conn.prepare_cached("SELECT 1 FROM search_pending LIMIT 1")?.exists([])?;
    if !staged {
        return Ok(());
    }
    for sql in [
        "DELETE FROM task_search WHERE rowid IN (SELECT search_id FROM search_pending)",
        "INSERT INTO task_search (rowid, owner, text) \
         SELECT search_id, owner, text FROM search_pending WHERE text IS NOT NULL",
        "DELETE FROM search_pending",
    ] {
        conn.prepare_cached(sql)?.execute([])?;
    }
    Ok(())
}

/// What `task_search` indexes of a task.
fn search_text(task: &Task) -> String {
    format!("{}\n{}", task.title, task.description.as_deref().unwrap_or(""))
}

/// The column of `task_owners` that counts the owner's tasks of this one's priority and
/// completion (see migration 11).
pub(super) fn count_column(priority: Priority, completed: bool) -> &'static str {
    match (priority, completed) {
        (Priority::None, false) => "none_open",
        (Priority::None, true) => "none_done",
        (Priority::Low, false) => "low_open",
        (Priority::Low, true) => "low_done",
        (Priority::Medium, false) => "medium_open",
        (Priority::Medium, true) => "medium_done",
        (Priority::High, false) => "high_open",
        (Priority::High, true) => "high_done",
    }
}

fn counted(task: &Task) -> &'static str {
    count_column(task.priority, task.completed)
}

/// Records one more task for the owner, and a new list version; returns the owner's number of
/// tasks and list version after it. (No `RETURNING` on the writer: SQLite gathers its rows in a
/// temporary table, which cost more than the indexed read after the write.)
pub(super) fn count_new_task(
    conn: &Connection,
    owner: &Owner,
    task: &Task,
) -> rusqlite::Result<(u64, u64)> {
    let column = counted(task);
    conn.prepare_cached(&format!(
        "INSERT INTO task_owners (issuer, subject, total, version, {column}) \
         VALUES (?1, ?2, 1, 1, 1) ON CONFLICT (issuer, subject) \
         DO UPDATE SET total = total + 1, version = version + 1, {column} = {column} + 1"
    ))?
    .execute(params![owner.issuer, owner.subject])?;
    conn.prepare_cached(
        "SELECT total, version FROM task_owners WHERE issuer = ?1 AND subject = ?2",
    )?
    .query_row(params![owner.issuer, owner.subject], |row| {
        Ok((row.get::<_, i64>(0)?.unsigned_abs(), row.get::<_, i64>(1)?.unsigned_abs()))
    })
}

/// A task as it was before a write and as it is after it (`None`: created, or deleted).
pub(super) type Change<'a> = (Option<&'a Task>, Option<&'a Task>);

/// Records a write's changes to the tasks of an owner that has some: the owner's count of tasks
/// (in all, and by priority and completion), its lists' counts, and a new list version, which it
/// returns. With no changes, the write changed nothing counted (a tag renamed, say).
pub(super) fn record_change(
    conn: &Connection,
    owner: &Owner,
    changes: &[Change<'_>],
) -> rusqlite::Result<u64> {
    let mut added = 0i64;
    let mut columns: Vec<(&'static str, i64)> = Vec::new();
    let mut lists: Vec<(ListId, i64, i64)> = Vec::new();
    for (before, after) in changes {
        added += i64::from(after.is_some()) - i64::from(before.is_some());
        for (task, sign) in [(before, -1), (after, 1)] {
            let Some(task) = task else { continue };
            match columns.iter_mut().find(|(column, _)| *column == counted(task)) {
                Some((_, delta)) => *delta += sign,
                None => columns.push((counted(task), sign)),
            }
            if let Some(list) = task.list_id {
                let open = if task.completed { 0 } else { sign };
                match lists.iter_mut().find(|(id, _, _)| *id == list) {
                    Some((_, tasks, opened)) => {
                        *tasks += sign;
                        *opened += open;
                    }
                    None => lists.push((list, sign, open)),
                }
            }
        }
    }
    let mut sets = String::from("total = total + ?3, version = version + 1");
    for (column, delta) in columns.iter().filter(|(_, delta)| *delta != 0) {
        sets.push_str(&format!(", {column} = {column} + ({delta})"));
    }
    conn.prepare_cached(&format!(
        "UPDATE task_owners SET {sets} WHERE issuer = ?1 AND subject = ?2"
    ))?
    .execute(params![owner.issuer, owner.subject, added])?;
    let mut shift = conn.prepare_cached(
        "UPDATE lists SET tasks = tasks + ?4, open = open + ?5 \
         WHERE issuer = ?1 AND subject = ?2 AND id = ?3",
    )?;
    for (list, tasks, open) in lists.iter().filter(|(_, tasks, open)| *tasks != 0 || *open != 0) {
        shift.execute(params![owner.issuer, owner.subject, list.to_string(), tasks, open])?;
    }
    conn.prepare_cached("SELECT version FROM task_owners WHERE issuer = ?1 AND subject = ?2")?
        .query_row(params![owner.issuer, owner.subject], |row| {
            Ok(row.get::<_, i64>(0)?.unsigned_abs())
        })
}

/// Inserts the task made from `draft`, unless the owner already has `max_tasks` (or would pass
/// the most tags, or the draft names a list or parent the owner does not have); gives its tags
/// the owner's spelling and puts it in its list; returns the owner's list version.
pub(super) fn insert_task(
    conn: &Connection,
    owner: &Owner,
    task: &mut Task,
    draft: &TaskDraft,
    max_tasks: u64,
) -> Result<u64, StoreError> {
    task.list_id = place(conn, owner, &Placing::of(draft), None)?;
    let tags = &draft.tags;
    let (total, version) = count_new_task(conn, owner, task)?;
    if total > max_tasks {
        // The write's savepoint is rolled back, the count with it.
        return Err(StoreError::LimitReached { limit: max_tasks });
    }
    if let Some(list) = task.list_id {
        conn.prepare_cached(
            "UPDATE lists SET tasks = tasks + 1, open = open + ?4 \
             WHERE issuer = ?1 AND subject = ?2 AND id = ?3",
        )?
        .execute(params![
            owner.issuer,
            owner.subject,
            list.to_string(),
            i64::from(!task.completed)
        ])?;
    }
    let (names, created) = spell_tags(conn, owner, tags)?;
    task.tags = names;
    if created {
        check_tag_limit(conn, owner)?;
    }
    let search_id: i64 = conn
        .prepare_cached("SELECT coalesce(max(search_id), 0) + 1 FROM tasks")?
        .query_row([], |row| row.get(0))?;
    stage_search(conn, search_id, Some((owner, search_text(task))))?;
    let id = task.id.to_string();
    conn.prepare_cached(
        "INSERT INTO tasks (issuer, subject, id, title, description, completed, completed_at, \
         created_at, updated_at, priority, tags, due_date, due_time, due_zone, due_at, version, \
         title_key, updated_key, search_id, list_id, parent_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, \
         ?20, ?21)",
    )?
    .execute(params![
        owner.issuer,
        owner.subject,
        id,
        task.title,
        task.description,
        task.completed,
        task.completed_at,
        task.created_at,
        task.updated_at,
        task.priority.rank(),
        tags_json(&task.tags),
        task.due.as_ref().map(|due| due.date.to_string()),
        task.due.as_ref().and_then(|due| due.time.as_ref()).map(|time| time_text(time.time)),
        task.due.as_ref().and_then(|due| due.time.as_ref()).map(|time| time.zone.as_str()),
        task.due.as_ref().map(|due| due.sort_key()),
        task.version as i64,
        fold(&task.title),
        task.updated_at.unix_micros(),
        search_id,
        task.list_id.map(|id| id.to_string()),
        task.parent_id.map(|id| id.to_string()),
    ])?;
    add_task_tags(conn, owner, &id, task.completed, tags.iter().map(|tag| tag.key.as_str()))?;
    Ok(version)
}

/// Writes every column a client can change, and the version, of an existing task; keeps its
/// search row and tag rows in step. `before` is the row as it was.
pub(super) fn update_task(
    conn: &Connection,
    owner: &Owner,
    before: &Task,
    after: &Task,
) -> Result<(), StoreError> {
    let id = after.id.to_string();
    // Only the columns that change are SET: SQLite rewrites every index on a column a SET names,
    // changed or not, and a completion or a retitling then touches only its own indexes.
    let mut sets = vec!["updated_at = ?4", "updated_key = ?5", "version = ?6"];
    let mut values: Vec<Box<dyn rusqlite::ToSql>> = vec![
        Box::new(owner.issuer.clone()),
        Box::new(owner.subject.clone()),
        Box::new(id.clone()),
        Box::new(after.updated_at),
        Box::new(after.updated_at.unix_micros()),
        Box::new(after.version as i64),
    ];
    let mut set = |columns: &[&'static str], new: Vec<Box<dyn rusqlite::ToSql>>| {
        for (column, value) in columns.iter().zip(new) {
            values.push(value);
            sets.push(column);
        }
    };
    if before.title != after.title {
        set(
            &["title", "title_key"],
            vec![Box::new(after.title.clone()), Box::new(fold(&after.title))],
        );
    }
    if before.description != after.description {
        set(&["description"], vec![Box::new(after.description.clone())]);
    }
    if before.completed != after.completed || before.completed_at != after.completed_at {
        set(
            &["completed", "completed_at"],
            vec![Box::new(after.completed), Box::new(after.completed_at)],
        );
    }
    if before.priority != after.priority {
        set(&["priority"], vec![Box::new(after.priority.rank())]);
    }
    if before.tags != after.tags {
        set(&["tags"], vec![Box::new(tags_json(&after.tags))]);
    }
    if before.list_id != after.list_id {
        set(&["list_id"], vec![Box::new(after.list_id.map(|id| id.to_string()))]);
    }
    if before.parent_id != after.parent_id {
        set(&["parent_id"], vec![Box::new(after.parent_id.map(|id| id.to_string()))]);
    }
    if before.due != after.due {
        let due = after.due.as_ref();
        let time = due.and_then(|due| due.time.as_ref());
        set(
            &["due_date", "due_time", "due_zone", "due_at"],
            vec![
                Box::new(due.map(|due| due.date.to_string())),
                Box::new(time.map(|time| time_text(time.time))),
                Box::new(time.map(|time| time.zone.clone())),
                Box::new(due.map(|due| due.sort_key())),
            ],
        );
    }
    let assignments: Vec<String> = sets
        .iter()
        .enumerate()
        .map(|(n, set)| match set.contains('=') {
            true => (*set).to_owned(),
            false => format!("{set} = ?{}", n + 4),
        })
        .collect();
    let sql = format!(
        "UPDATE tasks SET {} WHERE issuer = ?1 AND subject = ?2 AND id = ?3",
        assignments.join(", ")
    );
    conn.prepare_cached(&sql)?
        .execute(rusqlite::params_from_iter(values.iter().map(|value| value.as_ref())))?;
    if before.title != after.title || before.description != after.description {
        let search_id = search_id_of(conn, owner, &id)?;
        stage_search(conn, search_id, Some((owner, search_text(after))))?;
    }
    let keys = |task: &Task| -> Vec<String> { task.tags.iter().map(|name| fold(name)).collect() };
    let (old, new) = (keys(before), keys(after));
    let removed: Vec<&str> =
        old.iter().filter(|key| !new.contains(key)).map(String::as_str).collect();
    let added = new.iter().filter(|key| !old.contains(key)).map(String::as_str);
    add_task_tags(conn, owner, &id, after.completed, added)?;
    remove_task_tags(conn, owner, &id, before.completed, &removed)?;
    if before.completed != after.completed {
        let mut kept = conn.prepare_cached(
            "UPDATE task_tags SET completed = ?5 \
             WHERE issuer = ?1 AND subject = ?2 AND key = ?3 AND task_id = ?4",
        )?;
        let mut counts = conn.prepare_cached(
            "UPDATE tags SET open = open + ?4 WHERE issuer = ?1 AND subject = ?2 AND key = ?3",
        )?;
        let change: i64 = if after.completed { -1 } else { 1 };
        for key in old.iter().filter(|key| new.contains(key)) {
            kept.execute(params![owner.issuer, owner.subject, key, id, after.completed])?;
            counts.execute(params![owner.issuer, owner.subject, key, change])?;
        }
    }
    Ok(())
}

/// Deletes the task and its search and tag rows.
pub(super) fn delete_task(conn: &Connection, owner: &Owner, task: &Task) -> Result<(), StoreError> {
    let id = task.id.to_string();
    let search_id = search_id_of(conn, owner, &id)?;
    stage_search(conn, search_id, None)?;
    conn.prepare_cached("DELETE FROM tasks WHERE issuer = ?1 AND subject = ?2 AND id = ?3")?
        .execute(params![owner.issuer, owner.subject, id])?;
    let keys: Vec<String> = task.tags.iter().map(|name| fold(name)).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    remove_task_tags(conn, owner, &id, task.completed, &keys)
}

/// The owner's spelling of each tag, creating the tags the owner does not have yet; and whether
/// it created any (the caller then checks [`check_tag_limit`] once the task's tags are written).
pub(super) fn spell_tags(
    conn: &Connection,
    owner: &Owner,
    tags: &[TagName],
) -> Result<(Vec<String>, bool), StoreError> {
    let mut names = Vec::with_capacity(tags.len());
    let mut created = false;
    for tag in tags {
        let known: Option<String> = conn
            .prepare_cached(
                "SELECT name FROM tags WHERE issuer = ?1 AND subject = ?2 AND key = ?3",
            )?
            .query_row(params![owner.issuer, owner.subject, tag.key], |row| row.get(0))
            .optional()?;
        names.push(match known {
            Some(name) => name,
            None => {
                conn.prepare_cached(
                    "INSERT INTO tags (issuer, subject, key, name) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![
                    owner.issuer,
                    owner.subject,
                    tag.key,
                    tag.name
                ])?;
                created = true;
                tag.name.clone()
            }
        });
    }
    Ok((names, created))
}

/// Refuses a write that left the owner with more than [`MAX_TAGS_PER_USER`] tags (checked after
/// the write took its task's dropped tags away, so swapping one tag for another is not refused);
/// the write's savepoint is rolled back.
pub(super) fn check_tag_limit(conn: &Connection, owner: &Owner) -> Result<(), StoreError> {
    let count: i64 = conn
        .prepare_cached("SELECT count(*) FROM tags WHERE issuer = ?1 AND subject = ?2")?
        .query_row(params![owner.issuer, owner.subject], |row| row.get(0))?;
    match count.unsigned_abs() > MAX_TAGS_PER_USER {
        true => Err(StoreError::TagLimitReached { limit: MAX_TAGS_PER_USER }),
        false => Ok(()),
    }
}

pub(super) fn add_task_tags<'a>(
    conn: &Connection,
    owner: &Owner,
    id: &str,
    completed: bool,
    keys: impl Iterator<Item = &'a str>,
) -> rusqlite::Result<()> {
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO task_tags (issuer, subject, key, task_id, completed) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut count = conn.prepare_cached(
        "UPDATE tags SET tasks = tasks + 1, open = open + ?4 \
         WHERE issuer = ?1 AND subject = ?2 AND key = ?3",
    )?;
    for key in keys {
        if insert.execute(params![owner.issuer, owner.subject, key, id, completed])? == 1 {
            count.execute(params![owner.issuer, owner.subject, key, i64::from(!completed)])?;
        }
    }
    Ok(())
}

/// Takes the tags off the task (`completed` as it was); a tag no task has any more is forgotten.
pub(super) fn remove_task_tags(
    conn: &Connection,
    owner: &Owner,
    id: &str,
    completed: bool,
    keys: &[&str],
) -> Result<(), StoreError> {
    for key in keys {
        let removed = conn
            .prepare_cached(
                "DELETE FROM task_tags \
                 WHERE issuer = ?1 AND subject = ?2 AND key = ?3 AND task_id = ?4",
            )?
            .execute(params![owner.issuer, owner.subject, key, id])?;
        if removed == 0 {
            continue;
        }
        conn.prepare_cached(
            "UPDATE tags SET tasks = tasks - 1, open = open - ?4 \
             WHERE issuer = ?1 AND subject = ?2 AND key = ?3",
        )?
        .execute(params![owner.issuer, owner.subject, key, i64::from(!completed)])?;
        conn.prepare_cached(
            "DELETE FROM tags WHERE issuer = ?1 AND subject = ?2 AND key = ?3 AND tasks = 0",
        )?
        .execute(params![owner.issuer, owner.subject, key])?;
    }
    Ok(())
}

pub(super) fn tags_json(names: &[String]) -> String {
    serde_json::to_string(names).unwrap_or_else(|_| "[]".to_owned())
}

/// The owner's task `id`, read in the caller's transaction.
pub(super) fn read_task(
    conn: &Connection,
    owner: &Owner,
    id: &str,
) -> rusqlite::Result<Option<Task>> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!("SELECT {COLUMNS} FROM tasks WHERE issuer = ?1 AND subject = ?2 AND id = ?3")
    });
    conn.prepare_cached(&SQL)?
        .query_row(params![owner.issuer, owner.subject, id], task_from_row)
        .optional()
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
    let corrupt = |column: usize, what: String| {
        rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, what.into())
    };
    let id: String = row.get(1)?;
    let tags: String = row.get(9)?;
    let due_date: Option<String> = row.get(10)?;
    let due = match due_date {
        None => None,
        Some(date) => {
            let date = date.parse().map_err(|_| corrupt(10, format!("not a date: {date}")))?;
            let time = match (row.get::<_, Option<String>>(11)?, row.get::<_, Option<String>>(12)?)
            {
                (Some(time), Some(zone)) => Some(DueTime {
                    time: time.parse().map_err(|_| corrupt(11, format!("not a time: {time}")))?,
                    zone,
                    at: row.get(13)?,
                }),
                _ => None,
            };
            Some(Due { date, time })
        }
    };
    Ok(Task {
        user_id: row.get(0)?,
        id: TaskId::parse(&id).map_err(|_| corrupt(1, format!("not a task id: {id}")))?,
        title: row.get(2)?,
        description: row.get(3)?,
        completed: row.get(4)?,
        completed_at: row.get(5)?,
        created_at: row.get(6)?,
        updated_at: row.get(7)?,
        priority: Priority::from_rank(row.get(8)?)
            .ok_or_else(|| corrupt(8, "not a priority".to_owned()))?,
        tags: serde_json::from_str(&tags).map_err(|_| corrupt(9, format!("not tags: {tags}")))?,
        due,
        version: row.get::<_, i64>(14)?.unsigned_abs(),
        list_id: row
            .get::<_, Option<String>>(15)?
            .map(|id| {
                ListId::parse(&id, "list_id")
                    .map_err(|_| corrupt(15, format!("not a list id: {id}")))
            })
            .transpose()?,
        parent_id: row
            .get::<_, Option<String>>(16)?
            .map(|id| TaskId::parse(&id).map_err(|_| corrupt(16, format!("not a task id: {id}"))))
            .transpose()?,
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
