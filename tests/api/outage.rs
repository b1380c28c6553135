//! The database going away (PostgreSQL, when `TEST_DATABASE_URL` is set): through a TCP proxy the
//! test controls, under load (creates and list reads), PostgreSQL first refuses connections (a crash), comes back,
//! then stops answering on open connections (a network partition), and comes back. Every request
//! during an outage is answered within 3 s, with 201 or with 503 and `Retry-After`; the service
//! recovers by itself within 10 s of each restore; every create answered 201 is still there.

use serde_json::{Value, json};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{mpsc, watch};

use crate::helpers::{TestApp, pg, spawn, token_for};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Up,
    /// Nothing listens: connections are refused, and open ones are reset.
    Refusing,
    /// Connections open, but not a byte goes through either way.
    BlackHole,
}

/// A TCP proxy to `target` on a fixed local port, whose behaviour the test switches.
struct Proxy {
    address: SocketAddr,
    mode: watch::Sender<Mode>,
}

impl Proxy {
    async fn start(target: SocketAddr) -> Arc<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (mode, _) = watch::channel(Mode::Up);
        let proxy = Arc::new(Self { address, mode });
        tokio::spawn(proxy.clone().serve(Some(listener), target));
        proxy
    }

    fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }

    async fn serve(self: Arc<Self>, mut listener: Option<TcpListener>, target: SocketAddr) {
        let mut modes = self.mode.subscribe();
        loop {
            let mode = *modes.borrow_and_update();
            match (&listener, mode) {
                // Refusing: close the listening socket, so connects are refused.
                (Some(_), Mode::Refusing) => listener = None,
                (None, Mode::Up | Mode::BlackHole) => {
                    let socket = TcpSocket::new_v4().unwrap();
                    socket.set_reuseaddr(true).unwrap();
                    socket.bind(self.address).unwrap();
                    listener = Some(socket.listen(128).unwrap());
                }
                _ => {}
            }
            let Some(open) = &listener else {
                if modes.changed().await.is_err() {
                    return;
                }
                continue;
            };
            tokio::select! {
                accepted = open.accept() => {
                    if let Ok((client, _)) = accepted {
                        tokio::spawn(relay(client, target, self.mode.subscribe()));
                    }
                }
                changed = modes.changed() => if changed.is_err() { return },
            }
        }
    }
}

/// Carries one connection while the proxy is up; holds it silent in a black hole; drops it
/// (as a crash or a healed partition's reset would) when the mode changes from that.
async fn relay(mut client: TcpStream, target: SocketAddr, mut modes: watch::Receiver<Mode>) {
    let started = *modes.borrow_and_update();
    if started == Mode::BlackHole {
        let _ = modes.changed().await;
        return;
    }
    let Ok(mut server) = TcpStream::connect(target).await else { return };
    loop {
        tokio::select! {
            _ = tokio::io::copy_bidirectional(&mut client, &mut server) => return,
            changed = modes.changed() => {
                if changed.is_err() {
                    return;
                }
                let now = *modes.borrow_and_update();
                match now {
                    Mode::Up => continue,
                    // Both sides closed, as when the server's process dies.
                    Mode::Refusing => return,
                    Mode::BlackHole => {
                        // Silent until the mode changes again, then gone.
                        let _ = modes.changed().await;
                        let _ = client.shutdown().await;
                        return;
                    }
                }
            }
        }
    }
}

/// What the load saw of one create.
#[derive(Debug)]
struct Answer {
    status: u16,
    retry_after: bool,
    took: Duration,
    id: Option<String>,
}

/// A read of the list, whose cached pages must not outlive the database's answers either.
async fn list(app: &TestApp) -> Answer {
    let started = Instant::now();
    let response = app.list_tasks("load", &token_for("load")).await;
    let (status, retry_after) =
        (response.status().as_u16(), response.headers().contains_key("retry-after"));
    Answer { status, retry_after, took: started.elapsed(), id: None }
}

async fn create(app: &TestApp, n: usize) -> Answer {
    let started = Instant::now();
    let response =
        app.create_task("load", &token_for("load"), &json!({ "title": format!("t{n}") })).await;
    let (status, retry_after) =
        (response.status().as_u16(), response.headers().contains_key("retry-after"));
    let body: Value = response.json().await.unwrap_or(Value::Null);
    Answer { status, retry_after, took: started.elapsed(), id: body["id"].as_str().map(Into::into) }
}

/// Waits until the load has answered `count` creates with `status` (every answer checked on the
/// way), or fails after `within`.
async fn until_answers(
    answers: &mut mpsc::UnboundedReceiver<Answer>,
    created: &mut HashSet<String>,
    status: u16,
    count: usize,
    within: Duration,
) {
    let deadline = Instant::now() + within;
    let mut seen = 0;
    while seen < count {
        let answer = tokio::time::timeout_at(deadline.into(), answers.recv())
            .await
            .unwrap_or_else(|_| panic!("no {count} answers {status} within {within:?}"))
            .unwrap();
        assert!(answer.took < Duration::from_secs(3), "answered within 3 s: {answer:?}");
        match answer.status {
            201 => {
                created.insert(answer.id.clone().unwrap());
            }
            200 => {}
            503 => assert!(answer.retry_after, "a 503 says when to retry: {answer:?}"),
            _ => panic!("only 200, 201 or 503 during an outage: {answer:?}"),
        }
        if answer.status == status {
            seen += 1;
        }
    }
}

async fn ready_status(app: &TestApp) -> (u16, Duration) {
    let started = Instant::now();
    let status = app.client.get(app.url("/readyz")).send().await.unwrap().status().as_u16();
    (status, started.elapsed())
}

#[ignore = "PostgreSQL only: set TEST_DATABASE_URL and pass --include-ignored"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outages_are_fast_503s_and_the_service_recovers_by_itself() {
    let url = pg::required_database_url();
    let schema = pg::TestSchema::create(&url).await;
    let mut via_proxy = reqwest::Url::parse(&schema.url()).unwrap();
    let target = tokio::net::lookup_host(format!(
        "{}:{}",
        via_proxy.host_str().unwrap(),
        via_proxy.port().unwrap_or(5432)
    ))
    .await
    .unwrap()
    .next()
    .unwrap();
    let proxy = Proxy::start(target).await;
    via_proxy.set_ip_host(proxy.address.ip()).unwrap();
    via_proxy.set_port(Some(proxy.address.port())).unwrap();
    let app = Arc::new(spawn(None, |s| s.database_url = via_proxy.to_string()).await);

    let (sender, mut answers) = mpsc::unbounded_channel();
    let load = {
        let app = app.clone();
        tokio::spawn(async move {
            for n in 0.. {
                if sender.send(create(&app, n).await).is_err()
                    || sender.send(list(&app).await).is_err()
                {
                    return;
                }
            }
        })
    };
    let mut created = HashSet::new();
    until_answers(&mut answers, &mut created, 201, 5, Duration::from_secs(10)).await;

    for outage in [Mode::Refusing, Mode::BlackHole] {
        proxy.set(outage);
        until_answers(&mut answers, &mut created, 503, 3, Duration::from_secs(15)).await;
        let (ready, took) = ready_status(&app).await;
        assert_eq!(ready, 503, "{outage:?}: not ready while the database is away");
        assert!(took < Duration::from_secs(3), "{outage:?}: /readyz took {took:?}");
        let live = app.client.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(live.status(), 200, "{outage:?}: still alive");

        proxy.set(Mode::Up);
        until_answers(&mut answers, &mut created, 201, 3, Duration::from_secs(10)).await;
        assert_eq!(ready_status(&app).await.0, 200, "{outage:?}: ready again");
    }
    load.abort();

    let token = token_for("load");
    let mut listed = HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/api/load/tasks?limit=500&cursor={cursor}"),
            None => "/api/load/tasks?limit=500".to_owned(),
        };
        let response = app.authed(app.client.get(app.url(&path)), &token).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let next = response.headers().get("link").map(|link| {
            let link = link.to_str().unwrap();
            link[link.find("cursor=").unwrap() + 7..link.find('>').unwrap()].to_owned()
        });
        let tasks: Vec<Value> = response.json().await.unwrap();
        listed.extend(tasks.iter().map(|task| task["id"].as_str().unwrap().to_owned()));
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let lost: Vec<_> = created.difference(&listed).collect();
    assert!(lost.is_empty(), "creates answered 201 are all there: lost {lost:?}");
    drop(schema);
}
