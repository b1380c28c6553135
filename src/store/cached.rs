//! The rendered-page cache, a decorator around any [`TaskStore`], exact on every deployment.
//!
//! Every write that changes an owner's tasks changes the owner's list version in the write's own
//! transaction, and a page carries the version it was read under (from the same snapshot as its
//! rows). A read first looks up the current version, one indexed lookup, and serves a cached page
//! only when the page's version is the current one. So a write acknowledged by any instance
//! (another process on the same PostgreSQL database included) is seen by the very next read on
//! every instance: nothing here depends on invalidations reaching this process.

use async_trait::async_trait;
// foldhash (seeded per process), not SipHash: these maps are read on every request.
use foldhash::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::{CreateOutcome, DynTaskStore, Gauge, StoreError, TaskStore};
use crate::domain::auth::UserId;
use crate::domain::tasks::idempotency::IdempotencyKey;
use crate::domain::tasks::{
    Completion, Cursor, Expected, TagName, TagSummary, Task, TaskDraft, TaskId, TaskPage, TaskQuery,
};
use crate::store::Guarded;

/// The filter and sort (canonical parameters), the page size and the cursor.
type PageKey = (String, u32, Option<Cursor>);

#[derive(Default)]
struct UserPages {
    /// The newest version any of this user's pages was read under; older pages are dropped.
    version: u64,
    pages: HashMap<PageKey, Arc<TaskPage>>,
}

#[derive(Default)]
struct State {
    users: HashMap<UserId, UserPages>,
    /// Approximate bytes held, against the capacity.
    bytes: usize,
}

/// Pages by owner and page request, each with the version it was read under.
pub struct PageCache {
    state: Mutex<State>,
    capacity: usize,
}

impl PageCache {
    /// A cache holding pages of about `capacity` bytes at most; 0 stores nothing.
    pub fn new(capacity: usize) -> Self {
        Self { state: Mutex::new(State::default()), capacity }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Entries are only ever checked against the database's version before use, so a panic
        // while holding the lock cannot make a stale page servable.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The cached page, if it was read under `version`.
    pub fn get(&self, owner: &UserId, query: &TaskQuery, version: u64) -> Option<Arc<TaskPage>> {
        let state = self.lock();
        let found = state.users.get(owner)?.pages.get(&key(query))?;
        (found.version == version).then(|| found.clone())
    }

    /// Keeps a page read from the database (unless a newer one of this owner is already held).
    pub fn put(&self, owner: &UserId, query: &TaskQuery, found: Arc<TaskPage>) {
        if self.capacity == 0 {
            return;
        }
        let size = approximate_size(&found);
        let mut state = self.lock();
        if state.bytes + size > self.capacity {
            // Dropping everything is crude but keeps memory bounded with no bookkeeping per hit.
            state.users.clear();
            state.bytes = 0;
        }
        let user = state.users.entry(owner.clone()).or_default();
        let mut freed = 0;
        if found.version > user.version {
            freed += user.pages.drain().map(|(_, old)| approximate_size(&old)).sum::<usize>();
            user.version = found.version;
        } else if found.version < user.version {
            // A read that raced a write: newer pages exist, and this one can never be served.
            return;
        }
        if let Some(replaced) = user.pages.insert(key(query), found) {
            freed += approximate_size(&replaced);
        }
        state.bytes = (state.bytes + size).saturating_sub(freed);
    }

    /// Bytes of pages held and users with pages, for the metrics endpoint.
    pub fn usage(&self) -> (usize, usize) {
        let state = self.lock();
        (state.bytes, state.users.values().filter(|user| !user.pages.is_empty()).count())
    }
}

fn key(query: &TaskQuery) -> PageKey {
    (query.canonical.clone(), query.limit, query.after.clone())
}

/// Bytes a page keeps alive: its rows twice over (the rows and, once rendered, their JSON).
fn approximate_size(page: &TaskPage) -> usize {
    let rows: usize = page
        .tasks
        .iter()
        .map(|task| 256 + task.title.len() + task.description.as_ref().map_or(0, String::len))
        .sum();
    2 * rows + 128
}

/// A [`TaskStore`] whose list pages are served from memory while they are current.
pub struct CachedTaskStore {
    inner: DynTaskStore,
    pages: PageCache,
}

impl CachedTaskStore {
    pub fn new(inner: DynTaskStore, capacity: usize) -> Self {
        Self { inner, pages: PageCache::new(capacity) }
    }
}

#[async_trait]
impl TaskStore for CachedTaskStore {
    async fn list(&self, owner: &UserId, query: &TaskQuery) -> Result<Arc<TaskPage>, StoreError> {
        // What is overdue changes with the clock, not only with writes.
        if query.filter.overdue.is_some() {
            return self.inner.list(owner, query).await;
        }
        let version = self.inner.list_version(owner).await?;
        if let Some(cached) = self.pages.get(owner, query, version) {
            crate::ground::metrics::count("taskgate_list_cache_hits_total");
            return Ok(cached);
        }
        crate::ground::metrics::count("taskgate_list_cache_misses_total");
        let found = self.inner.list(owner, query).await?;
        self.pages.put(owner, query, found.clone());
        Ok(found)
    }

    async fn list_version(&self, owner: &UserId) -> Result<u64, StoreError> {
        self.inner.list_version(owner).await
    }

    async fn get(&self, owner: &UserId, id: TaskId) -> Result<Option<Task>, StoreError> {
        self.inner.get(owner, id).await
    }

    async fn create(&self, owner: &UserId, draft: TaskDraft) -> Result<Task, StoreError> {
        self.inner.create(owner, draft).await
    }

    async fn create_once(
        &self,
        owner: &UserId,
        draft: TaskDraft,
        key: &IdempotencyKey,
    ) -> Result<CreateOutcome, StoreError> {
        self.inner.create_once(owner, draft, key).await
    }

    async fn replace(
        &self,
        owner: &UserId,
        id: TaskId,
        draft: TaskDraft,
        expected: Expected,
    ) -> Result<Guarded<Task>, StoreError> {
        self.inner.replace(owner, id, draft, expected).await
    }

    async fn set_completion(
        &self,
        owner: &UserId,
        id: TaskId,
        completion: Completion,
        expected: Expected,
    ) -> Result<Guarded<Task>, StoreError> {
        self.inner.set_completion(owner, id, completion, expected).await
    }

    async fn delete(
        &self,
        owner: &UserId,
        id: TaskId,
        expected: Expected,
        with_subtasks: bool,
    ) -> Result<Guarded<()>, StoreError> {
        self.inner.delete(owner, id, expected, with_subtasks).await
    }

    async fn tags(&self, owner: &UserId) -> Result<Vec<TagSummary>, StoreError> {
        self.inner.tags(owner).await
    }

    async fn rename_tag(&self, owner: &UserId, key: &str, to: TagName) -> Result<bool, StoreError> {
        self.inner.rename_tag(owner, key, to).await
    }

    async fn delete_tag(&self, owner: &UserId, key: &str) -> Result<bool, StoreError> {
        self.inner.delete_tag(owner, key).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }

    fn gauges(&self) -> Vec<Gauge> {
        let (cached_bytes, cached_users) = self.pages.usage();
        let mut gauges = self.inner.gauges();
        gauges.push(Gauge { name: "taskgate_list_cache_bytes", value: cached_bytes as f64 });
        gauges.push(Gauge { name: "taskgate_list_cache_users", value: cached_users as f64 });
        gauges
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::auth::Issuer;

    fn page(total: u64, version: u64) -> Arc<TaskPage> {
        Arc::new(TaskPage::new(Vec::new(), total, false, version))
    }

    fn user(issuer: &str, subject: &str) -> UserId {
        UserId::new(Issuer::named(issuer), subject).unwrap()
    }

    #[test]
    fn a_page_is_served_only_under_the_version_it_was_read_at() {
        let cache = PageCache::new(1 << 20);
        let u = user("a", "u");
        cache.put(&u, &TaskQuery::newest(100), page(1, 7));
        assert_eq!(cache.get(&u, &TaskQuery::newest(100), 7).unwrap().total, 1);
        assert!(cache.get(&u, &TaskQuery::newest(100), 8).is_none(), "a write since then");
    }

    #[test]
    fn a_page_read_before_a_newer_one_is_not_kept() {
        let cache = PageCache::new(1 << 20);
        let u = user("a", "u");
        cache.put(&u, &TaskQuery::newest(100), page(2, 8));
        cache.put(&u, &TaskQuery::newest(100), page(1, 7));
        assert_eq!(cache.get(&u, &TaskQuery::newest(100), 8).unwrap().total, 2);
        assert!(cache.get(&u, &TaskQuery::newest(100), 7).is_none());
    }

    #[test]
    fn the_same_subject_of_another_issuer_has_its_own_pages() {
        let cache = PageCache::new(1 << 20);
        cache.put(&user("a", "alice"), &TaskQuery::newest(100), page(3, 1));
        assert!(cache.get(&user("b", "alice"), &TaskQuery::newest(100), 1).is_none());
    }

    #[test]
    fn memory_stays_bounded() {
        let cache = PageCache::new(1000);
        for n in 0..20 {
            cache.put(&user("a", &format!("user{n}")), &TaskQuery::newest(100), page(n, 1));
        }
        assert!(cache.lock().bytes <= 1000);
    }

    #[test]
    fn a_zero_capacity_cache_stores_nothing() {
        let cache = PageCache::new(0);
        let u = user("a", "u");
        cache.put(&u, &TaskQuery::newest(100), page(1, 1));
        assert!(cache.get(&u, &TaskQuery::newest(100), 1).is_none());
    }
}
