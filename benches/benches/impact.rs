//! The impact preview (issue 14): the shipped rules against a candidate under which a fee not
//! fully paid anywhere blocks every add-on, over N households of 100 add-ons each, decided in
//! parallel on the machine's cores. The goal: 10,000 rental objects in under 10 s. Engine only
//! (the households are in memory); reading them from the store is measured by the services'
//! tests and noted in docs/benchmarks.md.
//!
//! cargo bench -p tillval-benches --bench impact

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use tillval_benches::{cart, catalogue, facts};
use tillval_engine::catalogue::PreparedCatalogue;
use tillval_engine::impact::{Household, impact};
use tillval_engine::model::{
    Currency, Money, RentalObject, RentalObjectId, RentalObjectRecord, TenantId,
};
use tillval_engine::rules::{RuleSet, SandboxLimits};
use tillval_tests::candidates::{UNPAID_FEE_ANYWHERE, with_order_blocks};

fn candidate() -> RuleSet {
    RuleSet::compile(
        &with_order_blocks(UNPAID_FEE_ANYWHERE),
        SandboxLimits::default(),
    )
    .expect("the candidate compiles")
}

/// `count` households on one property's 100-add-on catalogue: every third has its unpaid fees,
/// every seventh a debt, the rest none; each its own tenant and apartment.
fn population(count: usize, active: &RuleSet, candidate: &RuleSet) -> Vec<Household> {
    let catalogue = Arc::new(catalogue(100));
    let active_prepared = Arc::new(PreparedCatalogue::prepare(Arc::clone(&catalogue), active));
    let candidate_prepared = Arc::new(PreparedCatalogue::prepare(
        Arc::clone(&catalogue),
        candidate,
    ));
    let template = facts();
    (0..count)
        .map(|i| {
            let mut facts = template.clone();
            let tenant = TenantId::parse(format!("tenant-{i:05}")).expect("an id");
            let mut record = RentalObjectRecord::from((*template.rental_object).clone());
            record.id = RentalObjectId::parse(format!("lgh-{i:05}")).expect("an id");
            facts.rental_object = Arc::new(RentalObject::try_from(record).expect("an apartment"));
            facts.tenant = tenant.clone();
            if i % 3 != 0 {
                facts.unpaid_fees.clear();
            }
            if i % 7 == 0 {
                facts.debt = Money::from_minor(100_000, Currency::SEK).expect("money");
            }
            let cart = {
                let template = cart(&catalogue);
                tillval_engine::model::Cart::with_lines(
                    tenant,
                    facts.rental_object.id().clone(),
                    template.lines().to_vec(),
                )
                .expect("a cart")
            };
            Household {
                facts,
                cart,
                active: Arc::clone(&active_prepared),
                candidate: Arc::clone(&candidate_prepared),
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let active = RuleSet::shipped().expect("shipped rules");
    let candidate = candidate();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut group = c.benchmark_group("impact");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    for households in [1_000usize, 10_000] {
        let population = population(households, &active, &candidate);
        let report = impact(&active, &candidate, &population, threads);
        eprintln!(
            "{households} households × 100 add-ons on {threads} thread(s): {} changed, {} pairs newly blocked",
            report.households_changed, report.totals.newly_blocked
        );
        group.bench_with_input(
            BenchmarkId::from_parameter(households),
            &population,
            |b, population| b.iter(|| black_box(impact(&active, &candidate, population, threads))),
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
