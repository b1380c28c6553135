//! HTTP handlers for `/api/{user_id}/tasks`: parse input into domain types, call the store, answer.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::conditions::{IfMatch, IfNoneMatch, etag_value, not_modified, precondition_failed};
use crate::domain::tasks::idempotency::IdempotencyKey;
use crate::domain::tasks::query::{ListQuery, only_parameter};
use crate::domain::tasks::{
    Completion, CompletionInput, Expected, Invalid, Task, TaskDraft, TaskInput, TaskPage,
    TaskQuery, patch,
};
use crate::http::body::{JsonBody, OptionalJsonBody, TaskIdParam, from_value, path_segment};
use crate::http::error::{ApiError, ErrorCode};
use crate::http::extract::ScopedUser;
use crate::store::{CreateOutcome, DynTaskStore, Guarded};

/// A constant, so the name is not parsed again on every list request.
const TOTAL_COUNT: HeaderName = HeaderName::from_static("x-total-count");

/// How often a PATCH without `If-Match` reads the task again after a concurrent write changed
/// it between its read and its write.
const PATCH_ATTEMPTS: usize = 5;

fn tasks_url(user: &ScopedUser) -> String {
    format!("/api/{}/tasks", path_segment(user.user.subject()))
}

fn header_value(value: &str) -> Result<HeaderValue, ApiError> {
    HeaderValue::from_str(value).map_err(|e| ApiError::internal(&e))
}

/// One task as JSON with its `ETag`.
fn task_response(status: StatusCode, task: Task) -> Result<Response, ApiError> {
    let etag = etag_value(&task.etag())?;
    Ok((status, [(header::ETAG, etag)], Json(task)).into_response())
}

/// A written task, or why it was not.
fn guarded(outcome: Guarded<Task>) -> Result<Response, ApiError> {
    match outcome {
        Guarded::Done(task) => task_response(StatusCode::OK, task),
        Guarded::Missing => Err(ApiError::not_found()),
        Guarded::Conflict { current } => Ok(precondition_failed(current)),
    }
}

/// A list's `ETag`: the owner's list version and the query (every write changes the version),
/// hashed with FNV-1a, which every instance computes alike and which costs the default list
/// next to nothing. Lists that depend on the clock (`overdue`) are tagged by their content
/// instead (SHA-256 of the page).
fn list_etag(version: u64, query: &TaskQuery, page: Option<&TaskPage>) -> String {
    let mut query_hash = Fnv::default();
    query_hash.write(query.canonical.as_bytes());
    query_hash.write(&query.limit.to_be_bytes());
    if let Some(after) = &query.after {
        query_hash.write(after.id.as_uuid().as_bytes());
    }
    match page {
        None => format!("\"{version}.{:x}\"", query_hash.0),
        Some(page) => {
            let mut hash = Sha256::new();
            hash.update(page.json());
            hash.update(page.total.to_be_bytes());
            hash.update([u8::from(page.more)]);
            hash.update(query_hash.0.to_be_bytes());
            format!("\"{}\"", URL_SAFE_NO_PAD.encode(&hash.finalize()[..12]))
        }
    }
}

/// FNV-1a, 64 bits.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// List the user's tasks: filtered, sorted and paged.
#[utoipa::path(
    get, path = "/api/{user_id}/tasks", tag = "tasks",
    params(("user_id" = String, Path, description = "Must be the token's user id"), ListQuery,
        ("If-None-Match" = Option<String>, Header, description = "A list `ETag` from an earlier answer: 304 when the list is unchanged")),
    responses(
        (status = 200, description = "A page of the tasks that match, in the order asked (default: newest first)", body = [Task], headers(
            ("X-Total-Count" = u64, description = "How many tasks match the filters in all"),
            ("Link" = String, description = "`<url>; rel=\"next\"` when another page follows; it carries the same filters and sort"),
            ("ETag" = String, description = "Changes whenever the list would"),
        )),
        (status = 304, description = "Unchanged since the `ETag` given in `If-None-Match`"),
        (status = 401, response = crate::http::responses::Unauthorized),
        (status = 403, response = crate::http::responses::Forbidden),
        (status = 422, response = crate::http::responses::InvalidListQuery),
        (status = 429, response = crate::http::responses::TooManyRequests),
        (status = 503, response = crate::http::responses::ServiceUnavailable),
    ),
    security(("BearerAuth" = []))
)]
pub async fn list_tasks(
    user: ScopedUser,
    State(store): State<DynTaskStore>,
    RawQuery(raw): RawQuery,
    cached: IfNoneMatch,
) -> Result<Response, ApiError> {
    let query = TaskQuery::parse(raw.as_deref(), crate::ground::clock::unix_now())?;
    let by_content = query.filter.overdue.is_some();
    if cached.is_present() && !by_content {
        let etag = list_etag(store.list_version(&user.user).await?, &query, None);
        if cached.matches(&etag) {
            return not_modified(&etag);
        }
    }
    let found = store.list(&user.user, &query).await?;
    let etag = list_etag(found.version, &query, by_content.then_some(&*found));
    if cached.matches(&etag) {
        return not_modified(&etag);
    }
    let mut response = crate::http::edge::json_response(found.json());
    let headers = response.headers_mut();
    headers.insert(TOTAL_COUNT, HeaderValue::from(found.total));
    headers.insert(header::ETAG, etag_value(&etag)?);
    if let (true, Some(last)) = (found.more, found.tasks.last()) {
        let filters = match query.canonical.as_str() {
            "" => String::new(),
            canonical => format!("{canonical}&"),
        };
        let link = format!(
            "<{}?{filters}limit={}&cursor={}>; rel=\"next\"",
            tasks_url(&user),
            query.limit,
            query.cursor_after(last)
        );
        headers.insert(header::LINK, header_value(&link)?);
    }
    Ok(response)
}

/// Create a task.
#[utoipa::path(
    post, path = "/api/{user_id}/tasks", tag = "tasks",
    params(
        ("user_id" = String, Path, description = "Must be the token's user id"),
        crate::http::responses::IdempotencyKeyHeader,
    ),
    request_body = TaskInput,
    responses(
        (status = 201, description = "Created", body = Task, headers(("Location" = String, description = "The new task's URL"), ("ETag" = String, description = "The task's version, quoted"))),
        (status = 400, response = crate::http::responses::BadRequest),
        (status = 401, response = crate::http::responses::Unauthorized),
        (status = 403, response = crate::http::responses::Forbidden),
        (status = 409, response = crate::http::responses::TaskLimitReached),
        (status = 413, response = crate::http::responses::PayloadTooLarge),
        (status = 415, response = crate::http::responses::UnsupportedMediaType),
        (status = 422, response = crate::http::responses::InvalidNewTask),
        (status = 429, response = crate::http::responses::TooManyRequests),
        (status = 503, response = crate::http::responses::ServiceUnavailable),
    ),
    security(("BearerAuth" = []))
)]
pub async fn create_task(
    user: ScopedUser,
    State(store): State<DynTaskStore>,
    key: Option<IdempotencyKey>,
    JsonBody(input): JsonBody<TaskInput>,
) -> Result<Response, ApiError> {
    let draft = TaskDraft::try_from(input)?;
    let (task, replayed) = match key {
        None => (store.create(&user.user, draft).await?, false),
        Some(key) => match store.create_once(&user.user, draft, &key).await? {
            CreateOutcome::Created(task) => (task, false),
            CreateOutcome::Replayed(task) => (task, true),
            CreateOutcome::KeyReused => return Err(ErrorCode::IdempotencyKeyReused.into()),
        },
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::LOCATION, header_value(&format!("{}/{}", tasks_url(&user), task.id))?);
    if replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok((headers, task_response(StatusCode::CREATED, task)?).into_response())
}

/// Fetch one task.
#[utoipa::path(
    get, path = "/api/{user_id}/tasks/{id}", tag = "tasks",
    params(("user_id" = String, Path, description = "Must be the token's user id"), ("id" = String, Path, description = "Task id (UUID)"),
        ("If-None-Match" = Option<String>, Header, description = "The task's `ETag` as the client has it: 304 when unchanged")),
    responses(
        (status = 200, description = "The task", body = Task, headers(("ETag" = String, description = "The task's version, quoted"))),
        (status = 304, description = "Unchanged since the `ETag` given in `If-None-Match`"),
        (status = 401, response = crate::http::responses::Unauthorized),
        (status = 403, response = crate::http::responses::Forbidden),
        (status = 404, response = crate::http::responses::NotFound),
        (status = 422, response = crate::http::responses::InvalidTaskId),
        (status = 429, response = crate::http::responses::TooManyRequests),
        (status = 503, response = crate::http::responses::ServiceUnavailable),
    ),
    security(("BearerAuth" = []))
)]
pub async fn get_task(
    user: ScopedUser,
    TaskIdParam(id): TaskIdParam,
    State(store): State<DynTaskStore>,
    cached: IfNoneMatch,
) -> Result<Response, ApiError> {
    let task = store.get(&user.user, id).await?.ok_or_else(ApiError::not_found)?;
    match cached.matches(&task.etag()) {
        true => not_modified(&task.etag()),
        false => task_response(StatusCode::OK, task),
    }
}

/// Replace everything a client sets of a task: an omitted field takes its default.
#[utoipa::path(
    put, path = "/api/{user_id}/tasks/{id}", tag = "tasks",
    params(("user_id" = String, Path, description = "Must be the token's user id"), ("id" = String, Path, description = "Task id (UUID)"), ("If-Match" = Option<String>, Header, description = "The task's `ETag` as the client read it (or `*`): 412 when it has changed since")),
    request_body = TaskInput,
    responses(
        (status = 200, description = "The task as replaced (unchanged, with its version, when the body changes nothing)", body = Task, headers(("ETag" = String, description = "The task's version, quoted"))),
        (status = 400, response = crate::http::responses::BadRequest),
        (status = 401, response = crate::http::responses::Unauthorized),
        (status = 403, response = crate::http::responses::Forbidden),
        (status = 404, response = crate::http::responses::NotFound),
        (status = 413, response = crate::http::responses::PayloadTooLarge),
        (status = 415, response = crate::http::responses::UnsupportedMediaType),
        (status = 409, response = crate::http::responses::TagLimitReached),
        (status = 412, response = crate::http::responses::PreconditionFailed),
        (status = 422, response = crate::http::responses::InvalidTask),
        (status = 429, response = crate::http::responses::TooManyRequests),
        (status = 503, response = crate::http::responses::ServiceUnavailable),
    ),
    security(("BearerAuth" = []))
)]
pub async fn replace_task(
    user: ScopedUser,
    TaskIdParam(id): TaskIdParam,
    State(store): State<DynTaskStore>,
    IfMatch(expected): IfMatch,
    JsonBody(input): JsonBody<TaskInput>,
) -> Result<Response, ApiError> {
    let draft = TaskDraft::try_from(input)?;
    guarded(store.replace(&user.user, id, draft, expected).await?)
}

/// Change some fields of a task: a JSON merge patch (RFC 7396). A member set to null resets its
/// field (`description`, `due` to null, `priority` to none, `tags` to none); `due` merges member
/// by member; `{}` changes nothing.
#[utoipa::path(
    patch, path = "/api/{user_id}/tasks/{id}", tag = "tasks",
    params(("user_id" = String, Path, description = "Must be the token's user id"), ("id" = String, Path, description = "Task id (UUID)"), ("If-Match" = Option<String>, Header, description = "The task's `ETag` as the client read it (or `*`): 412 when it has changed since")),
    request_body(content = serde_json::Value, content_type = "application/merge-patch+json", description = "Any of `title`, `description`, `completed`, `priority`, `tags`, `due`, `list_id`, `parent_id` (a `parent_id` without `list_id` moves the task to its parent's list); `application/json` is accepted too",
        example = json!({"priority": "high", "due": {"date": "2026-12-31"}})),
    responses(
        (status = 200, description = "The task as patched (unchanged, with its version, when the patch changes nothing)", body = Task, headers(("ETag" = String, description = "The task's version, quoted"))),
        (status = 400, response = crate::http::responses::BadRequest),
        (status = 401, response = crate::http::responses::Unauthorized),
        (status = 403, response = crate::http::responses::Forbidden),
        (status = 404, response = crate::http::responses::NotFound),
        (status = 409, response = crate::http::responses::TagLimitReached),
        (status = 412, response = crate::http::responses::PreconditionFailed),
        (status = 413, response = crate::http::responses::PayloadTooLarge),
        (status = 415, response = crate::http::responses::UnsupportedMediaType),
        (status = 422, response = crate::http::responses::InvalidPatch),
        (status = 429, response = crate::http::responses::TooManyRequests),
        (status = 503, response = crate::http::responses::ServiceUnavailable),
    ),
    security(("BearerAuth" = []))
)]
pub async fn patch_task(
    user: ScopedUser,
    TaskIdParam(id): TaskIdParam,
    State(store): State<DynTaskStore>,
    IfMatch(expected): IfMatch,
    JsonBody(members): JsonBody<serde_json::Map<String, serde_json::Value>>,
) -> Result<Response, ApiError> {
    // Read, merge, and write only if the task is still the version read: a concurrent write in
    // between makes this one start over (or, under `If-Match`, fail), never overwrite it.
    for _ in 0..PATCH_ATTEMPTS {
        let task = store.get(&user.user, id).await?.ok_or_else(ApiError::not_found)?;
        if !expected.admits(task.version) {
            return Ok(precondition_failed(task.version));
        }
        let draft = TaskDraft::try_from(from_value::<TaskInput>(patch::merge_into(
            &task,
            members.clone(),
        )?)?)?;
        match store.replace(&user.user, id, draft, Expected::version(task.version)).await? {
            Guarded::Conflict { current } if !expected.is_any() => {
                return Ok(precondition_failed(current));
            }
            Guarded::Conflict { .. } => continue,
            outcome => return guarded(outcome),
        }
    }
    Err(ApiError::with_detail(
        ErrorCode::ServiceUnavailable,
        "The task kept changing while this patch was applied; retry",
    ))
}

/// Delete a task.
#[utoipa::path(
    delete, path = "/api/{user_id}/tasks/{id}", tag = "tasks",
    params(("user_id" = String, Path, description = "Must be the token's user id"), ("id" = String, Path, description = "Task id (UUID)"), ("If-Match" = Option<String>, Header, description = "The task's `ETag` as the client read it (or `*`): 412 when it has changed since"), ("subtasks" = Option<String>, Query, description = "`delete`: delete the task's subtasks at every level with it (without it, a task with subtasks is a 409)")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, response = crate::http::responses::Unauthorized),
        (status = 403, response = crate::http::responses::Forbidden),
        (status = 404, response = crate::http::responses::NotFound),
        (status = 409, response = crate::http::responses::TaskHasSubtasks),
        (status = 412, response = crate::http::responses::PreconditionFailed),
        (status = 422, response = crate::http::responses::InvalidTaskId),
        (status = 429, response = crate::http::responses::TooManyRequests),
        (status = 503, response = crate::http::responses::ServiceUnavailable),
    ),
    security(("BearerAuth" = []))
)]
pub async fn delete_task(
    user: ScopedUser,
    TaskIdParam(id): TaskIdParam,
    State(store): State<DynTaskStore>,
    IfMatch(expected): IfMatch,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let with_subtasks = match only_parameter(raw.as_deref(), "subtasks")?.as_deref() {
        None => false,
        Some("delete") => true,
        Some(_) => return Err(Invalid::field("subtasks", "must be delete").into()),
    };
    match store.delete(&user.user, id, expected, with_subtasks).await? {
        Guarded::Done(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        Guarded::Missing => Err(ApiError::not_found()),
        Guarded::Conflict { current } => Ok(precondition_failed(current)),
    }
}

/// Toggle a task's completion, or set it with `{"completed": bool}`.
#[utoipa::path(
    patch, path = "/api/{user_id}/tasks/{id}/complete", tag = "tasks",
    params(("user_id" = String, Path, description = "Must be the token's user id"), ("id" = String, Path, description = "Task id (UUID)"), ("If-Match" = Option<String>, Header, description = "The task's `ETag` as the client read it (or `*`): 412 when it has changed since")),
    request_body(content = Option<CompletionInput>, description = "Optional: without a body the completion is toggled"),
    responses(
        (status = 200, description = "The task with its new completion", body = Task, headers(("ETag" = String, description = "The task's version, quoted"))),
        (status = 400, response = crate::http::responses::BadRequest),
        (status = 401, response = crate::http::responses::Unauthorized),
        (status = 403, response = crate::http::responses::Forbidden),
        (status = 404, response = crate::http::responses::NotFound),
        (status = 413, response = crate::http::responses::PayloadTooLarge),
        (status = 415, response = crate::http::responses::UnsupportedMediaType),
        (status = 412, response = crate::http::responses::PreconditionFailed),
        (status = 422, response = crate::http::responses::InvalidCompletion),
        (status = 429, response = crate::http::responses::TooManyRequests),
        (status = 503, response = crate::http::responses::ServiceUnavailable),
    ),
    security(("BearerAuth" = []))
)]
pub async fn complete_task(
    user: ScopedUser,
    TaskIdParam(id): TaskIdParam,
    State(store): State<DynTaskStore>,
    IfMatch(expected): IfMatch,
    OptionalJsonBody(input): OptionalJsonBody<CompletionInput>,
) -> Result<Response, ApiError> {
    let completion = input.map_or(Completion::Toggle, |input| Completion::Set(input.completed));
    guarded(store.set_completion(&user.user, id, completion, expected).await?)
}
