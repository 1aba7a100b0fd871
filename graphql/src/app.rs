//! The one way a tillval server is assembled: `App::build(config)` opens the database, brings
//! the stored rule set (and a folder's, if given) into force, loads the demo when asked, starts
//! the background work (folder watching, the decision log's retention) and builds the router.
//! `tillval serve`, the HTTP tests and the benches all start here, so what they test is what
//! runs.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tillval_engine::rules::{RuleSet, RuleSetError, RuleSetSource};
use tillval_services::demo::{demo, load_demo};
use tillval_services::service::{Clock, ServiceError, Services, SystemClock};
use tillval_services::store::{PoolSettings, Store, StoreError};
use tillval_store::SqlStore;
use tokio::net::TcpListener;

use crate::auth::Auth;
use crate::listener::ConnectionLimits;
use crate::{AppState, router};

/// What a server is built from.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// `sqlite://FILE` or `postgres://…`.
    pub database: String,
    pub pool: PoolSettings,
    /// A rule-set folder to publish at start (when it differs from the active set).
    pub rules_dir: Option<PathBuf>,
    /// With `rules_dir`: publish the folder again whenever it changes.
    pub watch: bool,
    /// Load the demo landlord (idempotently).
    pub demo: bool,
    pub production: bool,
    pub auth: Arc<Auth>,
    pub clock: Arc<dyn Clock>,
    pub connections: ConnectionLimits,
    /// How long the decision log keeps a refusal.
    pub decision_log_retention: Duration,
    /// The webhook dispatcher's pacing; `None` runs no dispatcher on this node.
    pub webhooks: Option<tillval_webhooks::DispatcherConfig>,
    /// The bearer token `/metrics` asks for; `None`: open outside production, not served in it.
    pub metrics_token: Option<String>,
    /// Fair limits per caller and address; `None`: none (`tillval serve` turns them on in
    /// production).
    pub limits: Option<crate::limits::LimitsConfig>,
    /// Trusted documents only: `None` runs any document (documents of the built-in manifest
    /// may still be sent by id); `Some` refuses every document not in it (`crate::trusted`).
    pub trusted_documents: Option<crate::trusted::TrustedDocuments>,
    /// Count and time each request for `/metrics` (on by default; off only to measure what
    /// counting costs).
    pub metrics: bool,
}

impl AppConfig {
    /// A development server on `database`: no folder, no demo, the system clock, the default
    /// limits and a 90-day decision log.
    pub fn new(database: impl Into<String>, auth: Arc<Auth>) -> AppConfig {
        AppConfig {
            database: database.into(),
            pool: PoolSettings::default(),
            rules_dir: None,
            watch: false,
            demo: false,
            production: false,
            auth,
            clock: Arc::new(SystemClock),
            connections: ConnectionLimits::default(),
            decision_log_retention: Duration::from_secs(90 * 86_400),
            webhooks: Some(tillval_webhooks::DispatcherConfig::default()),
            metrics_token: None,
            limits: None,
            trusted_documents: None,
            metrics: true,
        }
    }
}

/// Why a server could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("opening the database {database}: {source}")]
    Database {
        database: String,
        #[source]
        source: StoreError,
    },
    #[error("the shipped rule set: {0}")]
    ShippedRules(#[source] RuleSetError),
    #[error("the stored rule set: {0}")]
    StoredRules(#[source] ServiceError),
    #[error("rule set {dir}: {source}")]
    ReadRules {
        dir: PathBuf,
        #[source]
        source: RuleSetError,
    },
    #[error("the rule set in {dir} was refused: {source}")]
    RulesRefused {
        dir: PathBuf,
        #[source]
        source: ServiceError,
    },
    #[error("the demo data: {0}")]
    DemoData(#[source] tillval_engine::model::ModelError),
    #[error("loading the demo data: {0}")]
    Demo(#[source] ServiceError),
    #[error("the webhook dispatcher: {0}")]
    Webhooks(#[source] tillval_webhooks::dispatcher::DispatchError),
    #[error("the fair limits are refused")]
    Limits(#[source] crate::limits::LimitsError),
}

/// A built server: the services, and the router over them.
#[derive(Debug, Clone)]
pub struct App {
    pub services: Services<SqlStore>,
    pub auth: Arc<Auth>,
    pub router: axum::Router,
    pub production: bool,
    pub connections: ConnectionLimits,
    /// Stops this node's webhook dispatcher when told, or when the last clone of the app goes.
    pub dispatcher: Option<Arc<tokio::sync::watch::Sender<bool>>>,
}

impl App {
    pub async fn build(config: AppConfig) -> Result<App, AppError> {
        let store = SqlStore::open(&config.database, config.pool)
            .await
            .map_err(|source| AppError::Database {
                database: redact(&config.database),
                source,
            })?;
        tracing::info!(
            backend = store.backend(),
            max_connections = config.pool.max_connections,
            "database open"
        );
        let rules = RuleSet::shipped().map_err(AppError::ShippedRules)?;
        let services = Services::new(store, rules, config.clock.clone());
        services
            .start_rule_sets(&RuleSetSource::shipped())
            .await
            .map_err(AppError::StoredRules)?;
        if let Some(dir) = &config.rules_dir {
            publish_folder(&services, dir, "cli").await?;
            if config.watch {
                watch_folder(services.clone(), dir.clone());
            }
        }
        let active = services.rules();
        tracing::info!(
            rule_set = active.name(),
            version = active.version(),
            "rules in force"
        );
        if config.demo {
            let demo = demo(config.clock.today()).map_err(AppError::DemoData)?;
            load_demo(&services, &demo).await.map_err(AppError::Demo)?;
        }
        prune_decision_log(services.clone(), config.decision_log_retention);
        let dispatcher = match config.webhooks {
            Some(pacing) => {
                let dispatcher =
                    tillval_webhooks::Dispatcher::new(services.store().clone(), pacing)
                        .map_err(AppError::Webhooks)?;
                let (stop, stopped) = tokio::sync::watch::channel(false);
                tokio::spawn(dispatcher.run(stopped));
                Some(Arc::new(stop))
            }
            None => None,
        };
        let metrics = Arc::new(crate::metrics::Metrics::new());
        let trusted_only = config.trusted_documents.is_some();
        let documents = Arc::new(
            config
                .trusted_documents
                .unwrap_or_else(crate::trusted::TrustedDocuments::builtin),
        );
        let router = router(AppState {
            schema: crate::schema::build_schema_measured(
                services.clone(),
                config.production,
                config.metrics.then(|| metrics.clone()),
                trusted_only.then(|| documents.clone()),
            ),
            documents,
            trusted_only,
            metrics,
            metrics_token: config.metrics_token.clone(),
            limits: match config.limits {
                Some(limits) => Some(Arc::new(
                    crate::limits::FairLimits::new(limits).map_err(AppError::Limits)?,
                )),
                None => None,
            },
            services: services.clone(),
            auth: config.auth.clone(),
            production: config.production,
        });
        Ok(App {
            services,
            auth: config.auth,
            router,
            production: config.production,
            connections: config.connections,
            dispatcher,
        })
    }

    /// Serves on `listener` until `shutdown` completes, under the connection limits.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        crate::listener::serve(listener, self.router, self.connections, shutdown).await
    }
}

/// Publishes `dir` when it differs from the active rule set; refuses a set with problems.
async fn publish_folder(
    services: &Services<SqlStore>,
    dir: &Path,
    by: &str,
) -> Result<bool, AppError> {
    let source = RuleSetSource::read_dir(dir).map_err(|source| AppError::ReadRules {
        dir: dir.to_owned(),
        source,
    })?;
    let refused = |source: ServiceError| AppError::RulesRefused {
        dir: dir.to_owned(),
        source,
    };
    let active = services
        .store()
        .active_rule_set()
        .await
        .map_err(|e| refused(e.into()))?;
    if active.is_some_and(|(_, active)| active == source) {
        return Ok(false);
    }
    match services.rule_set_publish(&source, by).await {
        Ok(stored) => {
            tracing::info!(version = stored.version, dir = %dir.display(), "rule set published from the folder");
            Ok(true)
        }
        Err(error) => {
            for problem in tillval_services::authoring::problems(&error) {
                tracing::error!(%problem, "rule set refused");
            }
            Err(refused(error))
        }
    }
}

/// Polls `dir` every second and publishes it when it changes; a refused change is logged and
/// the running set stays.
fn watch_folder(services: Services<SqlStore>, dir: PathBuf) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(1));
        loop {
            interval.tick().await;
            if let Err(error) = publish_folder(&services, &dir, "watch").await {
                tracing::warn!(%error, "the changed rule set stays unpublished");
            }
        }
    });
}

/// Deletes decision-log rows past their retention, now and then every hour.
fn prune_decision_log(services: Services<SqlStore>, retention: Duration) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(3600));
        loop {
            interval.tick().await;
            match services.decision_log_prune(retention).await {
                Ok(0) => {}
                Ok(pruned) => tracing::info!(pruned, "decision log pruned"),
                Err(error) => tracing::warn!(%error, "could not prune the decision log"),
            }
        }
    });
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    let (Some(scheme), Some(at)) = (url.find("://"), url.rfind('@')) else {
        return url.to_owned();
    };
    let (Some(head), Some(credentials), Some(tail)) = (
        url.get(..scheme + 3),
        url.get(scheme + 3..at),
        url.get(at..),
    ) else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{head}{user}:***{tail}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://tillval.db"), "sqlite://tillval.db");
    }
}
