//! The seed walkthrough through the services on a SQLite file: cart (S8–S10, S12), checkout
//! (S13, S14), cases (S15, S16), and what a case does to the rules afterwards (S4, S5).

use tillval_engine::availability::OptionStatus;
use tillval_engine::model::Currency;
use tillval_services::case::CaseStatus;
use tillval_services::order::{IdempotencyKey, SubmitRequest};
use tillval_services::service::{RefusalCode, ServiceError};
use tillval_tests::db::*;

fn submit(version: i64, key: &str, accept: bool) -> SubmitRequest {
    SubmitRequest {
        accept_terms: accept,
        terms_version: version,
        idempotency_key: IdempotencyKey::parse(key).unwrap(),
    }
}

fn refusal(result: Result<impl std::fmt::Debug, ServiceError>) -> (RefusalCode, Vec<String>) {
    match result {
        Err(ServiceError::Refused(r)) => (
            r.code,
            r.reasons.iter().map(|x| x.code.to_string()).collect(),
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn the_free_tenant_orders_a_dishwasher_and_spotlights(backend: Backend) {
    let Some(db) = demo_db_on(
        backend,
        "the_free_tenant_orders_a_dishwasher_and_spotlights",
    )
    .await
    else {
        return;
    };
    let s = &db.services;
    let (anna, lgh) = (tenant("anna-svensson"), object("lgh-1002"));

    // S8: the cart is empty to begin with.
    let cart = s.cart(&anna, &lgh).await.unwrap();
    assert_eq!((cart.article_count, cart.lines.len()), (0, 0));

    // S9: a piece unit takes a quantity; a single unit only 1.
    let cart = s
        .cart_add(&anna, &lgh, &opt("bel-spotlight-hall"), 3)
        .await
        .unwrap();
    assert_eq!(cart.article_count, 3);
    let error = s
        .cart_add(&anna, &lgh, &opt("dm-bosch-serie4"), 2)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            ServiceError::InvalidInput {
                field: tillval_services::Input::Quantity,
                ..
            }
        ),
        "{error:?}"
    );
    let cart = s
        .cart_add(&anna, &lgh, &opt("dm-bosch-serie4"), 1)
        .await
        .unwrap();
    assert_eq!(cart.article_count, 4);
    assert_eq!(cart.monthly_total.minor(), 3 * 1500 + 9900);

    // S10: the other dishwashers are locked; adding one is refused with the reason.
    let (_, view) = s.catalogue_view(&anna, &lgh).await.unwrap();
    let status = |id: &str| view.option(&opt(id)).unwrap().availability.status;
    assert_eq!(status("dm-miele-g5000"), OptionStatus::LockedByCart);
    assert_eq!(status("dm-bosch-serie4"), OptionStatus::InCart);
    let (code, reasons) = refusal(s.cart_add(&anna, &lgh, &opt("dm-miele-g5000"), 1).await);
    assert_eq!(
        (code, reasons),
        (
            RefusalCode::NotOrderable,
            vec!["LOCKED_BY_CART".to_string()]
        )
    );

    // S9 again: change the quantity in the cart, within the unit's max (8).
    let cart = s
        .cart_update(&anna, &lgh, &opt("bel-spotlight-hall"), 5)
        .await
        .unwrap();
    assert_eq!(cart.article_count, 6);
    assert!(
        s.cart_update(&anna, &lgh, &opt("bel-spotlight-hall"), 9)
            .await
            .is_err()
    );

    // S12: details and removing a line.
    let cart = s
        .checkout_details_update(
            &anna,
            &lgh,
            Some("070-123 45 67"),
            chrono::NaiveDate::from_ymd_opt(2026, 12, 10),
            "Ring innan",
        )
        .await
        .unwrap();
    assert_eq!(cart.details.message, "Ring innan");
    let cart = s
        .cart_remove(&anna, &lgh, &opt("bel-spotlight-hall"))
        .await
        .unwrap();
    assert_eq!(cart.article_count, 1);
    assert!(cart.problems.is_empty());

    // S13: no sending without accepting the current terms.
    let terms = s.terms().await.unwrap();
    assert_eq!(
        refusal(
            s.checkout_submit(&anna, &lgh, &submit(terms.version, "anna-order-1", false))
                .await
        )
        .0,
        RefusalCode::TermsNotAccepted
    );
    assert_eq!(
        refusal(
            s.checkout_submit(
                &anna,
                &lgh,
                &submit(terms.version + 1, "anna-order-1", true)
            )
            .await
        )
        .0,
        RefusalCode::TermsOutdated
    );

    // S14: sent, a case with a number, prices as they were, the cart emptied.
    let sent = s
        .checkout_submit(&anna, &lgh, &submit(terms.version, "anna-order-1", true))
        .await
        .unwrap();
    assert!(!sent.replayed);
    let case = sent.case;
    assert!(
        case.number.as_str().starts_with("TV-2026-"),
        "{}",
        case.number
    );
    assert_eq!(case.status, CaseStatus::Submitted);
    assert_eq!(case.lines.len(), 1);
    assert_eq!(case.lines[0].monthly_price.minor(), 9900);
    assert_eq!(case.terms_version, terms.version);
    assert_eq!(case.details.message, "Ring innan");
    assert_eq!(s.cart(&anna, &lgh).await.unwrap().article_count, 0);

    // The same idempotency key again: the same case, nothing new.
    let again = s
        .checkout_submit(&anna, &lgh, &submit(terms.version, "anna-order-1", true))
        .await
        .unwrap();
    assert!(again.replayed);
    assert_eq!(again.case, case);

    // S4: the dishwasher key is now held by the ongoing order.
    let (_, view) = s.catalogue_view(&anna, &lgh).await.unwrap();
    let reasons = &view
        .option(&opt("dm-miele-g5000"))
        .unwrap()
        .availability
        .reasons;
    assert_eq!(reasons[0].code.as_str(), "ONGOING_ORDER");

    // S15, S16: the case is listed and has its history.
    let page = s.cases(&anna, None, None, 10).await.unwrap();
    assert_eq!(page.cases.len(), 1);
    let detail = s.case(&anna, &case.number).await.unwrap();
    assert_eq!(detail.history.len(), 1);
    assert_eq!(
        detail
            .status
            .next_statuses(tillval_services::case::Actor::Tenant),
        [CaseStatus::Cancelled]
    );

    // Cancelled by the tenant: the key is free again.
    let cancelled = s.case_cancel(&anna, &case.number).await.unwrap();
    assert_eq!(cancelled.status, CaseStatus::Cancelled);
    let (_, view) = s.catalogue_view(&anna, &lgh).await.unwrap();
    assert_eq!(
        view.option(&opt("dm-miele-g5000"))
            .unwrap()
            .availability
            .status,
        OptionStatus::Available
    );
    let error = s.case_cancel(&anna, &case.number).await.unwrap_err();
    assert!(matches!(
        error,
        ServiceError::IllegalTransition {
            from: CaseStatus::Cancelled,
            to: CaseStatus::Cancelled
        }
    ));
    db.finish().await;
}

async fn an_installed_add_on_blocks_its_key_until_its_fee_is_paid(backend: Backend) {
    let Some(db) = demo_db_on(
        backend,
        "an_installed_add_on_blocks_its_key_until_its_fee_is_paid",
    )
    .await
    else {
        return;
    };
    let s = &db.services;
    let (anna, lgh) = (tenant("anna-svensson"), object("lgh-1002"));
    s.cart_add(&anna, &lgh, &opt("golv-klinker-gra-kitchen"), 1)
        .await
        .unwrap();
    let terms = s.terms().await.unwrap();
    let case = s
        .checkout_submit(&anna, &lgh, &submit(terms.version, "anna-floor-1", true))
        .await
        .unwrap()
        .case;
    for to in [
        CaseStatus::UnderReview,
        CaseStatus::Approved,
        CaseStatus::Scheduled,
        CaseStatus::Installed,
    ] {
        assert_eq!(
            s.case_transition(&case.number, to).await.unwrap().status,
            to
        );
    }
    let illegal = s
        .case_transition(&case.number, CaseStatus::Approved)
        .await
        .unwrap_err();
    assert!(matches!(
        illegal,
        ServiceError::IllegalTransition {
            from: CaseStatus::Installed,
            ..
        }
    ));
    // The order lock is released, but the 3,000 kr fee is unpaid: S5 blocks the key.
    let fees = s.ledger_fees(&anna).await.unwrap();
    assert_eq!((fees.len(), fees[0].amount.minor()), (1, 300_000));
    let (_, view) = s.catalogue_view(&anna, &lgh).await.unwrap();
    let option = view.option(&opt("golv-vinyl-ek-kitchen")).unwrap();
    assert_eq!(option.availability.reasons[0].code.as_str(), "UNPAID_FEE");
    // Paying more than remains is refused; paying it all frees the key.
    assert!(
        s.ledger_record_payment(fees[0].id, 300_001, Currency::SEK)
            .await
            .is_err()
    );
    s.ledger_record_payment(fees[0].id, 100_000, Currency::SEK)
        .await
        .unwrap();
    let fee = s
        .ledger_record_payment(fees[0].id, 200_000, Currency::SEK)
        .await
        .unwrap();
    assert!(fee.remaining().is_zero());
    let (_, view) = s.catalogue_view(&anna, &lgh).await.unwrap();
    assert_eq!(
        view.option(&opt("golv-vinyl-ek-kitchen"))
            .unwrap()
            .availability
            .status,
        OptionStatus::Available
    );
    db.finish().await;
}

async fn the_demo_tenants_show_their_cases_from_the_database(backend: Backend) {
    let Some(db) = demo_db_on(
        backend,
        "the_demo_tenants_show_their_cases_from_the_database",
    )
    .await
    else {
        return;
    };
    let s = &db.services;
    let (_, view) = s
        .catalogue_view(&tenant("bertil-lind"), &object("lgh-1004"))
        .await
        .unwrap();
    assert_eq!(view.gate.reasons[0].code.as_str(), "DEBT");
    let (_, view) = s
        .catalogue_view(&tenant("cecilia-holm"), &object("lgh-2002"))
        .await
        .unwrap();
    assert_eq!(
        view.option(&opt("dm-bosch-serie4"))
            .unwrap()
            .availability
            .reasons[0]
            .code
            .as_str(),
        "ONGOING_ORDER"
    );
    let (_, view) = s
        .catalogue_view(&tenant("david-ek"), &object("lgh-1006"))
        .await
        .unwrap();
    let reason = &view
        .option(&opt("golv-ek-1stav-hall"))
        .unwrap()
        .availability
        .reasons[0];
    assert_eq!(reason.code.as_str(), "UNPAID_FEE");
    let cart = s
        .cart(&tenant("eva-nilsson"), &object("lgh-2004"))
        .await
        .unwrap();
    assert_eq!(cart.article_count, 4);
    // Loading again changes nothing.
    let before = s.cases(&tenant("david-ek"), None, None, 10).await.unwrap();
    tillval_services::demo::load_demo(
        s,
        &tillval_services::demo::demo(chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        s.cases(&tenant("david-ek"), None, None, 10).await.unwrap(),
        before
    );
    assert_eq!(
        s.cart(&tenant("eva-nilsson"), &object("lgh-2004"))
            .await
            .unwrap()
            .article_count,
        4
    );
    assert_eq!(s.ledger_fees(&tenant("david-ek")).await.unwrap().len(), 1);
    db.finish().await;
}

async fn a_debt_that_appears_after_adding_is_a_cart_problem_and_stops_sending(backend: Backend) {
    let Some(db) = demo_db_on(
        backend,
        "a_debt_that_appears_after_adding_is_a_cart_problem_and_stops_sending",
    )
    .await
    else {
        return;
    };
    let s = &db.services;
    let (anna, lgh) = (tenant("anna-svensson"), object("lgh-1002"));
    s.cart_add(&anna, &lgh, &opt("tm-miele-w1"), 1)
        .await
        .unwrap();
    s.ledger_set_debt(&anna, 50_000, Currency::SEK)
        .await
        .unwrap();
    let cart = s.cart(&anna, &lgh).await.unwrap();
    assert_eq!(cart.problems.len(), 1);
    assert_eq!(cart.problems[0].reasons[0].code.as_str(), "DEBT");
    let terms = s.terms().await.unwrap();
    let (code, reasons) = refusal(
        s.checkout_submit(&anna, &lgh, &submit(terms.version, "anna-debt-1", true))
            .await,
    );
    assert_eq!(
        (code, reasons),
        (RefusalCode::NotOrderable, vec!["DEBT".to_string()])
    );
    assert_eq!(
        s.cart(&anna, &lgh).await.unwrap().article_count,
        1,
        "the cart is kept"
    );
    s.ledger_set_debt(&anna, 0, Currency::SEK).await.unwrap();
    assert!(
        s.checkout_submit(&anna, &lgh, &submit(terms.version, "anna-debt-1", true))
            .await
            .is_ok()
    );
    db.finish().await;
}

async fn cases_page_newest_first_with_a_status_filter(backend: Backend) {
    let Some(db) = demo_db_on(backend, "cases_page_newest_first_with_a_status_filter").await else {
        return;
    };
    let s = &db.services;
    let (anna, lgh) = (tenant("anna-svensson"), object("lgh-1002"));
    let terms = s.terms().await.unwrap();
    let mut numbers = Vec::new();
    for (i, option) in [
        "dm-bosch-serie4",
        "tm-bosch-serie6",
        "tt-bosch-serie6",
        "kakel-vitt-blank-bathroom",
        "forv-skohylla-hall",
    ]
    .iter()
    .enumerate()
    {
        s.cart_add(&anna, &lgh, &opt(option), 1).await.unwrap();
        let key = format!("anna-page-{i:02}");
        numbers.push(
            s.checkout_submit(&anna, &lgh, &submit(terms.version, &key, true))
                .await
                .unwrap()
                .case
                .number,
        );
    }
    s.case_cancel(&anna, &numbers[1]).await.unwrap();
    let first = s.cases(&anna, None, None, 2).await.unwrap();
    assert!(first.has_next_page);
    let got: Vec<_> = first.cases.iter().map(|c| c.number.clone()).collect();
    assert_eq!(got, [numbers[4].clone(), numbers[3].clone()]);
    let second = s
        .cases(&anna, None, Some(first.cases[1].id), 2)
        .await
        .unwrap();
    assert_eq!(second.cases[0].number, numbers[2]);
    let last = s
        .cases(&anna, None, Some(second.cases[1].id), 2)
        .await
        .unwrap();
    assert_eq!((last.cases.len(), last.has_next_page), (1, false));
    let cancelled = s
        .cases(&anna, Some(CaseStatus::Cancelled), None, 10)
        .await
        .unwrap();
    assert_eq!(cancelled.cases.len(), 1);
    assert_eq!(cancelled.cases[0].number, numbers[1]);
    db.finish().await;
}

tillval_tests::store_suite!(
    the_free_tenant_orders_a_dishwasher_and_spotlights,
    an_installed_add_on_blocks_its_key_until_its_fee_is_paid,
    the_demo_tenants_show_their_cases_from_the_database,
    a_debt_that_appears_after_adding_is_a_cart_problem_and_stops_sending,
    cases_page_newest_first_with_a_status_filter,
);
