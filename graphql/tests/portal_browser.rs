//! The tenant portal in a real browser: `tests/browser/walk.mjs` drives headless Chromium
//! (Debian's `chromium`, through `playwright-core`) against the real server on 127.0.0.1, and
//! checks every page with axe-core. Screenshots go to `docs/screenshots/`.
//!
//! Like the PostgreSQL tests, without a browser this test says it is skipped; with
//! `TILLVAL_REQUIRE_BROWSER=1` (set by `.ci/run`, which installs Chromium and the npm
//! packages) a missing browser fails it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// What the browser test needs, or why it cannot run.
fn prerequisites() -> Result<(PathBuf, PathBuf), String> {
    let chromium = std::env::var_os("TILLVAL_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if !chromium.exists() {
        return Err(format!("no browser at {}", chromium.display()));
    }
    let node = PathBuf::from("node");
    let node_ok = Command::new(&node)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !node_ok {
        return Err("no node".into());
    }
    for package in ["playwright-core", "axe-core"] {
        if !browser_dir().join("node_modules").join(package).exists() {
            return Err(format!(
                "no {package} in {} (npm ci there)",
                browser_dir().display()
            ));
        }
    }
    Ok((chromium, node))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_walks_every_screen_in_a_real_browser() {
    let (chromium, node) = match prerequisites() {
        Ok(found) => found,
        Err(why) => {
            assert!(
                std::env::var("TILLVAL_REQUIRE_BROWSER").as_deref() != Ok("1"),
                "TILLVAL_REQUIRE_BROWSER=1 but the browser test cannot run: {why}"
            );
            eprintln!("skipped: the portal's browser test needs Chromium, node and npm ci ({why})");
            return;
        }
    };
    let server = common::start().await;
    let screenshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
    let started = Instant::now();
    let output = tokio::process::Command::new(node)
        .arg(browser_dir().join("walk.mjs"))
        .current_dir(browser_dir())
        .env("BASE_URL", format!("http://{}", server.address))
        .env("STAFF_TOKEN", server.staff_token())
        .env("CHROMIUM", chromium)
        .env("SCREENSHOTS", &screenshots)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(std::time::Duration::from_secs(240), output)
        .await
        .expect("the browser walk ended within 240 s")
        .expect("node ran");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    println!("browser walk took {:.1} s", started.elapsed().as_secs_f64());
    assert!(
        output.status.success(),
        "the browser walk failed:\n{stderr}\n{stdout}"
    );
    let report: serde_json::Value =
        serde_json::from_str(stdout.trim().lines().last().unwrap_or("{}"))
            .expect("the walk's last line is its report");
    assert!(
        report["pages_checked_by_axe"].as_u64().unwrap_or(0) >= 20,
        "axe checked too few pages: {report}"
    );
}
