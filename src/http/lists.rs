//! The list API, `/api/{user_id}/lists[/{list_id}]`: a user's lists with their task counts. Lists
//! take `ETag`, `If-Match` and `If-None-Match` exactly as tasks do.

use axum::extract::{FromRequestParts, RawPathParams, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::domain::lists::{List, ListDraft, ListId, ListInput, ListTasks};
use crate::domain::tasks::patch::merge;
use crate::domain::tasks::query::only_parameter;
use crate::http::AppState;
use crate::http::body::{JsonBody, from_value, path_segment};
use crate::http::error::{ApiError, ErrorCode};
use crate::http::extract::ScopedUser;
use crate::http::tasks::conditions::{
    IfMatch, IfNoneMatch, etag_value, not_modified, precondition_failed,
};
use crate::store::{DynListStore, Guarded};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/{user_id}/lists", get(list_lists).post(create_list)).route(
        "/api/{user_id}/lists/{list_id}",
        get(get_list).put(replace_list).patch(patch_list).delete(delete_list),
    )
}

/// The `{list_id}` path segment; one that is not a list id is a 422, as a task's is.
pub struct ListIdParam(pub ListId);

impl<S: Send + Sync> FromRequestParts<S> for ListIdParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::invalid_field("list_id", "must be a list id (a UUID)"))?;
        let raw = params.iter().find(|(name, _)| *name == "list_id").map_or("", |(_, v)| v);
        Ok(ListIdParam(ListId::parse(raw, "list_id")?))
    }
}

/// One list as JSON with its `ETag`.
fn list_response(status: StatusCode, list: List) -> Result<Response, ApiError> {
    let etag = etag_value(&list.etag())?;
    Ok((status, [(header::ETAG, etag)], Json(list)).into_response())
}

fn guarded(outcome: Guarded<List>) -> Result<Response, ApiError> {
    match outcome {
        Guarded::Done(list) => list_response(StatusCode::OK, list),
        Guarded::Missing => Err(ApiError::not_found()),
        Guarded::Conflict { current } => Ok(precondition_failed(current)),
    }
}

/// The user's lists, by position, then name; each with how many tasks it holds and how many of
/// them are open.
#[utoipa::path(
    get, path = "/api/{user_id}/lists", tag = "lists",
    params(("user_id" = String, Path, description = "Must be the token's user id")),
    responses(
        (status = 200, description = "The user's lists", body = [List]),
        (status = 401, response = crate::http::responses::Unauthorized),
        (status = 403, response = crate::http::responses::Forbidden),
        (status = 429, response = crate::http::responses::TooManyRequests),
        (status = 503, response = crate::http::responses::ServiceUnavailable),
    ),
    security(("BearerAuth" = []))
)]
pub async fn list_lists(
    user: ScopedUser,
    State(store): State<DynListStore>,
) -> Result<Json<Vec<List>>, ApiError> {
    Ok(Json(store.lists(&user.user).await?))
}

/// Create a list.
#[utoipa::path(
    post, path = "/api/{user_id}/lists", tag = "lists",
    params(("user_id" = String, Path, description = "Must be the token's user id")),
    request_body = ListInput,
    responses(
        (status = 201, description = "Created", body = List, headers(("Location" = String, description = "The list's URL"), ("ETag" = String, description = "The list's version, quoted"))),
        (status = 400, response = crate::http::responses::BadRequest),
        (status = 401, response = crate::http::responses::Unauthorized),
        (status = 403, response = crate::http::responses::Forbidden),
        (status = 409, response = crate::http::responses::ListConflict),
        (status = 413, response = crate::http::responses::PayloadTooLarge),
        (status = 415, response = crate::http::responses::UnsupportedMediaType),
        (status = 422, response = crate::http::responses::InvalidList),
        (status = 429, response = crate::http::responses::TooManyRequests),
        (status = 503, response = crate::http::responses::ServiceUnavailable),
    ),
    security(("BearerAuth" = []))
)]
pub async fn create_list(
    user: ScopedUser,
    State(store): State<DynListStore>,
    JsonBody(input): JsonBody<ListInput>,
) -> Result<Response, ApiError> {
    let list = store.create_list(&user.user, ListDraft::try_from(input)?).await?;
    let location = format!("/api/{}/lists/{}", path_segment(user.user.subject()), list.id);
    let location = HeaderValue::from_str(&location).map_err(|e| ApiError::internal(&e))?;
    Ok(([(header::LOCATION, location)], list_response(StatusCode::CREATED, list)?).into_response())
}

/// Fetch one list.
#[utoipa::path(
    get, path = "/api/{user_id}/lists/{list_id}", tag = "lists",
    params(("user_id" = String, Path, description = "Must be the token's user id"), ("list_id" = String, Path, description = "List id (UUID)"),
        ("If-None-Match" = Option<String>, Header, description = "The list's `ETag` as the client has it: 304 when unchanged")),
    responses(
        (status = 200, description = "The list", body = List, headers(("ETag" = String, description = "The list's version, quoted"))),
        (status = 304, description = "Unchanged since the `ETag` given in `If-None-Match`"),
        (status = 401, response = crate::http::responses::Unauthorized),
        (status = 403, response = crate::http::responses::Forbidden),
        (status = 404, response = crate::http::responses::NotFound),
        (status = 422, response = crate::http::responses::InvalidList),
        (status = 429, response = crate::http::responses::TooManyRequests),
        (status = 503, response = crate::http::responses::ServiceUnavailable),
    ),
    security(("BearerAuth" = []))
)]
pub async fn get_list(
    user: ScopedUser,
    ListIdParam(id): ListIdParam,
    State(store): State<DynListStore>,
    cached: IfNoneMatch,
) -> Result<Response, ApiError> {
    let list = store.get_list(&user.user, id).await?.ok_or_else(ApiError::not_found)?;
    match cached.matches(&list.etag()) {
        true => not_modified(&list.etag()),
        false => list_response(StatusCode::OK, list),
    }
}

/// Replace a list's name, colour and position (an omitted colour is null; an omitted position
/// keeps the list where it is).
#[utoipa::path(
    put, path = "/api/{user_id}/lists/{list_id}", tag = "lists",
    params(("user_id" = String, Path, description = "Must be the token's user id"), ("list_id" = String, Path, description = "List id (UUID)"), ("If-Match" = Option<String>, Header, description = "The list's `ETag` as the client read it (or `*`): 412 when it has changed since")),
    request_body = ListInput,
    responses(
        (status = 200, description = "The list as replaced (unchanged, with its version, when the body changes nothing)", body = List, headers(("ETag" = String, description = "The list's version, quoted"))),
        (status = 400, response = crate::http::responses::BadRequest),
        (status = 401, response = crate::http::responses::Unauthorized),
        (status = 403, response = crate::http::responses::Forbidden),
        (status = 404, response = crate::http::responses::NotFound),
        (status = 409, response = crate::http::responses::ListConflict),
        (status = 412, response = crate::http::responses::PreconditionFailed),
        (status = 413, response = crate::http::responses::PayloadTooLarge),
        (status = 415, response = crate::http::responses::UnsupportedMediaType),
        (status = 422, response = crate::http::responses::InvalidList),
        (status = 429, response = crate::http::responses::TooManyRequests),
        (status = 503, response = crate::http::responses::ServiceUnavailable),
    ),
    security(("BearerAuth" = []))
)]
pub async fn replace_list(
    user: ScopedUser,
    ListIdParam(id): ListIdParam,
    State(store): State<DynListStore>,
    IfMatch(expected): IfMatch,
    JsonBody(input): JsonBody<ListInput>,
) -> Result<Response, ApiError> {
    guarded(store.replace_list(&user.user, id, ListDraft::try_from(input)?, expected).await?)
}

/// The members a list patch may carry.
const LIST_PATCHABLE: [&str; 3] = ["name", "color", "position"];

/// Change some of a list's fields: a JSON merge patch (RFC 7396) of `name`, `color` (null: no
/// colour) and `position`.
#[utoipa::path(
    patch, path = "/api/{user_id}/lists/{list_id}", tag = "lists",
    params(("user_id" = String, Path, description = "Must be the token's user id"), ("list_id" = String, Path, description = "List id (UUID)"), ("If-Match" = Option<String>, Header, description = "The list's `ETag` as the client read it (or `*`): 412 when it has changed since")),
    request_body(content = serde_json::Value, content_type = "application/merge-patch+json", description = "Any of `name`, `color`, `position`; `application/json` is accepted too",
        example = json!({"name": "Work projects", "position": 2})),
    responses(
        (status = 200, description = "The list as patched", body = List, headers(("ETag" = String, description = "The list's version, quoted"))),
        (status = 400, response = crate::http::responses::BadRequest),
        (status = 401, response = crate::http::responses::Unauthorized),
        (status = 403, response = crate::http::responses::Forbidden),
        (status = 404, response = crate::http::responses::NotFound),
        (status = 409, response = crate::http::responses::ListConflict),
        (status = 412, response = crate::http::responses::PreconditionFailed),
        (status = 413, response = crate::http::responses::PayloadTooLarge),
        (status = 415, response = crate::http::responses::UnsupportedMediaType),
        (status = 422, response = crate::http::responses::InvalidList),
        (status = 429, response = crate::http::responses::TooManyRequests),
        (status = 503, response = crate::http::responses::ServiceUnavailable),
    ),
    security(("BearerAuth" = []))
)]
pub async fn patch_list(
    user: ScopedUser,
    ListIdParam(id): ListIdParam,
    State(store): State<DynListStore>,
    IfMatch(expected): IfMatch,
    JsonBody(members): JsonBody<serde_json::Map<String, serde_json::Value>>,
) -> Result<Response, ApiError> {
    for (name, value) in &members {
        if !LIST_PATCHABLE.contains(&name.as_str()) {
            return Err(ApiError::invalid_field(
                name,
                "is not a field of a list a patch can change",
            ));
        }
        if value.is_null() && name != "color" {
            return Err(ApiError::invalid_field(name, "must not be null"));
        }
    }
    // Read, merge, and write only if the list is still the version read (as a task's patch).
    for _ in 0..5 {
        let list = store.get_list(&user.user, id).await?.ok_or_else(ApiError::not_found)?;
        if !expected.admits(list.version) {
            return Ok(precondition_failed(list.version));
        }
        let mut target = list.to_input();
        merge(&mut target, serde_json::Value::Object(members.clone()));
        let draft = ListDraft::try_from(from_value::<ListInput>(target)?)?;
        match store
            .replace_list(
                &user.user,
                id,
                draft,
                crate::domain::tasks::Expected::version(list.version),
            )
            .await?
        {
            Guarded::Conflict { current } if !expected.is_any() => {
                return Ok(precondition_failed(current));
            }
            Guarded::Conflict { .. } => continue,
            outcome => return guarded(outcome),
        }
    }
    Err(ApiError::with_detail(
        ErrorCode::ServiceUnavailable,
        "The list kept changing while this patch was applied; retry",
    ))
}

/// Delete a list. A list with tasks needs `?tasks=inbox` (they move to the inbox, each with a
/// new version) or `?tasks=delete` (they are deleted with it); without either it is a 409.
#[utoipa::path(
    delete, path = "/api/{user_id}/lists/{list_id}", tag = "lists",
    params(("user_id" = String, Path, description = "Must be the token's user id"), ("list_id" = String, Path, description = "List id (UUID)"), ("If-Match" = Option<String>, Header, description = "The list's `ETag` as the client read it (or `*`): 412 when it has changed since"),
        ("tasks" = Option<String>, Query, description = "`inbox` or `delete`: what becomes of the list's tasks")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, response = crate::http::responses::Unauthorized),
        (status = 403, response = crate::http::responses::Forbidden),
        (status = 404, response = crate::http::responses::NotFound),
        (status = 409, response = crate::http::responses::ListNotEmpty),
        (status = 412, response = crate::http::responses::PreconditionFailed),
        (status = 422, response = crate::http::responses::InvalidList),
        (status = 429, response = crate::http::responses::TooManyRequests),
        (status = 503, response = crate::http::responses::ServiceUnavailable),
    ),
    security(("BearerAuth" = []))
)]
pub async fn delete_list(
    user: ScopedUser,
    ListIdParam(id): ListIdParam,
    State(store): State<DynListStore>,
    IfMatch(expected): IfMatch,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let tasks = match only_parameter(raw.as_deref(), "tasks")? {
        None => ListTasks::Keep,
        Some(value) => ListTasks::parse(&value)?,
    };
    match store.delete_list(&user.user, id, expected, tasks).await? {
        Guarded::Done(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        Guarded::Missing => Err(ApiError::not_found()),
        Guarded::Conflict { current } => Ok(precondition_failed(current)),
    }
}
