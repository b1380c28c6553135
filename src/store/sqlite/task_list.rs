//! Listing an owner's tasks on SQLite: one statement per query shape (which filters, which sort),
//! prepared once and cached, with the values bound. Every sort walks an index in order and stops
//! one row past the page; `sort=due` reads tasks with a due first and then those without, each
//! region in index order, so tasks without a due come last in both directions.

use rusqlite::types::Value;
use rusqlite::vtab::array::Array;
use rusqlite::{Connection, ToSql, params};
use std::rc::Rc;

use super::task_sql::{count_column, owner_row, owner_token, task_from_row};
use super::tasks::{COLUMNS, Owner};
use crate::domain::tasks::due::day_start_utc;
use crate::domain::tasks::query::SortValue;
use crate::domain::tasks::{Priority, SortKey, Task, TaskFilter, TaskPage, TaskQuery};
use crate::store::StoreError;

/// Pages of at most this many rows (the default size) are read on the calling thread: a hop to a
/// blocking thread costs more than reading them, and under load the hop's extra thread competes
/// with the writer for the CPU. Larger pages are read on a blocking thread.
pub(super) const INLINE_PAGE_ROWS: u32 = crate::domain::tasks::DEFAULT_PAGE_SIZE;

/// One read transaction: the rows, the total and the version of one snapshot.
pub(super) fn read_snapshot(
    conn: &Connection,
    owner: &Owner,
    query: &TaskQuery,
) -> Result<TaskPage, StoreError> {
    conn.execute_batch("BEGIN")?;
    let found = read_page(conn, owner, query);
    let ended = conn.execute_batch(if found.is_ok() { "COMMIT" } else { "ROLLBACK" });
    let found = found?;
    ended?;
    Ok(found)
}

/// Which tasks a `sort=due` statement reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Region {
    /// Every sort but `due`.
    All,
    WithDue,
    WithoutDue,
}

/// A statement being built: its text and its bound values, in order.
struct Sql {
    text: String,
    values: Vec<Value>,
    /// The search's matches, bound as a `rarray` (the FTS5 query runs once per request).
    matches: Option<(usize, Array)>,
}

impl Sql {
    fn owned_by(owner: &Owner, select: &str) -> Self {
        Sql {
            text: select.to_owned(),
            values: vec![owner.issuer.clone().into(), owner.subject.clone().into()],
            matches: None,
        }
    }

    /// Binds `value` and returns its placeholder. Values are CAST to their type: SQLite
    /// re-prepares a statement whose plan depends on a bound value's type or value (see
    /// `list_statements_are_prepared_once`).
    fn bind(&mut self, value: impl Into<Value>) -> String {
        let value = value.into();
        let cast = match &value {
            Value::Integer(_) => "INTEGER",
            _ => "TEXT",
        };
        self.values.push(value);
        format!("CAST(?{} AS {cast})", self.values.len() + usize::from(self.matches.is_some()))
    }

    fn bind_matches(&mut self, matches: Array) -> String {
        let index = self.values.len() + 1;
        self.matches = Some((index, matches));
        format!("rarray(?{index})")
    }

    fn and(&mut self, condition: &str) {
        self.text.push_str(" AND ");
        self.text.push_str(condition);
    }

    fn params(&self) -> Vec<&dyn ToSql> {
        let mut params: Vec<&dyn ToSql> = self.values.iter().map(|v| v as &dyn ToSql).collect();
        if let Some((index, matches)) = &self.matches {
            params.insert(index - 1, matches);
        }
        params
    }
}

/// How a statement names the tasks' columns in its conditions: bare, or as `t.` beside
/// `task_tags k`; and, in a page's statement, as `+column` (which no index serves) except the
/// sort's own column. A page then walks the index of its order and stops one row past the page,
/// instead of gathering every match from a filter's index and sorting them all.
#[derive(Clone, Copy)]
struct Names {
    table: &'static str,
    /// `Some(sort column)` in a page's statement (`""` for creation order): the only column
    /// whose index the conditions may use.
    page_order: Option<&'static str>,
}

impl Names {
    const COUNT: Names = Names { table: "", page_order: None };

    fn of(&self, column: &str) -> String {
        match self.page_order {
            Some(order) if order != column && !covered(order, column, self.table) => {
                format!("+{}{column}", self.table)
            }
            _ => format!("{}{column}", self.table),
        }
    }
}

/// Whether the index a page walks in the order of `order` holds `column`: its conditions are
/// then checked in the index, before the row is read.
/// So does the index of a list's tasks (or a task's subtasks) in creation order: its entries end
/// with the task's id.
fn covered(order: &str, column: &str, table: &str) -> bool {
    (order == "due_at" && matches!(column, "priority" | "completed" | "due_date" | "due_time"))
        || (order.is_empty() && table.is_empty() && matches!(column, "list_id" | "parent_id"))
}

/// A search matching at most this many tasks is read through its matches (then sorted);
/// one matching more is read in the page's order, its matches checked row by row.
const FEW_MATCHES: usize = 1000;

/// Seconds a local date can lie from its UTC day: zones run from UTC-12 to UTC+14. A due's date
/// range gives its `due_at` these bounds, so that a range reads the due index only.
const BEFORE_UTC_DAY: i64 = 14 * 3600;
const AFTER_UTC_DAY: i64 = 36 * 3600;

/// The WHERE conditions of the filter, after the owner's; `skip_tag` is a tag the statement
/// already reads its tasks by. `matches`: the search's matching rows (see [`search_matches`]).
fn filter(
    sql: &mut Sql,
    query: &TaskQuery,
    names: Names,
    skip_tag: Option<&str>,
    matches: Option<&Array>,
) {
    let filter = &query.filter;
    let c = |column: &str| names.of(column);
    let (completed, priority, due_at, due_date, due_time) =
        (c("completed"), c("priority"), c("due_at"), c("due_date"), c("due_time"));
    if let Some(wanted) = filter.completed {
        let value = sql.bind(i64::from(wanted));
        sql.and(&format!("{completed} = {value}"));
    }
    if !filter.priorities.is_empty() {
        let ranks: Vec<String> = filter.priorities.iter().map(|p| p.rank().to_string()).collect();
        // Ranks are ours, 0 to 3: written into the text, they make one statement per set.
        sql.and(&format!("{priority} IN ({})", ranks.join(", ")));
    }
    for tag in filter.tags.iter().filter(|tag| Some(tag.as_str()) != skip_tag) {
        tag_condition(sql, tag, &format!("{}id", names.table));
    }
    if let Some(matches) = matches {
        let search_id = match matches.len() > FEW_MATCHES {
            true => c("search_id"),
            false => format!("{}search_id", names.table),
        };
        let matches = sql.bind_matches(matches.clone());
        sql.and(&format!("{search_id} IN {matches}"));
    }
    if let Some(from) = filter.due_from {
        let bound = sql.bind(day_start_utc(from) - BEFORE_UTC_DAY);
        let from = sql.bind(from.to_string());
        sql.and(&format!("{due_at} >= {bound} AND {due_date} >= {from}"));
    }
    if let Some(to) = filter.due_to {
        let bound = sql.bind(day_start_utc(to) + AFTER_UTC_DAY);
        let to = sql.bind(to.to_string());
        sql.and(&format!("{due_at} < {bound} AND {due_date} <= {to}"));
    }
    if let Some(list) = filter.list {
        let column = c("list_id");
        match list {
            Some(id) => {
                let id = sql.bind(id.to_string());
                sql.and(&format!("{column} = {id}"));
            }
            None => sql.and(&format!("{column} IS NULL")),
        }
    }
    if let Some(parent) = filter.parent {
        let column = c("parent_id");
        match parent {
            Some(id) => {
                let id = sql.bind(id.to_string());
                sql.and(&format!("{column} = {id}"));
            }
            None => sql.and(&format!("{column} IS NULL")),
        }
    }
    match filter.has_due {
        Some(true) => sql.and(&format!("{due_date} IS NOT NULL")),
        Some(false) => sql.and(&format!("{due_date} IS NULL")),
        None => {}
    }
    if let Some(overdue) = &filter.overdue {
        // A timed due has passed when its instant is before now; an all-day one when its date is
        // before today, that is, when its due_at (00:00 UTC of its date) is before 00:00 UTC of
        // today. Below the earlier of the two bounds every due has passed, from the later one
        // none has, and between them only one kind: a range of due_at and one cheap test instead
        // of comparing each due's date and time.
        let (now, day_start) = (overdue.now, day_start_utc(overdue.today));
        let between = if now >= day_start { "IS NOT NULL" } else { "IS NULL" };
        let (earlier, later) = (sql.bind(now.min(day_start)), sql.bind(now.max(day_start)));
        let passed =
            format!("({due_at} < {later} AND ({due_at} < {earlier} OR {due_time} {between}))");
        match overdue.wanted {
            true => sql.and(&format!("{completed} = 0 AND {passed}")),
            false => sql.and(&format!("NOT ({completed} = 0 AND coalesce({passed}, 0))")),
        }
    }
}

/// The tasks' columns, as `table` names them.
fn columns(table: &str) -> String {
    COLUMNS
        .split(", ")
        .map(|column| format!("{table}{}", column.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn statement(owner: &Owner, query: &TaskQuery, region: Region, matches: Option<&Array>) -> Sql {
    let descending = query.sort.descending;
    let (op, dir) = if descending { ("<", "DESC") } else { (">", "ASC") };
    let column = match (query.sort.key, region) {
        (SortKey::Created, _) | (_, Region::WithoutDue) => None,
        (SortKey::Updated, _) => Some("updated_key"),
        (SortKey::Due, _) => Some("due_at"),
        (SortKey::Priority, _) => Some("priority"),
        (SortKey::Title, _) => Some("title_key"),
    };
    // In creation order, a tag's tasks are one range of task_tags: read them from there (a rare
    // tag as fast as a common one), and join each to its task.
    let by_tag = query.filter.tags.first().filter(|_| query.sort.key == SortKey::Created);
    // A search with few matches: read its matches' tasks (by the search_id index), then sort.
    let by_matches = matches.filter(|matches| by_tag.is_none() && matches.len() <= FEW_MATCHES);
    let (mut sql, table, id) = match (by_tag, by_matches) {
        (None, Some(found)) => {
            let mut sql = Sql::owned_by(owner, "");
            let found = sql.bind_matches(found.clone());
            // CROSS JOIN keeps this order: the matches first, each task found by its row.
            sql.text = format!(
                "SELECT {COLUMNS} FROM {found} AS m CROSS JOIN tasks ON tasks.search_id = m.value \
                 WHERE issuer = CAST(?1 AS TEXT) AND subject = CAST(?2 AS TEXT)"
            );
            (sql, "", "id")
        }
        (Some(tag), _) => {
            let mut sql = Sql::owned_by(
                owner,
                &format!(
                    "SELECT {} FROM task_tags k JOIN tasks t ON t.issuer = k.issuer \
                     AND t.subject = k.subject AND t.id = k.task_id \
                     WHERE k.issuer = CAST(?1 AS TEXT) AND k.subject = CAST(?2 AS TEXT)",
                    columns("t.")
                ),
            );
            let key = sql.bind(tag.clone());
            sql.and(&format!("k.key = {key}"));
            (sql, "t.", "k.task_id")
        }
        (None, None) => {
            // In creation order, a task's subtasks or a list's tasks are one range of their
            // index, in that order. Named, as SQLite without statistics would rather walk the
            // primary key (the same order) and read every task of the owner to test each.
            let index = match (column, query.filter.parent, query.filter.list) {
                (None, Some(Some(_)), _) => " INDEXED BY tasks_by_parent",
                (None, _, Some(_)) => " INDEXED BY tasks_by_list",
                _ => "",
            };
            let select = format!(
                "SELECT {COLUMNS} FROM tasks{index} WHERE issuer = CAST(?1 AS TEXT) \
                 AND subject = CAST(?2 AS TEXT)"
            );
            (Sql::owned_by(owner, &select), "", "id")
        }
    };
    let names = Names { table, page_order: Some(column.unwrap_or("")) };
    let matches = matches.filter(|_| by_matches.is_none());
    filter(&mut sql, query, names, by_tag.map(String::as_str), matches);
    match region {
        Region::WithDue => sql.and("due_at IS NOT NULL"),
        Region::WithoutDue => sql.and("due_at IS NULL"),
        Region::All => {}
    }
    if let Some(after) = &query.after {
        let after_id = sql.bind(after.id.to_string());
        match (column, &after.value) {
            (None, _) => sql.and(&format!("{id} {op} {after_id}")),
            (Some(column), SortValue::Number(value)) => {
                let value = sql.bind(*value);
                sql.and(&format!("({column}, id) {op} ({value}, {after_id})"));
            }
            (Some(column), SortValue::Text(value)) => {
                let value = sql.bind(value.clone());
                sql.and(&format!("({column}, id) {op} ({value}, {after_id})"));
            }
            // A cursor among the tasks without a due: `read_page` skips those with one.
            (Some(_), SortValue::Nothing) => sql.and("0"),
        }
    }
    match column {
        None => sql.text.push_str(&format!(" ORDER BY {id} {dir}")),
        Some(column) => sql.text.push_str(&format!(" ORDER BY {column} {dir}, id {dir}")),
    }
    sql
}

/// Up to `limit` rows of the statement; the scan stops there.
fn rows(conn: &Connection, sql: &Sql, limit: usize) -> rusqlite::Result<Vec<Task>> {
    conn.prepare_cached(&sql.text)?.query_map(&*sql.params(), task_from_row)?.take(limit).collect()
}

/// How many of the owner's tasks match the filter.
fn count(
    conn: &Connection,
    owner: &Owner,
    query: &TaskQuery,
    matches: Option<&Array>,
) -> rusqlite::Result<u64> {
    let wanted = &query.filter;
    let only_counted =
        TaskFilter { priorities: Vec::new(), completed: None, ..wanted.clone() }.is_empty();
    if only_counted {
        // Priority and completion only: the owner's row counts them (migration 11).
        let priorities = match wanted.priorities.is_empty() {
            true => Priority::ALL.as_slice(),
            false => wanted.priorities.as_slice(),
        };
        let completions = match wanted.completed {
            None => [false, true].as_slice(),
            Some(false) => [false].as_slice(),
            Some(true) => [true].as_slice(),
        };
        let columns: Vec<&str> = priorities
            .iter()
            .flat_map(|priority| completions.iter().map(|done| count_column(*priority, *done)))
            .collect();
        let sql = format!(
            "SELECT coalesce((SELECT {} FROM task_owners WHERE issuer = ?1 AND subject = ?2), 0)",
            columns.join(" + ")
        );
        return conn.prepare_cached(&sql)?.query_row(params![owner.issuer, owner.subject], |row| {
            Ok(row.get::<_, i64>(0)?.unsigned_abs())
        });
    }
    let only_list = TaskFilter { list: None, completed: None, ..wanted.clone() }.is_empty();
    if let (Some(list), true) = (wanted.list, only_list) {
        // A list (and completion) only: the list's own counts; the inbox's are the owner's
        // less every list's.
        let (counted, owned) = match wanted.completed {
            None => ("tasks", "total"),
            Some(false) => ("open", "none_open + low_open + medium_open + high_open"),
            Some(true) => ("tasks - open", "none_done + low_done + medium_done + high_done"),
        };
        let sql = match list {
            Some(_) => format!(
                "SELECT coalesce((SELECT {counted} FROM lists WHERE issuer = ?1 AND subject = ?2 \
                 AND id = ?3), 0)"
            ),
            None => format!(
                "SELECT coalesce((SELECT {owned} FROM task_owners WHERE issuer = ?1 \
                 AND subject = ?2), 0) - (SELECT coalesce(sum({counted}), 0) FROM lists \
                 WHERE issuer = ?1 AND subject = ?2 AND ?3 IS NULL)"
            ),
        };
        let id = list.map(|id| id.to_string());
        return conn
            .prepare_cached(&sql)?
            .query_row(params![owner.issuer, owner.subject, id], |row| {
                Ok(row.get::<_, i64>(0)?.unsigned_abs())
            });
    }
    let only_terms = TaskFilter { terms: Vec::new(), ..wanted.clone() }.is_empty();
    if let Some(matches) = matches.filter(|_| only_terms) {
        // The search's rows are the owner's (its token is in the query), and task_search holds
        // one row per task, changed in the transaction that changes the task.
        return Ok(matches.len() as u64);
    }
    let only_tags = TaskFilter { tags: Vec::new(), completed: None, ..wanted.clone() }.is_empty();
    let sql = match (wanted.tags.first(), only_tags) {
        // One tag (and completion) only: the tag's own counts.
        (Some(tag), true) if wanted.tags.len() == 1 => {
            let counted = match wanted.completed {
                None => "tasks",
                Some(false) => "open",
                Some(true) => "tasks - open",
            };
            let mut sql = Sql::owned_by(
                owner,
                &format!(
                    "SELECT coalesce((SELECT {counted} FROM tags WHERE issuer = CAST(?1 AS TEXT) \
                     AND subject = CAST(?2 AS TEXT)"
                ),
            );
            let key = sql.bind(tag.clone());
            sql.and(&format!("key = {key}), 0)"));
            sql
        }
        // Tags (and completion) only: task_tags alone answers.
        (Some(tag), true) => {
            let mut sql = Sql::owned_by(
                owner,
                "SELECT count(*) FROM task_tags k WHERE k.issuer = CAST(?1 AS TEXT) \
                 AND k.subject = CAST(?2 AS TEXT)",
            );
            let key = sql.bind(tag.clone());
            sql.and(&format!("k.key = {key}"));
            if let Some(completed) = wanted.completed {
                let value = sql.bind(i64::from(completed));
                sql.and(&format!("k.completed = {value}"));
            }
            for tag in &wanted.tags[1..] {
                tag_condition(&mut sql, tag, "k.task_id");
            }
            sql
        }
        _ => match matches.filter(|matches| matches.len() <= FEW_MATCHES) {
            Some(found) => {
                let mut sql = Sql::owned_by(owner, "");
                let found = sql.bind_matches(found.clone());
                sql.text = format!(
                    "SELECT count(*) FROM {found} AS m CROSS JOIN tasks \
                     ON tasks.search_id = m.value \
                     WHERE issuer = CAST(?1 AS TEXT) AND subject = CAST(?2 AS TEXT)"
                );
                filter(&mut sql, query, Names::COUNT, None, None);
                sql
            }
            None => {
                let mut sql = Sql::owned_by(
                    owner,
                    "SELECT count(*) FROM tasks WHERE issuer = CAST(?1 AS TEXT) \
                     AND subject = CAST(?2 AS TEXT)",
                );
                filter(&mut sql, query, Names::COUNT, None, matches);
                sql
            }
        },
    };
    conn.prepare_cached(&sql.text)?
        .query_row(&*sql.params(), |row| Ok(row.get::<_, i64>(0)?.unsigned_abs()))
}

/// The task whose id is `id` has the tag `key`.
fn tag_condition(sql: &mut Sql, key: &str, id: &str) {
    let key = sql.bind(key.to_owned());
    sql.and(&format!(
        "EXISTS (SELECT 1 FROM task_tags x WHERE x.issuer = ?1 AND x.subject = ?2 \
         AND x.key = {key} AND x.task_id = {id})"
    ));
}

/// The rows of `task_search` (tasks' `search_id`s) of the owner's tasks that every term of the
/// search starts a word of: one FTS5 query, whose result the count and the page then share.
fn search_matches(conn: &Connection, owner: &Owner, terms: &[String]) -> rusqlite::Result<Array> {
    let mut matching = format!("owner : \"{}\"", owner_token(&owner.issuer, &owner.subject));
    for term in terms {
        // Terms are letters and digits only; quoted, nothing in them is FTS5 syntax.
        matching.push_str(&format!(" AND text : \"{}\"*", term.replace('"', "")));
    }
    let rows: Vec<Value> = conn
        .prepare_cached("SELECT rowid FROM task_search WHERE task_search MATCH ?1")?
        .query_map([matching], |row| Ok(Value::Integer(row.get(0)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Rc::new(rows))
}

pub(super) fn read_page(
    conn: &Connection,
    owner: &Owner,
    query: &TaskQuery,
) -> Result<TaskPage, StoreError> {
    // One row past the page tells whether another follows.
    let fetch = query.limit as usize + 1;
    let matches = match query.filter.terms.is_empty() {
        true => None,
        false => Some(search_matches(conn, owner, &query.filter.terms)?),
    };
    let matches = matches.as_ref();
    let mut tasks = match query.sort.key {
        SortKey::Due => {
            let in_null_region =
                query.after.as_ref().is_some_and(|after| after.value == SortValue::Nothing);
            let mut tasks = match in_null_region {
                true => Vec::new(),
                false => rows(conn, &statement(owner, query, Region::WithDue, matches), fetch)?,
            };
            if tasks.len() < fetch {
                let mut rest = query.clone();
                if !in_null_region {
                    rest.after = None;
                }
                tasks.extend(rows(
                    conn,
                    &statement(owner, &rest, Region::WithoutDue, matches),
                    fetch - tasks.len(),
                )?);
            }
            tasks
        }
        _ => rows(conn, &statement(owner, query, Region::All, matches), fetch)?,
    };
    let (total, version) = owner_row(conn, owner)?;
    let total = match query.filter.is_empty() {
        true => total,
        false => count(conn, owner, query, matches)?,
    };
    let more = tasks.len() > query.limit as usize;
    tasks.truncate(query.limit as usize);
    Ok(TaskPage::new(tasks, total, more, version))
}
