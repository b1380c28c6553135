//! HTTP handlers for `/api/{user_id}/tags`: a user's tags with their counts, renamed or removed
//! on every task at once.

use axum::Json;
use axum::extract::{FromRequestParts, RawPathParams, State};
use axum::http::StatusCode;
use axum::http::request::Parts;

use crate::domain::tasks::{TagName, TagRename, TagSummary};
use crate::http::body::JsonBody;
use crate::http::error::ApiError;
use crate::http::extract::ScopedUser;
use crate::store::DynTaskStore;

/// The `{name}` path segment (percent-decoded) as the tag key it names; a name no tag can have
/// names no tag: 404.
pub struct TagParam(String);

impl<S: Send + Sync> FromRequestParts<S> for TagParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found())?;
        let raw = params.iter().find(|(name, _)| *name == "name").map_or("", |(_, value)| value);
        let tag = TagName::parse(raw, "name").map_err(|_| ApiError::not_found())?;
        Ok(TagParam(tag.key))
    }
}

/// The user's tags, each with how many tasks carry it and how many of those are open, by name
/// case-insensitively. A tag exists while a task carries it.
#[utoipa::path(
    get, path = "/api/{user_id}/tags", tag = "tags",
    params(("user_id" = String, Path, description = "Must be the token's user id")),
    responses(
        (status = 200, description = "The user's tags", body = [TagSummary]),
        (status = 401, response = crate::http::responses::Unauthorized),
        (status = 403, response = crate::http::responses::Forbidden),
        (status = 429, response = crate::http::responses::TooManyRequests),
        (status = 503, response = crate::http::responses::ServiceUnavailable),
    ),
    security(("BearerAuth" = []))
)]
pub async fn list_tags(
    user: ScopedUser,
    State(store): State<DynTaskStore>,
) -> Result<Json<Vec<TagSummary>>, ApiError> {
    Ok(Json(store.tags(&user.user).await?))
}

/// Rename a tag on every task; into an existing tag's name, the two merge. Each task changed
/// gets a new version.
#[utoipa::path(
    patch, path = "/api/{user_id}/tags/{name}", tag = "tags",
    params(("user_id" = String, Path, description = "Must be the token's user id"),
        ("name" = String, Path, description = "The tag's name, percent-encoded, in any case")),
    request_body = TagRename,
    responses(
        (status = 200, description = "The tag as renamed, with its counts", body = TagSummary),
        (status = 400, response = crate::http::responses::BadRequest),
        (status = 401, response = crate::http::responses::Unauthorized),
        (status = 403, response = crate::http::responses::Forbidden),
        (status = 404, response = crate::http::responses::NotFound),
        (status = 415, response = crate::http::responses::UnsupportedMediaType),
        (status = 422, response = crate::http::responses::InvalidTagRename),
        (status = 429, response = crate::http::responses::TooManyRequests),
        (status = 503, response = crate::http::responses::ServiceUnavailable),
    ),
    security(("BearerAuth" = []))
)]
pub async fn rename_tag(
    user: ScopedUser,
    TagParam(key): TagParam,
    State(store): State<DynTaskStore>,
    JsonBody(rename): JsonBody<TagRename>,
) -> Result<Json<TagSummary>, ApiError> {
    let to = rename.parse()?;
    let to_key = to.key.clone();
    if !store.rename_tag(&user.user, &key, to).await? {
        return Err(ApiError::not_found());
    }
    let tags = store.tags(&user.user).await?;
    tags.into_iter()
        .find(|tag| crate::domain::tasks::fields::fold(&tag.name) == to_key)
        .map(Json)
        .ok_or_else(ApiError::not_found)
}

/// Remove a tag from every task. Each task changed gets a new version.
#[utoipa::path(
    delete, path = "/api/{user_id}/tags/{name}", tag = "tags",
    params(("user_id" = String, Path, description = "Must be the token's user id"),
        ("name" = String, Path, description = "The tag's name, percent-encoded, in any case")),
    responses(
        (status = 204, description = "Removed from every task"),
        (status = 401, response = crate::http::responses::Unauthorized),
        (status = 403, response = crate::http::responses::Forbidden),
        (status = 404, response = crate::http::responses::NotFound),
        (status = 429, response = crate::http::responses::TooManyRequests),
        (status = 503, response = crate::http::responses::ServiceUnavailable),
    ),
    security(("BearerAuth" = []))
)]
pub async fn delete_tag(
    user: ScopedUser,
    TagParam(key): TagParam,
    State(store): State<DynTaskStore>,
) -> Result<StatusCode, ApiError> {
    match store.delete_tag(&user.user, &key).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(ApiError::not_found()),
    }
}
