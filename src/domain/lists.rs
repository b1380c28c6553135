//! Lists: a user's named groups of tasks ("Work", "Home", "Groceries"). A task is in one list or
//! in none (the inbox); a subtask is always in its parent's list.

use serde::{Deserialize, Serialize};
use std::fmt;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::tasks::fields::fold;
use crate::domain::tasks::{Invalid, Problem, Timestamp, check_line, is_bidi_control};

pub const MAX_LIST_NAME_CHARS: usize = 100;
/// The most lists one user may have.
pub const MAX_LISTS_PER_USER: u64 = 500;
/// Positions a client may give, either way from 0: room to reorder by halves for a long time,
/// and exact in every JSON client (under 2^53).
pub const MAX_POSITION: i64 = 1_000_000_000_000;

/// A list id: a UUIDv7, as task ids are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ListId(Uuid);

impl ListId {
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    /// `field` names the input in an error (`list_id`, `list`).
    pub fn parse(raw: &str, field: &str) -> Result<Self, Invalid> {
        Uuid::try_parse(raw)
            .map(Self)
            .map_err(|_| Invalid::field(field, "must be a list id (a UUID)"))
    }

    pub fn as_uuid(self) -> Uuid {
        self.0
    }

    pub fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }
}

impl Default for ListId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for ListId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.as_hyphenated().fmt(f)
    }
}

/// A list as stored and served, with how many tasks it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct List {
    #[schema(value_type = String, example = "01937f6c-3c5e-7a3b-9d61-2a4f0c1e5b7d")]
    pub id: ListId,
    #[schema(example = "Work")]
    pub name: String,
    /// `#rrggbb` (lower case), or null.
    #[schema(example = "#3366ff")]
    pub color: Option<String>,
    /// Lists are shown by position, then by name.
    #[schema(example = 1)]
    pub position: i64,
    /// Tasks in the list, completed or not.
    #[schema(example = 12)]
    pub tasks: u64,
    /// Tasks in the list not completed.
    #[schema(example = 5)]
    pub open: u64,
    /// 1 at creation, +1 with every change to the list itself (not to its counts).
    #[schema(example = 1)]
    pub version: u64,
    #[schema(value_type = String, format = DateTime, example = "2026-11-21T09:00:00.000000Z")]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime, example = "2026-11-21T09:30:00.000000Z")]
    pub updated_at: Timestamp,
}

impl List {
    /// The strong entity tag of this version of the list.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }

    /// The list as a client would send it back in full: what a merge patch applies to.
    pub fn to_input(&self) -> serde_json::Value {
        serde_json::json!({ "name": self.name, "color": self.color, "position": self.position })
    }
}

/// The body of `POST /lists` and `PUT /lists/{id}`; PUT replaces (an omitted `color` is null, an
/// omitted `position` puts the list after the last one).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "name": "Work", "color": "#3366ff" }))]
pub struct ListInput {
    /// 1 to 100 characters after trimming, with the title's character rules; unique per user,
    /// compared case-insensitively.
    #[schema(example = "Work")]
    pub name: String,
    /// `#rrggbb`, or null (the default).
    #[serde(default)]
    #[schema(example = "#3366ff")]
    pub color: Option<String>,
    /// An integer from -10^12 to 10^12; by default one past the last list's.
    #[serde(default)]
    #[schema(example = 1)]
    pub position: Option<i64>,
}

/// A validated list input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListDraft {
    pub name: String,
    /// The name's case folding: what uniqueness compares.
    pub key: String,
    pub color: Option<String>,
    /// `None`: after the last list.
    pub position: Option<i64>,
}

impl ListDraft {
    /// Whether writing this draft over `list` would change nothing a client can see.
    pub fn same_as(&self, list: &List) -> bool {
        self.name == list.name && self.color == list.color && self.position == Some(list.position)
    }
}

impl TryFrom<ListInput> for ListDraft {
    type Error = Invalid;

    fn try_from(input: ListInput) -> Result<Self, Invalid> {
        let mut problems = Vec::new();
        let mut problem = |field: &str, message: &str| {
            problems.push(Problem { field: field.to_owned(), message: message.to_owned() })
        };
        let name = input.name.trim();
        let chars = name.chars().count();
        if chars == 0 {
            problem("name", "must not be empty");
        } else if chars > MAX_LIST_NAME_CHARS {
            problem("name", "must be at most 100 characters");
        } else if let Err(message) = check_line(name) {
            problem("name", message);
        }
        let color = input.color.map(|color| color.to_ascii_lowercase());
        if color.as_deref().is_some_and(|color| !is_color(color)) {
            problem("color", "must be #rrggbb (six hexadecimal digits) or null");
        }
        if input.position.is_some_and(|position| position.abs() > MAX_POSITION) {
            problem("position", "must be an integer from -10^12 to 10^12");
        }
        if !problems.is_empty() {
            return Err(Invalid(problems));
        }
        Ok(Self { name: name.to_owned(), key: fold(name), color, position: input.position })
    }
}

fn is_color(text: &str) -> bool {
    text.len() == 7
        && text.starts_with('#')
        && text[1..].bytes().all(|b| b.is_ascii_hexdigit())
        && !text.chars().any(is_bidi_control)
}

/// What `DELETE /lists/{id}` does with the list's tasks (`?tasks=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListTasks {
    /// Nothing: a list with tasks is not deleted.
    #[default]
    Keep,
    /// Moved to the inbox.
    ToInbox,
    /// Deleted with the list.
    Delete,
}

impl ListTasks {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw {
            "inbox" => Ok(Self::ToInbox),
            "delete" => Ok(Self::Delete),
            _ => Err(Invalid::field("tasks", "must be inbox or delete")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(name: &str, color: Option<&str>, position: Option<i64>) -> Result<ListDraft, Invalid> {
        ListDraft::try_from(ListInput {
            name: name.into(),
            color: color.map(str::to_owned),
            position,
        })
    }

    #[test]
    fn a_list_input_is_checked_field_by_field() {
        let ok = draft("  Work ", Some("#3366FF"), Some(3)).unwrap();
        assert_eq!((ok.name.as_str(), ok.key.as_str()), ("Work", "work"));
        assert_eq!(ok.color.as_deref(), Some("#3366ff"));
        let fields = |result: Result<ListDraft, Invalid>| -> Vec<String> {
            result.unwrap_err().0.into_iter().map(|p| p.field).collect()
        };
        assert_eq!(fields(draft(" ", None, None)), ["name"]);
        assert_eq!(fields(draft(&"x".repeat(101), None, None)), ["name"]);
        assert_eq!(fields(draft("a\u{202E}b", None, None)), ["name"]);
        assert_eq!(
            fields(draft("ok", Some("#12345"), Some(MAX_POSITION + 1))),
            ["color", "position"]
        );
        for bad in ["red", "#ggg000", "#1234567", "123456#"] {
            assert_eq!(fields(draft("ok", Some(bad), None)), ["color"], "{bad}");
        }
        assert!(draft(&"é".repeat(100), None, Some(-MAX_POSITION)).is_ok());
    }

    #[test]
    fn delete_modes_parse() {
        assert_eq!(ListTasks::parse("inbox").unwrap(), ListTasks::ToInbox);
        assert_eq!(ListTasks::parse("delete").unwrap(), ListTasks::Delete);
        assert!(ListTasks::parse("Inbox").is_err());
    }
}
