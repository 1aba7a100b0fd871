//! The shipped rule set, requirement by requirement (S2–S6, S8, S10), with reasons asserted.

use tillval_engine::availability::OptionStatus::*;
use tillval_engine::model::{Language, Money, OngoingOrder, OptionId};
use tillval_engine::rules::{ReasonParam, RuleSet};
use tillval_tests::*;

fn shipped() -> RuleSet {
    RuleSet::load(&rules_dir()).expect("the shipped rules load")
}

#[test]
fn a_free_tenant_may_order_everything_possible_for_the_apartment() {
    let rules = shipped();
    let view = view(&rules, &free_tenant(), &cart(&[]));
    assert!(view.gate.is_open());
    for option in [
        "dm-bosch",
        "dm-siemens",
        "golv-ek-hall",
        "golv-ek-kok",
        "spotlight",
    ] {
        assert_eq!(decision(&view, option), (Available, vec![]), "{option}");
    }
}

#[test]
fn s2_ordering_switched_off_blocks_everything() {
    let rules = shipped();
    let facts = tillval_engine::model::TenantFacts {
        ordering_enabled: false,
        ..free_tenant()
    };
    let view = view(&rules, &facts, &cart(&[]));
    assert_eq!(view.gate.reasons.len(), 1);
    assert_eq!(view.gate.reasons[0].code.as_str(), "ORDERING_DISABLED");
    assert!(view.options().all(|o| o.availability.status == Blocked));
    assert_eq!(
        rules.render(&view.gate.reasons[0], Language::Sv),
        "Beställning av tillval är inte öppen för dig just nu."
    );
}

#[test]
fn s3_a_debt_blocks_every_option_with_the_amount_in_the_reason() {
    let rules = shipped();
    let facts = tillval_engine::model::TenantFacts {
        debt: sek(1500),
        ..free_tenant()
    };
    let view = view(&rules, &facts, &cart(&[]));
    let reason = &view.gate.reasons[0];
    assert_eq!(reason.code.as_str(), "DEBT");
    assert_eq!(
        reason.params.get("debt"),
        Some(&ReasonParam::Money(sek(1500)))
    );
    for option in view.options() {
        assert_eq!(option.availability.status, Blocked);
        assert_eq!(option.availability.reasons[0].code.as_str(), "DEBT");
    }
    assert!(
        rules
            .render(reason, Language::Sv)
            .contains("1\u{a0}500,00\u{a0}kr")
    );
    assert!(rules.render(reason, Language::En).contains("SEK 1,500.00"));
}

#[test]
fn s3_one_ore_of_debt_is_a_debt_and_none_is_not() {
    let rules = shipped();
    let one = Money::from_minor(1, tillval_engine::model::Currency::SEK).unwrap();
    let facts = tillval_engine::model::TenantFacts {
        debt: one,
        ..free_tenant()
    };
    assert!(!view(&rules, &facts, &cart(&[])).gate.is_open());
    assert!(view(&rules, &free_tenant(), &cart(&[])).gate.is_open());
}

#[test]
fn s4_an_ongoing_order_blocks_its_category_and_space_only() {
    let rules = shipped();
    let mut facts = free_tenant();
    facts.ongoing_orders.insert(
        key("diskmaskin/kitchen"),
        OngoingOrder {
            case_number: "TV-2026-000042".into(),
        },
    );
    let view = view(&rules, &facts, &cart(&[]));
    assert!(view.gate.is_open());
    for option in ["dm-bosch", "dm-siemens"] {
        let (status, codes) = decision(&view, option);
        assert_eq!(
            (status, codes),
            (Blocked, vec!["ONGOING_ORDER".to_string()])
        );
    }
    let reason = &view
        .option(&OptionId::parse("dm-bosch").unwrap())
        .unwrap()
        .availability
        .reasons[0];
    assert_eq!(
        reason.params.get("case_number"),
        Some(&ReasonParam::Text("TV-2026-000042".into()))
    );
    assert!(
        rules
            .render(reason, Language::En)
            .contains("case TV-2026-000042")
    );
    // The same category in another space, and another category in the same space, stay open.
    assert_eq!(decision(&view, "golv-ek-kok").0, Available);
    assert_eq!(decision(&view, "spotlight").0, Available);
}

#[test]
fn s5_an_unpaid_fee_blocks_its_category_and_space() {
    let rules = shipped();
    let mut facts = free_tenant();
    facts.unpaid_fees.insert(key("golv/hall"), sek(250));
    let view = view(&rules, &facts, &cart(&[]));
    assert_eq!(
        decision(&view, "golv-ek-hall"),
        (Blocked, vec!["UNPAID_FEE".to_string()])
    );
    let reason = &view
        .option(&OptionId::parse("golv-ek-hall").unwrap())
        .unwrap()
        .availability
        .reasons[0];
    assert_eq!(
        reason.params.get("remaining"),
        Some(&ReasonParam::Money(sek(250)))
    );
    assert_eq!(decision(&view, "golv-ek-kok").0, Available);
}

#[test]
fn s4_and_s5_together_give_both_reasons() {
    let rules = shipped();
    let mut facts = free_tenant();
    facts.ongoing_orders.insert(
        key("golv/hall"),
        OngoingOrder {
            case_number: "TV-1".into(),
        },
    );
    facts.unpaid_fees.insert(key("golv/hall"), sek(10));
    let view = view(&rules, &facts, &cart(&[]));
    assert_eq!(
        decision(&view, "golv-ek-hall"),
        (Blocked, vec!["ONGOING_ORDER".into(), "UNPAID_FEE".into()])
    );
}

#[test]
fn s6_only_categories_possible_for_the_apartment_are_shown() {
    let rules = shipped();
    let view = view(&rules, &free_tenant(), &cart(&[]));
    let shown: Vec<&str> = view
        .categories
        .iter()
        .map(|c| c.category.id.as_str())
        .collect();
    // No laundry room, so no washing machines; the rest in the catalogue's positions.
    assert_eq!(shown, ["diskmaskin", "golv", "belysning"]);
    assert!(
        view.option(&OptionId::parse("tm-electrolux").unwrap())
            .is_none()
    );
}

#[test]
fn s10_an_option_in_the_cart_locks_the_others_of_its_category_and_space() {
    let rules = shipped();
    let view = view(&rules, &free_tenant(), &cart(&[("dm-bosch", 1)]));
    assert_eq!(decision(&view, "dm-bosch"), (InCart, vec![]));
    assert_eq!(
        decision(&view, "dm-siemens"),
        (LockedByCart, vec!["LOCKED_BY_CART".to_string()])
    );
    let reason = &view
        .option(&OptionId::parse("dm-siemens").unwrap())
        .unwrap()
        .availability
        .reasons[0];
    assert_eq!(
        reason.params.get("option_name"),
        Some(&ReasonParam::Text("Namn dm-bosch".into()))
    );
    assert!(
        rules
            .render(reason, Language::Sv)
            .contains("”Namn dm-bosch”")
    );
    // Other categories and other spaces are not locked.
    assert_eq!(decision(&view, "golv-ek-kok").0, Available);
    assert_eq!(decision(&view, "spotlight").0, Available);
}

#[test]
fn s8_the_view_counts_the_articles_in_the_cart() {
    let rules = shipped();
    let view = view(
        &rules,
        &free_tenant(),
        &cart(&[("spotlight", 4), ("dm-bosch", 1)]),
    );
    assert_eq!(view.article_count, 5);
}

#[test]
fn a_cart_line_that_became_blocked_shows_as_blocked_not_in_cart() {
    let rules = shipped();
    let facts = tillval_engine::model::TenantFacts {
        debt: sek(1),
        ..free_tenant()
    };
    let view = view(&rules, &facts, &cart(&[("dm-bosch", 1)]));
    assert_eq!(
        decision(&view, "dm-bosch"),
        (Blocked, vec!["DEBT".to_string()])
    );
}

#[test]
fn the_shipped_lock_key_is_category_and_space() {
    let rules = shipped();
    let view = view(&rules, &free_tenant(), &cart(&[]));
    let keys: Vec<String> = view
        .option(&OptionId::parse("golv-ek-hall").unwrap())
        .unwrap()
        .keys
        .iter()
        .map(|k| k.to_string())
        .collect();
    assert_eq!(keys, ["golv/hall"]);
}

#[test]
fn the_folder_and_the_embedded_copy_are_the_same_rules() {
    let from_disk = shipped();
    let embedded = RuleSet::shipped().unwrap();
    assert_eq!(from_disk.version(), embedded.version());
    assert_eq!(from_disk.origin("key_blocks"), Some("key_blocks.rhai"));
    assert_eq!(
        embedded.origin("key_blocks"),
        Some("shipped:key_blocks.rhai")
    );
    assert!(!embedded.defines_option_blocks());
    let mut facts = free_tenant();
    facts.unpaid_fees.insert(key("golv/hall"), sek(250));
    let cart = cart(&[("dm-bosch", 1)]);
    assert_eq!(
        view(&from_disk, &facts, &cart).categories,
        view(&embedded, &facts, &cart).categories
    );
}

#[test]
fn every_message_reads_in_both_languages() {
    let rules = shipped();
    for code in rules.messages().codes() {
        for language in Language::ALL {
            let text = rules.messages().template(code, language).unwrap();
            assert!(!text.trim().is_empty(), "{code} {language:?}");
        }
    }
}
