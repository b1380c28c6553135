//! The SQL of the PostgreSQL task store: rows to tasks and back, inserts and conditional
//! writes of one task, the owner's tags (one spelling per key, the most allowed, forgotten when
//! no task has them), and the words a search matches.

use deadpool_postgres::GenericClient;
use std::sync::LazyLock;
use time::OffsetDateTime;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;
use unicode_normalization::UnicodeNormalization;
use uuid::Uuid;

use super::task_tree::{count_in_lists, place};
use crate::domain::auth::UserId;
use crate::domain::lists::ListId;
use crate::domain::tasks::due::DueTime;
use crate::domain::tasks::fields::{MAX_TAGS_PER_USER, fold};
use crate::domain::tasks::query::search_terms;
use crate::domain::tasks::tree::Placing;
use crate::domain::tasks::{Due, Priority, TagName, Task, TaskDraft, TaskId, Timestamp};
use crate::store::StoreError;

pub(super) const COLUMNS: &str = "subject, id, title, description, completed, completed_at, \
     created_at, updated_at, priority, tags, due_date, due_time, due_zone, due_at, version, \
     list_id, parent_id";

/// Counts one more task for the owner, of the priority `delta` counts, and takes the owner's
/// row lock, unless the owner has `max` tasks already: then nothing is written and no row comes
/// back.
fn count_new(max: &str, delta: &str) -> String {
    format!(
        "INSERT INTO task_owners AS o (issuer, subject, total, version, priorities, \
         priorities_at) VALUES ($1, $2, 1, 1, {delta}::int8[], 1) \
         ON CONFLICT (issuer, subject) DO UPDATE SET total = o.total + 1, \
         version = o.version + 1, {} WHERE o.total < {max} RETURNING o.total",
        recount_priorities("o", delta)
    )
}

/// [`count_new`] on its own: `$3` the most tasks, `$4` the priority counted.
static COUNT_NEW: LazyLock<String> = LazyLock::new(|| count_new("$3", "$4"));

/// The `SET` of the owner's tasks by priority (`o`, the owner's row) after a write that changes
/// them by `delta` (an `int8[]` of four, by rank), the list version being counted too. Counts
/// that were not kept at the owner's last version (a write by an earlier release, or the
/// owner's tasks deleted with the account) are counted again, as they were before this
/// statement (which sees the tasks as they were), so they are right again from this write on.
fn recount_priorities(o: &str, delta: &str) -> String {
    format!(
        "priorities = ARRAY(SELECT kept + change FROM unnest(CASE \
         WHEN {o}.priorities_at = {o}.version THEN {o}.priorities \
         ELSE (SELECT ARRAY[count(*) FILTER (WHERE priority = 0), \
         count(*) FILTER (WHERE priority = 1), count(*) FILTER (WHERE priority = 2), \
         count(*) FILTER (WHERE priority = 3)] FROM tasks WHERE issuer = $1 AND subject = $2) \
         END, {delta}::int8[]) WITH ORDINALITY AS p (kept, change, rank) ORDER BY rank), \
         priorities_at = {o}.version + 1"
    )
}

/// What a write changes the owner's tasks by priority by: a task of `before`'s priority gone, a
/// task of `after`'s come, as an `int8[]` by rank.
fn priority_change(before: Option<Priority>, after: Option<Priority>) -> Vec<i64> {
    let mut change = vec![0; Priority::ALL.len()];
    for (priority, by) in [(before, -1), (after, 1)] {
        if let Some(slot) = priority.and_then(|p| change.get_mut(usize::from(p.rank()))) {
            *slot += by;
        }
    }
    change
}

/// The columns of a new task after (issuer, subject, id), and their values from `$4`.
const NEW_COLUMNS: &str = "title, description, completed, priority, tags, due_date, due_time, \
     due_zone, due_at, title_key, search, completed_at, created_at, updated_at";
const NEW_VALUES: &str = "$4, $5, $6, $7, $8, $9, $10, $11, $12, $13, array_to_tsvector($14::text[]), \
     CASE WHEN $6 THEN statement_timestamp() END, statement_timestamp(), statement_timestamp()";

/// A task without tags: counted and inserted in one statement (one round trip, no
/// transaction); `$15` is the most tasks allowed, `$16` its priority counted.
static CREATE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH owner AS ({}) INSERT INTO tasks (issuer, subject, id, {NEW_COLUMNS}) \
         SELECT $1, $2, $3, {NEW_VALUES} FROM owner RETURNING {COLUMNS}",
        count_new("$15", "$16")
    )
});

/// A task with tags, a list or a parent, once counted: the task and its tag rows (`$15` the
/// keys; `$16` its list, `$17` its parent).
static INSERT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH t AS (INSERT INTO tasks (issuer, subject, id, {NEW_COLUMNS}, list_id, parent_id) \
         VALUES ($1, $2, $3, {NEW_VALUES}, $16, $17) RETURNING {COLUMNS}), \
         k AS (INSERT INTO task_tags (issuer, subject, key, task_id, completed) \
         SELECT $1, $2, key, $3, $6 FROM unnest($15::text[]) AS key), \
         g AS (UPDATE tags SET tasks = tasks + 1, open = open + CASE WHEN $6 THEN 0 ELSE 1 END \
         WHERE issuer = $1 AND subject = $2 AND key = ANY($15::text[])) \
         SELECT * FROM t"
    )
});

/// Writes what a client can set, one version higher, stamped now; keeps the tag rows (`$15`
/// removed keys, `$16` added ones, `$17` kept ones, which take the completion) and the tags'
/// counts (`$18` keys, `$19` and `$20` what their tasks and open tasks change by), and counts a
/// change of the owner's list and of its tasks by priority (`$21`); `$22` its list, `$23` its
/// parent, as placed.
static UPDATE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH t AS (UPDATE tasks SET title = $4, description = $5, completed = $6, \
         priority = $7, tags = $8, due_date = $9, due_time = $10, due_zone = $11, due_at = $12, \
         title_key = $13, search = array_to_tsvector($14::text[]), \
         completed_at = CASE WHEN $6 THEN coalesce(completed_at, statement_timestamp()) END, \
         updated_at = statement_timestamp(), version = version + 1, list_id = $22, \
         parent_id = $23 WHERE issuer = $1 AND subject = $2 AND id = $3 RETURNING {COLUMNS}), \
         o AS (UPDATE task_owners SET version = version + 1, {} \
         WHERE issuer = $1 AND subject = $2), \
         d AS (DELETE FROM task_tags WHERE issuer = $1 AND subject = $2 AND task_id = $3 \
         AND key = ANY($15::text[])), \
         k AS (INSERT INTO task_tags (issuer, subject, key, task_id, completed) \
         SELECT $1, $2, key, $3, $6 FROM unnest($16::text[]) AS key ON CONFLICT DO NOTHING), \
         c AS (UPDATE task_tags SET completed = $6 WHERE issuer = $1 AND subject = $2 \
         AND key = ANY($17::text[]) AND task_id = $3 AND completed <> $6), \
         g AS (UPDATE tags SET tasks = tags.tasks + n.tasks, open = tags.open + n.open \
         FROM unnest($18::text[], $19::int8[], $20::int8[]) AS n (key, tasks, open) \
         WHERE tags.issuer = $1 AND tags.subject = $2 AND tags.key = n.key) \
         SELECT * FROM t",
        recount_priorities("task_owners", "$21")
    )
});

/// Locks the owner's row: every write of an owner's tasks takes it first (creates by counting,
/// the others here), so writes of one owner take turns, in one lock order, and the tag limit
/// and spellings are decided by one writer at a time.
const LOCK_OWNER: &str =
    "SELECT version FROM task_owners WHERE issuer = $1 AND subject = $2 FOR UPDATE";

/// Deletes a task (`$3`) and its tag rows (`$4` its keys, `$5` 1 when it was open), counting it
/// gone from the owner's tasks, its tags and its priority (`$6`).
static DELETE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH t AS (DELETE FROM tasks WHERE issuer = $1 AND subject = $2 AND id = $3), \
         o AS (UPDATE task_owners SET total = total - 1, version = version + 1, {} \
         WHERE issuer = $1 AND subject = $2), \
         g AS (UPDATE tags SET tasks = tasks - 1, open = open - $5 \
         WHERE issuer = $1 AND subject = $2 AND key = ANY($4::text[])) \
         DELETE FROM task_tags WHERE issuer = $1 AND subject = $2 AND task_id = $3 \
         AND key = ANY($4::text[])",
        recount_priorities("task_owners", "$6")
    )
});

static READ_FOR_UPDATE: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {COLUMNS} FROM tasks WHERE issuer = $1 AND subject = $2 AND id = $3 FOR UPDATE")
});

/// An owner as the two text columns every query is scoped by.
#[derive(Clone, Copy)]
pub(super) struct Owner<'a> {
    pub(super) issuer: &'a str,
    pub(super) subject: &'a str,
}

impl<'a> Owner<'a> {
    pub(super) fn of(user: &'a UserId) -> Self {
        Self { issuer: user.issuer().as_str(), subject: user.subject() }
    }
}

pub(super) fn task_from_row(row: &Row, first: usize) -> Result<Task, StoreError> {
    let timestamp = |index: usize| -> Result<Timestamp, StoreError> {
        Ok(Timestamp::from_datetime(row.try_get::<_, OffsetDateTime>(first + index)?))
    };
    let completed_at: Option<OffsetDateTime> = row.try_get(first + 5)?;
    let due = match row.try_get::<_, Option<time::Date>>(first + 10)? {
        None => None,
        Some(date) => {
            let time = match (
                row.try_get::<_, Option<time::Time>>(first + 11)?,
                row.try_get::<_, Option<String>>(first + 12)?,
                row.try_get::<_, Option<i64>>(first + 13)?,
            ) {
                (Some(time), Some(zone), Some(at)) => {
                    Some(DueTime { time: civil_time(time)?, zone, at })
                }
                _ => None,
            };
            Some(Due { date: civil_date(date)?, time })
        }
    };
    let rank: i16 = row.try_get(first + 8)?;
    Ok(Task {
        user_id: row.try_get(first)?,
        id: TaskId::from_uuid(row.try_get::<_, Uuid>(first + 1)?),
        title: row.try_get(first + 2)?,
        description: row.try_get(first + 3)?,
        completed: row.try_get(first + 4)?,
        completed_at: completed_at.map(Timestamp::from_datetime),
        created_at: timestamp(6)?,
        updated_at: timestamp(7)?,
        priority: Priority::from_rank(rank.into())
            .ok_or_else(|| StoreError::internal(format!("not a priority: {rank}")))?,
        tags: row.try_get(first + 9)?,
        due,
        list_id: row.try_get::<_, Option<Uuid>>(first + 15)?.map(ListId::from_uuid),
        parent_id: row.try_get::<_, Option<Uuid>>(first + 16)?.map(TaskId::from_uuid),
        version: row.try_get::<_, i64>(first + 14)?.unsigned_abs(),
    })
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::internal(format!("a stored value out of range: {what}"))
}

/// A date as PostgreSQL's driver takes it.
pub(super) fn pg_date(date: jiff::civil::Date) -> Result<time::Date, StoreError> {
    let month = u8::try_from(date.month()).ok().and_then(|m| time::Month::try_from(m).ok());
    let day = u8::try_from(date.day()).ok();
    match (month, day) {
        (Some(month), Some(day)) => time::Date::from_calendar_date(date.year().into(), month, day)
            .map_err(|_| corrupt(date)),
        _ => Err(corrupt(date)),
    }
}

fn civil_date(date: time::Date) -> Result<jiff::civil::Date, StoreError> {
    let year = i16::try_from(date.year()).map_err(|_| corrupt(date))?;
    let month = i8::try_from(u8::from(date.month())).map_err(|_| corrupt(date))?;
    let day = i8::try_from(date.day()).map_err(|_| corrupt(date))?;
    jiff::civil::Date::new(year, month, day).map_err(|_| corrupt(date))
}

fn pg_time(time: jiff::civil::Time) -> Result<time::Time, StoreError> {
    let part = |value: i8| u8::try_from(value).map_err(|_| corrupt(time));
    time::Time::from_hms(part(time.hour())?, part(time.minute())?, part(time.second())?)
        .map_err(|_| corrupt(time))
}

fn civil_time(time: time::Time) -> Result<jiff::civil::Time, StoreError> {
    let part = |value: u8| i8::try_from(value).map_err(|_| corrupt(time));
    jiff::civil::Time::new(part(time.hour())?, part(time.minute())?, part(time.second())?, 0)
        .map_err(|_| corrupt(time))
}

/// The token that stands for an owner in `search`: a search matches it with its terms, so the
/// index gives only the owner's tasks. It starts with `#`, which no search term (letters and
/// digits) can match the start of.
pub(super) fn owner_token(owner: Owner<'_>) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update((owner.issuer.len() as u64).to_be_bytes());
    hash.update(owner.issuer.as_bytes());
    hash.update(owner.subject.as_bytes());
    let mut token = String::with_capacity(25);
    token.push('#');
    for byte in &hash.finalize()[..12] {
        token.push_str(&format!("{byte:02x}"));
    }
    token
}

/// A word as `search` holds it and a term is matched: without the diacritics of Latin, Greek
/// and Cyrillic letters (as SQLite's unicode61 tokenizer, so "cafe" finds "Café" on both
/// backends), and no longer than a PostgreSQL lexeme may be (a longer word is matched by its
/// start, which is all a term of at most 200 characters can ask for).
pub(super) fn plain_word(word: &str) -> String {
    const MAX_BYTES: usize = 1000;
    let mut plain: String =
        word.nfd().filter(|c| !('\u{0300}'..='\u{036F}').contains(c)).nfc().collect();
    if plain.len() > MAX_BYTES {
        let mut end = MAX_BYTES;
        while !plain.is_char_boundary(end) {
            end -= 1;
        }
        plain.truncate(end);
    }
    plain
}

/// What `search` indexes of a task: the owner's token, and the words of its title and
/// description as the domain cuts a query (runs of letters and digits, lower case).
pub(super) fn search_words(
    owner: Owner<'_>,
    title: &str,
    description: Option<&str>,
) -> Vec<String> {
    let text = format!("{title}\n{}", description.unwrap_or(""));
    let mut words: Vec<String> = search_terms(&text)
        .iter()
        .map(|word| plain_word(word))
        .filter(|word| !word.is_empty())
        .collect();
    words.sort_unstable();
    words.dedup();
    words.push(owner_token(owner));
    words
}

/// The tsquery of a search: the owner's token and every term as the start of a word. Terms are
/// letters and digits only, and each is quoted, so nothing in them is tsquery syntax.
pub(super) fn search_query(owner: Owner<'_>, terms: &[String]) -> String {
    let mut query = format!("'{}'", owner_token(owner));
    for term in terms {
        let term = plain_word(term);
        if !term.is_empty() {
            query.push_str(&format!(" & '{}':*", term.replace('\'', "''").replace('\\', "\\\\")));
        }
    }
    query
}

/// A task's columns as statement values, from `$4` on (see `NEW_COLUMNS`).
struct Values {
    title: String,
    description: Option<String>,
    completed: bool,
    priority: i16,
    tags: Vec<String>,
    due_date: Option<time::Date>,
    due_time: Option<time::Time>,
    due_zone: Option<String>,
    due_at: Option<i64>,
    title_key: String,
    words: Vec<String>,
}

impl Values {
    fn of(owner: Owner<'_>, draft: &TaskDraft, tags: Vec<String>) -> Result<Self, StoreError> {
        let timed = draft.due.as_ref().and_then(|due| due.time.as_ref());
        Ok(Self {
            title: draft.title.clone(),
            description: draft.description.clone(),
            completed: draft.completed,
            priority: i16::from(draft.priority.rank()),
            tags,
            due_date: draft.due.as_ref().map(|due| pg_date(due.date)).transpose()?,
            due_time: timed.map(|time| pg_time(time.time)).transpose()?,
            due_zone: timed.map(|time| time.zone.clone()),
            due_at: draft.due.as_ref().map(Due::sort_key),
            title_key: fold(&draft.title),
            words: search_words(owner, &draft.title, draft.description.as_deref()),
        })
    }

    fn params<'a>(&'a self, owner: &'a Owner<'a>, id: &'a Uuid) -> Vec<&'a (dyn ToSql + Sync)> {
        vec![
            &owner.issuer,
            &owner.subject,
            id,
            &self.title,
            &self.description,
            &self.completed,
            &self.priority,
            &self.tags,
            &self.due_date,
            &self.due_time,
            &self.due_zone,
            &self.due_at,
            &self.title_key,
            &self.words,
        ]
    }
}

/// Whether [`insert_task`] writes the draft in one statement: without tags, list or parent.
/// Otherwise it takes several, and its client must be a transaction.
pub(super) fn one_statement(draft: &TaskDraft) -> bool {
    draft.tags.is_empty() && draft.list_id.is_none() && draft.parent_id.is_none()
}

/// Inserts the task and counts it (in its list too), unless the owner has `max_tasks` already
/// (`None`); its tags take the owner's spelling (refused past the most tags); its list and
/// parent are checked under the owner's lock (see [`one_statement`]).
pub(super) async fn insert_task<C: GenericClient>(
    client: &C,
    owner: Owner<'_>,
    id: Uuid,
    draft: &TaskDraft,
    max_tasks: i64,
) -> Result<Option<Task>, StoreError> {
    if one_statement(draft) {
        let values = Values::of(owner, draft, Vec::new())?;
        let statement = client.prepare_cached(&CREATE).await?;
        let counted = priority_change(None, Some(draft.priority));
        let mut params = values.params(&owner, &id);
        params.push(&max_tasks);
        params.push(&counted);
        let row = client.query_opt(&statement, &params).await?;
        return row.map(|row| task_from_row(&row, 0)).transpose();
    }
    let count = client.prepare_cached(&COUNT_NEW).await?;
    let counted = priority_change(None, Some(draft.priority));
    let by_owner: &[&(dyn ToSql + Sync)] = &[&owner.issuer, &owner.subject, &max_tasks, &counted];
    let counted = client.query_opt(&count, by_owner).await?;
    // The count took the owner's lock even at the cap: a wrong list or parent is told first.
    let list = place(client, owner, &Placing::of(draft), None).await?;
    if counted.is_none() {
        return Ok(None);
    }
    let (tags, created) = spell_tags(client, owner, &draft.tags, &[]).await?;
    if created {
        check_tag_limit(client, owner).await?;
    }
    let values = Values::of(owner, draft, tags)?;
    let keys: Vec<&str> = draft.tags.iter().map(|tag| tag.key.as_str()).collect();
    let statement = client.prepare_cached(&INSERT).await?;
    let (list, parent) = (list.map(ListId::as_uuid), draft.parent_id.map(TaskId::as_uuid));
    let mut params = values.params(&owner, &id);
    params.extend([&keys as &(dyn ToSql + Sync), &list, &parent]);
    let task = task_from_row(&client.query_one(&statement, &params).await?, 0)?;
    count_in_lists(client, owner, &[(None, Some(&task))]).await?;
    Ok(Some(task))
}

/// Takes the owner's lock, then reads the task (locked too), in the caller's transaction;
/// `None` when the owner has no such task. One round trip: the two statements are pipelined,
/// and the second, run after the first has the lock, sees every write committed before.
pub(super) async fn lock_task<C: GenericClient>(
    tx: &C,
    owner: Owner<'_>,
    id: Uuid,
) -> Result<Option<Task>, StoreError> {
    let (lock, read) =
        tokio::try_join!(tx.prepare_cached(LOCK_OWNER), tx.prepare_cached(&READ_FOR_UPDATE))?;
    let (by_owner, by_id): (&[&(dyn ToSql + Sync)], &[&(dyn ToSql + Sync)]) =
        (&[&owner.issuer, &owner.subject], &[&owner.issuer, &owner.subject, &id]);
    let (locked, row) =
        tokio::try_join!(tx.query_opt(&lock, by_owner), tx.query_opt(&read, by_id))?;
    match locked {
        // An owner without a row never wrote, so has no tasks.
        None => Ok(None),
        Some(_) => row.map(|row| task_from_row(&row, 0)).transpose(),
    }
}

/// Takes the owner's lock in the caller's transaction; `false` when the owner never wrote.
pub(super) async fn lock_owner<C: GenericClient>(
    tx: &C,
    owner: Owner<'_>,
) -> Result<bool, StoreError> {
    let lock = tx.prepare_cached(LOCK_OWNER).await?;
    Ok(tx.query_opt(&lock, &[&owner.issuer, &owner.subject]).await?.is_some())
}

/// Writes `draft` over `before` (read with [`lock_task`] in the same transaction): one version
/// higher, stamped now, the completion time kept, set or cleared; tags spelled as the owner
/// spells them; the owner's list version counted. The draft's list is where it was placed (the
/// caller counts the lists).
pub(super) async fn update_task<C: GenericClient>(
    tx: &C,
    owner: Owner<'_>,
    before: &Task,
    draft: &TaskDraft,
) -> Result<Task, StoreError> {
    let (tags, created) = spell_tags(tx, owner, &draft.tags, &before.tags).await?;
    let old: Vec<String> = before.tags.iter().map(|name| fold(name)).collect();
    let new: Vec<&str> = draft.tags.iter().map(|tag| tag.key.as_str()).collect();
    let removed: Vec<&str> =
        old.iter().map(String::as_str).filter(|key| !new.contains(key)).collect();
    let (kept, added): (Vec<&str>, Vec<&str>) =
        new.iter().partition(|key| old.iter().any(|o| o == *key));
    // What each tag's counts change by: a task taken off or put on, or completed or reopened.
    let (open_before, open_after) = (i64::from(!before.completed), i64::from(!draft.completed));
    let mut counted: (Vec<&str>, Vec<i64>, Vec<i64>) = Default::default();
    let changes = removed.iter().map(|key| (*key, -1, -open_before));
    let changes = changes.chain(added.iter().map(|key| (*key, 1, open_after)));
    let changes = changes.chain(kept.iter().map(|key| (*key, 0, open_after - open_before)));
    for (key, tasks, open) in changes.filter(|(_, tasks, open)| (*tasks, *open) != (0, 0)) {
        counted.0.push(key);
        counted.1.push(tasks);
        counted.2.push(open);
    }
    let values = Values::of(owner, draft, tags)?;
    let id = before.id.as_uuid();
    let statement = tx.prepare_cached(&UPDATE).await?;
    let mut params = values.params(&owner, &id);
    params.push(&removed);
    params.push(&added);
    params.push(&kept);
    params.push(&counted.0);
    params.push(&counted.1);
    params.push(&counted.2);
    let priorities = priority_change(Some(before.priority), Some(draft.priority));
    let (list, parent) = (draft.list_id.map(ListId::as_uuid), draft.parent_id.map(TaskId::as_uuid));
    params.extend([&priorities as &(dyn ToSql + Sync), &list, &parent]);
    let row = tx.query_one(&statement, &params).await?;
    forget_unused_tags(tx, owner, &removed).await?;
    // Checked once the task's dropped tags are gone: swapping a tag for another at the limit
    // is no new tag.
    if created {
        check_tag_limit(tx, owner).await?;
    }
    task_from_row(&row, 0)
}

/// Deletes the task (read with [`lock_task`]) and its tag rows, and counts it gone.
pub(super) async fn delete_task<C: GenericClient>(
    tx: &C,
    owner: Owner<'_>,
    task: &Task,
) -> Result<(), StoreError> {
    let statement = tx.prepare_cached(&DELETE).await?;
    let keys: Vec<String> = task.tags.iter().map(|name| fold(name)).collect();
    let (id, open) = (task.id.as_uuid(), i64::from(!task.completed));
    let priorities = priority_change(Some(task.priority), None);
    tx.execute(&statement, &[&owner.issuer, &owner.subject, &id, &keys, &open, &priorities])
        .await?;
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    forget_unused_tags(tx, owner, &keys).await
}

/// The owner's spelling of each tag, creating the tags the owner does not have yet, and whether
/// it created any (the caller then checks [`check_tag_limit`]). `known` are names the owner has
/// (the task's own tags), which need no look-up. Runs under the owner's lock.
pub(super) async fn spell_tags<C: GenericClient>(
    client: &C,
    owner: Owner<'_>,
    tags: &[TagName],
    known: &[String],
) -> Result<(Vec<String>, bool), StoreError> {
    let mut names: Vec<Option<String>> =
        tags.iter().map(|tag| known.iter().find(|name| fold(name) == tag.key).cloned()).collect();
    let missing: Vec<&TagName> =
        tags.iter().zip(&names).filter(|(_, name)| name.is_none()).map(|(tag, _)| tag).collect();
    if missing.is_empty() {
        return Ok((names.into_iter().flatten().collect(), false));
    }
    let keys: Vec<&str> = missing.iter().map(|tag| tag.key.as_str()).collect();
    let given: Vec<&str> = missing.iter().map(|tag| tag.name.as_str()).collect();
    let (insert, read) = tokio::try_join!(
        client.prepare_cached(
            "INSERT INTO tags (issuer, subject, key, name) \
             SELECT $1, $2, key, name FROM unnest($3::text[], $4::text[]) AS new (key, name) \
             ON CONFLICT DO NOTHING RETURNING key",
        ),
        client.prepare_cached(
            "SELECT key, name FROM tags WHERE issuer = $1 AND subject = $2 AND key = ANY($3::text[])",
        ),
    )?;
    // Pipelined: each statement runs after the one before it, and sees what it wrote.
    let new: &[&(dyn ToSql + Sync)] = &[&owner.issuer, &owner.subject, &keys, &given];
    let wanted: &[&(dyn ToSql + Sync)] = &[&owner.issuer, &owner.subject, &keys];
    let (created, rows) =
        tokio::try_join!(client.query(&insert, new), client.query(&read, wanted))?;
    for row in rows {
        let (key, name): (&str, String) = (row.try_get(0)?, row.try_get(1)?);
        for (tag, slot) in tags.iter().zip(names.iter_mut()) {
            if slot.is_none() && tag.key == key {
                *slot = Some(name.clone());
            }
        }
    }
    let names = names
        .into_iter()
        .map(|name| name.ok_or_else(|| StoreError::internal("a tag was neither found nor made")))
        .collect::<Result<_, _>>()?;
    Ok((names, !created.is_empty()))
}

/// Refuses a write that left the owner with more than [`MAX_TAGS_PER_USER`] tags; the caller's
/// transaction is not committed, so the new tags go with it.
pub(super) async fn check_tag_limit<C: GenericClient>(
    client: &C,
    owner: Owner<'_>,
) -> Result<(), StoreError> {
    let count = client
        .prepare_cached("SELECT count(*) FROM tags WHERE issuer = $1 AND subject = $2")
        .await?;
    let row = client.query_one(&count, &[&owner.issuer, &owner.subject]).await?;
    match row.try_get::<_, i64>(0)?.unsigned_abs() > MAX_TAGS_PER_USER {
        true => Err(StoreError::TagLimitReached { limit: MAX_TAGS_PER_USER }),
        false => Ok(()),
    }
}

/// Forgets the tags among `keys` that no task of the owner has any more.
pub(super) async fn forget_unused_tags<C: GenericClient>(
    client: &C,
    owner: Owner<'_>,
    keys: &[&str],
) -> Result<(), StoreError> {
    if keys.is_empty() {
        return Ok(());
    }
    let statement = client
        .prepare_cached(
            "DELETE FROM tags WHERE issuer = $1 AND subject = $2 AND key = ANY($3::text[]) \
             AND tasks = 0",
        )
        .await?;
    client.execute(&statement, &[&owner.issuer, &owner.subject, &keys]).await?;
    Ok(())
}

/// Migration 8's fill: `title_key` and `search` of the tasks that existed before it, computed
/// as the store computes them, in the migration's transaction, a batch at a time.
pub(super) async fn fill_organising_columns(
    tx: &tokio_postgres::Transaction<'_>,
) -> Result<(), StoreError> {
    const BATCH: i32 = 1000;
    let read = tx.prepare("SELECT issuer, subject, id, title, description FROM tasks").await?;
    let write = tx
        .prepare(
            "UPDATE tasks SET title_key = u.title_key, \
             search = array_to_tsvector(string_to_array(u.words, ' ')) \
             FROM unnest($1::text[], $2::text[], $3::uuid[], $4::text[], $5::text[]) \
             AS u (issuer, subject, id, title_key, words) \
             WHERE tasks.issuer = u.issuer AND tasks.subject = u.subject AND tasks.id = u.id",
        )
        .await?;
    let portal = tx.bind(&read, &[]).await?;
    let mut filled = 0;
    loop {
        let rows = tx.query_portal(&portal, BATCH).await?;
        if rows.is_empty() {
            if filled > 0 {
                tracing::info!("filled the title keys and search words of {filled} tasks");
            }
            return Ok(());
        }
        filled += rows.len();
        let mut columns: [Vec<String>; 5] = Default::default();
        let mut ids = Vec::with_capacity(rows.len());
        for row in &rows {
            let (issuer, subject): (String, String) = (row.try_get(0)?, row.try_get(1)?);
            let (title, description): (String, Option<String>) = (row.try_get(3)?, row.try_get(4)?);
            let owner = Owner { issuer: &issuer, subject: &subject };
            // Words hold no spaces (letters and digits, and the owner's token).
            let words = search_words(owner, &title, description.as_deref()).join(" ");
            ids.push(row.try_get::<_, Uuid>(2)?);
            columns[3].push(fold(&title));
            columns[4].push(words);
            columns[0].push(issuer);
            columns[1].push(subject);
        }
        let [issuers, subjects, _, keys, words] = &columns;
        tx.execute(&write, &[issuers, subjects, &ids, keys, words]).await?;
    }
}
