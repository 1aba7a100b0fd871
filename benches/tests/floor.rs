//! The native floor answers what the reference (and so the engine) answers, on generated
//! catalogues, tenants and carts: the benches' equality checks at three sizes are not all.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use proptest::prelude::*;
use tillval_benches::floor::{self, FloorCatalogue};
use tillval_engine::testing::arb_scenario;
use tillval_tests::reference;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn the_floor_agrees_with_the_reference(scenario in arb_scenario(40)) {
        let prepared = FloorCatalogue::prepare(Arc::new(scenario.catalogue.clone()));
        let floor = floor::catalogue_view(&prepared, &scenario.facts, &scenario.cart);
        let reference = reference::catalogue_view(&scenario.catalogue, &scenario.facts, &scenario.cart);
        prop_assert_eq!(floor.categories, reference.categories);
        prop_assert_eq!(floor.gate.reasons, reference.gate.reasons);
        prop_assert_eq!(floor.article_count, reference.article_count);
    }
}
