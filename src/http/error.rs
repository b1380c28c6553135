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
    /// 409: the write would give the user more than 1,000 tags.
    TagLimitReached,
    /// 409: another of the user's lists has this name (case-insensitively).
    ListNameTaken,
    /// 409: the user already has 500 lists.
    ListLimitReached,
    /// 409: the list has tasks and `?tasks=` does not say what becomes of them.
    ListNotEmpty,
    /// 409: the task has subtasks and `?subtasks=delete` is not given.
    TaskHasSubtasks,
    /// 412: `If-Match` names another version than the task's current one.
    PreconditionFailed,
    /// 429: the user has too many requests in flight.
    TooManyRequests,
    /// 500: something failed inside the service; details are only in the log.
    InternalError,
    /// 503: the database cannot be reached or the service is at capacity.
    ServiceUnavailable,
    // The accounts API's own codes (Better Auth's), answered under `/api/auth` only.
    /// 401: no live session.
    Unauthorized,
    /// 401: sign-in with an unknown e-mail or a wrong password (the same answer for both).
    InvalidEmailOrPassword,
    /// 400: not an e-mail address.
    InvalidEmail,
    /// 400: a new password under 8 characters.
    PasswordTooShort,
    /// 400: a new password over 128 characters.
    PasswordTooLong,
    /// 400: a new password among the most common ones.
    PasswordCompromised,
    /// 400: the current password given is wrong.
    InvalidPassword,
    /// 400: update-user cannot change the e-mail.
    EmailCanNotBeUpdated,
    /// 400: the user has no password credential.
    CredentialAccountNotFound,
    /// 400: update-user's body is not a JSON object.
    BodyMustBeAnObject,
    /// 422: sign-up with an e-mail that has an account.
    UserAlreadyExistsUseAnotherEmail,
    /// 403: a state change without an `Origin` (or with `null`) where one is needed.
    MissingOrNullOrigin,
    /// 403: a state change from a page of an untrusted origin.
    InvalidOrigin,
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
            TaskLimitReached | TagLimitReached | ListNameTaken | ListLimitReached
            | ListNotEmpty | TaskHasSubtasks => StatusCode::CONFLICT,
            PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            InternalError => StatusCode::INTERNAL_SERVER_ERROR,
            ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Unauthorized | InvalidEmailOrPassword => StatusCode::UNAUTHORIZED,
            InvalidEmail
            | PasswordTooShort
            | PasswordTooLong
            | PasswordCompromised
            | InvalidPassword
            | EmailCanNotBeUpdated
            | CredentialAccountNotFound
            | BodyMustBeAnObject => StatusCode::BAD_REQUEST,
            UserAlreadyExistsUseAnotherEmail => StatusCode::UNPROCESSABLE_ENTITY,
            MissingOrNullOrigin | InvalidOrigin => StatusCode::FORBIDDEN,
        }
    }

    /// The status in Better Auth's convention: a body that does not validate is a 400 there.
    pub fn auth_status(self) -> StatusCode {
        match self {
            Self::ValidationError => StatusCode::BAD_REQUEST,
            code => code.status(),
        }
    }

    /// The code as Better Auth spells it.
    pub fn auth_str(self) -> &'static str {
        match self {
            Self::InternalError => "INTERNAL_SERVER_ERROR",
            code => code.as_str(),
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
            TagLimitReached => "TAG_LIMIT_REACHED",
            ListNameTaken => "LIST_NAME_TAKEN",
            ListLimitReached => "LIST_LIMIT_REACHED",
            ListNotEmpty => "LIST_NOT_EMPTY",
            TaskHasSubtasks => "TASK_HAS_SUBTASKS",
            PreconditionFailed => "PRECONDITION_FAILED",
            TooManyRequests => "TOO_MANY_REQUESTS",
            InternalError => "INTERNAL_ERROR",
            ServiceUnavailable => "SERVICE_UNAVAILABLE",
            Unauthorized => "UNAUTHORIZED",
            InvalidEmailOrPassword => "INVALID_EMAIL_OR_PASSWORD",
            InvalidEmail => "INVALID_EMAIL",
            PasswordTooShort => "PASSWORD_TOO_SHORT",
            PasswordTooLong => "PASSWORD_TOO_LONG",
            PasswordCompromised => "PASSWORD_COMPROMISED",
            InvalidPassword => "INVALID_PASSWORD",
            EmailCanNotBeUpdated => "EMAIL_CAN_NOT_BE_UPDATED",
            CredentialAccountNotFound => "CREDENTIAL_ACCOUNT_NOT_FOUND",
            BodyMustBeAnObject => "BODY_MUST_BE_AN_OBJECT",
            UserAlreadyExistsUseAnotherEmail => "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
            MissingOrNullOrigin => "MISSING_OR_NULL_ORIGIN",
            InvalidOrigin => "INVALID_ORIGIN",
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
            StatusCode::PRECONDITION_FAILED => Self::PreconditionFailed,
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
            TagLimitReached => "You have the most tags allowed; use or rename an existing one",
            ListNameTaken => "You already have a list of this name",
            ListLimitReached => "You have the most lists allowed; delete one to create another",
            ListNotEmpty => {
                "The list has tasks: say what becomes of them with ?tasks=inbox or ?tasks=delete"
            }
            TaskHasSubtasks => {
                "The task has subtasks: delete them with it with ?subtasks=delete, or move them"
            }
            PreconditionFailed => {
                "The task was changed since you read it (If-Match does not match its ETag); \
                 read it again, then retry"
            }
            TooManyRequests => "Too many requests in flight, retry shortly",
            InternalError => "An internal error occurred",
            ServiceUnavailable => "The service is temporarily unavailable, retry shortly",
            code => code.auth_message(),
        }
    }

    /// The message in Better Auth's convention, where it differs from the task API's.
    fn auth_message(self) -> &'static str {
        use ErrorCode::*;
        match self {
            NotFound => "Not found",
            MethodNotAllowed => "Method not allowed",
            BadRequest => "The request cannot be served",
            ValidationError => "Invalid input",
            TooManyRequests => "Too many requests. Please try again later.",
            InternalError => "Internal server error",
            Unauthorized => "Unauthorized",
            InvalidEmailOrPassword => "Invalid email or password",
            InvalidEmail => "Invalid email",
            PasswordTooShort => "Password too short",
            PasswordTooLong => "Password too long",
            PasswordCompromised => {
                "This password is one of the most common ones and among the first an attacker \
                 tries; please choose another (a few unrelated words make a strong one)"
            }
            InvalidPassword => "Invalid password",
            EmailCanNotBeUpdated => "Email can not be updated",
            CredentialAccountNotFound => "Credential account not found",
            BodyMustBeAnObject => "Body must be an object",
            UserAlreadyExistsUseAnotherEmail => "User already exists. Use another email.",
            MissingOrNullOrigin => "Missing or null Origin",
            InvalidOrigin => "Invalid origin",
            code => code.default_detail(),
        }
    }

    /// A refused or unusable bearer token (the task API's 401s, with `WWW-Authenticate`).
    pub fn is_auth_failure(self) -> bool {
        use ErrorCode::*;
        matches!(
            self,
            MissingToken
                | InvalidHeaderFormat
                | MalformedToken
                | InvalidTokenSignature
                | TokenExpired
                | MissingUidClaim
                | InvalidTokenClaims
                | SessionRevoked
        )
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

/// The one error of the HTTP surface: every handler, extractor and middleware returns it. It is
/// answered in the task API's convention (`{detail, error_code, status_code}`); under `/api/auth`
/// the edge answers it in Better Auth's (`{code, message}`, [`ApiError::auth_response`]).
#[derive(Debug, Clone)]
pub struct ApiError {
    code: ErrorCode,
    /// The message, when not the code's default in the convention it is answered in.
    detail: Option<Cow<'static, str>>,
    errors: Vec<FieldError>,
    /// Seconds to wait before retrying, when not the default second of a 429 or 503.
    retry_after: Option<u64>,
}

/// Seconds a client should wait before retrying a 429 or 503, unless the error says otherwise.
const RETRY_AFTER_SECONDS: u64 = 1;

impl ApiError {
    pub fn new(code: ErrorCode) -> Self {
        Self { code, detail: None, errors: Vec::new(), retry_after: None }
    }

    pub(crate) fn with_detail(code: ErrorCode, detail: impl Into<Cow<'static, str>>) -> Self {
        Self { detail: Some(detail.into()), ..Self::new(code) }
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [only] => format!("{}: {}", only.field, only.message),
            _ => "The request is not valid".to_owned(),
        };
        Self { errors, ..Self::with_detail(ErrorCode::ValidationError, detail) }
    }

    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError { field: field.to_owned(), message: message.into() }])
    }

    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound)
    }

    /// The task API's body of this error; the OpenAPI document's examples are made with it, so
    /// they show exactly what the service sends.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            detail: self.detail.as_deref().unwrap_or(self.code.default_detail()).to_owned(),
            error_code: self.code,
            status_code: self.code.status().as_u16(),
            errors: self.errors.clone(),
        }
    }

    /// Better Auth's body of this error.
    pub fn auth_body(&self) -> AuthErrorBody {
        let message = self.detail.clone().unwrap_or(Cow::Borrowed(self.code.auth_message()));
        AuthErrorBody { code: self.code.auth_str(), message }
    }

    /// The answer in Better Auth's convention, with `X-Retry-After` beside `Retry-After`.
    pub fn auth_response(self) -> Response {
        let mut response = (self.code.auth_status(), axum::Json(self.auth_body())).into_response();
        if let Some(seconds) = self.retry_after_secs() {
            let headers = response.headers_mut();
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            headers.insert("x-retry-after", HeaderValue::from(seconds));
        }
        response
    }

    fn retry_after_secs(&self) -> Option<u64> {
        let status = self.code.status();
        let backs_off =
            status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS;
        self.retry_after.or(backs_off.then_some(RETRY_AFTER_SECONDS))
    }

    /// A failure whose cause is logged here and never shown to the client.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(ErrorCode::InternalError)
    }

    /// A request body field Better Auth's way: 400 `VALIDATION_ERROR`, `[body.<field>] Invalid
    /// input` (serde's own message is never echoed: it may quote the input).
    pub fn invalid_body_field(field: &str) -> Self {
        Self::with_detail(ErrorCode::ValidationError, format!("[body.{field}] Invalid input"))
    }

    /// A rate limit: 429 with the wait until its window ends.
    pub fn too_many_requests(limited: Limited) -> Self {
        Self {
            retry_after: Some(limited.retry_after_secs),
            ..Self::new(ErrorCode::TooManyRequests)
        }
    }

    pub fn password(rejected: Rejected) -> Self {
        Self::new(match rejected {
            Rejected::TooShort => ErrorCode::PasswordTooShort,
            Rejected::TooLong => ErrorCode::PasswordTooLong,
            Rejected::Common => ErrorCode::PasswordCompromised,
        })
    }

    /// update-user with nothing to change.
    pub fn nothing_to_update() -> Self {
        Self::with_detail(ErrorCode::BadRequest, "No fields to update")
    }

    /// The error for a bare status made outside the handlers under `/api/auth` (the edge's
    /// timeout, the body limit, the router's 404 and 405), in Better Auth's terms.
    pub fn for_auth_status(status: StatusCode) -> Self {
        let code = match status {
            StatusCode::UNAUTHORIZED => ErrorCode::Unauthorized,
            StatusCode::NOT_FOUND => ErrorCode::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
            StatusCode::REQUEST_TIMEOUT => ErrorCode::RequestTimeout,
            StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
            StatusCode::TOO_MANY_REQUESTS => ErrorCode::TooManyRequests,
            StatusCode::SERVICE_UNAVAILABLE => ErrorCode::ServiceUnavailable,
            // A status no code stands for keeps its number (the edge keeps it), with the generic
            // code.
            status if status.is_client_error() => ErrorCode::BadRequest,
            _ => ErrorCode::InternalError,
        };
        Self::new(code)
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
            StoreError::LimitReached { limit } => ApiError::with_detail(
                ErrorCode::TaskLimitReached,
                format!("You have {limit} tasks, the most allowed; delete some to create more"),
            ),
            StoreError::TagLimitReached { limit } => ApiError::with_detail(
                ErrorCode::TagLimitReached,
                format!("You have {limit} tags, the most allowed; use or rename an existing one"),
            ),
            StoreError::Invalid(invalid) => invalid.into(),
            StoreError::ListNameTaken => ApiError::new(ErrorCode::ListNameTaken),
            StoreError::ListLimitReached { limit } => ApiError::with_detail(
                ErrorCode::ListLimitReached,
                format!("You have {limit} lists, the most allowed; delete one to create another"),
            ),
            StoreError::ListNotEmpty { tasks } => ApiError::with_detail(
                ErrorCode::ListNotEmpty,
                format!(
                    "The list has {tasks} task{}: say what becomes of them with ?tasks=inbox \
                     (moved to the inbox) or ?tasks=delete",
                    if tasks == 1 { "" } else { "s" }
                ),
            ),
            StoreError::TaskHasSubtasks { subtasks } => ApiError::with_detail(
                ErrorCode::TaskHasSubtasks,
                format!(
                    "The task has {subtasks} subtask{}: delete them with it with \
                     ?subtasks=delete, or move them first",
                    if subtasks == 1 { "" } else { "s" }
                ),
            ),
            StoreError::Internal(cause) => ApiError::internal(&cause),
        }
    }
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> Self {
        Self::new(code)
    }
}

impl From<crate::services::password::HashError> for ApiError {
    fn from(error: crate::services::password::HashError) -> Self {
        Self::internal(&error)
    }
}

impl IntoResponse for ApiError {
    /// The task API's answer; the error rides along in the response's extensions, so the edge
    /// can answer it in the convention of the surface it belongs to.
    fn into_response(self) -> Response {
        let status = self.code.status();
        let www_authenticate = self.www_authenticate();
        let retry_after = self.retry_after_secs();
        let mut response = (status, axum::Json(self.body())).into_response();
        let headers = response.headers_mut();
        if let Some(value) = www_authenticate {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        if let Some(seconds) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response.extensions_mut().insert(self);
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
