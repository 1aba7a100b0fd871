//! A GraphQL request body through the whole HTTP path (`POST /graphql`: the body bound, the
//! JSON, the cost, the schema, the resolvers) on the demo landlord's data, as a tenant, as
//! staff, or as nobody. The oracle: no panic, an answer within the body's bounds, never a 5xx,
//! and never the INTERNAL code: bad input is the client's error, always named.
#![no_main]

use std::sync::LazyLock;

use axum::body::Body;
use axum::http::{Request, header};
use libfuzzer_sys::fuzz_target;
use tillval_graphql::auth::{Auth, Role};
use tillval_graphql::{App, AppConfig};
use tower::ServiceExt;

struct Target {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    tokens: [Option<String>; 3],
    _dir: tempfile::TempDir,
}

static TARGET: LazyLock<Target> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let auth = std::sync::Arc::new(
        Auth::new(b"a fuzzing secret of at least thirty-two bytes")
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let mut config = AppConfig::new(
        format!("sqlite://{}", dir.path().join("fuzz.db").display()),
        auth.clone(),
    );
    config.demo = true;
    config.webhooks = None;
    let app = runtime
        .block_on(App::build(config))
        .unwrap_or_else(|e| panic!("{e}"));
    let token = |subject: &str, role| auth.issue(subject, role, 86_400).ok();
    Target {
        router: app.router,
        tokens: [
            None,
            token("anna-svensson", Role::Tenant),
            token("staff-fuzz", Role::Staff),
        ],
        runtime,
        _dir: dir,
    }
});

fuzz_target!(|data: &[u8]| {
    let Some((&who, body)) = data.split_first() else {
        return;
    };
    let target = &*TARGET;
    let mut request = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = &target.tokens[usize::from(who) % 3] {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let Ok(request) = request.body(Body::from(body.to_vec())) else {
        return;
    };
    let response = target
        .runtime
        .block_on(target.router.clone().oneshot(request))
        .unwrap_or_else(|e| match e {});
    let status = response.status();
    assert!(
        !status.is_server_error(),
        "{status} for {:?}",
        String::from_utf8_lossy(body)
    );
    let bytes = target
        .runtime
        .block_on(axum::body::to_bytes(response.into_body(), 16 * 1024 * 1024))
        .unwrap_or_else(|e| panic!("{e}"));
    let answer: serde_json::Value =
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("not JSON ({e})"));
    let internal = answer["errors"]
        .as_array()
        .is_some_and(|errors| errors.iter().any(|e| e["extensions"]["code"] == "INTERNAL"));
    assert!(
        !internal,
        "INTERNAL for {:?}: {answer}",
        String::from_utf8_lossy(body)
    );
});
