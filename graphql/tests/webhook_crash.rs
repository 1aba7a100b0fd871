//! Crash (issue 15): the `tillval` server is killed (SIGKILL) while events wait in the outbox
//! and deliveries are in flight; after a restart on the same database every event written
//! reaches the receiver at least once, and an event that arrives twice carries the same
//! `webhook-id` and the same body both times.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const BINARY: &str = env!("CARGO_BIN_EXE_tillval");

/// Fails its first few posts, and answers every post slowly, so that some are in flight
/// whenever the server dies. A post is recorded as it arrives: one in flight when the server
/// dies was received, though the server never heard so.
#[derive(Default)]
struct Receiver {
    started: AtomicUsize,
    /// Posts being answered that will be answered 2xx.
    ok_in_flight: AtomicUsize,
    /// Posts answered 2xx (the sender heard it, unless it died first).
    acknowledged: AtomicUsize,
    /// (webhook-id, body, answered 2xx) of every post, as it arrived.
    posts: Mutex<Vec<(String, String, bool)>>,
}

const FAILING_FIRST: usize = 4;
const ANSWER_AFTER: Duration = Duration::from_millis(300);

/// Counts a post out of flight however its handler ends (a closed connection drops it).
struct InFlight(Arc<Receiver>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.ok_in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn receive(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let n = receiver.started.fetch_add(1, Ordering::SeqCst);
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let ok = n >= FAILING_FIRST;
    receiver
        .posts
        .lock()
        .unwrap()
        .push((id, String::from_utf8_lossy(&body).into_owned(), ok));
    if !ok {
        tokio::time::sleep(ANSWER_AFTER).await;
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    receiver.ok_in_flight.fetch_add(1, Ordering::SeqCst);
    let _in_flight = InFlight(receiver.clone());
    tokio::time::sleep(ANSWER_AFTER).await;
    receiver.acknowledged.fetch_add(1, Ordering::SeqCst);
    StatusCode::NO_CONTENT
}

async fn start_server(database: &str) -> (Child, String) {
    let mut child = Command::new(BINARY)
        .args([
            "serve",
            "--demo",
            "--bind",
            "127.0.0.1:0",
            "--database",
            database,
            "--webhook-lease-secs",
            "3",
            "--webhook-timeout-secs",
            "2",
            "--webhook-backoff-ms",
            "100",
            "--webhook-attempts",
            "50",
        ])
        .env_remove("TILLVAL_JWT_SECRET")
        .env_remove("TILLVAL_ENV")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the server starts within 30 s")
        .unwrap()
        .unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("the address is printed")
        .to_owned();
    // Keep reading what it prints, so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, url)
}

fn cli(args: &[&str]) -> String {
    let out = std::process::Command::new(BINARY)
        .args(args)
        .env_remove("TILLVAL_JWT_SECRET")
        .env_remove("TILLVAL_ENV")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn gql(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    query: &str,
    variables: Value,
) -> Value {
    client
        .post(url)
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_delivers_every_event_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("crash.db").display());

    let receiver = Arc::new(Receiver::default());
    let app = axum::Router::new()
        .route("/hooks", axum::routing::post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hooks = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    cli(&["webhooks", "add", &hooks, "--database", &database]);
    let staff = cli(&["token", "--tenant", "drift", "--role", "staff"])
        .trim()
        .to_owned();

    // The demo's cases are written (with their events) as the server starts; staff then move
    // every open case on to INSTALLED (an event per step, a fee booked at the end).
    let (mut server, url) = start_server(&database).await;
    let client = reqwest::Client::new();
    let queue = gql(
        &client,
        &url,
        &staff,
        "{ caseQueue(first: 50) { nodes { number status } } }",
        json!({}),
    )
    .await;
    let numbers: Vec<String> = queue["data"]["caseQueue"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{queue}"))
        .iter()
        .map(|n| n["number"].as_str().unwrap().to_owned())
        .collect();
    assert!(!numbers.is_empty());
    let mut moves = 0;
    for number in &numbers {
        for to in ["UNDER_REVIEW", "APPROVED", "SCHEDULED", "INSTALLED"] {
            let moved = gql(
                &client,
                &url,
                &staff,
                "mutation($n: String!, $to: CaseStatus!) { caseTransition(number: $n, to: $to) { case { status } } }",
                json!({ "n": number, "to": to }),
            )
            .await;
            if moved["data"]["caseTransition"]["case"]["status"] == to {
                moves += 1;
            }
        }
    }
    assert!(moves >= 3, "only {moves} moves");

    // Kill it while posts are in flight and events still wait.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !(receiver.acknowledged.load(Ordering::SeqCst) >= 2
        && receiver.ok_in_flight.load(Ordering::SeqCst) > 0)
    {
        assert!(
            Instant::now() < deadline,
            "no delivery in flight within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let in_flight_at_kill = receiver.ok_in_flight.load(Ordering::SeqCst);
    server.kill().await.unwrap(); // SIGKILL
    let written = tillval_tests::outbox::webhook_ids(&database).await.unwrap();
    let acknowledged_at_kill = receiver.acknowledged.load(Ordering::SeqCst);
    assert!(
        acknowledged_at_kill < written.len(),
        "every event was through before the kill ({acknowledged_at_kill} of {}): the test proves nothing",
        written.len()
    );

    // Restart on the same database: the dead node's leases run out, and the rest goes.
    let (mut server, url) = start_server(&database).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = gql(
            &client,
            &url,
            &staff,
            "{ outboxStatus { pending dead } }",
            json!({}),
        )
        .await;
        let pending = status["data"]["outboxStatus"]["pending"].as_u64();
        if pending == Some(0) {
            assert_eq!(status["data"]["outboxStatus"]["dead"], 0, "{status}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the outbox did not drain in 60 s: {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.kill().await.unwrap();

    let written = tillval_tests::outbox::webhook_ids(&database).await.unwrap();
    let posts = receiver.posts.lock().unwrap().clone();
    let mut bodies: HashMap<&str, Vec<&str>> = HashMap::new();
    for (id, body, ok) in &posts {
        assert!(!id.is_empty(), "a post without a webhook-id");
        if *ok {
            bodies.entry(id.as_str()).or_default().push(body.as_str());
        }
    }
    for id in &written {
        assert!(bodies.contains_key(id.as_str()), "{id} was never delivered");
    }
    assert_eq!(
        bodies.len(),
        written.len(),
        "deliveries of events never written"
    );
    let mut duplicates = 0;
    for (id, seen) in &bodies {
        if seen.len() > 1 {
            duplicates += seen.len() - 1;
            assert!(
                seen.windows(2).all(|w| w[0] == w[1]),
                "{id} came with different bodies"
            );
        }
    }
    // What was in flight at the kill was received, then sent again after the restart.
    assert!(
        duplicates >= 1,
        "no event arrived twice although {in_flight_at_kill} were in flight at the kill"
    );
    println!(
        "{} events written; {acknowledged_at_kill} acknowledged before the kill; {} posts in all ({} refused by the receiver), {duplicates} duplicates (same webhook-id, same body); {in_flight_at_kill} in flight at the kill",
        written.len(),
        posts.len(),
        posts.iter().filter(|p| !p.2).count()
    );
}
