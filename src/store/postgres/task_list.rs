//! Listing an owner's tasks on PostgreSQL: one statement per query shape (which filters, which
//! sort), prepared once per connection and cached, with the values bound. The page, the number
//! of tasks that match and the list version come from one statement, so from one snapshot.
//! Every sort walks an index in order and stops one row past the page; `sort=due` reads tasks
//! with a due first and then those without, each part in index order, so tasks without a due
//! come last in both directions.

use std::sync::Arc;
use time::OffsetDateTime;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use super::PgDb;
use super::task_sql::{COLUMNS, Owner, pg_date, search_query, task_from_row};
use crate::domain::tasks::query::SortValue;
use crate::domain::tasks::{SortKey, TaskPage, TaskQuery};
use crate::store::StoreError;

/// A statement being built: its text and its values, in placeholder order.
struct Sql {
    values: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Sql {
    /// Binds `value` and returns its placeholder.
    fn bind(&mut self, value: impl ToSql + Sync + Send + 'static) -> String {
        self.values.push(Box::new(value));
        format!("${}", self.values.len())
    }
}

/// The conditions of the filter, each after ` AND `, on the columns of `tasks`.
fn filter(sql: &mut Sql, owner: Owner<'_>, query: &TaskQuery) -> Result<String, StoreError> {
    let filter = &query.filter;
    let mut text = String::new();
    let mut and = |condition: &str| {
        text.push_str(" AND ");
        text.push_str(condition);
    };
    if let Some(completed) = filter.completed {
        and(&format!("completed = {}", sql.bind(completed)));
    }
    if !filter.priorities.is_empty() {
        let ranks: Vec<String> = filter.priorities.iter().map(|p| p.rank().to_string()).collect();
        // Ranks are ours, 0 to 3: written into the text, they make one statement per set.
        and(&format!("priority IN ({})", ranks.join(", ")));
    }
    for tag in &filter.tags {
        let key = sql.bind(tag.clone());
        and(&format!(
            "id IN (SELECT task_id FROM task_tags WHERE issuer = $1 AND subject = $2 AND key = {key})"
        ));
    }
    if !filter.terms.is_empty() {
        let query = sql.bind(search_query(owner, &filter.terms));
        and(&format!("search @@ {query}::text::tsquery"));
    }
    if let Some(from) = filter.due_from {
        and(&format!("due_date >= {}", sql.bind(pg_date(from)?)));
    }
    if let Some(to) = filter.due_to {
        and(&format!("due_date <= {}", sql.bind(pg_date(to)?)));
    }
    match filter.has_due {
        Some(true) => and("due_date IS NOT NULL"),
        Some(false) => and("due_date IS NULL"),
        None => {}
    }
    if let Some(overdue) = &filter.overdue {
        let (now, today) = (sql.bind(overdue.now), sql.bind(pg_date(overdue.today)?));
        let condition = format!(
            "coalesce(NOT completed AND ((due_time IS NOT NULL AND due_at < {now}) \
             OR (due_time IS NULL AND due_date < {today})), false)"
        );
        match overdue.wanted {
            true => and(&condition),
            false => and(&format!("NOT {condition}")),
        }
    }
    Ok(text)
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
    let conditions = filter(&mut sql, owner, query)?;
    let matching = match query.filter.is_empty() {
        true => "NULL::bigint".to_owned(),
        false => {
            format!("(SELECT count(*) FROM tasks WHERE issuer = $1 AND subject = $2{conditions})")
        }
    };
    let (op, dir) = if query.sort.descending { ("<", "DESC") } else { (">", "ASC") };
    let scope = format!("FROM tasks WHERE issuer = $1 AND subject = $2{conditions}");
    let rows = match query.sort.key {
        SortKey::Due => {
            // With a due, by due_at; then without, by id. A cursor among the tasks without a
            // due skips all those with one.
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
                "SELECT {COLUMNS} FROM (\
                 (SELECT 0 AS region, {COLUMNS} {scope} AND due_at IS NOT NULL{with_due} \
                 ORDER BY due_at {dir}, id {dir} LIMIT {limit}) UNION ALL \
                 (SELECT 1 AS region, {COLUMNS} {scope} AND due_at IS NULL{without} \
                 ORDER BY id {dir} LIMIT {limit})) AS u \
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
            format!("SELECT {COLUMNS} {scope}{after_cursor} ORDER BY {order} LIMIT {limit}")
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

/// A page of the owner's tasks that match the query, with the total and the list version.
pub(super) async fn list(
    db: &PgDb,
    owner: Owner<'_>,
    query: &TaskQuery,
) -> Result<Arc<TaskPage>, StoreError> {
    let (text, sql) = statement(owner, query)?;
    let rows = db
        .run(async |client| {
            let statement = client.prepare_cached(&text).await?;
            let params: Vec<&(dyn ToSql + Sync)> =
                sql.values.iter().map(|value| value.as_ref() as &(dyn ToSql + Sync)).collect();
            Ok(client.query(&statement, &params).await?)
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
