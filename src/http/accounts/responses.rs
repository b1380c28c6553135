//! What the `/api/auth` routes answer, as the OpenAPI document describes it: their bodies, and
//! their `{"code", "message"}` errors with examples made by the very constructors the handlers
//! answer with.

use axum::http::StatusCode;
use serde::Serialize;
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::{ContentBuilder, Object, Ref, RefOr, Response, ResponseBuilder, Type};
use utoipa::{ToResponse, ToSchema};

use crate::domain::accounts::{SessionView, User};
use crate::http::error::{ApiError, ErrorCode};
use crate::services::limits::{self, Limited};
use crate::services::password::Rejected;

/// The answer of sign-up, and of change-password: the new session's token (also set as the
/// cookie), or `null` when change-password kept the current session.
#[derive(Serialize, ToSchema)]
pub struct SessionStarted {
    pub token: Option<String>,
    pub user: User,
}

/// The answer of sign-in.
#[derive(Serialize, ToSchema)]
pub struct SignedIn {
    /// Always `false`: there is no redirect to follow.
    pub redirect: bool,
    /// The session token, also set as the cookie.
    pub token: String,
    pub user: User,
}

/// The answer of get-session with a live session (`null` without one).
#[derive(Serialize, ToSchema)]
pub struct SessionAndUser<'a> {
    pub session: SessionView<'a>,
    pub user: &'a User,
}

/// A JWT for the task API, valid for 15 minutes.
#[derive(Serialize, ToSchema)]
pub struct AccessToken {
    pub token: String,
}

/// The answer of the revoke routes and of update-user.
#[derive(Serialize, ToSchema)]
pub struct Done {
    /// Always `true`.
    pub status: bool,
}

/// The answer of sign-out and delete-user.
#[derive(Serialize, ToSchema)]
pub struct Success {
    /// Always `true`.
    pub success: bool,
    /// `"User deleted"` after delete-user; absent after sign-out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'static str>,
}

impl Done {
    pub const DONE: Self = Self { status: true };
}

impl Success {
    pub const SIGNED_OUT: Self = Self { success: true, message: None };
    pub const USER_DELETED: Self = Self { success: true, message: Some("User deleted") };
}

/// A body as the document's example: the very value the handler sends.
fn example(body: impl Serialize) -> serde_json::Value {
    serde_json::to_value(body).unwrap_or_default()
}

/// The example of the revoke routes and update-user.
pub(crate) fn done() -> serde_json::Value {
    example(Done::DONE)
}

/// The example of sign-out.
pub(crate) fn signed_out() -> serde_json::Value {
    example(Success::SIGNED_OUT)
}

/// The example of delete-user.
pub(crate) fn user_deleted() -> serde_json::Value {
    example(Success::USER_DELETED)
}

/// One named example of an auth error: (name, summary, the error).
type Example = (&'static str, &'static str, ApiError);

/// An error response: the status it documents, its description, and its examples, each made by
/// the constructor the handlers answer with.
struct ErrorResponse {
    status: StatusCode,
    description: &'static str,
    examples: Vec<Example>,
}

impl ErrorResponse {
    fn new(status: StatusCode, description: &'static str, examples: Vec<Example>) -> Self {
        Self { status, description, examples }
    }

    /// The response object, with Better Auth's error body and the examples' bodies. An example of
    /// another status would document an answer this response never is: debug builds (tests) stop.
    fn build(self) -> ResponseBuilder {
        let status = self.status;
        let examples = self.examples.into_iter().map(|(name, summary, error)| {
            debug_assert_eq!(error.code().auth_status(), status, "example {name}");
            (
                name,
                ExampleBuilder::new()
                    .summary(summary)
                    .value(Some(example(error.auth_body())))
                    .build(),
            )
        });
        let content = ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(crate::http::error::AuthErrorBody::name())))
            .examples_from_iter(examples)
            .build();
        ResponseBuilder::new().description(self.description).content("application/json", content)
    }
}

/// Declares a reusable response component named after its type (for `response = ...` in the
/// handlers' annotations), built from the [`ErrorResponse`] the function given describes, plus
/// the headers the optional closure adds.
macro_rules! auth_response {
    ($(#[$doc:meta])* $name:ident, $describe:ident $(, $headers:expr)?) => {
        $(#[$doc])*
        pub struct $name;

        impl<'r> ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<Response>) {
                let response = $describe().build();
                $(let response = $headers(response);)?
                (stringify!($name), response.build().into())
            }
        }
    };
}

fn validation_error(field: &'static str) -> Example {
    let summary = "A field missing, of the wrong type or too long, or a body that is not JSON";
    ("validation_error", summary, ApiError::invalid_body_field(field))
}

fn invalid_email() -> Example {
    ("invalid_email", "Not an e-mail address", ApiError::new(ErrorCode::InvalidEmail))
}

fn password_too_short() -> Example {
    ("password_too_short", "Fewer than 8 characters", ApiError::password(Rejected::TooShort))
}

fn password_too_long() -> Example {
    ("password_too_long", "More than 128 characters", ApiError::password(Rejected::TooLong))
}

fn password_compromised() -> Example {
    let summary = "One of the most common passwords";
    ("password_compromised", summary, ApiError::password(Rejected::Common))
}

fn invalid_password() -> Example {
    ("invalid_password", "The current password is wrong", ApiError::new(ErrorCode::InvalidPassword))
}

auth_response!(
    /// 400 of revoke-session: a body that is not the JSON expected.
    AuthBadRequest,
    bad_request
);
fn bad_request() -> ErrorResponse {
    ErrorResponse::new(
        StatusCode::BAD_REQUEST,
        "The body is not JSON, or lacks the session's `token`",
        vec![validation_error("token")],
    )
}

auth_response!(
    /// 400 of sign-up: the body, the e-mail or the new password.
    AuthSignUpRefused,
    sign_up_refused
);
fn sign_up_refused() -> ErrorResponse {
    ErrorResponse::new(
        StatusCode::BAD_REQUEST,
        "The body is not the JSON expected (a field missing, of the wrong type or too long), the \
         e-mail is not an address, or the password is too short, too long or one of the most \
         common ones",
        vec![
            validation_error("email"),
            invalid_email(),
            password_too_short(),
            password_too_long(),
            password_compromised(),
        ],
    )
}

auth_response!(
    /// 400 of sign-in: the body, the e-mail, or a password longer than any accepted.
    AuthSignInRefused,
    sign_in_refused
);
fn sign_in_refused() -> ErrorResponse {
    ErrorResponse::new(
        StatusCode::BAD_REQUEST,
        "The body is not the JSON expected, the e-mail is not an address, or the password is \
         longer than any accepted (a short one is simply wrong: 401)",
        vec![validation_error("email"), invalid_email(), password_too_long()],
    )
}

auth_response!(
    /// 400 of change-password: the body, the current password, or the new one.
    AuthNewPasswordRefused,
    new_password_refused
);
fn new_password_refused() -> ErrorResponse {
    ErrorResponse::new(
        StatusCode::BAD_REQUEST,
        "The body is not the JSON expected, the new password is too short, too long or one of \
         the most common ones, or the current password is wrong",
        vec![
            validation_error("currentPassword"),
            password_too_short(),
            password_too_long(),
            password_compromised(),
            invalid_password(),
        ],
    )
}

auth_response!(
    /// 400 of delete-user: the password confirming it is wrong.
    AuthWrongPassword,
    wrong_password
);
fn wrong_password() -> ErrorResponse {
    ErrorResponse::new(
        StatusCode::BAD_REQUEST,
        "The body is not the JSON expected, or the password given to confirm is not the user's",
        vec![validation_error("password"), invalid_password(), password_too_long()],
    )
}

auth_response!(
    /// 400 of update-user.
    AuthUpdateRefused,
    update_refused
);
fn update_refused() -> ErrorResponse {
    ErrorResponse::new(
        StatusCode::BAD_REQUEST,
        "The body is not a JSON object, has a `name` or `image` of the wrong type or too long, \
         names no field to update, or tries to change the e-mail",
        vec![
            validation_error("name"),
            (
                "email_can_not_be_updated",
                "The e-mail cannot be changed here",
                ApiError::new(ErrorCode::EmailCanNotBeUpdated),
            ),
        ],
    )
}

auth_response!(
    /// 401: no live session.
    AuthUnauthorized,
    unauthorized
);
fn unauthorized() -> ErrorResponse {
    ErrorResponse::new(
        StatusCode::UNAUTHORIZED,
        "No live session: no session cookie or bearer session token, or one that is expired, \
         revoked or forged",
        vec![("unauthorized", "No live session", ApiError::new(ErrorCode::Unauthorized))],
    )
}

auth_response!(
    /// 401 of sign-in.
    AuthInvalidCredentials,
    invalid_credentials
);
fn invalid_credentials() -> ErrorResponse {
    ErrorResponse::new(
        StatusCode::UNAUTHORIZED,
        "The e-mail is unknown or the password wrong (the same answer, in the same time)",
        vec![(
            "invalid_email_or_password",
            "Wrong e-mail or password",
            ApiError::new(ErrorCode::InvalidEmailOrPassword),
        )],
    )
}

auth_response!(
    /// 403: a POST from a page of another origin (login CSRF included), or riding on the
    /// session cookie without an `Origin`.
    AuthCrossSite,
    cross_site
);
fn cross_site() -> ErrorResponse {
    ErrorResponse::new(
        StatusCode::FORBIDDEN,
        "A browser says the request comes from a page that is not a trusted origin (the public \
         URL, `TASKGATE_TRUSTED_ORIGINS`, `TASKGATE_CORS_ORIGINS`): an untrusted or `null` \
         `Origin`, or, without one, a `Sec-Fetch-Site` other than `same-origin`; or it carries \
         the session cookie without an `Origin`. Cookie or not; nothing was changed",
        vec![
            (
                "missing_or_null_origin",
                "No `Origin` header",
                ApiError::new(ErrorCode::MissingOrNullOrigin),
            ),
            (
                "invalid_origin",
                "An origin that is not trusted",
                ApiError::new(ErrorCode::InvalidOrigin),
            ),
        ],
    )
}

auth_response!(
    /// 415: a body that is not `application/json` (what an HTML form sends).
    AuthUnsupportedMediaType,
    unsupported_media_type
);
fn unsupported_media_type() -> ErrorResponse {
    ErrorResponse::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "The body is not `application/json`; refused before it is read",
        vec![(
            "unsupported_media_type",
            "A text/plain or form body",
            ApiError::new(ErrorCode::UnsupportedMediaType),
        )],
    )
}

auth_response!(
    /// 413: a body over the limit.
    AuthPayloadTooLarge,
    payload_too_large
);
fn payload_too_large() -> ErrorResponse {
    ErrorResponse::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "The body is over 16 KiB",
        vec![(
            "payload_too_large",
            "A body over 16 KiB",
            ApiError::new(ErrorCode::PayloadTooLarge),
        )],
    )
}

auth_response!(
    /// 422 of sign-up: the e-mail has an account.
    AuthEmailTaken,
    email_taken
);
fn email_taken() -> ErrorResponse {
    ErrorResponse::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "An account with this e-mail exists",
        vec![(
            "user_already_exists",
            "The e-mail is taken",
            ApiError::new(ErrorCode::UserAlreadyExistsUseAnotherEmail),
        )],
    )
}

auth_response!(
    /// 429: a rate limit, with when to come back.
    AuthTooManyRequests,
    too_many_requests,
    |response: ResponseBuilder| response
        .header("Retry-After", retry_after())
        .header("X-Retry-After", retry_after())
);
fn too_many_requests() -> ErrorResponse {
    let limited = Limited { rule: limits::PER_ADDRESS.name, retry_after_secs: 42 };
    ErrorResponse::new(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many requests from this address (100 a minute; 3 password attempts per 10 s), or \
         too many sign-ins at this account (10 a minute)",
        vec![("too_many_requests", "A rate limit was hit", ApiError::too_many_requests(limited))],
    )
}

fn retry_after() -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(Some(Object::with_type(Type::Integer)))
        .description(Some("Seconds to wait before retrying"))
        .build()
}

auth_response!(
    /// 503: the database cannot be reached, or the service is at capacity.
    AuthUnavailable,
    unavailable,
    |response: ResponseBuilder| response
        .header("Retry-After", retry_after())
        .header("X-Retry-After", retry_after())
);
fn unavailable() -> ErrorResponse {
    ErrorResponse::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "The database cannot be reached, or the service is at capacity; retry shortly",
        vec![(
            "service_unavailable",
            "Try again shortly",
            ApiError::new(ErrorCode::ServiceUnavailable),
        )],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_is_an_error_of_its_responses_status() {
        let all = [
            bad_request,
            sign_up_refused,
            sign_in_refused,
            new_password_refused,
            wrong_password,
            update_refused,
            unauthorized,
            invalid_credentials,
            cross_site,
            payload_too_large,
            email_taken,
            too_many_requests,
            unavailable,
        ];
        for describe in all {
            let ErrorResponse { status, description, examples } = describe();
            assert!(!examples.is_empty(), "{description}");
            for (name, _, error) in examples {
                assert_eq!(error.code().auth_status(), status, "{description}: example {name}");
                let body = error.auth_body();
                assert!(!body.code.is_empty() && !body.message.is_empty(), "{name}: {body:?}");
            }
        }
    }
}
