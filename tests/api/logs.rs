//! What the running binary logs: refusals with their code and client, and never a credential.

use serde_json::json;
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use crate::helpers::{SECRET, sign};

#[tokio::test]
async fn refusals_are_logged_with_their_code_but_no_token_or_secret_ever_is() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = crate::helpers::taskgate_command(dir.path())
        .env("BETTER_AUTH_SECRET", SECRET)
        .env("TASKGATE_LISTEN", "127.0.0.1:0")
        .env("DATABASE_URL", format!("sqlite://{}/t.db", dir.path().display()))
        .env("RUST_LOG", "trace")
        .env("TASKGATE_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut log = String::new();
    let address = loop {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "the server started: {log}");
        log.push_str(&line);
        if line.contains("taskgate listening") {
            let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
            break parsed["address"].as_str().unwrap().to_owned();
        }
    };

    let client = crate::helpers::http_client();
    let valid = sign(&json!({ "sub": "alice", "exp": crate::helpers::now() + 60 }));
    let expired = sign(&json!({ "sub": "alice", "exp": crate::helpers::now() - 60 }));
    let url = |path: &str| format!("http://{address}{path}");
    let created = client
        .post(url("/api/alice/tasks"))
        .bearer_auth(&valid)
        .json(&json!({ "title": "logged" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    for (path, token) in [("/api/alice/tasks", &expired), ("/api/bob/tasks", &valid)] {
        let response = client
            .get(url(path))
            .bearer_auth(token)
            .header("cookie", "better-auth.session_token=cookie-secret-value")
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error());
    }

    // Paths no route takes are labelled by kind, never by the path itself.
    for path in ["/tasks/some-page", "/api/nowhere/carol"] {
        client.get(url(path)).send().await.unwrap();
    }

    // SIGTERM, then read everything it wrote until it exits.
    Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    stdout.read_to_string(&mut log).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    assert!(child.wait().unwrap().success(), "a clean shutdown: {log}");

    assert!(log.contains(r#""error_code":"TOKEN_EXPIRED""#), "{log}");
    assert!(log.contains(r#""error_code":"FORBIDDEN_USER_ACCESS""#), "{log}");
    assert!(log.contains(r#""client":"127.0.0.1""#), "{log}");
    assert!(log.contains(r#""route":"/api/{user_id}/tasks""#), "{log}");
    let finished = log
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|line| line["message"] == "request" && line["status"] == 201)
        .unwrap_or_else(|| panic!("one line per request: {log}"));
    assert_eq!(
        (&finished["method"], &finished["route"]),
        (&json!("POST"), &json!("/api/{user_id}/tasks"))
    );
    assert!(finished["request_id"].as_str().is_some_and(|id| id.len() == 36), "{finished}");
    assert!(finished["latency_us"].is_u64(), "latency is a number: {finished}");
    let routes: Vec<String> = log
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| line["message"] == "request")
        .map(|line| line["route"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(routes.iter().any(|route| route == "<app>"), "{routes:?}");
    assert!(routes.iter().any(|route| route == "<unmatched>"), "{routes:?}");
    assert!(!routes.iter().any(|route| route.contains("nowhere") || route.contains("some-page")));
    for secret in [valid.as_str(), expired.as_str(), SECRET, "cookie-secret-value"] {
        assert!(!log.contains(secret), "a credential reached the log");
    }
    // Not even a recognisable piece of a token (its signature segment).
    assert!(!log.contains(valid.rsplit('.').next().unwrap()));
}
