//! The HTTP side: `POST /graphql` (one operation per request, bounded body, bearer token),
//! `GET /graphql/ws` (subscriptions, token in `connection_init`), GraphiQL outside
//! production, `/health` and `/ready`. Every request gets an id in the logs.

use std::sync::Arc;
use std::time::Duration;

use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, GraphiQLSource};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::Router;
use axum::body::Body;
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use tillval_engine::model::Language;
use tillval_engine::service::Services;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::AppStore;
use crate::auth::{Auth, Identity};
use crate::schema::TillvalSchema;

/// The most a request body may hold; a query larger than this is refused before parsing.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub schema: TillvalSchema,
    pub services: Services<AppStore>,
    pub auth: Arc<Auth>,
    pub production: bool,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("production", &self.production)
            .finish_non_exhaustive()
    }
}

pub fn router(state: AppState) -> Router {
    let x_request_id = header::HeaderName::from_static("x-request-id");
    let mut router = Router::new()
        .route("/graphql", post(graphql))
        .route("/graphql/ws", get(graphql_ws))
        .route("/pictures/{file}", get(crate::pictures::picture))
        .route("/health", get(|| async { "ok" }))
        .route("/ready", get(ready));
    if !state.production {
        router = router.route("/graphiql", get(graphiql));
    }
    router
        .with_state(state)
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<Body>| {
            let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
}

/// A GraphQL-shaped error response: clients read one format whatever went wrong.
fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body =
        serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.to_string(),
    )
        .into_response()
}

/// The caller's identity from `Authorization: Bearer …`; `Err` says why a token was refused.
fn identity(headers: &HeaderMap, auth: &Auth) -> Result<Option<Identity>, String> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(bearer_token)
        .ok_or_else(|| "expected `Authorization: Bearer <token>`".to_owned())?;
    auth.verify(token).map(Some).map_err(|e| e.to_string())
}

/// The token of `Bearer <token>`; the scheme is case-insensitive (RFC 9110).
pub fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(char::is_whitespace)?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// GraphQL over HTTP takes `application/json` bodies only: a form or `text/plain` POST (what a
/// page on another site can send without asking) is never executed.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

fn language(headers: &HeaderMap) -> Language {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Language::from_accept_language)
        .unwrap_or_default()
}

async fn graphql(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    if !is_json(&headers) {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "send the request as `Content-Type: application/json`",
        );
    }
    let identity = match identity(&headers, &state.auth) {
        Ok(identity) => identity,
        Err(why) => return error_response(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", &why),
    };
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                &format!(
                    "the request body is larger than {} KiB",
                    MAX_BODY_BYTES / 1024
                ),
            );
        }
    };
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return error_response(
            StatusCode::BAD_REQUEST,
            "BATCH_NOT_SUPPORTED",
            "send one operation per request",
        );
    }
    let request: async_graphql::Request = match serde_json::from_slice(&bytes) {
        Ok(request) => request,
        Err(e) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("the body is not a GraphQL request: {e}"),
            );
        }
    };
    if request.query.trim().is_empty() {
        return error_response(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "the request has no query",
        );
    }
    let mut request = request.data(language(&headers));
    if let Some(identity) = identity {
        request = request.data(identity);
    }
    let mut response = state.schema.execute(request).await;
    // Parse and validation errors carry no code of their own; give them one.
    for error in &mut response.errors {
        let has_code = error
            .extensions
            .as_ref()
            .is_some_and(|e| e.get("code").is_some());
        if !has_code {
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", "GRAPHQL_VALIDATION_FAILED");
        }
    }
    let body = match serde_json::to_vec(&response) {
        Ok(body) => body,
        Err(e) => {
            return error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                &e.to_string(),
            );
        }
    };
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

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

async fn graphql_ws(
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
            if message.clone().into_data().len() > limit {
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
    let mut end = reason.len().min(MAX_CLOSE_REASON_BYTES);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.get(..end).unwrap_or("").into(),
    }))
}

async fn graphiql() -> impl IntoResponse {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .finish(),
    )
}

async fn ready(State(state): State<AppState>) -> Response {
    match state.services.ready().await {
        Ok(_) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}
