//! The task domain: what a task is, and the parsed, validated inputs that create or change one.
//! It speaks domain types and [`Invalid`] only; the HTTP edge turns a refusal into a 422.

pub mod due;
pub mod fields;
pub mod idempotency;
mod json;
pub mod patch;
pub mod query;
mod timestamp;
pub mod tree;

pub use due::{Due, DueInput};
pub use fields::{Priority, TagName, TagRename, TagSummary};
pub use query::{Cursor, ListQuery, Sort, SortKey, TaskFilter, TaskQuery};
pub use timestamp::Timestamp;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;

use crate::domain::lists::ListId;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::OnceLock;
use utoipa::ToSchema;
use uuid::Uuid;

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 1000;
pub const DEFAULT_PAGE_SIZE: u32 = 100;
pub const MAX_PAGE_SIZE: u32 = 500;
/// Subtasks nest at most this many levels, the top-level task included.
pub const MAX_LEVELS: usize = 4;

/// One problem with one field of an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub message: String,
}

/// An input the domain refuses, with every problem found in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub Vec<Problem>);

impl Invalid {
    /// One problem with one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self(vec![Problem { field: field.to_owned(), message: message.into() }])
    }
}

/// A task id: a UUIDv7, so ids sort in creation order. On the wire, its hyphenated form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TaskId(Uuid);

impl TaskId {
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        Uuid::try_parse(raw)
            .map(Self)
            .map_err(|_| Invalid::field("id", "must be a task id (a UUID)"))
    }

    pub fn as_uuid(self) -> Uuid {
        self.0
    }

    pub fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    /// The opaque cursor that resumes a listing after this task.
    pub fn to_cursor(self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.as_bytes())
    }

    pub fn from_cursor(cursor: &str) -> Result<Self, Invalid> {
        URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|bytes| Uuid::from_slice(&bytes).ok())
            .map(Self)
            .ok_or_else(|| Invalid::field("cursor", "is not a cursor this service issued"))
    }
}

impl Default for TaskId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.as_hyphenated().fmt(f)
    }
}

/// A task as stored and as served (and, for idempotent replays, stored as served).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Task {
    /// UUIDv7.
    #[schema(value_type = String, example = "01937f6c-3c5e-7a3b-9d61-2a4f0c1e5b7d")]
    pub id: TaskId,
    pub user_id: String,
    pub title: String,
    pub description: Option<String>,
    pub completed: bool,
    /// When the task was last marked completed; null while it is not.
    #[schema(value_type = Option<String>, format = DateTime, example = "2026-11-21T09:30:00.000000Z")]
    pub completed_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime, example = "2026-11-21T09:00:00.000000Z")]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime, example = "2026-11-21T09:30:00.000000Z")]
    pub updated_at: Timestamp,
    #[serde(default)]
    pub priority: Priority,
    /// The task's tags, each in the user's one spelling of it.
    #[serde(default)]
    #[schema(example = json!(["Work"]))]
    pub tags: Vec<String>,
    /// Null, all-day `{"date"}`, or timed `{"date", "time", "time_zone", "at"}`.
    #[serde(default)]
    #[schema(value_type = Option<DueInput>)]
    pub due: Option<Due>,
    /// The task's list; null: the inbox. A subtask is always in its parent's list.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = json!(null))]
    pub list_id: Option<ListId>,
    /// The task this one is a step of; null: a top-level task.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = json!(null))]
    pub parent_id: Option<TaskId>,
    /// 1 at creation, +1 with every change; the `ETag` is this number, quoted.
    #[serde(default = "first_version")]
    #[schema(example = 1)]
    pub version: u64,
}

fn first_version() -> u64 {
    1
}

/// The body of `POST /tasks` and `PUT /tasks/{id}`. On PUT every field is replaced: an omitted
/// field takes its default (`description` and `due` null, `completed` false, `priority` none,
/// `tags` empty).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
// What a person would send ("Try it out" starts from it): a new, open task.
#[schema(example = json!({ "title": "Buy milk" }))]
pub struct TaskInput {
    /// 1 to 200 characters after trimming surrounding white space.
    #[schema(example = "Buy milk")]
    pub title: String,
    /// At most 1000 characters; line breaks and tabs allowed.
    #[serde(default)]
    #[schema(example = "2 litres, semi-skimmed")]
    pub description: Option<String>,
    /// Defaults to false.
    #[serde(default)]
    #[schema(example = false)]
    pub completed: Option<bool>,
    /// `none` (the default), `low`, `medium` or `high`.
    #[serde(default)]
    pub priority: Option<Priority>,
    /// At most 20 names of 1 to 32 characters; a name the user already has (in any case) takes
    /// that spelling, and a later duplicate in the array is dropped.
    #[serde(default)]
    #[schema(example = json!(["Work", "errands"]))]
    pub tags: Option<Vec<String>>,
    /// Null (the default), all-day `{"date"}`, or timed `{"date", "time", "time_zone"}`.
    #[serde(default)]
    pub due: Option<DueInput>,
    /// One of the user's lists, or null: the inbox (the default). Omitted on a subtask, the
    /// parent's list; given, it must be the parent's.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, example = json!(null))]
    pub list_id: Option<Option<String>>,
    /// One of the user's tasks, or null (the default): a top-level task. At most 4 levels in all.
    #[serde(default)]
    #[schema(example = json!(null))]
    pub parent_id: Option<String>,
}

/// A member that is present, even as `null` (`Some(None)`), apart from one that is absent (`None`).
fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

/// The optional body of `PATCH /tasks/{id}/complete`: sets completion instead of toggling it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompletionInput {
    pub completed: bool,
}

/// A validated task input: all a client may set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskDraft {
    pub title: String,
    pub description: Option<String>,
    pub completed: bool,
    pub priority: Priority,
    pub tags: Vec<TagName>,
    pub due: Option<Due>,
    /// The list (`None`: the inbox), when `list_given`.
    pub list_id: Option<ListId>,
    /// Whether the input named a list; when not, a subtask takes its parent's and a top-level
    /// task goes to the inbox.
    pub list_given: bool,
    pub parent_id: Option<TaskId>,
}

impl TaskDraft {
    /// Whether writing this draft over `task` would change nothing a client can see (tags
    /// compare by key: the user's spelling of a tag is kept either way).
    pub fn same_as(&self, task: &Task) -> bool {
        self.title == task.title
            && self.description == task.description
            && self.completed == task.completed
            && self.priority == task.priority
            && self.due == task.due
            && (!self.list_given || self.list_id == task.list_id)
            && self.parent_id == task.parent_id
            && self.tags.len() == task.tags.len()
            && self.tags.iter().zip(&task.tags).all(|(tag, name)| tag.key == fields::fold(name))
    }
}

impl Task {
    /// The draft that leaves everything of the task as it is.
    pub fn to_draft(&self) -> TaskDraft {
        TaskDraft {
            title: self.title.clone(),
            description: self.description.clone(),
            completed: self.completed,
            priority: self.priority,
            tags: self
                .tags
                .iter()
                .map(|name| TagName { name: name.clone(), key: fields::fold(name) })
                .collect(),
            due: self.due.clone(),
            list_id: self.list_id,
            list_given: true,
            parent_id: self.parent_id,
        }
    }

    /// The draft of the task with `completion` applied.
    pub fn completed_as(&self, completion: Completion) -> TaskDraft {
        let completed = match completion {
            Completion::Toggle => !self.completed,
            Completion::Set(completed) => completed,
        };
        TaskDraft { completed, ..self.to_draft() }
    }

    /// The task as a client would send it back in full: what a merge patch applies to.
    pub fn to_input(&self) -> serde_json::Value {
        serde_json::json!({
            "title": self.title,
            "description": self.description,
            "completed": self.completed,
            "priority": self.priority,
            "tags": self.tags,
            "due": self.due.as_ref().map(Due::to_input),
            "list_id": self.list_id,
            "parent_id": self.parent_id,
        })
    }

    /// The strong entity tag of this version of the task.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

impl TryFrom<TaskInput> for TaskDraft {
    type Error = Invalid;

    fn try_from(input: TaskInput) -> Result<Self, Invalid> {
        let mut errors = Vec::new();
        let mut problem = |field: &str, message: &str| {
            errors.push(Problem { field: field.to_owned(), message: message.to_owned() })
        };
        let title = input.title.trim();
        let title_chars = title.chars().count();
        if title_chars == 0 {
            problem("title", "must not be empty");
        } else if title_chars > MAX_TITLE_CHARS {
            problem("title", "must be at most 200 characters");
        } else if let Err(message) = check_line(title) {
            problem("title", message);
        }
        if let Some(description) = &input.description {
            if description.chars().count() > MAX_DESCRIPTION_CHARS {
                problem("description", "must be at most 1000 characters");
            } else if description
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
            {
                problem(
                    "description",
                    "must not contain control characters other than line breaks and tabs",
                );
            } else if description.chars().any(is_bidi_control) {
                problem("description", BIDI_MESSAGE);
            }
        }
        let tags = fields::parse_tags(input.tags.as_deref().unwrap_or_default())
            .map_err(|Invalid(problems)| errors.extend(problems))
            .ok();
        let due = input
            .due
            .as_ref()
            .map(DueInput::resolve)
            .transpose()
            .map_err(|Invalid(problems)| errors.extend(problems))
            .ok()
            .flatten();
        let list_id = match input
            .list_id
            .as_ref()
            .map(|list| list.as_deref().map(|id| ListId::parse(id, "list_id")))
        {
            Some(Some(Err(Invalid(problems)))) => {
                errors.extend(problems);
                None
            }
            Some(Some(Ok(id))) => Some(id),
            _ => None,
        };
        let parent_id = match input.parent_id.as_deref().map(Uuid::try_parse) {
            Some(Err(_)) => {
                errors.push(Problem {
                    field: "parent_id".into(),
                    message: "must be a task id (a UUID)".into(),
                });
                None
            }
            Some(Ok(id)) => Some(TaskId(id)),
            None => None,
        };
        let (Some(tags), true) = (tags, errors.is_empty()) else {
            return Err(Invalid(errors));
        };
        Ok(Self {
            title: title.to_owned(),
            description: input.description,
            completed: input.completed.unwrap_or(false),
            priority: input.priority.unwrap_or_default(),
            tags,
            due,
            list_id,
            list_given: input.list_id.is_some(),
            parent_id,
        })
    }
}

/// The rules of a one-line name (a title, a tag): no control characters, something visible, no
/// bidirectional controls. The message says what is wrong.
pub(crate) fn check_line(text: &str) -> Result<(), &'static str> {
    if text.chars().any(char::is_control) {
        Err("must not contain control characters such as line breaks")
    } else if text.chars().all(is_invisible) {
        Err("must contain at least one visible character")
    } else if text.chars().any(is_bidi_control) {
        Err(BIDI_MESSAGE)
    } else {
        Ok(())
    }
}

/// Names the controls, so a client that pasted one in unknowingly can find it.
const BIDI_MESSAGE: &str = concat!(
    "must not contain bidirectional control characters ",
    "(U+200E, U+200F, U+061C, U+202A to U+202E, U+2066 to U+2069)"
);

/// Bidirectional formatting controls: they reorder how the text around them is displayed, so a
/// title could show one thing and say another (CVE-2021-42574, "Trojan Source").
pub(crate) fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// Code points that are drawn as nothing at all (Unicode's Default_Ignorable_Code_Point, from
/// DerivedCoreProperties.txt), plus fillers that are drawn as blank glyphs. A title made only of
/// these and white space would be an empty-looking line in every list.
const INVISIBLE: &[(char, char)] = &[
    ('\u{00AD}', '\u{00AD}'),   // soft hyphen
    ('\u{034F}', '\u{034F}'),   // combining grapheme joiner
    ('\u{061C}', '\u{061C}'),   // Arabic letter mark
    ('\u{115F}', '\u{1160}'),   // Hangul choseong and jungseong fillers
    ('\u{17B4}', '\u{17B5}'),   // Khmer inherent vowels
    ('\u{180B}', '\u{180F}'),   // Mongolian free variation selectors and vowel separator
    ('\u{200B}', '\u{200F}'),   // zero-width space, ZWNJ, ZWJ, LRM, RLM
    ('\u{202A}', '\u{202E}'),   // bidirectional embeddings and overrides
    ('\u{2060}', '\u{206F}'),   // word joiner, invisible operators, isolates, deprecated formats
    ('\u{2800}', '\u{2800}'),   // braille pattern blank (a blank glyph)
    ('\u{3164}', '\u{3164}'),   // Hangul filler
    ('\u{FE00}', '\u{FE0F}'),   // variation selectors 1-16
    ('\u{FEFF}', '\u{FEFF}'),   // zero-width no-break space (BOM)
    ('\u{FFA0}', '\u{FFA0}'),   // halfwidth Hangul filler
    ('\u{FFF0}', '\u{FFF8}'),   // unassigned, reserved as ignorable
    ('\u{1BCA0}', '\u{1BCA3}'), // shorthand format controls
    ('\u{1D159}', '\u{1D159}'), // musical symbol null notehead (a blank glyph)
    ('\u{1D173}', '\u{1D17A}'), // musical formatting controls
    ('\u{E0000}', '\u{E0FFF}'), // tags, variation selectors 17-256, reserved ignorables
];

/// Whether `c` shows nothing on its own: white space, controls, and the ranges above.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || INVISIBLE.iter().any(|&(first, last)| (first..=last).contains(&c))
}

/// What `PATCH .../complete` does to a task's completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    Toggle,
    Set(bool),
}

/// The versions a conditional write (`If-Match`) may apply to; `any` is no condition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected(Option<Vec<u64>>);

impl Expected {
    pub fn any() -> Self {
        Self(None)
    }

    pub fn one_of(versions: Vec<u64>) -> Self {
        Self(Some(versions))
    }

    pub fn version(version: u64) -> Self {
        Self(Some(vec![version]))
    }

    pub fn admits(&self, version: u64) -> bool {
        self.0.as_ref().is_none_or(|versions| versions.contains(&version))
    }

    pub fn is_any(&self) -> bool {
        self.0.is_none()
    }
}

/// A page of a user's tasks. Pages are immutable, so a cached page renders its JSON once and
/// every later response reuses the bytes.
#[derive(Debug)]
pub struct TaskPage {
    pub tasks: Vec<Task>,
    /// All of the user's tasks that match the query, not only this page's.
    pub total: u64,
    /// Whether more tasks follow this page.
    pub more: bool,
    /// The owner's list version this page was read under (the page cache keys pages by it).
    pub version: u64,
    json: OnceLock<Bytes>,
}

impl TaskPage {
    pub fn new(tasks: Vec<Task>, total: u64, more: bool, version: u64) -> Self {
        Self { tasks, total, more, version, json: OnceLock::new() }
    }

    /// The tasks as a JSON array.
    pub fn json(&self) -> Bytes {
        self.json.get_or_init(|| Bytes::from(json::tasks_to_json(&self.tasks))).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::IntoResponse;

    fn draft(title: &str, description: Option<&str>) -> Result<TaskDraft, Invalid> {
        TaskDraft::try_from(TaskInput {
            title: title.to_owned(),
            description: description.map(str::to_owned),
            completed: None,
            priority: None,
            tags: None,
            due: None,
            list_id: None,
            parent_id: None,
        })
    }

    /// The field errors of a refused input, as (field, message) pairs, read from the very body
    /// the client would get.
    fn refusal(title: &str, description: Option<&str>) -> Vec<(String, String)> {
        let refused = draft(title, description).expect_err("refused");
        let response = crate::http::error::ApiError::from(refused).into_response();
        assert_eq!(response.status(), 422);
        let bytes = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(axum::body::to_bytes(response.into_body(), usize::MAX))
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["error_code"], "VALIDATION_ERROR", "{body}");
        body["errors"]
            .as_array()
            .expect("field errors")
            .iter()
            .map(|e| {
                (e["field"].as_str().unwrap().to_owned(), e["message"].as_str().unwrap().to_owned())
            })
            .collect()
    }

    #[test]
    fn timestamps_are_utc_microseconds_whatever_they_were_made_from() {
        let at = time::macros::datetime!(2026-11-21 10:00:00.123456789 +01:00);
        let stamp = Timestamp::from_datetime(at);
        assert_eq!(stamp.to_string(), "2026-11-21T09:00:00.123456Z");
        assert_eq!(serde_json::to_value(stamp).unwrap(), "2026-11-21T09:00:00.123456Z");
        assert_eq!(Timestamp::parse("2026-11-21T10:00:00.123456789+01:00"), Some(stamp));
        let whole = Timestamp::from_datetime(time::macros::datetime!(2026-11-21 09:00:00.5 UTC));
        assert_eq!(whole.to_string(), "2026-11-21T09:00:00.5Z", "as served before it was typed");
        let back: Timestamp = serde_json::from_str("\"2026-11-21T09:00:00.5Z\"").unwrap();
        assert_eq!(back, whole);
        assert!(Timestamp::parse("yesterday").is_none());
    }

    #[test]
    fn a_title_of_only_invisible_characters_is_refused() {
        let invisible = [
            "\u{200B}",
            "\u{200C}\u{200D}",
            "\u{2060}\u{2061}\u{2062}\u{2063}\u{2064}",
            "\u{FEFF}",
            "\u{115F}",
            "\u{1160}",
            "\u{3164}",
            "\u{FFA0}",
            "\u{2800}",
            "\u{00AD}",
            "\u{034F}",
            "\u{180E}",
            "\u{FE0F}",
            "\u{E0100}",
            "\u{E0001}\u{E0041}\u{E007F}",
            "\u{200B}\u{3000}\u{00A0}\u{2007}\u{200B}",
            "\u{2028}\u{200B}",
        ];
        for title in invisible {
            let errors = refusal(title, None);
            assert_eq!(errors.len(), 1, "{title:?}: {errors:?}");
            assert_eq!(errors[0].0, "title", "{title:?}");
            assert!(
                errors[0].1.contains("visible") || errors[0].1.contains("empty"),
                "{title:?}: {}",
                errors[0].1
            );
        }
    }

    #[test]
    fn visible_text_with_invisible_joiners_stays_valid() {
        for title in ["👩\u{200D}💻 deploy", "👩\u{200D}💻", "❤\u{FE0F}", "a\u{00AD}b", "Straße"]
        {
            assert_eq!(draft(title, None).expect("valid").title, title);
        }
    }

    #[test]
    fn bidirectional_controls_are_refused_in_the_title() {
        for bidi in ['\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}']
            .into_iter()
            .chain(['\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{200E}', '\u{200F}'])
            .chain(['\u{061C}'])
        {
            let title = format!("invoice{bidi}fdp.exe");
            let errors = refusal(&title, None);
            assert_eq!(errors.len(), 1, "{title:?}: {errors:?}");
            assert_eq!(errors[0].0, "title");
            assert!(errors[0].1.contains("bidirectional"), "{}", errors[0].1);
        }
    }

    #[test]
    fn bidirectional_controls_are_refused_in_the_description_but_line_breaks_are_not() {
        let errors = refusal("ok", Some("pay \u{202E}0001\u{202C} now"));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].0, "description");
        assert!(errors[0].1.contains("bidirectional"), "{}", errors[0].1);
        let multi_line = "first line\nsecond line\r\n\tindented";
        assert_eq!(
            draft("ok", Some(multi_line)).expect("valid").description.as_deref(),
            Some(multi_line)
        );
    }

    #[test]
    fn control_characters_are_refused_in_the_description_but_line_breaks_and_tabs_are_not() {
        for control in ['\u{0}', '\u{7}', '\u{1b}', '\u{7f}', '\u{85}'] {
            let errors = refusal("ok", Some(&format!("a{control}b")));
            assert_eq!(errors[0].0, "description", "{control:?}");
        }
        let kept = "line one\r\nline two\tindented";
        assert_eq!(draft("ok", Some(kept)).expect("valid").description.as_deref(), Some(kept));
    }

    #[test]
    fn a_title_and_a_description_can_both_be_refused_at_once() {
        let fields: Vec<String> =
            refusal("\u{200B}", Some("\u{2067}x")).into_iter().map(|(field, _)| field).collect();
        assert_eq!(fields, ["title", "description"]);
    }
}
