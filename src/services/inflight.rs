//! Fairness: a cap on one user's requests in flight, so no user can take every slot of the
//! service. Taken by the auth extractor right after the token verifies, before any database work,
//! and held until the handler returns.

use crate::domain::auth::UserId;
use crate::ground::slots::{KeyedSlots, Slot};

/// Requests in flight per user.
pub type InflightLimiter = KeyedSlots<UserId>;

/// One request's place in its user's count.
pub type InflightSlot = Slot<UserId>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_is_capped_apart_from_the_same_subject_of_another_issuer() {
        let limiter = InflightLimiter::new(1);
        let alice = UserId::new(crate::domain::auth::Issuer::shared_secret(), "alice").unwrap();
        let _held = limiter.try_acquire(&alice).unwrap();
        assert!(limiter.try_acquire(&alice).is_none());
        let other_alice = UserId::new(crate::domain::auth::Issuer::accounts(), "alice").unwrap();
        assert!(limiter.try_acquire(&other_alice).is_some(), "another issuer's user");
    }
}
