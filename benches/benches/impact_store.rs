//! The impact preview end to end (issue 14): `Services::impact_of` over a SQLite store holding
//! N households of 100 add-ons each (their facts, carts, debts, orders and fees as rows), so
//! the figure includes reading every household's snapshot from the store, not only deciding
//! it. Every seventh household has a debt, every third an installed order with its fee not yet paid, every
//! fifth a line in its cart; the candidate makes an unpaid fee block every add-on.
//!
//! cargo bench -p tillval-benches --bench impact_store [-- N ...]   (default: 1000 10000)
//!
//! The database is seeded first (not timed; on /dev/shm when there is one, since seeding
//! 10,000 households one durable transaction at a time is slow and not what is measured).
//! Then, three times each: reading every snapshot alone, and the whole preview.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tillval_engine::model::{
    Currency, OptionId, RentalObject, RentalObjectId, RentalObjectRecord, TenantId,
};
use tillval_engine::rules::{RuleSet, SandboxLimits};
use tillval_services::case::CaseStatus;
use tillval_services::demo::{demo, load_demo};
use tillval_services::order::{IdempotencyKey, SubmitRequest};
use tillval_services::service::{Services, SystemClock};
use tillval_services::store::{PoolSettings, Store, TenantRecord};
use tillval_store::SqlStore;
use tillval_tests::candidates::{UNPAID_FEE_ANYWHERE, with_order_blocks};

type AnyError = Box<dyn std::error::Error + Send + Sync>;

async fn seed(services: &Services<SqlStore>, count: usize) -> Result<(), AnyError> {
    let store = services.store();
    let template = tillval_benches::apartment();
    let with_fee = OptionId::parse("opt-00001")?; // a one-time fee of 100 kr
    let in_cart = OptionId::parse("opt-00002")?;
    let version = services.terms().await?.version;
    for i in 0..count {
        let object = RentalObjectId::parse(format!("lgh-{i:05}"))?;
        let record = RentalObjectRecord {
            id: object.clone(),
            ..RentalObjectRecord::from(template.clone())
        };
        store
            .put_rental_object(&RentalObject::try_from(record)?, "Kv. Bänken")
            .await?;
        if i == 0 {
            store
                .put_catalogue(&tillval_benches::catalogue(100))
                .await?;
        }
        let tenant = TenantId::parse(format!("t-{i:05}"))?;
        store
            .put_tenant(&TenantRecord {
                id: tenant.clone(),
                name: format!("Hyresgäst {i}"),
                ordering_enabled: true,
            })
            .await?;
        store.put_lease(&tenant, &object).await?;
        if i % 3 == 0 {
            services.cart_add(&tenant, &object, &with_fee, 1).await?;
            let request = SubmitRequest {
                accept_terms: true,
                terms_version: version,
                idempotency_key: IdempotencyKey::parse(&format!("seed-order-{i:05}"))?,
            };
            let case = services
                .checkout_submit(&tenant, &object, &request)
                .await?
                .case;
            // Installed: the order's fee is booked and not yet paid.
            for to in [
                CaseStatus::UnderReview,
                CaseStatus::Approved,
                CaseStatus::Scheduled,
                CaseStatus::Installed,
            ] {
                services.case_transition(&case.number, to).await?;
            }
        } else if i % 5 == 0 {
            services.cart_add(&tenant, &object, &in_cart, 1).await?;
        }
        if i % 7 == 0 {
            services
                .ledger_set_debt(&tenant, 100_000, Currency::SEK)
                .await?;
        }
    }
    Ok(())
}

/// Every snapshot read as the preview reads them, and nothing decided: the store's share.
async fn read_all(services: &Services<SqlStore>) -> Result<usize, AnyError> {
    let store = services.store();
    let today = chrono::Utc::now().date_naive();
    let mut after = None;
    let mut read = 0;
    loop {
        let page = store.households(after.as_ref(), 500).await?;
        let Some(last) = page.last().cloned() else {
            return Ok(read);
        };
        for (tenant, object) in &page {
            if store
                .leased_snapshot(tenant, object, today)
                .await?
                .is_some()
            {
                read += 1;
            }
        }
        after = Some(last);
    }
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

async fn run(count: usize) -> Result<(), AnyError> {
    let base = if std::path::Path::new("/dev/shm").is_dir() {
        tempfile::tempdir_in("/dev/shm")?
    } else {
        tempfile::tempdir()?
    };
    let path = base.path().join("impact.db");
    let store = SqlStore::sqlite(path.to_str().ok_or("a path")?, PoolSettings::default()).await?;
    let services = Services::new(store, RuleSet::shipped()?, Arc::new(SystemClock));
    load_demo(&services, &demo(chrono::Utc::now().date_naive())?).await?;
    let seeding = Instant::now();
    seed(&services, count).await?;
    eprintln!(
        "seeded {count} households in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );

    let candidate = Arc::new(RuleSet::compile(
        &with_order_blocks(UNPAID_FEE_ANYWHERE),
        SandboxLimits::default(),
    )?);
    let (mut reads, mut previews) = (Vec::new(), Vec::new());
    let mut last = None;
    for _ in 0..3 {
        let started = Instant::now();
        let read = read_all(&services).await?;
        reads.push(started.elapsed());
        let started = Instant::now();
        let preview = services.impact_of(Arc::clone(&candidate)).await?;
        previews.push(started.elapsed());
        if !preview.complete || preview.report.households as usize != read {
            return Err(format!(
                "the preview covered {} of {read}",
                preview.report.households
            )
            .into());
        }
        last = Some(preview);
    }
    let preview = last.ok_or("three runs")?;
    println!(
        "impact_store/{count}: households {} (changed {}), pairs {}, reads alone {:.0} ms, whole preview {:.0} ms (median of 3; runs {:?})",
        preview.report.households,
        preview.report.households_changed,
        preview.report.options_decided,
        median(reads).as_secs_f64() * 1e3,
        median(previews.clone()).as_secs_f64() * 1e3,
        previews
            .iter()
            .map(|d| format!("{:.0} ms", d.as_secs_f64() * 1e3))
            .collect::<Vec<_>>(),
    );
    Ok(())
}

fn main() -> Result<(), AnyError> {
    // `cargo bench` passes `--bench`; numbers are household counts.
    let mut counts: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    if counts.is_empty() {
        counts = vec![1_000, 10_000];
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    for count in counts {
        runtime.block_on(run(count))?;
    }
    Ok(())
}
