//! What the staff workbench reads besides the rules, on both stores: the household
//! directory in pages, a tenant's ledger account, the properties and their catalogues, and
//! the decision log's filters (including a reason code with LIKE's wildcards in it).

use tillval_engine::model::{Currency, PropertyId};
use tillval_services::ServiceError;
use tillval_services::store::DecisionFilter;
use tillval_tests::db::*;

async fn the_household_directory_pages_through_every_lease_once(backend: Backend) {
    let Some(db) = demo_db_on(backend, "the_household_directory_pages").await else {
        return;
    };
    let s = &db.services;
    let (everyone, more) = s.household_directory(None, 100).await.unwrap();
    assert!(!more);
    assert!(everyone.len() >= 5, "{everyone:?}");
    let bertil = everyone
        .iter()
        .find(|h| h.tenant.as_str() == "bertil-lind")
        .unwrap();
    assert_eq!(bertil.tenant_name, "Bertil Lind");
    assert_eq!(bertil.rental_object.as_str(), "lgh-1004");
    assert!(bertil.address.starts_with("Ekbacksvägen 5"), "{bertil:?}");

    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let (page, more) = s.household_directory(after.as_ref(), 2).await.unwrap();
        assert!(page.len() <= 2);
        after = page
            .last()
            .map(|h| (h.tenant.clone(), h.rental_object.clone()));
        paged.extend(page);
        if !more {
            break;
        }
    }
    assert_eq!(paged, everyone);

    for first in [0, -1, 101, i64::MAX] {
        let refused = s.household_directory(None, first).await;
        assert!(
            matches!(refused, Err(ServiceError::InvalidInput { .. })),
            "{first}: {refused:?}"
        );
    }
    db.finish().await;
}

async fn a_ledger_account_shows_the_debt_and_the_fees(backend: Backend) {
    let Some(db) = demo_db_on(backend, "a_ledger_account").await else {
        return;
    };
    let s = &db.services;
    let bertil = s.ledger_account(&tenant("bertil-lind")).await.unwrap();
    assert_eq!(bertil.tenant.name, "Bertil Lind");
    assert_eq!(bertil.debt.map(|d| d.minor()), Some(185_000));
    s.ledger_set_debt(&tenant("bertil-lind"), 0, Currency::SEK)
        .await
        .unwrap();
    let cleared = s.ledger_account(&tenant("bertil-lind")).await.unwrap();
    assert_eq!(cleared.debt.map(|d| d.minor()), Some(0));

    let david = s.ledger_account(&tenant("david-ek")).await.unwrap();
    assert!(
        david.fees.iter().any(|f| !f.remaining().is_zero()),
        "{david:?}"
    );
    let unknown = s.ledger_account(&tenant("nobody-here")).await;
    assert!(
        matches!(unknown, Err(ServiceError::NotFound(_))),
        "{unknown:?}"
    );
    db.finish().await;
}

async fn properties_and_their_catalogues_as_stored(backend: Backend) {
    let Some(db) = demo_db_on(backend, "properties_and_catalogues").await else {
        return;
    };
    let s = &db.services;
    let properties = s.properties().await.unwrap();
    let ids: Vec<&str> = properties.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["ekbacken", "lonnen"]);
    let catalogue = s
        .catalogue_for_staff(&PropertyId::parse("ekbacken").unwrap())
        .await
        .unwrap();
    assert!(catalogue.options().len() > 5);
    let missing = s
        .catalogue_for_staff(&PropertyId::parse("no-such-place").unwrap())
        .await;
    assert!(
        matches!(missing, Err(ServiceError::NotFound(_))),
        "{missing:?}"
    );
    db.finish().await;
}

async fn the_decision_log_filters_by_action_apartment_and_code(backend: Backend) {
    let Some(db) = demo_db_on(backend, "the_decision_log_filters").await else {
        return;
    };
    let s = &db.services;
    let (bertil, lgh) = (tenant("bertil-lind"), object("lgh-1004"));
    for option in ["dm-bosch-serie4", "tm-bosch-serie6"] {
        let refused = s.cart_add(&bertil, &lgh, &opt(option), 1).await;
        assert!(
            matches!(refused, Err(ServiceError::Refused(_))),
            "{refused:?}"
        );
    }
    let all = s
        .decisions(&bertil, &DecisionFilter::default(), None, 10)
        .await
        .unwrap()
        .0;
    assert_eq!(all.len(), 2);
    let code = all[0].reason_codes[0].clone();

    let by = |action: Option<&str>, object: Option<&str>, code: Option<&str>| DecisionFilter {
        action: action.map(str::to_owned),
        rental_object: object.map(tillval_tests::db::object),
        reason_code: code.map(str::to_owned),
    };
    let count = |filter: DecisionFilter| {
        let s = s.clone();
        let bertil = bertil.clone();
        async move {
            s.decisions(&bertil, &filter, None, 10)
                .await
                .unwrap()
                .0
                .len()
        }
    };
    assert_eq!(count(by(Some("cart_add"), None, None)).await, 2);
    assert_eq!(count(by(Some("checkout_submit"), None, None)).await, 0);
    assert_eq!(count(by(None, Some("lgh-1004"), None)).await, 2);
    assert_eq!(count(by(None, Some("lgh-1002"), None)).await, 0);
    assert_eq!(count(by(None, None, Some(&code))).await, 2);
    assert_eq!(count(by(None, None, Some("NO_SUCH_CODE"))).await, 0);
    // `_` is LIKE's one-character wildcard: escaped, it matches only itself.
    let wildcard = code.replace(|c: char| c.is_ascii_alphabetic(), "_");
    if wildcard != code {
        assert_eq!(count(by(None, None, Some(&wildcard))).await, 0);
    }
    // A part of a code is not the code.
    if let Some(part) = code
        .get(..code.len().saturating_sub(1))
        .filter(|p| !p.is_empty())
    {
        assert_eq!(count(by(None, None, Some(part))).await, 0);
    }

    for (filter, what) in [
        (
            by(Some("delete"), None, None),
            "an action the log never writes",
        ),
        (by(None, None, Some("%")), "a wildcard"),
        (by(None, None, Some("")), "an empty code"),
        (by(None, None, Some("a\"b")), "a quote"),
        (by(None, None, Some(&"X".repeat(65))), "a code too long"),
    ] {
        let refused = s.decisions(&bertil, &filter, None, 10).await;
        assert!(
            matches!(refused, Err(ServiceError::InvalidInput { .. })),
            "{what}: {refused:?}"
        );
    }
    db.finish().await;
}

tillval_tests::store_suite!(
    the_household_directory_pages_through_every_lease_once,
    a_ledger_account_shows_the_debt_and_the_fees,
    properties_and_their_catalogues_as_stored,
    the_decision_log_filters_by_action_apartment_and_code,
);
