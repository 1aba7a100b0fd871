//! tillval's SQL store: [`SqlStore`] implements the services' `Store` and `Ledger` traits on
//! SQLite (the embedded default: one file, no server) or PostgreSQL (several nodes on one
//! database), chosen by the URL.
//!
//! One body (`body.rs`) holds every query, written once; `sqlite.rs` and `postgres.rs` hold
//! only what differs (the [`dialect`](crate::dialect) trait: how a write transaction begins,
//! row locks, case numbers, notifications to other nodes) and how to connect. Rows are decoded
//! by column name (`rows.rs`). The migrations of both databases ship in `migrations/`.
//!
//! ```no_run
//! # async fn run() -> Result<(), tillval_services::StoreError> {
//! use tillval_services::store::{PoolSettings, Store};
//! use tillval_store::SqlStore;
//!
//! let store = SqlStore::open("sqlite://tillval.db", PoolSettings::default()).await?;
//! assert_eq!(store.backend(), "sqlite");
//! let terms = store.current_terms().await?;
//! # Ok(()) }
//! ```

/// The store's body (`body.rs`) compiled for one dialect on one sqlx database, named `$store`.
macro_rules! store_body {
    ($dialect:ident on $db:ident as $store:ident) => {
        mod body {
            use super::$dialect as D;
            use sqlx::$db as Db;
            include!("body.rs");
            include!("import_body.rs");
        }
        pub(crate) use body::Body as $store;
    };
}
pub(crate) use store_body;

mod backup;
mod dialect;
mod postgres;
mod rows;
mod sqlite;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use tillval_engine::model::{
    AddOnOption, CartLine, Catalogue, LockKey, ModelError, Money, OptionId, PropertyId, Quantity,
    RentalObject, RentalObjectId, TenantId,
};
use tillval_engine::rules::RuleSetSource;
use tillval_services::case::{Actor, Case, CaseNumber, CasePage, CaseStatus};
use tillval_services::events::{DeadLetter, LeasedDelivery, OutboxDepth, WebhookEndpoint};
use tillval_services::imported::{ImportItem, ImportOutcome};
use tillval_services::order::{CheckoutDetails, IdempotencyKey, Terms};
use tillval_services::store::{
    DatabaseFailure, DecisionFilter, DecisionRecord, Fee, HouseholdEntry, Importer, Ledger, Outbox,
    PoolSettings, PropertyRecord, Snapshot, Store, StoreChange, StoreError, StoredRuleSet,
    SubmitOutcome, SubmitPlan, TenantRecord,
};

pub use backup::{Backup, BackupError};
use dialect::Dialect;
pub use postgres::{NotifyLag, NotifyLagStats};

/// The connection pool's use, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsage {
    pub size: u32,
    pub idle: usize,
}

/// The store on either database. Every operation goes to the one it holds.
#[derive(Debug, Clone)]
pub enum SqlStore {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

/// The store on SQLite (see [`SqlStore::sqlite`]).
#[derive(Debug, Clone)]
pub struct SqliteStore(sqlite::SqliteStore);

/// The store on PostgreSQL (see [`SqlStore::postgres`]).
#[derive(Debug, Clone)]
pub struct PostgresStore(postgres::PostgresStore);

impl SqlStore {
    /// Opens `postgres://…` (or `postgresql://…`) on PostgreSQL, anything else (`sqlite://FILE`
    /// or a path) on SQLite.
    pub async fn open(url: &str, settings: PoolSettings) -> Result<SqlStore, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            SqlStore::postgres(url, settings).await
        } else {
            SqlStore::sqlite(url, settings).await
        }
    }

    /// Opens (creating if need be) the SQLite database at `url` (`sqlite://tillval.db`, or a
    /// path) and brings its schema up to date.
    pub async fn sqlite(url: &str, settings: PoolSettings) -> Result<SqlStore, StoreError> {
        Ok(SqlStore::Sqlite(SqliteStore(
            sqlite::open(url, settings).await?,
        )))
    }

    /// A private in-memory SQLite database, for tests: one connection, gone when closed.
    pub async fn sqlite_in_memory() -> Result<SqlStore, StoreError> {
        Ok(SqlStore::Sqlite(SqliteStore(sqlite::in_memory().await?)))
    }

    /// Connects to the PostgreSQL database at `url` (`postgres://user@host:5432/db`), brings
    /// its schema up to date and starts listening for other nodes' changes.
    pub async fn postgres(url: &str, settings: PoolSettings) -> Result<SqlStore, StoreError> {
        Ok(SqlStore::Postgres(PostgresStore(
            postgres::connect(url, settings).await?,
        )))
    }

    /// Which database this is, for logs: `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            SqlStore::Sqlite(_) => "sqlite",
            SqlStore::Postgres(_) => "postgres",
        }
    }

    /// The connection pool now: connections open, and how many of them are idle.
    pub fn pool_usage(&self) -> PoolUsage {
        let (size, idle) = match self {
            SqlStore::Sqlite(store) => (store.0.pool.size(), store.0.pool.num_idle()),
            SqlStore::Postgres(store) => (store.0.pool.size(), store.0.pool.num_idle()),
        };
        PoolUsage { size, idle }
    }

    /// Other nodes' notifications heard and how late (PostgreSQL); `None` on SQLite, which
    /// has no other nodes.
    pub fn notify_lag(&self) -> Option<NotifyLagStats> {
        match self {
            SqlStore::Sqlite(_) => None,
            SqlStore::Postgres(store) => Some(store.0.dialect.lag.read()),
        }
    }

    /// Closes every connection; waits for them to finish.
    pub async fn close(&self) {
        match self {
            SqlStore::Sqlite(store) => store.0.close().await,
            SqlStore::Postgres(store) => store.0.close().await,
        }
    }
}

/// A failure inside the store: the driver's, or one the store decided. Only the store's
/// functions see it; every operation answers a [`StoreError`].
#[derive(Debug)]
pub(crate) enum SqlError {
    Driver(sqlx::Error),
    Migration(sqlx::migrate::MigrateError),
    Store(StoreError),
}

impl SqlError {
    pub(crate) fn corrupt(what: impl Into<String>) -> SqlError {
        SqlError::Store(StoreError::Corrupt(what.into()))
    }
}

impl From<sqlx::Error> for SqlError {
    fn from(error: sqlx::Error) -> Self {
        SqlError::Driver(error)
    }
}

impl From<sqlx::migrate::MigrateError> for SqlError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        SqlError::Migration(error)
    }
}

impl From<StoreError> for SqlError {
    fn from(error: StoreError) -> Self {
        SqlError::Store(error)
    }
}

impl From<ModelError> for SqlError {
    fn from(error: ModelError) -> Self {
        SqlError::Store(StoreError::from(error))
    }
}

impl From<SqlError> for StoreError {
    fn from(error: SqlError) -> Self {
        match error {
            SqlError::Driver(error) => StoreError::Database(DatabaseFailure::new(error)),
            SqlError::Migration(error) => StoreError::Database(DatabaseFailure::new(error)),
            SqlError::Store(error) => error,
        }
    }
}

/// Each operation of the traits, sent to the store on the database this one holds; the body's
/// error becomes the trait's [`StoreError`].
macro_rules! on_either_database {
    ($(fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $out:ty;)*) => {
        $(
            async fn $name(&self $(, $arg: $ty)*) -> Result<$out, StoreError> {
                Ok(match self {
                    SqlStore::Sqlite(store) => store.0.$name($($arg),*).await?,
                    SqlStore::Postgres(store) => store.0.$name($($arg),*).await?,
                })
            }
        )*
    };
}

impl Ledger for SqlStore {
    on_either_database! {
        fn set_debt(&self, tenant: &TenantId, debt: Money, at: DateTime<Utc>) -> ();
        fn debt(&self, tenant: &TenantId) -> Option<Money>;
        fn fees(&self, tenant: &TenantId) -> Vec<Fee>;
        fn record_payment(&self, fee: i64, amount: Money, at: DateTime<Utc>) -> Fee;
    }
}

impl Outbox for SqlStore {
    on_either_database! {
        fn webhook_endpoint_add(&self, url: &str, secret: &str, description: &str, at: DateTime<Utc>) -> WebhookEndpoint;
        fn webhook_endpoints(&self) -> Vec<WebhookEndpoint>;
        fn webhook_endpoint_set_enabled(&self, endpoint: i64, enabled: bool) -> WebhookEndpoint;
        fn deliveries_lease(&self, lease: &str, now: DateTime<Utc>, until: DateTime<Utc>, limit: u32) -> Vec<LeasedDelivery>;
        fn delivery_succeeded(&self, delivery: &LeasedDelivery, at: DateTime<Utc>) -> ();
        fn delivery_failed(&self, delivery: &LeasedDelivery, error: &str, retry_at: Option<DateTime<Utc>>) -> ();
        fn dead_letters(&self, endpoint: i64, limit: u32) -> Vec<DeadLetter>;
        fn dead_letters_replay(&self, endpoint: i64, event: Option<i64>, at: DateTime<Utc>) -> u64;
        fn outbox_depth(&self) -> OutboxDepth;
    }
}

impl Importer for SqlStore {
    on_either_database! {
        fn import(&self, items: &[ImportItem], at: DateTime<Utc>) -> ImportOutcome;
    }
}

impl Store for SqlStore {
    fn changes(&self) -> Option<tokio::sync::broadcast::Receiver<StoreChange>> {
        match self {
            SqlStore::Sqlite(store) => store.0.dialect.changes(),
            SqlStore::Postgres(store) => store.0.dialect.changes(),
        }
    }

    on_either_database! {
        fn tenant(&self, tenant: &TenantId) -> Option<TenantRecord>;
        fn rental_objects(&self, tenant: &TenantId) -> Vec<RentalObject>;
        fn leased_rental_object(&self, tenant: &TenantId, rental_object: &RentalObjectId) -> Option<Arc<RentalObject>>;
        fn leased_snapshot(&self, tenant: &TenantId, rental_object: &RentalObjectId, today: NaiveDate) -> Option<Snapshot>;
        fn snapshot(&self, tenant: &TenantId, rental_object: Arc<RentalObject>, today: NaiveDate) -> Snapshot;
        fn catalogue(&self, property: &PropertyId) -> Option<Catalogue>;
        fn cart_add_line(&self, tenant: &TenantId, rental_object: &RentalObjectId, line: &CartLine, keys: &[LockKey], at: DateTime<Utc>) -> ();
        fn cart_set_quantity(&self, tenant: &TenantId, rental_object: &RentalObjectId, option: &OptionId, quantity: Quantity, at: DateTime<Utc>) -> ();
        fn cart_remove_line(&self, tenant: &TenantId, rental_object: &RentalObjectId, option: &OptionId) -> ();
        fn cart_clear(&self, tenant: &TenantId, rental_object: &RentalObjectId) -> ();
        fn cart_set_details(&self, tenant: &TenantId, rental_object: &RentalObjectId, details: &CheckoutDetails, at: DateTime<Utc>) -> ();
        fn current_terms(&self) -> Option<Terms>;
        fn submit(&self, plan: &SubmitPlan) -> SubmitOutcome;
        fn case_by_idempotency_key(&self, tenant: &TenantId, key: &IdempotencyKey) -> Option<Case>;
        fn case(&self, number: &CaseNumber) -> Option<Case>;
        fn cases(&self, tenant: &TenantId, status: Option<CaseStatus>, after: Option<i64>, first: u32) -> CasePage;
        fn case_queue(&self, status: Option<CaseStatus>, after: Option<i64>, first: u32) -> CasePage;
        fn transition(&self, number: &CaseNumber, from: CaseStatus, to: CaseStatus, actor: Actor, at: DateTime<Utc>) -> Case;
        fn put_tenant(&self, tenant: &TenantRecord) -> ();
        fn put_rental_object(&self, object: &RentalObject, property_name: &str) -> ();
        fn put_lease(&self, tenant: &TenantId, rental_object: &RentalObjectId) -> ();
        fn put_catalogue(&self, catalogue: &Catalogue) -> ();
        fn put_option(&self, property: &PropertyId, option: &AddOnOption) -> ();
        fn put_terms(&self, terms: &Terms) -> ();
        fn set_ordering_enabled(&self, enabled: bool) -> ();
        fn publish_rule_set(&self, source: &RuleSetSource, name: &str, manifest_version: &str, by: &str, at: DateTime<Utc>) -> StoredRuleSet;
        fn activate_rule_set(&self, version: i64, by: &str, at: DateTime<Utc>) -> StoredRuleSet;
        fn rule_sets(&self) -> Vec<StoredRuleSet>;
        fn rule_set_source(&self, version: i64) -> Option<RuleSetSource>;
        fn active_rule_set(&self) -> Option<(i64, RuleSetSource)>;
        fn record_decision(&self, record: &DecisionRecord) -> ();
        fn decisions(&self, tenant: &TenantId, filter: &DecisionFilter, after: Option<i64>, first: u32) -> (Vec<DecisionRecord>, bool);
        fn prune_decisions(&self, before: DateTime<Utc>) -> u64;
        fn households(&self, after: Option<&(TenantId, RentalObjectId)>, limit: u32) -> Vec<(TenantId, RentalObjectId)>;
        fn household_directory(&self, after: Option<&(TenantId, RentalObjectId)>, limit: u32) -> Vec<HouseholdEntry>;
        fn properties(&self) -> Vec<PropertyRecord>;
    }
}
