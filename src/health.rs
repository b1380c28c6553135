//! Liveness and readiness: `/healthz` (the process answers) and `/readyz` (the database does).

use axum::Json;
use axum::extract::State;

use crate::error::ApiError;
use crate::store::DynTaskStore;

/// Alive: the process answers HTTP.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Ready when the database answers; a load balancer takes the instance out otherwise.
pub async fn readyz(
    State(store): State<DynTaskStore>,
) -> Result<Json<serde_json::Value>, ApiError> {
    store.ping().await?;
    Ok(Json(serde_json::json!({ "status": "ok" })))
}
