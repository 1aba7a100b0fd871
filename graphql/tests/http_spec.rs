//! GraphQL over HTTP (issue 17): the specification's own audit (`serverAudits` of the npm
//! package `graphql-http`, run by `tests/browser/http_audit.mjs`) passes against the server
//! with no warning; and the behaviour it checks, asserted here too: a client that accepts
//! `application/graphql-response+json` gets that type and 400 without `data` for a document
//! that does not parse or validate or a variable that does not coerce; a client that accepts
//! only `application/json` gets 200 as before; a POST that is not JSON is never executed.
//!
//! The audit needs node and `npm ci` in `tests/browser`: without them it says it is skipped,
//! and with `TILLVAL_REQUIRE_BROWSER=1` (set by `.ci/run`, which installs both) it fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

fn node_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_graphql_over_http_audit_passes_without_a_warning() {
    let ready = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
        && node_dir().join("node_modules/graphql-http").exists();
    if !ready {
        assert!(
            std::env::var("TILLVAL_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "TILLVAL_REQUIRE_BROWSER=1 but node or graphql-http (npm ci in tests/browser) is missing"
        );
        eprintln!("skipped: the GraphQL-over-HTTP audit needs node and npm ci in tests/browser");
        return;
    }
    let server = common::start().await;
    let output = tokio::process::Command::new("node")
        .arg(node_dir().join("http_audit.mjs"))
        .arg(server.url("/graphql"))
        .current_dir(node_dir())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(std::time::Duration::from_secs(120), output)
        .await
        .expect("the audit ended within 120 s")
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let audits: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let passed = audits.iter().filter(|a| a["status"] == "ok").count();
    let bad: Vec<&Value> = audits
        .iter()
        .filter(|a| a["status"] == "warn" || a["status"] == "error")
        .collect();
    assert!(audits.len() > 50, "{} audits", audits.len());
    assert!(bad.is_empty(), "{bad:#?}");
    let notices: Vec<&str> = audits
        .iter()
        .filter(|a| a["status"] == "notice")
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    println!(
        "{passed} audits passed, no warning; notices (GET, which tillval does not take): {notices:?}"
    );
}

async fn post(server: &common::TestServer, accept: &str, body: Value) -> (u16, String, Value) {
    let response = server
        .client
        .post(server.url("/graphql"))
        .header("content-type", "application/json")
        .header("accept", accept)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let media = response
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    (status, media, response.json().await.unwrap())
}

#[tokio::test]
async fn request_errors_are_400_for_graphql_response_json_and_200_for_json() {
    let server = common::start().await;
    let modern = "application/graphql-response+json, application/json;q=0.9";
    for (what, body) in [
        ("a parse error", json!({ "query": "{" })),
        ("a validation error", json!({ "query": "{ noSuchField }" })),
        (
            "a variable that does not coerce",
            json!({ "query": "query($n: String!) { case(number: $n) { status } }", "variables": { "n": 7 } }),
        ),
    ] {
        let (status, media, value) = post(&server, modern, body.clone()).await;
        assert_eq!(status, 400, "{what}: {value}");
        assert!(
            media.starts_with("application/graphql-response+json"),
            "{what}: {media}"
        );
        assert!(value.get("data").is_none(), "{what}: {value}");
        assert!(!value["errors"].as_array().unwrap().is_empty(), "{what}");
        let (status, media, value) = post(&server, "application/json", body).await;
        assert_eq!(
            (status, media.as_str()),
            (200, "application/json"),
            "{what}: {value}"
        );
        assert!(value.get("data").is_some(), "{what}: {value}");
    }
    // An error in execution is not a request error: 200, with data.
    let (status, _, value) = post(
        &server,
        modern,
        json!({ "query": "{ viewer { tenant { name } } }" }),
    )
    .await;
    assert_eq!(status, 200, "{value}");
    assert_eq!(error_codes(&value), ["UNAUTHENTICATED"]);
    // q=0 refuses the new type: the old one answers.
    let (_, media, _) = post(
        &server,
        "application/graphql-response+json;q=0, application/json",
        json!({ "query": "{ __typename }" }),
    )
    .await;
    assert_eq!(media, "application/json");
    // A POST that is not JSON is never executed.
    let response = server
        .client
        .post(server.url("/graphql"))
        .body(r#"{"query":"{ __typename }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 415);
}

use common::error_codes;
