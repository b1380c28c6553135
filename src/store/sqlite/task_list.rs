//! Listing an owner's tasks on SQLite: one statement per query shape (which filters, which sort),
//! prepared once and cached, with the values bound. Every sort walks an index in order and stops
//! one row past the page; `sort=due` reads tasks with a due first and then those without, each
//! region in index order, so tasks without a due come last in both directions.

use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

use super::task_sql::{owner_row, owner_token, task_from_row};
use super::tasks::{COLUMNS, Owner};
use crate::domain::tasks::query::SortValue;
use crate::domain::tasks::{SortKey, Task, TaskPage, TaskQuery};
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
}

impl Sql {
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
        format!("CAST(?{} AS {cast})", self.values.len())
    }

    fn and(&mut self, condition: &str) {
        self.text.push_str(" AND ");
        self.text.push_str(condition);
    }
}

/// The WHERE conditions of the filter, after the owner's.
fn filter(sql: &mut Sql, owner: &Owner, query: &TaskQuery) {
    let filter = &query.filter;
    if let Some(completed) = filter.completed {
        let value = sql.bind(i64::from(completed));
        sql.and(&format!("completed = {value}"));
    }
    if !filter.priorities.is_empty() {
        let ranks: Vec<String> = filter.priorities.iter().map(|p| p.rank().to_string()).collect();
        // Ranks are ours, 0 to 3: written into the text, they make one statement per set.
        sql.and(&format!("priority IN ({})", ranks.join(", ")));
    }
    for tag in &filter.tags {
        let key = sql.bind(tag.clone());
        sql.and(&format!(
            "id IN (SELECT task_id FROM task_tags WHERE issuer = ?1 AND subject = ?2 AND key = {key})"
        ));
    }
    if !filter.terms.is_empty() {
        let mut matching = format!("owner : \"{}\"", owner_token(&owner.issuer, &owner.subject));
        for term in &filter.terms {
            // Terms are letters and digits only; quoted, nothing in them is FTS5 syntax.
            matching.push_str(&format!(" AND text : \"{}\"*", term.replace('"', "")));
        }
        let matching = sql.bind(matching);
        sql.and(&format!(
            "search_id IN (SELECT rowid FROM task_search WHERE task_search MATCH {matching})"
        ));
    }
    if let Some(from) = filter.due_from {
        let from = sql.bind(from.to_string());
        sql.and(&format!("due_date >= {from}"));
    }
    if let Some(to) = filter.due_to {
        let to = sql.bind(to.to_string());
        sql.and(&format!("due_date <= {to}"));
    }
    match filter.has_due {
        Some(true) => sql.and("due_date IS NOT NULL"),
        Some(false) => sql.and("due_date IS NULL"),
        None => {}
    }
    if let Some(overdue) = &filter.overdue {
        let now = sql.bind(overdue.now);
        let today = sql.bind(overdue.today.to_string());
        let condition = format!(
            "coalesce(completed = 0 AND ((due_time IS NOT NULL AND due_at < {now}) \
             OR (due_time IS NULL AND due_date < {today})), 0)"
        );
        match overdue.wanted {
            true => sql.and(&condition),
            false => sql.and(&format!("NOT {condition}")),
        }
    }
}

fn statement(owner: &Owner, query: &TaskQuery, region: Region) -> Sql {
    let mut sql = Sql {
        text: format!(
            "SELECT {COLUMNS} FROM tasks WHERE issuer = CAST(?1 AS TEXT) AND subject = CAST(?2 AS TEXT)"
        ),
        values: vec![owner.issuer.clone().into(), owner.subject.clone().into()],
    };
    filter(&mut sql, owner, query);
    let descending = query.sort.descending;
    let (op, dir) = if descending { ("<", "DESC") } else { (">", "ASC") };
    let column = match (query.sort.key, region) {
        (SortKey::Created, _) | (_, Region::WithoutDue) => None,
        (SortKey::Updated, _) => Some("updated_key"),
        (SortKey::Due, _) => Some("due_at"),
        (SortKey::Priority, _) => Some("priority"),
        (SortKey::Title, _) => Some("title_key"),
    };
    match region {
        Region::WithDue => sql.and("due_at IS NOT NULL"),
        Region::WithoutDue => sql.and("due_at IS NULL"),
        Region::All => {}
    }
    if let Some(after) = &query.after {
        let id = sql.bind(after.id.to_string());
        match (column, &after.value) {
            (None, _) => sql.and(&format!("id {op} {id}")),
            (Some(column), SortValue::Number(value)) => {
                let value = sql.bind(*value);
                sql.and(&format!("({column}, id) {op} ({value}, {id})"));
            }
            (Some(column), SortValue::Text(value)) => {
                let value = sql.bind(value.clone());
                sql.and(&format!("({column}, id) {op} ({value}, {id})"));
            }
            // A cursor among the tasks without a due: `read_page` skips those with one.
            (Some(_), SortValue::Nothing) => sql.and("0"),
        }
    }
    match column {
        None => sql.text.push_str(&format!(" ORDER BY id {dir}")),
        Some(column) => sql.text.push_str(&format!(" ORDER BY {column} {dir}, id {dir}")),
    }
    sql
}

/// Up to `limit` rows of the statement; the scan stops there.
fn rows(conn: &Connection, sql: &Sql, limit: usize) -> rusqlite::Result<Vec<Task>> {
    conn.prepare_cached(&sql.text)?
        .query_map(params_from_iter(&sql.values), task_from_row)?
        .take(limit)
        .collect()
}

/// How many of the owner's tasks match the filter.
fn count(conn: &Connection, owner: &Owner, query: &TaskQuery) -> rusqlite::Result<u64> {
    let mut sql = Sql {
        text: "SELECT count(*) FROM tasks WHERE issuer = CAST(?1 AS TEXT) AND subject = CAST(?2 AS TEXT)"
            .to_owned(),
        values: vec![owner.issuer.clone().into(), owner.subject.clone().into()],
    };
    filter(&mut sql, owner, query);
    conn.prepare_cached(&sql.text)?
        .query_row(params_from_iter(&sql.values), |row| Ok(row.get::<_, i64>(0)?.unsigned_abs()))
}

pub(super) fn read_page(
    conn: &Connection,
    owner: &Owner,
    query: &TaskQuery,
) -> Result<TaskPage, StoreError> {
    // One row past the page tells whether another follows.
    let fetch = query.limit as usize + 1;
    let mut tasks = match query.sort.key {
        SortKey::Due => {
            let in_null_region =
                query.after.as_ref().is_some_and(|after| after.value == SortValue::Nothing);
            let mut tasks = match in_null_region {
                true => Vec::new(),
                false => rows(conn, &statement(owner, query, Region::WithDue), fetch)?,
            };
            if tasks.len() < fetch {
                let mut rest = query.clone();
                if !in_null_region {
                    rest.after = None;
                }
                tasks.extend(rows(
                    conn,
                    &statement(owner, &rest, Region::WithoutDue),
                    fetch - tasks.len(),
                )?);
            }
            tasks
        }
        _ => rows(conn, &statement(owner, query, Region::All), fetch)?,
    };
    let (total, version) = owner_row(conn, owner)?;
    let total = match query.filter.is_empty() {
        true => total,
        false => count(conn, owner, query)?,
    };
    let more = tasks.len() > query.limit as usize;
    tasks.truncate(query.limit as usize);
    Ok(TaskPage::new(tasks, total, more, version))
}
