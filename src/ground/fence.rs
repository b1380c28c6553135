//! The write fence: a request that times out either wrote nothing or waits for its write's outcome.
//!
//! The edge gives every request a fence and runs the request inside [`WriteFence::scope`]. A store
//! calls [`begin_write`] just before it makes a write durable; the edge calls
//! [`WriteFence::abandon`] when the request timeout fires. Whichever comes first wins: an abandoned
//! request writes nothing (and is answered 408), a request whose write has begun is not abandoned
//! (the edge waits for its outcome). So a client never gets a 408 for a write that happened.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use tokio::task::futures::TaskLocalFuture;

const OPEN: u8 = 0;
const WRITING: u8 = 1;
const ABANDONED: u8 = 2;

#[derive(Debug, Default)]
pub struct WriteFence(AtomicU8);

tokio::task_local! {
    static CURRENT: Arc<WriteFence>;
}

impl WriteFence {
    pub fn new() -> Arc<Self> {
        Arc::new(Self(AtomicU8::new(OPEN)))
    }

    /// Runs `future` (a request) with this fence as the current one. A named future, not an
    /// `async fn`: the edge keeps it in its own future without another layer of state.
    pub fn scope<F: Future>(self: Arc<Self>, future: F) -> TaskLocalFuture<Arc<Self>, F> {
        CURRENT.scope(self, future)
    }

    /// Gives up on the request unless a write has begun; `true` when it was given up.
    pub fn abandon(&self) -> bool {
        matches!(
            self.0.compare_exchange(OPEN, ABANDONED, Ordering::AcqRel, Ordering::Acquire),
            Ok(_) | Err(ABANDONED)
        )
    }

    /// Claims the right to write; `false` when the request was already given up.
    pub fn begin(&self) -> bool {
        matches!(
            self.0.compare_exchange(OPEN, WRITING, Ordering::AcqRel, Ordering::Acquire),
            Ok(_) | Err(WRITING)
        )
    }
}

/// The fence of the request being served on this task, if any (none outside requests: start-up,
/// tests and tools may write freely).
pub fn current() -> Option<Arc<WriteFence>> {
    CURRENT.try_with(Arc::clone).ok()
}

/// For stores: `false` when the caller was answered with a timeout, so the write must not happen.
pub fn begin_write(fence: Option<&WriteFence>) -> bool {
    fence.is_none_or(WriteFence::begin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_of_abandon_and_begin_wins() {
        let fence = WriteFence::new();
        assert!(fence.begin());
        assert!(!fence.abandon(), "a begun write is waited for");
        assert!(fence.begin(), "a request may write more than once");

        let fence = WriteFence::new();
        assert!(fence.abandon());
        assert!(!fence.begin(), "an abandoned request writes nothing");
        assert!(fence.abandon());
    }

    #[tokio::test]
    async fn the_fence_is_current_inside_its_scope_only() {
        assert!(current().is_none());
        let fence = WriteFence::new();
        let inside = fence.clone().scope(async { current() }).await;
        assert!(inside.is_some_and(|f| Arc::ptr_eq(&f, &fence)));
        assert!(begin_write(None));
    }
}
