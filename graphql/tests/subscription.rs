//! `caseStatusChanged` over WebSocket (graphql-transport-ws), the token in `connection_init`:
//! a status change made by staff reaches the owning tenant, and nothing reaches another.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(server: &TestServer, payload: Value) -> Socket {
    let mut request = format!("ws://{}/graphql/ws", server.address)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    socket
        .send(Message::text(
            json!({ "type": "connection_init", "payload": payload }).to_string(),
        ))
        .await
        .unwrap();
    socket
}

/// The next JSON message, or `None` if none comes within `wait`.
async fn next(socket: &mut Socket, wait: Duration) -> Option<Value> {
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

async fn subscribe(server: &TestServer, tenant: &str) -> Socket {
    let mut socket = connect(
        server,
        json!({ "Authorization": format!("Bearer {}", server.token(tenant)) }),
    )
    .await;
    assert_eq!(
        next(&mut socket, Duration::from_secs(5)).await.unwrap()["type"],
        "connection_ack"
    );
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { caseStatusChanged { caseNumber status } }" } });
    socket
        .send(Message::text(subscribe.to_string()))
        .await
        .unwrap();
    socket
}

#[tokio::test]
async fn a_staff_transition_reaches_the_owner_and_nobody_else() {
    let server = start().await;
    let mut cecilia = subscribe(&server, "cecilia-holm").await;
    let mut anna = subscribe(&server, "anna-svensson").await;
    // Let both subscriptions register before the change.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let token = server.token("cecilia-holm");
    let number = server
        .data(
            Some(&token),
            "{ cases { edges { node { number } } } }",
            json!({}),
        )
        .await["cases"]["edges"][0]["node"]["number"]
        .as_str()
        .unwrap()
        .to_owned();
    let moved = server
        .data(Some(&server.staff_token()), "mutation($n: String!) { caseTransition(number: $n, to: APPROVED) { case { status } } }", json!({ "n": number }))
        .await;
    assert_eq!(moved["caseTransition"]["case"]["status"], "APPROVED");

    let event = next(&mut cecilia, Duration::from_secs(5))
        .await
        .expect("the owner hears of it");
    assert_eq!(event["type"], "next");
    assert_eq!(
        event["payload"]["data"]["caseStatusChanged"],
        json!({ "caseNumber": number, "status": "APPROVED" })
    );
    assert!(
        next(&mut anna, Duration::from_millis(500)).await.is_none(),
        "another tenant hears nothing"
    );
}

#[tokio::test]
async fn a_connection_without_a_valid_token_is_refused() {
    let server = start().await;
    for payload in [json!({}), json!({ "Authorization": "Bearer not-a-token" })] {
        let mut socket = connect(&server, payload.clone()).await;
        let answer = next(&mut socket, Duration::from_secs(5)).await;
        assert!(
            answer
                .as_ref()
                .is_none_or(|a| a["type"] != "connection_ack"),
            "{payload}: {answer:?}"
        );
    }
}
