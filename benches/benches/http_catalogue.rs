//! The `catalogue` query over HTTP from loopback: the real router on a free 127.0.0.1 port
//! (SQLite file, demo data), N connections sending the query back to back. Bounded: it stops at
//! the time limit or the request limit, whichever comes first.
//!
//! It loads the same server built two ways, in turn (off, on, off, on): with metrics and fair
//! limits off, and with both on (limits at a rate this load never reaches, so what is measured
//! is their cost, not their throttling). The overhead is the difference of the means.
//!
//! cargo bench -p tillval-benches --bench http_catalogue [-- SECONDS CONNECTIONS]

use std::sync::Arc;
use std::time::{Duration, Instant};

use tillval_graphql::auth::{Auth, Role};
use tillval_graphql::limits::LimitsConfig;
use tillval_graphql::{App, AppConfig};

type AnyError = Box<dyn std::error::Error + Send + Sync>;

const MAX_REQUESTS: usize = 2_000_000;
const QUERY: &str = r#"{ catalogue(rentalObjectId: "gid://tillval/RentalObject/lgh-1002") { gate { open }
  categories { name options { id name monthlyPrice { amount formatted } availability { status reasons { code message } } } } } }"#;

/// One load's figures.
struct Figures {
    per_second: f64,
    p50: f64,
    p99: f64,
}

async fn run(seconds: u64, connections: usize, instrumented: bool) -> Result<Figures, AnyError> {
    let dir = tempfile::tempdir()?;
    let auth = Arc::new(Auth::new(b"a-load-test-secret-that-is-long-enough")?);
    let token = auth.issue("anna-svensson", Role::Tenant, 3600)?;
    let mut config = AppConfig::new(
        format!("sqlite://{}", dir.path().join("load.db").display()),
        auth,
    );
    config.demo = true;
    config.production = true;
    config.metrics = instrumented;
    config.limits = instrumented.then_some(LimitsConfig {
        subject_per_second: 10_000_000,
        subject_burst: 100_000_000,
        address_per_second: 10_000_000,
        address_burst: 100_000_000,
    });
    let app = App::build(config).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/graphql", listener.local_addr()?);
    tokio::spawn(app.serve(listener, std::future::pending()));

    let body = serde_json::json!({ "query": QUERY }).to_string();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()?;
    // Warm up: the catalogue cache, the connections.
    for _ in 0..50 {
        let response = client
            .post(&url)
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await?;
        let text = response.text().await?;
        if text.contains("\"errors\"") {
            return Err(format!("the query fails: {text}").into());
        }
    }
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let per_task = MAX_REQUESTS / connections;
    let started = Instant::now();
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (client, url, token, body) =
                (client.clone(), url.clone(), token.clone(), body.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut failures = 0usize;
                while Instant::now() < deadline && latencies.len() < per_task {
                    let sent = Instant::now();
                    let ok = match client
                        .post(&url)
                        .bearer_auth(&token)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await
                    {
                        Ok(response) => {
                            response.status().is_success() && response.bytes().await.is_ok()
                        }
                        Err(_) => false,
                    };
                    if ok {
                        latencies.push(sent.elapsed().as_micros() as u64);
                    } else {
                        failures += 1;
                    }
                }
                (latencies, failures)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut failures = 0;
    for task in tasks {
        let (l, f) = task.await?;
        latencies.extend(l);
        failures += f;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let percentile = |p: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or(0) as f64
            / 1000.0
    };
    let label = if instrumented {
        "metrics and limits on "
    } else {
        "metrics and limits off"
    };
    println!(
        "  {label}: {} requests ({failures} failed) in {elapsed:.1} s: {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        percentile(0.50),
        percentile(0.99),
    );
    Ok(Figures {
        per_second: latencies.len() as f64 / elapsed,
        p50: percentile(0.50),
        p99: percentile(0.99),
    })
}

fn main() -> Result<(), AnyError> {
    let numbers: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let seconds = numbers.first().copied().unwrap_or(10).min(120);
    let connections = numbers.get(1).copied().unwrap_or(64).clamp(1, 512) as usize;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    println!(
        "http_catalogue: {connections} connections, {seconds} s per load, loopback, server and client on this machine"
    );
    let mut off = Vec::new();
    let mut on = Vec::new();
    for round in 0..4 {
        let instrumented = round % 2 == 1;
        let figures = runtime.block_on(run(seconds, connections, instrumented))?;
        if instrumented {
            on.push(figures)
        } else {
            off.push(figures)
        }
    }
    let mean = |runs: &[Figures], of: fn(&Figures) -> f64| {
        runs.iter().map(of).sum::<f64>() / runs.len() as f64
    };
    let (off_rate, on_rate) = (mean(&off, |f| f.per_second), mean(&on, |f| f.per_second));
    println!(
        "  mean: off {off_rate:.0} requests/s (p50 {:.2} ms, p99 {:.2} ms), on {on_rate:.0} requests/s (p50 {:.2} ms, p99 {:.2} ms): metrics and limits cost {:.1} % of throughput",
        mean(&off, |f| f.p50),
        mean(&off, |f| f.p99),
        mean(&on, |f| f.p50),
        mean(&on, |f| f.p99),
        (1.0 - on_rate / off_rate) * 100.0
    );
    Ok(())
}
