//! The metrics listener (`TASKGATE_METRICS_LISTEN`): `GET /metrics` on its own port, never on
//! the API's.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use std::net::SocketAddr;
use tokio::net::TcpListener;

use crate::ground::metrics;
use crate::store::DynTaskStore;

/// Starts recording and binds the metrics listener.
pub async fn listen(address: SocketAddr) -> std::io::Result<TcpListener> {
    metrics::install()?;
    TcpListener::bind(address).await
}

/// Serves `GET /metrics` on `listener` until the process ends.
pub async fn serve(listener: TcpListener, store: DynTaskStore) {
    let app = Router::new().route("/metrics", get(render)).with_state(store);
    if let Err(error) = axum::serve(listener, app).await {
        tracing::error!(%error, "the metrics listener stopped");
    }
}

async fn render(State(store): State<DynTaskStore>) -> impl IntoResponse {
    for gauge in store.gauges() {
        metrics::gauge(gauge.name, gauge.value);
    }
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4")], metrics::render())
}
