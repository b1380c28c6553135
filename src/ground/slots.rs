//! Counted slots per key: at most a fixed number held at once for any one key (a user's requests
//! in flight, an address's open connections), each given back when its holder drops it.

use foldhash::HashMap;
use foldhash::fast::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

/// Shards keep unrelated keys from contending on one lock.
const SHARDS: usize = 16;

pub struct KeyedSlots<K> {
    per_key: u32,
    hasher: RandomState,
    shards: [Mutex<HashMap<K, u32>>; SHARDS],
}

/// One held slot; given back when dropped.
pub struct Slot<K: Hash + Eq> {
    owner: Arc<KeyedSlots<K>>,
    key: K,
    shard: usize,
}

impl<K> fmt::Debug for KeyedSlots<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedSlots").field("per_key", &self.per_key).finish_non_exhaustive()
    }
}

impl<K: Hash + Eq + fmt::Debug> fmt::Debug for Slot<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot").field("key", &self.key).finish_non_exhaustive()
    }
}

impl<K: Hash + Eq + Clone> KeyedSlots<K> {
    pub fn new(per_key: usize) -> Arc<Self> {
        Arc::new(Self {
            per_key: u32::try_from(per_key).unwrap_or(u32::MAX),
            hasher: RandomState::default(),
            shards: std::array::from_fn(|_| Mutex::new(HashMap::default())),
        })
    }

    /// A slot for `key`, or `None` when the key already holds the most it may.
    pub fn try_acquire(self: &Arc<Self>, key: &K) -> Option<Slot<K>> {
        let shard = (self.hasher.hash_one(key) as usize) % SHARDS;
        let mut counts = self.shards[shard].lock().unwrap_or_else(|p| p.into_inner());
        let count = counts.entry(key.clone()).or_insert(0);
        if *count >= self.per_key {
            return None;
        }
        *count += 1;
        Some(Slot { owner: self.clone(), key: key.clone(), shard })
    }

    /// Keys holding a slot now.
    #[cfg(test)]
    pub fn tracked(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).len()).sum()
    }
}

impl<K: Hash + Eq> Drop for Slot<K> {
    fn drop(&mut self) {
        let mut counts = self.owner.shards[self.shard].lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = counts.get_mut(&self.key) {
            *count -= 1;
            // Keys without slots leave no entry behind, so the map stays as small as the keys
            // holding slots.
            if *count == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

/// Counted slots per key in a fixed table of atomic counters, a key counting in the bucket its
/// hash picks: no lock and no allocation per slot, for caps on every request (an address's
/// requests in flight). A key never holds more than `per_key`; a key that shares its bucket with
/// a busy one may be refused early, which a table of [`BUCKETS`] buckets and a per-process hash
/// seed make rare and unpredictable.
pub struct CountedBuckets<K> {
    per_key: u32,
    hasher: RandomState,
    counts: Arc<[AtomicU32]>,
    _key: std::marker::PhantomData<fn(&K)>,
}

/// Buckets of a [`CountedBuckets`] table (256 KiB of counters).
pub const BUCKETS: usize = 1 << 16;

/// One held slot of a [`CountedBuckets`]; given back when dropped.
pub struct BucketSlot {
    counts: Arc<[AtomicU32]>,
    bucket: usize,
}

impl<K> fmt::Debug for CountedBuckets<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CountedBuckets").field("per_key", &self.per_key).finish_non_exhaustive()
    }
}

impl fmt::Debug for BucketSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BucketSlot").field("bucket", &self.bucket).finish()
    }
}

impl<K: Hash> CountedBuckets<K> {
    pub fn new(per_key: usize) -> Arc<Self> {
        Arc::new(Self {
            per_key: u32::try_from(per_key).unwrap_or(u32::MAX),
            hasher: RandomState::default(),
            counts: (0..BUCKETS).map(|_| AtomicU32::new(0)).collect(),
            _key: std::marker::PhantomData,
        })
    }
}

impl<K: Hash> CountedBuckets<K> {
    /// A slot for `key`, or `None` when its bucket already holds the most a key may.
    pub fn try_acquire(self: &Arc<Self>, key: &K) -> Option<BucketSlot> {
        let bucket = (self.hasher.hash_one(key) as usize) % BUCKETS;
        let count = &self.counts[bucket];
        if count.fetch_add(1, Ordering::Relaxed) >= self.per_key {
            count.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        Some(BucketSlot { counts: self.counts.clone(), bucket })
    }

    /// Slots held now, in all.
    #[cfg(test)]
    pub fn held(&self) -> u32 {
        self.counts.iter().map(|count| count.load(Ordering::Relaxed)).sum()
    }
}

impl Drop for BucketSlot {
    fn drop(&mut self) {
        self.counts[self.bucket].fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_at_most_its_share_and_others_are_unaffected() {
        let slots = KeyedSlots::new(2);
        let first = slots.try_acquire(&"alice").unwrap();
        let _second = slots.try_acquire(&"alice").unwrap();
        assert!(slots.try_acquire(&"alice").is_none());
        assert!(slots.try_acquire(&"bob").is_some());
        drop(first);
        assert!(slots.try_acquire(&"alice").is_some(), "a released slot is reusable");
    }

    #[test]
    fn a_key_gets_at_most_its_share_of_a_bucket_and_gives_it_back() {
        let buckets = CountedBuckets::<String>::new(2);
        let alice = "alice".to_owned();
        let first = buckets.try_acquire(&alice).unwrap();
        let second = buckets.try_acquire(&alice).unwrap();
        assert!(buckets.try_acquire(&alice).is_none(), "the third is refused");
        assert_eq!(buckets.held(), 2, "a refusal holds nothing");
        drop(first);
        assert!(buckets.try_acquire(&alice).is_some(), "a released slot is reusable");
        drop(second);
        assert_eq!(buckets.held(), 0);
        // Other keys are unaffected, but for the rare one in the same bucket.
        let _held: Vec<_> = (0..2).map(|_| buckets.try_acquire(&alice).unwrap()).collect();
        let free = (0..100).filter(|n| buckets.try_acquire(&format!("bob{n}")).is_some()).count();
        assert!(free >= 98, "{free} of 100 other keys served");
    }

    #[test]
    fn released_keys_leave_no_entry() {
        let slots = KeyedSlots::new(4);
        for n in 0..100 {
            let _slot = slots.try_acquire(&n);
        }
        assert_eq!(slots.tracked(), 0);
    }
}
