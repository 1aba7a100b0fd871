//! What differs between the databases, and nothing else: how a write transaction begins, how
//! a row is locked, where case numbers come from, and how other nodes hear of a change. The
//! store's body (`body.rs`) is written once against this trait.

use std::future::Future;

use sqlx::{Database, Pool, Transaction};
use tillval_services::store::StoreChange;
use tokio::sync::broadcast;

use crate::SqlError;

pub(crate) trait Dialect: std::fmt::Debug + Clone + Send + Sync + 'static {
    type Db: Database;

    /// Appended to a `SELECT` that must hold its rows until the transaction ends. Empty where
    /// [`Dialect::begin_write`] already keeps every other writer out.
    const FOR_UPDATE: &'static str;

    /// Appended to a `SELECT` of rows to lease: lock them, and pass over rows another
    /// transaction holds (so nodes take different rows instead of waiting on each other).
    const SKIP_LOCKED: &'static str;

    /// Run first in a transaction that looks rows up by long lists of parameters (`IN ($2, …,
    /// $501)`), so each list is planned with its values; empty where nothing needs saying.
    /// (PostgreSQL's generic plan for such a statement scans every row of the kind: the import
    /// of 100,000 records took 39 s instead of seconds.)
    const PLAN_WITH_VALUES: &'static str;

    /// Begins a transaction that will write.
    fn begin_write(
        pool: &Pool<Self::Db>,
    ) -> impl Future<Output = Result<Transaction<'static, Self::Db>, sqlx::Error>> + Send;

    /// The next case number's sequence within `year` (or across years, where one sequence
    /// serves), in the transaction that uses it.
    fn next_case_number(
        conn: &mut <Self::Db as Database>::Connection,
        year: i32,
    ) -> impl Future<Output = Result<i64, sqlx::Error>> + Send;

    /// Tells the other nodes of `change` when the transaction on `conn` commits.
    fn notify(
        &self,
        conn: &mut <Self::Db as Database>::Connection,
        change: &StoreChange,
    ) -> impl Future<Output = Result<(), SqlError>> + Send;

    /// The changes other nodes made, where there can be other nodes.
    fn changes(&self) -> Option<broadcast::Receiver<StoreChange>>;
}
