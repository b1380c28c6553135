//! The task domain: what a task is, and the parsed, validated inputs that create or change one.

pub mod handlers;
pub mod idempotency;

use axum::body::Bytes;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::OnceLock;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::{ApiError, FieldError};

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 1000;
pub const DEFAULT_PAGE_SIZE: u32 = 100;
pub const MAX_PAGE_SIZE: u32 = 500;

/// A task id: a UUIDv7, so ids sort in creation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(Uuid);

impl TaskId {
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        Uuid::try_parse(raw)
            .map(Self)
            .map_err(|_| ApiError::invalid_field("id", "must be a task id (a UUID)"))
    }

    /// The opaque cursor that resumes a listing after this task.
    pub fn to_cursor(self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.as_bytes())
    }

    pub fn from_cursor(cursor: &str) -> Result<Self, ApiError> {
        URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|bytes| Uuid::from_slice(&bytes).ok())
            .map(Self)
            .ok_or_else(|| ApiError::invalid_field("cursor", "is not a cursor this service issued"))
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

/// Now, as the RFC 3339 UTC text every timestamp is stored and served as (microsecond precision).
pub fn timestamp_now() -> String {
    let now = OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(now.microsecond() * 1000).unwrap_or(now);
    now.format(&Rfc3339).unwrap_or_default()
}

/// A task as stored and as served (and, for idempotent replays, stored as served).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Task {
    /// UUIDv7.
    #[schema(example = "01937f6c-3c5e-7a3b-9d61-2a4f0c1e5b7d")]
    pub id: String,
    pub user_id: String,
    pub title: String,
    pub description: Option<String>,
    pub completed: bool,
    /// When the task was last marked completed; null while it is not.
    #[schema(example = "2026-11-21T09:30:00.000000Z")]
    pub completed_at: Option<String>,
    #[schema(example = "2026-11-21T09:00:00.000000Z")]
    pub created_at: String,
    #[schema(example = "2026-11-21T09:30:00.000000Z")]
    pub updated_at: String,
}

/// The body of `POST /tasks` and `PUT /tasks/{id}`. On PUT every field is replaced: an omitted
/// `description` becomes null and an omitted `completed` becomes false.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskInput {
    /// 1 to 200 characters after trimming surrounding white space.
    #[schema(example = "Buy milk")]
    pub title: String,
    /// At most 1000 characters.
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub completed: Option<bool>,
}

/// The optional body of `PATCH /tasks/{id}/complete`: sets completion instead of toggling it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompletionInput {
    pub completed: bool,
}

/// A validated title, description and completion: all a client may set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDraft {
    pub title: String,
    pub description: Option<String>,
    pub completed: bool,
}

impl TryFrom<TaskInput> for TaskDraft {
    type Error = ApiError;

    fn try_from(input: TaskInput) -> Result<Self, ApiError> {
        let mut errors = Vec::new();
        let mut problem = |field: &str, message: &str| {
            errors.push(FieldError { field: field.to_owned(), message: message.to_owned() })
        };
        let title = input.title.trim();
        let title_chars = title.chars().count();
        if title_chars == 0 {
            problem("title", "must not be empty");
        } else if title_chars > MAX_TITLE_CHARS {
            problem("title", "must be at most 200 characters");
        } else if title.chars().any(char::is_control) {
            problem("title", "must not contain control characters such as line breaks");
        }
        if let Some(description) = &input.description
            && description.chars().count() > MAX_DESCRIPTION_CHARS
        {
            problem("description", "must be at most 1000 characters");
        }
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        Ok(Self {
            title: title.to_owned(),
            description: input.description,
            completed: input.completed.unwrap_or(false),
        })
    }
}

/// What `PATCH .../complete` does to a task's completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    Toggle,
    Set(bool),
}

/// Query parameters of `GET /tasks`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page size, 1 to 500 (default 100).
    pub limit: Option<u32>,
    /// The opaque cursor from a previous page's `Link: rel="next"`.
    pub cursor: Option<String>,
}

/// One page request, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    /// List only tasks older than this one (the last of the previous page).
    pub after: Option<TaskId>,
}

impl TryFrom<ListQuery> for PageRequest {
    type Error = ApiError;

    fn try_from(query: ListQuery) -> Result<Self, ApiError> {
        let limit = query.limit.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&limit) {
            return Err(ApiError::invalid_field("limit", "must be between 1 and 500"));
        }
        let after = query.cursor.as_deref().map(TaskId::from_cursor).transpose()?;
        Ok(Self { limit, after })
    }
}

/// A page of a user's tasks, newest first. Pages are immutable, so a cached page renders its
/// JSON once and every later response reuses the bytes.
#[derive(Debug)]
pub struct TaskPage {
    pub tasks: Vec<Task>,
    /// All of the user's tasks, not only this page's.
    pub total: u64,
    /// Set when more tasks follow this page.
    pub next: Option<TaskId>,
    json: OnceLock<Bytes>,
}

impl TaskPage {
    pub fn new(tasks: Vec<Task>, total: u64, next: Option<TaskId>) -> Self {
        Self { tasks, total, next, json: OnceLock::new() }
    }

    /// The tasks as a JSON array.
    pub fn json(&self) -> Bytes {
        self.json
            .get_or_init(|| serde_json::to_vec(&self.tasks).map(Bytes::from).unwrap_or_default())
            .clone()
    }
}
