//! The session store's conformance tests, on every backend.

use taskgate::domain::accounts::{Session, now};

use crate::accounts::{stores, user};

#[tokio::test]
async fn expired_sessions_are_purged_in_bounded_batches_and_live_ones_stay() {
    use taskgate::services::purge::purge_expired_sessions;
    for store in stores().await {
        let (name, accounts) = (store.name, &store.accounts);
        let ada = user("ada@example.com");
        let (first, _) = Session::start(&ada.id, None, None);
        accounts.create_user(&ada, "hash", &first).await.unwrap();
        let mut expiring = vec![first.clone()];
        for _ in 0..4 {
            let (session, _) = Session::start(&ada.id, None, None);
            accounts.create_session(&session).await.unwrap();
            expiring.push(session);
        }
        // Two sessions that last a day longer than the others: live at the purge's clock.
        let mut live = Vec::new();
        for _ in 0..2 {
            let (mut session, _) = Session::start(&ada.id, None, None);
            session.expires_at += time::Duration::days(1);
            accounts.create_session(&session).await.unwrap();
            live.push(session);
        }
        // The injected clock: just past the expiry of the five, before the two's.
        let at = first.expires_at + time::Duration::hours(1);
        assert_eq!(accounts.purge_expired_sessions(at, 0).await.unwrap(), 0, "{name}");
        assert_eq!(accounts.purge_expired_sessions(at, 2).await.unwrap(), 2, "{name}: bounded");
        let purged = purge_expired_sessions(&**accounts, at, 2, 10).await.unwrap();
        assert_eq!(purged, 3, "{name}: the rest, batch after batch");
        // Gone from the store itself, not merely hidden by an expiry filter.
        let before_expiry = first.created_at;
        for session in &expiring {
            assert!(!accounts.session_is_live(&session.id, before_expiry).await.unwrap(), "{name}");
        }
        let ids = |sessions: Vec<Session>| {
            let mut ids: Vec<String> = sessions.into_iter().map(|s| s.id.to_string()).collect();
            ids.sort();
            ids
        };
        let left = accounts.list_sessions(&ada.id, before_expiry).await.unwrap();
        assert_eq!(ids(left), ids(live.clone()), "{name}");
        assert_eq!(purge_expired_sessions(&**accounts, at, 2, 10).await.unwrap(), 0, "{name}");
        // A backlog beyond the batches of one purge waits for the next.
        let later = live[0].expires_at + time::Duration::hours(1);
        assert_eq!(purge_expired_sessions(&**accounts, later, 1, 1).await.unwrap(), 1, "{name}");
        assert_eq!(accounts.list_sessions(&ada.id, before_expiry).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn sessions_are_refreshed_listed_and_ended_only_by_their_own_user() {
    for store in stores().await {
        let (name, accounts) = (store.name, &store.accounts);
        let (ada, eve) = (user("ada@example.com"), user("eve@example.com"));
        let (ada_first, _) = Session::start(&ada.id, None, Some("browser".into()));
        let (eve_first, _) = Session::start(&eve.id, None, None);
        accounts.create_user(&ada, "h", &ada_first).await.unwrap();
        accounts.create_user(&eve, "h", &eve_first).await.unwrap();
        let (ada_second, second_token) = Session::start(&ada.id, None, None);
        accounts.create_session(&ada_second).await.unwrap();
        let at = now();
        assert!(accounts.session_is_live(&ada_first.id, at).await.unwrap(), "{name}");
        assert!(!accounts.session_is_live(&"no-such-session".into(), at).await.unwrap(), "{name}");

        // A refresh moves the expiry and is seen by the next read.
        let later = ada_second.expires_at + time::Duration::days(1);
        assert!(accounts.refresh_session(&ada_second.id, later, at).await.unwrap(), "{name}");
        let (found, _) = accounts.session(&second_token.hash()).await.unwrap().unwrap();
        assert_eq!(found.expires_at, later, "{name}");
        assert!(
            !accounts.refresh_session(&"no-such-session".into(), later, at).await.unwrap(),
            "{name}"
        );

        // Another user's session cannot be ended by naming it.
        assert!(!accounts.delete_user_session(&ada.id, &eve_first.id).await.unwrap(), "{name}");
        assert!(accounts.session_is_live(&eve_first.id, at).await.unwrap(), "{name}");
        // Ending the others keeps the one named; ending all ends it too.
        assert_eq!(accounts.delete_user_sessions(&ada.id, Some(&ada_second.id)).await.unwrap(), 1);
        let left: Vec<_> =
            accounts.list_sessions(&ada.id, at).await.unwrap().into_iter().map(|s| s.id).collect();
        assert_eq!(left, std::slice::from_ref(&ada_second.id), "{name}");
        assert!(accounts.delete_user_session(&ada.id, &ada_second.id).await.unwrap(), "{name}");
        assert_eq!(accounts.delete_user_sessions(&ada.id, None).await.unwrap(), 0, "{name}");
        assert!(accounts.session_is_live(&eve_first.id, at).await.unwrap(), "{name}: untouched");
    }
}
