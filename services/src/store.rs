//! The store: durable tenants, apartments, catalogues, carts, cases and ledger, behind one
//! trait of domain operations. Every write is one transaction inside the implementation, so no
//! caller can leave half of one behind, and races are settled by constraints (one order lock per
//! rental object and key, one cart line per key, one case per idempotency key), not by the
//! rules. Only the store writes.
//!
//! Nothing in the trait is SQLite's: PostgreSQL implements the same operations, and
//! `tillval-store`'s `SqlStore` is either, chosen by the database URL.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};

use crate::case::{Actor, Case, CaseNumber, CasePage, CaseStatus};
use crate::events::{DeadLetter, LeasedDelivery, OutboxDepth, WebhookEndpoint};
use crate::order::{CheckoutDetails, IdempotencyKey, Terms};
use tillval_engine::model::{
    Cart, CartLine, Catalogue, LockKey, Money, OptionId, PropertyId, Quantity, RentalObject,
    RentalObjectId, TenantFacts, TenantId,
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The database itself failed (a lost connection, a full disk, a timeout); the driver's
    /// error is kept as the source.
    #[error("the database failed: {0}")]
    Database(#[source] DatabaseFailure),
    #[error("the database holds a value the model refuses: {0}")]
    Corrupt(String),
    /// Another open order holds this key on this rental object (S4).
    #[error("lock key {key} is held by an open order")]
    LockTaken { key: LockKey },
    /// Another cart line holds this key (S10).
    #[error("lock key {key} is held by cart line {holder}")]
    CartKeyTaken { key: LockKey, holder: OptionId },
    /// The cart is not what the submission was decided on.
    #[error("the cart changed while the order was being sent")]
    CartChanged,
    /// The case's status is no longer what the transition was decided on.
    #[error("case {number} is no longer {expected}")]
    StatusChanged {
        number: CaseNumber,
        expected: CaseStatus,
    },
    #[error("{0} not found")]
    NotFound(crate::entity::Entity),
    #[error("a payment of {paid} is more than the {remaining} that remains")]
    Overpayment { paid: Money, remaining: Money },
}

/// A database driver's error, shared so that [`StoreError`] stays `Clone`. Two are equal when
/// they say the same thing.
#[derive(Debug, Clone)]
pub struct DatabaseFailure(Arc<dyn std::error::Error + Send + Sync + 'static>);

impl DatabaseFailure {
    pub fn new(error: impl std::error::Error + Send + Sync + 'static) -> DatabaseFailure {
        DatabaseFailure(Arc::new(error))
    }
}

impl std::fmt::Display for DatabaseFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for DatabaseFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl PartialEq for DatabaseFailure {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.to_string() == other.0.to_string()
    }
}

impl Eq for DatabaseFailure {}

impl From<tillval_engine::model::ModelError> for StoreError {
    fn from(error: tillval_engine::model::ModelError) -> Self {
        StoreError::Corrupt(error.to_string())
    }
}

/// How many connections a store keeps, and how long a request waits for one before it fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// A change another node made to what this node caches or streams, as the store heard it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChange {
    /// A property's catalogue changed: drop its cached copy.
    Catalogue { property: PropertyId },
    /// Another rule set became active: load it.
    RuleSet,
    /// A case changed status: tell its tenant's subscriptions.
    CaseStatus {
        tenant: TenantId,
        number: CaseNumber,
        status: CaseStatus,
        at: DateTime<Utc>,
    },
    /// Changes may have been lost (the listener's connection dropped): drop every cache.
    Missed,
}

/// A tenant as the store knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRecord {
    pub id: TenantId,
    pub name: String,
    pub ordering_enabled: bool,
}

/// A property, by id and name: what staff pick a catalogue by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyRecord {
    pub id: PropertyId,
    pub name: String,
}

/// One household as staff find it: who, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdEntry {
    pub tenant: TenantId,
    pub tenant_name: String,
    pub rental_object: RentalObjectId,
    pub address: String,
}

/// Which logged decisions staff ask for; `None` is any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecisionFilter {
    /// `cart_add` or `checkout_submit`.
    pub action: Option<String>,
    pub rental_object: Option<RentalObjectId>,
    /// One reason code the decision carried.
    pub reason_code: Option<String>,
}

/// A cart with its checkout details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCart {
    pub cart: Cart,
    pub details: CheckoutDetails,
}

/// Everything one decision reads, taken in one read transaction.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub facts: TenantFacts,
    pub cart: StoredCart,
}

/// A fee on the ledger (S5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fee {
    pub id: i64,
    pub tenant: TenantId,
    pub rental_object: RentalObjectId,
    pub case_number: CaseNumber,
    pub option: OptionId,
    pub keys: Vec<LockKey>,
    pub amount: Money,
    pub paid: Money,
}

impl Fee {
    pub fn remaining(&self) -> Money {
        self.amount.saturating_sub(self.paid).unwrap_or(self.amount)
    }
}

/// A new case, decided and priced by the checkout service; the store writes it whole or not.
#[derive(Debug, Clone)]
pub struct SubmitPlan {
    pub tenant: TenantId,
    pub rental_object: RentalObjectId,
    pub idempotency_key: IdempotencyKey,
    pub terms_version: i64,
    pub details: CheckoutDetails,
    pub lines: Vec<crate::case::CaseLine>,
    /// The cart the decision was made on; the store refuses if it is not what it holds now.
    pub cart_lines: Vec<CartLine>,
    pub at: DateTime<Utc>,
    /// What the decision saw, kept with the case.
    pub receipt: crate::case::DecisionReceipt,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitOutcome {
    Created(Case),
    /// The idempotency key was used before: the case it made then.
    Replayed(Case),
}

/// A published rule-set version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRuleSet {
    pub version: i64,
    pub name: String,
    pub manifest_version: String,
    pub published_by: String,
    pub published_at: DateTime<Utc>,
    pub active: bool,
}

/// One refusal, for the decision log: what was refused, by which rule set, why, and the facts'
/// key figures at that moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionRecord {
    pub id: i64,
    pub tenant: TenantId,
    pub rental_object: RentalObjectId,
    pub action: String,
    pub option: Option<OptionId>,
    pub rule_set: String,
    pub reason_codes: Vec<String>,
    pub figures: serde_json::Value,
    pub at: DateTime<Utc>,
}

/// The facts S3 and S5 read (debts, fees and what is paid of them), and what staff write to
/// them. In production they come from the landlord's rental system; the store implements this
/// trait by default, over its own tables.
pub trait Ledger: Send + Sync {
    fn set_debt(
        &self,
        tenant: &TenantId,
        debt: Money,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The tenant's debt; `None` when none was ever set.
    fn debt(
        &self,
        tenant: &TenantId,
    ) -> impl Future<Output = Result<Option<Money>, StoreError>> + Send;
    fn fees(&self, tenant: &TenantId) -> impl Future<Output = Result<Vec<Fee>, StoreError>> + Send;
    /// Records a payment on a fee; `Overpayment` if it is more than remains.
    fn record_payment(
        &self,
        fee: i64,
        amount: Money,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<Fee, StoreError>> + Send;
}

/// The event outbox and its webhook endpoints (issue 15). The store writes events itself, in
/// the transaction of each change (`events`); a dispatcher leases what is due, one delivery per
/// (event, endpoint), and records how it went.
pub trait Outbox: Send + Sync {
    fn webhook_endpoint_add(
        &self,
        url: &str,
        secret: &str,
        description: &str,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<WebhookEndpoint, StoreError>> + Send;
    fn webhook_endpoints(
        &self,
    ) -> impl Future<Output = Result<Vec<WebhookEndpoint>, StoreError>> + Send;
    /// Switches an endpoint on or off; `NotFound` for no such endpoint. Events written while it
    /// is off are not sent to it.
    fn webhook_endpoint_set_enabled(
        &self,
        endpoint: i64,
        enabled: bool,
    ) -> impl Future<Output = Result<WebhookEndpoint, StoreError>> + Send;
    /// Leases up to `limit` due deliveries to `lease` until `until`: pending, due by `now`,
    /// not leased by anyone else (or their lease ran out), and the first pending one of their
    /// case for their endpoint, so a case's events go out in order, one at a time.
    fn deliveries_lease(
        &self,
        lease: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<LeasedDelivery>, StoreError>> + Send;
    /// The endpoint took the delivery. Ignored if the lease is no longer `lease`'s.
    fn delivery_succeeded(
        &self,
        delivery: &LeasedDelivery,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The attempt failed: tried again at `retry_at`, or dead-lettered when `None`. Ignored if
    /// the lease is no longer `lease`'s.
    fn delivery_failed(
        &self,
        delivery: &LeasedDelivery,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// An endpoint's dead letters, oldest first.
    fn dead_letters(
        &self,
        endpoint: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<DeadLetter>, StoreError>> + Send;
    /// Puts an endpoint's dead letters (or one of them) back to be delivered from `at`; how
    /// many.
    fn dead_letters_replay(
        &self,
        endpoint: i64,
        event: Option<i64>,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
    fn outbox_depth(&self) -> impl Future<Output = Result<OutboxDepth, StoreError>> + Send;
}

/// Facts in from the landlord's systems (issue 15).
pub trait Importer: Send + Sync {
    /// Writes one batch (sorted by kind, see [`crate::imported::FactKind`]) in one transaction:
    /// each record whose version is newer than the one stored (or that is new). A reference
    /// to what neither the batch nor the store holds, a currency that is not the catalogue's,
    /// payments over a fee: `Refused` with every such problem, and nothing written.
    fn import(
        &self,
        items: &[crate::imported::ImportItem],
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<crate::imported::ImportOutcome, StoreError>> + Send;
}

/// What the store is asked to do. See the module docs.
pub trait Store:
    Ledger + Outbox + Importer + Clone + Send + Sync + std::fmt::Debug + 'static
{
    /// Changes made by other nodes on the same database; `None` for a store that only this
    /// process writes (SQLite).
    fn changes(&self) -> Option<tokio::sync::broadcast::Receiver<StoreChange>> {
        None
    }

    // Tenants and apartments (S1).
    fn tenant(
        &self,
        tenant: &TenantId,
    ) -> impl Future<Output = Result<Option<TenantRecord>, StoreError>> + Send;
    /// The tenant's rental objects (those they lease).
    fn rental_objects(
        &self,
        tenant: &TenantId,
    ) -> impl Future<Output = Result<Vec<RentalObject>, StoreError>> + Send;
    /// The rental object if `tenant` leases it; `None` otherwise, so others' apartments are
    /// indistinguishable from apartments that do not exist.
    fn leased_rental_object(
        &self,
        tenant: &TenantId,
        rental_object: &RentalObjectId,
    ) -> impl Future<Output = Result<Option<Arc<RentalObject>>, StoreError>> + Send;

    /// The lease check and the snapshot together: `None` if `tenant` does not lease
    /// `rental_object`. A store may answer both with one statement (a catalogue request is
    /// then one round trip to the database).
    fn leased_snapshot(
        &self,
        tenant: &TenantId,
        rental_object: &RentalObjectId,
        today: NaiveDate,
    ) -> impl Future<Output = Result<Option<Snapshot>, StoreError>> + Send {
        async move {
            match self.leased_rental_object(tenant, rental_object).await? {
                Some(object) => Ok(Some(self.snapshot(tenant, object, today).await?)),
                None => Ok(None),
            }
        }
    }

    /// The facts and the cart for one decision, in one read transaction.
    fn snapshot(
        &self,
        tenant: &TenantId,
        rental_object: Arc<RentalObject>,
        today: NaiveDate,
    ) -> impl Future<Output = Result<Snapshot, StoreError>> + Send;

    fn catalogue(
        &self,
        property: &PropertyId,
    ) -> impl Future<Output = Result<Option<Catalogue>, StoreError>> + Send;

    // The cart (S8–S12).
    /// Adds a line holding `keys`; `CartKeyTaken` if another line holds one of them.
    fn cart_add_line(
        &self,
        tenant: &TenantId,
        rental_object: &RentalObjectId,
        line: &CartLine,
        keys: &[LockKey],
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Changes a line's quantity; `NotFound` if the cart has no such line.
    fn cart_set_quantity(
        &self,
        tenant: &TenantId,
        rental_object: &RentalObjectId,
        option: &OptionId,
        quantity: Quantity,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Removes a line; `NotFound` if the cart has no such line.
    fn cart_remove_line(
        &self,
        tenant: &TenantId,
        rental_object: &RentalObjectId,
        option: &OptionId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn cart_clear(
        &self,
        tenant: &TenantId,
        rental_object: &RentalObjectId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn cart_set_details(
        &self,
        tenant: &TenantId,
        rental_object: &RentalObjectId,
        details: &CheckoutDetails,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    // Checkout (S13, S14).
    fn current_terms(&self) -> impl Future<Output = Result<Option<Terms>, StoreError>> + Send;
    /// Writes the case, its lines, its first history entry and its order locks, and empties the
    /// cart, in one transaction. `LockTaken` if an open order holds one of its keys,
    /// `CartChanged` if the cart is not `plan.cart_lines`.
    fn submit(
        &self,
        plan: &SubmitPlan,
    ) -> impl Future<Output = Result<SubmitOutcome, StoreError>> + Send;

    // Cases (S15, S16).
    fn case_by_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &IdempotencyKey,
    ) -> impl Future<Output = Result<Option<Case>, StoreError>> + Send;
    fn case(
        &self,
        number: &CaseNumber,
    ) -> impl Future<Output = Result<Option<Case>, StoreError>> + Send;
    /// The tenant's cases, newest first, after the case with id `after`.
    fn cases(
        &self,
        tenant: &TenantId,
        status: Option<CaseStatus>,
        after: Option<i64>,
        first: u32,
    ) -> impl Future<Output = Result<CasePage, StoreError>> + Send;
    /// Moves a case from `from` to `to`: the history entry, the release of its locks at a
    /// terminal status, its fees on the ledger at INSTALLED; `StatusChanged` if it is no longer
    /// in `from`.
    /// Every tenant's cases, newest first, for staff's queue.
    fn case_queue(
        &self,
        status: Option<CaseStatus>,
        after: Option<i64>,
        first: u32,
    ) -> impl Future<Output = Result<CasePage, StoreError>> + Send;
    fn transition(
        &self,
        number: &CaseNumber,
        from: CaseStatus,
        to: CaseStatus,
        actor: Actor,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<Case, StoreError>> + Send;

    // Reference data, for loading (demo data, imports).
    fn put_tenant(
        &self,
        tenant: &TenantRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn put_rental_object(
        &self,
        object: &RentalObject,
        property_name: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn put_lease(
        &self,
        tenant: &TenantId,
        rental_object: &RentalObjectId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Replaces a property's catalogue. Cart lines naming options that are gone stay, and show
    /// as problems (`OPTION_UNAVAILABLE`).
    fn put_catalogue(
        &self,
        catalogue: &Catalogue,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Inserts or replaces one option of a property's catalogue (its category must exist).
    fn put_option(
        &self,
        property: &PropertyId,
        option: &tillval_engine::model::AddOnOption,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn put_terms(&self, terms: &Terms) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn set_ordering_enabled(
        &self,
        enabled: bool,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    // Rule sets and the decision log (rule authoring).
    /// Stores a new version and makes it the active one, in one transaction.
    fn publish_rule_set(
        &self,
        source: &tillval_engine::rules::RuleSetSource,
        name: &str,
        manifest_version: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<StoredRuleSet, StoreError>> + Send;
    /// Makes a stored version the active one; `NotFound` if there is no such version.
    fn activate_rule_set(
        &self,
        version: i64,
        by: &str,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<StoredRuleSet, StoreError>> + Send;
    fn rule_sets(&self) -> impl Future<Output = Result<Vec<StoredRuleSet>, StoreError>> + Send;
    fn rule_set_source(
        &self,
        version: i64,
    ) -> impl Future<Output = Result<Option<tillval_engine::rules::RuleSetSource>, StoreError>> + Send;
    /// The active version and its source, if any was published.
    fn active_rule_set(
        &self,
    ) -> impl Future<
        Output = Result<Option<(i64, tillval_engine::rules::RuleSetSource)>, StoreError>,
    > + Send;
    fn record_decision(
        &self,
        record: &DecisionRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// A tenant's decisions that `filter` lets through, newest first, after the one with id
    /// `after`.
    fn decisions(
        &self,
        tenant: &TenantId,
        filter: &DecisionFilter,
        after: Option<i64>,
        first: u32,
    ) -> impl Future<Output = Result<(Vec<DecisionRecord>, bool), StoreError>> + Send;
    /// Deletes logged decisions older than `before` (the log's retention); how many went.
    fn prune_decisions(
        &self,
        before: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// Every household (tenant, rental object) in key order, `limit` after `after`: the
    /// population a rule set is measured on before it goes live.
    fn households(
        &self,
        after: Option<&(TenantId, RentalObjectId)>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<(TenantId, RentalObjectId)>, StoreError>> + Send;
    /// The same households with the tenant's name and the address, for staff to pick from.
    fn household_directory(
        &self,
        after: Option<&(TenantId, RentalObjectId)>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<HouseholdEntry>, StoreError>> + Send;
    /// Every property, by id.
    fn properties(&self) -> impl Future<Output = Result<Vec<PropertyRecord>, StoreError>> + Send;
}
