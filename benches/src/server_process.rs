//! What the load tools share: the `tillval` binary they start as a process, and the SQLite
//! file it opens: the demo landlord plus one apartment and tenant per connection.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use tillval_engine::rules::RuleSet;
use tillval_services::demo::{demo, load_demo};
use tillval_services::service::{Services, SystemClock};
use tillval_services::store::PoolSettings;
use tillval_store::SqlStore;

type AnyError = Box<dyn std::error::Error + Send + Sync>;

/// The `tillval` binary: `TILLVAL_BIN`, or the one beside this executable (built with
/// `cargo build --release -p tillval-graphql` when it is not there).
pub fn tillval_binary() -> Result<PathBuf, AnyError> {
    if let Ok(path) = std::env::var("TILLVAL_BIN") {
        return Ok(PathBuf::from(path));
    }
    let beside = std::env::current_exe()?
        .parent()
        .ok_or("no directory")?
        .join("tillval");
    if !beside.exists() {
        eprintln!("building the tillval binary (cargo build --release -p tillval-graphql)");
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args([
                "build",
                "--release",
                "-p",
                "tillval-graphql",
                "--bin",
                "tillval",
            ])
            .status()?;
        if !status.success() {
            return Err("building tillval failed".into());
        }
    }
    Ok(beside)
}

/// The demo landlord plus one apartment and tenant per connection (for `cartLinesAdd`, so that
/// connections do not share a cart), in the SQLite file the server will open.
pub async fn prepare_database(path: &Path, connections: usize) -> Result<(), AnyError> {
    let store = SqlStore::sqlite(path.to_str().ok_or("path")?, PoolSettings::default()).await?;
    let services = Services::new(store, RuleSet::shipped()?, Arc::new(SystemClock));
    load_demo(&services, &demo(chrono::Utc::now().date_naive())?).await?;
    crate::demo_apartments(&services, "load", connections, None).await?;
    services.store().close().await;
    Ok(())
}

/// A server process, killed when dropped; `url` is where it said it serves GraphQL.
pub struct ServerProcess {
    pub child: Child,
    pub url: String,
}

impl ServerProcess {
    /// Starts `command` and reads the address it prints first.
    pub fn start(mut command: Command) -> Result<ServerProcess, AnyError> {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().ok_or("the server printed nothing")??;
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .ok_or_else(|| format!("no address in {first:?}"))?
            .to_owned();
        std::thread::spawn(move || for _ in lines {});
        Ok(ServerProcess { child, url })
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
