//! The task API's routes, `/api/{user_id}/tasks...` and `/api/{user_id}/tags...`, and their
//! handlers.

use axum::Router;
use axum::routing::{get, patch};

pub mod conditions;
pub mod handlers;
pub mod tags;

use crate::http::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/{user_id}/tasks", get(handlers::list_tasks).post(handlers::create_task))
        .route(
            "/api/{user_id}/tasks/{id}",
            get(handlers::get_task)
                .put(handlers::replace_task)
                .patch(handlers::patch_task)
                .delete(handlers::delete_task),
        )
        .route("/api/{user_id}/tasks/{id}/complete", patch(handlers::complete_task))
        .route("/api/{user_id}/tags", get(tags::list_tags))
        .route("/api/{user_id}/tags/{name}", patch(tags::rename_tag).delete(tags::delete_tag))
}
