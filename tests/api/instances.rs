//! Several instances on one PostgreSQL database (when `TEST_DATABASE_URL` is set): a write through
//! one is seen by the very next read through any other, warm caches included.

use serde_json::{Value, json};

use crate::helpers::{pg, spawn, token_for};

#[ignore = "PostgreSQL only: set TEST_DATABASE_URL and pass --include-ignored"]
#[tokio::test]
async fn a_write_through_one_postgres_instance_is_seen_at_once_through_another_with_warm_caches() {
    let url = pg::required_database_url();
    let schema = pg::TestSchema::create(&url).await;
    let writer = spawn(None, |s| s.database_url = schema.url()).await;
    let reader = spawn(None, |s| s.database_url = schema.url()).await;
    let (user, token) = ("shared", token_for("shared"));
    for round in 0..20 {
        // Warm the reader's cache, then write through the other instance.
        let before = reader.list_tasks(user, &token).await;
        assert_eq!(before.headers()["x-total-count"], round.to_string());
        assert_eq!(
            reader.list_tasks(user, &token).await.headers()["x-total-count"],
            round.to_string()
        );
        let created =
            writer.create_task(user, &token, &json!({ "title": format!("t{round}") })).await;
        assert_eq!(created.status(), 201);
        let after = reader.list_tasks(user, &token).await;
        assert_eq!(after.headers()["x-total-count"], (round + 1).to_string(), "round {round}");
        let tasks: Value = after.json().await.unwrap();
        assert_eq!(tasks[0]["title"], format!("t{round}"), "round {round}: no stale page");
    }
    // A toggle and a delete through the reader are seen through the writer just as fast.
    let tasks: Value = writer.list_tasks(user, &token).await.json().await.unwrap();
    let id = tasks[0]["id"].as_str().unwrap();
    assert_eq!(reader.complete_task(user, &token, id, None).await.status(), 200);
    let tasks: Value = writer.list_tasks(user, &token).await.json().await.unwrap();
    assert_eq!(tasks[0]["completed"], true);
    assert_eq!(reader.delete_task(user, &token, id).await.status(), 204);
    let listed = writer.list_tasks(user, &token).await;
    assert_eq!(listed.headers()["x-total-count"], "19");
    drop((writer, reader));
}

/// A `taskgate serve` process, killed when dropped.
struct Instance {
    child: std::process::Child,
    base: String,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `taskgate serve` on `database_url`; the address comes from its start-up log line.
fn start_instance(dir: &std::path::Path, database_url: &str) -> std::process::Child {
    crate::helpers::taskgate_command(dir)
        .arg("serve")
        .env("BETTER_AUTH_SECRET", crate::helpers::SECRET)
        .env("TASKGATE_LISTEN", "127.0.0.1:0")
        .env("DATABASE_URL", database_url)
        .env("TASKGATE_LOG_FORMAT", "json")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap()
}

fn listening_address(child: &mut std::process::Child) -> String {
    use std::io::BufRead;
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "the instance started");
        if line.contains("taskgate listening") {
            let parsed: Value = serde_json::from_str(&line).unwrap();
            // Keep reading the log so the process never blocks on a full pipe.
            std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
            return format!("http://{}", parsed["address"].as_str().unwrap());
        }
    }
}

#[ignore = "PostgreSQL only: set TEST_DATABASE_URL and pass --include-ignored"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_started_at_once_on_an_empty_postgres_database_agree_on_everything() {
    let url = pg::required_database_url();
    let schema = pg::TestSchema::create(&url).await;
    let dir = tempfile::tempdir().unwrap();
    // All three start at the same moment and race to migrate the empty schema.
    let children: Vec<_> = (0..3).map(|_| start_instance(dir.path(), &schema.url())).collect();
    let instances: Vec<Instance> = children
        .into_iter()
        .map(|mut child| {
            let base = listening_address(&mut child);
            Instance { child, base }
        })
        .collect();
    let client = crate::helpers::http_client();
    let (user, token) = ("everywhere", token_for("everywhere"));
    let list = async |instance: &Instance| {
        let response = client
            .get(format!("{}/api/{user}/tasks", instance.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let total = response.headers()["x-total-count"].to_str().unwrap().parse::<usize>().unwrap();
        let tasks: Vec<Value> = response.json().await.unwrap();
        (total, tasks)
    };
    let create = async |instance: &Instance, title: String| {
        client
            .post(format!("{}/api/{user}/tasks", instance.base))
            .bearer_auth(&token)
            .json(&json!({ "title": title }))
            .send()
            .await
            .unwrap()
            .status()
    };

    // Writes through one, reads through the others, every cache warm before each write.
    for round in 0..12 {
        for instance in &instances {
            assert_eq!(list(instance).await.0, round);
        }
        let title = format!("r{round}");
        assert_eq!(create(&instances[round % 3], title.clone()).await, 201);
        for instance in &instances {
            let (total, tasks) = list(instance).await;
            assert_eq!(total, round + 1, "round {round}: no stale total");
            assert_eq!(tasks[0]["title"], title, "round {round}: no stale page");
        }
    }

    // Concurrent creates spread over the instances lose nothing.
    let creates = (0..60).map(|n| create(&instances[n % 3], format!("c{n}")));
    let statuses = futures_join_all(creates).await;
    assert!(statuses.iter().all(|status| *status == 201), "{statuses:?}");
    for instance in &instances {
        let (total, tasks) = list(instance).await;
        assert_eq!((total, tasks.len()), (72, 72), "every instance counts every task");
    }
    drop(instances);
}

/// Runs the futures concurrently and collects their outputs in order.
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut set = Vec::new();
    for future in futures {
        set.push(future);
    }
    let mut outputs = Vec::with_capacity(set.len());
    let mut pinned: Vec<_> = set.into_iter().map(Box::pin).collect();
    let mut done: Vec<Option<F::Output>> = (0..pinned.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (index, future) in pinned.iter_mut().enumerate() {
            if done[index].is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(output) => done[index] = Some(output),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    outputs.extend(done.into_iter().map(|output| output.unwrap()));
    outputs
}
