//! Nothing is lost on a restart, and the mutual-exclusion rules hold under concurrency: the
//! store's constraints, not the rules, settle a race.

use std::collections::BTreeSet;
use std::sync::Arc;

use tillval_engine::model::TenantId;
use tillval_services::case::CaseStatus;
use tillval_services::order::{IdempotencyKey, SubmitRequest};
use tillval_services::service::{RefusalCode, ServiceError};
use tillval_services::store::{Store, TenantRecord};
use tillval_tests::db::*;

fn submit(version: i64, key: &str) -> SubmitRequest {
    SubmitRequest {
        accept_terms: true,
        terms_version: version,
        idempotency_key: IdempotencyKey::parse(key).unwrap(),
    }
}

async fn carts_and_cases_survive_closing_and_reopening(backend: Backend) {
    let Some(db) = demo_db_on(backend, "carts_and_cases_survive_closing_and_reopening").await
    else {
        return;
    };
    let (anna, lgh) = (tenant("anna-svensson"), object("lgh-1002"));
    let s = &db.services;
    s.cart_add(&anna, &lgh, &opt("tm-bosch-serie6"), 1)
        .await
        .unwrap();
    let version = s.terms().await.unwrap().version;
    let case = s
        .checkout_submit(&anna, &lgh, &submit(version, "anna-restart-1"))
        .await
        .unwrap()
        .case;
    s.case_transition(&case.number, CaseStatus::UnderReview)
        .await
        .unwrap();
    s.cart_add(&anna, &lgh, &opt("bel-spotlight-kitchen"), 6)
        .await
        .unwrap();
    s.checkout_details_update(&anna, &lgh, Some("+46 70 000 00 00"), None, "Efter 16")
        .await
        .unwrap();
    let cart_before = s.cart(&anna, &lgh).await.unwrap();
    let case_before = s.case(&anna, &case.number).await.unwrap();
    s.store().close().await;

    let reopened = db.reopen().await;
    assert_eq!(reopened.cart(&anna, &lgh).await.unwrap(), cart_before);
    assert_eq!(
        reopened.case(&anna, &case.number).await.unwrap(),
        case_before
    );
    assert_eq!(case_before.history.len(), 2);
    // The lock is still held after the restart.
    let (_, view) = reopened.catalogue_view(&anna, &lgh).await.unwrap();
    assert_eq!(
        view.option(&opt("tm-miele-w1"))
            .unwrap()
            .availability
            .reasons[0]
            .code
            .as_str(),
        "ONGOING_ORDER"
    );
    db.finish().await;
}

/// 50 tenants sharing one apartment each have the same-key dishwasher in their cart and send
/// at once: exactly one case, 49 typed refusals, nothing half-written.
async fn fifty_conflicting_submits_make_exactly_one_case(backend: Backend) {
    let Some(db) = demo_db_on(backend, "fifty_conflicting_submits_make_exactly_one_case").await
    else {
        return;
    };
    let s = db.services.clone();
    let lgh = object("lgh-1001");
    let tenants: Vec<TenantId> = (0..50)
        .map(|i| tenant(&format!("co-tenant-{i:02}")))
        .collect();
    for (i, t) in tenants.iter().enumerate() {
        s.store()
            .put_tenant(&TenantRecord {
                id: t.clone(),
                name: format!("Sambo {i}"),
                ordering_enabled: true,
            })
            .await
            .unwrap();
        s.store().put_lease(t, &lgh).await.unwrap();
        // Different dishwashers, one key: diskmaskin/kitchen.
        let dishwasher = [
            "dm-bosch-serie4",
            "dm-electrolux-700",
            "dm-siemens-iq300",
            "dm-miele-g5000",
        ][i % 4];
        s.cart_add(t, &lgh, &opt(dishwasher), 1).await.unwrap();
    }
    let version = s.terms().await.unwrap().version;
    let barrier = Arc::new(tokio::sync::Barrier::new(tenants.len()));
    let tasks: Vec<_> = tenants
        .iter()
        .map(|t| {
            let (s, t, lgh, barrier) = (s.clone(), t.clone(), lgh.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                s.checkout_submit(&t, &lgh, &submit(version, &format!("race-{t}")))
                    .await
            })
        })
        .collect();
    let mut created = Vec::new();
    let mut refused = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(sent) => created.push(sent.case),
            Err(ServiceError::Refused(r)) => {
                refused += 1;
                let codes: BTreeSet<&str> = r.reasons.iter().map(|x| x.code.as_str()).collect();
                // Lost at the store's constraint, or saw the winner's order on fresh facts.
                match r.code {
                    RefusalCode::Locked => assert!(codes.contains("LOCKED")),
                    RefusalCode::NotOrderable => {
                        assert!(codes.contains("ONGOING_ORDER"), "{codes:?}")
                    }
                    other => panic!("unexpected refusal {other:?}"),
                }
            }
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }
    assert_eq!((created.len(), refused), (1, 49));
    let winner = &created[0];
    // Nothing half-written: one case with one line, the losers' carts intact.
    let mut cases = 0;
    for t in &tenants {
        let page = s.cases(t, None, None, 10).await.unwrap();
        cases += page.cases.len();
        if t != &winner.tenant {
            assert_eq!(
                s.cart(t, &lgh).await.unwrap().article_count,
                1,
                "{t}'s cart is kept"
            );
        }
    }
    assert_eq!(cases, 1);
    assert_eq!(winner.lines.len(), 1);
    assert_eq!(s.cart(&winner.tenant, &lgh).await.unwrap().article_count, 0);
    db.finish().await;
}

/// The store alone settles the race even when both requests decided before either wrote.
async fn the_order_lock_constraint_refuses_the_second_of_two_plans(backend: Backend) {
    let Some(db) = demo_db_on(
        backend,
        "the_order_lock_constraint_refuses_the_second_of_two_plans",
    )
    .await
    else {
        return;
    };
    let s = &db.services;
    let lgh = object("lgh-1001");
    let (first, second) = (tenant("plan-first"), tenant("plan-second"));
    for t in [&first, &second] {
        s.store()
            .put_tenant(&TenantRecord {
                id: t.clone(),
                name: t.to_string(),
                ordering_enabled: true,
            })
            .await
            .unwrap();
        s.store().put_lease(t, &lgh).await.unwrap();
        s.cart_add(t, &lgh, &opt("dm-bosch-serie4"), 1)
            .await
            .unwrap();
    }
    // Both decided on facts without the other's order: now both write.
    let version = s.terms().await.unwrap().version;
    let one = s
        .checkout_submit(&first, &lgh, &submit(version, "plan-first-1"))
        .await;
    assert!(one.is_ok());
    // Bypass the service's fresh decision: the raw plan hits the UNIQUE constraint.
    let case = one.unwrap().case;
    let plan = tillval_services::store::SubmitPlan {
        tenant: second.clone(),
        rental_object: lgh.clone(),
        idempotency_key: IdempotencyKey::parse("plan-second-1").unwrap(),
        terms_version: version,
        details: Default::default(),
        lines: case.lines.clone(),
        cart_lines: s
            .cart(&second, &lgh)
            .await
            .unwrap()
            .lines
            .iter()
            .map(|l| tillval_engine::model::CartLine {
                option: l.option.id().clone(),
                quantity: l.quantity,
            })
            .collect(),
        at: chrono::Utc::now(),
        receipt: case.receipt.clone().unwrap(),
    };
    let error = s.store().submit(&plan).await.unwrap_err();
    assert!(
        matches!(error, tillval_services::store::StoreError::LockTaken { ref key } if key.as_str() == "diskmaskin/kitchen")
    );
    assert!(
        s.cases(&second, None, None, 10)
            .await
            .unwrap()
            .cases
            .is_empty(),
        "rolled back whole"
    );
    assert_eq!(s.cart(&second, &lgh).await.unwrap().article_count, 1);
    db.finish().await;
}

/// Two adds on one key at once for one cart: the cart-key constraint keeps one.
async fn concurrent_adds_on_one_key_leave_one_line(backend: Backend) {
    let Some(db) = demo_db_on(backend, "concurrent_adds_on_one_key_leave_one_line").await else {
        return;
    };
    let (anna, lgh) = (tenant("anna-svensson"), object("lgh-1002"));
    let options = [
        "dm-bosch-serie4",
        "dm-electrolux-700",
        "dm-siemens-iq300",
        "dm-miele-g5000",
    ];
    let tasks: Vec<_> = options
        .iter()
        .map(|o| {
            let (s, anna, lgh, o) = (db.services.clone(), anna.clone(), lgh.clone(), opt(o));
            tokio::spawn(async move { s.cart_add(&anna, &lgh, &o, 1).await })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => ok += 1,
            Err(ServiceError::Refused(r)) => {
                assert_eq!(r.reasons[0].code.as_str(), "LOCKED_BY_CART")
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(db.services.cart(&anna, &lgh).await.unwrap().lines.len(), 1);
    db.finish().await;
}

/// Payments on one fee through two stores at once (two nodes, or two pools on one file): the
/// fee is never paid more than its amount, and every payment either lands whole or is refused.
async fn concurrent_payments_never_overpay_a_fee(backend: Backend) {
    let Some(db) = demo_db_on(backend, "concurrent_payments_never_overpay_a_fee").await else {
        return;
    };
    let other = db.reopen().await;
    let david = tenant("david-ek");
    let fee = db.services.ledger_fees(&david).await.unwrap()[0].clone();
    let remaining = fee.remaining().minor();
    assert!(remaining >= 4, "the demo fee has something left to pay");
    let part = remaining / 4;
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let services = if i % 2 == 0 {
                db.services.clone()
            } else {
                other.clone()
            };
            tokio::spawn(async move {
                services
                    .ledger_record_payment(fee.id, part, tillval_engine::model::Currency::SEK)
                    .await
            })
        })
        .collect();
    let mut landed = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => landed += 1,
            Err(e) => assert!(
                matches!(
                    &e,
                    ServiceError::InvalidInput { field: tillval_services::Input::Amount, message } if message.contains("remains")
                ),
                "refused as an overpayment: {e:?}"
            ),
        }
    }
    assert_eq!(landed, 4, "four parts fit in what remained");
    let after = db.services.ledger_fees(&david).await.unwrap()[0].clone();
    assert_eq!(after.paid.minor(), fee.paid.minor() + 4 * part);
    assert!(after.paid.minor() <= after.amount.minor());
    other.store().close().await;
    db.finish().await;
}

tillval_tests::store_suite!(
    fifty_submits_with_one_key_all_answer_with_the_same_case,
    text_with_control_characters_is_invalid_input,
    the_demo_loads_again_after_ordinary_use,
    the_decision_log_keeps_what_its_retention_says,
    concurrent_payments_never_overpay_a_fee,
    carts_and_cases_survive_closing_and_reopening,
    fifty_conflicting_submits_make_exactly_one_case,
    the_order_lock_constraint_refuses_the_second_of_two_plans,
    concurrent_adds_on_one_key_leave_one_line,
);

/// One idempotency key sent fifty times at once is one order, and every one of the fifty
/// answers with its case (a retry while the first attempt is in flight waits for it).
async fn fifty_submits_with_one_key_all_answer_with_the_same_case(backend: Backend) {
    let Some(db) = demo_db_on(backend, "fifty_submits_with_one_key").await else {
        return;
    };
    let s = db.services.clone();
    let (anna, lgh) = (tenant("anna-svensson"), object("lgh-1002"));
    s.cart_add(&anna, &lgh, &opt("dm-bosch-serie4"), 1)
        .await
        .unwrap();
    let version = s.terms().await.unwrap().version;
    let barrier = Arc::new(tokio::sync::Barrier::new(50));
    let attempts: Vec<_> = (0..50)
        .map(|_| {
            let (s, anna, lgh, barrier) = (s.clone(), anna.clone(), lgh.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                s.checkout_submit(&anna, &lgh, &submit(version, "one-key-for-all"))
                    .await
            })
        })
        .collect();
    let mut numbers = BTreeSet::new();
    let mut replayed = 0;
    for attempt in attempts {
        let submitted = attempt.await.unwrap().unwrap();
        numbers.insert(submitted.case.number.to_string());
        replayed += usize::from(submitted.replayed);
    }
    assert_eq!(numbers.len(), 1, "{numbers:?}");
    assert_eq!(replayed, 49);
    db.finish().await;
}

/// NUL and other control characters are refused the same way on both stores (PostgreSQL
/// cannot store NUL; SQLite would).
async fn text_with_control_characters_is_invalid_input(backend: Backend) {
    let Some(db) = demo_db_on(backend, "text_with_control_characters").await else {
        return;
    };
    let s = &db.services;
    let (anna, lgh) = (tenant("anna-svensson"), object("lgh-1002"));
    for message in ["a\u{0}b", "bell\u{7}", "esc\u{1b}[2J"] {
        let error = s
            .checkout_details_update(&anna, &lgh, None, None, message)
            .await
            .unwrap_err();
        assert!(
            matches!(error, ServiceError::InvalidInput { .. }),
            "{message:?}: {error:?}"
        );
    }
    s.checkout_details_update(&anna, &lgh, None, None, "Ring\nefter 16\t")
        .await
        .unwrap();
    let mut source = tillval_engine::rules::RuleSetSource::shipped();
    source.manifest = "name = \"null\u{0}set\"\nversion = \"1\"\n".into();
    let error = s.rule_set_publish(&source, "test").await.unwrap_err();
    assert!(
        matches!(error, ServiceError::RuleSetRefused(_)),
        "{error:?}"
    );
    db.finish().await;
}

/// `serve --demo` loads the demo again over any amount of use: here the piece-unit tenant
/// sent her cart, and the debt tenant's debt was cleared by staff.
async fn the_demo_loads_again_after_ordinary_use(backend: Backend) {
    let Some(db) = demo_db_on(backend, "the_demo_loads_again").await else {
        return;
    };
    let s = &db.services;
    let (eva, lgh) = (tenant("eva-nilsson"), object("lgh-2004"));
    let version = s.terms().await.unwrap().version;
    assert!(!s.cart(&eva, &lgh).await.unwrap().lines.is_empty());
    s.checkout_submit(&eva, &lgh, &submit(version, "eva-sends"))
        .await
        .unwrap();
    let demo = tillval_services::demo::demo(chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap())
        .unwrap();
    for _ in 0..2 {
        tillval_services::demo::load_demo(s, &demo).await.unwrap();
    }
    db.finish().await;
}

async fn the_decision_log_keeps_what_its_retention_says(backend: Backend) {
    let Some(db) = demo_db_on(backend, "the_decision_log_retention").await else {
        return;
    };
    let s = &db.services;
    let (bertil, lgh) = (tenant("bertil-lind"), object("lgh-1004"));
    let refused = s.cart_add(&bertil, &lgh, &opt("dm-bosch-serie4"), 1).await;
    assert!(
        matches!(refused, Err(ServiceError::Refused(_))),
        "{refused:?}"
    );
    assert_eq!(
        s.decisions(&bertil, &Default::default(), None, 10)
            .await
            .unwrap()
            .0
            .len(),
        1
    );
    let day = std::time::Duration::from_secs(86_400);
    assert_eq!(s.decision_log_prune(day * 90).await.unwrap(), 0);
    db.clock
        .set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2027, 3, 1, 0, 0, 0).unwrap());
    assert_eq!(s.decision_log_prune(day * 90).await.unwrap(), 1);
    assert!(
        s.decisions(&bertil, &Default::default(), None, 10)
            .await
            .unwrap()
            .0
            .is_empty()
    );
    db.finish().await;
}
