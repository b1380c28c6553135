//! Fairness: a cap on one user's requests in flight, so no user can take every slot of the
//! service. Taken by the auth extractor right after the token verifies, before any database work,
//! and held until the handler returns.

use foldhash::HashMap;
use foldhash::fast::RandomState;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};

use super::verify::UserId;

/// Shards keep unrelated users from contending on one lock.
const SHARDS: usize = 16;

pub struct InflightLimiter {
    per_user: u32,
    hasher: RandomState,
    shards: [Mutex<HashMap<UserId, u32>>; SHARDS],
}

/// One request's slot; released when dropped.
#[derive(Debug)]
pub struct InflightSlot {
    limiter: Arc<InflightLimiter>,
    user: UserId,
    shard: usize,
}

impl std::fmt::Debug for InflightLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InflightLimiter").field("per_user", &self.per_user).finish_non_exhaustive()
    }
}

impl InflightLimiter {
    pub fn new(per_user: usize) -> Arc<Self> {
        Arc::new(Self {
            per_user: u32::try_from(per_user).unwrap_or(u32::MAX),
            hasher: RandomState::default(),
            shards: std::array::from_fn(|_| Mutex::new(HashMap::default())),
        })
    }

    /// A slot for `user`, or `None` when the user already has the most requests in flight.
    pub fn try_acquire(self: &Arc<Self>, user: &UserId) -> Option<InflightSlot> {
        let shard = (self.hasher.hash_one(user) as usize) % SHARDS;
        let mut counts = self.shards[shard].lock().unwrap_or_else(|p| p.into_inner());
        let count = counts.entry(user.clone()).or_insert(0);
        if *count >= self.per_user {
            return None;
        }
        *count += 1;
        Some(InflightSlot { limiter: self.clone(), user: user.clone(), shard })
    }

    #[cfg(test)]
    fn tracked_users(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).len()).sum()
    }
}

impl Drop for InflightSlot {
    fn drop(&mut self) {
        let mut counts = self.limiter.shards[self.shard].lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = counts.get_mut(&self.user) {
            *count -= 1;
            // Idle users leave no entry behind, so the map stays as small as the users in flight.
            if *count == 0 {
                counts.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_gets_at_most_the_cap_and_others_are_unaffected() {
        let limiter = InflightLimiter::new(2);
        let alice = UserId::new(crate::auth::Issuer::shared_secret(), "alice").unwrap();
        let bob = UserId::new(crate::auth::Issuer::shared_secret(), "bob").unwrap();
        let first = limiter.try_acquire(&alice).unwrap();
        let _second = limiter.try_acquire(&alice).unwrap();
        assert!(limiter.try_acquire(&alice).is_none());
        assert!(limiter.try_acquire(&bob).is_some());
        drop(first);
        assert!(limiter.try_acquire(&alice).is_some(), "a released slot is reusable");
    }

    #[test]
    fn released_users_leave_no_entry() {
        let limiter = InflightLimiter::new(4);
        for n in 0..100 {
            let _slot = limiter.try_acquire(
                &UserId::new(crate::auth::Issuer::shared_secret(), &format!("u{n}")).unwrap(),
            );
        }
        assert_eq!(limiter.tracked_users(), 0);
    }
}
