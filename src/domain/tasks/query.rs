//! The query of `GET /tasks`: filters, sort and paging, parsed from the query string into one
//! validated [`TaskQuery`]. Cursors are bound to the filter and sort they were issued for.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::civil::Date;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;

use super::due::{parse_date, parse_zone, today_in};
use super::fields::{Priority, TagName, fold};
use super::{DEFAULT_PAGE_SIZE, Invalid, MAX_PAGE_SIZE, Task, TaskId};
use crate::domain::lists::ListId;

/// The most search terms one `q` may hold.
pub const MAX_TERMS: usize = 10;
/// The most `tag` parameters one query may hold (a task has at most as many tags).
pub const MAX_QUERY_TAGS: usize = 20;

/// What a list is ordered by; ties are broken by id in the same direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Created,
    Updated,
    Due,
    Priority,
    Title,
}

impl SortKey {
    const NAMES: [(&str, SortKey); 5] = [
        ("created", Self::Created),
        ("updated", Self::Updated),
        ("due", Self::Due),
        ("priority", Self::Priority),
        ("title", Self::Title),
    ];

    fn name(self) -> &'static str {
        Self::NAMES.iter().find(|(_, key)| *key == self).map_or("created", |(name, _)| name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

impl Default for Sort {
    /// Newest first, as the list has always been.
    fn default() -> Self {
        Self { key: SortKey::Created, descending: true }
    }
}

/// Where a task sits in a sort order, besides its id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, Deserialize)]
#[serde(untagged)]
pub enum SortValue {
    /// `created` (ids are in creation order) and a task without a due.
    Nothing,
    Number(i64),
    Text(String),
}

impl Sort {
    /// The task's place in this order: compared first, then the id.
    pub fn value_of(&self, task: &Task) -> SortValue {
        match self.key {
            SortKey::Created => SortValue::Nothing,
            SortKey::Updated => SortValue::Number(task.updated_at.unix_micros()),
            SortKey::Due => task
                .due
                .as_ref()
                .map_or(SortValue::Nothing, |due| SortValue::Number(due.sort_key())),
            SortKey::Priority => SortValue::Number(task.priority.rank().into()),
            SortKey::Title => SortValue::Text(fold(&task.title)),
        }
    }
}

/// `overdue=`: open tasks whose due has passed at `now` (a timed due's instant before it, an
/// all-day due's date before `today`, today's date in the zone `tz=` names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overdue {
    pub wanted: bool,
    /// Unix seconds. Fixed by the first page of a listing, so paging sees one moment.
    pub now: i64,
    pub today: Date,
}

/// Every condition a listed task meets (AND).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskFilter {
    pub completed: Option<bool>,
    /// Any of these; sorted, no repeats.
    pub priorities: Vec<Priority>,
    /// Every one of these tag keys; sorted, no repeats.
    pub tags: Vec<String>,
    /// Every term must start a word of the title or the description (lower case, letters and
    /// digits only).
    pub terms: Vec<String>,
    pub due_from: Option<Date>,
    pub due_to: Option<Date>,
    pub has_due: Option<bool>,
    pub overdue: Option<Overdue>,
    /// `Some(None)`: the inbox (tasks in no list).
    pub list: Option<Option<ListId>>,
    /// `Some(None)`: top-level tasks only.
    pub parent: Option<Option<TaskId>>,
}

impl TaskFilter {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Resume after the task `id` whose sort value is `value`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cursor {
    pub id: TaskId,
    pub value: SortValue,
}

/// One validated list request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskQuery {
    pub filter: TaskFilter,
    pub sort: Sort,
    pub limit: u32,
    pub after: Option<Cursor>,
    /// The filter and sort as canonical query parameters (no limit or cursor): what a `Link`
    /// carries and what a cursor is bound to.
    pub canonical: String,
}

/// Documents the parameters of `GET /tasks` (the handler parses them with [`TaskQuery::parse`],
/// which takes repeated `priority` and `tag`).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListQuery {
    /// Page size, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The opaque cursor from a previous page's `Link: rel="next"`; only valid with the same
    /// filters and sort.
    pub cursor: Option<String>,
    /// `true`: completed tasks only; `false`: open ones.
    pub completed: Option<bool>,
    /// `none`, `low`, `medium` or `high`; repeat for any of several.
    pub priority: Option<Vec<Priority>>,
    /// A tag name (any case); repeat for tasks that have every one.
    #[param(value_type = Option<Vec<String>>)]
    pub tag: Option<Vec<String>>,
    /// Search: every whitespace-separated term starts a word of the title or description.
    #[param(example = "mil buy")]
    pub q: Option<String>,
    /// `YYYY-MM-DD`: the due's (local) date is on or after it.
    #[param(format = Date, example = "2026-12-01")]
    pub due_from: Option<String>,
    /// `YYYY-MM-DD`: the due's (local) date is on or before it.
    #[param(format = Date, example = "2026-12-31")]
    pub due_to: Option<String>,
    /// `true`: tasks with a due; `false`: without.
    pub has_due: Option<bool>,
    /// `true`: open tasks whose due has passed; `false`: all others.
    pub overdue: Option<bool>,
    /// A list's id: its tasks; `inbox`: tasks in no list.
    #[param(example = "inbox")]
    pub list: Option<String>,
    /// A task's id: its subtasks (one level down); `none`: top-level tasks only.
    #[param(example = "none")]
    pub parent: Option<String>,
    /// The IANA zone whose "today" decides when an all-day due is overdue (default UTC).
    #[param(example = "Europe/Berlin")]
    pub tz: Option<String>,
    /// `created` (default), `updated`, `due`, `priority` or `title`.
    #[param(inline)]
    pub sort: Option<SortParam>,
    /// `asc` or `desc` (default `desc`). Tasks without a due come last either way.
    #[param(inline)]
    pub order: Option<OrderParam>,
}

/// The values of `sort=`, for the document.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum SortParam {
    Created,
    Updated,
    Due,
    Priority,
    Title,
}

/// The values of `order=`, for the document.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum OrderParam {
    Asc,
    Desc,
}

/// The query string's pairs, percent-decoded (`+` is a space).
fn pairs(raw: &str) -> Result<Vec<(String, String)>, Invalid> {
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |text: &str| {
                percent_encoding::percent_decode_str(&text.replace('+', " "))
                    .decode_utf8()
                    .map(|text| text.into_owned())
                    .map_err(|_| Invalid::field("query", "must be UTF-8 once percent-decoded"))
            };
            Ok((decode(name)?, decode(value)?))
        })
        .collect()
}

/// The value of the one parameter a request takes (`None` when it is absent); any other
/// parameter, or this one twice, is refused.
pub fn only_parameter(raw: Option<&str>, name: &str) -> Result<Option<String>, Invalid> {
    let mut found = None;
    for (key, value) in pairs(raw.unwrap_or(""))? {
        if key != name {
            return Err(Invalid::field(&key, "is not a parameter of this request"));
        }
        if found.replace(value).is_some() {
            return Err(Invalid::field(name, "must be given once"));
        }
    }
    Ok(found)
}

fn boolean(name: &str, value: &str) -> Result<bool, Invalid> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(Invalid::field(name, "must be true or false")),
    }
}

fn date(name: &str, value: &str) -> Result<Date, Invalid> {
    parse_date(value).map_err(|message| Invalid::field(name, message))
}

/// Words as both backends' full-text indexes cut them: runs of letters and digits, lower case.
pub fn search_terms(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|term| !term.is_empty())
        .map(str::to_lowercase)
        .collect()
}

impl TaskQuery {
    /// Parses the raw query string at the Unix second `now`. Anything unknown, repeated where it
    /// may not be, or malformed is refused, naming the parameter.
    pub fn parse(raw: Option<&str>, now: i64) -> Result<Self, Invalid> {
        let mut filter = TaskFilter::default();
        let (mut sort, mut order) = (None, None);
        let (mut limit, mut cursor, mut overdue, mut zone) = (None, None, None, None);
        let mut seen: Vec<String> = Vec::new();
        for (name, value) in pairs(raw.unwrap_or(""))? {
            let repeatable = matches!(name.as_str(), "priority" | "tag");
            if !repeatable && seen.contains(&name) {
                return Err(Invalid::field(&name, "must be given once"));
            }
            seen.push(name.clone());
            match name.as_str() {
                "limit" => {
                    limit = Some(
                        value
                            .parse::<u32>()
                            .ok()
                            .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
                            .ok_or_else(|| Invalid::field("limit", "must be between 1 and 500"))?,
                    )
                }
                "cursor" => cursor = Some(value),
                "completed" => filter.completed = Some(boolean(&name, &value)?),
                "priority" => filter.priorities.push(Priority::parse(&value).ok_or_else(|| {
                    Invalid::field("priority", "must be none, low, medium or high")
                })?),
                "tag" => {
                    if filter.tags.len() == MAX_QUERY_TAGS {
                        return Err(Invalid::field("tag", "may be given at most 20 times"));
                    }
                    filter.tags.push(TagName::parse(&value, "tag")?.key)
                }
                "q" => {
                    filter.terms = search_terms(&value);
                    if filter.terms.is_empty() && !value.trim().is_empty() {
                        return Err(Invalid::field("q", "must contain a letter or a digit"));
                    }
                    if filter.terms.len() > MAX_TERMS || value.chars().count() > 200 {
                        return Err(Invalid::field(
                            "q",
                            "must be at most 10 terms and 200 characters",
                        ));
                    }
                }
                "due_from" => filter.due_from = Some(date(&name, &value)?),
                "due_to" => filter.due_to = Some(date(&name, &value)?),
                "has_due" => filter.has_due = Some(boolean(&name, &value)?),
                "overdue" => overdue = Some(boolean(&name, &value)?),
                "list" => {
                    filter.list =
                        Some(match value.as_str() {
                            "inbox" => None,
                            id => Some(ListId::parse(id, "list").map_err(|_| {
                                Invalid::field("list", "must be a list id or inbox")
                            })?),
                        })
                }
                "parent" => {
                    filter.parent =
                        Some(match value.as_str() {
                            "none" => None,
                            id => Some(TaskId::parse(id).map_err(|_| {
                                Invalid::field("parent", "must be a task id or none")
                            })?),
                        })
                }
                "tz" => {
                    zone =
                        Some(parse_zone(&value).map_err(|message| Invalid::field("tz", message))?)
                }
                "sort" => {
                    sort = Some(
                        SortKey::NAMES
                            .iter()
                            .find(|(known, _)| *known == value)
                            .map(|(_, key)| *key)
                            .ok_or_else(|| {
                                Invalid::field(
                                    "sort",
                                    "must be created, updated, due, priority or title",
                                )
                            })?,
                    )
                }
                "order" => {
                    order = Some(match value.as_str() {
                        "asc" => false,
                        "desc" => true,
                        _ => return Err(Invalid::field("order", "must be asc or desc")),
                    })
                }
                _ => return Err(Invalid::field(&name, "is not a parameter of this list")),
            }
        }
        filter.priorities.sort();
        filter.priorities.dedup();
        filter.tags.sort();
        filter.tags.dedup();
        let sort =
            Sort { key: sort.unwrap_or(SortKey::Created), descending: order.unwrap_or(true) };
        let canonical =
            canonical(&filter, sort, overdue, zone.as_ref().map(|(_, name)| name.as_str()));
        let after = cursor.map(|raw| decode_cursor(&raw, &canonical)).transpose()?;
        if let Some(wanted) = overdue {
            let now = after.as_ref().and_then(|(_, at)| *at).unwrap_or(now);
            let zone = zone.map_or(jiff::tz::TimeZone::UTC, |(zone, _)| zone);
            filter.overdue = Some(Overdue { wanted, now, today: today_in(&zone, now) });
        }
        Ok(Self {
            filter,
            sort,
            limit: limit.unwrap_or(DEFAULT_PAGE_SIZE),
            after: after.map(|(cursor, _)| cursor),
            canonical,
        })
    }

    /// The first page of the default list (newest first, no filter) of `limit` tasks.
    pub fn newest(limit: u32) -> Self {
        Self {
            filter: TaskFilter::default(),
            sort: Sort::default(),
            limit,
            after: None,
            canonical: String::new(),
        }
    }

    /// The default list, newest first and unfiltered: the one whose pages are cached.
    pub fn is_default_list(&self) -> bool {
        self.canonical.is_empty()
    }

    /// The cursor that resumes this listing after `last`.
    pub fn cursor_after(&self, last: &Task) -> String {
        let at = self.filter.overdue.as_ref().map(|overdue| overdue.now);
        let body = serde_json::json!([
            fingerprint(&self.canonical),
            last.id,
            self.sort.value_of(last),
            at
        ]);
        URL_SAFE_NO_PAD.encode(body.to_string())
    }
}

/// The filter and sort as query parameters in one fixed order, defaults left out.
fn canonical(filter: &TaskFilter, sort: Sort, overdue: Option<bool>, zone: Option<&str>) -> String {
    let mut out = String::new();
    let mut add = |name: &str, value: &str| {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.extend(percent_encoding::utf8_percent_encode(value, QUERY_VALUE).map(str::to_owned));
    };
    if let Some(completed) = filter.completed {
        add("completed", if completed { "true" } else { "false" });
    }
    for priority in &filter.priorities {
        add("priority", priority.as_str());
    }
    for tag in &filter.tags {
        add("tag", tag);
    }
    if !filter.terms.is_empty() {
        add("q", &filter.terms.join(" "));
    }
    if let Some(from) = filter.due_from {
        add("due_from", &from.to_string());
    }
    if let Some(to) = filter.due_to {
        add("due_to", &to.to_string());
    }
    if let Some(has_due) = filter.has_due {
        add("has_due", if has_due { "true" } else { "false" });
    }
    if let Some(list) = filter.list {
        add("list", &list.map_or_else(|| "inbox".to_owned(), |id| id.to_string()));
    }
    if let Some(parent) = filter.parent {
        add("parent", &parent.map_or_else(|| "none".to_owned(), |id| id.to_string()));
    }
    if let Some(overdue) = overdue {
        add("overdue", if overdue { "true" } else { "false" });
        if let Some(zone) = zone {
            add("tz", zone);
        }
    }
    if sort != Sort::default() {
        add("sort", sort.key.name());
        add("order", if sort.descending { "desc" } else { "asc" });
    }
    out
}

/// Everything but unreserved characters is escaped in a value.
const QUERY_VALUE: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

fn fingerprint(canonical: &str) -> String {
    let hash = Sha256::digest(canonical.as_bytes());
    URL_SAFE_NO_PAD.encode(&hash[..9])
}

/// A cursor, and the moment its listing was first read, if it is bound to one.
fn decode_cursor(raw: &str, canonical: &str) -> Result<(Cursor, Option<i64>), Invalid> {
    let not_ours = || Invalid::field("cursor", "is not a cursor this service issued");
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| not_ours())?;
    // Cursors of earlier releases: a bare task id, for the default list.
    if bytes.len() == 16 {
        let id = TaskId::from_cursor(raw)?;
        return match canonical.is_empty() {
            true => Ok((Cursor { id, value: SortValue::Nothing }, None)),
            false => Err(other_listing()),
        };
    }
    let (bound_to, id, value, at): (String, TaskId, SortValue, Option<i64>) =
        serde_json::from_slice(&bytes).map_err(|_| not_ours())?;
    if bound_to != fingerprint(canonical) {
        return Err(other_listing());
    }
    Ok((Cursor { id, value }, at))
}

fn other_listing() -> Invalid {
    Invalid::field("cursor", "was issued for other filters or another sort; start again without it")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<TaskQuery, Invalid> {
        TaskQuery::parse(Some(raw), 1_800_000_000)
    }

    fn refused(raw: &str) -> String {
        parse(raw).expect_err(raw).0[0].field.clone()
    }

    #[test]
    fn the_default_list_has_no_canonical_parameters() {
        for raw in ["", "limit=5", "sort=created&order=desc", "sort=created"] {
            assert!(parse(raw).unwrap().is_default_list(), "{raw}");
        }
        assert!(!parse("order=asc").unwrap().is_default_list());
    }

    #[test]
    fn parameters_combine_and_normalise() {
        let query = parse(
            "tag=Work&tag=home&tag=WORK&priority=high&priority=low&q=Mil+buy&sort=due&order=asc",
        )
        .unwrap();
        assert_eq!(query.filter.tags, ["home", "work"]);
        assert_eq!(query.filter.priorities, [Priority::Low, Priority::High]);
        assert_eq!(query.filter.terms, ["mil", "buy"]);
        assert_eq!(query.sort, Sort { key: SortKey::Due, descending: false });
        assert_eq!(
            query.canonical,
            "priority=low&priority=high&tag=home&tag=work&q=mil%20buy&sort=due&order=asc"
        );
    }

    #[test]
    fn bad_parameters_are_named() {
        for (raw, field) in [
            ("colour=red", "colour"),
            ("priority=urgent", "priority"),
            ("due_from=2026-13-01", "due_from"),
            ("due_to=tomorrow", "due_to"),
            ("tz=Mars/Base", "tz"),
            ("sort=size", "sort"),
            ("order=up", "order"),
            ("completed=yes", "completed"),
            ("limit=0", "limit"),
            ("limit=1&limit=2", "limit"),
            ("q=%21%21", "q"),
            ("tag=", "tag"),
            ("cursor=abc", "cursor"),
            ("tag=a&".repeat(21).as_str(), "tag"),
        ] {
            assert_eq!(refused(raw), field, "{raw}");
        }
    }

    #[test]
    fn a_cursor_is_bound_to_its_filter_and_sort_and_moment() {
        let query = parse("overdue=true&tz=Europe/Berlin&sort=title").unwrap();
        let task: Task = serde_json::from_value(serde_json::json!({
            "id": "01937f6c-3c5e-7a3b-9d61-2a4f0c1e5b7d", "user_id": "u", "title": "Buy Milk",
            "description": null, "completed": false, "completed_at": null,
            "created_at": "2026-11-21T09:00:00Z", "updated_at": "2026-11-21T09:00:00Z"
        }))
        .unwrap();
        let cursor = query.cursor_after(&task);
        let next = TaskQuery::parse(
            Some(&format!("overdue=true&tz=Europe/Berlin&sort=title&cursor={cursor}")),
            1_900_000_000,
        )
        .unwrap();
        assert_eq!(next.after.unwrap().value, SortValue::Text("buy milk".into()));
        assert_eq!(next.filter.overdue.unwrap().now, 1_800_000_000, "the first page's moment");
        assert_eq!(refused(&format!("sort=title&cursor={cursor}")), "cursor");
        assert_eq!(refused(&format!("overdue=true&tz=Europe/Berlin&cursor={cursor}")), "cursor");
    }

    #[test]
    fn an_earlier_release_cursor_works_on_the_default_list_only() {
        let id = TaskId::new();
        let old = id.to_cursor();
        assert_eq!(parse(&format!("cursor={old}")).unwrap().after.unwrap().id, id);
        assert_eq!(refused(&format!("sort=title&cursor={old}")), "cursor");
    }

    #[test]
    fn search_terms_are_words_in_lower_case() {
        assert_eq!(search_terms("  Buy  e-mail, MILK! "), ["buy", "e", "mail", "milk"]);
    }
}
