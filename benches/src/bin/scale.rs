//! The scale bench (issue 16, item 6): PostgreSQL filled with 100,000 rental objects, 1,000,000
//! cases and a catalogue per property (`tillval_benches::scale_fixture`), one `tillval serve`
//! node on it, and 32 connections of tenants asking for their `catalogue` and their
//! `cases(first: 20)` for a minute. Prints p50/p99 per query and the node's resident memory at
//! the end. Loopback only; bounded in time and requests.
//!
//! cargo run --release -p tillval-benches --bin scale -- [--server URL] [--seconds S] [--connections N]
//!
//! `--server` is a PostgreSQL server URL (default `TILLVAL_TEST_DATABASE_URL`, else the local
//! `postgres://postgres@127.0.0.1:5432/test`); the bench uses a database `tillval_scale` on it,
//! filled once and reused while it holds the right counts.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tillval_benches::scale_fixture::{self, ScaleSize};
use tillval_benches::server_process::{ServerProcess, tillval_binary};
use tillval_graphql::auth::{Auth, Role};

type AnyError = Box<dyn std::error::Error + Send + Sync>;

const SECRET: &str = "the-scale-bench-secret-long-enough-to-sign";
const MAX_SECONDS: u64 = 600;
const MAX_REQUESTS: usize = 5_000_000;
const DATABASE: &str = "tillval_scale";

const CATALOGUE: &str = r#"query($id: ID!) { catalogue(rentalObjectId: $id) { gate { open }
  categories { name options { id name monthlyPrice { amount formatted } availability { status reasons { code message } } } } } }"#;
const CASES: &str = r#"query { cases(first: 20) { pageInfo { hasNextPage endCursor }
  edges { node { number status createdAt lines { name quantity monthlyPrice { amount formatted } } } } } }"#;

fn argument(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// `server`'s URL with its database replaced by `database`.
fn with_database(server: &str, database: &str) -> String {
    match server.rsplit_once('/') {
        Some((base, _)) if base.contains("//") && base.len() > "postgres://".len() => {
            format!("{base}/{database}")
        }
        _ => format!("{server}/{database}"),
    }
}

/// Latencies of one query, sorted.
struct Latencies(Vec<Duration>);

impl Latencies {
    fn at(&self, q: f64) -> Duration {
        let index = ((self.0.len() as f64 * q) as usize).min(self.0.len().saturating_sub(1));
        self.0.get(index).copied().unwrap_or_default()
    }
}

fn resident_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

async fn run(args: &[String]) -> Result<(), AnyError> {
    let server = argument(args, "--server")
        .or_else(|| std::env::var("TILLVAL_TEST_DATABASE_URL").ok())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".into());
    let seconds: u64 = argument(args, "--seconds")
        .and_then(|s| s.parse().ok())
        .unwrap_or(60)
        .clamp(1, MAX_SECONDS);
    let connections: usize = argument(args, "--connections")
        .and_then(|s| s.parse().ok())
        .unwrap_or(32)
        .clamp(1, 256);
    let size = ScaleSize::ISSUE_16;
    let url = with_database(&server, DATABASE);

    if !scale_fixture::holds(&url, size).await.unwrap_or(false) {
        let admin = sqlx::PgPool::connect(&server).await?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {DATABASE}"))
            .execute(&admin)
            .await?;
        sqlx::query(&format!("CREATE DATABASE {DATABASE}"))
            .execute(&admin)
            .await?;
        admin.close().await;
        let started = Instant::now();
        scale_fixture::fill(&url, size).await?;
        println!(
            "filled {DATABASE}: {} rental objects, {} cases, {} properties × {} options in {:.0} s",
            size.objects(),
            size.cases,
            size.properties,
            size.options_per_property,
            started.elapsed().as_secs_f64()
        );
    } else {
        println!("{DATABASE} already holds the landlord; reused");
    }

    let mut command = Command::new(tillval_binary()?);
    command
        .args(["serve", "--production", "--bind", "127.0.0.1:0"])
        .args(["--db-max-connections", "16"])
        .arg("--database")
        .arg(&url)
        .env("TILLVAL_JWT_SECRET", SECRET)
        // All the load comes from one address: the per-address fair limit would measure
        // itself, not the node (its cost is measured in `http_catalogue`).
        .env("TILLVAL_LIMITS", "off")
        .env("RUST_LOG", "warn");
    let node = ServerProcess::start(command)?;
    let pid = node.child.id();
    let auth = Arc::new(Auth::new(SECRET.as_bytes())?);
    println!(
        "loading {} with {connections} connections for {seconds} s (resident at start: {} MiB)",
        node.url,
        resident_kib(pid).unwrap_or(0) / 1024
    );

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .timeout(Duration::from_secs(30))
        .build()?;
    let sent = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(connections);
    for c in 0..connections {
        let (client, url, sent, auth) =
            (client.clone(), node.url.clone(), sent.clone(), auth.clone());
        let households = size.objects();
        tasks.push(tokio::spawn(async move {
            let mut state = 0x9E37_79B9_7F4A_7C15_u64 ^ (c as u64 + 1);
            let (mut catalogue, mut cases) = (Vec::new(), Vec::new());
            let mut turn = c;
            while Instant::now() < deadline && sent.fetch_add(1, Ordering::Relaxed) < MAX_REQUESTS
            {
                // xorshift: a different household each request, the same sequence every run.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let (tenant, object) = scale_fixture::household(state % households);
                let token = auth.issue(&tenant, Role::Tenant, 3600)?;
                turn += 1;
                let is_catalogue = turn % 2 == 0;
                let body = if is_catalogue {
                    serde_json::json!({ "query": CATALOGUE, "variables": { "id": format!("gid://tillval/RentalObject/{object}") } })
                } else {
                    serde_json::json!({ "query": CASES })
                };
                let start = Instant::now();
                let answer = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await?
                    .bytes()
                    .await?;
                let took = start.elapsed();
                if !answer.starts_with(b"{\"data\":{") {
                    return Err::<_, AnyError>(String::from_utf8_lossy(&answer).into_owned().into());
                }
                if is_catalogue {
                    catalogue.push(took);
                } else {
                    cases.push(took);
                }
            }
            Ok((catalogue, cases))
        }));
    }
    let (mut catalogue, mut cases) = (Vec::new(), Vec::new());
    for task in tasks {
        let (a, b) = task.await??;
        catalogue.extend(a);
        cases.extend(b);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let resident = resident_kib(pid).unwrap_or(0);
    catalogue.sort_unstable();
    cases.sort_unstable();
    let (catalogue, cases) = (Latencies(catalogue), Latencies(cases));
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("| query | requests | requests/s | p50 | p99 |");
    println!("|---|---|---|---|---|");
    for (name, figures) in [("catalogue", &catalogue), ("cases(first: 20)", &cases)] {
        println!(
            "| {name} | {} | {:.0} | {:.2} ms | {:.2} ms |",
            figures.0.len(),
            figures.0.len() as f64 / elapsed,
            ms(figures.at(0.50)),
            ms(figures.at(0.99))
        );
    }
    println!(
        "resident memory of the node after {seconds} s of load: {:.1} MiB",
        resident as f64 / 1024.0
    );
    Ok(())
}

fn main() -> Result<(), AnyError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // The load's own runtime: two threads, the node has the machine's other core.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run(&args))
}
