//! A sent order keeps what the decision saw (issue 14): the rule set in force and the facts,
//! read back from the store (both stores).

use tillval_services::order::{IdempotencyKey, SubmitRequest};
use tillval_tests::db::*;

async fn a_case_keeps_the_rule_set_and_the_facts_its_order_was_allowed_on(backend: Backend) {
    let Some(db) = demo_db_on(
        backend,
        "a_case_keeps_the_rule_set_and_the_facts_its_order_was_allowed_on",
    )
    .await
    else {
        return;
    };
    let s = &db.services;
    let (eva, lgh) = (tenant("eva-nilsson"), object("lgh-2004"));
    let version = s.terms().await.unwrap().version;
    let sent = s
        .checkout_submit(
            &eva,
            &lgh,
            &SubmitRequest {
                accept_terms: true,
                terms_version: version,
                idempotency_key: IdempotencyKey::parse("receipt-eva-1").unwrap(),
            },
        )
        .await
        .unwrap();
    let rules = s.rules();
    // Read back, as a dispute would find it.
    let case = s.case(&eva, &sent.case.number).await.unwrap();
    let receipt = case.receipt.expect("a receipt");
    assert_eq!(
        receipt.rule_set,
        format!("{} {}", rules.name(), rules.version())
    );
    assert_eq!(receipt.facts["ordering_enabled"], true);
    assert_eq!(receipt.facts["debt"]["amount"], 0);
    let keys = receipt.facts["keys"].as_object().unwrap();
    assert!(!keys.is_empty());
    for key in case.lines.iter().flat_map(|l| l.keys.iter()) {
        let seen = &keys[key.as_str()];
        assert_eq!(seen["ongoing_order"], serde_json::Value::Null, "{key}");
        assert_eq!(seen["unpaid_fee"], serde_json::Value::Null, "{key}");
    }
    db.finish().await;
}

tillval_tests::store_suite!(a_case_keeps_the_rule_set_and_the_facts_its_order_was_allowed_on,);
