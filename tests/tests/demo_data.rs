//! The demo landlord shows every case of the seed, as its tenants are described.

use std::sync::Arc;

use tillval_engine::availability::{OptionStatus, catalogue_view};
use tillval_engine::catalogue::PreparedCatalogue;
use tillval_engine::model::OptionId;
use tillval_engine::rules::RuleSet;
use tillval_services::demo::{SeedCase, demo};

#[test]
fn each_demo_tenant_shows_its_seed_case() {
    let demo = demo(chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()).unwrap();
    assert_eq!(demo.catalogues.len(), 2);
    assert_eq!(demo.rental_objects.len(), 12);
    let rules = RuleSet::shipped().unwrap();
    let mut seen = Vec::new();
    for tenant in &demo.tenants {
        let object = &tenant.facts.rental_object;
        let catalogue = demo
            .catalogues
            .iter()
            .find(|c| c.property() == object.property())
            .unwrap();
        for category in catalogue.categories() {
            let count = catalogue
                .options()
                .iter()
                .filter(|o| o.category() == &category.id)
                .count();
            assert!(count >= 3, "{} has {count} options", category.id);
        }
        let prepared = PreparedCatalogue::prepare(Arc::new(catalogue.clone()), &rules);
        let view = catalogue_view(&rules, &prepared, &tenant.facts, &tenant.cart);
        let status = |id: &str| {
            view.option(&OptionId::parse(id).unwrap())
                .unwrap()
                .availability
                .status
        };
        match tenant.case {
            SeedCase::Free => {
                assert!(view.gate.is_open());
                assert!(
                    view.options()
                        .all(|o| o.availability.status == OptionStatus::Available)
                );
            }
            SeedCase::Debt => {
                assert_eq!(view.gate.reasons[0].code.as_str(), "DEBT");
                assert!(
                    view.options()
                        .all(|o| o.availability.status == OptionStatus::Blocked)
                );
            }
            SeedCase::OngoingOrder => {
                assert_eq!(status("dm-bosch-serie4"), OptionStatus::Blocked);
                assert_eq!(status("tm-bosch-serie6"), OptionStatus::Available);
            }
            SeedCase::UnpaidFee => {
                assert_eq!(status("golv-ek-3stav-hall"), OptionStatus::Blocked);
                assert_eq!(status("golv-ek-3stav-kitchen"), OptionStatus::Available);
            }
            SeedCase::PieceUnit => {
                assert_eq!(view.article_count, 4);
                assert_eq!(status("bel-spotlight-kitchen"), OptionStatus::InCart);
                assert_eq!(
                    status("bel-bankbelysning-kitchen"),
                    OptionStatus::LockedByCart
                );
            }
        }
        seen.push(tenant.case);
    }
    for case in [
        SeedCase::Free,
        SeedCase::Debt,
        SeedCase::OngoingOrder,
        SeedCase::UnpaidFee,
        SeedCase::PieceUnit,
    ] {
        assert!(seen.contains(&case), "{case:?}");
    }
}
