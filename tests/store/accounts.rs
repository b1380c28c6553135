//! The account store's conformance tests, on every backend.

use taskgate::domain::accounts::{Email, Session, User, now};
use taskgate::domain::auth::{Issuer, UserId};
use taskgate::services::keys::StoredKey;
use taskgate::store::accounts::{DynAccountStore, NewUser};
use taskgate::store::postgres::PgOptions;
use taskgate::store::sqlite::{SqliteOptions, Synchronous};
use taskgate::store::{Backend, DynTaskStore, StoreConfig};

use crate::{draft, pg};

struct Accounts {
    name: &'static str,
    accounts: DynAccountStore,
    tasks: DynTaskStore,
    _sqlite: Option<tempfile::TempDir>,
    _schema: Option<pg::TestSchema>,
}

async fn stores() -> Vec<Accounts> {
    let dir = tempfile::tempdir().unwrap();
    let mut sqlite =
        SqliteOptions::from_url(&format!("sqlite://{}/t.db", dir.path().display())).unwrap();
    sqlite.synchronous = Synchronous::Normal;
    let config =
        |backend| StoreConfig { backend, list_cache_bytes: 1 << 20, max_tasks_per_user: 5 };
    let sqlite = taskgate::store::connect(&config(Backend::Sqlite(sqlite))).await.unwrap();
    let mut all = vec![Accounts {
        name: "sqlite",
        accounts: sqlite.accounts,
        tasks: sqlite.tasks,
        _sqlite: Some(dir),
        _schema: None,
    }];
    if let Some(url) = pg::test_database_url() {
        let schema = pg::TestSchema::create(&url).await;
        let options = PgOptions::from_url(&schema.url()).unwrap().unwrap();
        let stores =
            taskgate::store::connect(&config(Backend::Postgres(Box::new(options)))).await.unwrap();
        all.push(Accounts {
            name: "postgres",
            accounts: stores.accounts,
            tasks: stores.tasks,
            _sqlite: None,
            _schema: Some(schema),
        });
    }
    all
}

fn user(email: &str) -> User {
    let at = now();
    User {
        id: taskgate::domain::accounts::random_id(),
        name: "Ada".into(),
        email: Email::parse(email).unwrap().as_str().to_owned(),
        email_verified: false,
        image: None,
        created_at: at,
        updated_at: at,
    }
}

#[tokio::test]
async fn users_sessions_and_credentials_round_trip_and_emails_are_unique() {
    for store in stores().await {
        let (name, accounts) = (store.name, &store.accounts);
        let ada = user("ada@example.com");
        let (session, token) = Session::start(&ada.id, Some("10.0.0.1".into()), None);
        let created = accounts.create_user(&ada, "hash", &session).await.unwrap();
        assert_eq!(created, NewUser::Created, "{name}");
        let (again, _) = Session::start("x", None, None);
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
        tasks.create(&owner(&ada), draft("ada's")).await.unwrap();
        tasks.create(&owner(&eve), draft("eve's")).await.unwrap();
        let page = taskgate::domain::tasks::PageRequest { limit: 10, after: None };
        // Cached now: the deletion must not leave this page to be served again.
        assert_eq!(tasks.list(&owner(&ada), page).await.unwrap().total, 1);

        assert!(accounts.delete_user(&ada.id, &owner(&ada), 5_000).await.unwrap(), "{name}");
        assert_eq!(accounts.session(&ada_token.hash()).await.unwrap(), None, "{name}");
        assert_eq!(tasks.list(&owner(&ada), page).await.unwrap().total, 0, "{name}");
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

#[tokio::test]
async fn a_rate_limit_window_counts_then_starts_over_so_no_lockout_is_permanent() {
    for store in stores().await {
        let (name, accounts) = (store.name, &store.accounts);
        let t0 = 1_000_000;
        assert_eq!(accounts.count_request("k", 10_000, t0).await.unwrap(), (1, t0), "{name}");
        assert_eq!(accounts.count_request("k", 10_000, t0 + 5).await.unwrap(), (2, t0), "{name}");
        assert_eq!(accounts.count_request("other", 10_000, t0 + 5).await.unwrap(), (1, t0 + 5));
        assert_eq!(accounts.count_request("k", 10_000, t0 + 9_999).await.unwrap(), (3, t0));
        let next = t0 + 10_000;
        assert_eq!(accounts.count_request("k", 10_000, next).await.unwrap(), (1, next), "{name}");
        accounts.purge_rate_limits(next).await.unwrap();
        assert_eq!(
            accounts.count_request("other", 10_000, next).await.unwrap(),
            (1, next),
            "{name}"
        );
    }
}

#[tokio::test]
async fn reading_a_rate_limit_count_counts_nothing() {
    for store in stores().await {
        let (name, accounts) = (store.name, &store.accounts);
        let t0 = 2_000_000;
        assert_eq!(accounts.request_count("r", 10_000, t0).await.unwrap(), (0, t0), "{name}");
        accounts.count_request("r", 10_000, t0).await.unwrap();
        accounts.count_request("r", 10_000, t0 + 1).await.unwrap();
        for _ in 0..3 {
            assert_eq!(accounts.request_count("r", 10_000, t0 + 2).await.unwrap(), (2, t0));
        }
        let over = t0 + 10_000;
        assert_eq!(accounts.request_count("r", 10_000, over).await.unwrap(), (0, over), "{name}");
    }
}

#[tokio::test]
async fn the_first_signing_key_stays_the_first() {
    for store in stores().await {
        let (name, accounts) = (store.name, &store.accounts);
        let key = |kid: &str| StoredKey {
            kid: kid.into(),
            public_key: vec![7; 32],
            sealed_private_key: vec![1; 60],
            created_at: now(),
        };
        let first = accounts.signing_keys_or_insert(&key("first")).await.unwrap();
        let kids: Vec<&str> = first.iter().map(|k| k.kid.as_str()).collect();
        assert_eq!(kids, ["first"], "{name}");
        assert_eq!((first[0].public_key.len(), first[0].sealed_private_key.len()), (32, 60));
        let again = accounts.signing_keys_or_insert(&key("second")).await.unwrap();
        assert_eq!(again, first, "{name}: a key exists, the candidate is not stored");
    }
}

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
            let mut ids: Vec<String> = sessions.into_iter().map(|s| s.id).collect();
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
async fn a_rotated_key_signs_and_the_old_one_is_published_until_its_tokens_have_expired() {
    use taskgate::config::TokenAlg;
    use taskgate::domain::auth::OwnKeys;
    use taskgate::services::keys::{RETIRED_KEY_KEPT, Signer, generate, rotate};
    let secret = secrecy::SecretString::from("a-test-secret-of-at-least-32-bytes-long".to_owned());
    for store in stores().await {
        let (name, accounts) = (store.name, &store.accounts);
        let signer =
            Signer::load(accounts, &secret, "http://x".into(), TokenAlg::EdDsa).await.unwrap();
        let ada = user("ada@example.com");
        let (session, _) = Session::start(&ada.id, None, None);
        let kid_of = |jwt: &str| {
            let header = jwt.split('.').next().unwrap();
            let header =
                base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header)
                    .unwrap();
            serde_json::from_slice::<serde_json::Value>(&header).unwrap()["kid"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let old_kid = kid_of(&signer.mint(&ada, &session, 0).unwrap());

        let new_kid = rotate(accounts, &secret).await.unwrap();
        let rotated_at = now();
        signer.reload(rotated_at).await.unwrap();
        assert_eq!(kid_of(&signer.mint(&ada, &session, 0).unwrap()), new_kid, "{name}");
        let kids = |signer: &Signer| -> Vec<String> {
            signer.keys().iter().map(|key| key.kid.clone().unwrap()).collect()
        };
        assert_eq!(kids(&signer), [old_kid.clone(), new_kid.clone()], "{name}");
        assert_eq!(signer.jwks().keys.len(), 2, "{name}");

        // Once the old key's last tokens have expired, it is no longer published.
        signer.reload(rotated_at + RETIRED_KEY_KEPT + time::Duration::seconds(1)).await.unwrap();
        assert_eq!(kids(&signer), vec![new_kid.clone()], "{name}");
        assert_eq!(signer.jwks().keys[0].kid, new_kid, "{name}");

        // Adding a key deletes the keys replaced before the time given, not the one it replaces.
        let mut third = generate(&secret).unwrap();
        third.created_at = rotated_at + time::Duration::seconds(1);
        let stored = |keys: Vec<StoredKey>| keys.into_iter().map(|k| k.kid).collect::<Vec<_>>();
        accounts.add_signing_key(&third, third.created_at).await.unwrap();
        let left = stored(accounts.signing_keys().await.unwrap());
        assert_eq!(left, [new_kid.clone(), third.kid.clone()], "{name}");
    }
}
