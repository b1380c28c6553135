//! HTTP handlers for `/api/{user_id}/tasks`: parse input into domain types, call the store, answer.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;

use crate::domain::tasks::idempotency::IdempotencyKey;
use crate::domain::tasks::{
    Completion, CompletionInput, ListQuery, PageRequest, Task, TaskDraft, TaskInput,
};
use crate::http::body::{JsonBody, OptionalJsonBody, TaskIdParam, ValidQuery, path_segment};
use crate::http::error::{ApiError, ErrorCode};
use crate::http::extract::ScopedUser;
use crate::store::{CreateOutcome, DynTaskStore};

/// A constant, so the name is not parsed again on every list request.
const TOTAL_COUNT: HeaderName = HeaderName::from_static("x-total-count");

fn tasks_url(user: &ScopedUser) -> String {
    format!("/api/{}/tasks", path_segment(user.user.subject()))
}

fn header_value(value: &str) -> Result<HeaderValue, ApiError> {
    HeaderValue::from_str(value).map_err(|e| ApiError::internal(&e))
}

/// List the user's tasks, newest first.
#[utoipa::path(
    get, path = "/api/{user_id}/tasks", tag = "tasks",
    params(("user_id" = String, Path, description = "Must be the token's user id"), ListQuery),
    responses(
        (status = 200, description = "A page of tasks, newest first", body = [Task], headers(
            ("X-Total-Count" = u64, description = "How many tasks the user has in all"),
            ("Link" = String, description = "`<url>; rel=\"next\"` when another page follows"),
        )),
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
    ValidQuery(query): ValidQuery<ListQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let page = PageRequest::try_from(query)?;
    let found = store.list(&user.user, page).await?;
    let mut response = crate::http::edge::json_response(found.json());
    let headers = response.headers_mut();
    headers.insert(TOTAL_COUNT, HeaderValue::from(found.total));
    if let Some(next) = found.next {
        let link = format!(
            "<{}?limit={}&cursor={}>; rel=\"next\"",
            tasks_url(&user),
            page.limit,
            next.to_cursor()
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
        (status = 201, description = "Created", body = Task, headers(("Location" = String, description = "The new task's URL"))),
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
) -> Result<impl IntoResponse, ApiError> {
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
    Ok((StatusCode::CREATED, headers, Json(task)))
}

/// Fetch one task.
#[utoipa::path(
    get, path = "/api/{user_id}/tasks/{id}", tag = "tasks",
    params(("user_id" = String, Path, description = "Must be the token's user id"), ("id" = String, Path, description = "Task id (UUID)")),
    responses(
        (status = 200, description = "The task", body = Task),
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
) -> Result<Json<Task>, ApiError> {
    store.get(&user.user, id).await?.map(Json).ok_or_else(ApiError::not_found)
}

/// Replace a task's title, description and completion. Omitted `description` becomes null and
/// omitted `completed` becomes false.
#[utoipa::path(
    put, path = "/api/{user_id}/tasks/{id}", tag = "tasks",
    params(("user_id" = String, Path, description = "Must be the token's user id"), ("id" = String, Path, description = "Task id (UUID)")),
    request_body = TaskInput,
    responses(
        (status = 200, description = "The task as replaced", body = Task),
        (status = 400, response = crate::http::responses::BadRequest),
        (status = 401, response = crate::http::responses::Unauthorized),
        (status = 403, response = crate::http::responses::Forbidden),
        (status = 404, response = crate::http::responses::NotFound),
        (status = 413, response = crate::http::responses::PayloadTooLarge),
        (status = 415, response = crate::http::responses::UnsupportedMediaType),
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
    JsonBody(input): JsonBody<TaskInput>,
) -> Result<Json<Task>, ApiError> {
    let draft = TaskDraft::try_from(input)?;
    store.replace(&user.user, id, draft).await?.map(Json).ok_or_else(ApiError::not_found)
}

/// Delete a task.
#[utoipa::path(
    delete, path = "/api/{user_id}/tasks/{id}", tag = "tasks",
    params(("user_id" = String, Path, description = "Must be the token's user id"), ("id" = String, Path, description = "Task id (UUID)")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, response = crate::http::responses::Unauthorized),
        (status = 403, response = crate::http::responses::Forbidden),
        (status = 404, response = crate::http::responses::NotFound),
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
) -> Result<StatusCode, ApiError> {
    match store.delete(&user.user, id).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(ApiError::not_found()),
    }
}

/// Toggle a task's completion, or set it with `{"completed": bool}`.
#[utoipa::path(
    patch, path = "/api/{user_id}/tasks/{id}/complete", tag = "tasks",
    params(("user_id" = String, Path, description = "Must be the token's user id"), ("id" = String, Path, description = "Task id (UUID)")),
    request_body(content = Option<CompletionInput>, description = "Optional: without a body the completion is toggled"),
    responses(
        (status = 200, description = "The task with its new completion", body = Task),
        (status = 400, response = crate::http::responses::BadRequest),
        (status = 401, response = crate::http::responses::Unauthorized),
        (status = 403, response = crate::http::responses::Forbidden),
        (status = 404, response = crate::http::responses::NotFound),
        (status = 413, response = crate::http::responses::PayloadTooLarge),
        (status = 415, response = crate::http::responses::UnsupportedMediaType),
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
    OptionalJsonBody(input): OptionalJsonBody<CompletionInput>,
) -> Result<Json<Task>, ApiError> {
    let completion = input.map_or(Completion::Toggle, |input| Completion::Set(input.completed));
    store
        .set_completion(&user.user, id, completion)
        .await?
        .map(Json)
        .ok_or_else(ApiError::not_found)
}
