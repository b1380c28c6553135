//! A fresh PostgreSQL schema per test, on the database `TEST_DATABASE_URL` names, dropped when the
//! test ends; a test that uses one sees nothing of any other.

use tokio_postgres::NoTls;

/// The database the PostgreSQL runs use, when the environment names one.
pub fn test_database_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL").ok().filter(|url| !url.trim().is_empty())
}

/// `TEST_DATABASE_URL`, for a test that needs PostgreSQL. Such tests are marked
/// `#[ignore = "PostgreSQL only: ..."]`, so a run without PostgreSQL reports them as ignored
/// instead of passing them unrun; `--include-ignored` without the variable fails loudly here.
pub fn required_database_url() -> String {
    test_database_url().expect(
        "this test needs PostgreSQL: set TEST_DATABASE_URL \
         (e.g. postgres://postgres@127.0.0.1:5432/test)",
    )
}

pub struct TestSchema {
    base_url: String,
    pub name: String,
}

impl TestSchema {
    pub async fn create(base_url: &str) -> Self {
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        execute(base_url, &format!("CREATE SCHEMA {name}")).await;
        Self { base_url: base_url.to_owned(), name }
    }

    /// `base_url` with this schema first on the search path of every connection.
    pub fn url(&self) -> String {
        let separator = if self.base_url.contains('?') { '&' } else { '?' };
        format!("{}{separator}options=-c%20search_path%3D{}", self.base_url, self.name)
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let (url, sql) = (self.base_url.clone(), format!("DROP SCHEMA {} CASCADE", self.name));
        // Drop may run inside a runtime, which cannot block on another: use a thread of its own.
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(execute(&url, &sql));
        })
        .join();
        if dropped.is_err() && !std::thread::panicking() {
            panic!("could not drop the test schema {}", self.name);
        }
    }
}

pub async fn execute(url: &str, sql: &str) {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.unwrap();
    let driver = tokio::spawn(connection);
    client.batch_execute(sql).await.unwrap();
    drop(client);
    let _ = driver.await;
}
