//! The engine's invariants on generated catalogues, facts and carts, and the shipped rhai rule
//! set held to the plain-Rust reference of S2–S5 and S10 on every generated input.

use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use tillval_engine::availability::{CatalogueView, OptionStatus, catalogue_view};
use tillval_engine::catalogue::PreparedCatalogue;
use tillval_engine::model::{Catalogue, CatalogueRecord};
use tillval_engine::rules::RuleSet;
use tillval_engine::testing::{Scenario, arb_scenario};
use tillval_tests::reference;

/// Cases per property; the differential test runs more, being the one that finds most.
const CASES: u32 = 300;
const DIFFERENTIAL_CASES: u32 = 1000;
const MAX_OPTIONS: usize = 40;

fn shipped() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| RuleSet::shipped().expect("the shipped rules compile"))
}

fn engine_view(scenario: &Scenario) -> CatalogueView {
    let prepared = PreparedCatalogue::prepare(Arc::new(scenario.catalogue.clone()), shipped());
    catalogue_view(shipped(), &prepared, &scenario.facts, &scenario.cart)
}

/// The same catalogue with its options and categories in another order.
fn permuted(catalogue: &Catalogue, seed: u64) -> Catalogue {
    let mut record = CatalogueRecord::from(catalogue.clone());
    let mut state = seed | 1;
    let mut next = move |bound: usize| {
        // xorshift: a fixed, dependency-free shuffle driven by the generated seed.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % bound as u64) as usize
    };
    for i in (1..record.options.len()).rev() {
        record.options.swap(i, next(i + 1));
    }
    for i in (1..record.categories.len()).rev() {
        record.categories.swap(i, next(i + 1));
    }
    Catalogue::try_from(record).expect("a permutation of a valid catalogue is valid")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(DIFFERENTIAL_CASES))]

    #[test]
    fn the_shipped_rules_agree_with_the_reference(scenario in arb_scenario(MAX_OPTIONS)) {
        let engine = engine_view(&scenario);
        let reference = reference::catalogue_view(&scenario.catalogue, &scenario.facts, &scenario.cart);
        prop_assert_eq!(&engine.gate, &reference.gate);
        prop_assert_eq!(&engine.categories, &reference.categories);
        prop_assert_eq!(engine.article_count, reference.article_count);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn a_debt_makes_nothing_orderable(scenario in arb_scenario(MAX_OPTIONS)) {
        let view = engine_view(&scenario);
        if !scenario.facts.debt.is_zero() || !scenario.facts.ordering_enabled {
            prop_assert!(!view.gate.is_open());
            for option in view.options() {
                prop_assert_eq!(option.availability.status, OptionStatus::Blocked);
            }
        } else {
            prop_assert!(view.gate.is_open());
        }
    }

    #[test]
    fn an_ongoing_order_or_unpaid_fee_blocks_its_key(scenario in arb_scenario(MAX_OPTIONS)) {
        let view = engine_view(&scenario);
        for option in view.options() {
            let held = option.keys.iter().any(|k| {
                scenario.facts.ongoing_orders.contains_key(k) || scenario.facts.unpaid_fees.contains_key(k)
            });
            if held {
                prop_assert_eq!(option.availability.status, OptionStatus::Blocked, "{}", option.option.id());
                let codes: Vec<&str> = option.availability.reasons.iter().map(|r| r.code.as_str()).collect();
                prop_assert!(
                    codes.iter().any(|c| ["ONGOING_ORDER", "UNPAID_FEE", "DEBT", "ORDERING_DISABLED"].contains(c)),
                    "{:?}", codes
                );
            }
        }
    }

    #[test]
    fn a_key_in_the_cart_locks_every_other_option_on_it(scenario in arb_scenario(MAX_OPTIONS)) {
        let view = engine_view(&scenario);
        let cart_keys: Vec<_> = view
            .options()
            .filter(|o| scenario.cart.contains(o.option.id()))
            .flat_map(|o| o.keys.iter().cloned())
            .collect();
        for option in view.options() {
            if scenario.cart.contains(option.option.id()) {
                prop_assert!(matches!(option.availability.status, OptionStatus::InCart | OptionStatus::Blocked));
            } else if option.keys.iter().any(|k| cart_keys.contains(k)) {
                prop_assert!(
                    matches!(option.availability.status, OptionStatus::LockedByCart | OptionStatus::Blocked),
                    "{} is {:?}", option.option.id(), option.availability.status
                );
                prop_assert!(!option.availability.reasons.is_empty());
            }
        }
    }

    #[test]
    fn the_answer_does_not_depend_on_catalogue_order(scenario in arb_scenario(MAX_OPTIONS), seed in any::<u64>()) {
        let original = engine_view(&scenario);
        let shuffled = Scenario { catalogue: permuted(&scenario.catalogue, seed), ..scenario.clone() };
        prop_assert_eq!(original, engine_view(&shuffled));
    }

    #[test]
    fn only_options_possible_for_the_apartment_are_shown(scenario in arb_scenario(MAX_OPTIONS)) {
        let view = engine_view(&scenario);
        for category in &view.categories {
            prop_assert!(!category.options.is_empty());
            for option in &category.options {
                prop_assert!(scenario.facts.rental_object.has_space(option.option.space()));
            }
        }
        let possible = scenario
            .catalogue
            .options()
            .iter()
            .filter(|o| scenario.facts.rental_object.has_space(o.space()))
            .count();
        prop_assert_eq!(view.options().count(), possible);
    }
}

/// `key_blocks` variants that read the key only through the tenant's look-ups, so the engine
/// decides every key without facts with one call and shares the answer (`KeyUse`). Each is
/// held to the same script made to read the key directly (decided key by key).
const LOOKUP_ONLY_KEY_BLOCKS: [&str; 4] = [
    // Blocks every key the tenant has no fact on: the shared answer is a refusal.
    "fn key_blocks(tenant, key) {\n  if !tenant.has_ongoing_order(key) && !tenant.has_unpaid_fee(key) { return [#{ code: \"DEBT\", debt: tenant.debt }]; }\n  [#{ code: \"ONGOING_ORDER\", case_number: tenant.ongoing_order(key) }]\n}",
    // Reads the cart's keys through the look-up, in the function-call form.
    "fn key_blocks(t, k) {\n  let h = cart_holder(t, k);\n  if h != () { return [#{ code: \"UNPAID_FEE\", remaining: t.debt }]; }\n  if has_unpaid_fee(t, k) { return [#{ code: \"UNPAID_FEE\", remaining: unpaid_fee(t, k) }]; }\n  []\n}",
    // Never reads the key: one answer for every key, whatever the facts.
    "fn key_blocks(tenant, key) {\n  if tenant.cart_article_count > 2 { return [#{ code: \"DEBT\", debt: tenant.debt }]; }\n  []\n}",
    // The shipped rule with a helper that sees only the tenant.
    "fn key_blocks(tenant, key) {\n  let reasons = [];\n  if tenant.has_ongoing_order(key) && open(tenant) { reasons.push(#{ code: \"ONGOING_ORDER\", case_number: tenant.ongoing_order(key) }); }\n  if tenant.has_unpaid_fee(key) { reasons.push(#{ code: \"UNPAID_FEE\", remaining: tenant.unpaid_fee(key) }); }\n  reasons\n}\nprivate fn open(t) { t.ordering_enabled }",
];

/// A rule set of the shipped rules with `script` (one file) in place of one of its functions.
fn set_with_script(script: &str) -> RuleSet {
    use tillval_engine::rules::{RuleSetSource, SandboxLimits, ScriptSource};
    let source = RuleSetSource {
        manifest: "name = \"variant\"\nversion = \"1\"\n".into(),
        scripts: vec![ScriptSource {
            name: "variant.rhai".into(),
            code: script.into(),
        }],
        messages_sv: None,
        messages_en: None,
        tests: Vec::new(),
    };
    RuleSet::compile(&source, SandboxLimits::default()).expect("the variant compiles")
}

fn key_use_pairs() -> &'static [(RuleSet, RuleSet)] {
    static SETS: OnceLock<Vec<(RuleSet, RuleSet)>> = OnceLock::new();
    SETS.get_or_init(|| {
        LOOKUP_ONLY_KEY_BLOCKS
            .iter()
            .map(|script| {
                // The same function, made to read its key directly: decided key by key.
                let read = format!(
                    "{{\n  let _read = key_length({});",
                    second_parameter(script)
                );
                let direct =
                    script.replacen('{', &read, 1) + "\nprivate fn key_length(k) { k.len() }";
                (set_with_script(script), set_with_script(&direct))
            })
            .collect()
    })
}

/// The name a variant gives its key parameter.
fn second_parameter(script: &str) -> String {
    let open = script.find('(').unwrap_or(0);
    let close = script.find(')').unwrap_or(0);
    script
        .get(open + 1..close)
        .and_then(|params| params.split(',').nth(1))
        .unwrap_or("key")
        .trim()
        .to_owned()
}

#[test]
fn the_variants_are_decided_through_look_ups_and_their_twins_directly() {
    use tillval_engine::rules::KeyUse;
    for (shared, direct) in key_use_pairs() {
        assert!(matches!(shared.key_use(), KeyUse::ThroughLookups { .. }));
        assert_eq!(direct.key_use(), KeyUse::Direct);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Sharing one answer among the keys without facts gives exactly what deciding each key
    /// alone gives, for every generated catalogue, facts and cart.
    #[test]
    fn a_shared_answer_for_keys_without_facts_is_the_answer_key_by_key(scenario in arb_scenario(MAX_OPTIONS)) {
        let catalogue = Arc::new(scenario.catalogue.clone());
        for (shared, direct) in key_use_pairs() {
            let view = |rules: &RuleSet| {
                let prepared = PreparedCatalogue::prepare(Arc::clone(&catalogue), rules);
                catalogue_view(rules, &prepared, &scenario.facts, &scenario.cart)
            };
            let (a, b) = (view(shared), view(direct));
            prop_assert_eq!(&a.gate, &b.gate);
            prop_assert_eq!(&a.categories, &b.categories);
            // One decision: each option alone, through `Decider::decide`, agrees too.
            let prepared = PreparedCatalogue::prepare(Arc::clone(&catalogue), shared);
            let mut decider = tillval_engine::availability::Decider::new(shared, &prepared, &scenario.facts, &scenario.cart);
            for option in a.options() {
                let alone = decider.decide(option.option.id());
                prop_assert_eq!(alone.as_ref(), Some(&option.availability));
            }
        }
    }
}

/// `option_blocks` variants that read only properties of the option (and whether it is in the
/// cart), so that options alike in those are decided once per view (`OptionUse`). Each is held
/// to the same script made to pass its option to a helper (decided option by option).
const PROPERTY_ONLY_OPTION_BLOCKS: [&str; 3] = [
    // The monthly-cap example, with its cap as a constant.
    "fn option_blocks(tenant, option) {\n  let total = tenant.active_monthly_total.amount + tenant.cart_monthly_total.amount;\n  if !tenant.in_cart(option.id) { total += option.monthly_price.amount; }\n  if total > 90000 { return [#{ code: \"DEBT\", debt: #{ amount: total, currency: tenant.currency } }]; }\n  []\n}",
    // Category and space, with a reason that carries what was read.
    "fn option_blocks(t, o) {\n  if o.space == \"hall\" || in_cart(t, o.id) { return [#{ code: \"UNPAID_FEE\", remaining: o.one_time_fee }]; }\n  if o.category == \"golv\" && o.unit == \"piece\" { return [#{ code: \"DEBT\", debt: o.monthly_price }]; }\n  []\n}",
    // Reads the option's keys and its price together.
    "fn option_blocks(tenant, option) {\n  if option.keys.len() > 0 && option.monthly_price.amount % 2 == 1 { return [#{ code: \"DEBT\", debt: tenant.debt }]; }\n  []\n}",
];

fn option_use_pairs() -> &'static [(RuleSet, RuleSet)] {
    static SETS: OnceLock<Vec<(RuleSet, RuleSet)>> = OnceLock::new();
    SETS.get_or_init(|| {
        PROPERTY_ONLY_OPTION_BLOCKS
            .iter()
            .map(|script| {
                let option = second_parameter(script);
                let read = format!("{{\n  let _whole = whole({option});");
                let direct = script.replacen('{', &read, 1) + "\nprivate fn whole(o) { o }";
                (set_with_script(script), set_with_script(&direct))
            })
            .collect()
    })
}

#[test]
fn the_option_variants_are_grouped_and_their_twins_direct() {
    use tillval_engine::rules::OptionUse;
    for (grouped, direct) in option_use_pairs() {
        assert!(matches!(
            grouped.option_use(),
            Some(OptionUse::Properties { .. })
        ));
        assert_eq!(direct.option_use(), Some(&OptionUse::Direct));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Deciding one option per group of options alike in what the rule reads gives exactly what
    /// deciding each option alone gives.
    #[test]
    fn a_shared_answer_for_options_alike_is_the_answer_option_by_option(scenario in arb_scenario(MAX_OPTIONS)) {
        let catalogue = Arc::new(scenario.catalogue.clone());
        for (grouped, direct) in option_use_pairs() {
            let view = |rules: &RuleSet| {
                let prepared = PreparedCatalogue::prepare(Arc::clone(&catalogue), rules);
                catalogue_view(rules, &prepared, &scenario.facts, &scenario.cart)
            };
            let (a, b) = (view(grouped), view(direct));
            prop_assert_eq!(&a.gate, &b.gate);
            prop_assert_eq!(&a.categories, &b.categories);
        }
    }
}
