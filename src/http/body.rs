//! Request extractors for bodies, queries and path ids that fail with the service's one error body.

use axum::body::Bytes;
use axum::extract::{
    FromRequest, FromRequestParts, OptionalFromRequestParts, Query, RawPathParams, Request,
};
use axum::http::{HeaderMap, header, request::Parts};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::de::DeserializeOwned;

use crate::domain::tasks::TaskId;
use crate::domain::tasks::idempotency::{self, IdempotencyKey};
use crate::http::error::{ApiError, ErrorCode, FieldError};

/// Largest accepted request body; larger ones are a 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The `Content-Length` a request declares, when it declares one that is a number.
pub fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH).and_then(|value| value.to_str().ok()?.parse().ok())
}

/// Whether a request says a body follows: a length over 0, or a transfer coding.
pub fn declares_body(headers: &HeaderMap) -> bool {
    declared_length(headers).is_some_and(|length| length > 0)
        || headers.contains_key(header::TRANSFER_ENCODING)
}

/// A JSON body: 415 unless `application/json`, 400 when not JSON, 422 when JSON of the wrong shape.
pub struct JsonBody<T>(pub T);

/// Like [`JsonBody`], but an empty body (with any or no content type) is `None`.
pub struct OptionalJsonBody<T>(pub Option<T>);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json_type = is_json(req.headers());
        let bytes = read_body(req, state).await?;
        if !json_type {
            return Err(ErrorCode::UnsupportedMediaType.into());
        }
        parse_json(&bytes).map(JsonBody)
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json_type = is_json(req.headers());
        let bytes = read_body(req, state).await?;
        if bytes.is_empty() {
            return Ok(OptionalJsonBody(None));
        }
        if !json_type {
            return Err(ErrorCode::UnsupportedMediaType.into());
        }
        parse_json(&bytes).map(|value| OptionalJsonBody(Some(value)))
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The body, which the edge has already read whole (its timeout and size limit are the edge's).
async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state)
        .await
        .map_err(|rejection| ApiError::new(ErrorCode::for_status(rejection.status())))
}

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // serde would read a struct from a JSON array too; our bodies are objects, nothing else.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
            Ok(_) => ApiError::invalid_field("body", "must be a JSON object"),
            Err(_) => ApiError::new(ErrorCode::BadRequest),
        });
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(json_error)?;
    deserializer.end().map_err(|_| ApiError::new(ErrorCode::BadRequest))?;
    Ok(value)
}

/// A JSON value (a merged patch) as `T`, refused as a body of the wrong shape would be.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(json_error)
}

fn json_error(error: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let inner = error.inner();
    if !inner.is_data() {
        return ApiError::new(ErrorCode::BadRequest);
    }
    // serde_json appends " at line L column C"; the field path says more to an API client.
    let message = inner.to_string();
    let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
    let path = error.path().to_string();
    let field = if path == "." { quoted_name(&message).unwrap_or("body").to_owned() } else { path };
    ApiError::validation(vec![FieldError { field, message }])
}

/// The first `name` in backticks of a serde message ("missing field `title`").
fn quoted_name(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

/// Query parameters; a value of the wrong type is a 422.
pub struct ValidQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ValidQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| ValidQuery(value))
            .map_err(|rejection| {
                let message = rejection.body_text();
                let message = message.trim_start_matches("Failed to deserialize query string: ");
                ApiError::invalid_field("query", message)
            })
    }
}

/// The `{id}` path segment as a task id; anything else is a 422.
pub struct TaskIdParam(pub TaskId);

impl<S: Send + Sync> FromRequestParts<S> for TaskIdParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::invalid_field("id", "must be a task id (a UUID)"))?;
        let raw = params.iter().find(|(name, _)| *name == "id").map_or("", |(_, value)| value);
        Ok(TaskIdParam(TaskId::parse(raw)?))
    }
}

/// `Option<IdempotencyKey>`: the `Idempotency-Key` header, `None` when absent. A malformed value,
/// or several of them, is a 422: a retry must never silently lose its key.
impl<S: Send + Sync> OptionalFromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, ApiError> {
        let mut values = parts.headers.get_all("idempotency-key").iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(ApiError::invalid_field(idempotency::HEADER, "must be sent once"));
        }
        // Bytes beyond ASCII become replacement characters, which parse rejects like any other.
        Ok(Some(IdempotencyKey::parse(&String::from_utf8_lossy(value.as_bytes()))?))
    }
}

/// Characters escaped when a user id is put back into a URL path segment.
const PATH_SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'\\')
    .add(b'^')
    .add(b'|')
    .add(b'[')
    .add(b']');

pub fn path_segment(raw: &str) -> impl std::fmt::Display + '_ {
    utf8_percent_encode(raw, PATH_SEGMENT)
}
