//! `checkoutSubmit` over HTTP with 32 concurrent clients, no conflicts (each order is a
//! different apartment's), in one run: one node on SQLite, one node on PostgreSQL, two nodes on
//! one PostgreSQL (clients alternate between them). A node is the real router with its own
//! services, store pool, catalogue cache and change listener, on its own 127.0.0.1 port; here
//! they share one process (and the machine's 2 cores) with the clients and the database.
//!
//! Bounded: ORDERS per configuration (default 1,000) or 60 s, whichever comes first.
//! PostgreSQL comes from TILLVAL_TEST_DATABASE_URL (default
//! postgres://postgres@127.0.0.1:5432/test); each configuration gets a fresh database.
//!
//! cargo bench -p tillval-benches --bench scale_out [-- ORDERS]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tillval_engine::model::{OptionId, RentalObjectId, TenantId};
use tillval_graphql::auth::{Auth, Role};
use tillval_graphql::{App, AppConfig};
use tillval_services::service::Services;
use tillval_services::store::PoolSettings;
use tillval_store::SqlStore;
use tillval_tests::test_database::TestDatabase;

type AnyError = Box<dyn std::error::Error + Send + Sync>;

const CLIENTS: usize = 32;
const TIME_LIMIT: Duration = Duration::from_secs(60);
const SUBMIT: &str = r#"mutation($id: ID!, $input: CheckoutSubmitInput!) { checkoutSubmit(rentalObjectId: $id, input: $input) {
    case { number } userErrors { code } } }"#;

/// Apartments with a tenant each and the dishwasher in the cart, ready to send.
async fn prepare(
    services: &Services<SqlStore>,
    orders: usize,
) -> Result<Vec<(TenantId, RentalObjectId)>, AnyError> {
    let dishwasher = OptionId::parse("dm-bosch-serie4")?;
    tillval_benches::demo_apartments(services, "scale", orders, Some(&dishwasher)).await
}

/// Starts a node on `database` as `tillval serve --production` would, on a free loopback port;
/// its GraphQL URL. The first node of a configuration loads the demo.
async fn node(
    database: &str,
    pool: PoolSettings,
    auth: Arc<Auth>,
    with_demo: bool,
) -> Result<(String, Services<SqlStore>), AnyError> {
    let mut config = AppConfig::new(database, auth);
    config.pool = pool;
    config.production = true;
    config.demo = with_demo;
    let app = App::build(config).await?;
    let services = app.services.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/graphql", listener.local_addr()?);
    tokio::spawn(app.serve(listener, std::future::pending()));
    Ok((url, services))
}

struct Outcome {
    orders: usize,
    refused: usize,
    elapsed: Duration,
}

/// 32 clients send the prepared orders, alternating over `urls`.
async fn load(
    urls: &[String],
    pairs: Vec<(TenantId, RentalObjectId)>,
    auth: &Auth,
    version: i64,
) -> Result<Outcome, AnyError> {
    let requests: Vec<(String, String)> = pairs
        .iter()
        .map(|(tenant, object)| {
            let body = serde_json::json!({ "query": SUBMIT, "variables": {
                "id": format!("gid://tillval/RentalObject/{object}"),
                "input": { "acceptTerms": true, "termsVersion": version, "idempotencyKey": format!("scale-{object}") } } });
            Ok((auth.issue(tenant.as_str(), Role::Tenant, 3600)?, body.to_string()))
        })
        .collect::<Result<_, AnyError>>()?;
    let requests = Arc::new(requests);
    let next = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .timeout(Duration::from_secs(30))
        .build()?;
    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (client, requests, next, refused) = (
                client.clone(),
                requests.clone(),
                next.clone(),
                refused.clone(),
            );
            let url = urls[c % urls.len()].clone();
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((token, body)) = requests.get(i) else {
                        return Ok::<_, reqwest::Error>(());
                    };
                    if started.elapsed() > TIME_LIMIT {
                        return Ok(());
                    }
                    let answer: serde_json::Value = client
                        .post(&url)
                        .bearer_auth(token)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await?
                        .json()
                        .await?;
                    if answer["data"]["checkoutSubmit"]["case"].is_null() {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let elapsed = started.elapsed();
    let sent = next.load(Ordering::Relaxed).min(requests.len());
    let refused = refused.load(Ordering::Relaxed);
    Ok(Outcome {
        orders: sent - refused,
        refused,
        elapsed,
    })
}

async fn configuration(
    name: &str,
    databases: &[&str],
    pool: PoolSettings,
    orders: usize,
) -> Result<(), AnyError> {
    let auth = Arc::new(Auth::new(b"a-bench-secret-that-is-long-enough-to-use")?);
    let mut urls = Vec::new();
    let mut nodes = Vec::new();
    for (i, database) in databases.iter().enumerate() {
        let (url, services) = node(database, pool, auth.clone(), i == 0).await?;
        urls.push(url);
        nodes.push(services);
    }
    let services = nodes.first().ok_or("no node")?;
    let version = services.terms().await?.version;
    let pairs = prepare(services, orders).await?;
    let outcome = load(&urls, pairs, &auth, version).await?;
    println!(
        "  {name:<28} {:>7.0} orders/s  ({} orders in {:.2} s, {} refused)",
        outcome.orders as f64 / outcome.elapsed.as_secs_f64(),
        outcome.orders,
        outcome.elapsed.as_secs_f64(),
        outcome.refused
    );
    for node in nodes {
        node.store().close().await;
    }
    Ok(())
}

async fn run(orders: usize) -> Result<(), AnyError> {
    let server = std::env::var("TILLVAL_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let pool = PoolSettings {
        max_connections: 10,
        acquire_timeout: Duration::from_secs(30),
    };
    println!(
        "scale_out: checkoutSubmit over HTTP, {CLIENTS} clients, no conflicts, up to {orders} orders each"
    );

    let dir = tempfile::tempdir()?;
    let sqlite = format!("sqlite://{}", dir.path().join("scale.db").display());
    configuration("1 node, SQLite", &[&sqlite], pool, orders).await?;

    let one = TestDatabase::create(&server).await?;
    configuration("1 node, PostgreSQL", &[&one.url], pool, orders).await?;
    one.drop_database().await?;

    let two = TestDatabase::create(&server).await?;
    configuration(
        "2 nodes, one PostgreSQL",
        &[&two.url, &two.url],
        pool,
        orders,
    )
    .await?;
    two.drop_database().await?;
    Ok(())
}

fn main() -> Result<(), AnyError> {
    // `cargo bench` passes `--bench`; a number is the order count.
    let orders = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(1_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run(orders))
}
