//! The view memo (issue 16): a household's catalogue view is given again while its inputs are
//! unchanged, and every kind of change is seen by the very next view, whether it was made on
//! this node or on another (a second `Services` over the same database).

use std::time::Duration;

use tillval_engine::availability::{CatalogueView, OptionStatus};
use tillval_engine::model::{AddOnOptionRecord, Currency, PropertyId, RentalObjectId, TenantId};
use tillval_services::order::{IdempotencyKey, SubmitRequest};
use tillval_services::service::Services;
use tillval_store::SqlStore;
use tillval_tests::db::*;

tillval_tests::store_suite!(every_change_is_seen_by_the_next_view);

async fn view(
    s: &Services<SqlStore>,
    tenant: &TenantId,
    object: &RentalObjectId,
) -> std::sync::Arc<CatalogueView> {
    s.catalogue_view(tenant, object).await.unwrap().1
}

fn status(view: &CatalogueView, option: &str) -> OptionStatus {
    view.options()
        .find(|o| o.option.id().as_str() == option)
        .map(|o| o.availability.status)
        .unwrap_or_else(|| panic!("{option} is not in the view"))
}

/// The view twice with nothing changed between: the second is the memoised one (the same
/// allocation, one more hit).
async fn memoised_when_unchanged(
    s: &Services<SqlStore>,
    tenant: &TenantId,
    object: &RentalObjectId,
) -> std::sync::Arc<CatalogueView> {
    let first = view(s, tenant, object).await;
    let hits = s.view_memo_stats().hits;
    let second = view(s, tenant, object).await;
    assert!(
        std::sync::Arc::ptr_eq(&first, &second),
        "an unchanged household's view is memoised"
    );
    assert_eq!(s.view_memo_stats().hits, hits + 1);
    second
}

/// Waits (bounded) until `check` holds for this node's view: the changes another node
/// announces (a publish, a catalogue edit) reach this node as the store's notices, which the
/// memo does not wait for: it is the catalogue cache and the rule set that follow them.
async fn eventually(
    s: &Services<SqlStore>,
    tenant: &TenantId,
    object: &RentalObjectId,
    check: impl Fn(&CatalogueView) -> bool,
) {
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        if check(&*view(s, tenant, object).await) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the change was not seen within 10 s");
}

async fn every_change_is_seen_by_the_next_view(backend: Backend) {
    let Some(db) = demo_db_on(backend, "view_memo_every_change").await else {
        return;
    };
    let here = &db.services;
    let there = db.reopen().await;
    let (anna, lgh) = (tenant("anna-svensson"), object("lgh-1002"));
    let dishwasher = "dm-bosch-serie4";

    for (name, node) in [("this node", here), ("another node", &there)] {
        // A debt, set and cleared.
        assert_eq!(
            status(
                &*memoised_when_unchanged(here, &anna, &lgh).await,
                dishwasher
            ),
            OptionStatus::Available,
            "{name}"
        );
        node.ledger_set_debt(&anna, 10_000, Currency::SEK)
            .await
            .unwrap();
        assert_eq!(
            status(&*view(here, &anna, &lgh).await, dishwasher),
            OptionStatus::Blocked,
            "debt set on {name}"
        );
        node.ledger_set_debt(&anna, 0, Currency::SEK).await.unwrap();
        assert_eq!(
            status(&*view(here, &anna, &lgh).await, dishwasher),
            OptionStatus::Available,
            "debt cleared on {name}"
        );

        // A cart line.
        memoised_when_unchanged(here, &anna, &lgh).await;
        node.cart_add(&anna, &lgh, &opt(dishwasher), 1)
            .await
            .unwrap();
        assert_eq!(
            status(&*view(here, &anna, &lgh).await, dishwasher),
            OptionStatus::InCart,
            "cart line on {name}"
        );

        // An order: sent, its key is blocked by the ongoing order.
        memoised_when_unchanged(here, &anna, &lgh).await;
        let terms = node.terms().await.unwrap().version;
        let key = format!("memo-{}", name.replace(' ', "-"));
        let sent = node
            .checkout_submit(
                &anna,
                &lgh,
                &SubmitRequest {
                    accept_terms: true,
                    terms_version: terms,
                    idempotency_key: IdempotencyKey::parse(&key).unwrap(),
                },
            )
            .await
            .unwrap();
        let after_order = view(here, &anna, &lgh).await;
        assert_eq!(
            status(&after_order, dishwasher),
            OptionStatus::Blocked,
            "order sent on {name}"
        );
        assert!(after_order.options().any(|o| {
            o.availability
                .reasons
                .iter()
                .any(|r| r.code.as_str() == "ONGOING_ORDER")
        }));
        // Cancelled, so that the next round starts free again.
        memoised_when_unchanged(here, &anna, &lgh).await;
        node.case_cancel(&anna, &sent.case.number).await.unwrap();
        assert_eq!(
            status(&*view(here, &anna, &lgh).await, dishwasher),
            OptionStatus::Available,
            "order cancelled on {name}"
        );
    }

    // A fee paid: David's hall floor is blocked until the fee is paid in full.
    let (david, lgh_david) = (tenant("david-ek"), object("lgh-1006"));
    let hall_floor = view(here, &david, &lgh_david).await;
    let floor_option = hall_floor
        .options()
        .find(|o| {
            o.availability
                .reasons
                .iter()
                .any(|r| r.code.as_str() == "UNPAID_FEE")
        })
        .map(|o| o.option.id().to_string())
        .expect("the demo's unpaid fee blocks an option");
    memoised_when_unchanged(here, &david, &lgh_david).await;
    let fee = there.ledger_fees(&david).await.unwrap()[0].clone();
    there
        .ledger_record_payment(fee.id, fee.remaining().minor(), Currency::SEK)
        .await
        .unwrap();
    assert_eq!(
        status(&*view(here, &david, &lgh_david).await, &floor_option),
        OptionStatus::Available,
        "fee paid on another node"
    );

    // Catalogue edits and publishes reach another node as the store's notices: PostgreSQL's
    // (SQLite is one process's database, with no other node to tell).
    let nodes: Vec<&Services<SqlStore>> = match backend {
        Backend::Postgres => vec![here, &there],
        Backend::Sqlite => vec![here],
    };

    // A catalogue edit, on this node and on another: the price the view shows.
    let property = PropertyId::parse("ekbacken").unwrap();
    for (price, node) in [12_300, 45_600].into_iter().zip(nodes.iter().copied()) {
        memoised_when_unchanged(here, &anna, &lgh).await;
        let option = view(here, &anna, &lgh)
            .await
            .options()
            .find(|o| o.option.id().as_str() == dishwasher)
            .unwrap()
            .option
            .clone();
        let mut record = AddOnOptionRecord::from((*option).clone());
        record.monthly_price =
            tillval_engine::model::Money::from_minor(price, Currency::SEK).unwrap();
        node.catalogue_option_upsert(&property, record)
            .await
            .unwrap();
        let shows = |v: &CatalogueView| {
            v.options().any(|o| {
                o.option.id().as_str() == dishwasher && o.option.monthly_price().minor() == price
            })
        };
        if std::ptr::eq(node, here) {
            assert!(
                shows(&*view(here, &anna, &lgh).await),
                "a catalogue edit on this node"
            );
        } else {
            eventually(here, &anna, &lgh, shows).await;
        }
    }

    // A publish, on this node and on another: the view is decided by the new version.
    for (version, node) in ["memo-1", "memo-2"].into_iter().zip(nodes.iter().copied()) {
        memoised_when_unchanged(here, &anna, &lgh).await;
        let mut source = tillval_engine::rules::RuleSetSource::shipped();
        source.manifest = format!("name = \"memo\"\nversion = \"{version}\"\n");
        node.rule_set_publish(&source, "test").await.unwrap();
        let decided_by = |v: &CatalogueView| v.rule_set_version == version;
        if std::ptr::eq(node, here) {
            assert!(
                decided_by(&*view(here, &anna, &lgh).await),
                "a publish on this node"
            );
        } else {
            eventually(here, &anna, &lgh, decided_by).await;
        }
    }

    there.store().close().await;
    db.finish().await;
}
