//! The impact preview over a database (both stores): the demo households decided with a
//! candidate against the set in force, read-only.

use tillval_engine::rules::RuleSetSource;
use tillval_services::ServiceError;
use tillval_tests::candidates::{UNPAID_FEE_ANYWHERE, with_order_blocks};
use tillval_tests::db::*;

async fn the_preview_names_what_a_candidate_changes_and_changes_nothing(backend: Backend) {
    let Some(db) = demo_db_on(
        backend,
        "the_preview_names_what_a_candidate_changes_and_changes_nothing",
    )
    .await
    else {
        return;
    };
    let s = &db.services;
    let active = s.rules().fingerprint();
    let versions = s.rule_sets().await.unwrap().len();

    // The set in force against itself: nothing changes.
    let same = s.rule_set_impact(&RuleSetSource::shipped()).await.unwrap();
    assert!(same.complete);
    assert!(same.report.households >= 5, "{:?}", same.report.households);
    assert!(same.report.is_unchanged(), "{:?}", same.report.totals);

    // A fee not fully paid anywhere blocks everything: David Ek (a floor fee) loses every
    // add-on he could order, and nobody gains one.
    let preview = s
        .rule_set_impact(&with_order_blocks(UNPAID_FEE_ANYWHERE))
        .await
        .unwrap();
    let report = &preview.report;
    assert!(report.totals.newly_blocked > 0, "{:?}", report.totals);
    assert_eq!(report.totals.newly_available, 0);
    assert!(report.by_reason["UNPAID_FEE"].newly_blocked > 0);
    let david = report
        .by_option
        .values()
        .flat_map(|o| &o.households)
        .filter(|h| h.tenant.as_str() == "david-ek")
        .count();
    assert!(david > 0, "David is among the newly blocked");
    assert!(
        report
            .by_option
            .values()
            .flat_map(|o| &o.households)
            .all(|h| h.tenant.as_str() == "david-ek"),
        "only households with an unpaid fee change"
    );

    // A candidate that fails at run time reports its errors per function.
    let broken = s
        .rule_set_impact(&with_order_blocks(
            "fn order_blocks(tenant) { throw \"broken on purpose\"; }",
        ))
        .await
        .unwrap();
    let errors = &broken.report.script_errors["order_blocks"];
    assert_eq!(errors.count, broken.report.households);
    assert!(errors.example.contains("broken on purpose"));

    // One that does not compile is refused with its problem, and nothing is decided.
    let refused = s
        .rule_set_impact(&with_order_blocks("fn order_blocks(tenant) { [ }"))
        .await;
    match refused {
        Err(ServiceError::RuleSetRefused(problems)) => {
            assert!(
                problems
                    .iter()
                    .any(|p| p.file.contains("order_blocks.rhai")),
                "{problems:?}"
            )
        }
        other => panic!("expected the candidate refused, got {other:?}"),
    }

    // Previewing changed nothing: the same set in force, no new version.
    assert_eq!(s.rules().fingerprint(), active);
    assert_eq!(s.rule_sets().await.unwrap().len(), versions);
    db.finish().await;
}

tillval_tests::store_suite!(the_preview_names_what_a_candidate_changes_and_changes_nothing,);
