//! Fair limits (issue 17): a request is charged its cost (selected fields) to its caller and its
//! address; past the burst a caller gets a GraphQL-shaped 429 with `Retry-After` while another
//! tenant is served; the cost is echoed in `extensions.cost`; an address is limited across its
//! callers; limits that would stop everything are refused at start.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use serde_json::{Value, json};
use tillval_graphql::limits::LimitsConfig;

const VIEWER: &str = "{ viewer { tenant { name } } }"; // 3 fields

async fn post(
    server: &TestServer,
    token: Option<&str>,
    query: &str,
) -> (u16, Option<String>, Value) {
    let mut request = server
        .client
        .post(server.url("/graphql"))
        .header("content-type", "application/json")
        .body(json!({ "query": query }).to_string());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, retry_after, response.json().await.unwrap())
}

#[tokio::test]
async fn a_tenant_past_its_burst_waits_and_another_is_served() {
    let server = start_tuned(false, |config| {
        config.limits = Some(LimitsConfig {
            subject_per_second: 1,
            subject_burst: 30,
            address_per_second: 10_000,
            address_burst: 100_000,
        });
    })
    .await;
    let anna = server.token("anna-svensson");
    let bertil = server.token("bertil-lind");
    let (status, _, value) = post(&server, Some(&anna), VIEWER).await;
    assert_eq!(status, 200, "{value}");
    assert_eq!(
        value["extensions"]["cost"], 3,
        "the cost is echoed: {value}"
    );

    let mut refused = None;
    for _ in 0..30 {
        let (status, retry_after, value) = post(&server, Some(&anna), VIEWER).await;
        if status == 429 {
            refused = Some((retry_after, value));
            break;
        }
        assert_eq!(status, 200, "{value}");
    }
    let (retry_after, value) = refused.expect("30 requests of cost 3 exceed a burst of 30");
    let seconds: u64 = retry_after.expect("Retry-After").parse().unwrap();
    assert!((1..=3).contains(&seconds), "{seconds}");
    assert_eq!(error_codes(&value), ["RATE_LIMITED"]);
    assert_eq!(value["errors"][0]["extensions"]["retryAfter"], seconds);
    assert_eq!(value["errors"][0]["extensions"]["cost"], 3);

    // Meanwhile another tenant is served.
    let (status, _, value) = post(&server, Some(&bertil), VIEWER).await;
    assert_eq!(status, 200, "{value}");
    assert!(value.get("errors").is_none(), "{value}");

    // The 429 is counted for the operator (it never reached the schema's own counts).
    let metrics = reqwest::get(server.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let limited = metrics
        .lines()
        .find(|l| l.starts_with("tillval_limited_requests_total "))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok());
    assert_eq!(limited, Some(1.0), "{metrics}");
}

#[tokio::test]
async fn one_address_is_limited_across_its_callers() {
    let server = start_tuned(false, |config| {
        config.limits = Some(LimitsConfig {
            subject_per_second: 10_000,
            subject_burst: 100_000,
            address_per_second: 1,
            address_burst: 10,
        });
    })
    .await;
    let mut statuses = Vec::new();
    for n in 0..12 {
        // Anonymous, and a different tenant each time: only the address is the same.
        let token = server.token(["anna-svensson", "bertil-lind", "cecilia-holm"][n % 3]);
        let token = if n % 2 == 0 { None } else { Some(token) };
        statuses.push(post(&server, token.as_deref(), "{ __typename }").await.0);
    }
    assert!(statuses[..10].iter().all(|s| *s == 200), "{statuses:?}");
    assert!(statuses[10..].contains(&429), "{statuses:?}");
}

#[tokio::test]
async fn without_limits_nobody_waits() {
    let server = start().await;
    let anna = server.token("anna-svensson");
    for _ in 0..50 {
        let (status, _, value) = post(&server, Some(&anna), VIEWER).await;
        assert_eq!(status, 200, "{value}");
    }
}

#[tokio::test]
async fn limits_that_stop_everything_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let auth = std::sync::Arc::new(tillval_graphql::auth::Auth::new(SECRET).unwrap());
    let mut config = tillval_graphql::AppConfig::new(
        format!("sqlite://{}", dir.path().join("l.db").display()),
        auth,
    );
    config.limits = Some(LimitsConfig {
        subject_burst: 0,
        ..LimitsConfig::default()
    });
    let built = tillval_graphql::App::build(config).await;
    let error = built.expect_err("a burst of 0 is refused");
    let chain = format!("{error}: {}", std::error::Error::source(&error).unwrap());
    assert!(chain.contains("burst must be more than 0"), "{chain}");
}
