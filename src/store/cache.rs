//! A cache of list pages, per user, that can never serve what the database no longer holds.
//!
//! Every write for a user bumps that user's generation after its commit and before its caller is
//! answered; a page is served only while the generation it was read under is still current. A read
//! that raced a write (it read the old rows, then the write committed and bumped the generation)
//! may store its page, but under the old generation, so no one is ever served it. Evicting entries
//! bumps a global epoch, so a read that started before an eviction stores nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::tasks::{PageRequest, TaskId, TaskPage};

type PageKey = (u32, Option<TaskId>);

#[derive(Default)]
struct UserPages {
    generation: u64,
    pages: HashMap<PageKey, Arc<TaskPage>>,
}

#[derive(Default)]
struct State {
    users: HashMap<String, UserPages>,
    /// Counts evictions; a read that saw another epoch stores nothing.
    epoch: u64,
    /// Source of generations: strictly increasing, so a bumped generation never repeats.
    next_generation: u64,
    /// Approximate bytes held, against `capacity`.
    bytes: usize,
}

pub struct ListCache {
    state: Mutex<State>,
    capacity: usize,
}

/// What a read saw when it started: where a page read from the database may be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadTicket {
    epoch: u64,
    generation: Option<u64>,
}

impl ListCache {
    /// A cache holding pages of about `capacity` bytes at most; 0 disables it.
    pub fn new(capacity: usize) -> Self {
        Self { state: Mutex::new(State::default()), capacity }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a stale page behind (writes only remove or
        // bump), so the state stays usable.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The cached page, or the ticket under which a freshly read page may be stored.
    pub fn get(&self, owner: &str, page: PageRequest) -> Result<Arc<TaskPage>, ReadTicket> {
        let state = self.lock();
        let user = state.users.get(owner);
        if let Some(found) = user.and_then(|user| user.pages.get(&(page.limit, page.after))) {
            return Ok(found.clone());
        }
        Err(ReadTicket { epoch: state.epoch, generation: user.map(|user| user.generation) })
    }

    /// Stores a page read from the database, unless a write or an eviction happened since `ticket`.
    pub fn put(&self, owner: &str, page: PageRequest, ticket: ReadTicket, found: Arc<TaskPage>) {
        if self.capacity == 0 {
            return;
        }
        let size = approximate_size(&found);
        let mut state = self.lock();
        let current = state.users.get(owner).map(|user| user.generation);
        if state.epoch != ticket.epoch || current != ticket.generation {
            return;
        }
        if state.bytes + size > self.capacity {
            // Dropping everything is crude but keeps memory bounded with no bookkeeping per hit.
            state.users.clear();
            state.bytes = 0;
            state.epoch += 1;
            return;
        }
        state.bytes += size;
        let user = state.users.entry(owner.to_owned()).or_default();
        if let Some(replaced) = user.pages.insert((page.limit, page.after), found) {
            state.bytes = state.bytes.saturating_sub(approximate_size(&replaced));
        }
    }

    /// Bytes of pages held and users with pages, for the metrics endpoint.
    pub fn usage(&self) -> (usize, usize) {
        let state = self.lock();
        (state.bytes, state.users.values().filter(|user| !user.pages.is_empty()).count())
    }

    /// Forgets the user's pages. Call after a write for `owner` commits and before answering it.
    pub fn invalidate(&self, owner: &str) {
        let mut state = self.lock();
        state.next_generation += 1;
        let generation = state.next_generation;
        // The entry stays (as a tombstone with the new generation) so that a read which started
        // before this write, when the user had no entry, cannot store its page afterwards.
        let user = state.users.entry(owner.to_owned()).or_default();
        let freed: usize = user.pages.drain().map(|(_, page)| approximate_size(&page)).sum();
        user.generation = generation;
        state.bytes = state.bytes.saturating_sub(freed);
        if state.users.len() > MAX_TRACKED_USERS {
            state.users.clear();
            state.bytes = 0;
            state.epoch += 1;
        }
    }
}

/// Tombstones are small, but they too are bounded.
const MAX_TRACKED_USERS: usize = 100_000;

/// Bytes a page keeps alive: its rows twice over (the rows and, once rendered, their JSON).
fn approximate_size(page: &TaskPage) -> usize {
    let rows: usize = page
        .tasks
        .iter()
        .map(|task| 256 + task.title.len() + task.description.as_ref().map_or(0, String::len))
        .sum();
    2 * rows + 128
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(total: u64) -> Arc<TaskPage> {
        Arc::new(TaskPage::new(Vec::new(), total, None))
    }

    const FIRST: PageRequest = PageRequest { limit: 100, after: None };

    #[test]
    fn a_stored_page_is_served_until_the_user_writes() {
        let cache = ListCache::new(1 << 20);
        let ticket = cache.get("u", FIRST).unwrap_err();
        cache.put("u", FIRST, ticket, page(1));
        assert_eq!(cache.get("u", FIRST).unwrap().total, 1);
        cache.invalidate("u");
        assert!(cache.get("u", FIRST).is_err());
    }

    #[test]
    fn a_read_that_raced_a_write_is_never_served() {
        let cache = ListCache::new(1 << 20);
        // The read starts while the user has no entry, the write commits, then the read stores.
        let ticket = cache.get("u", FIRST).unwrap_err();
        cache.invalidate("u");
        cache.put("u", FIRST, ticket, page(0));
        assert!(cache.get("u", FIRST).is_err(), "the stale page was not stored");
        // The same with an existing entry.
        let ticket = cache.get("u", FIRST).unwrap_err();
        cache.invalidate("u");
        cache.put("u", FIRST, ticket, page(0));
        assert!(cache.get("u", FIRST).is_err());
    }

    #[test]
    fn another_users_write_does_not_invalidate() {
        let cache = ListCache::new(1 << 20);
        let ticket = cache.get("u", FIRST).unwrap_err();
        cache.put("u", FIRST, ticket, page(3));
        cache.invalidate("v");
        assert_eq!(cache.get("u", FIRST).unwrap().total, 3);
    }

    #[test]
    fn memory_stays_bounded_and_eviction_blocks_racing_reads() {
        let cache = ListCache::new(1000);
        let before_eviction = cache.get("late", FIRST).unwrap_err();
        for n in 0..20 {
            let user = format!("user{n}");
            let ticket = cache.get(&user, FIRST).unwrap_err();
            cache.put(&user, FIRST, ticket, page(n));
        }
        assert!(cache.lock().bytes <= 1000);
        cache.put("late", FIRST, before_eviction, page(9));
        assert!(cache.get("late", FIRST).is_err());
    }

    #[test]
    fn a_zero_capacity_cache_stores_nothing() {
        let cache = ListCache::new(0);
        let ticket = cache.get("u", FIRST).unwrap_err();
        cache.put("u", FIRST, ticket, page(1));
        assert!(cache.get("u", FIRST).is_err());
    }
}
