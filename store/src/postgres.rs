//! The PostgreSQL dialect, for several nodes on one database. Every write is one transaction
//! at READ COMMITTED; what SQLite settles by having one writer, this dialect settles by row
//! locks (`FOR UPDATE` on the cart, the case and the fee a write changes) and by the same
//! constraints (one order lock per rental object and key, one cart line per key, one case per
//! idempotency key). Case numbers come from a sequence.
//!
//! Writes that other nodes cache (catalogues, rule sets) or stream (case status) send a
//! `NOTIFY` in their transaction, so it is delivered only if they commit; every node's
//! listener turns it into a [`StoreChange`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgListener, PgPool, PgPoolOptions};
use sqlx::{Pool, Postgres, Transaction};
use tillval_engine::model::{PropertyId, TenantId};
use tillval_services::case::{CaseNumber, CaseStatus};
use tillval_services::store::{PoolSettings, StoreChange};
use tokio::sync::broadcast;

use crate::SqlError;
use crate::dialect::Dialect;

/// The channel every node listens on.
const CHANNEL: &str = "tillval_changes";

/// PostgreSQL's part: this node's id and the changes its listener hears.
#[derive(Debug, Clone)]
pub(crate) struct PostgresDialect {
    /// This process's id in notifications, so a node skips what it sent itself (it has
    /// already acted on it).
    node: Arc<str>,
    changes: broadcast::Sender<StoreChange>,
    /// How late other nodes' notifications arrive here.
    pub(crate) lag: Arc<NotifyLag>,
}

/// Other nodes' notifications heard, and how late: from the sender's clock when it wrote the
/// change to this node's clock when the notification arrived (nodes keep time with NTP; the
/// transaction's commit is inside the figure).
#[derive(Debug, Default)]
pub struct NotifyLag {
    received: AtomicU64,
    total_micros: AtomicU64,
    last_micros: AtomicU64,
}

/// [`NotifyLag`] as read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NotifyLagStats {
    pub received: u64,
    pub total_seconds: f64,
    pub last_seconds: f64,
}

impl NotifyLag {
    fn record(&self, sent_at: DateTime<Utc>) {
        // A sender whose clock runs ahead shows as no lag, not as a negative one.
        let micros = (Utc::now() - sent_at)
            .num_microseconds()
            .unwrap_or(0)
            .max(0);
        let micros = u64::try_from(micros).unwrap_or(0);
        self.received.fetch_add(1, Ordering::Relaxed);
        self.total_micros.fetch_add(micros, Ordering::Relaxed);
        self.last_micros.store(micros, Ordering::Relaxed);
    }

    pub fn read(&self) -> NotifyLagStats {
        let seconds = |micros: u64| Duration::from_micros(micros).as_secs_f64();
        NotifyLagStats {
            received: self.received.load(Ordering::Relaxed),
            total_seconds: seconds(self.total_micros.load(Ordering::Relaxed)),
            last_seconds: seconds(self.last_micros.load(Ordering::Relaxed)),
        }
    }
}

impl Dialect for PostgresDialect {
    type Db = Postgres;
    const FOR_UPDATE: &'static str = " FOR UPDATE";
    const PLAN_WITH_VALUES: &'static str = "SET LOCAL plan_cache_mode = force_custom_plan";
    const SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";

    async fn begin_write(
        pool: &Pool<Postgres>,
    ) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        pool.begin().await
    }

    async fn next_case_number(conn: &mut PgConnection, _year: i32) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT nextval('case_number_seq')")
            .fetch_one(&mut *conn)
            .await
    }

    async fn notify(&self, conn: &mut PgConnection, change: &StoreChange) -> Result<(), SqlError> {
        let Some(change) = NoticeChange::of(change) else {
            return Ok(());
        };
        let payload = serde_json::to_string(&Notice {
            node: self.node.to_string(),
            sent_at: Some(Utc::now()),
            change,
        })
        .map_err(|e| SqlError::corrupt(e.to_string()))?;
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(payload)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    fn changes(&self) -> Option<broadcast::Receiver<StoreChange>> {
        Some(self.changes.subscribe())
    }
}

crate::store_body!(PostgresDialect on Postgres as PostgresStore);

/// Connects to the database at `url` (`postgres://user@host:5432/db`), brings its schema up
/// to date and starts listening for other nodes' changes.
pub(crate) async fn connect(url: &str, settings: PoolSettings) -> Result<PostgresStore, SqlError> {
    let options: PgConnectOptions = url.parse()?;
    let options = options.application_name("tillval");
    let pool = PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout)
        // A node survives a database restart: a dead connection is found and replaced
        // before it is handed out.
        .test_before_acquire(true)
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations/postgres").run(&pool).await?;
    let node: Arc<str> = uuid::Uuid::new_v4().to_string().into();
    let (changes, _) = broadcast::channel(1024);
    let lag = Arc::new(NotifyLag::default());
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn(listen(
                pool.clone(),
                node.clone(),
                changes.clone(),
                lag.clone(),
            ));
        }
        Err(_) => tracing::warn!("no tokio runtime: other nodes' changes will not be heard"),
    }
    Ok(PostgresStore::new(
        pool,
        PostgresDialect { node, changes, lag },
    ))
}

/// A notification's payload.
#[derive(Debug, Serialize, Deserialize)]
struct Notice {
    node: String,
    /// When the sender wrote the change (absent from nodes older than the lag metric).
    #[serde(default)]
    sent_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    change: NoticeChange,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum NoticeChange {
    Catalogue {
        property: String,
    },
    RuleSet,
    CaseStatus {
        tenant: String,
        number: String,
        status: String,
        at: DateTime<Utc>,
    },
}

impl NoticeChange {
    fn into_change(self) -> Option<StoreChange> {
        Some(match self {
            NoticeChange::Catalogue { property } => StoreChange::Catalogue {
                property: PropertyId::parse(property).ok()?,
            },
            NoticeChange::RuleSet => StoreChange::RuleSet,
            NoticeChange::CaseStatus {
                tenant,
                number,
                status,
                at,
            } => StoreChange::CaseStatus {
                tenant: TenantId::parse(tenant).ok()?,
                number: CaseNumber::parse(&number)?,
                status: CaseStatus::parse(&status)?,
                at,
            },
        })
    }
}

impl NoticeChange {
    /// What another node is told of a change; `None` for what only a listener announces.
    fn of(change: &StoreChange) -> Option<NoticeChange> {
        Some(match change {
            StoreChange::Catalogue { property } => NoticeChange::Catalogue {
                property: property.as_str().to_owned(),
            },
            StoreChange::RuleSet => NoticeChange::RuleSet,
            StoreChange::CaseStatus {
                tenant,
                number,
                status,
                at,
            } => NoticeChange::CaseStatus {
                tenant: tenant.as_str().to_owned(),
                number: number.as_str().to_owned(),
                status: status.as_str().to_owned(),
                at: *at,
            },
            StoreChange::Missed => return None,
        })
    }
}

/// Listens for other nodes' changes until the pool is closed. A lost connection is
/// re-established with a growing pause, and every (re)connection is announced as
/// `StoreChange::Missed`: what was sent while nobody listened is gone, so caches must go too.
async fn listen(
    pool: PgPool,
    node: Arc<str>,
    changes: broadcast::Sender<StoreChange>,
    lag: Arc<NotifyLag>,
) {
    let mut pause = Duration::from_millis(100);
    let mut first = true;
    while !pool.is_closed() {
        let listener = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        }
        .await;
        let mut listener = match listener {
            Ok(listener) => listener,
            Err(error) => {
                if pool.is_closed() {
                    return;
                }
                tracing::warn!(%error, pause_ms = pause.as_millis() as u64, "change listener cannot connect");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        if !first {
            tracing::info!("change listener reconnected; caches dropped");
        }
        first = false;
        pause = Duration::from_millis(100);
        let _ = changes.send(StoreChange::Missed);
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    let notice: Notice = match serde_json::from_str(notification.payload()) {
                        Ok(notice) => notice,
                        Err(error) => {
                            tracing::warn!(%error, "unreadable change notification");
                            continue;
                        }
                    };
                    if *notice.node == *node {
                        continue;
                    }
                    if let Some(sent_at) = notice.sent_at {
                        lag.record(sent_at);
                    }
                    if let Some(change) = notice.change.into_change() {
                        // No receiver (no services yet) is not an error.
                        let _ = changes.send(change);
                    }
                }
                Ok(None) => {
                    // sqlx reconnected already; changes in between may be lost.
                    tracing::warn!("change listener lost its connection; caches dropped");
                    let _ = changes.send(StoreChange::Missed);
                }
                Err(error) => {
                    if !pool.is_closed() {
                        tracing::warn!(%error, "change listener failed; reconnecting");
                        let _ = changes.send(StoreChange::Missed);
                    }
                    break;
                }
            }
        }
    }
}
