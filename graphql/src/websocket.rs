//! `GET /graphql/ws`: subscriptions over graphql-transport-ws. Browsers cannot set headers on a
//! WebSocket, so the token comes in `connection_init`. Frames and messages are bounded (the
//! first one, before anyone is known, smaller still), close frames carry the protocol's codes
//! with reasons that fit a close frame, and a connection ends when its token expires.

use std::sync::Arc;
use std::time::Duration;

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::{State, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use tillval_engine::model::text::prefix_within;

use crate::auth::Auth;
use crate::schema::TillvalSchema;
use crate::server::{AppState, MAX_BODY_BYTES, bearer_token};

/// The most a WebSocket frame or message may hold, as for a POST body.
pub const MAX_WS_MESSAGE_BYTES: usize = MAX_BODY_BYTES;
/// The most the first message (`connection_init`, before anyone is known) may hold.
pub const MAX_WS_INIT_BYTES: usize = 4 * 1024;
/// A close frame's reason is at most 123 bytes (RFC 6455: 125 bytes with the code).
const MAX_CLOSE_REASON_BYTES: usize = 123;
/// graphql-transport-ws close codes.
const CLOSE_BAD_MESSAGE: u16 = 4400;
const CLOSE_FORBIDDEN: u16 = 4403;
const CLOSE_INIT_TIMEOUT: u16 = 4408;
/// The prefix of the reasons `connection_init` is refused with, so they close as 4403.
const FORBIDDEN: &str = "Forbidden: ";

pub(crate) async fn graphql_ws(
    State(state): State<AppState>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let auth = state.auth.clone();
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .max_frame_size(MAX_WS_MESSAGE_BYTES)
        .max_message_size(MAX_WS_MESSAGE_BYTES)
        .on_upgrade(move |socket| serve_ws(socket, state.schema, auth, protocol))
        .into_response()
}

/// One subscription connection: the first message bounded small, the token from
/// `connection_init`, close frames in the protocol's codes and within their size, and the
/// connection closed when the token expires.
async fn serve_ws(
    socket: axum::extract::ws::WebSocket,
    schema: TillvalSchema,
    auth: Arc<Auth>,
    protocol: GraphQLProtocol,
) {
    use axum::extract::ws::{CloseFrame, Message};
    use futures_util::{SinkExt, StreamExt};

    let (mut ws_sink, ws_stream) = socket.split();
    let mut first = true;
    let incoming = ws_stream.map(move |message| {
        let message = message?;
        if let Message::Text(_) | Message::Binary(_) = &message {
            let limit = if first {
                MAX_WS_INIT_BYTES
            } else {
                MAX_WS_MESSAGE_BYTES
            };
            first = false;
            let size = match &message {
                Message::Text(text) => text.len(),
                Message::Binary(bytes) => bytes.len(),
                _ => 0,
            };
            if size > limit {
                return Err(axum::Error::new(format!(
                    "a message of more than {limit} bytes"
                )));
            }
        }
        Ok(message)
    });
    let (to_client, mut outgoing) = tokio::sync::mpsc::channel::<Message>(16);
    let sink = futures_util::sink::unfold(to_client, |to_client, message: Message| async move {
        to_client
            .send(message)
            .await
            .map_err(|_| axum::Error::new("the connection is closed"))?;
        Ok::<_, axum::Error>(to_client)
    });
    let (expiry_tx, mut expiry) = tokio::sync::watch::channel(None::<u64>);
    let graphql = GraphQLWebSocket::new_with_pair(Box::pin(sink), incoming, schema, protocol)
        .on_connection_init(move |payload| async move {
            // Browsers cannot set headers on a WebSocket: the token comes here.
            let token = ["Authorization", "authorization", "token"]
                .iter()
                .find_map(|k| payload.get(*k).and_then(|v| v.as_str()))
                .map(|t| bearer_token(t).unwrap_or(t).to_owned())
                .ok_or_else(|| {
                    async_graphql::Error::new(format!(
                        "{FORBIDDEN}connection_init needs an Authorization token"
                    ))
                })?;
            let verified = auth
                .verify_token(&token)
                .map_err(|e| async_graphql::Error::new(format!("{FORBIDDEN}{e}")))?;
            let _ = expiry_tx.send(Some(verified.expires_at));
            let mut data = async_graphql::Data::default();
            data.insert(verified.identity);
            Ok(data)
        })
        .keepalive_timeout(Some(Duration::from_secs(60)))
        .serve();
    let token_expired = async move {
        loop {
            let expires_at = *expiry.borrow_and_update();
            if let Some(at) = expires_at {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                tokio::time::sleep(Duration::from_secs(at.saturating_sub(now))).await;
                return;
            }
            if expiry.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    };
    let writer = async move {
        tokio::pin!(token_expired);
        loop {
            tokio::select! {
                message = outgoing.recv() => {
                    let Some(message) = message else { break };
                    let closing = matches!(message, Message::Close(_));
                    if ws_sink.send(protocol_close(message)).await.is_err() || closing {
                        break;
                    }
                }
                () = &mut token_expired => {
                    let frame = CloseFrame { code: CLOSE_FORBIDDEN, reason: "Forbidden: the token has expired".into() };
                    let _ = ws_sink.send(Message::Close(Some(frame))).await;
                    break;
                }
            }
        }
    };
    tokio::pin!(writer);
    tokio::select! {
        // The protocol ended (its last message may be a close frame): the writer sends what
        // is queued, then ends when the protocol's side of the channel is gone.
        () = graphql => writer.await,
        // The token expired (or the client went away): the protocol stops here.
        () = &mut writer => {}
    }
}

/// A close frame as graphql-transport-ws names it (async-graphql says 1002 for both a bad
/// message and a refused token, and 3008 for a missing `connection_init`), its reason cut to
/// what a close frame can carry.
fn protocol_close(message: axum::extract::ws::Message) -> axum::extract::ws::Message {
    use axum::extract::ws::{CloseFrame, Message};
    let Message::Close(Some(frame)) = message else {
        return message;
    };
    let reason = frame.reason.as_str();
    let code = match frame.code {
        1002 if reason.starts_with(FORBIDDEN) => CLOSE_FORBIDDEN,
        1002 => CLOSE_BAD_MESSAGE,
        3008 => CLOSE_INIT_TIMEOUT,
        other => other,
    };
    Message::Close(Some(CloseFrame {
        code,
        reason: prefix_within(reason, MAX_CLOSE_REASON_BYTES).into(),
    }))
}
