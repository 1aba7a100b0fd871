//! Publishing and rolling back rule sets while serving: answers change at once without a
//! restart, a broken set is refused and answers stay, rollback restores them, and under a load
//! of catalogue queries 20 publishes in a row fail no request. Refusals reach the decision log,
//! and staff can ask what decided each option.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};
use tillval_engine::rules::RuleSetSource;

fn source_input(source: &RuleSetSource) -> Value {
    let files = |files: &[tillval_engine::rules::ScriptSource]| {
        files
            .iter()
            .map(|f| json!({ "name": f.name, "content": f.code }))
            .collect::<Vec<_>>()
    };
    json!({ "manifest": source.manifest, "scripts": files(&source.scripts), "messagesSv": source.messages_sv,
            "messagesEn": source.messages_en, "tests": files(&source.tests) })
}

fn monthly_cap() -> Value {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/examples/monthly-cap");
    source_input(&RuleSetSource::read_dir(&dir).unwrap())
}

const PUBLISH: &str = "mutation($s: RuleSetInput!) { ruleSetPublish(source: $s) { ruleSet { version name active publishedBy } problems { file line message } userErrors { code } } }";
const ROLLBACK: &str = "mutation($v: Int!) { ruleSetRollback(version: $v) { ruleSet { version active } problems { message } userErrors { code } } }";
const STATUS: &str = r#"query($id: ID!) { catalogue(rentalObjectId: $id) { ruleSetVersion categories { options { id availability { status reasons { code } } } } } }"#;

async fn status(server: &TestServer, token: &str, option: &str) -> (String, Vec<String>) {
    let data = server
        .data(Some(token), STATUS, json!({ "id": object_id("lgh-1002") }))
        .await;
    let found = data["catalogue"]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["options"].as_array().unwrap().iter())
        .find(|o| o["id"] == option_id(option))
        .unwrap()
        .clone();
    let codes = found["availability"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_owned())
        .collect();
    (
        found["availability"]["status"].as_str().unwrap().to_owned(),
        codes,
    )
}

#[tokio::test]
async fn publish_changes_answers_at_once_a_broken_set_is_refused_and_rollback_restores() {
    let server = start().await;
    let (anna, staff) = (server.token("anna-svensson"), server.staff_token());
    let versions = server
        .data(
            Some(&staff),
            "{ ruleSets { version active publishedBy } }",
            json!({}),
        )
        .await;
    assert_eq!(
        versions["ruleSets"],
        json!([{ "version": 1, "active": true, "publishedBy": "system" }])
    );

    // 159 kr in the cart; a 189 kr washing machine would make 348 kr a month.
    let add = "mutation($id: ID!) { cartLinesAdd(rentalObjectId: $id, lines: [{ optionId: \"gid://tillval/AddOnOption/dm-miele-g5000\" }]) { userErrors { code } } }";
    server
        .data(Some(&anna), add, json!({ "id": object_id("lgh-1002") }))
        .await;
    assert_eq!(status(&server, &anna, "tm-miele-w1").await.0, "AVAILABLE");

    let published = server
        .data(Some(&staff), PUBLISH, json!({ "s": monthly_cap() }))
        .await;
    let rule_set = &published["ruleSetPublish"]["ruleSet"];
    assert_eq!(
        (rule_set["version"].as_i64(), rule_set["active"].as_bool()),
        (Some(2), Some(true)),
        "{published}"
    );
    assert_eq!(rule_set["publishedBy"], "ola-forvaltare");
    assert_eq!(
        status(&server, &anna, "tm-miele-w1").await,
        ("BLOCKED".into(), vec!["MONTHLY_CAP_EXCEEDED".into()])
    );

    // A broken set: refused with its problems and their positions; answers stay.
    let mut broken = monthly_cap();
    broken["scripts"][0]["content"] = json!("fn option_blocks(tenant, option) {\n    [ \n");
    let refused = server
        .data(Some(&staff), PUBLISH, json!({ "s": broken }))
        .await;
    assert_eq!(refused["ruleSetPublish"]["ruleSet"], Value::Null);
    assert_eq!(
        refused["ruleSetPublish"]["userErrors"][0]["code"],
        "RULE_SET_INVALID"
    );
    let problem = &refused["ruleSetPublish"]["problems"][0];
    assert_eq!(
        (problem["file"].as_str(), problem["line"].as_i64()),
        (Some("option_blocks.rhai"), Some(3)),
        "{refused}"
    );
    assert_eq!(status(&server, &anna, "tm-miele-w1").await.0, "BLOCKED");
    let validation = server
        .data(
            Some(&staff),
            "mutation($s: RuleSetInput!) { ruleSetValidate(source: $s) { ok problems { file } } }",
            json!({ "s": broken }),
        )
        .await;
    assert_eq!(validation["ruleSetValidate"]["ok"], false);
    let validation = server.data(Some(&staff), "mutation($s: RuleSetInput!) { ruleSetValidate(source: $s) { ok testCasesRun testCasesPassed } }", json!({ "s": monthly_cap() })).await;
    assert_eq!(
        validation["ruleSetValidate"],
        json!({ "ok": true, "testCasesRun": 3, "testCasesPassed": 3 })
    );

    // Rollback to the first version: the answers are the old ones.
    let rolled = server.data(Some(&staff), ROLLBACK, json!({ "v": 1 })).await;
    assert_eq!(
        rolled["ruleSetRollback"]["ruleSet"],
        json!({ "version": 1, "active": true })
    );
    assert_eq!(status(&server, &anna, "tm-miele-w1").await.0, "AVAILABLE");
    let versions = server
        .data(Some(&staff), "{ ruleSets { version active } }", json!({}))
        .await;
    assert_eq!(
        versions["ruleSets"],
        json!([{ "version": 2, "active": false }, { "version": 1, "active": true }])
    );
    let missing = server.gql(Some(&staff), ROLLBACK, json!({ "v": 99 })).await;
    assert_eq!(error_codes(&missing), ["NOT_FOUND"]);
    // Tenants may do none of it.
    let forbidden = server.gql(Some(&anna), ROLLBACK, json!({ "v": 1 })).await;
    assert_eq!(error_codes(&forbidden), ["FORBIDDEN"]);
}

#[tokio::test]
async fn refusals_are_logged_and_decisions_explained() {
    let server = start().await;
    let (cecilia, staff) = (server.token("cecilia-holm"), server.staff_token());
    let add = "mutation($id: ID!) { cartLinesAdd(rentalObjectId: $id, lines: [{ optionId: \"gid://tillval/AddOnOption/dm-electrolux-700\" }]) { userErrors { code } } }";
    let refused = server
        .data(Some(&cecilia), add, json!({ "id": object_id("lgh-2002") }))
        .await;
    assert_eq!(
        refused["cartLinesAdd"]["userErrors"][0]["code"],
        "NOT_ORDERABLE"
    );

    let log = server
        .data(Some(&staff), "{ decisions(tenantId: \"gid://tillval/Tenant/cecilia-holm\", first: 5) { edges { node { action optionId ruleSet reasonCodes figures } } } }", json!({}))
        .await;
    let entry = &log["decisions"]["edges"][0]["node"];
    assert_eq!(entry["action"], "cart_add");
    assert_eq!(entry["optionId"], option_id("dm-electrolux-700"));
    assert_eq!(entry["reasonCodes"], json!(["ONGOING_ORDER"]));
    assert!(entry["ruleSet"].as_str().unwrap().contains("1.0.0"));
    let figures: Value = serde_json::from_str(entry["figures"].as_str().unwrap()).unwrap();
    assert_eq!(figures["ongoing_orders"], 1);

    let explained = server
        .data(Some(&staff), "{ decisionExplain(tenantId: \"gid://tillval/Tenant/cecilia-holm\", rentalObjectId: \"gid://tillval/RentalObject/lgh-2002\") { ruleSet gateOpen options { optionId status decidedBy file reasons { code } } } }", json!({}))
        .await;
    let options = explained["decisionExplain"]["options"].as_array().unwrap();
    let dishwasher = options
        .iter()
        .find(|o| o["optionId"] == option_id("dm-electrolux-700"))
        .unwrap();
    assert_eq!(dishwasher["decidedBy"], "key_blocks");
    assert_eq!(dishwasher["file"], "key_blocks.rhai");
    let free = options
        .iter()
        .find(|o| o["optionId"] == option_id("tm-bosch-serie6"))
        .unwrap();
    assert_eq!(
        (free["status"].as_str(), free["decidedBy"].as_str()),
        (Some("AVAILABLE"), None)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_publishes_under_load_fail_no_request() {
    let server = Arc::new(start().await);
    let staff = server.staff_token();
    let shipped = source_input(&RuleSetSource::shipped());
    let cap = monthly_cap();
    let stop = Arc::new(AtomicBool::new(false));
    let (served, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let started = Instant::now();
    let load: Vec<_> = (0..4)
        .map(|_| {
            let (server, stop, served, failed) =
                (server.clone(), stop.clone(), served.clone(), failed.clone());
            let token = server.token("anna-svensson");
            let body = json!({ "query": STATUS, "variables": { "id": object_id("lgh-1002") } })
                .to_string();
            tokio::spawn(async move {
                // Bounded: at most 5,000 requests and 60 s per task.
                for _ in 0..5_000 {
                    if stop.load(Ordering::Relaxed) || started.elapsed() > Duration::from_secs(60) {
                        break;
                    }
                    let (status, value) = server.raw(Some(&token), body.clone()).await;
                    if status == 200
                        && value["errors"].is_null()
                        && value["data"]["catalogue"]["categories"].is_array()
                    {
                        served.fetch_add(1, Ordering::Relaxed);
                    } else {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for i in 0..20 {
        let source = if i % 2 == 0 { &cap } else { &shipped };
        let published = server
            .data(Some(&staff), PUBLISH, json!({ "s": source }))
            .await;
        assert_eq!(
            published["ruleSetPublish"]["userErrors"],
            json!([]),
            "publish {i}: {published}"
        );
    }
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }
    let versions = server
        .data(Some(&staff), "{ ruleSets { version } }", json!({}))
        .await;
    assert_eq!(versions["ruleSets"].as_array().unwrap().len(), 21);
    assert_eq!(failed.load(Ordering::Relaxed), 0, "no request failed");
    assert!(
        served.load(Ordering::Relaxed) >= 20,
        "the load ran alongside: {}",
        served.load(Ordering::Relaxed)
    );
}

const IMPACT: &str = "query($s: RuleSetInput!) { ruleSetImpact(source: $s) { complete households householdsChanged totals { newlyBlocked newlyAvailable reasonsChanged } byReason { code counts { newlyBlocked } } byOption { optionId name counts { newlyBlocked } households { tenantId change candidateReasons } } scriptErrors { function count } problems { file line message } } }";

#[tokio::test]
async fn staff_preview_a_candidates_impact_and_tenants_cannot() {
    let server = start().await;
    let staff = server.staff_token();
    // The monthly cap blocks what would take a household over its cap: the preview names the
    // options and households, and nothing is published.
    let preview = server
        .data(Some(&staff), IMPACT, json!({ "s": monthly_cap() }))
        .await;
    let impact = &preview["ruleSetImpact"];
    assert_eq!(impact["complete"], true);
    assert!(impact["households"].as_u64().unwrap() >= 5, "{impact}");
    assert_eq!(impact["problems"], json!([]));
    assert_eq!(impact["scriptErrors"], json!([]));
    let blocked = impact["totals"]["newlyBlocked"].as_u64().unwrap();
    assert!(
        blocked > 0,
        "the cap blocks something in the demo: {impact}"
    );
    let by_option: u64 = impact["byOption"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["counts"]["newlyBlocked"].as_u64().unwrap())
        .sum();
    assert_eq!(blocked, by_option);
    let sets = server
        .data(Some(&staff), "{ ruleSets { version } }", json!({}))
        .await;
    assert!(
        sets["ruleSets"].as_array().unwrap().len() <= 1,
        "a preview publishes nothing: {sets}"
    );

    // A candidate that does not compile: its problem, at its file and line.
    let mut broken = monthly_cap();
    broken["scripts"][0]["content"] = json!("fn option_blocks(tenant, option) {\n    [ \n");
    let refused = server
        .data(Some(&staff), IMPACT, json!({ "s": broken }))
        .await;
    let problem = &refused["ruleSetImpact"]["problems"][0];
    assert!(
        problem["file"]
            .as_str()
            .unwrap()
            .contains("option_blocks.rhai"),
        "{refused}"
    );
    assert!(problem["line"].as_u64().is_some());

    // Tenants get nothing.
    let tenant = server
        .gql(
            Some(&server.token("anna-svensson")),
            IMPACT,
            json!({ "s": monthly_cap() }),
        )
        .await;
    assert_eq!(error_codes(&tenant), vec!["FORBIDDEN"]);
}

#[tokio::test]
async fn staff_see_two_versions_side_by_side() {
    let server = start().await;
    let staff = server.staff_token();
    let published = server
        .data(Some(&staff), PUBLISH, json!({ "s": monthly_cap() }))
        .await;
    let to = published["ruleSetPublish"]["ruleSet"]["version"]
        .as_i64()
        .unwrap();
    let query = "query($f: Int!, $t: Int!) { ruleSetDiff(from: $f, to: $t) { from { version publishedBy } to { version } files { name status lines { kind text oldLine newLine } } } }";
    let diff = server
        .data(Some(&staff), query, json!({ "f": 1, "t": to }))
        .await;
    let files = diff["ruleSetDiff"]["files"].as_array().unwrap();
    let file = |name: &str| files.iter().find(|f| f["name"] == name).unwrap().clone();
    assert_eq!(diff["ruleSetDiff"]["from"]["publishedBy"], "system");
    assert_eq!(file("option_blocks.rhai")["status"], "ADDED");
    let added = file("option_blocks.rhai")["lines"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        added
            .iter()
            .all(|l| l["kind"] == "ADDED" && l["oldLine"].is_null())
    );
    assert_eq!(added[0]["newLine"], 1);
    assert_eq!(file("ruleset.toml")["status"], "CHANGED");
    let unknown = server
        .gql(Some(&staff), query, json!({ "f": 1, "t": 999 }))
        .await;
    assert_eq!(error_codes(&unknown), vec!["NOT_FOUND"]);
    let tenant = server
        .gql(
            Some(&server.token("anna-svensson")),
            query,
            json!({ "f": 1, "t": to }),
        )
        .await;
    assert_eq!(error_codes(&tenant), vec!["FORBIDDEN"]);
}
