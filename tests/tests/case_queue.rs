//! Staff's case queue reads every tenant's cases from the store, newest first, by status,
//! a page at a time (both stores).

use tillval_services::case::CaseStatus;
use tillval_tests::db::*;

async fn the_queue_holds_every_tenants_cases_by_status(backend: Backend) {
    let Some(db) = demo_db_on(backend, "the_queue_holds_every_tenants_cases_by_status").await
    else {
        return;
    };
    let s = &db.services;
    let all = s.case_queue(None, None, 100).await.unwrap();
    let tenants: std::collections::BTreeSet<_> =
        all.cases.iter().map(|c| c.tenant.clone()).collect();
    assert!(tenants.len() >= 2, "{tenants:?}");
    assert!(
        all.cases.windows(2).all(|w| w[0].id > w[1].id),
        "newest first"
    );
    let status = all.cases[0].status;
    let filtered = s.case_queue(Some(status), None, 100).await.unwrap();
    assert!(!filtered.cases.is_empty());
    assert!(filtered.cases.iter().all(|c| c.status == status));
    let first = s.case_queue(None, None, 1).await.unwrap();
    assert_eq!(first.cases.len(), 1);
    assert_eq!(first.has_next_page, all.cases.len() > 1);
    let next = s
        .case_queue(None, Some(first.cases[0].id), 100)
        .await
        .unwrap();
    assert_eq!(next.cases.len(), all.cases.len() - 1);
    assert!(
        s.case_queue(Some(CaseStatus::Cancelled), None, 0)
            .await
            .is_err()
    );
    db.finish().await;
}

tillval_tests::store_suite!(the_queue_holds_every_tenants_cases_by_status,);
