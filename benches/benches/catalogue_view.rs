//! The catalogue view for one apartment: the engine with the shipped rules (per distinct lock
//! key), the same with a landlord's per-option rule (monthly cap), the plain-Rust reference,
//! the native floor (`tillval_benches::floor`: the same rules hand-written for speed), and the
//! memoised view when the household's inputs have not changed (`ViewMemo`, warm).
//! The catalogue is prepared (lock keys computed) once, as the cache holds it.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tillval_benches::floor::{self, FloorCatalogue};
use tillval_benches::{cart, catalogue, facts, rules_dir};
use tillval_engine::availability::catalogue_view;
use tillval_engine::catalogue::PreparedCatalogue;
use tillval_engine::rules::RuleSet;
use tillval_engine::view_memo::ViewMemo;
use tillval_tests::reference;

fn bench(c: &mut Criterion) {
    let shipped = RuleSet::load(&rules_dir()).expect("shipped rules");
    let monthly_cap =
        RuleSet::load(&rules_dir().join("examples/monthly-cap")).expect("monthly-cap rules");
    let facts = facts();
    let mut group = c.benchmark_group("catalogue_view");
    for size in [100usize, 1_000, 10_000] {
        let catalogue = Arc::new(catalogue(size));
        let cart = cart(&catalogue);
        let prepared = PreparedCatalogue::prepare(Arc::clone(&catalogue), &shipped);
        let prepared_cap = PreparedCatalogue::prepare(Arc::clone(&catalogue), &monthly_cap);
        // The engine and the reference must agree before either is timed.
        let engine_view = catalogue_view(&shipped, &prepared, &facts, &cart);
        let reference_view = reference::catalogue_view(&catalogue, &facts, &cart);
        assert_eq!(
            engine_view.categories, reference_view.categories,
            "engine and reference disagree at {size}"
        );
        let floor_catalogue = FloorCatalogue::prepare(Arc::clone(&catalogue));
        let floor_view = floor::catalogue_view(&floor_catalogue, &facts, &cart);
        assert_eq!(
            engine_view.categories, floor_view.categories,
            "engine and floor disagree at {size}"
        );
        assert_eq!(engine_view.gate.reasons, floor_view.gate.reasons);

        group.throughput(Throughput::Elements(size as u64));
        group.bench_with_input(BenchmarkId::new("shipped_rules", size), &size, |b, _| {
            b.iter(|| black_box(catalogue_view(&shipped, &prepared, &facts, &cart)))
        });
        // Warm: the household's inputs unchanged since its view was decided (issue 16, item 3).
        let memo = ViewMemo::new(1_000_000);
        let prepared_arc = Arc::new(PreparedCatalogue::prepare(Arc::clone(&catalogue), &shipped));
        let decided = memo.view(&shipped, &prepared_arc, &facts, &cart);
        assert_eq!(decided.categories, engine_view.categories);
        group.bench_with_input(BenchmarkId::new("memoised_warm", size), &size, |b, _| {
            b.iter(|| black_box(memo.view(&shipped, &prepared_arc, &facts, &cart)))
        });
        assert_eq!(
            memo.stats().misses,
            1,
            "every timed view was the memoised one"
        );
        group.bench_with_input(BenchmarkId::new("reference", size), &size, |b, _| {
            b.iter(|| black_box(reference::catalogue_view(&catalogue, &facts, &cart)))
        });
        group.bench_with_input(BenchmarkId::new("floor", size), &size, |b, _| {
            b.iter(|| black_box(floor::catalogue_view(&floor_catalogue, &facts, &cart)))
        });
        if size <= 1_000 {
            group.bench_with_input(
                BenchmarkId::new("option_blocks_monthly_cap", size),
                &size,
                |b, _| {
                    b.iter(|| black_box(catalogue_view(&monthly_cap, &prepared_cap, &facts, &cart)))
                },
            );
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
