//! What both stores share: turning stored values back into the model's, and the decision
//! snapshot assembled from the rows of its one statement.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;

use super::{Snapshot, StoreError, StoredCart};
use crate::cases::Actor;
use crate::checkout::{CheckoutDetails, PhoneNumber};
use crate::model::{
    Cart, CartLine, Currency, LockKey, Money, OngoingOrder, OptionId, PropertyId, Quantity,
    RentalObject, RentalObjectId, RentalObjectRecord, Space, SpaceId, TenantFacts, TenantId,
};

pub(super) fn money(amount: i64, currency: &str) -> Result<Money, StoreError> {
    Ok(Money::from_minor(amount, Currency::parse(currency)?)?)
}

pub(super) fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_owned())
}

pub(super) fn actor_text(actor: Actor) -> &'static str {
    match actor {
        Actor::Tenant => "tenant",
        Actor::Staff => "staff",
    }
}

pub(super) fn details_from(
    phone: Option<String>,
    date: Option<NaiveDate>,
    message: String,
) -> Result<CheckoutDetails, StoreError> {
    Ok(CheckoutDetails {
        contact_phone: phone.map(|p| PhoneNumber::parse(&p)).transpose()?,
        preferred_date: date,
        message,
    })
}

/// One row of the snapshot statement: a kind and up to three texts and two numbers.
#[derive(Debug)]
pub(super) struct SnapshotRow {
    pub kind: String,
    pub t1: Option<String>,
    pub t2: Option<String>,
    pub t3: Option<String>,
    pub n1: Option<i64>,
    pub n2: Option<i64>,
    pub n3: Option<i64>,
}

/// The apartment (from its `object` and `space` rows; `None` without an `object` row, which
/// the statement gives only with a lease) and then the snapshot from the other rows.
pub(super) fn assemble_leased_snapshot(
    rows: Vec<SnapshotRow>,
    tenant: &TenantId,
    today: NaiveDate,
) -> Result<Option<Snapshot>, StoreError> {
    let mut object: Option<RentalObjectRecord> = None;
    let mut spaces: Vec<(i64, Space)> = Vec::new();
    let mut rest = Vec::with_capacity(rows.len());
    for row in rows {
        let required = |value: Option<String>| value.ok_or_else(|| corrupt("snapshot"));
        match row.kind.as_str() {
            "object" => {
                object = Some(RentalObjectRecord {
                    id: RentalObjectId::parse(required(row.t1)?)?,
                    property: PropertyId::parse(required(row.t2)?)?,
                    address: required(row.t3)?,
                    building_year: i32::try_from(row.n1.unwrap_or(0))
                        .map_err(|_| corrupt("building year"))?,
                    rooms: u8::try_from(row.n2.unwrap_or(0)).map_err(|_| corrupt("rooms"))?,
                    area_sqm: u32::try_from(row.n3.unwrap_or(0)).map_err(|_| corrupt("area"))?,
                    spaces: Vec::new(),
                })
            }
            "space" => spaces.push((
                row.n1.unwrap_or(0),
                Space {
                    id: SpaceId::parse(required(row.t1)?)?,
                    name: required(row.t2)?,
                },
            )),
            _ => rest.push(row),
        }
    }
    let Some(mut record) = object else {
        return Ok(None);
    };
    spaces.sort_by_key(|(position, _)| *position);
    record.spaces = spaces.into_iter().map(|(_, space)| space).collect();
    let object = Arc::new(RentalObject::try_from(record)?);
    assemble_snapshot(rest, tenant, object, today).map(Some)
}

/// The facts and the cart from the snapshot statement's rows; both stores run the same union.
pub(super) fn assemble_snapshot(
    rows: Vec<SnapshotRow>,
    tenant: &TenantId,
    object: Arc<RentalObject>,
    today: NaiveDate,
) -> Result<Snapshot, StoreError> {
    let mut enabled = false;
    let mut currency = Currency::SEK;
    let mut debt: Option<Money> = None;
    let mut ongoing_orders = BTreeMap::new();
    let mut unpaid: Vec<(String, Money)> = Vec::new();
    let mut monthly: Vec<(String, i64, i64)> = Vec::new();
    let mut co_tenants = Vec::new();
    let mut lines: Vec<(i64, CartLine)> = Vec::new();
    let mut details = CheckoutDetails::default();
    for row in rows {
        let required = |value: Option<String>| value.ok_or_else(|| corrupt("snapshot"));
        match row.kind.as_str() {
            "enabled" => enabled = row.n1.unwrap_or(0) != 0,
            "currency" => currency = Currency::parse(&required(row.t1.clone())?)?,
            "debt" => debt = Some(money(row.n1.unwrap_or(0), &required(row.t1.clone())?)?),
            "ongoing" => {
                let key = LockKey::parse(required(row.t1.clone())?)?;
                ongoing_orders.insert(
                    key,
                    OngoingOrder {
                        case_number: required(row.t2.clone())?,
                    },
                );
            }
            "unpaid" => unpaid.push((
                required(row.t2.clone())?,
                money(row.n1.unwrap_or(0), &required(row.t1.clone())?)?,
            )),
            "active" => monthly.push((
                required(row.t1.clone())?,
                row.n1.unwrap_or(0),
                row.n2.unwrap_or(0),
            )),
            "co_tenant" => co_tenants.push(TenantId::parse(required(row.t1.clone())?)?),
            "line" => lines.push((
                row.n2.unwrap_or(0),
                CartLine {
                    option: OptionId::parse(required(row.t1.clone())?)?,
                    quantity: Quantity::new(row.n1.unwrap_or(0))?,
                },
            )),
            "details" => {
                let date = row
                    .t2
                    .clone()
                    .map(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d"))
                    .transpose()
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                details = details_from(row.t1.clone(), date, row.t3.clone().unwrap_or_default())?;
            }
            other => return Err(StoreError::Corrupt(format!("snapshot row {other}"))),
        }
    }
    let mut unpaid_fees: BTreeMap<LockKey, Money> = BTreeMap::new();
    for (keys, remaining) in unpaid {
        let keys: Vec<LockKey> =
            serde_json::from_str(&keys).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        for key in keys {
            let total = match unpaid_fees.get(&key) {
                Some(sum) => sum.checked_add(remaining)?,
                None => remaining,
            };
            unpaid_fees.insert(key, total);
        }
    }
    let mut active_monthly_total = Money::zero(currency);
    for (line_currency, price, quantity) in monthly {
        let quantity = u32::try_from(quantity).map_err(|_| corrupt("quantity"))?;
        active_monthly_total = active_monthly_total
            .checked_add(money(price, &line_currency)?.checked_mul(quantity)?)?;
    }
    co_tenants.sort();
    lines.sort_by_key(|(seq, _)| *seq);
    let cart = Cart::with_lines(
        tenant.clone(),
        object.id().clone(),
        lines.into_iter().map(|(_, l)| l).collect(),
    )?;
    Ok(Snapshot {
        facts: TenantFacts {
            tenant: tenant.clone(),
            rental_object: object,
            ordering_enabled: enabled,
            debt: debt.unwrap_or(Money::zero(currency)),
            ongoing_orders,
            unpaid_fees,
            active_monthly_total,
            co_tenants,
            today,
        },
        cart: StoredCart { cart, details },
    })
}
