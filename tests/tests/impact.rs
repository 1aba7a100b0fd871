//! The impact preview against brute force: on generated households, the report's counts equal
//! a comparison of the two sets' views made household by household and option by option; a
//! candidate identical to the active set changes nothing; a broken one reports its errors.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use proptest::prelude::*;
use tillval_engine::availability::{CatalogueView, OptionStatus, catalogue_view};
use tillval_engine::catalogue::PreparedCatalogue;
use tillval_engine::impact::{Household, ImpactReport, impact};
use tillval_engine::model::OptionId;
use tillval_engine::rules::{RuleSet, RuleSetSource, SandboxLimits, ScriptSource};
use tillval_engine::testing::{Scenario, arb_scenario};
use tillval_tests::candidates::{UNPAID_FEE_ANYWHERE, with_order_blocks};

fn unpaid_fee_anywhere() -> RuleSet {
    RuleSet::compile(
        &with_order_blocks(UNPAID_FEE_ANYWHERE),
        SandboxLimits::default(),
    )
    .expect("the candidate compiles")
}

fn households(scenarios: &[Scenario], active: &RuleSet, candidate: &RuleSet) -> Vec<Household> {
    scenarios
        .iter()
        .map(|s| {
            let catalogue = Arc::new(s.catalogue.clone());
            Household {
                facts: s.facts.clone(),
                cart: s.cart.clone(),
                active: Arc::new(PreparedCatalogue::prepare(Arc::clone(&catalogue), active)),
                candidate: Arc::new(PreparedCatalogue::prepare(catalogue, candidate)),
            }
        })
        .collect()
}

/// What brute force finds: (pairs newly blocked, newly available, reasons changed), households
/// changed, and per option the same three counts.
#[derive(Debug, Default, PartialEq, Eq)]
struct BruteForce {
    totals: (u64, u64, u64),
    households_changed: u64,
    by_option: BTreeMap<OptionId, (u64, u64, u64)>,
}

fn brute_force(active: &RuleSet, candidate: &RuleSet, households: &[Household]) -> BruteForce {
    let open = |s: OptionStatus| matches!(s, OptionStatus::Available | OptionStatus::InCart);
    let codes = |view: &CatalogueView, id: &OptionId| -> (bool, OptionStatus, BTreeSet<String>) {
        let option = view.option(id).expect("both views hold the option");
        let codes = option
            .availability
            .reasons
            .iter()
            .map(|r| r.code.as_str().to_owned())
            .collect();
        (
            open(option.availability.status),
            option.availability.status,
            codes,
        )
    };
    let mut found = BruteForce::default();
    for h in households {
        let before = catalogue_view(active, &h.active, &h.facts, &h.cart);
        let after = catalogue_view(candidate, &h.candidate, &h.facts, &h.cart);
        let mut changed = before.gate.is_open() != after.gate.is_open();
        for option in after.options() {
            let id = option.option.id();
            if before.option(id).is_none() {
                continue;
            }
            let (was_open, was_status, was_codes) = codes(&before, id);
            let (is_open, is_status, is_codes) = codes(&after, id);
            let slot = found.by_option.entry(id.clone()).or_default();
            if was_open && !is_open {
                found.totals.0 += 1;
                slot.0 += 1;
                changed = true;
            } else if !was_open && is_open {
                found.totals.1 += 1;
                slot.1 += 1;
                changed = true;
            } else if !was_open && !is_open && (was_status != is_status || was_codes != is_codes) {
                found.totals.2 += 1;
                slot.2 += 1;
                changed = true;
            }
        }
        if changed {
            found.households_changed += 1;
        }
    }
    found.by_option.retain(|_, counts| *counts != (0, 0, 0));
    found
}

fn reported(report: &ImpactReport) -> BruteForce {
    BruteForce {
        totals: (
            report.totals.newly_blocked,
            report.totals.newly_available,
            report.totals.reasons_changed,
        ),
        households_changed: report.households_changed,
        by_option: report
            .by_option
            .iter()
            .map(|(id, o)| {
                (
                    id.clone(),
                    (
                        o.counts.newly_blocked,
                        o.counts.newly_available,
                        o.counts.reasons_changed,
                    ),
                )
            })
            .collect(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn the_report_counts_what_brute_force_finds(scenarios in prop::collection::vec(arb_scenario(12), 1..16)) {
        let active = RuleSet::shipped().unwrap();
        let candidate = unpaid_fee_anywhere();
        let population = households(&scenarios, &active, &candidate);
        // Three threads, so that merging the parts is tested too.
        let report = impact(&active, &candidate, &population, 3);
        prop_assert_eq!(report.households, population.len() as u64);
        prop_assert_eq!(reported(&report), brute_force(&active, &candidate, &population));
        // The candidate only adds a reason: nothing becomes available.
        prop_assert_eq!(report.totals.newly_available, 0);
        let by_category: u64 = report.by_category.values().map(|c| c.newly_blocked).sum();
        prop_assert_eq!(by_category, report.totals.newly_blocked);
    }

    #[test]
    fn a_candidate_identical_to_the_active_set_changes_nothing(scenarios in prop::collection::vec(arb_scenario(12), 1..12)) {
        let active = RuleSet::shipped().unwrap();
        let candidate = RuleSet::shipped().unwrap();
        let population = households(&scenarios, &active, &candidate);
        let report = impact(&active, &candidate, &population, 2);
        prop_assert!(report.is_unchanged(), "{:?}", report.totals);
        prop_assert_eq!(report.households, population.len() as u64);
    }
}

fn generated(count: usize) -> Vec<Scenario> {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    (0..count)
        .map(|_| arb_scenario(8).new_tree(&mut runner).unwrap().current())
        .collect()
}

#[test]
fn the_generated_population_does_exercise_the_change() {
    // Without households that the candidate blocks, the brute-force property would hold
    // vacuously: make sure the generator gives some.
    let active = RuleSet::shipped().unwrap();
    let candidate = unpaid_fee_anywhere();
    let population = households(&generated(64), &active, &candidate);
    let report = impact(&active, &candidate, &population, 2);
    assert!(report.totals.newly_blocked > 0, "{:?}", report.totals);
    assert!(
        report
            .by_reason
            .get("UNPAID_FEE")
            .is_some_and(|c| c.newly_blocked > 0)
    );
    let option = report.by_option.values().next().unwrap();
    assert!(!option.households.is_empty());
    assert!(
        option.households[0]
            .candidate_reasons
            .contains(&"UNPAID_FEE".to_owned())
    );
}

#[test]
fn a_broken_candidate_reports_its_errors_per_function() {
    let active = RuleSet::shipped().unwrap();
    let mut source = RuleSetSource::shipped();
    source.scripts.retain(|s| s.name != "key_blocks.rhai");
    source.scripts.push(ScriptSource {
        name: "key_blocks.rhai".into(),
        code: "fn key_blocks(tenant, key) { if key.len() > 0 { throw \"broken\"; } [] }".into(),
    });
    let candidate = RuleSet::compile(&source, SandboxLimits::default()).unwrap();
    let population = households(&generated(8), &active, &candidate);
    let report = impact(&active, &candidate, &population, 2);
    let errors = &report.script_errors["key_blocks"];
    assert!(errors.count > 0, "{report:?}");
    assert!(errors.example.contains("broken"), "{}", errors.example);
    assert!(errors.example.contains("household"), "{}", errors.example);
    assert!(!report.is_unchanged());
}
