//! PLACEHOLDER while the PostgreSQL lists are written: every call fails. Not to land on main.

use async_trait::async_trait;

use super::tasks::PgTaskStore;
use crate::domain::auth::UserId;
use crate::domain::lists::{List, ListDraft, ListId, ListTasks};
use crate::domain::tasks::Expected;
use crate::store::{Guarded, ListStore, StoreError};

fn missing() -> StoreError {
    StoreError::internal("lists are not yet on PostgreSQL")
}

#[async_trait]
impl ListStore for PgTaskStore {
    async fn lists(&self, _: &UserId) -> Result<Vec<List>, StoreError> {
        Err(missing())
    }
    async fn get_list(&self, _: &UserId, _: ListId) -> Result<Option<List>, StoreError> {
        Err(missing())
    }
    async fn create_list(&self, _: &UserId, _: ListDraft) -> Result<List, StoreError> {
        Err(missing())
    }
    async fn replace_list(
        &self,
        _: &UserId,
        _: ListId,
        _: ListDraft,
        _: Expected,
    ) -> Result<Guarded<List>, StoreError> {
        Err(missing())
    }
    async fn delete_list(
        &self,
        _: &UserId,
        _: ListId,
        _: Expected,
        _: ListTasks,
    ) -> Result<Guarded<()>, StoreError> {
        Err(missing())
    }
}
