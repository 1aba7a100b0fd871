//! The tenant portal's pages over HTTP from loopback, one at a time: the real server (SQLite
//! file, demo data, production mode) on a free 127.0.0.1 port, a signed-in tenant's cookie,
//! and the time from request to the last byte of the HTML. The goal (issue 13): a catalogue
//! page in under 100 ms on the demo data.
//!
//! cargo bench -p tillval-benches --bench portal_pages

use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use tillval_graphql::auth::{Auth, Role};
use tillval_graphql::{App, AppConfig};

type AnyError = Box<dyn std::error::Error + Send + Sync>;

const PAGES: &[(&str, &str)] = &[
    ("categories", "/"),
    (
        "category_diskmaskin",
        "/kategori/gid%3A%2F%2Ftillval%2FCategory%2Fdiskmaskin",
    ),
    (
        "category_golv",
        "/kategori/gid%3A%2F%2Ftillval%2FCategory%2Fgolv",
    ),
    ("checkout", "/kassa"),
    ("cases", "/arenden"),
];

struct Portal {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
    base: String,
    cookie: String,
    _dir: tempfile::TempDir,
}

fn start() -> Result<Portal, AnyError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let dir = tempfile::tempdir()?;
    let auth = Arc::new(Auth::new(b"a-portal-bench-secret-that-is-long-enough")?);
    // Eva has a piece-unit add-on in her cart, so the checkout page has a line to show.
    let cookie = format!(
        "tillval_session={}",
        auth.issue("eva-nilsson", Role::Tenant, 3600)?
    );
    let mut config = AppConfig::new(
        format!("sqlite://{}", dir.path().join("portal.db").display()),
        auth,
    );
    config.demo = true;
    config.production = true;
    let base = runtime.block_on(async {
        let app = App::build(config).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        tokio::spawn(app.serve(listener, std::future::pending()));
        Ok::<_, AnyError>(base)
    })?;
    let client = reqwest::Client::builder().build()?;
    Ok(Portal {
        runtime,
        client,
        base,
        cookie,
        _dir: dir,
    })
}

impl Portal {
    fn get(&self, path: &str) -> Result<usize, AnyError> {
        self.runtime.block_on(async {
            let response = self
                .client
                .get(format!("{}{path}", self.base))
                .header("cookie", &self.cookie)
                .send()
                .await?;
            if !response.status().is_success() {
                return Err(format!("{path}: {}", response.status()).into());
            }
            Ok(response.bytes().await?.len())
        })
    }
}

fn portal_pages(c: &mut Criterion) {
    let portal = match start() {
        Ok(portal) => portal,
        Err(error) => {
            eprintln!("portal bench could not start: {error}");
            return;
        }
    };
    let mut group = c.benchmark_group("portal_page");
    group.measurement_time(Duration::from_secs(5));
    for (name, path) in PAGES {
        match portal.get(path) {
            Ok(bytes) => eprintln!("{name}: {bytes} bytes of HTML"),
            Err(error) => {
                eprintln!("{name} fails: {error}");
                continue;
            }
        }
        group.bench_function(*name, |b| b.iter(|| portal.get(path)));
    }
    group.finish();
}

criterion_group!(benches, portal_pages);
criterion_main!(benches);
