//! Bad input to every service: unknown ids, quantities out of range, another tenant's cart or
//! case, wrong terms version, empty cart. Each gives a typed error and changes nothing.

use tillval_engine::model::Currency;
use tillval_services::Input;
use tillval_services::case::{CaseNumber, CaseStatus};
use tillval_services::order::{IdempotencyKey, SubmitRequest};
use tillval_services::service::{RefusalCode, ServiceError, Services};
use tillval_store::SqlStore;
use tillval_tests::db::*;

/// Everything the tests could change, for before/after comparisons.
async fn state(s: &Services<SqlStore>) -> String {
    let mut out = String::new();
    for (t, o) in [
        ("anna-svensson", "lgh-1002"),
        ("cecilia-holm", "lgh-2002"),
        ("eva-nilsson", "lgh-2004"),
        ("david-ek", "lgh-1006"),
    ] {
        let cart = s.cart(&tenant(t), &object(o)).await.unwrap();
        let cases = s.cases(&tenant(t), None, None, 100).await.unwrap();
        let fees = s.ledger_fees(&tenant(t)).await.unwrap();
        out.push_str(&format!("{cart:?}\n{cases:?}\n{fees:?}\n"));
    }
    out
}

fn drop<T>(result: Result<T, ServiceError>) -> Result<(), ServiceError> {
    result.map(|_| ())
}

fn request(version: i64) -> SubmitRequest {
    SubmitRequest {
        accept_terms: true,
        terms_version: version,
        idempotency_key: IdempotencyKey::parse("bad-input-1").unwrap(),
    }
}

async fn every_bad_input_is_a_typed_error_and_changes_nothing(backend: Backend) {
    let Some(db) = demo_db_on(
        backend,
        "every_bad_input_is_a_typed_error_and_changes_nothing",
    )
    .await
    else {
        return;
    };
    let s = &db.services;
    let (anna, lgh) = (tenant("anna-svensson"), object("lgh-1002"));
    let (eva, eva_lgh) = (tenant("eva-nilsson"), object("lgh-2004"));
    let cecilia = tenant("cecilia-holm");
    let cecilias_case = s.cases(&cecilia, None, None, 1).await.unwrap().cases[0]
        .number
        .clone();
    let version = s.terms().await.unwrap().version;
    let before = state(s).await;

    let not_found = |r: Result<(), ServiceError>, what: &str| match r {
        Err(ServiceError::NotFound(w)) => assert_eq!(w.to_string(), what),
        other => panic!("expected {what} not found, got {other:?}"),
    };
    let invalid = |r: Result<(), ServiceError>, field: Input| match r {
        Err(ServiceError::InvalidInput { field: f, .. }) => assert_eq!(f, field),
        other => panic!("expected invalid {field}, got {other:?}"),
    };

    // Unknown ids.
    not_found(
        drop(s.cart(&anna, &object("lgh-9999")).await),
        "rental object",
    );
    not_found(
        drop(s.cart_add(&anna, &lgh, &opt("no-such-option"), 1).await),
        "option",
    );
    not_found(
        drop(s.cart_update(&anna, &lgh, &opt("dm-bosch-serie4"), 1).await),
        "cart line",
    );
    not_found(
        drop(s.cart_remove(&anna, &lgh, &opt("dm-bosch-serie4")).await),
        "cart line",
    );
    not_found(
        drop(s.case(&anna, &CaseNumber::new(2026, 999_999)).await),
        "case",
    );
    not_found(
        drop(
            s.case_transition(&CaseNumber::new(2026, 999_999), CaseStatus::UnderReview)
                .await,
        ),
        "case",
    );
    not_found(
        drop(
            s.ledger_set_debt(&tenant("nobody"), 100, Currency::SEK)
                .await,
        ),
        "tenant",
    );
    not_found(
        drop(s.ledger_record_payment(999_999, 100, Currency::SEK).await),
        "fee",
    );
    // An option of the other property's catalogue, or for a space the apartment lacks, is
    // not offered here.
    not_found(
        drop(
            s.cart_add(&anna, &object("lgh-1003"), &opt("golv-ek-3stav-bedroom"), 1)
                .await,
        ),
        "rental object",
    );

    // Quantities: 0, negative, over the unit's max, more than one of a single unit.
    for q in [0, -1, -5_000_000_000, 100] {
        invalid(
            drop(s.cart_add(&anna, &lgh, &opt("bel-spotlight-hall"), q).await),
            Input::Quantity,
        );
    }
    invalid(
        drop(s.cart_add(&anna, &lgh, &opt("bel-spotlight-hall"), 9).await),
        Input::Quantity,
    );
    invalid(
        drop(s.cart_add(&anna, &lgh, &opt("dm-bosch-serie4"), 2).await),
        Input::Quantity,
    );
    invalid(
        drop(
            s.cart_update(&eva, &eva_lgh, &opt("bel-spotlight-kitchen"), 0)
                .await,
        ),
        Input::Quantity,
    );
    invalid(
        drop(
            s.cart_update(&eva, &eva_lgh, &opt("bel-spotlight-kitchen"), 9)
                .await,
        ),
        Input::Quantity,
    );

    // Another tenant's apartment, cart and case are "not found", never shown or changed.
    not_found(drop(s.cart(&anna, &eva_lgh).await), "rental object");
    not_found(
        drop(
            s.cart_add(&anna, &eva_lgh, &opt("dm-bosch-serie4"), 1)
                .await,
        ),
        "rental object",
    );
    not_found(
        drop(
            s.cart_remove(&anna, &eva_lgh, &opt("bel-spotlight-kitchen"))
                .await,
        ),
        "rental object",
    );
    not_found(drop(s.cart_clear(&anna, &eva_lgh).await), "rental object");
    not_found(
        drop(
            s.checkout_details_update(&anna, &eva_lgh, None, None, "x")
                .await,
        ),
        "rental object",
    );
    not_found(
        drop(s.checkout_submit(&anna, &eva_lgh, &request(version)).await),
        "rental object",
    );
    not_found(drop(s.case(&anna, &cecilias_case).await), "case");
    not_found(drop(s.case_cancel(&anna, &cecilias_case).await), "case");

    // Checkout: wrong terms version, empty cart, bad details, bad page size.
    match s
        .checkout_submit(&eva, &eva_lgh, &request(version + 7))
        .await
    {
        Err(ServiceError::Refused(r)) => {
            assert_eq!(r.code, RefusalCode::TermsOutdated);
            assert!(r.reasons[0].params.contains_key("current_version"));
        }
        other => panic!("{other:?}"),
    }
    match s.checkout_submit(&anna, &lgh, &request(version)).await {
        Err(ServiceError::Refused(r)) => assert_eq!(r.code, RefusalCode::EmptyCart),
        other => panic!("{other:?}"),
    }
    invalid(
        drop(
            s.checkout_details_update(&anna, &lgh, Some("ring mig"), None, "")
                .await,
        ),
        Input::ContactPhone,
    );
    let past = chrono::NaiveDate::from_ymd_opt(2020, 1, 1);
    invalid(
        drop(s.checkout_details_update(&anna, &lgh, None, past, "").await),
        Input::Details,
    );
    invalid(
        drop(
            s.checkout_details_update(&anna, &lgh, None, None, &"x".repeat(1001))
                .await,
        ),
        Input::Details,
    );
    for first in [0, -1, 101] {
        invalid(drop(s.cases(&anna, None, None, first).await), Input::First);
    }
    // Ledger: negative amounts, paying nothing, paying too much.
    invalid(
        drop(s.ledger_set_debt(&anna, -1, Currency::SEK).await),
        Input::Amount,
    );
    let fee = s.ledger_fees(&tenant("david-ek")).await.unwrap()[0].clone();
    invalid(
        drop(s.ledger_record_payment(fee.id, 0, Currency::SEK).await),
        Input::Amount,
    );
    invalid(
        drop(
            s.ledger_record_payment(fee.id, fee.remaining().minor() + 1, Currency::SEK)
                .await,
        ),
        Input::Amount,
    );
    // A payment in another currency names the currencies, not an amount.
    let wrong_currency = s.ledger_record_payment(fee.id, 100, Currency::EUR).await;
    assert!(
        matches!(&wrong_currency, Err(ServiceError::InvalidInput { field: Input::Currency, message })
            if message.contains("SEK") && message.contains("EUR")),
        "{wrong_currency:?}"
    );
    // Lifecycle: a tenant cannot move a case staff must, staff cannot skip a step.
    assert!(matches!(
        s.case_transition(&cecilias_case, CaseStatus::Installed)
            .await,
        Err(ServiceError::IllegalTransition {
            from: CaseStatus::UnderReview,
            to: CaseStatus::Installed
        })
    ));

    assert_eq!(state(s).await, before, "nothing changed");
    db.finish().await;
}

tillval_tests::store_suite!(every_bad_input_is_a_typed_error_and_changes_nothing,);
