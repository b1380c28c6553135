//! The one error type of the HTTP surface and the one JSON body every error response carries.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::borrow::Cow;

use crate::services::limits::Limited;
use crate::services::password::Rejected;
use utoipa::ToSchema;

use crate::domain::tasks::{Invalid, Problem};
use crate::store::StoreError;

/// Machine-readable error codes. Each variant's status is fixed by [`ErrorCode::status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// 401: no `Authorization` header.
    MissingToken,
    /// 401: not `Bearer <token>`, an empty token, or several credentials.
    InvalidHeaderFormat,
    /// 401: not a well-formed compact JWS, too large, `crit` present, `exp` missing or not a number.
    MalformedToken,
    /// 401: the signature does not verify, or the algorithm is not the key's.
    InvalidTokenSignature,
    /// 401: past `exp` (plus leeway), or `nbf`/`iat` in the future.
    TokenExpired,
    /// 401: no usable user id in `sub`/`uid`.
    MissingUidClaim,
    /// 401: wrong `iss` or `aud`, or not an access token.
    InvalidTokenClaims,
    /// 401: with TASKGATE_STRICT_SESSIONS, the session the token was minted from has ended.
    SessionRevoked,
    /// 403: the token's user is not the user in the path.
    ForbiddenUserAccess,
    /// 404: no such route, or no such task for this user.
    NotFound,
    /// 405: the route exists but not with this method.
    MethodNotAllowed,
    /// 408: the request took longer than the configured timeout.
    RequestTimeout,
    /// 400: the body is not valid JSON.
    BadRequest,
    /// 413: the body is larger than the limit.
    PayloadTooLarge,
    /// 415: the body is not `application/json`.
    UnsupportedMediaType,
    /// 422: the body or a parameter is well-formed but not acceptable.
    ValidationError,
    /// 422: an `Idempotency-Key` already used with a different request body.
    IdempotencyKeyReused,
    /// 409: the user already has the most tasks allowed (`TASKGATE_MAX_TASKS_PER_USER`).
    TaskLimitReached,
    /// 429: the user has too many requests in flight.
    TooManyRequests,
    /// 500: something failed inside the service; details are only in the log.
    InternalError,
    /// 503: the database cannot be reached or the service is at capacity.
    ServiceUnavailable,
}

impl ErrorCode {
    pub fn status(self) -> StatusCode {
        use ErrorCode::*;
        match self {
            MissingToken
            | InvalidHeaderFormat
            | MalformedToken
            | InvalidTokenSignature
            | TokenExpired
            | MissingUidClaim
            | InvalidTokenClaims
            | SessionRevoked => StatusCode::UNAUTHORIZED,
            ForbiddenUserAccess => StatusCode::FORBIDDEN,
            NotFound => StatusCode::NOT_FOUND,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            BadRequest => StatusCode::BAD_REQUEST,
            PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ValidationError | IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            TaskLimitReached => StatusCode::CONFLICT,
            TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            InternalError => StatusCode::INTERNAL_SERVER_ERROR,
            ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            MissingToken => "MISSING_TOKEN",
            InvalidHeaderFormat => "INVALID_HEADER_FORMAT",
            MalformedToken => "MALFORMED_TOKEN",
            InvalidTokenSignature => "INVALID_TOKEN_SIGNATURE",
            TokenExpired => "TOKEN_EXPIRED",
            SessionRevoked => "SESSION_REVOKED",
            MissingUidClaim => "MISSING_UID_CLAIM",
            InvalidTokenClaims => "INVALID_TOKEN_CLAIMS",
            ForbiddenUserAccess => "FORBIDDEN_USER_ACCESS",
            NotFound => "NOT_FOUND",
            MethodNotAllowed => "METHOD_NOT_ALLOWED",
            RequestTimeout => "REQUEST_TIMEOUT",
            BadRequest => "BAD_REQUEST",
            PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            ValidationError => "VALIDATION_ERROR",
            IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            TaskLimitReached => "TASK_LIMIT_REACHED",
            TooManyRequests => "TOO_MANY_REQUESTS",
            InternalError => "INTERNAL_ERROR",
            ServiceUnavailable => "SERVICE_UNAVAILABLE",
        }
    }

    /// The error code that stands for a bare status, for responses made outside our handlers
    /// (the router's 404/405, tower-http's timeout) so that they too carry the one body.
    pub fn for_status(status: StatusCode) -> Self {
        match status {
            StatusCode::BAD_REQUEST => Self::BadRequest,
            StatusCode::UNAUTHORIZED => Self::MissingToken,
            StatusCode::FORBIDDEN => Self::ForbiddenUserAccess,
            StatusCode::NOT_FOUND => Self::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => Self::MethodNotAllowed,
            StatusCode::REQUEST_TIMEOUT => Self::RequestTimeout,
            StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::UnsupportedMediaType,
            StatusCode::UNPROCESSABLE_ENTITY => Self::ValidationError,
            StatusCode::TOO_MANY_REQUESTS => Self::TooManyRequests,
            StatusCode::SERVICE_UNAVAILABLE => Self::ServiceUnavailable,
            _ => Self::InternalError,
        }
    }

    fn default_detail(self) -> &'static str {
        use ErrorCode::*;
        match self {
            MissingToken => "Authentication required: send Authorization: Bearer <token>",
            InvalidHeaderFormat => "Authorization header must be a single 'Bearer <token>'",
            MalformedToken => "The token is malformed",
            InvalidTokenSignature => "The token signature is invalid",
            TokenExpired => "The token has expired or is not yet valid",
            SessionRevoked => "The session this token was issued for has ended; sign in again",
            MissingUidClaim => "The token does not identify a user",
            InvalidTokenClaims => "The token is not valid for this service",
            ForbiddenUserAccess => "You may only access your own tasks",
            NotFound => "Not found",
            MethodNotAllowed => "Method not allowed for this resource",
            RequestTimeout => "The request took too long",
            BadRequest => "The request body is not valid JSON",
            PayloadTooLarge => "The request body is too large",
            UnsupportedMediaType => "The request body must be application/json",
            ValidationError => "The request is not valid",
            IdempotencyKeyReused => {
                "This Idempotency-Key was already used with a different request body"
            }
            TaskLimitReached => "You have the most tasks allowed; delete some to create more",
            TooManyRequests => "Too many requests in flight, retry shortly",
            InternalError => "An internal error occurred",
            ServiceUnavailable => "The service is temporarily unavailable, retry shortly",
        }
    }

    pub fn is_auth_failure(self) -> bool {
        self.status() == StatusCode::UNAUTHORIZED
    }
}

/// One problem with one field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A human-readable explanation, safe to show to the client.
    #[schema(example = "The token has expired or is not yet valid")]
    pub detail: String,
    pub error_code: ErrorCode,
    #[schema(example = 401)]
    pub status_code: u16,
    /// Present on validation failures: what is wrong with which field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// The error every handler and extractor returns.
#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    detail: String,
    errors: Vec<FieldError>,
}

/// Seconds a client should wait before retrying a 503.
const RETRY_AFTER_SECONDS: &str = "1";

impl ApiError {
    pub fn new(code: ErrorCode) -> Self {
        Self { code, detail: code.default_detail().to_owned(), errors: Vec::new() }
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [only] => format!("{}: {}", only.field, only.message),
            _ => "The request is not valid".to_owned(),
        };
        Self { code: ErrorCode::ValidationError, detail, errors }
    }

    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError { field: field.to_owned(), message: message.into() }])
    }

    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound)
    }

    /// The body this error is answered with; the OpenAPI document's examples are made with it,
    /// so they show exactly what the service sends.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            detail: self.detail.clone(),
            error_code: self.code,
            status_code: self.code.status().as_u16(),
            errors: self.errors.clone(),
        }
    }

    /// A failure whose cause is logged here and never shown to the client.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(ErrorCode::InternalError)
    }

    fn www_authenticate(&self) -> Option<HeaderValue> {
        let value = match self.code {
            ErrorCode::MissingToken => r#"Bearer realm="taskgate""#.to_owned(),
            ErrorCode::InvalidHeaderFormat => format!(
                r#"Bearer realm="taskgate", error="invalid_request", error_description="{}""#,
                self.code.default_detail()
            ),
            code if code.is_auth_failure() => format!(
                r#"Bearer realm="taskgate", error="invalid_token", error_description="{}""#,
                code.default_detail()
            ),
            _ => return None,
        };
        HeaderValue::from_str(&value).ok()
    }
}

/// A refused input is a 422 listing each field's problem.
impl From<Invalid> for ApiError {
    fn from(Invalid(problems): Invalid) -> Self {
        ApiError::validation(
            problems
                .into_iter()
                .map(|Problem { field, message }| FieldError { field, message })
                .collect(),
        )
    }
}

/// The HTTP edge of the store: a store's error becomes a status and a body here, and only here.
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(cause) => {
                tracing::warn!(%cause, "database unavailable");
                ApiError::new(ErrorCode::ServiceUnavailable)
            }
            StoreError::LimitReached { limit } => ApiError {
                detail: format!(
                    "You have {limit} tasks, the most allowed; delete some to create more"
                ),
                ..ApiError::new(ErrorCode::TaskLimitReached)
            },
            StoreError::Internal(cause) => ApiError::internal(&cause),
        }
    }
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> Self {
        Self::new(code)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.code.status();
        let www_authenticate = self.www_authenticate();
        let body = ErrorBody {
            detail: self.detail,
            error_code: self.code,
            status_code: status.as_u16(),
            errors: self.errors,
        };
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        if let Some(value) = www_authenticate {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECONDS));
        }
        response
    }
}

impl From<crate::domain::auth::TokenError> for ErrorCode {
    fn from(error: crate::domain::auth::TokenError) -> Self {
        use crate::domain::auth::TokenError;
        match error {
            TokenError::MalformedToken => Self::MalformedToken,
            TokenError::InvalidTokenSignature => Self::InvalidTokenSignature,
            TokenError::TokenExpired => Self::TokenExpired,
            TokenError::MissingUidClaim => Self::MissingUidClaim,
            TokenError::InvalidTokenClaims => Self::InvalidTokenClaims,
            TokenError::SessionRevoked => Self::SessionRevoked,
            TokenError::Unavailable => Self::ServiceUnavailable,
        }
    }
}

/// Better Auth's error body.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthErrorBody {
    /// A stable, machine-readable code, such as `INVALID_EMAIL_OR_PASSWORD`.
    #[schema(value_type = String, example = "INVALID_EMAIL_OR_PASSWORD")]
    pub code: &'static str,
    /// A human-readable message.
    #[schema(value_type = String, example = "Invalid email or password")]
    pub message: Cow<'static, str>,
}

/// Better Auth's error: a status and the body `{"code", "message"}`. Its constructors are the one
/// place each code and message is written; the OpenAPI document's examples call them too.
#[derive(Debug)]
pub struct AuthError {
    status: StatusCode,
    code: &'static str,
    message: Cow<'static, str>,
    /// Seconds, for `Retry-After` and Better Auth's `X-Retry-After`.
    retry_after: Option<u64>,
}

impl AuthError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: &'static str) -> Self {
        Self { status, code, message: Cow::Borrowed(message), retry_after: None }
    }

    pub(crate) fn validation(field: &str) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "VALIDATION_ERROR",
            message: Cow::Owned(format!("[body.{field}] Invalid input")),
            retry_after: None,
        }
    }

    pub(crate) fn too_many_requests(limited: Limited) -> Self {
        Self {
            retry_after: Some(limited.retry_after_secs),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "TOO_MANY_REQUESTS",
                "Too many requests. Please try again later.",
            )
        }
    }

    pub(crate) fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "Unauthorized")
    }

    pub(crate) fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", "Not found")
    }

    pub(crate) fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", "Method not allowed")
    }

    pub(crate) fn invalid_email() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_EMAIL", "Invalid email")
    }

    pub(crate) fn invalid_credentials() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_EMAIL_OR_PASSWORD",
            "Invalid email or password",
        )
    }

    pub(crate) fn bad_request(code: &'static str, message: &'static str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub(crate) fn invalid_password() -> Self {
        Self::bad_request("INVALID_PASSWORD", "Invalid password")
    }

    pub(crate) fn email_cannot_be_updated() -> Self {
        Self::bad_request("EMAIL_CAN_NOT_BE_UPDATED", "Email can not be updated")
    }

    pub(crate) fn email_taken() -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
            "User already exists. Use another email.",
        )
    }

    pub(crate) fn missing_origin() -> Self {
        Self::new(StatusCode::FORBIDDEN, "MISSING_OR_NULL_ORIGIN", "Missing or null Origin")
    }

    pub(crate) fn invalid_origin() -> Self {
        Self::new(StatusCode::FORBIDDEN, "INVALID_ORIGIN", "Invalid origin")
    }

    pub(crate) fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "The request body must be application/json",
        )
    }

    /// Both the auth router's own limit and the edge's (a declared `Content-Length` over the
    /// service's limit) answer with this, so a client sees one body for one condition.
    pub(crate) fn body_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            "The request body is too large",
        )
    }

    pub(crate) fn password(rejected: Rejected) -> Self {
        match rejected {
            Rejected::TooShort => {
                Self::new(StatusCode::BAD_REQUEST, "PASSWORD_TOO_SHORT", "Password too short")
            }
            Rejected::TooLong => {
                Self::new(StatusCode::BAD_REQUEST, "PASSWORD_TOO_LONG", "Password too long")
            }
            Rejected::Common => Self::new(
                StatusCode::BAD_REQUEST,
                "PASSWORD_COMPROMISED",
                "This password is one of the most common ones and among the first an attacker \
                 tries; please choose another (a few unrelated words make a strong one)",
            ),
        }
    }

    /// The error for a bare status made outside the auth handlers (the edge's timeout, the body
    /// limit, ...), so that `/api/auth` answers in its own convention everywhere.
    pub fn for_status(status: StatusCode) -> Self {
        match status {
            StatusCode::REQUEST_TIMEOUT => {
                Self::new(status, "REQUEST_TIMEOUT", "The request took too long")
            }
            StatusCode::PAYLOAD_TOO_LARGE => Self::body_too_large(),
            StatusCode::NOT_FOUND => Self::not_found(),
            StatusCode::METHOD_NOT_ALLOWED => Self::method_not_allowed(),
            StatusCode::SERVICE_UNAVAILABLE => Self::unavailable(),
            StatusCode::UNAUTHORIZED => Self::unauthorized(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::unsupported_media_type(),
            StatusCode::TOO_MANY_REQUESTS => {
                Self::too_many_requests(Limited { rule: "in-flight", retry_after_secs: 1 })
            }
            status if status.is_client_error() => {
                Self::new(status, "BAD_REQUEST", "The request cannot be served")
            }
            _ => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_SERVER_ERROR",
                "Internal server error",
            ),
        }
    }

    /// Says when to retry, as the task API's 503 does: load balancers and clients back off.
    pub fn unavailable() -> Self {
        Self {
            retry_after: Some(1),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVICE_UNAVAILABLE",
                "The service is temporarily unavailable, retry shortly",
            )
        }
    }

    pub(crate) fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "auth request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_SERVER_ERROR",
            "Internal server error",
        )
    }
}

impl From<StoreError> for AuthError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(_) => {
                tracing::warn!(error = %error, "auth request: database unavailable");
                Self::unavailable()
            }
            other => Self::internal(&other),
        }
    }
}

impl From<crate::services::password::HashError> for AuthError {
    fn from(error: crate::services::password::HashError) -> Self {
        Self::internal(&error)
    }
}

impl AuthError {
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    /// The body this error answers with.
    pub(crate) fn body(&self) -> AuthErrorBody {
        AuthErrorBody { code: self.code, message: self.message.clone() }
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if let Some(seconds) = self.retry_after {
            let headers = response.headers_mut();
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            headers.insert("x-retry-after", HeaderValue::from(seconds));
        }
        response
    }
}
