//! The HTTP side: `POST /graphql` (one operation per request, bounded body, bearer token),
//! `GET /graphql/ws` (subscriptions: `websocket`), GraphiQL outside
//! production, `/health` and `/ready`. Every request gets an id in the logs.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tillval_engine::model::Language;
use tillval_services::service::Services;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::AppStore;
use crate::auth::{Auth, Identity};
use crate::schema::TillvalSchema;

/// The most a request body may hold; a query larger than this is refused before parsing.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The most a body may hold from staff or the landlord's systems, whose imports carry a
/// landlord's facts and catalogue (tens of thousands of records) in one batch.
pub const MAX_TRUSTED_BODY_BYTES: usize = 16 * 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub schema: TillvalSchema,
    pub services: Services<AppStore>,
    pub auth: Arc<Auth>,
    pub production: bool,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// See [`crate::AppConfig::metrics_token`].
    pub metrics_token: Option<String>,
    pub limits: Option<Arc<crate::limits::FairLimits>>,
    /// The documents a request may name by id; with `trusted_only`, the only ones that run.
    pub documents: Arc<crate::trusted::TrustedDocuments>,
    pub trusted_only: bool,
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
        .route("/graphql/ws", get(crate::websocket::graphql_ws))
        .route("/health", get(|| async { "ok" }))
        .route("/ready", get(ready))
        .merge(crate::portal::routes(state.production));
    if !state.production || state.metrics_token.is_some() {
        router = router.route("/metrics", get(metrics));
    }
    if !state.production {
        // The demo's drawn pictures and GraphiQL are for development; a landlord's pictures
        // are addresses of their own.
        router = router
            .merge(crate::graphiql::routes())
            .route("/pictures/{file}", get(crate::pictures::picture));
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

/// A GraphQL-shaped 429: how long to wait, in the header and the error, and what the request
/// would have cost.
fn too_many_requests(wait: std::time::Duration, cost: u32) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let seconds = seconds.max(1);
    let body = serde_json::json!({ "errors": [{
        "message": format!("too many requests: try again in {seconds} s"),
        "extensions": { "code": "RATE_LIMITED", "retryAfter": seconds, "cost": cost },
    }] });
    (
        StatusCode::TOO_MANY_REQUESTS,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::RETRY_AFTER, HeaderValue::from(seconds)),
        ],
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

async fn graphql(State(state): State<AppState>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    // Where the request came from (the accept loop says; absent in tests that call the router).
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0);
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
    // The token was checked first: only a trusted role may send a large body.
    let limit = match identity {
        Some(Identity::Staff(_) | Identity::Integration(_)) => MAX_TRUSTED_BODY_BYTES,
        Some(Identity::Tenant(_)) | None => MAX_BODY_BYTES,
    };
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                &format!("the request body is larger than {} KiB", limit / 1024),
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
    let mut request: async_graphql::Request = match serde_json::from_slice(&bytes) {
        Ok(request) => request,
        Err(e) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("the body is not a GraphQL request: {e}"),
            );
        }
    };
    if request.query.is_empty() {
        match document_by_id(&bytes, &request, &state.documents) {
            Ok(Some(document)) => request.query = document,
            Ok(None) => {}
            Err(UnknownDocument) => {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    "PERSISTED_QUERY_NOT_FOUND",
                    "no document of the manifest has this id (`tillval documents` lists them)",
                );
            }
        }
    }
    if request.query.trim().is_empty() {
        return error_response(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "the request has no query",
        );
    }
    // Refused before it is parsed or charged; the schema's extension refuses it again for
    // WebSocket subscriptions, which do not come through here.
    if state.trusted_only && !state.documents.allows(&request.query) {
        let error = crate::trusted::untrusted_error();
        return error_response(
            StatusCode::BAD_REQUEST,
            "UNTRUSTED_DOCUMENT",
            &error.message,
        );
    }
    let cost = crate::limits::cost_of(&mut request);
    if let Some(limits) = &state.limits {
        let subject = identity.as_ref().map(|identity| match identity {
            Identity::Tenant(tenant) => format!("tenant:{tenant}"),
            Identity::Staff(name) => format!("staff:{name}"),
            Identity::Integration(name) => format!("integration:{name}"),
        });
        let address = peer.map(|peer| peer.ip());
        if let crate::limits::Verdict::Wait(wait) = limits.charge(subject.as_deref(), address, cost)
        {
            state.metrics.limited();
            return too_many_requests(wait, cost);
        }
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
    response
        .extensions
        .insert("cost".to_owned(), async_graphql::Value::from(cost));
    let media = ResponseMedia::from_accept(&headers);
    // A request error (the document did not parse or validate, a variable did not coerce) has
    // no data and no error at a path: the GraphQL-over-HTTP specification answers it 400, with
    // no `data` entry, to a client that accepts application/graphql-response+json.
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let mut body = match serde_json::to_value(&response) {
        Ok(body) => body,
        Err(e) => {
            return error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                &e.to_string(),
            );
        }
    };
    let status = if request_error && media == ResponseMedia::GraphqlResponse {
        if let Some(object) = body.as_object_mut() {
            object.remove("data");
        }
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    (
        status,
        [(header::CONTENT_TYPE, media.content_type())],
        body.to_string(),
    )
        .into_response()
}

/// The document a request names by id instead of sending it: `documentId` (`sha256:<hex>`,
/// GraphQL's trusted-documents convention) or Apollo's `extensions.persistedQuery.sha256Hash`.
/// `Ok(None)` when it names none; `Err` when it names one the manifest does not hold.
fn document_by_id(
    bytes: &[u8],
    request: &async_graphql::Request,
    documents: &crate::trusted::TrustedDocuments,
) -> Result<Option<String>, UnknownDocument> {
    #[derive(serde::Deserialize)]
    struct DocumentId {
        #[serde(rename = "documentId")]
        document_id: Option<String>,
    }
    let by_field = serde_json::from_slice::<DocumentId>(bytes)
        .ok()
        .and_then(|named| named.document_id);
    let by_apollo = || match request.extensions.get("persistedQuery") {
        Some(async_graphql::Value::Object(persisted)) => match persisted.get("sha256Hash") {
            Some(async_graphql::Value::String(hash)) => Some(hash.clone()),
            _ => None,
        },
        _ => None,
    };
    let Some(id) = by_field.or_else(by_apollo) else {
        return Ok(None);
    };
    documents
        .document(&id)
        .map(|document| Some(document.to_owned()))
        .ok_or(UnknownDocument)
}

/// A request named a document by an id the manifest does not hold.
#[derive(Debug)]
struct UnknownDocument;

/// The media type of a GraphQL response, as the client's `Accept` asks (GraphQL over HTTP):
/// `application/graphql-response+json` when it is accepted (request errors are then 4xx),
/// else `application/json` (always 200, as legacy clients expect).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResponseMedia {
    GraphqlResponse,
    Json,
}

impl ResponseMedia {
    fn from_accept(headers: &HeaderMap) -> ResponseMedia {
        let accepts = headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|item| {
                let mut parts = item.split(';').map(str::trim);
                let media = parts.next().unwrap_or("");
                let refused = parts.any(|p| {
                    p.strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                        .is_some_and(|q| q <= 0.0)
                });
                media.eq_ignore_ascii_case("application/graphql-response+json") && !refused
            });
        if accepts {
            ResponseMedia::GraphqlResponse
        } else {
            ResponseMedia::Json
        }
    }

    fn content_type(self) -> HeaderValue {
        match self {
            ResponseMedia::GraphqlResponse => {
                HeaderValue::from_static("application/graphql-response+json; charset=utf-8")
            }
            ResponseMedia::Json => HeaderValue::from_static("application/json"),
        }
    }
}

/// The node's metrics (Prometheus text). With a metrics token, only to its bearer.
async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(expected) = &state.metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_token)
            .unwrap_or("");
        if !same_secret(given.as_bytes(), expected.as_bytes()) {
            return (
                StatusCode::UNAUTHORIZED,
                "the metrics token is missing or wrong",
            )
                .into_response();
        }
    }
    match state.metrics.render(&state.services).await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                ),
            )],
            text,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Equal, in time that does not depend on where they differ.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |differ, (a, b)| differ | (a ^ b))
            == 0
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
