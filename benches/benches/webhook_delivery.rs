//! Events delivered per second to a local receiver (issue 15): N `case.created` events in a
//! SQLite outbox (N orders of N apartments, written first, not timed), one endpoint on
//! 127.0.0.1 that answers 204 at once, and one dispatcher (32 deliveries a round) until every
//! event is delivered. Each event: a lease in the store, a signature, a POST, a write of the
//! outcome.
//!
//! cargo bench -p tillval-benches --bench webhook_delivery [-- N]   (default 2000)

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tillval_engine::model::OptionId;
use tillval_engine::rules::RuleSet;
use tillval_services::demo::{demo, load_demo};
use tillval_services::order::{IdempotencyKey, SubmitRequest};
use tillval_services::service::{Services, SystemClock};
use tillval_services::store::PoolSettings;
use tillval_store::SqlStore;
use tillval_webhooks::{Dispatcher, DispatcherConfig};

type AnyError = Box<dyn std::error::Error + Send + Sync>;

async fn run(events: usize) -> Result<(), AnyError> {
    let base = if std::path::Path::new("/dev/shm").is_dir() {
        tempfile::tempdir_in("/dev/shm")?
    } else {
        tempfile::tempdir()?
    };
    let path = base.path().join("outbox.db");
    let store = SqlStore::sqlite(path.to_str().ok_or("a path")?, PoolSettings::default()).await?;
    let services = Services::new(store, RuleSet::shipped()?, Arc::new(SystemClock));
    load_demo(&services, &demo(chrono::Utc::now().date_naive())?).await?;

    let received = Arc::new(AtomicUsize::new(0));
    let counter = received.clone();
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::Relaxed);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hooks", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    let secret = tillval_webhooks::secret::generate()?;
    services
        .webhook_endpoint_add(&url, &secret, "bench")
        .await?;

    let dishwasher = OptionId::parse("dm-bosch-serie4")?;
    let pairs =
        tillval_benches::demo_apartments(&services, "hook", events, Some(&dishwasher)).await?;
    let version = services.terms().await?.version;
    for (tenant, object) in &pairs {
        let request = SubmitRequest {
            accept_terms: true,
            terms_version: version,
            idempotency_key: IdempotencyKey::parse(&format!("bench-hook-{object}"))?,
        };
        services.checkout_submit(tenant, object, &request).await?;
    }

    let config = DispatcherConfig {
        node: "bench".into(),
        poll: Duration::from_millis(5),
        batch: 32,
        ..DispatcherConfig::default()
    };
    let dispatcher = Dispatcher::new(services.store().clone(), config)?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(300);
    while received.load(Ordering::Relaxed) < events && Instant::now() < deadline {
        dispatcher.round().await?;
    }
    let elapsed = started.elapsed();
    let delivered = received.load(Ordering::Relaxed);
    println!(
        "webhook_delivery/{events}: {delivered} delivered in {:.2} s: {:.0} events/s",
        elapsed.as_secs_f64(),
        delivered as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}

fn main() -> Result<(), AnyError> {
    let events = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(2_000);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(events))
}
