//! Rows as the queries return them, decoded by column name (`sqlx::FromRow`, for either
//! database), and their conversion into the model's checked types; and the decision snapshot
//! assembled from the rows of its one statement.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::FromRow;

use tillval_engine::model::{
    AddOnOption, AddOnOptionRecord, Cart, CartLine, Category, CategoryId, Currency, LockKey, Money,
    OngoingOrder, OptionId, Picture, PropertyId, Quantity, RentalObject, RentalObjectId,
    RentalObjectRecord, Space, SpaceId, TenantFacts, TenantId, Unit,
};
use tillval_services::case::{Actor, Case, CaseLine, CaseNumber, CaseStatus, HistoryEntry};
use tillval_services::events::{DeadLetter, LeasedDelivery, OutboxDepth, WebhookEndpoint};
use tillval_services::order::{CheckoutDetails, PhoneNumber, Terms};
use tillval_services::store::{
    DecisionRecord, Fee, Snapshot, StoreError, StoredCart, StoredRuleSet, TenantRecord,
};

pub(crate) fn money(amount: i64, currency: &str) -> Result<Money, StoreError> {
    Ok(Money::from_minor(amount, Currency::parse(currency)?)?)
}

pub(crate) fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_owned())
}

pub(crate) fn actor_text(actor: Actor) -> &'static str {
    match actor {
        Actor::Tenant => "tenant",
        Actor::Staff => "staff",
        Actor::Integration => "integration",
    }
}

pub(crate) fn details_from(
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

/// One row of the snapshot statement: a kind and up to three texts and three numbers.
#[derive(Debug, FromRow)]
pub(crate) struct SnapshotRow {
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
pub(crate) fn assemble_leased_snapshot(
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
pub(crate) fn assemble_snapshot(
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

#[derive(Debug, FromRow)]
pub(crate) struct TenantRow {
    pub id: String,
    pub name: String,
    pub ordering_enabled: bool,
}

#[derive(Debug, FromRow)]
pub(crate) struct RentalObjectRow {
    pub id: String,
    pub property_id: String,
    pub address: String,
    pub building_year: i32,
    pub rooms: i64,
    pub area_sqm: i64,
}

#[derive(Debug, FromRow)]
pub(crate) struct SpaceRow {
    pub space_id: String,
    pub name: String,
}

#[derive(Debug, FromRow)]
pub(crate) struct CartLineRow {
    pub option_id: String,
    pub quantity: i64,
}

#[derive(Debug, FromRow)]
pub(crate) struct DetailsRow {
    pub contact_phone: Option<String>,
    pub preferred_date: Option<NaiveDate>,
    pub message: String,
}

#[derive(Debug, FromRow)]
pub(crate) struct CaseLineRow {
    pub option_id: String,
    pub option_name: String,
    pub category_id: String,
    pub space_id: String,
    pub lock_keys: String,
    pub quantity: i64,
    pub monthly_price: i64,
    pub one_time_fee: i64,
    pub currency: String,
}

/// A case line with its case, for loading a page of cases at once.
#[derive(Debug, FromRow)]
pub(crate) struct PageLineRow {
    pub case_id: i64,
    #[sqlx(flatten)]
    pub line: CaseLineRow,
}

/// A history entry with its case, for loading a page of cases at once.
#[derive(Debug, FromRow)]
pub(crate) struct PageHistoryRow {
    pub case_id: i64,
    #[sqlx(flatten)]
    pub entry: HistoryRow,
}

#[derive(Debug, FromRow)]
pub(crate) struct HistoryRow {
    pub status: String,
    pub actor: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, FromRow)]
pub(crate) struct CaseRow {
    pub id: i64,
    pub number: String,
    pub tenant_id: String,
    pub rental_object_id: String,
    pub status: String,
    pub terms_version: i64,
    pub contact_phone: Option<String>,
    pub preferred_date: Option<NaiveDate>,
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub decision_receipt: Option<String>,
}

#[derive(Debug, FromRow)]
pub(crate) struct FeeRow {
    pub id: i64,
    pub tenant_id: String,
    pub rental_object_id: String,
    pub number: String,
    pub option_id: String,
    pub lock_keys: String,
    pub amount: i64,
    pub paid: i64,
    pub currency: String,
}

#[derive(Debug, FromRow)]
pub(crate) struct CategoryRow {
    pub id: String,
    pub name: String,
    pub position: i64,
}

#[derive(Debug, FromRow)]
pub(crate) struct PictureRow {
    pub option_id: String,
    pub thumbnail: String,
    pub large: String,
    pub alt: String,
}

#[derive(Debug, FromRow)]
pub(crate) struct OptionRow {
    pub id: String,
    pub category_id: String,
    pub space_id: String,
    pub name: String,
    pub description: String,
    pub monthly_price: i64,
    pub one_time_fee: i64,
    pub currency: String,
    pub unit_kind: String,
    pub unit_max: i64,
    pub position: i64,
}

#[derive(Debug, FromRow)]
pub(crate) struct TermsRow {
    pub version: i64,
    pub text_sv: String,
    pub text_en: String,
    pub published_at: DateTime<Utc>,
}

#[derive(Debug, FromRow)]
pub(crate) struct StoredRuleSetRow {
    pub version: i64,
    pub name: String,
    pub manifest_version: String,
    pub published_by: String,
    pub published_at: DateTime<Utc>,
    pub active: Option<bool>,
}

#[derive(Debug, FromRow)]
pub(crate) struct DecisionRow {
    pub id: i64,
    pub tenant_id: String,
    pub rental_object_id: String,
    pub action: String,
    pub option_id: Option<String>,
    pub rule_set: String,
    pub reason_codes: String,
    pub figures: String,
    pub at: DateTime<Utc>,
}

/// A rented apartment and one of its spaces (none when it has no spaces: the LEFT JOIN's row
/// of NULLs).
#[derive(Debug, FromRow)]
pub(crate) struct LeasedObjectRow {
    #[sqlx(flatten)]
    pub object: RentalObjectRow,
    pub space_id: Option<String>,
    pub space_name: Option<String>,
}

/// The apartment from its rows, one per space; `None` without rows (no lease).
pub(crate) fn leased_object_from(
    rows: Vec<LeasedObjectRow>,
) -> Result<Option<RentalObject>, StoreError> {
    let mut spaces = Vec::with_capacity(rows.len());
    let mut object = None;
    for row in rows {
        if let (Some(id), Some(name)) = (row.space_id, row.space_name) {
            spaces.push(Space {
                id: SpaceId::parse(id)?,
                name,
            });
        }
        object.get_or_insert(row.object);
    }
    object
        .map(|object| rental_object_from(object, spaces))
        .transpose()
}

fn json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// `id, name, ordering_enabled`
pub(crate) fn tenant_from(row: TenantRow) -> Result<TenantRecord, StoreError> {
    Ok(TenantRecord {
        id: TenantId::parse(row.id)?,
        name: row.name,
        ordering_enabled: row.ordering_enabled,
    })
}

/// `id, property_id, address, building_year, rooms, area_sqm`
pub(crate) fn rental_object_from(
    row: RentalObjectRow,
    spaces: Vec<Space>,
) -> Result<RentalObject, StoreError> {
    Ok(RentalObject::try_from(RentalObjectRecord {
        id: RentalObjectId::parse(row.id)?,
        property: PropertyId::parse(row.property_id)?,
        address: row.address,
        building_year: row.building_year,
        rooms: u8::try_from(row.rooms).map_err(|_| corrupt("rooms"))?,
        area_sqm: u32::try_from(row.area_sqm).map_err(|_| corrupt("area"))?,
        spaces,
    })?)
}

/// `space_id, name` at `first`
pub(crate) fn space_from(row: SpaceRow) -> Result<Space, StoreError> {
    Ok(Space {
        id: SpaceId::parse(row.space_id)?,
        name: row.name,
    })
}

/// `option_id, quantity`
pub(crate) fn cart_line_from(row: CartLineRow) -> Result<CartLine, StoreError> {
    Ok(CartLine {
        option: OptionId::parse(row.option_id)?,
        quantity: Quantity::new(row.quantity)?,
    })
}

/// `contact_phone, preferred_date, message`
pub(crate) fn details_row(row: DetailsRow) -> Result<CheckoutDetails, StoreError> {
    details_from(row.contact_phone, row.preferred_date, row.message)
}

/// `option_id, option_name, category_id, space_id, lock_keys, quantity, monthly_price,
/// one_time_fee, currency`
pub(crate) fn case_line_from(row: CaseLineRow) -> Result<CaseLine, StoreError> {
    Ok(CaseLine {
        option: OptionId::parse(row.option_id)?,
        option_name: row.option_name,
        category: CategoryId::parse(row.category_id)?,
        space: SpaceId::parse(row.space_id)?,
        keys: json(&row.lock_keys)?,
        quantity: Quantity::new(row.quantity)?,
        monthly_price: money(row.monthly_price, &row.currency)?,
        one_time_fee: money(row.one_time_fee, &row.currency)?,
    })
}

/// `status, actor, at`
pub(crate) fn history_from(row: HistoryRow) -> Result<HistoryEntry, StoreError> {
    let status = CaseStatus::parse(&row.status).ok_or_else(|| corrupt("history status"))?;
    let actor = match row.actor.as_str() {
        "tenant" => Actor::Tenant,
        "staff" => Actor::Staff,
        "integration" => Actor::Integration,
        _ => return Err(corrupt("history actor")),
    };
    Ok(HistoryEntry {
        status,
        actor,
        at: row.at,
    })
}

/// `id, number, tenant_id, rental_object_id, status, terms_version, contact_phone,
/// preferred_date, message, created_at, updated_at`
pub(crate) fn case_from(
    row: CaseRow,
    lines: Vec<CaseLine>,
    history: Vec<HistoryEntry>,
) -> Result<Case, StoreError> {
    Ok(Case {
        id: row.id,
        number: CaseNumber::parse(&row.number).ok_or_else(|| corrupt("case number"))?,
        tenant: TenantId::parse(row.tenant_id)?,
        rental_object: RentalObjectId::parse(row.rental_object_id)?,
        status: CaseStatus::parse(&row.status).ok_or_else(|| corrupt("case status"))?,
        terms_version: row.terms_version,
        details: details_from(row.contact_phone, row.preferred_date, row.message)?,
        lines,
        history,
        created_at: row.created_at,
        updated_at: row.updated_at,
        receipt: row.decision_receipt.as_deref().map(json).transpose()?,
    })
}

/// `id, tenant_id, rental_object_id, case number, option_id, lock_keys, amount, paid, currency`
pub(crate) fn fee_from(row: FeeRow) -> Result<Fee, StoreError> {
    Ok(Fee {
        id: row.id,
        tenant: TenantId::parse(row.tenant_id)?,
        rental_object: RentalObjectId::parse(row.rental_object_id)?,
        case_number: CaseNumber::parse(&row.number).ok_or_else(|| corrupt("case number"))?,
        option: OptionId::parse(row.option_id)?,
        keys: json(&row.lock_keys)?,
        amount: money(row.amount, &row.currency)?,
        paid: money(row.paid, &row.currency)?,
    })
}

/// `id, name, position`
pub(crate) fn category_from(row: CategoryRow) -> Result<Category, StoreError> {
    Ok(Category {
        id: CategoryId::parse(row.id)?,
        name: row.name,
        position: u32::try_from(row.position).map_err(|_| corrupt("position"))?,
    })
}

/// `option_id, thumbnail, large, alt`: the option and the picture.
pub(crate) fn picture_from(row: PictureRow) -> Result<(String, Picture), StoreError> {
    Ok((
        row.option_id,
        Picture {
            thumbnail: row.thumbnail,
            large: row.large,
            alt: row.alt,
        },
    ))
}

/// `id, category_id, space_id, name, description, monthly_price, one_time_fee, currency,
/// unit_kind, unit_max, position`, with the option's pictures taken from `pictures`.
pub(crate) fn option_from(
    row: OptionRow,
    pictures: &mut HashMap<String, Vec<Picture>>,
) -> Result<AddOnOption, StoreError> {
    let unit = match row.unit_kind.as_str() {
        "piece" => Unit::Piece {
            max: Quantity::new(row.unit_max)?,
        },
        _ => Unit::Single,
    };
    Ok(AddOnOption::try_from(AddOnOptionRecord {
        pictures: pictures.remove(&row.id).unwrap_or_default(),
        id: OptionId::parse(&row.id)?,
        category: CategoryId::parse(row.category_id)?,
        space: SpaceId::parse(row.space_id)?,
        name: row.name,
        description: row.description,
        monthly_price: money(row.monthly_price, &row.currency)?,
        one_time_fee: money(row.one_time_fee, &row.currency)?,
        unit,
        position: u32::try_from(row.position).map_err(|_| corrupt("position"))?,
    })?)
}

/// `version, text_sv, text_en, published_at`
pub(crate) fn terms_from(row: TermsRow) -> Result<Terms, StoreError> {
    Ok(Terms {
        version: row.version,
        text_sv: row.text_sv,
        text_en: row.text_en,
        published_at: row.published_at,
    })
}

/// `version, name, manifest_version, published_by, published_at, is active`
pub(crate) fn stored_rule_set_from(row: StoredRuleSetRow) -> Result<StoredRuleSet, StoreError> {
    Ok(StoredRuleSet {
        version: row.version,
        name: row.name,
        manifest_version: row.manifest_version,
        published_by: row.published_by,
        published_at: row.published_at,
        active: row.active.unwrap_or(false),
    })
}

/// `id, tenant_id, rental_object_id, action, option_id, rule_set, reason_codes, figures, at`
pub(crate) fn decision_from(row: DecisionRow) -> Result<DecisionRecord, StoreError> {
    Ok(DecisionRecord {
        id: row.id,
        tenant: TenantId::parse(row.tenant_id)?,
        rental_object: RentalObjectId::parse(row.rental_object_id)?,
        action: row.action,
        option: row.option_id.map(OptionId::parse).transpose()?,
        rule_set: row.rule_set,
        reason_codes: json(&row.reason_codes)?,
        figures: json(&row.figures)?,
        at: row.at,
    })
}

#[derive(Debug, FromRow)]
pub(crate) struct EndpointRow {
    pub id: i64,
    pub url: String,
    pub secret: String,
    pub description: String,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
}

pub(crate) fn endpoint_from(row: EndpointRow) -> WebhookEndpoint {
    WebhookEndpoint {
        id: row.id,
        url: row.url,
        secret: row.secret,
        description: row.description,
        enabled: row.enabled,
        created_at: row.created_at,
    }
}

#[derive(Debug, FromRow)]
pub(crate) struct LeasedRow {
    pub event_id: i64,
    pub endpoint_id: i64,
    pub webhook_id: String,
    pub event_type: String,
    pub payload: String,
    pub url: String,
    pub secret: String,
    pub attempts: i64,
}

pub(crate) fn leased_from(row: LeasedRow, lease: &str) -> Result<LeasedDelivery, StoreError> {
    Ok(LeasedDelivery {
        event: row.event_id,
        endpoint: row.endpoint_id,
        webhook_id: row.webhook_id,
        event_type: row.event_type,
        payload: row.payload,
        url: row.url,
        secret: row.secret,
        attempts: u32::try_from(row.attempts).map_err(|_| corrupt("attempts"))?,
        lease: lease.to_owned(),
    })
}

#[derive(Debug, FromRow)]
pub(crate) struct DeadLetterRow {
    pub event_id: i64,
    pub endpoint_id: i64,
    pub webhook_id: String,
    pub event_type: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub(crate) fn dead_letter_from(row: DeadLetterRow) -> DeadLetter {
    DeadLetter {
        event: row.event_id,
        endpoint: row.endpoint_id,
        webhook_id: row.webhook_id,
        event_type: row.event_type,
        attempts: u32::try_from(row.attempts).unwrap_or(u32::MAX),
        last_error: row.last_error.unwrap_or_default(),
        created_at: row.created_at,
    }
}

#[derive(Debug, FromRow)]
pub(crate) struct DepthRow {
    pub pending: i64,
    pub oldest_pending: Option<DateTime<Utc>>,
    pub dead: i64,
}

pub(crate) fn depth_from(row: DepthRow) -> OutboxDepth {
    OutboxDepth {
        pending: u64::try_from(row.pending).unwrap_or(0),
        oldest_pending: row.oldest_pending,
        dead: u64::try_from(row.dead).unwrap_or(0),
    }
}
