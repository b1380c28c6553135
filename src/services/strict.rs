//! Strict sessions: the task API refuses an access token whose session has ended. A live answer
//! is remembered for a few seconds, so a revocation on any instance is seen everywhere within
//! [`REVOCATION_WINDOW`]; an ended session never comes back, so that answer is kept.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::domain::accounts::SessionId;
use crate::domain::auth::LiveSessions;
use crate::domain::auth::TokenError;
use crate::store::accounts::SessionStore;

/// How long after a revocation a token may still be accepted somewhere.
pub const REVOCATION_WINDOW: Duration = Duration::from_secs(5);
/// A live answer is trusted this long: inside the window, with room for the lookup itself.
const LIVE_FOR: Duration = Duration::from_secs(4);
/// Answers kept at most; past it the memory starts over.
const MAX_ENTRIES: usize = 100_000;

pub struct StrictSessions {
    store: Arc<dyn SessionStore>,
    /// Session id → when it was last seen live (`None`: seen ended).
    seen: Mutex<HashMap<String, Option<Instant>>>,
}

impl StrictSessions {
    pub fn new(store: Arc<dyn SessionStore>) -> Self {
        Self { store, seen: Mutex::new(HashMap::new()) }
    }

    fn remembered(&self, session_id: &str) -> Option<bool> {
        let seen = self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match seen.get(session_id)? {
            None => Some(false),
            Some(at) if at.elapsed() < LIVE_FOR => Some(true),
            Some(_) => None,
        }
    }

    fn remember(&self, session_id: &str, live: bool) {
        let mut seen = self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if seen.len() >= MAX_ENTRIES {
            seen.clear();
        }
        seen.insert(session_id.to_owned(), live.then(Instant::now));
    }
}

#[async_trait::async_trait]
impl LiveSessions for StrictSessions {
    async fn is_live(&self, session_id: &str) -> Result<bool, TokenError> {
        if let Some(live) = self.remembered(session_id) {
            return Ok(live);
        }
        let live = self
            .store
            .session_is_live(&SessionId::from(session_id), crate::domain::accounts::now())
            .await
            .map_err(|error| {
                tracing::warn!(%error, "cannot tell whether a session is live");
                TokenError::Unavailable
            })?;
        self.remember(session_id, live);
        Ok(live)
    }
}
