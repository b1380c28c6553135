//! What the account stores' conformance tests share: every backend's stores, fresh, and users.

use taskgate::domain::accounts::{Email, User, now};
use taskgate::store::accounts::DynAccountStore;
use taskgate::store::postgres::PgOptions;
use taskgate::store::sqlite::{SqliteOptions, Synchronous};
use taskgate::store::{Backend, DynTaskStore, StoreConfig};

use crate::pg;

pub struct Accounts {
    pub name: &'static str,
    pub accounts: DynAccountStore,
    pub tasks: DynTaskStore,
    _sqlite: Option<tempfile::TempDir>,
    _schema: Option<pg::TestSchema>,
}

pub async fn stores() -> Vec<Accounts> {
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

pub fn user(email: &str) -> User {
    let at = now();
    User {
        id: taskgate::domain::accounts::AccountId::generate(),
        name: "Ada".into(),
        email: Email::parse(email).unwrap().as_str().to_owned(),
        email_verified: false,
        image: None,
        created_at: at,
        updated_at: at,
    }
}
