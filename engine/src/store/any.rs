//! One store type for a binary that picks its database at start: SQLite or PostgreSQL by the
//! URL's scheme. Each operation goes to the one it holds.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use super::{
    DecisionRecord, Fee, Ledger, PgStore, PoolSettings, Snapshot, SqliteStore, Store, StoreChange,
    StoreError, StoredRuleSet, SubmitOutcome, SubmitPlan, TenantRecord,
};
use crate::cases::{Actor, Case, CaseNumber, CasePage, CaseStatus};
use crate::checkout::{CheckoutDetails, IdempotencyKey, Terms};
use crate::model::{
    AddOnOption, CartLine, Catalogue, LockKey, Money, OptionId, PropertyId, Quantity, RentalObject,
    RentalObjectId, TenantId,
};
use crate::rules::RuleSetSource;

#[derive(Debug, Clone)]
pub enum AnyStore {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl AnyStore {
    /// Opens `postgres://…` (or `postgresql://…`) on PostgreSQL, anything else (`sqlite://FILE`
    /// or a path) on SQLite.
    pub async fn open(url: &str, settings: PoolSettings) -> Result<AnyStore, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(AnyStore::Postgres(PgStore::connect(url, settings).await?))
        } else {
            Ok(AnyStore::Sqlite(
                SqliteStore::open_with(url, settings).await?,
            ))
        }
    }

    /// Which database this is, for logs: `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            AnyStore::Sqlite(_) => "sqlite",
            AnyStore::Postgres(_) => "postgres",
        }
    }

    /// Closes every connection; waits for them to finish.
    pub async fn close(&self) {
        match self {
            AnyStore::Sqlite(store) => store.close().await,
            AnyStore::Postgres(store) => store.close().await,
        }
    }
}

impl From<SqliteStore> for AnyStore {
    fn from(store: SqliteStore) -> Self {
        AnyStore::Sqlite(store)
    }
}

impl From<PgStore> for AnyStore {
    fn from(store: PgStore) -> Self {
        AnyStore::Postgres(store)
    }
}

impl Ledger for AnyStore {
    async fn set_debt(
        &self,
        tenant: &TenantId,
        debt: Money,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.set_debt(tenant, debt, at).await,
            AnyStore::Postgres(store) => store.set_debt(tenant, debt, at).await,
        }
    }

    async fn fees(&self, tenant: &TenantId) -> Result<Vec<Fee>, StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.fees(tenant).await,
            AnyStore::Postgres(store) => store.fees(tenant).await,
        }
    }

    async fn record_payment(
        &self,
        fee: i64,
        amount: Money,
        at: DateTime<Utc>,
    ) -> Result<Fee, StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.record_payment(fee, amount, at).await,
            AnyStore::Postgres(store) => store.record_payment(fee, amount, at).await,
        }
    }
}

impl Store for AnyStore {
    fn changes(&self) -> Option<tokio::sync::broadcast::Receiver<StoreChange>> {
        match self {
            AnyStore::Sqlite(store) => store.changes(),
            AnyStore::Postgres(store) => store.changes(),
        }
    }

    async fn tenant(&self, tenant: &TenantId) -> Result<Option<TenantRecord>, StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.tenant(tenant).await,
            AnyStore::Postgres(store) => store.tenant(tenant).await,
        }
    }

    async fn rental_objects(&self, tenant: &TenantId) -> Result<Vec<RentalObject>, StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.rental_objects(tenant).await,
            AnyStore::Postgres(store) => store.rental_objects(tenant).await,
        }
    }

    async fn leased_rental_object(
        &self,
        tenant: &TenantId,
        rental_object: &RentalObjectId,
    ) -> Result<Option<Arc<RentalObject>>, StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.leased_rental_object(tenant, rental_object).await,
            AnyStore::Postgres(store) => store.leased_rental_object(tenant, rental_object).await,
        }
    }

    async fn leased_snapshot(
        &self,
        tenant: &TenantId,
        rental_object: &RentalObjectId,
        today: NaiveDate,
    ) -> Result<Option<Snapshot>, StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.leased_snapshot(tenant, rental_object, today).await,
            AnyStore::Postgres(store) => store.leased_snapshot(tenant, rental_object, today).await,
        }
    }

    async fn snapshot(
        &self,
        tenant: &TenantId,
        rental_object: Arc<RentalObject>,
        today: NaiveDate,
    ) -> Result<Snapshot, StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.snapshot(tenant, rental_object, today).await,
            AnyStore::Postgres(store) => store.snapshot(tenant, rental_object, today).await,
        }
    }

    async fn catalogue(&self, property: &PropertyId) -> Result<Option<Catalogue>, StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.catalogue(property).await,
            AnyStore::Postgres(store) => store.catalogue(property).await,
        }
    }

    async fn cart_add_line(
        &self,
        tenant: &TenantId,
        rental_object: &RentalObjectId,
        line: &CartLine,
        keys: &[LockKey],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        match self {
            AnyStore::Sqlite(store) => {
                store
                    .cart_add_line(tenant, rental_object, line, keys, at)
                    .await
            }
            AnyStore::Postgres(store) => {
                store
                    .cart_add_line(tenant, rental_object, line, keys, at)
                    .await
            }
        }
    }

    async fn cart_set_quantity(
        &self,
        tenant: &TenantId,
        rental_object: &RentalObjectId,
        option: &OptionId,
        quantity: Quantity,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        match self {
            AnyStore::Sqlite(store) => {
                store
                    .cart_set_quantity(tenant, rental_object, option, quantity, at)
                    .await
            }
            AnyStore::Postgres(store) => {
                store
                    .cart_set_quantity(tenant, rental_object, option, quantity, at)
                    .await
            }
        }
    }

    async fn cart_remove_line(
        &self,
        tenant: &TenantId,
        rental_object: &RentalObjectId,
        option: &OptionId,
    ) -> Result<(), StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.cart_remove_line(tenant, rental_object, option).await,
            AnyStore::Postgres(store) => {
                store.cart_remove_line(tenant, rental_object, option).await
            }
        }
    }

    async fn cart_clear(
        &self,
        tenant: &TenantId,
        rental_object: &RentalObjectId,
    ) -> Result<(), StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.cart_clear(tenant, rental_object).await,
            AnyStore::Postgres(store) => store.cart_clear(tenant, rental_object).await,
        }
    }

    async fn cart_set_details(
        &self,
        tenant: &TenantId,
        rental_object: &RentalObjectId,
        details: &CheckoutDetails,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        match self {
            AnyStore::Sqlite(store) => {
                store
                    .cart_set_details(tenant, rental_object, details, at)
                    .await
            }
            AnyStore::Postgres(store) => {
                store
                    .cart_set_details(tenant, rental_object, details, at)
                    .await
            }
        }
    }

    async fn current_terms(&self) -> Result<Option<Terms>, StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.current_terms().await,
            AnyStore::Postgres(store) => store.current_terms().await,
        }
    }

    async fn submit(&self, plan: &SubmitPlan) -> Result<SubmitOutcome, StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.submit(plan).await,
            AnyStore::Postgres(store) => store.submit(plan).await,
        }
    }

    async fn case_by_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &IdempotencyKey,
    ) -> Result<Option<Case>, StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.case_by_idempotency_key(tenant, key).await,
            AnyStore::Postgres(store) => store.case_by_idempotency_key(tenant, key).await,
        }
    }

    async fn case(&self, number: &CaseNumber) -> Result<Option<Case>, StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.case(number).await,
            AnyStore::Postgres(store) => store.case(number).await,
        }
    }

    async fn cases(
        &self,
        tenant: &TenantId,
        status: Option<CaseStatus>,
        after: Option<i64>,
        first: u32,
    ) -> Result<CasePage, StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.cases(tenant, status, after, first).await,
            AnyStore::Postgres(store) => store.cases(tenant, status, after, first).await,
        }
    }

    async fn transition(
        &self,
        number: &CaseNumber,
        from: CaseStatus,
        to: CaseStatus,
        actor: Actor,
        at: DateTime<Utc>,
    ) -> Result<Case, StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.transition(number, from, to, actor, at).await,
            AnyStore::Postgres(store) => store.transition(number, from, to, actor, at).await,
        }
    }

    async fn put_tenant(&self, tenant: &TenantRecord) -> Result<(), StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.put_tenant(tenant).await,
            AnyStore::Postgres(store) => store.put_tenant(tenant).await,
        }
    }

    async fn put_rental_object(
        &self,
        object: &RentalObject,
        property_name: &str,
    ) -> Result<(), StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.put_rental_object(object, property_name).await,
            AnyStore::Postgres(store) => store.put_rental_object(object, property_name).await,
        }
    }

    async fn put_lease(
        &self,
        tenant: &TenantId,
        rental_object: &RentalObjectId,
    ) -> Result<(), StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.put_lease(tenant, rental_object).await,
            AnyStore::Postgres(store) => store.put_lease(tenant, rental_object).await,
        }
    }

    async fn put_catalogue(&self, catalogue: &Catalogue) -> Result<(), StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.put_catalogue(catalogue).await,
            AnyStore::Postgres(store) => store.put_catalogue(catalogue).await,
        }
    }

    async fn put_option(
        &self,
        property: &PropertyId,
        option: &AddOnOption,
    ) -> Result<(), StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.put_option(property, option).await,
            AnyStore::Postgres(store) => store.put_option(property, option).await,
        }
    }

    async fn put_terms(&self, terms: &Terms) -> Result<(), StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.put_terms(terms).await,
            AnyStore::Postgres(store) => store.put_terms(terms).await,
        }
    }

    async fn set_ordering_enabled(&self, enabled: bool) -> Result<(), StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.set_ordering_enabled(enabled).await,
            AnyStore::Postgres(store) => store.set_ordering_enabled(enabled).await,
        }
    }

    async fn publish_rule_set(
        &self,
        source: &RuleSetSource,
        name: &str,
        manifest_version: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<StoredRuleSet, StoreError> {
        match self {
            AnyStore::Sqlite(store) => {
                store
                    .publish_rule_set(source, name, manifest_version, by, at)
                    .await
            }
            AnyStore::Postgres(store) => {
                store
                    .publish_rule_set(source, name, manifest_version, by, at)
                    .await
            }
        }
    }

    async fn activate_rule_set(
        &self,
        version: i64,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<StoredRuleSet, StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.activate_rule_set(version, by, at).await,
            AnyStore::Postgres(store) => store.activate_rule_set(version, by, at).await,
        }
    }

    async fn rule_sets(&self) -> Result<Vec<StoredRuleSet>, StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.rule_sets().await,
            AnyStore::Postgres(store) => store.rule_sets().await,
        }
    }

    async fn rule_set_source(&self, version: i64) -> Result<Option<RuleSetSource>, StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.rule_set_source(version).await,
            AnyStore::Postgres(store) => store.rule_set_source(version).await,
        }
    }

    async fn active_rule_set(&self) -> Result<Option<(i64, RuleSetSource)>, StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.active_rule_set().await,
            AnyStore::Postgres(store) => store.active_rule_set().await,
        }
    }

    async fn record_decision(&self, record: &DecisionRecord) -> Result<(), StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.record_decision(record).await,
            AnyStore::Postgres(store) => store.record_decision(record).await,
        }
    }

    async fn decisions(
        &self,
        tenant: &TenantId,
        after: Option<i64>,
        first: u32,
    ) -> Result<(Vec<DecisionRecord>, bool), StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.decisions(tenant, after, first).await,
            AnyStore::Postgres(store) => store.decisions(tenant, after, first).await,
        }
    }

    async fn prune_decisions(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.prune_decisions(before).await,
            AnyStore::Postgres(store) => store.prune_decisions(before).await,
        }
    }

    async fn households(
        &self,
        after: Option<&(TenantId, RentalObjectId)>,
        limit: u32,
    ) -> Result<Vec<(TenantId, RentalObjectId)>, StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.households(after, limit).await,
            AnyStore::Postgres(store) => store.households(after, limit).await,
        }
    }
}
