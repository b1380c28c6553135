//! The error responses the task API's routes document: each status with its own description and
//! examples made by the very code that answers it, so the document cannot drift from the service.

use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::{ContentBuilder, Object, Ref, RefOr, Response, ResponseBuilder, Type};
use utoipa::{IntoParams, ToResponse, ToSchema};

use crate::domain::tasks::{DueInput, TaskDraft, TaskId, TaskInput, TaskQuery};
use crate::http::error::{ApiError, ErrorBody, ErrorCode};

/// The optional `Idempotency-Key` header of `POST /api/{user_id}/tasks`, for the document only.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKeyHeader {
    /// Makes retries safe: a retry with the same key and body gets the first answer and creates
    /// nothing; the same key with another body is a 422 `IDEMPOTENCY_KEY_REUSED`.
    #[param(rename = "Idempotency-Key", required = false)]
    pub idempotency_key: String,
}

/// One named example of an error body: (name, summary, the error).
type Example = (&'static str, &'static str, ApiError);

/// An error response with the one error body, its description and its examples.
fn error_response(description: &str, examples: Vec<Example>) -> ResponseBuilder {
    let examples = examples.into_iter().map(|(name, summary, error)| {
        let value = serde_json::to_value(error.body()).ok();
        (name, ExampleBuilder::new().summary(summary).value(value).build())
    });
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(ErrorBody::name())))
        .examples_from_iter(examples)
        .build();
    ResponseBuilder::new().description(description).content("application/json", content)
}

/// Responses that ask the client to come back later say when.
fn with_retry_after(response: ResponseBuilder) -> ResponseBuilder {
    response.header(
        "Retry-After",
        HeaderBuilder::new()
            .schema(Some(Object::with_type(Type::Integer)))
            .description(Some("Seconds to wait before retrying"))
            .build(),
    )
}

/// The error a refused input gets. Should the input ever be accepted, the example becomes a 500,
/// which the document's test reports instead of silently showing a stale example.
fn refusal<T, E: Into<ApiError>>(result: Result<T, E>) -> ApiError {
    result.err().map_or_else(|| ApiError::new(ErrorCode::InternalError), Into::into)
}

/// The 422 a bad `{id}` path segment gets.
fn malformed_id() -> Example {
    ("malformed_task_id", "The `{id}` path segment is not a UUID", refusal(TaskId::parse("42")))
}

/// The 422 a task body with an empty title gets.
fn empty_title() -> Example {
    let input = TaskInput { title: "  ".to_owned(), ..input() };
    ("empty_title", "The title is empty once trimmed", refusal(TaskDraft::try_from(input)))
}

/// The 422 a task body with several problems gets: every field error at once.
fn several_fields() -> Example {
    let input = TaskInput {
        title: "\u{200B}".to_owned(),
        description: Some("invoice \u{202E}fdp.exe".to_owned()),
        ..input()
    };
    let summary = "An invisible title and a description with a bidirectional control";
    ("several_fields", summary, refusal(TaskDraft::try_from(input)))
}

/// A task input with only a title.
fn input() -> TaskInput {
    TaskInput {
        title: "Buy milk".to_owned(),
        description: None,
        completed: None,
        priority: None,
        tags: None,
        due: None,
        list_id: None,
        parent_id: None,
    }
}

/// The 422s of the organising fields: a bad tag, a due in a zone that does not exist, a time
/// without a zone.
fn bad_organising_fields() -> Example {
    let input = TaskInput {
        tags: Some(vec!["Work".to_owned(), "x".repeat(33)]),
        due: Some(DueInput {
            date: "2026-02-30".to_owned(),
            time: Some("09:30".to_owned()),
            time_zone: Some("Mars/Olympus".to_owned()),
            at: None,
        }),
        ..input()
    };
    let summary = "A tag over 32 characters, a date that does not exist, an unknown time zone";
    ("bad_tags_and_due", summary, refusal(TaskDraft::try_from(input)))
}

/// The 422 of a body naming a field clients may not set, as the JSON extractor words it.
fn unknown_field() -> Example {
    let message = "unknown field `id`, expected one of `title`, `description`, `completed`, \
                   `priority`, `tags`, `due`, `list_id`, `parent_id`";
    ("unknown_field", "A field clients may not set", ApiError::invalid_field("id", message))
}

/// Declares a reusable response component named after its type (for `response = ...` in the
/// handlers' annotations), built by the function given.
macro_rules! response_component {
    ($(#[$doc:meta])* $name:ident, $build:ident) => {
        $(#[$doc])*
        pub struct $name;

        impl<'r> ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<Response>) {
                (stringify!($name), $build().build().into())
            }
        }
    };
}

response_component!(
    /// 400: the body is not JSON.
    BadRequest,
    bad_request
);
fn bad_request() -> ResponseBuilder {
    error_response(
        "The body is not valid JSON",
        vec![("bad_request", "Truncated or otherwise broken JSON", ErrorCode::BadRequest.into())],
    )
}

response_component!(
    /// 401: no usable token; `WWW-Authenticate` says why.
    Unauthorized,
    unauthorized
);
fn unauthorized() -> ResponseBuilder {
    let examples = vec![
        ("missing_token", "No `Authorization` header", ErrorCode::MissingToken.into()),
        (
            "token_expired",
            "Past `exp` (plus leeway), or `nbf`/`iat` in the future",
            ErrorCode::TokenExpired.into(),
        ),
        (
            "invalid_token_signature",
            "The signature does not verify",
            ErrorCode::InvalidTokenSignature.into(),
        ),
    ];
    let challenge = HeaderBuilder::new()
        .schema(Some(Object::with_type(Type::String)))
        .description(Some(
            "`Bearer realm=\"taskgate\"`, plus `error` and `error_description` when a credential \
             was sent",
        ))
        .build();
    error_response(
        "No usable bearer token: missing, malformed, badly signed, expired or not yet valid, \
         without a user id, or not an access token for this service (see `error_code`)",
        examples,
    )
    .header("WWW-Authenticate", challenge)
}

response_component!(
    /// 403: another user's path.
    Forbidden,
    forbidden
);
fn forbidden() -> ResponseBuilder {
    error_response(
        "The token's user is not the `{user_id}` of the path (the same answer whether or not \
         that user exists)",
        vec![(
            "forbidden_user_access",
            "A token for another user",
            ErrorCode::ForbiddenUserAccess.into(),
        )],
    )
}

response_component!(
    /// 404: no such task for this user.
    NotFound,
    not_found
);
fn not_found() -> ResponseBuilder {
    error_response(
        "No task with this id belongs to this user (another user's task included)",
        vec![("not_found", "No such task", ErrorCode::NotFound.into())],
    )
}

response_component!(
    /// 413: the body is over the limit.
    PayloadTooLarge,
    payload_too_large
);
fn payload_too_large() -> ResponseBuilder {
    error_response(
        "The body is over 64 KiB",
        vec![("payload_too_large", "A body over 64 KiB", ErrorCode::PayloadTooLarge.into())],
    )
}

response_component!(
    /// 415: a body that is not JSON by its content type.
    UnsupportedMediaType,
    unsupported_media_type
);
fn unsupported_media_type() -> ResponseBuilder {
    error_response(
        "The body's `Content-Type` is not `application/json`",
        vec![(
            "unsupported_media_type",
            "A form or text body",
            ErrorCode::UnsupportedMediaType.into(),
        )],
    )
}

response_component!(
    /// 422 of `GET /tasks`: paging parameters.
    InvalidListQuery,
    invalid_list_query
);
fn invalid_list_query() -> ResponseBuilder {
    let query = |raw: &str| refusal(TaskQuery::parse(Some(raw), 0));
    error_response(
        "A parameter is not acceptable: an unknown one, `limit` outside 1 to 500, a malformed \
         value (date, zone, sort, priority, tag), or a `cursor` this service did not issue or \
         issued for other filters or another sort",
        vec![
            ("bad_limit", "`limit` out of range", query("limit=0")),
            ("bad_cursor", "A cursor this service did not issue", query("cursor=!")),
            ("unknown_parameter", "A parameter this list does not have", query("colour=red")),
            ("bad_date", "A date that does not exist", query("due_from=2026-02-30")),
            ("bad_zone", "An unknown time zone", query("overdue=true&tz=Mars/Olympus")),
            ("bad_sort", "An unknown sort", query("sort=size")),
        ],
    )
}

response_component!(
    /// 422 of the routes that take a task id and no body.
    InvalidTaskId,
    invalid_task_id
);
fn invalid_task_id() -> ResponseBuilder {
    error_response("The `{id}` path segment is not a task id (a UUID)", vec![malformed_id()])
}

response_component!(
    /// 422 of `POST /tasks`: the body, or a reused `Idempotency-Key`.
    InvalidNewTask,
    invalid_new_task
);
fn invalid_new_task() -> ResponseBuilder {
    error_response(
        "The body is not an acceptable task (`errors` lists each field), or its \
         `Idempotency-Key` was already used with a different body",
        vec![
            empty_title(),
            several_fields(),
            bad_organising_fields(),
            unknown_field(),
            (
                "idempotency_key_reused",
                "The same `Idempotency-Key` with another body",
                ErrorCode::IdempotencyKeyReused.into(),
            ),
        ],
    )
}

response_component!(
    /// 422 of `PUT /tasks/{id}`: the body or the id.
    InvalidTask,
    invalid_task
);
fn invalid_task() -> ResponseBuilder {
    error_response(
        "The body is not an acceptable task (`errors` lists each field), or the `{id}` path \
         segment is not a task id",
        vec![
            empty_title(),
            several_fields(),
            bad_organising_fields(),
            unknown_field(),
            malformed_id(),
        ],
    )
}

response_component!(
    /// 422 of `PATCH /tasks/{id}`: the merge patch, the task it makes, or the id.
    InvalidPatch,
    invalid_patch
);
fn invalid_patch() -> ResponseBuilder {
    let patch = |raw: serde_json::Value| {
        let task = crate::domain::tasks::patch::example_task();
        let serde_json::Value::Object(members) = raw else { unreachable!("an object") };
        refusal(crate::domain::tasks::patch::merge_into(&task, members))
    };
    error_response(
        "The patch names a member a task does not have or sets `title` to null, the task it \
         makes is not acceptable (`errors` lists each field), or the `{id}` path segment is \
         not a task id",
        vec![
            (
                "null_title",
                "`title: null`: a task always has a title",
                patch(serde_json::json!({"title": null})),
            ),
            (
                "unknown_member",
                "A member a task does not have",
                patch(serde_json::json!({"colour": "red"})),
            ),
            bad_organising_fields(),
            malformed_id(),
        ],
    )
}

response_component!(
    /// 412 of the conditional writes.
    PreconditionFailed,
    precondition_failed
);
fn precondition_failed() -> ResponseBuilder {
    error_response(
        "`If-Match` does not name the task's current version: it was changed since the client \
         read it. Nothing was changed; the `ETag` header is the current version",
        vec![(
            "precondition_failed",
            "Another client changed the task first",
            ErrorCode::PreconditionFailed.into(),
        )],
    )
    .header(
        "ETag",
        HeaderBuilder::new()
            .schema(Some(Object::with_type(Type::String)))
            .description(Some("The task's current version, quoted"))
            .build(),
    )
}

response_component!(
    /// 422 of `PATCH /tags/{name}`: the new name.
    InvalidTagRename,
    invalid_tag_rename
);
fn invalid_tag_rename() -> ResponseBuilder {
    let rename =
        |name: &str| refusal(crate::domain::tasks::TagRename { name: name.to_owned() }.parse());
    error_response(
        "The new name is not a tag name: 1 to 32 characters, with the title's rules",
        vec![
            ("empty_name", "An empty name", rename(" ")),
            ("long_name", "Over 32 characters", rename(&"x".repeat(33))),
        ],
    )
}

response_component!(
    /// 409 of the writes that create tags.
    TagLimitReached,
    tag_limit_reached
);
fn tag_limit_reached() -> ResponseBuilder {
    error_response(
        "The write would give the user more than 1,000 tags; nothing was written",
        vec![(
            "tag_limit_reached",
            "The cap is reached",
            crate::store::StoreError::TagLimitReached { limit: 1000 }.into(),
        )],
    )
}

response_component!(
    /// 422 of `PATCH /tasks/{id}/complete`: the body or the id.
    InvalidCompletion,
    invalid_completion
);
fn invalid_completion() -> ResponseBuilder {
    error_response(
        "The body is not `{\"completed\": bool}`, or the `{id}` path segment is not a task id",
        vec![
            (
                "completed_not_a_boolean",
                "`completed` of the wrong type",
                ApiError::invalid_field(
                    "completed",
                    "invalid type: string \"yes\", expected a boolean",
                ),
            ),
            malformed_id(),
        ],
    )
}

response_component!(
    /// 429: the user's requests in flight are capped.
    TooManyRequests,
    too_many_requests
);
fn too_many_requests() -> ResponseBuilder {
    with_retry_after(error_response(
        "Too many requests of this user are in flight; retry after `Retry-After` seconds",
        vec![(
            "too_many_requests",
            "The user's in-flight cap is reached",
            ErrorCode::TooManyRequests.into(),
        )],
    ))
}

response_component!(
    /// 409 of `POST /tasks`: the per-user cap.
    TaskLimitReached,
    task_limit_reached
);
fn task_limit_reached() -> ResponseBuilder {
    error_response(
        "The user already has the most tasks allowed (`TASKGATE_MAX_TASKS_PER_USER`), or the \
         task's new tags would pass the most tags allowed (1,000); nothing was created",
        vec![
            (
                "task_limit_reached",
                "The cap is reached",
                crate::store::StoreError::LimitReached { limit: 10_000 }.into(),
            ),
            (
                "tag_limit_reached",
                "The task's new tags would pass 1,000 tags",
                crate::store::StoreError::TagLimitReached { limit: 1000 }.into(),
            ),
        ],
    )
}

response_component!(
    /// 503 of the task routes.
    ServiceUnavailable,
    service_unavailable
);
fn service_unavailable() -> ResponseBuilder {
    with_retry_after(error_response(
        "The database is locked or unreachable, the service is at capacity, or a JWKS issuer \
         has never been reachable; retry after `Retry-After` seconds",
        vec![("service_unavailable", "Try again shortly", ErrorCode::ServiceUnavailable.into())],
    ))
}

response_component!(
    /// 503 of `/readyz`.
    NotReady,
    not_ready
);
fn not_ready() -> ResponseBuilder {
    with_retry_after(error_response(
        "Not ready: writes cannot succeed (the database does not answer, or the SQLite writer has \
         stopped); a load balancer should send traffic elsewhere",
        vec![("not_ready", "The database does not answer", ErrorCode::ServiceUnavailable.into())],
    ))
}

response_component!(
    /// 409 of `DELETE /tasks/{id}`: the task has subtasks.
    TaskHasSubtasks,
    task_has_subtasks
);
fn task_has_subtasks() -> ResponseBuilder {
    error_response(
        "The task has subtasks and `?subtasks=delete` was not given; nothing was deleted",
        vec![(
            "task_has_subtasks",
            "Three subtasks would go with it",
            crate::store::StoreError::TaskHasSubtasks { subtasks: 3 }.into(),
        )],
    )
}

response_component!(
    /// 409 of `POST /lists` and `PUT`/`PATCH /lists/{id}`: the name, or the per-user cap.
    ListConflict,
    list_conflict
);
fn list_conflict() -> ResponseBuilder {
    error_response(
        "Another of the user's lists has this name (case-insensitively), or the user already \
         has 500 lists; nothing was written",
        vec![
            (
                "list_name_taken",
                "The name is taken",
                crate::store::StoreError::ListNameTaken.into(),
            ),
            (
                "list_limit_reached",
                "The cap is reached",
                crate::store::StoreError::ListLimitReached { limit: 500 }.into(),
            ),
        ],
    )
}

response_component!(
    /// 409 of `DELETE /lists/{id}`: the list has tasks.
    ListNotEmpty,
    list_not_empty
);
fn list_not_empty() -> ResponseBuilder {
    error_response(
        "The list has tasks and `?tasks=inbox` or `?tasks=delete` was not given; nothing was \
         deleted",
        vec![(
            "list_not_empty",
            "The list has 12 tasks",
            crate::store::StoreError::ListNotEmpty { tasks: 12 }.into(),
        )],
    )
}

response_component!(
    /// 422 of the list writes: the body's fields.
    InvalidList,
    invalid_list
);
fn invalid_list() -> ResponseBuilder {
    let list = |name: &str, color: Option<&str>| {
        refusal(crate::domain::lists::ListDraft::try_from(crate::domain::lists::ListInput {
            name: name.to_owned(),
            color: color.map(str::to_owned),
            position: None,
        }))
    };
    error_response(
        "A field is not acceptable (the name: 1 to 100 characters with the title's rules; the \
         colour: #rrggbb or null; the position: an integer from -10^12 to 10^12), or the \
         `{list_id}` path segment is not a list id",
        vec![
            ("empty_name", "An empty name", list(" ", None)),
            ("bad_color", "A colour that is not #rrggbb", list("Work", Some("red"))),
        ],
    )
}
