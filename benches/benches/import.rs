//! The import's rate (issue 15): a landlord of N records (default 100,000: the catalogue, then
//! rental objects, tenants, tenancies, debts, fees and payments; `tillval_benches::import_file`)
//! imported as one batch into an empty store, then the same file again (every record
//! unchanged), then the file at a newer version (every record rewritten). On SQLite in a file
//! on disk (as the server runs it) and on PostgreSQL when `TILLVAL_TEST_DATABASE_URL` is set.
//!
//! cargo bench -p tillval-benches --bench import [-- N]

use std::sync::Arc;
use std::time::Instant;

use tillval_engine::rules::RuleSet;
use tillval_services::import::ImportFormat;
use tillval_services::imported::ImportOutcome;
use tillval_services::service::{Services, SystemClock};
use tillval_services::store::PoolSettings;
use tillval_store::SqlStore;
use tillval_tests::test_database::TestDatabase;

type AnyError = Box<dyn std::error::Error + Send + Sync>;

async fn run(label: &str, store: SqlStore, records: usize) -> Result<(), AnyError> {
    let services = Services::new(store, RuleSet::shipped()?, Arc::new(SystemClock));
    let first = tillval_benches::import_file::landlord(records, 1);
    let newer = tillval_benches::import_file::landlord(records, 2);
    let lines = first.lines().count();
    println!(
        "{label}: {lines} records, {:.1} MiB",
        first.len() as f64 / (1024.0 * 1024.0)
    );
    for (what, text) in [
        ("into an empty store", &first),
        ("again, unchanged", &first),
        ("a newer version", &newer),
    ] {
        let started = Instant::now();
        let outcome = services.import(text, ImportFormat::JsonLines).await?;
        let took = started.elapsed();
        let ImportOutcome::Applied(counts) = outcome else {
            return Err(format!("{label}: refused: {outcome:?}").into());
        };
        println!(
            "  {what:<22} {:>7.2} s  {:>8.0} records/s  (applied {}, unchanged {}, stale {})",
            took.as_secs_f64(),
            lines as f64 / took.as_secs_f64(),
            counts.applied,
            counts.unchanged,
            counts.stale
        );
    }
    services.store().close().await;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), AnyError> {
    let records = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("import.db");
    let sqlite = SqlStore::sqlite(
        &format!("sqlite://{}", path.display()),
        PoolSettings::default(),
    )
    .await?;
    run("SQLite (file)", sqlite, records).await?;
    match std::env::var("TILLVAL_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => {
            let database = TestDatabase::create(&url).await?;
            let postgres = SqlStore::postgres(&database.url, PoolSettings::default()).await?;
            run("PostgreSQL", postgres, records).await?;
            database.drop_database().await?;
        }
        _ => println!("PostgreSQL: skipped (set TILLVAL_TEST_DATABASE_URL)"),
    }
    Ok(())
}
