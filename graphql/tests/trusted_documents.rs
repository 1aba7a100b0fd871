//! Trusted documents (issue 17): with them on, only the manifest's documents run, sent whole
//! or by id, over HTTP and WebSocket; anything else is refused before it is parsed or charged.
//! Off (the default), a document of the manifest may still be sent by id.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use common::{TestServer, error_codes};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tillval_graphql::trusted::{TrustedDocuments, document_hash};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const VIEWER: &str = "query PortalViewer { viewer { rentalObjects { id address } } }";
const CASE_STATUS: &str =
    "subscription PortalCaseStatus { caseStatusChanged { caseNumber status at } }";

async fn trusted_server() -> TestServer {
    common::start_tuned(false, |config| {
        config.trusted_documents = Some(TrustedDocuments::builtin());
    })
    .await
}

async fn post(server: &TestServer, token: &str, body: Value) -> (u16, Value) {
    server.raw(Some(token), body.to_string()).await
}

#[test]
fn the_manifest_file_is_the_pages_documents() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../trusted-documents.json");
    let on_disk = std::fs::read_to_string(&path).expect("trusted-documents.json exists");
    assert!(
        on_disk == TrustedDocuments::builtin().manifest(),
        "trusted-documents.json is out of date: run `cargo run -p tillval-graphql -- documents > trusted-documents.json`"
    );
    assert!(
        on_disk.contains(&document_hash(VIEWER)),
        "the viewer query is in it"
    );
}

#[tokio::test]
async fn a_trusted_document_runs_whole_or_by_id_and_nothing_else_runs() {
    let server = trusted_server().await;
    let anna = server.token("anna-svensson");
    let hash = document_hash(VIEWER);

    let whole = post(&server, &anna, json!({ "query": VIEWER })).await;
    let by_id = post(
        &server,
        &anna,
        json!({ "documentId": format!("sha256:{hash}") }),
    )
    .await;
    let by_apollo = post(
        &server,
        &anna,
        json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } }),
    )
    .await;
    for (status, body) in [&whole, &by_id, &by_apollo] {
        assert_eq!(*status, 200, "{body}");
        assert!(
            body["data"]["viewer"]["rentalObjects"][0]["id"].is_string(),
            "{body}"
        );
    }

    // The same operation written another way, introspection, a made-up query: refused, and
    // not charged (no cost: they were never parsed).
    for query in [
        "query PortalViewer { viewer { rentalObjects { id address } } } ",
        "{ __schema { types { name } } }",
        "{ terms { version } }",
    ] {
        let (status, body) = post(&server, &anna, json!({ "query": query })).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(error_codes(&body), ["UNTRUSTED_DOCUMENT"], "{body}");
        assert!(body["extensions"]["cost"].is_null(), "{body}");
    }
    // Staff too: the pages' documents, and nothing else.
    let staff = server.staff_token();
    let (status, body) = post(
        &server,
        &staff,
        json!({ "query": "{ households(first: 100) { nodes { tenantId } } }" }),
    )
    .await;
    assert_eq!(
        (status, error_codes(&body)),
        (400, vec!["UNTRUSTED_DOCUMENT".to_owned()]),
        "{body}"
    );
}

#[tokio::test]
async fn bad_document_ids_are_refused_clearly() {
    let server = trusted_server().await;
    let anna = server.token("anna-svensson");
    let unknown = "0".repeat(64);
    for body in [
        json!({ "documentId": format!("sha256:{unknown}") }),
        json!({ "documentId": "sha256:xyz" }),
        json!({ "documentId": "x".repeat(60_000) }),
        json!({ "extensions": { "persistedQuery": { "sha256Hash": unknown } } }),
    ] {
        let (status, answer) = post(&server, &anna, body).await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(
            error_codes(&answer),
            ["PERSISTED_QUERY_NOT_FOUND"],
            "{answer}"
        );
    }
    // Not a string where the id goes: no id, so no query.
    for body in [
        json!({ "documentId": 12 }),
        json!({ "extensions": { "persistedQuery": "x" } }),
    ] {
        let (status, answer) = post(&server, &anna, body).await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(error_codes(&answer), ["BAD_REQUEST"], "{answer}");
    }
}

#[tokio::test]
async fn without_trusted_documents_any_document_runs_and_ids_still_work() {
    let server = common::start().await;
    let anna = server.token("anna-svensson");
    let (status, body) = post(&server, &anna, json!({ "query": "{ terms { version } }" })).await;
    assert_eq!(status, 200, "{body}");
    let id = format!("sha256:{}", document_hash(VIEWER));
    let (status, body) = post(&server, &anna, json!({ "documentId": id })).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["viewer"].is_object(), "{body}");
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next(socket: &mut Socket) -> Value {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                return serde_json::from_str(text.as_str()).unwrap();
            }
            Ok(Some(Ok(_))) => continue,
            other => panic!("no message: {other:?}"),
        }
    }
}

fn text(value: Value) -> Message {
    Message::text(value.to_string())
}

#[tokio::test]
async fn over_websocket_only_a_trusted_subscription_is_served() {
    let server = trusted_server().await;
    let mut request = format!("ws://{}/graphql/ws", server.address)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let cecilia = server.token("cecilia-holm");
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {cecilia}") } });
    socket.send(text(init)).await.unwrap();
    assert_eq!(next(&mut socket).await["type"], "connection_ack");

    let untrusted = json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { caseStatusChanged { caseNumber } }" } });
    socket.send(text(untrusted)).await.unwrap();
    let refused = next(&mut socket).await;
    // async-graphql answers a refused request as one result with the error, then completes.
    assert_eq!(refused["id"], "1", "{refused}");
    assert_eq!(refused["payload"]["data"], Value::Null, "{refused}");
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "UNTRUSTED_DOCUMENT",
        "{refused}"
    );
    let complete = next(&mut socket).await;
    assert_eq!(
        (&complete["type"], &complete["id"]),
        (&json!("complete"), &json!("1")),
        "{complete}"
    );

    let trusted = json!({ "id": "2", "type": "subscribe", "payload": { "query": CASE_STATUS } });
    socket.send(text(trusted)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Staff move Cecilia's case with the staff page's own document; the event arrives.
    let document = |start: &str| {
        tillval_graphql::portal::documents()
            .find(|d| d.starts_with(start))
            .unwrap()
    };
    let (_, cases) = post(
        &server,
        &cecilia,
        json!({ "query": document("query PortalCases") }),
    )
    .await;
    let number = cases["data"]["cases"]["nodes"][0]["number"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, moved) = post(
        &server,
        &server.staff_token(),
        json!({ "query": document("mutation StaffTransition"), "variables": { "n": number, "to": "APPROVED" } }),
    )
    .await;
    assert_eq!(
        moved["data"]["caseTransition"]["case"]["status"], "APPROVED",
        "{moved}"
    );
    let event = next(&mut socket).await;
    assert_eq!(event["id"], "2", "{event}");
    assert_eq!(
        event["payload"]["data"]["caseStatusChanged"]["status"], "APPROVED",
        "{event}"
    );
}
