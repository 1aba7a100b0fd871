//! `/metrics` (issue 17): operations counted by name and type, errors by code, latency as a
//! histogram, the gauges read at the scrape; an operation name a client makes up cannot grow
//! the registry past its bound; in production `/metrics` answers only to its own token, and
//! without one it is not served.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use serde_json::json;

async fn scrape(server: &TestServer, token: Option<&str>) -> (u16, String) {
    let mut request = server.client.get(server.url("/metrics"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The value of the sample whose line starts with `prefix` (its name and labels).
fn sample(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn operations_errors_latency_and_gauges_are_counted() {
    let server = start().await;
    let anna = server.token("anna-svensson");
    for _ in 0..3 {
        server
            .data(
                Some(&anna),
                "query Viewer { viewer { tenant { name } } }",
                json!({}),
            )
            .await;
    }
    let value = server
        .gql(
            None,
            "query Viewer { viewer { tenant { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&value), ["UNAUTHENTICATED"]);
    server.gql(Some(&anna), "{", json!({})).await;
    server
        .gql(Some(&anna), "mutation Nothing { noSuchField }", json!({}))
        .await;

    let (status, text) = scrape(&server, None).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        sample(
            &text,
            r#"tillval_graphql_operations_total{operation="Viewer",kind="Query"}"#
        ),
        Some(4.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"tillval_graphql_errors_total{operation="Viewer",code="UNAUTHENTICATED"}"#
        ),
        Some(1.0)
    );
    // A document that does not parse has no type: counted as unknown, with its code.
    assert_eq!(
        sample(
            &text,
            r#"tillval_graphql_operations_total{operation="anonymous",kind="Unknown"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert!(
        text.contains(
            r#"tillval_graphql_errors_total{operation="Nothing",code="GRAPHQL_VALIDATION_FAILED"}"#
        ),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"tillval_graphql_operation_seconds_count{operation="Viewer",kind="Query"}"#
        ),
        Some(4.0)
    );
    for gauge in [
        "tillval_catalogue_cache_hits",
        "tillval_db_pool_connections",
        "tillval_rule_pool_free",
        "tillval_rule_pool_waiting",
        "tillval_outbox_pending",
        "tillval_outbox_oldest_pending_seconds",
        "tillval_outbox_dead",
    ] {
        assert!(
            sample(&text, &format!("{gauge} ")).is_some(),
            "{gauge}: {text}"
        );
    }
    assert!(sample(&text, "tillval_db_pool_connections ").unwrap() >= 1.0);

    // Rule evaluation, per function and rule-set version: a catalogue runs the gate and the
    // keys' rules; the counts grow with each one.
    let catalogue = r#"query($o: ID!) { catalogue(rentalObjectId: $o) { gate { open } } }"#;
    let object = json!({ "o": common::object_id("lgh-1002") });
    server.data(Some(&anna), catalogue, object.clone()).await;
    let (_, text) = scrape(&server, None).await;
    let calls = |text: &str, function: &str| {
        text.lines()
            .find(|l| {
                l.starts_with(&format!(
                    "tillval_rule_calls_total{{function=\"{function}\""
                ))
            })
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
    };
    let gate = calls(&text, "order_blocks").unwrap_or_else(|| panic!("{text}"));
    assert!(gate >= 1.0, "{text}");
    assert!(
        text.contains("rule_set=\"tillval default "),
        "labelled with the set: {text}"
    );
    assert!(
        text.contains("tillval_rule_seconds_total{function=\"order_blocks\""),
        "{text}"
    );
    assert!(
        text.contains("# TYPE tillval_rule_budget_hits counter"),
        "{text}"
    );
    // The same household unchanged: its view is the memoised one, and no rule runs.
    server.data(Some(&anna), catalogue, object).await;
    let (_, text) = scrape(&server, None).await;
    assert_eq!(calls(&text, "order_blocks"), Some(gate), "{text}");
    // Another household: decided, so the counts grow.
    let bertil = server.token("bertil-lind");
    let other = json!({ "o": common::object_id("lgh-1004") });
    server.data(Some(&bertil), catalogue, other).await;
    let (_, text) = scrape(&server, None).await;
    assert!(calls(&text, "order_blocks").unwrap() > gate, "{text}");

    // Made-up names: at most 200 kept as labels, the rest counted as `other`.
    for n in 0..230 {
        server
            .gql(
                Some(&anna),
                &format!("query Made{n} {{ __typename }}"),
                json!({}),
            )
            .await;
    }
    server
        .gql(Some(&anna), "query Ä { __typename }", json!({}))
        .await;
    let (_, text) = scrape(&server, None).await;
    let named = text
        .lines()
        .filter(|l| l.starts_with("tillval_graphql_operations_total{operation=\"Made"))
        .count();
    assert!(named <= 200, "{named} names kept");
    assert!(
        sample(
            &text,
            r#"tillval_graphql_operations_total{operation="other",kind="Query"}"#
        )
        .unwrap()
            >= 30.0,
        "{text}"
    );
}

#[tokio::test]
async fn in_production_metrics_answer_only_to_their_token() {
    let without = start_with(true).await;
    let (status, _) = scrape(&without, None).await;
    assert_eq!(status, 404, "no token configured: not served");

    let with = start_tuned(true, |config| {
        config.metrics_token = Some("a-metrics-token-of-its-own".into());
    })
    .await;
    assert_eq!(scrape(&with, None).await.0, 401);
    assert_eq!(
        scrape(&with, Some("a-metrics-token-of-its-owN")).await.0,
        401
    );
    let staff = with.staff_token();
    assert_eq!(
        scrape(&with, Some(&staff)).await.0,
        401,
        "a staff token is not the metrics token"
    );
    with.gql(None, "query Ping { __typename }", json!({})).await;
    let (status, text) = scrape(&with, Some("a-metrics-token-of-its-own")).await;
    assert_eq!(status, 200);
    assert_eq!(
        sample(
            &text,
            r#"tillval_graphql_operations_total{operation="Ping",kind="Query"}"#
        ),
        Some(1.0),
        "{text}"
    );
}

/// Every metric the Grafana dashboard in docs/ queries is one this server exports.
#[tokio::test]
async fn the_dashboard_queries_only_metrics_that_exist() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/grafana/tillval-dashboard.json");
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let server = start().await;
    // Traffic that fills every family: an answer, an error, the rules run by a catalogue.
    let anna = server.token("anna-svensson");
    let catalogue = "query($o: ID!) { catalogue(rentalObjectId: $o) { gate { open } } }";
    let object = json!({ "o": common::object_id("lgh-1002") });
    server.data(Some(&anna), catalogue, object).await;
    server
        .gql(None, "{ viewer { tenant { name } } }", json!({}))
        .await;
    let (_, text) = scrape(&server, None).await;
    let exported: std::collections::HashSet<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let mut queried = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if !word.starts_with("tillval_") {
                    continue;
                }
                queried += 1;
                let family = ["_bucket", "_count", "_sum", "_total"]
                    .iter()
                    .find_map(|suffix| word.strip_suffix(suffix))
                    .unwrap_or(word);
                assert!(
                    exported.contains(family),
                    "the dashboard's {word} (panel {}) is not exported",
                    panel["title"]
                );
            }
        }
    }
    assert!(queried >= 14, "{queried} metric names in the dashboard");
}
