//! Starts the real server (`App::build`, as `tillval serve` does) on a free loopback port with
//! its own SQLite file and the demo landlord, and talks to it over HTTP.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::sync::Arc;

use serde_json::{Value, json};
use tillval_graphql::auth::{Auth, Role};
use tillval_graphql::{App, AppConfig};
use tillval_services::service::Services;
use tillval_store::SqlStore;

pub const SECRET: &[u8] = b"a-test-secret-that-is-long-enough-for-hs256";

pub struct TestServer {
    pub address: SocketAddr,
    pub auth: Arc<Auth>,
    pub client: reqwest::Client,
    pub services: Services<SqlStore>,
    _dir: tempfile::TempDir,
    _task: tokio::task::JoinHandle<()>,
}

pub async fn start() -> TestServer {
    start_with(false).await
}

pub async fn start_with(production: bool) -> TestServer {
    start_configured(
        production,
        tillval_graphql::listener::ConnectionLimits::default(),
    )
    .await
}

/// The server as `tillval serve` runs it: the same router behind the same accept loop.
pub async fn start_configured(
    production: bool,
    limits: tillval_graphql::listener::ConnectionLimits,
) -> TestServer {
    start_tuned(production, |config| config.connections = limits).await
}

/// The server with `tune` applied to its configuration last.
pub async fn start_tuned(production: bool, tune: impl FnOnce(&mut AppConfig)) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let auth = Arc::new(Auth::new(SECRET).unwrap());
    let mut config = AppConfig::new(
        format!("sqlite://{}", dir.path().join("t.db").display()),
        auth.clone(),
    );
    config.demo = true;
    config.production = production;
    tune(&mut config);
    let app = App::build(config).await.unwrap();
    let services = app.services.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        app.serve(listener, std::future::pending()).await.unwrap();
    });
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap();
    TestServer {
        address,
        auth,
        client,
        services,
        _dir: dir,
        _task: task,
    }
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    pub fn token(&self, tenant: &str) -> String {
        self.auth.issue(tenant, Role::Tenant, 600).unwrap()
    }

    pub fn staff_token(&self) -> String {
        self.auth.issue("ola-forvaltare", Role::Staff, 600).unwrap()
    }

    /// Posts a raw body; returns the status and the JSON answer.
    pub async fn raw(&self, token: Option<&str>, body: impl Into<reqwest::Body>) -> (u16, Value) {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .header("content-type", "application/json");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let response = request.body(body).send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}")),
        )
    }

    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = json!({ "query": query, "variables": variables }).to_string();
        let (status, value) = self.raw(token, body).await;
        assert!(status < 500, "status {status}: {value}");
        value
    }

    /// `data`, asserting there were no errors.
    pub async fn data(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let value = self.gql(token, query, variables).await;
        assert!(value.get("errors").is_none(), "errors: {value}");
        value["data"].clone()
    }
}

/// The codes of a response's errors.
pub fn error_codes(value: &Value) -> Vec<String> {
    value["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["extensions"]["code"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

pub fn object_id(raw: &str) -> String {
    format!("gid://tillval/RentalObject/{raw}")
}

pub fn option_id(raw: &str) -> String {
    format!("gid://tillval/AddOnOption/{raw}")
}
