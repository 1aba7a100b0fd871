//! Loads the demo landlord into a SQLite file (created if missing), idempotently: run it twice
//! and nothing is made twice.
//!
//! cargo run -p tillval-store --example load_demo -- [PATH]   (default tillval.db)

use std::error::Error;
use std::sync::Arc;

use tillval_engine::rules::RuleSet;
use tillval_services::demo::{demo, load_demo};
use tillval_services::service::{Services, SystemClock};
use tillval_services::store::PoolSettings;
use tillval_store::SqlStore;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "tillval.db".into());
    let store = SqlStore::sqlite(&path, PoolSettings::default()).await?;
    let services = Services::new(store, RuleSet::shipped()?, Arc::new(SystemClock));
    let demo = demo(chrono::Utc::now().date_naive())?;
    load_demo(&services, &demo).await?;
    for tenant in &demo.tenants {
        let object = tenant.facts.rental_object.id();
        let cart = services.cart(&tenant.id, object).await?;
        let cases = services.cases(&tenant.id, None, None, 100).await?;
        println!(
            "{:<14} {:<16} {:<9} cart: {} article(s), cases: {}",
            tenant.id.as_str(),
            format!("{:?}", tenant.case),
            object.as_str(),
            cart.article_count,
            cases
                .cases
                .iter()
                .map(|c| format!("{} {}", c.number, c.status))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    println!("demo loaded into {path}");
    Ok(())
}
