//! The HTTP load tool: `tillval serve --demo` (the real binary, as a process) against a bare
//! async-graphql + axum server (this binary again, as a process) that answers the same queries
//! with the same objects: the catalogue from memory, and a cart line committed to SQLite as
//! tillval commits it (WAL, `synchronous = FULL`, `BEGIN IMMEDIATE`). Each is loaded in turn with N connections from this
//! process, for the `catalogue` query and for `cartLinesAdd`; it prints requests/s, p50, p99
//! and the ratio tillval / bare. Loopback only, bounded in time and requests.
//!
//! cargo run --release -p tillval-benches --bin http_load -- [--seconds S] [--connections N]
//!
//! The `tillval` binary is taken from `TILLVAL_BIN`, or from beside this one (it is built with
//! `cargo build --release -p tillval-graphql` if it is not there).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tillval_benches::server_process::ServerProcess;

use async_graphql::{EmptySubscription, ID, Object, Schema, SimpleObject};
use serde::Deserialize;
use tillval_graphql::auth::{Auth, Role};

type AnyError = Box<dyn std::error::Error + Send + Sync>;

const SECRET: &str = "the-http-load-tool-secret-long-enough";
const MAX_SECONDS: u64 = 30;
const MAX_REQUESTS: usize = 1_000_000;

const CATALOGUE: &str = r#"query($id: ID!) { catalogue(rentalObjectId: $id) { gate { open }
  categories { name options { id name monthlyPrice { amount formatted } availability { status reasons { code message } } } } } }"#;
const ADD: &str = r#"mutation($id: ID!, $o: ID!) { cartLinesAdd(rentalObjectId: $id, lines: [{ optionId: $o }]) {
  cart { articleCount } userErrors { code } } }"#;
const REMOVE: &str = r#"mutation($id: ID!, $o: ID!) { cartLinesRemove(rentalObjectId: $id, optionIds: [$o]) {
  cart { articleCount } userErrors { code } } }"#;
const OPTION: &str = "gid://tillval/AddOnOption/dm-bosch-serie4";

// ---------------------------------------------------------------------------------------------
// The bare server: the same shapes; the catalogue from memory, the cart committed to SQLite;
// no auth, no rules.

#[derive(Debug, Clone, Deserialize, SimpleObject)]
struct Money {
    amount: i64,
    formatted: String,
}

#[derive(Debug, Clone, Deserialize, SimpleObject)]
struct Reason {
    code: String,
    message: String,
}

#[derive(Debug, Clone, Deserialize, SimpleObject)]
struct Availability {
    status: String,
    reasons: Vec<Reason>,
}

#[derive(Debug, Clone, Deserialize, SimpleObject)]
#[serde(rename_all = "camelCase")]
#[graphql(rename_fields = "camelCase")]
struct BareOption {
    id: ID,
    name: String,
    monthly_price: Money,
    availability: Availability,
}

#[derive(Debug, Clone, Deserialize, SimpleObject)]
struct BareCategory {
    name: String,
    options: Vec<BareOption>,
}

#[derive(Debug, Clone, Deserialize, SimpleObject)]
struct Gate {
    open: bool,
}

#[derive(Debug, Clone, Deserialize, SimpleObject)]
struct BareCatalogue {
    gate: Gate,
    categories: Vec<BareCategory>,
}

#[derive(Debug, Clone, SimpleObject)]
#[graphql(rename_fields = "camelCase")]
struct BareCart {
    article_count: i32,
}

#[derive(Debug, Clone, SimpleObject)]
struct UserError {
    code: String,
}

#[derive(Debug, Clone, SimpleObject)]
#[graphql(rename_fields = "camelCase")]
struct CartPayload {
    cart: BareCart,
    user_errors: Vec<UserError>,
}

#[derive(async_graphql::InputObject)]
#[graphql(rename_fields = "camelCase")]
struct LineInput {
    option_id: ID,
    quantity: Option<i32>,
}

struct BareQuery(Arc<BareCatalogue>);

#[Object]
impl BareQuery {
    async fn catalogue(&self, rental_object_id: ID) -> BareCatalogue {
        let _ = rental_object_id;
        (*self.0).clone()
    }
}

/// Carts per apartment, committed to SQLite as tillval commits them (WAL, `synchronous = FULL`,
/// one `BEGIN IMMEDIATE` transaction per change), so that `cartLinesAdd` is a fair pair: the
/// same durable write, without auth, rules or the cart's other checks.
struct BareMutation(sqlx::SqlitePool);

impl BareMutation {
    async fn change(
        &self,
        object: &str,
        add: &[String],
        remove: &[String],
    ) -> Result<CartPayload, sqlx::Error> {
        let mut tx = self.0.begin_with("BEGIN IMMEDIATE").await?;
        let mut user_errors = Vec::new();
        for option in add {
            let inserted = sqlx::query(
                "INSERT INTO cart_lines (rental_object_id, option_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(object)
            .bind(option)
            .execute(&mut *tx)
            .await?;
            if inserted.rows_affected() == 0 {
                user_errors.push(UserError {
                    code: "ALREADY_IN_CART".into(),
                });
            }
        }
        for option in remove {
            sqlx::query("DELETE FROM cart_lines WHERE rental_object_id = $1 AND option_id = $2")
                .bind(object)
                .bind(option)
                .execute(&mut *tx)
                .await?;
        }
        let count: i64 =
            sqlx::query_scalar("SELECT count(*) FROM cart_lines WHERE rental_object_id = $1")
                .bind(object)
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(CartPayload {
            cart: BareCart {
                article_count: i32::try_from(count).unwrap_or(i32::MAX),
            },
            user_errors,
        })
    }
}

#[Object]
impl BareMutation {
    async fn cart_lines_add(
        &self,
        rental_object_id: ID,
        lines: Vec<LineInput>,
    ) -> async_graphql::Result<CartPayload> {
        let add: Vec<String> = lines.iter().map(|l| l.option_id.to_string()).collect();
        Ok(self.change(rental_object_id.as_str(), &add, &[]).await?)
    }

    async fn cart_lines_remove(
        &self,
        rental_object_id: ID,
        option_ids: Vec<ID>,
    ) -> async_graphql::Result<CartPayload> {
        let remove: Vec<String> = option_ids.iter().map(|id| id.as_str().to_owned()).collect();
        Ok(self.change(rental_object_id.as_str(), &[], &remove).await?)
    }
}

/// The bare server's SQLite file, with tillval's pragmas.
async fn bare_database(path: &Path) -> Result<sqlx::SqlitePool, AnyError> {
    use sqlx::sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
    };
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        .max_connections(10)
        .connect_with(options)
        .await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS cart_lines (rental_object_id TEXT NOT NULL, option_id TEXT NOT NULL, \
         PRIMARY KEY (rental_object_id, option_id))",
    )
    .execute(&pool)
    .await?;
    Ok(pool)
}

async fn serve_bare(data: &Path) -> Result<(), AnyError> {
    let answer: serde_json::Value = serde_json::from_slice(&std::fs::read(data)?)?;
    let catalogue: BareCatalogue = serde_json::from_value(answer["catalogue"].clone())?;
    let carts = bare_database(&data.with_extension("bare.db")).await?;
    let schema = Schema::build(
        BareQuery(Arc::new(catalogue)),
        BareMutation(carts),
        EmptySubscription,
    )
    .finish();
    let app = axum::Router::new().route(
        "/graphql",
        axum::routing::post_service(async_graphql_axum::GraphQL::new(schema)),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("bare server at http://{}/graphql", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The tool.

/// A server process, killed when dropped.
#[derive(Debug, Clone, Copy)]
enum Scenario {
    Catalogue,
    CartLinesAdd,
}

struct Figures {
    requests: usize,
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

fn body(query: &str, variables: serde_json::Value) -> String {
    serde_json::json!({ "query": query, "variables": variables }).to_string()
}

/// Loads `url` with `connections` connections for `seconds`; only the timed requests count.
async fn load(
    url: &str,
    scenario: Scenario,
    connections: usize,
    seconds: u64,
    auth: &Auth,
) -> Result<Figures, AnyError> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .timeout(Duration::from_secs(30))
        .build()?;
    let sent = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(connections);
    for c in 0..connections {
        let (client, url, sent) = (client.clone(), url.to_owned(), sent.clone());
        let (tenant, object) = match scenario {
            Scenario::Catalogue => ("anna-svensson".to_owned(), "lgh-1002".to_owned()),
            Scenario::CartLinesAdd => (format!("load-t{c}"), format!("load-{c}")),
        };
        let token = auth.issue(&tenant, Role::Tenant, 3600)?;
        let id = format!("gid://tillval/RentalObject/{object}");
        let vars = serde_json::json!({ "id": id, "o": OPTION });
        let (timed, untimed) = match scenario {
            Scenario::Catalogue => (body(CATALOGUE, serde_json::json!({ "id": id })), None),
            Scenario::CartLinesAdd => (body(ADD, vars.clone()), Some(body(REMOVE, vars))),
        };
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline && sent.fetch_add(1, Ordering::Relaxed) < MAX_REQUESTS {
                let start = Instant::now();
                let answer = client
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(timed.clone())
                    .send()
                    .await?
                    .bytes()
                    .await?;
                latencies.push(start.elapsed());
                // Not parsed: the client shares the 2 cores with the server it measures. An
                // answer without data (an error) stops the run.
                if !answer.starts_with(b"{\"data\":{") {
                    return Err(String::from_utf8_lossy(&answer).into_owned().into());
                }
                if let Some(untimed) = &untimed {
                    client
                        .post(&url)
                        .bearer_auth(&token)
                        .header("content-type", "application/json")
                        .body(untimed.clone())
                        .send()
                        .await?
                        .bytes()
                        .await?;
                }
            }
            Ok::<_, AnyError>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Ok(Figures {
        requests: latencies.len(),
        per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
    })
}

fn argument(args: &[String], name: &str) -> Option<u64> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
}

async fn run(args: &[String]) -> Result<(), AnyError> {
    let seconds = argument(args, "--seconds")
        .unwrap_or(8)
        .clamp(1, MAX_SECONDS);
    let connections = argument(args, "--connections").unwrap_or(64).clamp(1, 512) as usize;
    let dir = tempfile::tempdir()?;
    let database = dir.path().join("load.db");
    tillval_benches::server_process::prepare_database(&database, connections).await?;

    let mut command = Command::new(tillval_benches::server_process::tillval_binary()?);
    command
        .args(["serve", "--demo", "--production", "--bind", "127.0.0.1:0"])
        .arg("--database")
        .arg(format!("sqlite://{}", database.display()))
        .env("TILLVAL_JWT_SECRET", SECRET)
        // One address sends everything: the per-address fair limit would measure itself (its
        // cost is `http_catalogue`'s), and the bare server has none.
        .env("TILLVAL_LIMITS", "off")
        .env("RUST_LOG", "warn");
    let tillval = ServerProcess::start(command)?;
    let auth = Auth::new(SECRET.as_bytes())?;

    // The bare server answers with exactly what tillval answers.
    let answer: serde_json::Value = reqwest::Client::new()
        .post(&tillval.url)
        .bearer_auth(auth.issue("anna-svensson", Role::Tenant, 3600)?)
        .json(&serde_json::json!({ "query": CATALOGUE, "variables": { "id": "gid://tillval/RentalObject/lgh-1002" } }))
        .send()
        .await?
        .json()
        .await?;
    let data = dir.path().join("catalogue.json");
    std::fs::write(&data, serde_json::to_vec(&answer["data"])?)?;
    let objects = answer["data"]["catalogue"]["categories"]
        .as_array()
        .map_or(0, |c| {
            c.iter()
                .map(|c| c["options"].as_array().map_or(0, Vec::len))
                .sum::<usize>()
        });
    let mut command = Command::new(std::env::current_exe()?);
    command.arg("serve-bare").arg(&data);
    let bare = ServerProcess::start(command)?;

    println!(
        "http_load: {connections} connections, {seconds} s each, loopback; catalogue answer: {objects} options"
    );
    println!(
        "{:<14} {:<8} {:>10} {:>10} {:>10} {:>10}",
        "scenario", "server", "requests", "req/s", "p50", "p99"
    );
    for scenario in [Scenario::Catalogue, Scenario::CartLinesAdd] {
        let ours = load(&tillval.url, scenario, connections, seconds, &auth).await?;
        let theirs = load(&bare.url, scenario, connections, seconds, &auth).await?;
        let name = match scenario {
            Scenario::Catalogue => "catalogue",
            Scenario::CartLinesAdd => "cartLinesAdd",
        };
        for (server, f) in [("tillval", &ours), ("bare", &theirs)] {
            println!(
                "{name:<14} {server:<8} {:>10} {:>10.0} {:>8.1}ms {:>8.1}ms",
                f.requests,
                f.per_second,
                f.p50.as_secs_f64() * 1e3,
                f.p99.as_secs_f64() * 1e3
            );
        }
        println!(
            "{name:<14} ratio tillval / bare: {:.2} (requests/s)",
            ours.per_second / theirs.per_second
        );
    }
    Ok(())
}

fn main() -> Result<(), AnyError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    if args.first().map(String::as_str) == Some("serve-bare") {
        let data = PathBuf::from(args.get(1).ok_or("serve-bare FILE")?);
        return runtime.block_on(serve_bare(&data));
    }
    runtime.block_on(run(&args))
}
