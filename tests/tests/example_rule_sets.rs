//! The landlord examples in rules/examples/, loaded from disk at run time: customisation
//! without recompiling.

use tillval_engine::availability::OptionStatus::*;
use tillval_engine::model::{Language, OptionId, TenantFacts};
use tillval_engine::rules::{ReasonParam, RuleSet};
use tillval_tests::*;

fn example(name: &str) -> RuleSet {
    RuleSet::load(&rules_dir().join("examples").join(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn monthly_cap_blocks_what_would_take_the_apartment_over_300_kr() {
    let rules = example("monthly-cap");
    assert_eq!(rules.origin("option_blocks"), Some("option_blocks.rhai"));
    assert_eq!(rules.origin("key_blocks"), Some("shipped:key_blocks.rhai"));
    // 100 kr already on the rent, 129 kr in the cart.
    let facts = TenantFacts {
        active_monthly_total: sek(100),
        ..free_tenant()
    };
    let view = view(&rules, &facts, &cart(&[("dm-siemens", 1)]));
    // 100 + 129 + 150 = 379 > 300.
    assert_eq!(
        decision(&view, "golv-ek-kok"),
        (Blocked, vec!["MONTHLY_CAP_EXCEEDED".to_string()])
    );
    let reason = &view
        .option(&OptionId::parse("golv-ek-kok").unwrap())
        .unwrap()
        .availability
        .reasons[0];
    assert_eq!(
        reason.params.get("cap"),
        Some(&ReasonParam::Money(sek(300)))
    );
    assert_eq!(
        reason.params.get("total"),
        Some(&ReasonParam::Money(sek(379)))
    );
    assert_eq!(
        rules.render(reason, Language::Sv),
        "Dina tillval skulle kosta 379,00\u{a0}kr i månaden; taket är 300,00\u{a0}kr i månaden."
    );
    // 100 + 129 + 15 = 244: fine. The cart's own line is not counted twice.
    assert_eq!(decision(&view, "spotlight").0, Available);
    assert_eq!(decision(&view, "dm-siemens").0, InCart);
    // Without the 100 kr the floor fits: 129 + 150 = 279.
    let view = view_for(&rules, &free_tenant(), &[("dm-siemens", 1)]);
    assert_eq!(decision(&view, "golv-ek-kok").0, Available);
}

fn view_for(
    rules: &RuleSet,
    facts: &TenantFacts,
    lines: &[(&str, i64)],
) -> tillval_engine::availability::CatalogueView {
    view(rules, facts, &cart(lines))
}

#[test]
fn monthly_cap_keeps_the_seed_rules() {
    let rules = example("monthly-cap");
    let facts = TenantFacts {
        debt: sek(10),
        ..free_tenant()
    };
    let view = view(&rules, &facts, &cart(&[]));
    assert_eq!(view.gate.reasons[0].code.as_str(), "DEBT");
    assert_eq!(
        decision(&view, "spotlight"),
        (Blocked, vec!["DEBT".to_string()])
    );
}

#[test]
fn building_age_keeps_floors_and_tiles_from_new_buildings() {
    let rules = example("building-age");
    let new_building = TenantFacts {
        rental_object: std::sync::Arc::new(apartment(2010)),
        ..free_tenant()
    };
    let view = view(&rules, &new_building, &cart(&[]));
    assert_eq!(
        decision(&view, "golv-ek-hall"),
        (Blocked, vec!["BUILDING_TOO_NEW".to_string()])
    );
    let reason = &view
        .option(&OptionId::parse("golv-ek-hall").unwrap())
        .unwrap()
        .availability
        .reasons[0];
    assert_eq!(
        reason.params.get("building_year"),
        Some(&ReasonParam::Int(2010))
    );
    assert_eq!(reason.params.get("min_age"), Some(&ReasonParam::Int(30)));
    assert!(rules.render(reason, Language::En).contains("built in 2010"));
    // Dishwashers are not covered by the rule.
    assert_eq!(decision(&view, "dm-bosch").0, Available);
    // 1965 is old enough.
    let view = view_for(&rules, &free_tenant(), &[]);
    assert_eq!(decision(&view, "golv-ek-hall").0, Available);
}

#[test]
fn building_age_is_measured_on_the_day_of_the_decision() {
    let rules = example("building-age");
    // Built 1996: 29 years old in 2025, 30 in 2026.
    let mut facts = TenantFacts {
        rental_object: std::sync::Arc::new(apartment(1996)),
        ..free_tenant()
    };
    facts.today = chrono::NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
    assert_eq!(
        decision(&view(&rules, &facts, &cart(&[])), "golv-ek-kok").0,
        Blocked
    );
    facts.today = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    assert_eq!(
        decision(&view(&rules, &facts, &cart(&[])), "golv-ek-kok").0,
        Available
    );
}

#[test]
fn editing_a_param_in_the_folder_changes_the_answer_without_recompiling() {
    let dir = tempfile::tempdir().unwrap();
    let source = rules_dir().join("examples").join("monthly-cap");
    std::fs::create_dir_all(dir.path().join("messages")).unwrap();
    for file in ["option_blocks.rhai", "messages/sv.toml", "messages/en.toml"] {
        std::fs::copy(source.join(file), dir.path().join(file)).unwrap();
    }
    let manifest = std::fs::read_to_string(source.join("ruleset.toml")).unwrap();
    std::fs::write(
        dir.path().join("ruleset.toml"),
        manifest.replace("monthly_cap = 30000", "monthly_cap = 10000"),
    )
    .unwrap();
    let rules = RuleSet::load(dir.path()).unwrap();
    let view = view(&rules, &free_tenant(), &cart(&[]));
    // 100 kr cap: the 99 kr dishwasher fits, the 129 kr one does not.
    assert_eq!(decision(&view, "dm-bosch").0, Available);
    assert_eq!(decision(&view, "dm-siemens").0, Blocked);
}
