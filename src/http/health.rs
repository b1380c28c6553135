//! Liveness and readiness: `/healthz` (the process answers) and `/readyz` (the database does).

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::AppState;
use crate::http::error::{ApiError, ErrorCode};
use crate::store::DynTaskStore;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// `/healthz` and `/readyz`; merged outside the load-shedding limit, so they are never refused.
pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

/// The body of a healthy answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthStatus {
    #[schema(example = "ok")]
    pub status: &'static str,
}

const OK: HealthStatus = HealthStatus { status: "ok" };

/// Alive: the process answers HTTP.
#[utoipa::path(
    get, path = "/healthz", tag = "health",
    responses(
        (status = 200, description = "The process is up and answers HTTP", body = HealthStatus,
            example = json!({ "status": "ok" })),
    )
)]
pub async fn healthz() -> impl IntoResponse {
    // Load balancers call this constantly: a fixed body, not a serialisation per call. The unit
    // test below keeps it equal to `HealthStatus`'s JSON.
    crate::http::edge::json_response(HEALTHY_JSON)
}

const HEALTHY_JSON: &str = r#"{"status":"ok"}"#;

/// Ready when a request slot is free and the database answers; a load balancer takes the
/// instance out otherwise, and routes to others until it has room again.
#[utoipa::path(
    get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "Ready: a request slot is free and the database answers", body = HealthStatus,
            example = json!({ "status": "ok" })),
        (status = 503, response = crate::http::responses::NotReady),
    )
)]
pub async fn readyz(
    State(store): State<DynTaskStore>,
    State(capacity): State<Arc<Semaphore>>,
) -> Result<Json<HealthStatus>, ApiError> {
    if capacity.available_permits() == 0 {
        return Err(ApiError::new(ErrorCode::ServiceUnavailable));
    }
    store.ping().await?;
    Ok(Json(OK))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixed_healthy_body_is_health_status_as_json() {
        assert_eq!(serde_json::to_string(&OK).unwrap(), HEALTHY_JSON);
    }
}
