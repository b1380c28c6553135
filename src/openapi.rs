//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::{ErrorBody, ErrorCode, FieldError};
use crate::tasks::{CompletionInput, Task, TaskInput, handlers};

#[derive(OpenApi)]
#[openapi(
    info(title = "taskgate", description = "A multi-user todo service. Every task route needs `Authorization: Bearer <JWT>` whose user id is the `{user_id}` of the path."),
    paths(
        handlers::list_tasks, handlers::create_task, handlers::get_task,
        handlers::replace_task, handlers::delete_task, handlers::complete_task,
    ),
    components(schemas(Task, TaskInput, CompletionInput, ErrorBody, ErrorCode, FieldError)),
    modifiers(&BearerAuth),
    tags((name = "tasks", description = "A user's tasks"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "BearerAuth",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build(),
            ),
        );
    }
}
