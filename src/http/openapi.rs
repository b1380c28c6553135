//! The OpenAPI document, generated from the handlers' annotations and the error responses of
//! [`crate::http::responses`], served at `/openapi.json` with Swagger UI at `/docs`. The
//! `/api/auth` part is built beside its handlers (`crate::http::accounts::openapi`) and merged in.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use crate::domain::lists::{List, ListInput};
use crate::domain::tasks::{
    CompletionInput, DueInput, Priority, TagRename, TagSummary, Task, TaskInput,
};
use crate::http::error::{ErrorBody, ErrorCode, FieldError};
use crate::http::health::{self, HealthStatus};
use crate::http::lists;
use crate::http::responses::{
    BadRequest, Forbidden, InvalidCompletion, InvalidList, InvalidListQuery, InvalidNewTask,
    InvalidPatch, InvalidTagRename, InvalidTask, InvalidTaskId, ListConflict, ListNotEmpty,
    NotFound, NotReady, PayloadTooLarge, PreconditionFailed, ServiceUnavailable, TagLimitReached,
    TaskHasSubtasks, TaskLimitReached, TooManyRequests, Unauthorized, UnsupportedMediaType,
};
use crate::http::tasks::{handlers, tags};

/// The routes [`router`] serves (Swagger UI's own: `/docs` redirects to `/docs/`).
pub const ROUTES: [&str; 4] = ["/openapi.json", "/docs", "/docs/", "/docs/{*rest}"];

/// `/openapi.json`, and the browsable docs at `/docs` (Swagger UI, served from the binary).
pub fn router<S: Clone + Send + Sync + 'static>() -> axum::Router<S> {
    SwaggerUi::new("/docs").url("/openapi.json", ApiDoc::openapi()).into()
}

/// The route templates of the documented API (tasks, health, `/api/auth`), as the router has them.
pub fn documented_routes() -> Vec<String> {
    ApiDoc::openapi().paths.paths.into_keys().collect()
}

#[derive(OpenApi)]
#[openapi(
    info(title = "taskgate", description = "A multi-user todo service. Every task route needs `Authorization: Bearer <JWT>` whose user id is the `{user_id}` of the path; `/api/auth` (Better Auth's protocol) makes accounts and sessions and issues those JWTs.\n\n**Getting a token to try it here:** sign up or sign in below (`POST /api/auth/sign-up/email` or `/api/auth/sign-in/email`, or in the web app at `/`), then call `GET /api/auth/token`: this page sends your session cookie, and the answer's `token` is the JWT. Click *Authorize*, paste it under **BearerAuth**, and use the `user.id` of the sign-up answer as `{user_id}`. From a shell, `taskgate token --user alice` (run beside the server) prints a token for the user `alice`."),
    paths(
        handlers::list_tasks, handlers::create_task, handlers::get_task,
        handlers::replace_task, handlers::patch_task, handlers::delete_task,
        handlers::complete_task, tags::list_tags, tags::rename_tag, tags::delete_tag,
        lists::list_lists, lists::create_list, lists::get_list, lists::replace_list,
        lists::patch_list, lists::delete_list,
        health::healthz, health::readyz,
    ),
    components(
        schemas(
            Task, TaskInput, CompletionInput, Priority, DueInput, TagSummary, TagRename, List,
            ListInput,
            ErrorBody, ErrorCode, FieldError, HealthStatus,
        ),
        responses(
            BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, UnsupportedMediaType,
            InvalidListQuery, InvalidTaskId, InvalidNewTask, InvalidTask, InvalidPatch,
            InvalidCompletion, InvalidTagRename, TooManyRequests, ServiceUnavailable, NotReady,
            TaskLimitReached, TagLimitReached, PreconditionFailed, TaskHasSubtasks, ListConflict,
            ListNotEmpty, InvalidList,
        ),
    ),
    modifiers(&BearerAuth, &AuthApi),
    tags(
        (name = "tasks", description = "A user's tasks"),
        (name = "tags", description = "A user's tags, across their tasks"),
        (name = "lists", description = "A user's lists of tasks (a task in none is in the inbox)"),
        (name = "health", description = "Liveness and readiness for load balancers; no token"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "BearerAuth",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token: `GET /api/auth/token` after signing in (its `token`), or \
                         `taskgate token --user ID` beside the server. Paste the token alone, \
                         without `Bearer`.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The `/api/auth` routes, their schemas, responses and session security schemes. They keep their
/// own paths (the router nests them under `/api/auth` and the annotations say so), hence a merge.
struct AuthApi;

impl Modify for AuthApi {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi.merge(crate::http::accounts::openapi::AuthDoc::openapi());
    }
}
