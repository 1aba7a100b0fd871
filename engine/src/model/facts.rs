//! The tenant's facts for one decision: what the rules read (S2–S5).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{LockKey, Money, RentalObject, TenantId};

/// An order that is not finished yet on a lock key (S4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OngoingOrder {
    pub case_number: String,
}

/// Everything the rules may know about a tenant and the apartment they order for, taken as one
/// snapshot so that a decision never mixes two moments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantFacts {
    pub tenant: TenantId,
    pub rental_object: Arc<RentalObject>,
    /// S2: the landlord has the add-on product switched on for this tenant.
    pub ordering_enabled: bool,
    /// S3: what the tenant owes, past due.
    pub debt: Money,
    /// S4: ongoing orders on this rental object, by lock key.
    #[serde(default)]
    pub ongoing_orders: BTreeMap<LockKey, OngoingOrder>,
    /// S5: what remains unpaid of one-time fees on this rental object, by lock key.
    #[serde(default)]
    pub unpaid_fees: BTreeMap<LockKey, Money>,
    /// The monthly cost of the add-ons this rental object already has or has ordered.
    pub active_monthly_total: Money,
    #[serde(default)]
    pub co_tenants: Vec<TenantId>,
    /// The day of the decision, for rules about dates and building age.
    pub today: NaiveDate,
}
