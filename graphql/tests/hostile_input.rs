//! What a hostile client and a careless rule author tried against the server (issue 11), each
//! as a regression test over real HTTP on 127.0.0.1: exponential fragments, slow rule sets,
//! silent connections, oversized WebSocket frames, bad close frames, content types, tokens.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tillval_engine::rules::{RuleSetSource, ScriptSource};
use tillval_graphql::listener::ConnectionLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// `{ ...F0 }` where each fragment spreads the next `spreads` times, `levels` deep: 2^28
/// selections once expanded, in about a kilobyte.
fn fan_out(levels: usize, spreads: usize) -> String {
    let mut query = String::from("{ ...F0 }\n");
    for level in 0..levels {
        let next = format!("...F{} ", level + 1);
        query.push_str(&format!(
            "fragment F{level} on Query {{ {} }}\n",
            next.repeat(spreads)
        ));
    }
    query.push_str(&format!(
        "fragment F{levels} on Query {{ terms {{ text }} }}\n"
    ));
    query
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exponential_fragment_fan_out_is_refused_at_once_without_a_token() {
    let server = start().await;
    for (levels, spreads) in [(27, 2), (29, 2), (8, 16)] {
        let query = fan_out(levels, spreads);
        assert!(query.len() < 2_000, "{}", query.len());
        let started = Instant::now();
        let (status, answer) = server
            .raw(None, json!({ "query": query }).to_string())
            .await;
        let took = started.elapsed();
        assert_eq!(status, 200);
        assert_eq!(error_codes(&answer), vec!["QUERY_TOO_LARGE"], "{answer}");
        // Before: 29 s of CPU for 28 levels. The count is linear, so this is milliseconds;
        // the margin is for a loaded CI machine.
        assert!(
            took < Duration::from_millis(500),
            "{levels}x{spreads}: {took:?}"
        );
    }
    // A cycle of fragments that spread each other twice is refused as fast.
    let cyclic = "{ ...A } fragment A on Query { ...B ...B } fragment B on Query { ...A ...A }";
    let started = Instant::now();
    let (_, answer) = server
        .raw(None, json!({ "query": cyclic }).to_string())
        .await;
    assert_eq!(
        error_codes(&answer),
        vec!["GRAPHQL_VALIDATION_FAILED"],
        "{answer}"
    );
    assert!(started.elapsed() < Duration::from_millis(500));
    // An ordinary query with fragments still runs.
    let token = server.token("anna-svensson");
    let data = server
        .data(
            Some(&token),
            "query { ...V } fragment V on Query { viewer { tenant { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["viewer"]["tenant"]["name"], "Anna Svensson");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_catalogue_aliases_are_refused_before_they_run() {
    let server = start().await;
    let token = server.token("anna-svensson");
    let aliases: String = (0..40)
        .map(|i| format!("c{i}: catalogue(rentalObjectId: $id) {{ gate {{ open }} }} "))
        .collect();
    let query = format!("query($id: ID!) {{ {aliases} }}");
    let answer = server
        .gql(Some(&token), &query, json!({ "id": object_id("lgh-1002") }))
        .await;
    assert_eq!(
        error_codes(&answer),
        vec!["GRAPHQL_VALIDATION_FAILED"],
        "{answer}"
    );
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("complex")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_json_posts_are_executed_and_the_bearer_scheme_is_case_insensitive() {
    let server = start().await;
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let mut request = server
            .client
            .post(server.url("/graphql"))
            .body(json!({ "query": "{ terms { version } }" }).to_string());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 415, "{content_type:?}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(error_codes(&answer), vec!["UNSUPPORTED_MEDIA_TYPE"]);
    }
    let token = server.token("anna-svensson");
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let answer: Value = server
            .client
            .post(server.url("/graphql"))
            .header("content-type", "application/json; charset=utf-8")
            .header("authorization", format!("{scheme} {token}"))
            .body(json!({ "query": "{ viewer { tenant { name } } }" }).to_string())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            answer["data"]["viewer"]["tenant"]["name"], "Anna Svensson",
            "{scheme}"
        );
    }
}

/// A set as valid as any, but slow: each option costs thousands of operations.
fn slow_set(extra: &str) -> RuleSetSource {
    RuleSetSource {
        manifest: "name = \"slow\"\nversion = \"1.0.0\"\n".into(),
        scripts: vec![ScriptSource {
            name: "option_blocks.rhai".into(),
            code: format!(
                "fn option_blocks(tenant, option) {{\n  {extra}\n  let n = 0;\n  for i in 0..4000 {{ n += i; }}\n  if n < 0 {{ return [#{{ code: \"DEBT\" }}]; }}\n  []\n}}"
            ),
        }],
        messages_sv: None,
        messages_en: None,
        tests: Vec::new(),
    }
}

const CATALOGUE: &str = "query($id: ID!) { catalogue(rentalObjectId: $id) { categories { options { id availability { status reasons { code } } } } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_rule_set_under_concurrent_load_leaves_health_fast_and_answers_unchanged() {
    let server = start().await;
    server
        .services
        .rule_set_publish(&slow_set(""), "test")
        .await
        .unwrap();
    let token = server.token("anna-svensson");
    let variables = json!({ "id": object_id("lgh-1002") });
    let alone = server
        .data(Some(&token), CATALOGUE, variables.clone())
        .await;
    assert!(alone.to_string().contains("AVAILABLE"));
    assert!(!alone.to_string().contains("RULE_ERROR"), "{alone}");

    let server = std::sync::Arc::new(server);
    let mut loaders = Vec::new();
    for _ in 0..4 {
        let (server, token, variables) = (server.clone(), token.clone(), variables.clone());
        loaders.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            for _ in 0..3 {
                answers.push(
                    server
                        .data(Some(&token), CATALOGUE, variables.clone())
                        .await,
                );
            }
            answers
        }));
    }
    let mut slowest = Duration::ZERO;
    let mut probes = 0;
    while loaders.iter().any(|l| !l.is_finished()) && probes < 200 {
        let started = Instant::now();
        let health = server
            .client
            .get(server.url("/health"))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status().as_u16(), 200);
        slowest = slowest.max(started.elapsed());
        probes += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for loader in loaders {
        for answer in loader.await.unwrap() {
            assert_eq!(answer, alone, "the same inputs, the same decisions");
        }
    }
    assert!(probes > 0);
    println!("slow set, 4 loaders x 3 catalogues: {probes} /health probes, slowest {slowest:?}");
    // Before: /health waited 4 s behind the rules. Now they run on their own threads.
    assert!(
        slowest < Duration::from_millis(250),
        "slowest /health: {slowest:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_set_that_fails_only_for_the_databases_real_tenants_is_refused_at_publish() {
    let server = start().await;
    let running = server.services.rules().name().to_owned();
    let set = slow_set("if ![\"anna-svensson\"].contains(tenant.id) { return []; }\n  loop { }");
    let error = server
        .services
        .rule_set_publish(&set, "test")
        .await
        .unwrap_err();
    let text = format!("{error:?}");
    assert!(
        text.contains("anna-svensson") && text.contains("operations"),
        "{text}"
    );
    // The running set stays.
    assert_eq!(server.services.rules().name(), running);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_half_header_connections_are_closed_and_the_cap_holds() {
    let limits = ConnectionLimits {
        header_read_timeout: Duration::from_millis(300),
        max_connections: 6,
        shutdown_grace: Duration::from_secs(1),
    };
    let server = start_configured(false, limits).await;
    let mut held = Vec::new();
    for i in 0..6 {
        let mut stream = tokio::net::TcpStream::connect(server.address)
            .await
            .unwrap();
        if i % 2 == 1 {
            stream
                .write_all(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-")
                .await
                .unwrap();
        }
        held.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Over the cap: closed at once, not left waiting.
    let mut over = tokio::net::TcpStream::connect(server.address)
        .await
        .unwrap();
    let mut buffer = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(2), over.read(&mut buffer)).await;
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{read:?}");
    // The silent and the half-header ones are closed after the timeout.
    let started = Instant::now();
    for stream in &mut held {
        let read = tokio::time::timeout(Duration::from_secs(3), stream.read(&mut buffer)).await;
        assert!(read.is_ok(), "still open after {:?}", started.elapsed());
    }
    assert!(started.elapsed() < Duration::from_secs(2));
    drop(held);
    tokio::time::sleep(Duration::from_millis(100)).await;
    // And the server serves again.
    let health = server
        .client
        .get(server.url("/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn socket(server: &TestServer) -> Socket {
    let mut request = format!("ws://{}/graphql/ws", server.address)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let config = WebSocketConfig::default()
        .max_frame_size(Some(64 << 20))
        .max_message_size(Some(64 << 20));
    let (socket, _) = tokio_tungstenite::connect_async_with_config(request, Some(config), false)
        .await
        .unwrap();
    socket
}

/// What the server does next: a text, a close frame (code and reason), or the end.
async fn outcome(socket: &mut Socket) -> String {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.next()).await {
            Err(_) => return "nothing within 10 s".into(),
            Ok(None) | Ok(Some(Err(_))) => return "closed".into(),
            Ok(Some(Ok(Message::Text(text)))) => return format!("text {text}"),
            Ok(Some(Ok(Message::Close(Some(frame))))) => {
                return format!("close {} {}", u16::from(frame.code), frame.reason);
            }
            Ok(Some(Ok(Message::Close(None)))) => return "close".into(),
            Ok(Some(Ok(_))) => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_websocket_messages_close_the_connection_before_they_are_parsed() {
    let server = start().await;
    let token = server.token("anna-svensson");
    // 16 MB, and 100 KB: over the frame limit; 5 KB: over the limit before connection_init.
    // Each carries a valid token, so only the size keeps it from being acknowledged.
    for size in [16 << 20, 100 << 10, 5 << 10] {
        let mut socket = socket(&server).await;
        let _ = send_init(&mut socket, &token, size).await;
        let seen = outcome(&mut socket).await;
        assert!(!seen.starts_with("text"), "{size}: {seen}");
    }
    // The same init, small, is acknowledged.
    let mut socket = socket(&server).await;
    send_init(&mut socket, &token, 1 << 10).await.unwrap();
    assert!(outcome(&mut socket).await.contains("connection_ack"));
}

/// Sends `connection_init` with `token`, padded to about `size` bytes.
async fn send_init(
    socket: &mut Socket,
    token: &str,
    size: usize,
) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    let init = json!({
        "type": "connection_init",
        "payload": { "Authorization": format!("Bearer {token}"), "pad": "x".repeat(size) }
    });
    socket.send(Message::text(init.to_string())).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_closes_with_4403_and_a_valid_close_frame() {
    let server = start().await;
    let mut socket = socket(&server).await;
    let forged = format!("{}x", server.token("anna-svensson"));
    send_init(&mut socket, &forged, 0).await.unwrap();
    let seen = outcome(&mut socket).await;
    assert!(
        seen.starts_with("close 4403 Forbidden: the token is invalid"),
        "{seen}"
    );
    let reason = seen.trim_start_matches("close 4403 ");
    assert!(reason.len() <= 123, "{}", reason.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_is_closed_when_its_token_expires() {
    let server = start().await;
    let mut socket = socket(&server).await;
    let token = server
        .auth
        .issue("cecilia-holm", tillval_graphql::auth::Role::Tenant, 2)
        .unwrap();
    send_init(&mut socket, &token, 0).await.unwrap();
    assert!(outcome(&mut socket).await.contains("connection_ack"));
    let started = Instant::now();
    let seen = outcome(&mut socket).await;
    assert_eq!(seen, "close 4403 Forbidden: the token has expired");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_lived_and_not_yet_valid_tokens_are_refused_in_our_own_words() {
    let server = start().await;
    let now = chrono::Utc::now().timestamp();
    let sign = |claims: Value| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(SECRET),
        )
        .unwrap()
    };
    for (claims, message) in [
        (
            json!({ "sub": "anna-svensson", "role": "tenant", "exp": 253_402_300_799i64 }),
            "the token lives longer than",
        ),
        (
            json!({ "sub": "anna-svensson", "role": "tenant", "exp": now + 600, "nbf": now + 300 }),
            "the token is not valid yet",
        ),
        (
            json!({ "sub": "anna-svensson", "role": "tenant" }),
            "the token is invalid",
        ),
    ] {
        let (status, answer) = server
            .raw(
                Some(&sign(claims)),
                json!({ "query": "{ terms { version } }" }).to_string(),
            )
            .await;
        assert_eq!(status, 401);
        let text = answer["errors"][0]["message"].as_str().unwrap();
        assert!(text.starts_with(message), "{text}");
    }
}
