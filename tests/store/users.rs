//! The user store's conformance tests, on every backend.

use taskgate::domain::accounts::{Email, Session, User, now};
use taskgate::domain::auth::{Issuer, UserId};
use taskgate::store::accounts::NewUser;

use crate::accounts::{stores, user};
use crate::draft;

#[tokio::test]
async fn users_sessions_and_credentials_round_trip_and_emails_are_unique() {
    for store in stores().await {
        let (name, accounts) = (store.name, &store.accounts);
        let ada = user("ada@example.com");
        let (session, token) = Session::start(&ada.id, Some("10.0.0.1".into()), None);
        let created = accounts.create_user(&ada, "hash", &session).await.unwrap();
        assert_eq!(created, NewUser::Created, "{name}");
        let (again, _) = Session::start(&"x".into(), None, None);
        let taken = accounts.create_user(&user("ADA@example.com"), "h", &again).await.unwrap();
        assert_eq!(taken, NewUser::EmailTaken, "{name}");
        let email = Email::parse(" Ada@Example.com").unwrap();
        assert_eq!(accounts.credentials(&email).await.unwrap(), Some((ada.clone(), "hash".into())));
        let found = accounts.session(&token.hash()).await.unwrap().unwrap();
        assert_eq!(found, (session.clone(), ada.clone()), "{name}: times kept to the millisecond");
        assert_eq!(accounts.list_sessions(&ada.id, now()).await.unwrap(), vec![session.clone()]);
        let later = session.expires_at + time::Duration::seconds(1);
        assert!(accounts.list_sessions(&ada.id, later).await.unwrap().is_empty(), "{name}");
        assert!(accounts.delete_session(&token.hash()).await.unwrap(), "{name}");
        assert_eq!(accounts.session(&token.hash()).await.unwrap(), None, "{name}");
    }
}

#[tokio::test]
async fn deleting_a_user_takes_its_sessions_and_tasks_and_nothing_else() {
    for store in stores().await {
        let (name, accounts, tasks) = (store.name, &store.accounts, &store.tasks);
        let (ada, eve) = (user("ada@example.com"), user("eve@example.com"));
        let (ada_session, ada_token) = Session::start(&ada.id, None, None);
        let (eve_session, eve_token) = Session::start(&eve.id, None, None);
        accounts.create_user(&ada, "h", &ada_session).await.unwrap();
        accounts.create_user(&eve, "h", &eve_session).await.unwrap();
        let owner = |user: &User| UserId::new(Issuer::accounts(), &user.id).unwrap();
        let tagged = |title: &str| {
            let tags = vec![taskgate::domain::tasks::TagName::parse("Shared", "tag").unwrap()];
            taskgate::domain::tasks::TaskDraft { tags, ..draft(title) }
        };
        tasks.create(&owner(&ada), tagged("ada's")).await.unwrap();
        tasks.create(&owner(&eve), tagged("eve's")).await.unwrap();
        let page = &taskgate::domain::tasks::TaskQuery::newest(10);
        // Cached now: the deletion must not leave this page to be served again.
        assert_eq!(tasks.list(&owner(&ada), page).await.unwrap().total, 1);

        assert!(accounts.delete_user(&ada.id, &owner(&ada), 5_000).await.unwrap(), "{name}");
        assert_eq!(accounts.session(&ada_token.hash()).await.unwrap(), None, "{name}");
        assert_eq!(tasks.list(&owner(&ada), page).await.unwrap().total, 0, "{name}");
        assert!(tasks.tags(&owner(&ada)).await.unwrap().is_empty(), "{name}: ada's tags are gone");
        assert_eq!(tasks.tags(&owner(&eve)).await.unwrap().len(), 1, "{name}: eve's stay");
        // A token still alive that writes again finds no spelling left behind.
        let again = taskgate::domain::tasks::TagName::parse("SHARED", "tag").unwrap();
        let again = taskgate::domain::tasks::TaskDraft { tags: vec![again], ..draft("again") };
        assert_eq!(tasks.create(&owner(&ada), again).await.unwrap().tags, ["SHARED"], "{name}");
        assert!(accounts.session(&eve_token.hash()).await.unwrap().is_some(), "{name}");
        assert_eq!(tasks.list(&owner(&eve), page).await.unwrap().total, 1, "{name}");
        assert!(!accounts.delete_user(&ada.id, &owner(&ada), 6_000).await.unwrap(), "{name}");
        // The deletion is on the list every instance reads, once.
        let listed = accounts.deleted_users_since(5_000).await.unwrap();
        assert_eq!(listed, vec![(ada.id.clone(), 5_000)], "{name}");
        assert!(accounts.deleted_users_since(5_001).await.unwrap().is_empty(), "{name}");
        accounts.purge_deleted_users(5_001).await.unwrap();
        assert!(accounts.deleted_users_since(0).await.unwrap().is_empty(), "{name}");
    }
}
