//! The SQLite dialect, the embedded default: one file, WAL, foreign keys on,
//! `synchronous = FULL` (a committed order survives a power cut), a busy timeout, and
//! `BEGIN IMMEDIATE` for every write, so that two writers never deadlock upgrading a read lock
//! and a write transaction excludes every other writer (no row locks needed). Case numbers
//! count per year in a table. One process owns the file, so there are no other nodes to tell.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Pool, Sqlite, Transaction};
use tillval_services::store::{PoolSettings, StoreChange};
use tokio::sync::broadcast;

use crate::SqlError;
use crate::dialect::Dialect;

#[derive(Debug, Clone, Copy)]
pub(crate) struct SqliteDialect;

impl Dialect for SqliteDialect {
    type Db = Sqlite;
    const FOR_UPDATE: &'static str = "";
    const PLAN_WITH_VALUES: &'static str = "";
    const SKIP_LOCKED: &'static str = "";

    async fn begin_write(pool: &Pool<Sqlite>) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        pool.begin_with("BEGIN IMMEDIATE").await
    }

    async fn next_case_number(conn: &mut SqliteConnection, year: i32) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO case_numbers (year, last) VALUES ($1, 1) \
             ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last",
        )
        .bind(year)
        .fetch_one(&mut *conn)
        .await
    }

    async fn notify(&self, _: &mut SqliteConnection, _: &StoreChange) -> Result<(), SqlError> {
        Ok(())
    }

    fn changes(&self) -> Option<broadcast::Receiver<StoreChange>> {
        None
    }
}

crate::store_body!(SqliteDialect on Sqlite as SqliteStore);

/// Opens (creating if need be) the database at `url` (`sqlite://tillval.db`, or a path) and
/// brings its schema up to date.
pub(crate) async fn open(url: &str, settings: PoolSettings) -> Result<SqliteStore, SqlError> {
    let options = if url.starts_with("sqlite:") {
        SqliteConnectOptions::from_str(url)?
    } else {
        SqliteConnectOptions::new().filename(url)
    };
    let options = options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout)
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
    Ok(SqliteStore::new(pool, SqliteDialect))
}

/// A private in-memory database, for tests: one connection, gone when closed.
pub(crate) async fn in_memory() -> Result<SqliteStore, SqlError> {
    let options = SqliteConnectOptions::from_str("sqlite::memory:")?.foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
    Ok(SqliteStore::new(pool, SqliteDialect))
}
