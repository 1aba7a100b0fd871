//! Several `tillval serve` processes on one PostgreSQL: the guarantees of one node hold across
//! nodes (one case for 100 conflicting submits), a change made through one node reaches the
//! others' caches and subscriptions, and a node rides out losing its database.
//!
//! Each test gets a database of its own (`TILLVAL_TEST_DATABASE_URL`); without it they are
//! skipped with a printed line, unless `TILLVAL_REQUIRE_POSTGRES=1`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tillval_engine::model::{RentalObjectId, TenantId};
use tillval_engine::rules::RuleSetSource;
use tillval_graphql::auth::{Auth, Role};
use tillval_services::store::{PoolSettings, Store, TenantRecord};
use tillval_store::SqlStore;
use tillval_tests::test_database::{TestDatabase, server_url};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const BINARY: &str = env!("CARGO_BIN_EXE_tillval");
const SECRET: &str = "a-shared-secret-for-the-scaling-out-tests";
const LGH: &str = "gid://tillval/RentalObject/lgh-1002";

/// One `tillval serve` process, killed when dropped.
struct Node {
    child: Child,
    url: String,
    client: reqwest::Client,
    auth: Arc<Auth>,
}

impl Node {
    fn start(database: &str, demo: bool) -> Node {
        let mut args = vec![
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--database",
            database,
            "--db-acquire-timeout-ms",
            "1500",
        ];
        if demo {
            args.push("--demo");
        }
        let mut child = Command::new(BINARY)
            .args(&args)
            .env("TILLVAL_JWT_SECRET", SECRET)
            .env("RUST_LOG", "warn")
            .env_remove("TILLVAL_ENV")
            .env_remove("TILLVAL_DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().expect("the node prints its address").unwrap();
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {first:?}"))
            .trim_end_matches("/graphql")
            .to_owned();
        // Keep reading so the node never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Node {
            child,
            url,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .unwrap(),
            auth: Arc::new(Auth::new(SECRET.as_bytes()).unwrap()),
        }
    }

    fn token(&self, tenant: &str) -> String {
        self.auth.issue(tenant, Role::Tenant, 3600).unwrap()
    }

    fn staff(&self) -> String {
        self.auth.issue("staff-anna", Role::Staff, 3600).unwrap()
    }

    async fn gql(&self, token: &str, query: &str, variables: Value) -> Value {
        let response = self
            .client
            .post(format!("{}/graphql", self.url))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        assert!(body["errors"].is_null(), "{body}");
        body["data"].clone()
    }

    async fn ready(&self) -> u16 {
        match self.client.get(format!("{}/ready", self.url)).send().await {
            Ok(response) => response.status().as_u16(),
            Err(_) => 0,
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A database of the test's own on the test server; `None` to skip.
async fn database(test: &str) -> Option<TestDatabase> {
    Some(TestDatabase::create(&server_url(test)?).await.unwrap())
}

const CATALOGUE: &str = r#"query($id: ID!) { catalogue(rentalObjectId: $id) { categories { options {
    id name monthlyPrice { amount } availability { status reasons { code } } } } } }"#;

/// The option named `handle` in a catalogue answer.
fn find<'a>(data: &'a Value, handle: &str) -> Option<&'a Value> {
    data["catalogue"]["categories"]
        .as_array()?
        .iter()
        .flat_map(|c| c["options"].as_array().into_iter().flatten())
        .find(|o| o["id"].as_str().is_some_and(|id| id.ends_with(handle)))
}

async fn monthly_price(node: &Node, tenant: &str, handle: &str) -> Option<i64> {
    let data = node
        .gql(&node.token(tenant), CATALOGUE, json!({ "id": LGH }))
        .await;
    find(&data, handle).and_then(|o| o["monthlyPrice"]["amount"].as_i64())
}

async fn upsert_price(node: &Node, handle: &str, name: &str, amount: i64) {
    let upsert = r#"mutation($p: ID!, $input: AddOnOptionInput!) { catalogueOptionUpsert(propertyId: $p, input: $input) {
        option { id } userErrors { code message } } }"#;
    let input = json!({ "handle": handle, "categoryId": "gid://tillval/Category/golv", "spaceId": "gid://tillval/Space/hall",
        "name": name, "pictures": [{ "thumbnail": "/pictures/t-thumb.svg", "large": "/pictures/t.svg" }],
        "monthlyPrice": { "amount": amount, "currency": "SEK" }, "oneTimeFee": { "amount": 0, "currency": "SEK" }, "unit": "SINGLE" });
    let data = node
        .gql(
            &node.staff(),
            upsert,
            json!({ "p": "gid://tillval/Property/ekbacken", "input": input }),
        )
        .await;
    assert_eq!(data["catalogueOptionUpsert"]["userErrors"], json!([]));
}

/// Polls `node` until `handle` costs `amount`; the time it took, or `None` after `limit`.
async fn seen_within(node: &Node, handle: &str, amount: i64, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if monthly_price(node, "anna-svensson", handle).await == Some(amount) {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

/// The manifest version of the rule set `node` decides with.
async fn rule_set_version(node: &Node) -> String {
    let data = node
        .gql(
            &node.token("anna-svensson"),
            "query($id: ID!) { catalogue(rentalObjectId: $id) { ruleSetVersion } }",
            json!({ "id": LGH }),
        )
        .await;
    data["catalogue"]["ruleSetVersion"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_hundred_conflicting_submits_across_two_nodes_make_one_case() {
    let Some(db) = database("one_hundred_conflicting_submits_across_two_nodes_make_one_case").await
    else {
        return;
    };
    let a = Node::start(&db.url, true);
    let b = Node::start(&db.url, false);
    // 100 tenants share lgh-1002 (a landlord's data import would put them there).
    let store = SqlStore::postgres(&db.url, PoolSettings::default())
        .await
        .unwrap();
    let object = RentalObjectId::parse("lgh-1002").unwrap();
    let tenants: Vec<String> = (0..100).map(|i| format!("co-tenant-{i:03}")).collect();
    for t in &tenants {
        let id = TenantId::parse(t).unwrap();
        store
            .put_tenant(&TenantRecord {
                id: id.clone(),
                name: t.clone(),
                ordering_enabled: true,
            })
            .await
            .unwrap();
        store.put_lease(&id, &object).await.unwrap();
    }
    // Each puts the same dishwasher (one key: diskmaskin in the kitchen) in their cart, through
    // either node.
    let add = r#"mutation($id: ID!) { cartLinesAdd(rentalObjectId: $id, lines: [{ optionId: "gid://tillval/AddOnOption/dm-bosch-serie4" }]) {
        cart { articleCount } userErrors { code } } }"#;
    for (i, t) in tenants.iter().enumerate() {
        let node = if i % 2 == 0 { &a } else { &b };
        let data = node.gql(&node.token(t), add, json!({ "id": LGH })).await;
        assert_eq!(data["cartLinesAdd"]["cart"]["articleCount"], 1, "{data}");
    }
    let version = a
        .gql(&a.token(&tenants[0]), "{ terms { version } }", json!({}))
        .await["terms"]["version"]
        .as_i64()
        .unwrap();
    let submit = r#"mutation($id: ID!, $input: CheckoutSubmitInput!) { checkoutSubmit(rentalObjectId: $id, input: $input) {
        case { number } userErrors { code reasons { code } } } }"#;
    let answers = futures_util::future::join_all(tenants.iter().enumerate().map(|(i, t)| {
        let node = if i % 2 == 0 { &a } else { &b };
        let input = json!({ "acceptTerms": true, "termsVersion": version, "idempotencyKey": format!("race-submit-{i:03}") });
        async move {
            node.gql(&node.token(t), submit, json!({ "id": LGH, "input": input }))
                .await
        }
    }))
    .await;
    let created: Vec<&Value> = answers
        .iter()
        .filter(|d| !d["checkoutSubmit"]["case"].is_null())
        .collect();
    assert_eq!(
        created.len(),
        1,
        "exactly one case: {created:?}; first answer {}",
        answers[0]
    );
    for refused in answers
        .iter()
        .filter(|d| d["checkoutSubmit"]["case"].is_null())
    {
        let code = refused["checkoutSubmit"]["userErrors"][0]["code"]
            .as_str()
            .unwrap_or_default();
        assert!(
            code == "LOCKED" || code == "NOT_ORDERABLE",
            "a typed refusal: {refused}"
        );
    }
    // The database agrees: one case among the hundred, and its lock.
    let mut cases = 0;
    for t in &tenants {
        cases += store
            .cases(&TenantId::parse(t).unwrap(), None, None, 10)
            .await
            .unwrap()
            .cases
            .len();
    }
    assert_eq!(cases, 1);
    store.close().await;
    drop((a, b));
    db.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalogue_and_a_rule_set_changed_on_one_node_reach_the_other_within_a_second() {
    let Some(db) = database("a_catalogue_changed_on_one_node_reaches_the_other").await else {
        return;
    };
    let a = Node::start(&db.url, true);
    let b = Node::start(&db.url, false);
    // B has the catalogue cached before the change.
    upsert_price(&a, "golv-cache-test", "Kork", 10_000).await;
    assert!(
        seen_within(&b, "golv-cache-test", 10_000, Duration::from_secs(5))
            .await
            .is_some()
    );
    upsert_price(&a, "golv-cache-test", "Kork", 12_500).await;
    let took = seen_within(&b, "golv-cache-test", 12_500, Duration::from_secs(1))
        .await
        .expect("node B shows the change within 1 s");
    println!("node B saw the catalogue change after {took:?}");

    // A rule set published on A (the shipped one, as version 2.0.0) governs B at once.
    let mut source = RuleSetSource::shipped();
    source.manifest = source
        .manifest
        .replace("version = \"1.0.0\"", "version = \"2.0.0\"");
    let files = |files: &[tillval_engine::rules::ScriptSource]| {
        files
            .iter()
            .map(|f| json!({ "name": f.name, "content": f.code }))
            .collect::<Vec<_>>()
    };
    let input = json!({ "manifest": source.manifest, "scripts": files(&source.scripts), "messagesSv": source.messages_sv,
            "messagesEn": source.messages_en, "tests": files(&source.tests) });
    assert_eq!(rule_set_version(&b).await, "1.0.0");
    let published = a
        .gql(
            &a.staff(),
            "mutation($s: RuleSetInput!) { ruleSetPublish(source: $s) { ruleSet { version } userErrors { code } } }",
            json!({ "s": input }),
        )
        .await;
    assert!(
        !published["ruleSetPublish"]["ruleSet"].is_null(),
        "{published}"
    );
    assert_eq!(rule_set_version(&a).await, "2.0.0");
    let start = Instant::now();
    while rule_set_version(&b).await != "2.0.0" {
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "node B still runs the old rule set"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!("node B ran the new rule set after {:?}", start.elapsed());

    // B heard A's notifications, and says how late they came (issue 17's NOTIFY lag).
    let metrics = b
        .client
        .get(format!("{}/metrics", b.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let sample = |name: &str| {
        metrics
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
    };
    let heard = sample("tillval_notify_received_total ").unwrap_or_else(|| panic!("{metrics}"));
    let lag = sample("tillval_notify_lag_seconds_total ").unwrap_or_else(|| panic!("{metrics}"));
    assert!(heard >= 3.0, "B heard {heard} notifications: {metrics}");
    assert!(
        (0.0..heard * 1.0).contains(&lag),
        "summed lag {lag} s over {heard}"
    );
    println!(
        "node B heard {heard} notifications, {:.2} ms late on average",
        lag / heard * 1000.0
    );
    drop((a, b));
    db.drop_database().await.unwrap();
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_message(socket: &mut Socket, wait: Duration) -> Option<Value> {
    loop {
        let message = tokio::time::timeout(wait, socket.next())
            .await
            .ok()??
            .ok()?;
        match message {
            Message::Text(text) => return serde_json::from_str(text.as_str()).ok(),
            Message::Close(_) => return None,
            _ => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_on_one_node_hears_a_transition_made_on_the_other() {
    let Some(db) = database("a_subscription_on_one_node_hears_a_transition").await else {
        return;
    };
    let a = Node::start(&db.url, true);
    let b = Node::start(&db.url, false);
    let mut request = format!("{}/graphql/ws", b.url.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {}", b.token("cecilia-holm")) } });
    socket.send(Message::text(init.to_string())).await.unwrap();
    assert_eq!(
        next_message(&mut socket, Duration::from_secs(5))
            .await
            .unwrap()["type"],
        "connection_ack"
    );
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { caseStatusChanged { caseNumber status } }" } });
    socket
        .send(Message::text(subscribe.to_string()))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let number = a
        .gql(
            &a.token("cecilia-holm"),
            "{ cases { edges { node { number } } } }",
            json!({}),
        )
        .await["cases"]["edges"][0]["node"]["number"]
        .as_str()
        .unwrap()
        .to_owned();
    let moved = a
        .gql(
            &a.staff(),
            "mutation($n: String!) { caseTransition(number: $n, to: APPROVED) { case { status } } }",
            json!({ "n": number }),
        )
        .await;
    assert_eq!(moved["caseTransition"]["case"]["status"], "APPROVED");
    let event = next_message(&mut socket, Duration::from_secs(5))
        .await
        .expect("the subscriber on node B hears of it");
    assert_eq!(
        event["payload"]["data"]["caseStatusChanged"],
        json!({ "caseNumber": number, "status": "APPROVED" })
    );
    drop((a, b));
    db.drop_database().await.unwrap();
}

/// A TCP relay to PostgreSQL that the test can cut (every connection closed, new ones refused)
/// and restore: the database "goes away" for one node only.
struct Relay {
    port: u16,
    down: tokio::sync::watch::Sender<bool>,
}

impl Relay {
    async fn start(target: String) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (down, watch) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if *watch.borrow() {
                    continue; // dropped: refused
                }
                let mut cut = watch.clone();
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.wait_for(|down| *down) => {}
                    }
                });
            }
        });
        Relay { port, down }
    }

    fn set_down(&self, down: bool) {
        self.down.send_replace(down);
    }
}

/// `url` pointed at 127.0.0.1:`port` instead of its host and port.
fn through(url: &str, port: u16) -> String {
    let scheme_end = url.find("://").unwrap() + 3;
    let host_end = scheme_end + url[scheme_end..].find('/').unwrap();
    let authority = &url[scheme_end..host_end];
    let credentials = authority.rfind('@').map_or("", |at| &authority[..=at]);
    format!(
        "{}{credentials}127.0.0.1:{port}{}",
        &url[..scheme_end],
        &url[host_end..]
    )
}

fn host_port(url: &str) -> String {
    let scheme_end = url.find("://").unwrap() + 3;
    let host_end = scheme_end + url[scheme_end..].find('/').unwrap();
    let authority = &url[scheme_end..host_end];
    let host = authority.rsplit('@').next().unwrap();
    if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_loses_its_database_is_not_ready_then_recovers_without_stale_caches() {
    let Some(db) = database("a_node_that_loses_its_database").await else {
        return;
    };
    let a = Node::start(&db.url, true);
    let relay = Relay::start(host_port(&db.url)).await;
    let b = Node::start(&through(&db.url, relay.port), false);
    assert_eq!(b.ready().await, 200);
    upsert_price(&a, "golv-outage-test", "Linoleum", 9_000).await;
    assert!(
        seen_within(&b, "golv-outage-test", 9_000, Duration::from_secs(5))
            .await
            .is_some()
    );

    // The database goes away for B: /ready says so, within a few seconds.
    relay.set_down(true);
    let start = Instant::now();
    while b.ready().await != 503 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "node B still says it is ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("node B not ready after {:?}", start.elapsed());
    // Meanwhile a change is made through A, which B's listener cannot hear.
    upsert_price(&a, "golv-outage-test", "Linoleum", 9_900).await;

    // The database comes back: B is ready again without a restart, and shows the change (its
    // listener reconnected and dropped its caches).
    relay.set_down(false);
    let start = Instant::now();
    while b.ready().await != 200 {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "node B did not recover"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("node B ready again after {:?}", start.elapsed());
    let took = seen_within(&b, "golv-outage-test", 9_900, Duration::from_secs(10))
        .await
        .expect("no stale catalogue after the outage");
    println!("node B showed the change made during the outage after {took:?}");
    drop((a, b));
    db.drop_database().await.unwrap();
}
