//! Storage behind traits: handlers see only [`TaskStore`]; each backend is one module.

pub mod cache;
pub mod sqlite;

use async_trait::async_trait;
use std::sync::Arc;

use crate::auth::UserId;
use crate::error::{ApiError, ErrorCode};
use crate::tasks::idempotency::IdempotencyKey;
use crate::tasks::{Completion, PageRequest, Task, TaskDraft, TaskId, TaskPage};

/// Why a store call failed. Causes are kept for the log and never reach a client.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database is locked, gone or overloaded: worth retrying (503).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or corruption (500).
    #[error("database error: {0}")]
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(cause) => {
                tracing::warn!(%cause, "database unavailable");
                ApiError::new(ErrorCode::ServiceUnavailable)
            }
            StoreError::Internal(cause) => ApiError::internal(&cause),
        }
    }
}

/// What [`TaskStore::create_once`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOutcome {
    /// The key was new (or expired): the task was created and the key recorded with it.
    Created(Task),
    /// The owner used the key for the same request within the key's lifetime: the task as first
    /// answered (even if it has since changed or been deleted); nothing was written.
    Replayed(Task),
    /// The owner used the key for a different request within its lifetime; nothing was written.
    KeyReused,
}

/// Every operation is scoped by owner: a task id alone never reaches a row.
#[async_trait]
pub trait TaskStore: Send + Sync + 'static {
    async fn list(&self, owner: &UserId, page: PageRequest) -> Result<Arc<TaskPage>, StoreError>;
    async fn get(&self, owner: &UserId, id: TaskId) -> Result<Option<Task>, StoreError>;
    async fn create(&self, owner: &UserId, draft: TaskDraft) -> Result<Task, StoreError>;
    /// Creates a task at most once per owner and key within
    /// [`KEY_LIFETIME_SECS`](crate::tasks::idempotency::KEY_LIFETIME_SECS), telling requests apart
    /// by [`Fingerprint`](crate::tasks::idempotency::Fingerprint). The key is recorded in the same
    /// transaction as the task, so a failed or refused write records neither. Concurrent calls
    /// with one owner and key create one task between them: the others replay it (an
    /// implementation whose transactions can race re-reads the key after a primary-key conflict).
    async fn create_once(
        &self,
        owner: &UserId,
        draft: TaskDraft,
        key: &IdempotencyKey,
    ) -> Result<CreateOutcome, StoreError>;
    /// Replaces title, description and completion; `None` when the owner has no such task.
    async fn replace(
        &self,
        owner: &UserId,
        id: TaskId,
        draft: TaskDraft,
    ) -> Result<Option<Task>, StoreError>;
    async fn set_completion(
        &self,
        owner: &UserId,
        id: TaskId,
        completion: Completion,
    ) -> Result<Option<Task>, StoreError>;
    /// `false` when the owner has no such task.
    async fn delete(&self, owner: &UserId, id: TaskId) -> Result<bool, StoreError>;
    /// Succeeds when the database answers.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Figures for the metrics endpoint: queue depths, cache sizes, connections.
    fn gauges(&self) -> Vec<Gauge> {
        Vec::new()
    }
}

/// One figure a store reports; `name` is a Prometheus metric name.
#[derive(Debug, Clone, PartialEq)]
pub struct Gauge {
    pub name: &'static str,
    pub value: f64,
}

pub type DynTaskStore = Arc<dyn TaskStore>;
