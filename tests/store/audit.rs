//! The audit store's conformance tests, on every backend.

use taskgate::domain::accounts::{AuditEvent, Session, now};

use crate::accounts::{stores, user};

#[tokio::test]
async fn a_users_events_come_back_newest_first_bounded_and_its_own_only() {
    for store in stores().await {
        let (name, accounts) = (store.name, &store.accounts);
        let (ada, eve) = (user("ada@example.com"), user("eve@example.com"));
        for someone in [&ada, &eve] {
            let (session, _) = Session::start(&someone.id, None, None);
            accounts.create_user(someone, "hash", &session).await.unwrap();
        }
        let start = now();
        for (n, event) in ["sign-up", "sign-in", "wrong-password"].into_iter().enumerate() {
            let at = start + time::Duration::seconds(n as i64);
            let event = AuditEvent {
                event: event.into(),
                ip_address: Some("192.0.2.1".into()),
                created_at: at,
            };
            accounts.record_event(&ada.id, &event).await.unwrap();
        }
        let eve_event = AuditEvent { event: "sign-in".into(), ip_address: None, created_at: start };
        accounts.record_event(&eve.id, &eve_event).await.unwrap();
        let names =
            |events: Vec<AuditEvent>| events.into_iter().map(|e| e.event).collect::<Vec<_>>();
        let all = accounts.events(&ada.id, 10).await.unwrap();
        assert_eq!(all[0].ip_address.as_deref(), Some("192.0.2.1"), "{name}");
        assert_eq!(all[0].created_at, start + time::Duration::seconds(2), "{name}: to the ms");
        assert_eq!(names(all), ["wrong-password", "sign-in", "sign-up"], "{name}");
        assert_eq!(names(accounts.events(&ada.id, 2).await.unwrap()).len(), 2, "{name}: bounded");
        assert_eq!(names(accounts.events(&eve.id, 10).await.unwrap()), ["sign-in"], "{name}");
        // An unknown user records nothing and has nothing.
        accounts.record_event(&"nobody".into(), &eve_event).await.unwrap();
        assert!(accounts.events(&"nobody".into(), 10).await.unwrap().is_empty(), "{name}");
    }
}
