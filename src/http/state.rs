//! What every handler and extractor can reach, and the type of the whole HTTP surface.

use axum::Router;
use axum::extract::FromRef;
use std::sync::Arc;
use tokio::sync::Semaphore;
use tower::util::Either;
use tower_http::cors::Cors;

use crate::domain::auth::TokenVerifier;
use crate::http::edge::Edge;
use crate::services::inflight::InflightLimiter;
use crate::store::{DynListStore, DynTaskStore};

/// The whole HTTP surface: the edge around the routes (with CORS when origins are listed).
pub type HttpService = Edge<Either<Cors<Router>, Router>>;

/// What every handler and extractor can reach.
#[derive(Clone)]
pub struct AppState {
    pub verifier: Arc<TokenVerifier>,
    pub tasks: DynTaskStore,
    pub lists: DynListStore,
    pub inflight: Arc<InflightLimiter>,
    /// The service's request slots (`TASKGATE_MAX_CONCURRENCY`): `/readyz` says whether any is free.
    pub capacity: Arc<Semaphore>,
}

impl FromRef<AppState> for Arc<InflightLimiter> {
    fn from_ref(state: &AppState) -> Self {
        state.inflight.clone()
    }
}

impl FromRef<AppState> for Arc<TokenVerifier> {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

impl FromRef<AppState> for DynTaskStore {
    fn from_ref(state: &AppState) -> Self {
        state.tasks.clone()
    }
}

impl FromRef<AppState> for DynListStore {
    fn from_ref(state: &AppState) -> Self {
        state.lists.clone()
    }
}

impl FromRef<AppState> for Arc<Semaphore> {
    fn from_ref(state: &AppState) -> Self {
        state.capacity.clone()
    }
}
