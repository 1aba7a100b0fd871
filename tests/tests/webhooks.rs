//! Events out, never lost (issue 15): a receiver on 127.0.0.1 that fails its first deliveries
//! gets every event after the retries, signed so that an independent check passes, in order per
//! case; after the last attempt an event is dead-lettered, and a replay delivers it; two nodes on
//! one PostgreSQL deliver 200 events, each once.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tillval_engine::model::{RentalObject, RentalObjectId, RentalObjectRecord, TenantId};
use tillval_services::case::CaseStatus;
use tillval_services::order::{IdempotencyKey, SubmitRequest};
use tillval_services::service::Services;
use tillval_services::store::{Outbox, Store, TenantRecord};
use tillval_store::SqlStore;
use tillval_tests::db::*;
use tillval_webhooks::{Dispatcher, DispatcherConfig};

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: Bytes,
    accepted: bool,
}

#[derive(Debug, Default)]
struct Receiver {
    /// Attempts per webhook-id to refuse before accepting; `u32::MAX` refuses always.
    refuse_first: Mutex<u32>,
    seen: Mutex<Vec<Received>>,
    attempts: Mutex<HashMap<String, u32>>,
}

async fn receive(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let id = header("webhook-id");
    let attempt = {
        let mut attempts = receiver.attempts.lock().unwrap();
        let n = attempts.entry(id.clone()).or_insert(0);
        *n += 1;
        *n
    };
    let accepted = attempt > *receiver.refuse_first.lock().unwrap();
    receiver.seen.lock().unwrap().push(Received {
        id,
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body,
        accepted,
    });
    if accepted {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

/// A receiver on a free port of 127.0.0.1, and its URL.
async fn receiver(refuse_first: u32) -> (Arc<Receiver>, String) {
    let receiver = Arc::new(Receiver {
        refuse_first: Mutex::new(refuse_first),
        ..Receiver::default()
    });
    let app = axum::Router::new()
        .route("/hooks", axum::routing::post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (receiver, url)
}

/// The Standard Webhooks check, written here from the specification and not with the
/// sender's code: HMAC-SHA256 keyed with the secret's bytes over `id.timestamp.body`.
fn signature_holds(secret: &str, r: &Received) -> bool {
    let key = STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.", r.id, r.timestamp).as_bytes());
    mac.update(&r.body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    r.signature.split(' ').any(|s| s == expected)
}

fn fast(node: &str, max_attempts: u32) -> DispatcherConfig {
    DispatcherConfig {
        node: node.to_owned(),
        lease: Duration::from_secs(5),
        poll: Duration::from_millis(20),
        batch: 16,
        max_attempts,
        backoff_base: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        timeout: Duration::from_secs(5),
    }
}

/// Runs `dispatcher` until `done` or 30 s.
async fn until(dispatcher: Dispatcher<SqlStore>, done: impl Fn() -> bool) {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(dispatcher.run(stopped));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !done() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(true).unwrap();
    task.await.unwrap();
}

fn submit(key: &str, version: i64) -> SubmitRequest {
    SubmitRequest {
        accept_terms: true,
        terms_version: version,
        idempotency_key: IdempotencyKey::parse(key).unwrap(),
    }
}

/// Anna's and Eva's orders, Anna's moved to INSTALLED (its fee booked): events on two cases.
async fn two_cases_with_history(s: &Services<SqlStore>) -> Vec<String> {
    let version = s.terms().await.unwrap().version;
    let (anna, lgh) = (tenant("anna-svensson"), object("lgh-1002"));
    // Spotlights carry a one-time fee: installed, it is booked.
    s.cart_add(&anna, &lgh, &opt("bel-spotlight-kitchen"), 1)
        .await
        .unwrap();
    let first = s
        .checkout_submit(&anna, &lgh, &submit("webhook-anna-1", version))
        .await
        .unwrap()
        .case;
    let (eva, lgh2) = (tenant("eva-nilsson"), object("lgh-2004"));
    let second = s
        .checkout_submit(&eva, &lgh2, &submit("webhook-eva-1", version))
        .await
        .unwrap()
        .case;
    for to in [
        CaseStatus::UnderReview,
        CaseStatus::Approved,
        CaseStatus::Scheduled,
        CaseStatus::Installed,
    ] {
        s.case_transition(&first.number, to).await.unwrap();
    }
    s.case_transition(&second.number, CaseStatus::Cancelled)
        .await
        .unwrap();
    vec![
        first.number.as_str().to_owned(),
        second.number.as_str().to_owned(),
    ]
}

async fn every_event_arrives_signed_in_order_after_the_retries(backend: Backend) {
    let Some(db) = demo_db_on(backend, "webhooks_retries").await else {
        return;
    };
    let s = &db.services;
    let (receiver, url) = receiver(2).await;
    let secret = tillval_webhooks::secret::generate().unwrap();
    s.webhook_endpoint_add(&url, &secret, "Teknisk förvaltning")
        .await
        .unwrap();
    let cases = two_cases_with_history(s).await;
    // created + 4 moves + the fee on Anna's; created + cancelled on Eva's.
    let expected = 5 + 1 + 2;
    let delivered = |r: &Receiver| r.seen.lock().unwrap().iter().filter(|x| x.accepted).count();
    let dispatcher = Dispatcher::new(s.store().clone(), fast("node-a", 5)).unwrap();
    // One round by hand first: a store error shows here, not only in the log.
    dispatcher.round().await.unwrap();
    until(dispatcher, || delivered(&receiver) >= expected).await;

    let seen = receiver.seen.lock().unwrap().clone();
    let accepted: Vec<&Received> = seen.iter().filter(|r| r.accepted).collect();
    let summary: Vec<(String, bool)> = seen.iter().map(|r| (r.id.clone(), r.accepted)).collect();
    assert_eq!(accepted.len(), expected, "{summary:?}");
    // Each event three times (two refused, then taken), every time with its id and signed.
    let mut per_id: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &seen {
        *per_id.entry(r.id.as_str()).or_default() += 1;
        assert!(signature_holds(&secret, r), "a bad signature on {}", r.id);
    }
    assert!(per_id.values().all(|&n| n == 3), "{per_id:?}");
    // In order per case: the accepted events of a case in the order they happened.
    for case in &cases {
        let types: Vec<String> = accepted
            .iter()
            .map(|r| serde_json::from_slice::<serde_json::Value>(&r.body).unwrap())
            .filter(|b| b["data"]["caseNumber"] == case.as_str())
            .map(|b| b["type"].as_str().unwrap().to_owned())
            .collect();
        let want: &[&str] = if types.len() == 6 {
            &[
                "case.created",
                "case.moved",
                "case.moved",
                "case.moved",
                "case.installed",
                "fee.booked",
            ]
        } else {
            &["case.created", "case.cancelled"]
        };
        assert_eq!(types, want, "{case}");
    }
    // What the maintenance system needs of a new case.
    let created: serde_json::Value = accepted
        .iter()
        .map(|r| serde_json::from_slice::<serde_json::Value>(&r.body).unwrap())
        .find(|b| b["type"] == "case.created" && b["data"]["caseNumber"] == cases[0].as_str())
        .unwrap();
    let data = &created["data"];
    assert_eq!(data["tenantId"], "anna-svensson");
    assert_eq!(data["rentalObjectId"], "lgh-1002");
    assert_eq!(data["lines"][0]["optionId"], "bel-spotlight-kitchen");
    assert!(data["lines"][0]["oneTimeFee"]["amount"].as_i64().unwrap() > 0);
    assert!(data["lines"][0]["monthlyPrice"]["amount"].as_i64().unwrap() > 0);
    assert!(data["termsVersion"].as_i64().unwrap() >= 1);
    assert!(data["createdAt"].is_string());
    assert_eq!(s.outbox_depth().await.unwrap().pending, 0);
    db.finish().await;
}

async fn the_last_attempt_dead_letters_and_a_replay_delivers(backend: Backend) {
    let Some(db) = demo_db_on(backend, "webhooks_dead_letters").await else {
        return;
    };
    let s = &db.services;
    let (receiver, url) = receiver(u32::MAX).await;
    let secret = tillval_webhooks::secret::generate().unwrap();
    let endpoint = s.webhook_endpoint_add(&url, &secret, "").await.unwrap();
    let version = s.terms().await.unwrap().version;
    let (eva, lgh) = (tenant("eva-nilsson"), object("lgh-2004"));
    s.checkout_submit(&eva, &lgh, &submit("webhook-dead-1", version))
        .await
        .unwrap();
    let dispatcher = Dispatcher::new(s.store().clone(), fast("node-a", 3)).unwrap();
    let store = s.store().clone();
    let dead = || futures_dead(&store, endpoint.id);
    until(dispatcher.clone(), || dead() >= 1).await;
    let letters = s.webhook_dead_letters(endpoint.id, 10).await.unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].attempts, 3);
    assert_eq!(letters[0].event_type, "case.created");
    assert!(letters[0].last_error.contains("503"), "{letters:?}");
    assert_eq!(receiver.seen.lock().unwrap().len(), 3);
    assert_eq!(s.outbox_depth().await.unwrap().dead, 1);

    // The receiver is fixed; staff replay the endpoint's dead letters.
    *receiver.refuse_first.lock().unwrap() = 0;
    assert_eq!(s.webhook_replay(endpoint.id, None).await.unwrap(), 1);
    assert_eq!(
        s.webhook_replay(endpoint.id, None).await.unwrap(),
        0,
        "nothing dead now"
    );
    let taken = || receiver.seen.lock().unwrap().iter().any(|r| r.accepted);
    until(dispatcher, taken).await;
    let seen = receiver.seen.lock().unwrap().clone();
    assert!(seen.last().unwrap().accepted);
    assert_eq!(seen.last().unwrap().id, letters[0].webhook_id);
    assert!(
        s.webhook_dead_letters(endpoint.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
    db.finish().await;
}

/// The dead letters of `endpoint`, read without awaiting (for the polling closure).
fn futures_dead(store: &SqlStore, endpoint: i64) -> usize {
    let store = store.clone();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async move { store.dead_letters(endpoint, 100).await.unwrap().len() })
    })
    .join()
    .unwrap()
}

/// `count` apartments like the demo's first, each leased by its own tenant.
async fn apartments(s: &Services<SqlStore>, count: usize) -> Vec<(TenantId, RentalObjectId)> {
    let template = s
        .store()
        .rental_objects(&tenant("anna-svensson"))
        .await
        .unwrap()
        .remove(0);
    let mut pairs = Vec::new();
    for i in 0..count {
        let object = RentalObjectId::parse(format!("hook-{i:03}")).unwrap();
        let record = RentalObjectRecord {
            id: object.clone(),
            ..RentalObjectRecord::from(template.clone())
        };
        s.store()
            .put_rental_object(&RentalObject::try_from(record).unwrap(), "Kv. Ekbacken")
            .await
            .unwrap();
        let who = TenantId::parse(format!("hook-t{i:03}")).unwrap();
        s.store()
            .put_tenant(&TenantRecord {
                id: who.clone(),
                name: format!("Hyresgäst {i}"),
                ordering_enabled: true,
            })
            .await
            .unwrap();
        s.store().put_lease(&who, &object).await.unwrap();
        pairs.push((who, object));
    }
    pairs
}

async fn two_nodes_deliver_two_hundred_events_each_once(backend: Backend) {
    if backend == Backend::Sqlite {
        return; // one process owns a SQLite file: there is no second node
    }
    let Some(db) = demo_db_on(backend, "webhooks_two_nodes").await else {
        return;
    };
    let s = &db.services;
    let (receiver, url) = receiver(0).await;
    let secret = tillval_webhooks::secret::generate().unwrap();
    s.webhook_endpoint_add(&url, &secret, "").await.unwrap();
    let version = s.terms().await.unwrap().version;
    for (i, (who, object)) in apartments(s, 100).await.iter().enumerate() {
        s.cart_add(who, object, &opt("dm-bosch-serie4"), 1)
            .await
            .unwrap();
        let case = s
            .checkout_submit(who, object, &submit(&format!("two-nodes-{i:03}"), version))
            .await
            .unwrap()
            .case;
        s.case_transition(&case.number, CaseStatus::UnderReview)
            .await
            .unwrap();
    }
    let other = db.reopen().await;
    let a = Dispatcher::new(s.store().clone(), fast("node-a", 5)).unwrap();
    let b = Dispatcher::new(other.store().clone(), fast("node-b", 5)).unwrap();
    let count = || receiver.seen.lock().unwrap().len();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let tasks = [
        tokio::spawn(a.run(stopped.clone())),
        tokio::spawn(b.run(stopped)),
    ];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while count() < 200 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A little longer: a second delivery of anything would show now.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.send(true).unwrap();
    for task in tasks {
        task.await.unwrap();
    }
    let seen = receiver.seen.lock().unwrap().clone();
    let mut ids: Vec<&str> = seen.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    let before = ids.len();
    ids.dedup();
    assert_eq!(before, 200, "each of the 200 events once, none twice");
    assert_eq!(ids.len(), 200);
    assert!(seen.iter().all(|r| signature_holds(&secret, r)));
    other.store().close().await;
    db.finish().await;
}

tillval_tests::store_suite!(
    every_event_arrives_signed_in_order_after_the_retries,
    the_last_attempt_dead_letters_and_a_replay_delivers,
    two_nodes_deliver_two_hundred_events_each_once,
);
