//! What both stores share: turning stored values back into the model's, and the decision
//! snapshot assembled from the rows of its one statement.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use super::{DecisionRecord, Fee, Snapshot, StoreError, StoredCart, StoredRuleSet, TenantRecord};
use crate::cases::{Actor, Case, CaseLine, CaseNumber, CaseStatus, HistoryEntry};
use crate::checkout::{CheckoutDetails, PhoneNumber, Terms};
use crate::model::{
    AddOnOption, AddOnOptionRecord, Cart, CartLine, Category, CategoryId, Currency, LockKey, Money,
    OngoingOrder, OptionId, Picture, PropertyId, Quantity, RentalObject, RentalObjectId,
    RentalObjectRecord, Space, SpaceId, TenantFacts, TenantId, Unit,
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

/// A result row of either database, read by the shared conversions below: what the two stores
/// decode alike is written once.
pub(super) trait StoreRow {
    fn text(&self, column: usize) -> Result<String, StoreError>;
    fn text_opt(&self, column: usize) -> Result<Option<String>, StoreError>;
    fn int(&self, column: usize) -> Result<i64, StoreError>;
    fn int32(&self, column: usize) -> Result<i32, StoreError>;
    fn flag(&self, column: usize) -> Result<bool, StoreError>;
    fn flag_opt(&self, column: usize) -> Result<Option<bool>, StoreError>;
    fn time(&self, column: usize) -> Result<DateTime<Utc>, StoreError>;
    fn date_opt(&self, column: usize) -> Result<Option<NaiveDate>, StoreError>;
}

macro_rules! store_row {
    ($row:ty) => {
        impl StoreRow for $row {
            fn text(&self, column: usize) -> Result<String, StoreError> {
                Ok(sqlx::Row::try_get(self, column)?)
            }
            fn text_opt(&self, column: usize) -> Result<Option<String>, StoreError> {
                Ok(sqlx::Row::try_get(self, column)?)
            }
            fn int(&self, column: usize) -> Result<i64, StoreError> {
                Ok(sqlx::Row::try_get(self, column)?)
            }
            fn int32(&self, column: usize) -> Result<i32, StoreError> {
                Ok(sqlx::Row::try_get(self, column)?)
            }
            fn flag(&self, column: usize) -> Result<bool, StoreError> {
                Ok(sqlx::Row::try_get(self, column)?)
            }
            fn flag_opt(&self, column: usize) -> Result<Option<bool>, StoreError> {
                Ok(sqlx::Row::try_get(self, column)?)
            }
            fn time(&self, column: usize) -> Result<DateTime<Utc>, StoreError> {
                Ok(sqlx::Row::try_get(self, column)?)
            }
            fn date_opt(&self, column: usize) -> Result<Option<NaiveDate>, StoreError> {
                Ok(sqlx::Row::try_get(self, column)?)
            }
        }
    };
}
store_row!(sqlx::sqlite::SqliteRow);
store_row!(sqlx::postgres::PgRow);

fn json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// `id, name, ordering_enabled`
pub(super) fn tenant_from(row: &impl StoreRow) -> Result<TenantRecord, StoreError> {
    Ok(TenantRecord {
        id: TenantId::parse(row.text(0)?)?,
        name: row.text(1)?,
        ordering_enabled: row.flag(2)?,
    })
}

/// `id, property_id, address, building_year, rooms, area_sqm`
pub(super) fn rental_object_from(
    row: &impl StoreRow,
    spaces: Vec<Space>,
) -> Result<RentalObject, StoreError> {
    Ok(RentalObject::try_from(RentalObjectRecord {
        id: RentalObjectId::parse(row.text(0)?)?,
        property: PropertyId::parse(row.text(1)?)?,
        address: row.text(2)?,
        building_year: row.int32(3)?,
        rooms: u8::try_from(row.int(4)?).map_err(|_| corrupt("rooms"))?,
        area_sqm: u32::try_from(row.int(5)?).map_err(|_| corrupt("area"))?,
        spaces,
    })?)
}

/// `space_id, name` at `first`
pub(super) fn space_from(row: &impl StoreRow, first: usize) -> Result<Space, StoreError> {
    Ok(Space {
        id: SpaceId::parse(row.text(first)?)?,
        name: row.text(first + 1)?,
    })
}

/// `option_id, quantity`
pub(super) fn cart_line_from(row: &impl StoreRow) -> Result<CartLine, StoreError> {
    Ok(CartLine {
        option: OptionId::parse(row.text(0)?)?,
        quantity: Quantity::new(row.int(1)?)?,
    })
}

/// `contact_phone, preferred_date, message`
pub(super) fn details_row(row: &impl StoreRow) -> Result<CheckoutDetails, StoreError> {
    details_from(row.text_opt(0)?, row.date_opt(1)?, row.text(2)?)
}

/// `option_id, option_name, category_id, space_id, lock_keys, quantity, monthly_price,
/// one_time_fee, currency`
pub(super) fn case_line_from(row: &impl StoreRow) -> Result<CaseLine, StoreError> {
    let currency = row.text(8)?;
    Ok(CaseLine {
        option: OptionId::parse(row.text(0)?)?,
        option_name: row.text(1)?,
        category: CategoryId::parse(row.text(2)?)?,
        space: SpaceId::parse(row.text(3)?)?,
        keys: json(&row.text(4)?)?,
        quantity: Quantity::new(row.int(5)?)?,
        monthly_price: money(row.int(6)?, &currency)?,
        one_time_fee: money(row.int(7)?, &currency)?,
    })
}

/// `status, actor, at`
pub(super) fn history_from(row: &impl StoreRow) -> Result<HistoryEntry, StoreError> {
    let status = CaseStatus::parse(&row.text(0)?).ok_or_else(|| corrupt("history status"))?;
    let actor = match row.text(1)?.as_str() {
        "tenant" => Actor::Tenant,
        "staff" => Actor::Staff,
        _ => return Err(corrupt("history actor")),
    };
    Ok(HistoryEntry {
        status,
        actor,
        at: row.time(2)?,
    })
}

/// `id, number, tenant_id, rental_object_id, status, terms_version, contact_phone,
/// preferred_date, message, created_at, updated_at`
pub(super) fn case_from(
    row: &impl StoreRow,
    lines: Vec<CaseLine>,
    history: Vec<HistoryEntry>,
) -> Result<Case, StoreError> {
    Ok(Case {
        id: row.int(0)?,
        number: CaseNumber::parse(&row.text(1)?).ok_or_else(|| corrupt("case number"))?,
        tenant: TenantId::parse(row.text(2)?)?,
        rental_object: RentalObjectId::parse(row.text(3)?)?,
        status: CaseStatus::parse(&row.text(4)?).ok_or_else(|| corrupt("case status"))?,
        terms_version: row.int(5)?,
        details: details_from(row.text_opt(6)?, row.date_opt(7)?, row.text(8)?)?,
        lines,
        history,
        created_at: row.time(9)?,
        updated_at: row.time(10)?,
    })
}

/// `id, tenant_id, rental_object_id, case number, option_id, lock_keys, amount, paid, currency`
pub(super) fn fee_from(row: &impl StoreRow) -> Result<Fee, StoreError> {
    let currency = row.text(8)?;
    Ok(Fee {
        id: row.int(0)?,
        tenant: TenantId::parse(row.text(1)?)?,
        rental_object: RentalObjectId::parse(row.text(2)?)?,
        case_number: CaseNumber::parse(&row.text(3)?).ok_or_else(|| corrupt("case number"))?,
        option: OptionId::parse(row.text(4)?)?,
        keys: json(&row.text(5)?)?,
        amount: money(row.int(6)?, &currency)?,
        paid: money(row.int(7)?, &currency)?,
    })
}

/// `id, name, position`
pub(super) fn category_from(row: &impl StoreRow) -> Result<Category, StoreError> {
    Ok(Category {
        id: CategoryId::parse(row.text(0)?)?,
        name: row.text(1)?,
        position: u32::try_from(row.int(2)?).map_err(|_| corrupt("position"))?,
    })
}

/// `option_id, thumbnail, large, alt`: the option and the picture.
pub(super) fn picture_from(row: &impl StoreRow) -> Result<(String, Picture), StoreError> {
    Ok((
        row.text(0)?,
        Picture {
            thumbnail: row.text(1)?,
            large: row.text(2)?,
            alt: row.text(3)?,
        },
    ))
}

/// `id, category_id, space_id, name, description, monthly_price, one_time_fee, currency,
/// unit_kind, unit_max, position`, with the option's pictures taken from `pictures`.
pub(super) fn option_from(
    row: &impl StoreRow,
    pictures: &mut HashMap<String, Vec<Picture>>,
) -> Result<AddOnOption, StoreError> {
    let id = row.text(0)?;
    let currency = row.text(7)?;
    let unit = match row.text(8)?.as_str() {
        "piece" => Unit::Piece {
            max: Quantity::new(row.int(9)?)?,
        },
        _ => Unit::Single,
    };
    Ok(AddOnOption::try_from(AddOnOptionRecord {
        pictures: pictures.remove(&id).unwrap_or_default(),
        id: OptionId::parse(&id)?,
        category: CategoryId::parse(row.text(1)?)?,
        space: SpaceId::parse(row.text(2)?)?,
        name: row.text(3)?,
        description: row.text(4)?,
        monthly_price: money(row.int(5)?, &currency)?,
        one_time_fee: money(row.int(6)?, &currency)?,
        unit,
        position: u32::try_from(row.int(10)?).map_err(|_| corrupt("position"))?,
    })?)
}

/// `version, text_sv, text_en, published_at`
pub(super) fn terms_from(row: &impl StoreRow) -> Result<Terms, StoreError> {
    Ok(Terms {
        version: row.int(0)?,
        text_sv: row.text(1)?,
        text_en: row.text(2)?,
        published_at: row.time(3)?,
    })
}

/// `version, name, manifest_version, published_by, published_at, is active`
pub(super) fn stored_rule_set_from(row: &impl StoreRow) -> Result<StoredRuleSet, StoreError> {
    Ok(StoredRuleSet {
        version: row.int(0)?,
        name: row.text(1)?,
        manifest_version: row.text(2)?,
        published_by: row.text(3)?,
        published_at: row.time(4)?,
        active: row.flag_opt(5)?.unwrap_or(false),
    })
}

/// `id, tenant_id, rental_object_id, action, option_id, rule_set, reason_codes, figures, at`
pub(super) fn decision_from(row: &impl StoreRow) -> Result<DecisionRecord, StoreError> {
    Ok(DecisionRecord {
        id: row.int(0)?,
        tenant: TenantId::parse(row.text(1)?)?,
        rental_object: RentalObjectId::parse(row.text(2)?)?,
        action: row.text(3)?,
        option: row.text_opt(4)?.map(OptionId::parse).transpose()?,
        rule_set: row.text(5)?,
        reason_codes: json(&row.text(6)?)?,
        figures: json(&row.text(7)?)?,
        at: row.time(8)?,
    })
}
