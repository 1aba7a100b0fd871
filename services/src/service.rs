//! The services' shared context and their errors. Each concept adds its operations in its own
//! module (`cart`, `checkout`, `cases`, `ledger`); they all decide on one snapshot of the
//! tenant's facts and write through the store.

use crate::entity::Entity;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use chrono::{DateTime, NaiveDate, Utc};
use tokio::sync::broadcast;

use crate::case::{CaseNumber, CaseStatus};
use crate::store::{Snapshot, Store, StoreError};
use tillval_engine::availability::CatalogueView;
use tillval_engine::catalogue::{
    BoxFuture, CatalogueCache, CatalogueSource, CatalogueSourceError, PreparedCatalogue,
};
use tillval_engine::model::{ModelError, PropertyId, RentalObject, RentalObjectId, TenantId};
use tillval_engine::rules::{Reason, ReasonCode, ReasonParam, RuleError, RuleSet};
use tillval_engine::view_memo::{MemoStats, ViewMemo};

/// Where the services read the time; tests set it.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
    fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until moved.
#[derive(Debug)]
pub struct FixedClock(std::sync::Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        FixedClock(std::sync::Mutex::new(at))
    }
    pub fn set(&self, at: DateTime<Utc>) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = at;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Why the services said no to something a tenant may try again differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RefusalCode {
    /// The rules refuse the option or a line (the reasons say why).
    NotOrderable,
    /// Another order took the key first (S4, decided by the store).
    Locked,
    AlreadyInCart,
    TermsNotAccepted,
    TermsOutdated,
    EmptyCart,
    /// The cart changed while the order was being sent; look again and resend.
    CartChanged,
}

impl RefusalCode {
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalCode::NotOrderable => "NOT_ORDERABLE",
            RefusalCode::Locked => "LOCKED",
            RefusalCode::AlreadyInCart => "ALREADY_IN_CART",
            RefusalCode::TermsNotAccepted => "TERMS_NOT_ACCEPTED",
            RefusalCode::TermsOutdated => "TERMS_OUTDATED",
            RefusalCode::EmptyCart => "EMPTY_CART",
            RefusalCode::CartChanged => "CART_CHANGED",
        }
    }
}

/// A domain refusal: a code, and reasons a person can read (messages in the rule set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: RefusalCode,
    pub reasons: Vec<Reason>,
}

impl Refusal {
    pub fn new(code: RefusalCode, reasons: Vec<Reason>) -> Self {
        Refusal { code, reasons }
    }
    /// A refusal whose one reason has the refusal's own code.
    pub fn plain(code: RefusalCode) -> Self {
        Refusal {
            code,
            reasons: vec![Reason::new(ReasonCode::engine(code.as_str()))],
        }
    }
    pub fn with_param(mut self, name: &str, value: ReasonParam) -> Self {
        if let Some(reason) = self.reasons.first_mut() {
            reason.params.insert(name.to_owned(), value);
        }
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceError {
    /// Unknown, or not the caller's: the two are never told apart.
    #[error("{0} not found")]
    NotFound(crate::entity::Entity),
    #[error("invalid {field}: {message}")]
    InvalidInput {
        field: crate::Input,
        message: String,
    },
    #[error("refused: {}", .0.code.as_str())]
    Refused(Refusal),
    #[error("a case cannot go from {from} to {to}")]
    IllegalTransition { from: CaseStatus, to: CaseStatus },
    #[error("case {0} changed meanwhile; look again")]
    Conflict(CaseNumber),
    #[error(transparent)]
    Rules(RuleError),
    /// The rules outlived the wall-clock guard: the engine could not decide in time (an
    /// overloaded machine, not an answer). The request fails; nothing was decided.
    #[error("the rules could not decide in time: {0}")]
    RulesUnavailable(RuleError),
    /// A rule set failed its checks; the running one stays.
    #[error("the rule set has {} problem(s)", .0.len())]
    RuleSetRefused(Vec<tillval_engine::rules::check::Problem>),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    pub(crate) fn invalid(field: crate::Input) -> impl Fn(ModelError) -> ServiceError {
        move |error| ServiceError::InvalidInput {
            field,
            message: error.to_string(),
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(what) => ServiceError::NotFound(what),
            StoreError::StatusChanged { number, .. } => ServiceError::Conflict(number),
            StoreError::CartChanged => {
                ServiceError::Refused(Refusal::plain(RefusalCode::CartChanged))
            }
            other => {
                tracing::error!(error = %other, "store failed");
                ServiceError::Internal(other.to_string())
            }
        }
    }
}

impl From<CatalogueSourceError> for ServiceError {
    fn from(error: CatalogueSourceError) -> Self {
        match error {
            CatalogueSourceError::NotFound(_) => ServiceError::NotFound(Entity::Catalogue),
            other => ServiceError::Internal(other.to_string()),
        }
    }
}

/// How long `/ready` waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// A case changed status; subscribers filter by tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseEvent {
    pub tenant: TenantId,
    pub number: CaseNumber,
    pub status: CaseStatus,
    pub at: DateTime<Utc>,
}

/// Catalogues from the store, for the cache.
#[derive(Debug, Clone)]
pub struct StoreCatalogueSource<S: Store>(pub S);

impl<S: Store> CatalogueSource for StoreCatalogueSource<S> {
    fn load<'a>(
        &'a self,
        property: &'a PropertyId,
    ) -> BoxFuture<'a, Result<tillval_engine::model::Catalogue, CatalogueSourceError>> {
        Box::pin(async move {
            match self.0.catalogue(property).await {
                Ok(Some(catalogue)) => Ok(catalogue),
                Ok(None) => Err(CatalogueSourceError::NotFound(property.clone())),
                Err(error) => Err(CatalogueSourceError::Unavailable(error.to_string())),
            }
        })
    }
}

/// What one decision needs: the rules in force, the catalogue prepared for them, the snapshot.
#[derive(Debug)]
pub struct DecisionContext {
    pub rules: Arc<RuleSet>,
    pub catalogue: Arc<PreparedCatalogue>,
    pub object: Arc<RentalObject>,
    pub snapshot: Snapshot,
}

/// Where rules are evaluated: a few blocking threads beside the async workers, so that a slow
/// rule set costs its own requests time, not `/health`, other tenants or writes. At most
/// `threads` evaluations run at once; the rest wait their turn.
#[derive(Debug, Clone)]
pub struct RulePool {
    permits: Arc<tokio::sync::Semaphore>,
    /// Evaluations waiting for a thread now.
    waiting: Arc<std::sync::atomic::AtomicUsize>,
}

/// Counts an evaluation out of the queue however its wait ends (a dropped request too).
struct Waiting<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl RulePool {
    pub fn new(threads: usize) -> RulePool {
        RulePool {
            permits: Arc::new(tokio::sync::Semaphore::new(threads.max(1))),
            waiting: Arc::default(),
        }
    }
    /// Evaluations waiting for a thread now: the pool's queue.
    pub fn waiting(&self) -> usize {
        self.waiting.load(std::sync::atomic::Ordering::Relaxed)
    }
    /// Evaluations that could start now without waiting.
    pub fn free(&self) -> usize {
        self.permits.available_permits()
    }
    /// One thread per core.
    pub fn per_core() -> RulePool {
        RulePool::new(std::thread::available_parallelism().map_or(2, usize::from))
    }
    /// Runs `work` on a pool thread.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ServiceError> {
        self.waiting
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let queued = Waiting(&self.waiting);
        let permit = self.permits.acquire().await;
        drop(queued);
        let _permit =
            permit.map_err(|_| ServiceError::Internal("the rule pool is closed".into()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| ServiceError::Internal(format!("a rule evaluation failed: {e}")))
    }
}

/// The services over one store. Cheap to clone; share one per process.
#[derive(Debug, Clone)]
pub struct Services<S: Store> {
    pub(crate) store: S,
    rules: Arc<ArcSwap<RuleSet>>,
    catalogues: Arc<CatalogueCache>,
    /// Households' views with the inputs they were decided from (exact: see `ViewMemo`).
    views: Arc<ViewMemo>,
    pub(crate) clock: Arc<dyn Clock>,
    case_events: broadcast::Sender<CaseEvent>,
    pub(crate) rule_pool: RulePool,
    /// Submits in flight by (tenant, idempotency key): a second one waits for the first.
    pub(crate) submits_in_flight: Arc<crate::in_flight::InFlight>,
}

impl<S: Store> Services<S> {
    pub fn new(store: S, rules: RuleSet, clock: Arc<dyn Clock>) -> Self {
        let source = Arc::new(StoreCatalogueSource(store.clone()));
        let catalogues = Arc::new(CatalogueCache::new(
            source,
            10_000,
            Duration::from_secs(300),
        ));
        let (case_events, _) = broadcast::channel(1024);
        let services = Services {
            store,
            rules: Arc::new(ArcSwap::from_pointee(rules)),
            catalogues,
            views: Arc::new(ViewMemo::new(VIEW_MEMO_OPTIONS)),
            clock,
            case_events,
            rule_pool: RulePool::per_core(),
            submits_in_flight: Arc::default(),
        };
        services.follow_changes();
        services
    }

    pub fn store(&self) -> &S {
        &self.store
    }
    /// Where rules are evaluated.
    pub fn rule_pool(&self) -> &RulePool {
        &self.rule_pool
    }
    /// Evaluates rules on the pool (see [`RulePool`]).
    pub(crate) async fn off_workers<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ServiceError> {
        self.rule_pool.run(work).await
    }
    /// The rule set in force now.
    pub fn rules(&self) -> Arc<RuleSet> {
        self.rules.load_full()
    }
    /// Swaps the rule set; requests in flight finish on the one they started with.
    pub fn set_rules(&self, rules: RuleSet) {
        self.rules.store(Arc::new(rules));
    }
    pub fn catalogues(&self) -> &CatalogueCache {
        &self.catalogues
    }
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }
    /// Status changes of every case, as they are committed.
    pub fn subscribe_case_events(&self) -> broadcast::Receiver<CaseEvent> {
        self.case_events.subscribe()
    }
    pub(crate) fn publish(&self, event: CaseEvent) {
        // No subscriber is not an error.
        let _ = self.case_events.send(event);
    }

    /// The tenant and the rental objects they lease (S1).
    pub async fn viewer(
        &self,
        tenant: &TenantId,
    ) -> Result<(crate::store::TenantRecord, Vec<RentalObject>), ServiceError> {
        let record = self
            .store
            .tenant(tenant)
            .await?
            .ok_or(ServiceError::NotFound(Entity::Tenant))?;
        Ok((record, self.store.rental_objects(tenant).await?))
    }

    /// Whether the store answers.
    pub async fn ready(&self) -> Result<(), ServiceError> {
        // A database that does not answer is as unready as one that refuses.
        match tokio::time::timeout(READY_TIMEOUT, self.store.current_terms()).await {
            Ok(answer) => answer.map(|_| ()).map_err(ServiceError::from),
            Err(_) => Err(ServiceError::Internal(format!(
                "the database did not answer within {} ms",
                READY_TIMEOUT.as_millis()
            ))),
        }
    }

    /// The rental object if the tenant leases it (S1), else "not found".
    pub async fn rental_object(
        &self,
        tenant: &TenantId,
        object: &RentalObjectId,
    ) -> Result<Arc<RentalObject>, ServiceError> {
        self.store
            .leased_rental_object(tenant, object)
            .await?
            .ok_or(ServiceError::NotFound(Entity::RentalObject))
    }

    pub(crate) async fn decision_context(
        &self,
        tenant: &TenantId,
        object: &RentalObjectId,
    ) -> Result<DecisionContext, ServiceError> {
        let snapshot = self
            .store
            .leased_snapshot(tenant, object, self.clock.today())
            .await?
            .ok_or(ServiceError::NotFound(Entity::RentalObject))?;
        let object = Arc::clone(&snapshot.facts.rental_object);
        let rules = self.rules();
        let catalogue = self.catalogues.get(object.property(), &rules).await?;
        Ok(DecisionContext {
            rules,
            catalogue,
            object,
            snapshot,
        })
    }

    /// What the tenant may order for the apartment, and why not (S6, S10, S2–S5). Given from
    /// the memo when the facts, the cart, the rule set and the catalogue are the ones it was
    /// last decided from; else decided on the rule workers.
    pub async fn catalogue_view(
        &self,
        tenant: &TenantId,
        object: &RentalObjectId,
    ) -> Result<(Arc<RuleSet>, Arc<CatalogueView>), ServiceError> {
        let ctx = self.decision_context(tenant, object).await?;
        let (facts, cart) = (&ctx.snapshot.facts, &ctx.snapshot.cart.cart);
        if let Some(view) = self.views.memoised(&ctx.rules, &ctx.catalogue, facts, cart) {
            return Ok((ctx.rules, view));
        }
        let views = Arc::clone(&self.views);
        let (rules, view) = self
            .off_workers(move || {
                let view = views.decide(
                    &ctx.rules,
                    &ctx.catalogue,
                    &ctx.snapshot.facts,
                    &ctx.snapshot.cart.cart,
                );
                (ctx.rules, view)
            })
            .await?;
        if let Some(fault) = &view.fault {
            return Err(rules_unavailable(fault));
        }
        Ok((rules, view))
    }

    /// Drops every memoised view. Never needed for correctness (a view is given again only
    /// for the very inputs it was decided from); a node that lost its listener drops it anyway.
    pub fn clear_view_memo(&self) {
        self.views.clear();
    }

    /// How the view memo has answered.
    pub fn view_memo_stats(&self) -> MemoStats {
        self.views.stats()
    }
}

/// Options' decisions the view memo holds, all households together (about 200 bytes each).
const VIEW_MEMO_OPTIONS: u64 = 100_000;

/// The wall-clock guard fired: an engine fault, logged as one.
pub(crate) fn rules_unavailable(fault: &RuleError) -> ServiceError {
    tracing::error!(error = %fault, "rule evaluation outlived the wall-clock guard");
    ServiceError::RulesUnavailable(fault.clone())
}

#[cfg(test)]
mod rule_pool_tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_queue_counts_evaluations_waiting_for_a_thread() {
        let pool = RulePool::new(1);
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let busy = tokio::spawn({
            let pool = pool.clone();
            async move { pool.run(move || hold.recv().is_ok()).await }
        });
        while pool.free() > 0 {
            tokio::task::yield_now().await;
        }
        let queued = tokio::spawn({
            let pool = pool.clone();
            async move { pool.run(|| 7).await }
        });
        let started = std::time::Instant::now();
        while pool.waiting() == 0 && started.elapsed() < Duration::from_secs(5) {
            tokio::task::yield_now().await;
        }
        assert_eq!(pool.waiting(), 1, "one evaluation waits for the one thread");
        assert!(release.send(()).is_ok());
        assert!(matches!(busy.await, Ok(Ok(true))));
        assert!(matches!(queued.await, Ok(Ok(7))));
        assert_eq!(pool.waiting(), 0, "none waits once both ran");
    }
}
