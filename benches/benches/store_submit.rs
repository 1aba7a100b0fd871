//! `checkoutSubmit` throughput through the services on a SQLite file with durable settings
//! (WAL, synchronous = FULL): one writer, then 8 concurrent. Each order is a different
//! apartment's, so none conflicts; each goes through the whole path (lease check, snapshot,
//! rules, one write transaction with the order locks).
//!
//! cargo bench -p tillval-benches --bench store_submit [-- ORDERS]

use std::sync::Arc;
use std::time::Instant;

use tillval_engine::model::{OptionId, RentalObjectId, TenantId};
use tillval_engine::rules::RuleSet;
use tillval_services::demo::{demo, load_demo};
use tillval_services::order::{IdempotencyKey, SubmitRequest};
use tillval_services::service::{Services, SystemClock};
use tillval_services::store::PoolSettings;
use tillval_store::SqlStore;

type AnyError = Box<dyn std::error::Error + Send + Sync>;

async fn prepare(
    orders: usize,
    tag: &str,
    services: &Services<SqlStore>,
) -> Result<Vec<(TenantId, RentalObjectId)>, AnyError> {
    let dishwasher = OptionId::parse("dm-bosch-serie4")?;
    tillval_benches::demo_apartments(services, &format!("bench-{tag}"), orders, Some(&dishwasher))
        .await
}

async fn submit_all(
    services: &Services<SqlStore>,
    pairs: Vec<(TenantId, RentalObjectId)>,
    version: i64,
) -> Result<(), AnyError> {
    for (tenant, object) in pairs {
        let request = SubmitRequest {
            accept_terms: true,
            terms_version: version,
            idempotency_key: IdempotencyKey::parse(&format!("bench-{object}"))?,
        };
        services.checkout_submit(&tenant, &object, &request).await?;
    }
    Ok(())
}

async fn run(orders: usize) -> Result<(), AnyError> {
    let dir = tempfile::tempdir()?;
    let store = SqlStore::sqlite(
        dir.path().join("bench.db").to_str().unwrap_or("bench.db"),
        PoolSettings::default(),
    )
    .await?;
    let services = Services::new(store, RuleSet::shipped()?, Arc::new(SystemClock));
    load_demo(&services, &demo(chrono::Utc::now().date_naive())?).await?;
    let version = services.terms().await?.version;

    let pairs = prepare(orders, "single", &services).await?;
    let started = Instant::now();
    submit_all(&services, pairs, version).await?;
    let single = orders as f64 / started.elapsed().as_secs_f64();

    let pairs = prepare(orders, "eight", &services).await?;
    let chunks: Vec<Vec<_>> = pairs
        .chunks(orders.div_ceil(8))
        .map(<[_]>::to_vec)
        .collect();
    let started = Instant::now();
    let tasks: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            let services = services.clone();
            tokio::spawn(async move {
                submit_all(&services, chunk, version)
                    .await
                    .map_err(|e| e.to_string())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let eight = orders as f64 / started.elapsed().as_secs_f64();

    println!("store_submit: SQLite file, WAL, synchronous=FULL, {orders} orders each");
    println!("  1 writer     {single:>8.0} orders/s");
    println!("  8 concurrent {eight:>8.0} orders/s");
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
