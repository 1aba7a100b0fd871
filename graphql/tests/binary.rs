//! The `tillval` binary: it serves on the port it says, shuts down cleanly on SIGTERM, refuses
//! production without a secret, and prints the demo tokens.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BINARY: &str = env!("CARGO_BIN_EXE_tillval");

#[test]
fn serve_answers_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("bin.db").display());
    let mut child = Command::new(BINARY)
        .args([
            "serve",
            "--demo",
            "--bind",
            "127.0.0.1:0",
            "--database",
            &database,
        ])
        .env_remove("TILLVAL_JWT_SECRET")
        .env_remove("TILLVAL_ENV")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("the address is printed")
        .to_owned();
    let graphiql = lines.next().unwrap().unwrap();
    assert!(graphiql.contains("/graphiql"), "{graphiql}");
    let health = url.replace("/graphql", "/health");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = runtime.block_on(async { reqwest::get(&health).await.unwrap().status().as_u16() });
    assert_eq!(status, 200);

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exits cleanly: {status:?}");
            break;
        }
        assert!(Instant::now() < deadline, "did not stop within 10 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn production_without_a_secret_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("prod.db").display());
    let output = Command::new(BINARY)
        .args([
            "serve",
            "--production",
            "--bind",
            "127.0.0.1:0",
            "--database",
            &database,
        ])
        .env_remove("TILLVAL_JWT_SECRET")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("TILLVAL_JWT_SECRET"));
    let output = Command::new(BINARY)
        .args(["serve", "--bind", "127.0.0.1:0", "--database", &database])
        .env("TILLVAL_ENV", "production")
        .env_remove("TILLVAL_JWT_SECRET")
        .output()
        .unwrap();
    assert!(
        !output.status.success(),
        "TILLVAL_ENV=production counts too"
    );
}

#[test]
fn demo_tokens_are_json_with_every_seed_case() {
    let output = Command::new(BINARY)
        .args(["demo", "tokens", "--json"])
        .env("TILLVAL_JWT_SECRET", "x".repeat(40))
        .output()
        .unwrap();
    assert!(output.status.success());
    let tenants: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let cases: Vec<&str> = tenants
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["case"].as_str().unwrap())
        .collect();
    assert_eq!(
        cases,
        ["free", "debt", "ongoing_order", "unpaid_fee", "piece_unit"]
    );
    for tenant in tenants.as_array().unwrap() {
        assert_eq!(tenant["token"].as_str().unwrap().split('.').count(), 3);
        assert!(
            tenant["rentalObjectId"]
                .as_str()
                .unwrap()
                .starts_with("gid://tillval/RentalObject/")
        );
    }
    let token = Command::new(BINARY)
        .args(["token", "--tenant", "ola", "--role", "staff", "--ttl", "60"])
        .env("TILLVAL_JWT_SECRET", "x".repeat(40))
        .output()
        .unwrap();
    assert!(token.status.success());
    let auth = tillval_graphql::auth::Auth::new("x".repeat(40).as_bytes()).unwrap();
    let identity = auth
        .verify(String::from_utf8(token.stdout).unwrap().trim())
        .unwrap();
    assert_eq!(
        identity,
        tillval_graphql::auth::Identity::Staff("ola".into())
    );
}
