//! Listing an owner's tasks on PostgreSQL: one statement per query shape (which filters, which
//! sort), prepared once per connection and cached, with the values bound. The page, the number
//! of tasks that match and the list version come from one statement, so from one snapshot.
//! Every sort walks an index in order and stops one row past the page (but under a due range,
//! whose few tasks are found by due); `sort=due` reads tasks with a due first and then those
//! without, each part in index order, so tasks without a due come last in both directions.
//! Counts come from counters where the store keeps one (a tag's, the owner's by priority).

use std::sync::Arc;
use time::OffsetDateTime;
use tokio_postgres::types::{ToSql, Type};
use uuid::Uuid;

use super::PgDb;
use super::task_sql::{COLUMNS, Owner, pg_date, search_query, task_from_row};
use crate::domain::tasks::due::day_start_utc;
use crate::domain::tasks::query::SortValue;
use crate::domain::tasks::{SortKey, TaskFilter, TaskPage, TaskQuery};
use crate::store::StoreError;

/// A statement being built: its values, with their types, in placeholder order.
struct Sql {
    values: Vec<(Box<dyn ToSql + Sync + Send>, Type)>,
}

/// A value a list statement binds, its PostgreSQL type, and that type's name in SQL.
trait Bound: ToSql + Sync + Send + 'static {
    const TYPE: Type;
    const NAME: &str;
}

macro_rules! bound {
    ($($rust:ty => $type:ident $name:literal),* $(,)?) => {
        $(impl Bound for $rust {
            const TYPE: Type = Type::$type;
            const NAME: &str = $name;
        })*
    };
}

bound! {
    String => TEXT "text",
    i64 => INT8 "int8",
    i16 => INT2 "int2",
    bool => BOOL "bool",
    Uuid => UUID "uuid",
    time::Date => DATE "date",
    OffsetDateTime => TIMESTAMPTZ "timestamptz",
}

impl Sql {
    /// Binds `value` and returns its placeholder, cast to its type, so that no context (a
    /// `CASE`, a row comparison) leaves PostgreSQL to guess it.
    fn bind<T: Bound>(&mut self, value: T) -> String {
        self.values.push((Box::new(value), T::TYPE));
        format!("${}::{}", self.values.len(), T::NAME)
    }
}

/// How far a due's local date may lie from its instant's UTC date, and more: no zone's offset,
/// historical ones included, reaches a day.
const ZONE_MARGIN_SECS: i64 = 2 * 86_400;

/// The conditions of a filter, each after ` AND `, on the columns of `tasks`.
struct Conditions {
    /// `completed = $n`, when the filter has it.
    completed: Option<String>,
    /// The placeholder of each tag key.
    tags: Vec<String>,
    /// All the others.
    rest: String,
    /// The ranks asked for, when priority is the filter's only condition: counted in the
    /// owner's row.
    ranks_only: Option<Vec<u8>>,
    /// When a list (perhaps with completion) is the only condition: the list's placeholder, or
    /// `None` for the inbox. Counted from the list's row, the inbox's from the owner's.
    list_only: Option<Option<String>>,
}

impl Conditions {
    /// The conditions on the tasks table, all together.
    fn all(&self) -> String {
        let mut text = String::new();
        if let Some(completed) = &self.completed {
            text.push_str(&format!(" AND completed = {completed}"));
        }
        for key in &self.tags {
            text.push_str(&format!(
                " AND id IN (SELECT task_id FROM task_tags WHERE issuer = $1 AND subject = $2 \
                 AND key = {key})"
            ));
        }
        text.push_str(&self.rest);
        text
    }

    /// The statement that counts the tasks that match. One tag (with completion or not) is
    /// counted in its `tags` row; more tags, or a tag and other conditions, from the first tag's
    /// rows, which also know their task's completion.
    fn count(&self) -> String {
        let counted = match &self.completed {
            None => "tasks".to_owned(),
            Some(completed) => format!("CASE WHEN {completed} THEN tasks - open ELSE open END"),
        };
        match &self.list_only {
            Some(Some(list)) => {
                return format!(
                    "SELECT coalesce((SELECT {counted} FROM lists \
                     WHERE issuer = $1 AND subject = $2 AND id = {list}), 0)"
                );
            }
            // The owner keeps no count of its open tasks: the inbox's are counted.
            Some(None) if self.completed.is_none() => {
                return "SELECT (coalesce((SELECT total FROM task_owners \
                     WHERE issuer = $1 AND subject = $2), 0) - (SELECT coalesce(sum(tasks), 0) \
                     FROM lists WHERE issuer = $1 AND subject = $2))::bigint"
                    .to_owned();
            }
            _ => {}
        }
        if let Some(ranks) = &self.ranks_only {
            let counted: Vec<String> =
                ranks.iter().map(|rank| format!("priorities[{}]", rank + 1)).collect();
            return format!(
                "SELECT CASE WHEN priorities_at = version THEN {} \
                 ELSE (SELECT count(*) FROM tasks WHERE issuer = $1 AND subject = $2{}) END \
                 FROM task_owners WHERE issuer = $1 AND subject = $2",
                counted.join(" + "),
                self.all()
            );
        }
        if let ([key], true) = (self.tags.as_slice(), self.rest.is_empty()) {
            // One tag, perhaps with completion, and nothing else: the tag's own counts.
            return format!(
                "SELECT coalesce((SELECT {counted} FROM tags \
                 WHERE issuer = $1 AND subject = $2 AND key = {key}), 0)"
            );
        }
        let Some((first, others)) = self.tags.split_first() else {
            return format!(
                "SELECT count(*) FROM tasks WHERE issuer = $1 AND subject = $2{}",
                self.all()
            );
        };
        let mut text = "SELECT count(*) FROM task_tags k".to_owned();
        for (n, key) in others.iter().enumerate() {
            text.push_str(&format!(
                " JOIN task_tags k{n} ON k{n}.issuer = $1 AND k{n}.subject = $2 \
                 AND k{n}.key = {key} AND k{n}.task_id = k.task_id"
            ));
        }
        text.push_str(&format!(" WHERE k.issuer = $1 AND k.subject = $2 AND k.key = {first}"));
        if let Some(completed) = &self.completed {
            text.push_str(&format!(" AND k.completed = {completed}"));
        }
        if !self.rest.is_empty() {
            text.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM tasks WHERE issuer = $1 AND subject = $2 \
                 AND id = k.task_id{})",
                self.rest
            ));
        }
        text
    }
}

/// The condition on the filter's priorities.
fn priority_in(filter: &TaskFilter) -> String {
    let ranks: Vec<String> = filter.priorities.iter().map(|p| p.rank().to_string()).collect();
    // Ranks are ours, 0 to 3: written into the text, they make one statement per set.
    format!("priority IN ({})", ranks.join(", "))
}

/// The conditions of the query's filter, their values bound. Conditions on a due's local date
/// or on overdue also bound `due_at`, which they imply, so that the due index serves them.
fn filter(sql: &mut Sql, owner: Owner<'_>, query: &TaskQuery) -> Result<Conditions, StoreError> {
    let filter = &query.filter;
    let completed = filter.completed.map(|completed| sql.bind(completed));
    let tags: Vec<String> = filter.tags.iter().map(|tag| sql.bind(tag.clone())).collect();
    let mut rest = String::new();
    let mut and = |condition: &str| {
        rest.push_str(" AND ");
        rest.push_str(condition);
    };
    if !filter.priorities.is_empty() {
        and(&priority_in(filter));
    }
    if !filter.terms.is_empty() {
        let query = sql.bind(search_query(owner, &filter.terms));
        and(&format!("search @@ {query}::tsquery"));
    }
    if let Some(from) = filter.due_from {
        let at = sql.bind(day_start_utc(from) - ZONE_MARGIN_SECS);
        and(&format!("due_date >= {} AND due_at >= {at}", sql.bind(pg_date(from)?)));
    }
    if let Some(to) = filter.due_to {
        let at = sql.bind(day_start_utc(to) + 86_400 + ZONE_MARGIN_SECS);
        and(&format!("due_date <= {} AND due_at < {at}", sql.bind(pg_date(to)?)));
    }
    match filter.has_due {
        Some(true) => and("due_at IS NOT NULL"),
        Some(false) => and("due_at IS NULL"),
        None => {}
    }
    let mut list_only = None;
    if let Some(list) = filter.list {
        let list = list.map(|id| sql.bind(id.as_uuid()));
        match &list {
            Some(id) => and(&format!("list_id = {id}")),
            None => and("list_id IS NULL"),
        }
        let others = TaskFilter { list: None, completed: None, ..filter.clone() };
        list_only = others.is_empty().then_some(list);
    }
    match filter.parent.map(|parent| parent.map(|id| sql.bind(id.as_uuid()))) {
        Some(Some(id)) => and(&format!("parent_id = {id}")),
        Some(None) => and("parent_id IS NULL"),
        None => {}
    }
    if let Some(overdue) = &filter.overdue {
        // A timed due before now, an all-day one before today: its due_at (00:00 UTC of its
        // date) before today's.
        let today = day_start_utc(overdue.today);
        let (now, start) = (sql.bind(overdue.now), sql.bind(today));
        let due = format!("due_at < CASE WHEN due_time IS NULL THEN {start} ELSE {now} END");
        match overdue.wanted {
            true => {
                // Written so that tasks_open_due holds every task it asks for (open, with a
                // due), and a due before both moments passes without its CASE.
                let before = sql.bind(overdue.now.max(today));
                let surely = sql.bind(overdue.now.min(today));
                and(&format!(
                    "NOT completed AND due_at < {before} AND (due_at < {surely} OR {due})"
                ))
            }
            false => and(&format!("NOT coalesce(NOT completed AND {due}, false)")),
        }
    }
    // Compared as text: any other condition, a later one too, rules the counts out.
    let ranks_only =
        (rest == format!(" AND {}", priority_in(filter)) && completed.is_none() && tags.is_empty())
            .then(|| {
                let mut ranks: Vec<u8> = filter.priorities.iter().map(|p| p.rank()).collect();
                ranks.sort_unstable();
                ranks.dedup();
                ranks
            });
    Ok(Conditions { completed, tags, rest, ranks_only, list_only })
}

/// The column a sort orders by besides the id, and the cursor's value for it, bound; `None`
/// for the value when the cursor cannot be in this order (no task follows it).
fn sort_column(
    sql: &mut Sql,
    key: SortKey,
    value: &SortValue,
) -> (Option<&'static str>, Option<String>) {
    match (key, value) {
        (SortKey::Created, _) => (None, Some(String::new())),
        (SortKey::Updated, SortValue::Number(micros)) => {
            let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(*micros) * 1000).ok();
            (Some("updated_at"), at.map(|at| sql.bind(at)))
        }
        (SortKey::Due, SortValue::Number(at)) => (Some("due_at"), Some(sql.bind(*at))),
        (SortKey::Priority, SortValue::Number(rank)) => {
            (Some("priority"), i16::try_from(*rank).ok().map(|rank| sql.bind(rank)))
        }
        (SortKey::Title, SortValue::Text(key)) => (Some("title_key"), Some(sql.bind(key.clone()))),
        (SortKey::Updated, _) => (Some("updated_at"), None),
        (SortKey::Due, _) => (Some("due_at"), None),
        (SortKey::Priority, _) => (Some("priority"), None),
        (SortKey::Title, _) => (Some("title_key"), None),
    }
}

/// The statement of the page: `(total, version, matching, COLUMNS...)`, one row per task and
/// one without a task when the page is empty; no row when the owner never wrote.
fn statement(owner: Owner<'_>, query: &TaskQuery) -> Result<(String, Sql), StoreError> {
    let mut sql = Sql { values: Vec::new() };
    sql.bind(owner.issuer.to_owned());
    sql.bind(owner.subject.to_owned());
    let limit = sql.bind(i64::from(query.limit) + 1);
    let filtered = filter(&mut sql, owner, query)?;
    let conditions = filtered.all();
    let matching = match query.filter.is_empty() {
        true => "NULL::bigint".to_owned(),
        false => format!("({})", filtered.count()),
    };
    if !query.filter.terms.is_empty() {
        return Ok((searched(&mut sql, query, &conditions, &limit), sql));
    }
    let (op, dir) = if query.sort.descending { ("<", "DESC") } else { (">", "ASC") };
    let scope = format!("FROM tasks WHERE issuer = $1 AND subject = $2{conditions}");
    let rows = match query.sort.key {
        SortKey::Due => {
            // With a due, by due_at; then without, by id, read only when those with one did
            // not fill the page (`d`, read twice, is read once). A cursor among the tasks
            // without a due skips all those with one.
            let (mut with_due, mut without) = (String::new(), String::new());
            match &query.after {
                None => {}
                Some(after) if after.value == SortValue::Nothing => {
                    with_due.push_str(" AND false");
                    without.push_str(&format!(" AND id {op} {}", sql.bind(after.id.as_uuid())));
                }
                Some(after) => {
                    let id = sql.bind(after.id.as_uuid());
                    match sort_column(&mut sql, SortKey::Due, &after.value).1 {
                        Some(value) => {
                            with_due.push_str(&format!(" AND (due_at, id) {op} ({value}, {id})"))
                        }
                        None => with_due.push_str(" AND false"),
                    }
                }
            }
            format!(
                "WITH d AS (SELECT 0 AS region, {COLUMNS} {scope} AND due_at IS NOT NULL\
                 {with_due} ORDER BY due_at {dir}, id {dir} LIMIT {limit}) \
                 SELECT {COLUMNS} FROM (SELECT * FROM d UNION ALL \
                 (SELECT 1 AS region, {COLUMNS} {scope} AND due_at IS NULL{without} \
                 AND (SELECT count(*) FROM d) < {limit} ORDER BY id {dir} LIMIT {limit})) AS u \
                 ORDER BY region, due_at {dir}, id {dir} LIMIT {limit}"
            )
        }
        key => {
            let column = sort_column(&mut sql, key, &SortValue::Nothing).0;
            let mut after_cursor = String::new();
            if let Some(after) = &query.after {
                let id = sql.bind(after.id.as_uuid());
                match sort_column(&mut sql, key, &after.value) {
                    (None, _) => after_cursor = format!(" AND id {op} {id}"),
                    (Some(column), Some(value)) => {
                        after_cursor = format!(" AND ({column}, id) {op} ({value}, {id})")
                    }
                    (Some(_), None) => after_cursor = " AND false".to_owned(),
                }
            }
            let order = match column {
                None => format!("id {dir}"),
                Some(column) => format!("{column} {dir}, id {dir}"),
            };
            match query.filter.due_from.is_some() || query.filter.due_to.is_some() {
                // A due range picks a few tasks from anywhere in the sort's order: their ids
                // are read from the due index alone (it holds the range's columns), and only
                // the page's tasks from the table.
                true => format!(
                    "SELECT {COLUMNS} FROM tasks WHERE issuer = $1 AND subject = $2 AND id IN \
                     (SELECT id {scope}{after_cursor} ORDER BY {order} LIMIT {limit}) \
                     ORDER BY {order} LIMIT {limit}"
                ),
                false => {
                    format!("SELECT {COLUMNS} {scope}{after_cursor} ORDER BY {order} LIMIT {limit}")
                }
            }
        }
    };
    // An owner that never wrote has no row and gets an empty page; the LEFT JOIN keeps the
    // owner's row when a page is empty.
    let text = format!(
        "SELECT o.total, o.version, {matching}, t.* FROM task_owners o \
         LEFT JOIN LATERAL ({rows}) t ON true WHERE o.issuer = $1 AND o.subject = $2"
    );
    Ok((text, sql))
}

/// The statement of a search's page: the full-text index finds the matches once (`m`), which
/// are counted, and the page is the first of them in the sort's order, read by id. (Walking a
/// sort's index instead would test each task in turn against the search, and count again.)
fn searched(sql: &mut Sql, query: &TaskQuery, conditions: &str, limit: &str) -> String {
    let key = query.sort.key;
    let (op, dir) = if query.sort.descending { ("<", "DESC") } else { (">", "ASC") };
    let column = sort_column(sql, key, &SortValue::Nothing).0;
    let order = |column: Option<&str>| match (key, column) {
        (_, None) => format!("id {dir}"),
        (SortKey::Due, Some(column)) => format!("({column} IS NULL), {column} {dir}, id {dir}"),
        (_, Some(column)) => format!("{column} {dir}, id {dir}"),
    };
    let values = column.map_or(String::new(), |column| format!(", {column} AS v"));
    let mut after_cursor = String::new();
    if let Some(after) = &query.after {
        let id = sql.bind(after.id.as_uuid());
        after_cursor = match (key, &after.value, sort_column(sql, key, &after.value)) {
            (SortKey::Created, _, _) => format!(" AND id {op} {id}"),
            (SortKey::Due, SortValue::Nothing, _) => format!(" AND v IS NULL AND id {op} {id}"),
            (SortKey::Due, _, (_, Some(value))) => {
                format!(" AND (v IS NULL OR (v, id) {op} ({value}, {id}))")
            }
            (_, _, (_, Some(value))) => format!(" AND (v, id) {op} ({value}, {id})"),
            (_, _, (_, None)) => " AND false".to_owned(),
        };
    }
    format!(
        "WITH m AS (SELECT id{values} FROM tasks WHERE issuer = $1 AND subject = $2{conditions}) \
         SELECT o.total, o.version, (SELECT count(*) FROM m), t.* FROM task_owners o \
         LEFT JOIN LATERAL (SELECT {COLUMNS} FROM tasks WHERE issuer = $1 AND subject = $2 \
         AND id IN (SELECT id FROM m WHERE true{after_cursor} ORDER BY {} LIMIT {limit}) \
         ORDER BY {} LIMIT {limit}) t ON true WHERE o.issuer = $1 AND o.subject = $2",
        order(column.map(|_| "v")),
        order(column),
    )
}

/// A page of the owner's tasks that match the query, with the total and the list version.
pub(super) async fn list(
    db: &PgDb,
    owner: Owner<'_>,
    query: &TaskQuery,
) -> Result<Arc<TaskPage>, StoreError> {
    let (text, sql) = statement(owner, query)?;
    let rows = db
        .run(async |client| {
            if query.filter.terms.is_empty() {
                let statement = client.prepare_cached(&text).await?;
                let params: Vec<&(dyn ToSql + Sync)> = sql
                    .values
                    .iter()
                    .map(|(value, _)| value.as_ref() as &(dyn ToSql + Sync))
                    .collect();
                return Ok(client.query(&statement, &params).await?);
            }
            // A search is planned for its terms each time (one round trip all the same): a
            // plan made for any terms cannot tell a rare word from a common one, and walks
            // the owner's tasks in order where the full-text index would find a few at once.
            let params: Vec<(&(dyn ToSql + Sync), Type)> = sql
                .values
                .iter()
                .map(|(value, ty)| (value.as_ref() as &(dyn ToSql + Sync), ty.clone()))
                .collect();
            Ok(client.query_typed(&text, &params).await?)
        })
        .await?;
    let (mut total, mut version, mut tasks) = (0, 0, Vec::with_capacity(rows.len()));
    for row in &rows {
        total = match row.try_get::<_, Option<i64>>(2)? {
            Some(matching) => matching.unsigned_abs(),
            None => row.try_get::<_, i64>(0)?.unsigned_abs(),
        };
        version = row.try_get::<_, i64>(1)?.unsigned_abs();
        if row.try_get::<_, Option<Uuid>>(4)?.is_some() {
            tasks.push(task_from_row(row, 3)?);
        }
    }
    let more = tasks.len() > query.limit as usize;
    tasks.truncate(query.limit as usize);
    Ok(Arc::new(TaskPage::new(tasks, total, more, version)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(raw: &str) -> String {
        let owner = Owner { issuer: "https://issuer.example", subject: "someone" };
        let query = TaskQuery::parse(Some(raw), 1_781_524_800).unwrap();
        let (text, sql) = statement(owner, &query).unwrap();
        let highest = (1..=sql.values.len()).rev().find(|n| text.contains(&format!("${n}")));
        assert_eq!(highest, Some(sql.values.len()), "{raw}: every value is used");
        text
    }

    #[test]
    fn values_are_bound_so_one_shape_is_one_statement() {
        let shapes = [
            ("tag=alpha&completed=false&q=first", "tag=beta&completed=true&q=second"),
            ("due_from=2026-01-01&due_to=2026-02-01", "due_from=2027-05-05&due_to=2027-06-06"),
            ("overdue=true&tz=Europe/Berlin", "overdue=true&tz=America/New_York"),
            ("sort=title&order=asc&tag=a&tag=b", "sort=title&order=asc&tag=c&tag=d"),
        ];
        for (one, other) in shapes {
            let statement = text(one);
            assert_eq!(statement, text(other), "{one}");
            for value in ["alpha", "first", "2026", "someone", "example", "Berlin"] {
                assert!(!statement.contains(value), "{one}: {value} is bound, not written");
            }
        }
        assert_ne!(text("priority=high"), text("priority=low"), "ranks are written");
    }
}
