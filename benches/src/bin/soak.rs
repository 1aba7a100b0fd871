//! The soak tool (not in CI): `tillval serve` (the real binary, a process of its own) under a
//! mixed load for minutes: per connection, its own tenant reads the catalogue and the cart, adds
//! a line, sends the order and cancels it, again and again. Every few seconds it samples the
//! requests per second, the p99 latency and the server's resident memory (VmRSS), prints them
//! and writes them to a CSV; `benches/soak_plot.py` draws that CSV to a PNG.
//!
//! cargo run --release -p tillval-benches --bin soak -- [--minutes M] [--connections N] [--csv FILE]
//!
//! Bounded: at most 60 minutes and 50 million requests; loopback only.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tillval_benches::server_process::{ServerProcess, prepare_database, tillval_binary};
use tillval_graphql::auth::{Auth, Role};

type AnyError = Box<dyn std::error::Error + Send + Sync>;

const SECRET: &str = "the-soak-tool-secret-that-is-long-enough";
const MAX_MINUTES: u64 = 60;
const MAX_REQUESTS: u64 = 50_000_000;
const SAMPLE_EVERY: Duration = Duration::from_secs(5);
const OPTION: &str = "gid://tillval/AddOnOption/dm-bosch-serie4";

const CATALOGUE: &str = r#"query($o: ID!) { catalogue(rentalObjectId: $o) { gate { open }
  categories { name options { id name monthlyPrice { formatted } availability { status reasons { code message } } } } } }"#;
const CART: &str = r#"query($o: ID!) { cart(rentalObjectId: $o) { articleCount lines { quantity option { name } } } }"#;
const ADD: &str = r#"mutation($o: ID!, $a: ID!) { cartLinesAdd(rentalObjectId: $o, lines: [{ optionId: $a }]) { userErrors { code } } }"#;
const SUBMIT: &str = r#"mutation($o: ID!, $v: Int!, $k: String!) { checkoutSubmit(rentalObjectId: $o, input: { acceptTerms: true, termsVersion: $v, idempotencyKey: $k }) { case { number } userErrors { code } } }"#;
const CANCEL: &str =
    r#"mutation($n: String!) { caseCancel(number: $n) { case { status } userErrors { code } } }"#;

/// What the connections measured since the last sample.
#[derive(Default)]
struct Window {
    latencies_us: Vec<u32>,
    errors: u64,
}

struct Args {
    minutes: u64,
    connections: usize,
    csv: std::path::PathBuf,
}

fn args() -> Result<Args, AnyError> {
    let mut args = Args {
        minutes: 10,
        connections: 8,
        csv: "docs/soak.csv".into(),
    };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        let value = given
            .next()
            .ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--minutes" => args.minutes = value.parse::<u64>()?.clamp(1, MAX_MINUTES),
            "--connections" => args.connections = value.parse::<usize>()?.clamp(1, 64),
            "--csv" => args.csv = value.into(),
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    Ok(args)
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    query: &str,
    variables: serde_json::Value,
) -> Result<serde_json::Value, AnyError> {
    let body = serde_json::json!({ "query": query, "variables": variables });
    let answer: serde_json::Value = client
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?
        .json()
        .await?;
    if !answer["errors"].is_null() {
        return Err(format!("{answer}").into());
    }
    Ok(answer)
}

/// The server's resident memory in MiB, from /proc.
fn resident_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// One connection's loop until `deadline`: its tenant's catalogue, cart, an order and its
/// cancel, each request timed into `window`.
async fn connection(
    url: String,
    token: String,
    object: String,
    deadline: Instant,
    sent: Arc<std::sync::atomic::AtomicU64>,
    window: Arc<Mutex<Window>>,
) {
    let client = reqwest::Client::new();
    let version = match post(
        &client,
        &url,
        &token,
        "{ terms { version } }",
        serde_json::json!({}),
    )
    .await
    {
        Ok(answer) => answer["data"]["terms"]["version"].as_i64().unwrap_or(1),
        Err(_) => 1,
    };
    let mut step = 0_u64;
    while Instant::now() < deadline
        && sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < MAX_REQUESTS
    {
        step += 1;
        let object_vars = serde_json::json!({ "o": object });
        let timed = |query: &'static str, variables: serde_json::Value| {
            let (client, url, token, window) = (&client, &url, &token, &window);
            async move {
                let started = Instant::now();
                let answer = post(client, url, token, query, variables).await;
                let took = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
                if let Ok(mut window) = window.lock() {
                    window.latencies_us.push(took);
                    window.errors += u64::from(answer.is_err());
                }
                answer.ok()
            }
        };
        timed(CATALOGUE, object_vars.clone()).await;
        timed(CART, object_vars.clone()).await;
        timed(ADD, serde_json::json!({ "o": object, "a": OPTION })).await;
        let key = format!("soak-{object}-{step}");
        let sent_order = timed(
            SUBMIT,
            serde_json::json!({ "o": object, "v": version, "k": key }),
        )
        .await;
        let number = sent_order
            .as_ref()
            .and_then(|a| a["data"]["checkoutSubmit"]["case"]["number"].as_str())
            .map(str::to_owned);
        if let Some(number) = number {
            timed(CANCEL, serde_json::json!({ "n": number })).await;
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), AnyError> {
    let args = args()?;
    let dir = tempfile::tempdir()?;
    let database = dir.path().join("soak.db");
    prepare_database(&database, args.connections).await?;
    let mut command = std::process::Command::new(tillval_binary()?);
    command
        .args(["serve", "--bind", "127.0.0.1:0"])
        .arg("--database")
        .arg(format!("sqlite://{}", database.display()))
        .env("TILLVAL_JWT_SECRET", SECRET)
        .env("RUST_LOG", "warn");
    let server = ServerProcess::start(command)?;
    let pid = server.child.id();
    let auth = Auth::new(SECRET.as_bytes())?;

    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.minutes * 60);
    let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let window = Arc::new(Mutex::new(Window::default()));
    let mut tasks = Vec::new();
    for c in 0..args.connections {
        let token = auth.issue(&format!("load-t{c}"), Role::Tenant, 86_400)?;
        let object = format!("gid://tillval/RentalObject/load-{c}");
        tasks.push(tokio::spawn(connection(
            server.url.clone(),
            token,
            object,
            deadline,
            sent.clone(),
            window.clone(),
        )));
    }

    let mut csv = String::from("seconds,requests_per_second,p99_ms,resident_mib,errors\n");
    println!(
        "soak: {} connections for {} min against {} (pid {pid})",
        args.connections, args.minutes, server.url
    );
    println!(
        "{:>8} {:>10} {:>9} {:>9} {:>7}",
        "s", "req/s", "p99 ms", "RSS MiB", "errors"
    );
    let mut last = Instant::now();
    while Instant::now() < deadline {
        tokio::time::sleep(SAMPLE_EVERY.min(deadline.saturating_duration_since(Instant::now())))
            .await;
        let taken = std::mem::take(&mut *window.lock().map_err(|_| "poisoned")?);
        let elapsed = last.elapsed().as_secs_f64();
        last = Instant::now();
        let mut latencies = taken.latencies_us;
        latencies.sort_unstable();
        let p99 = latencies
            .get((latencies.len() * 99 / 100).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |us| f64::from(*us) / 1000.0);
        let rate = latencies.len() as f64 / elapsed;
        let rss = resident_mib(pid).unwrap_or(f64::NAN);
        let at = started.elapsed().as_secs_f64();
        println!(
            "{at:>8.0} {rate:>10.0} {p99:>9.2} {rss:>9.1} {:>7}",
            taken.errors
        );
        csv.push_str(&format!(
            "{at:.1},{rate:.1},{p99:.3},{rss:.1},{}\n",
            taken.errors
        ));
    }
    for task in tasks {
        task.await?;
    }
    std::fs::write(&args.csv, csv)?;
    println!("wrote {}", args.csv.display());
    Ok(())
}
