//! Reading a batch: JSON Lines (one object per line) or CSV (a header row naming the fields,
//! one record per row; an empty cell is an absent field; a list is JSON or items separated by
//! `|`). Every record is checked as far as it can be without the store; every problem is kept.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use tillval_engine::model::text;
use tillval_engine::model::{
    AddOnOptionRecord, Category, CategoryId, ModelError, Money, OptionId, Picture, PropertyId,
    Quantity, RentalObject, RentalObjectId, RentalObjectRecord, Space, SpaceId, TenantId, Unit,
};

use super::fields::Fields;
use crate::imported::{Fact, FactKind, ImportItem, ImportProblem, ImportedFee, ProblemCode};

/// The most records one batch holds: a bound on one transaction's size and memory.
pub const MAX_RECORDS: usize = 200_000;

/// The most an amount may be, in minor units (10 000 000 000 kr): a typo guard.
const MAX_AMOUNT: i64 = 1_000_000_000_000;

/// A source id (a contract, a fee, a payment): 1–64 visible ASCII characters.
const MAX_SOURCE_ID: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    JsonLines,
    Csv,
}

/// The batch's records, checked, and every problem found.
pub fn parse(
    text: &str,
    format: ImportFormat,
    now: DateTime<Utc>,
) -> (Vec<ImportItem>, Vec<ImportProblem>) {
    let mut problems = Vec::new();
    let rows = match format {
        ImportFormat::JsonLines => json_lines(text, &mut problems),
        ImportFormat::Csv => csv_rows(text, &mut problems),
    };
    if rows.len() > MAX_RECORDS {
        problems.push(ImportProblem::new(
            0,
            None,
            ProblemCode::TooLarge,
            format!(
                "{} records, at most {MAX_RECORDS} in one import",
                rows.len()
            ),
        ));
        return (Vec::new(), problems);
    }
    if rows.is_empty() && problems.is_empty() {
        problems.push(ImportProblem::new(0, None, ProblemCode::Empty, ""));
    }
    let items = rows
        .into_iter()
        .filter_map(|(line, map)| record(Fields::new(map, line, &mut problems), now))
        .collect();
    (items, problems)
}

fn json_lines(text: &str, problems: &mut Vec<ImportProblem>) -> Vec<(u64, Map<String, Value>)> {
    let mut rows = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        if rows.len() > MAX_RECORDS {
            break;
        }
        match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(map)) => rows.push((number, map)),
            Ok(_) => problems.push(ImportProblem::new(
                number,
                None,
                ProblemCode::Unreadable,
                "not a JSON object",
            )),
            Err(error) => problems.push(ImportProblem::new(
                number,
                None,
                ProblemCode::Unreadable,
                error.to_string(),
            )),
        }
    }
    rows
}

fn csv_rows(text: &str, problems: &mut Vec<ImportProblem>) -> Vec<(u64, Map<String, Value>)> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(headers) => headers.clone(),
        Err(error) => {
            problems.push(ImportProblem::new(
                1,
                None,
                ProblemCode::Unreadable,
                error.to_string(),
            ));
            return Vec::new();
        }
    };
    let mut rows = Vec::new();
    for row in reader.records() {
        if rows.len() > MAX_RECORDS {
            break;
        }
        match row {
            Ok(row) => {
                let line = row.position().map_or(0, |p| p.line());
                let map = headers
                    .iter()
                    .zip(row.iter())
                    .filter(|(_, cell)| !cell.is_empty())
                    .map(|(field, cell)| (field.to_owned(), Value::String(cell.to_owned())))
                    .collect();
                rows.push((line, map));
            }
            Err(error) => {
                let line = error.position().map_or(0, |p| p.line());
                problems.push(ImportProblem::new(
                    line,
                    None,
                    ProblemCode::Unreadable,
                    error.to_string(),
                ));
            }
        }
    }
    rows
}

/// The record on one line; `None` where it has a problem (noted).
fn record(mut f: Fields<'_>, now: DateTime<Utc>) -> Option<ImportItem> {
    let kind_text = f.text("type")?;
    let Some(kind) = FactKind::parse(&kind_text) else {
        let shown: String = kind_text.chars().take(40).collect();
        f.problem("type", ProblemCode::UnknownType, shown);
        return None;
    };
    let id = f.text("id").and_then(|id| source_id(&mut f, "id", id));
    let version = version(&mut f);
    let fact = match kind {
        FactKind::Landlord => f
            .truth("ordering_enabled")
            .map(|ordering_enabled| Fact::Landlord { ordering_enabled }),
        FactKind::Property => property(&mut f, id.as_deref()),
        FactKind::Category => category(&mut f, id.as_deref()),
        FactKind::Option => option(&mut f, id.as_deref()),
        FactKind::RentalObject => rental_object(&mut f, id.as_deref()),
        FactKind::Tenant => tenant(&mut f, id.as_deref()),
        FactKind::Tenancy => tenancy(&mut f),
        FactKind::Debt => debt(&mut f, id.as_deref()),
        FactKind::Fee => fee(&mut f, now),
        FactKind::Payment => payment(&mut f, now),
    };
    let line = f.line();
    f.finish();
    let (id, version, fact) = (id?, version?, fact?);
    let source_id = match &fact {
        Fact::Category { property, .. } | Fact::Option { property, .. } => {
            format!("{property}/{id}")
        }
        _ => id,
    };
    Some(ImportItem {
        line,
        kind,
        source_id,
        version,
        fact,
    })
}

fn source_id(f: &mut Fields<'_>, field: &str, id: String) -> Option<String> {
    if id.is_empty() || id.len() > MAX_SOURCE_ID || !id.bytes().all(|b| b.is_ascii_graphic()) {
        let shown: String = id.chars().take(MAX_SOURCE_ID + 8).collect();
        f.problem(
            field,
            ProblemCode::BadValue,
            format!("{shown:?}: 1–{MAX_SOURCE_ID} visible ASCII characters"),
        );
        return None;
    }
    Some(id)
}

/// `version` (a whole number ≥ 0) or `updated_at` (RFC 3339), not both.
fn version(f: &mut Fields<'_>) -> Option<i64> {
    match (f.has("version"), f.has("updated_at")) {
        (true, true) => {
            f.integer("version", 0, i64::MAX);
            f.text("updated_at");
            f.problem(
                "updated_at",
                ProblemCode::BadValue,
                "give version or updated_at, not both",
            );
            None
        }
        (false, true) => {
            let text = f.text("updated_at")?;
            match DateTime::parse_from_rfc3339(&text) {
                Ok(at) => Some(at.with_timezone(&Utc).timestamp_micros()),
                Err(error) => {
                    f.problem(
                        "updated_at",
                        ProblemCode::BadValue,
                        format!("not an RFC 3339 time: {error}"),
                    );
                    None
                }
            }
        }
        _ => f.integer("version", 0, i64::MAX),
    }
}

fn time_or(f: &mut Fields<'_>, field: &str, default: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if !f.has(field) {
        return Some(default);
    }
    let text = f.text(field)?;
    match DateTime::parse_from_rfc3339(&text) {
        Ok(at) => Some(at.with_timezone(&Utc)),
        Err(error) => {
            f.problem(
                field,
                ProblemCode::BadValue,
                format!("not an RFC 3339 time: {error}"),
            );
            None
        }
    }
}

/// An id of the model's kind, from the record's `id`.
fn model_id<T>(
    f: &mut Fields<'_>,
    id: Option<&str>,
    parse: impl FnOnce(String) -> Result<T, ModelError>,
) -> Option<T> {
    match parse(id?.to_owned()) {
        Ok(id) => Some(id),
        Err(error) => {
            f.problem("id", ProblemCode::BadValue, error.to_string());
            None
        }
    }
}

/// A name: 1–`max` characters, no control characters.
fn name(f: &mut Fields<'_>, field: &'static str, max: usize) -> Option<String> {
    let value = f.text(field)?;
    if value.trim().is_empty() {
        f.problem(field, ProblemCode::BadValue, "must not be empty");
        return None;
    }
    match text::optional(field, &value, max) {
        Ok(value) => Some(value),
        Err(error) => {
            f.problem(field, ProblemCode::BadValue, error.to_string());
            None
        }
    }
}

fn money(
    f: &mut Fields<'_>,
    field: &str,
    currency: Option<tillval_engine::model::Currency>,
) -> Option<Money> {
    let minor = f.integer(field, 0, MAX_AMOUNT)?;
    Money::from_minor(minor, currency?).ok()
}

fn money_or_zero(
    f: &mut Fields<'_>,
    field: &str,
    currency: Option<tillval_engine::model::Currency>,
) -> Option<Money> {
    let minor = f.integer_or(field, 0, 0, MAX_AMOUNT)?;
    Money::from_minor(minor, currency?).ok()
}

/// Which of the record's fields a model error is about, for the problem's `field`.
fn blamed(error: &ModelError, fallback: &'static str) -> &'static str {
    let field = match error {
        ModelError::OutOfRange { field, .. }
        | ModelError::InvalidText { field, .. }
        | ModelError::EmptyText { field }
        | ModelError::TextTooLong { field, .. } => *field,
        ModelError::NoPicture(_) => "pictures",
        ModelError::CurrencyMismatch(..) => "currency",
        _ => return fallback,
    };
    match field {
        "option name" => "name",
        "option description" => "description",
        "picture thumbnail" | "picture large" | "picture alt" => "pictures",
        "building_year" | "rooms" | "area_sqm" | "pictures" | "address" | "spaces" => field,
        _ => fallback,
    }
}

fn property(f: &mut Fields<'_>, id: Option<&str>) -> Option<Fact> {
    let id = model_id(f, id, PropertyId::parse);
    let name = name(f, "name", 200);
    let currency = f.currency("currency");
    let ordering_enabled = f.truth_or("ordering_enabled", true);
    Some(Fact::Property {
        id: id?,
        name: name?,
        currency: currency?,
        ordering_enabled: ordering_enabled?,
    })
}

fn category(f: &mut Fields<'_>, id: Option<&str>) -> Option<Fact> {
    let id = model_id(f, id, CategoryId::parse);
    let property = f.parsed("property", PropertyId::parse);
    let name = name(f, "name", 120);
    let position = f.integer_or("position", 0, 0, i64::from(u32::MAX));
    Some(Fact::Category {
        property: property?,
        category: Category {
            id: id?,
            name: name?,
            position: u32::try_from(position?).ok()?,
        },
    })
}

fn pictures(f: &mut Fields<'_>) -> Option<Vec<Picture>> {
    let items = f.list("pictures", 20)?;
    let mut pictures = Vec::with_capacity(items.len());
    for item in items {
        match item {
            // From a CSV cell: one address, the thumbnail and the large picture both.
            Value::String(url) => pictures.push(Picture {
                thumbnail: url.clone(),
                large: url,
                alt: String::new(),
            }),
            Value::Object(_) => match serde_json::from_value::<Picture>(item) {
                Ok(picture) => pictures.push(picture),
                Err(error) => {
                    f.problem("pictures", ProblemCode::BadValue, error.to_string());
                    return None;
                }
            },
            _ => {
                f.problem(
                    "pictures",
                    ProblemCode::BadValue,
                    "a picture is {\"thumbnail\", \"large\", \"alt\"} or an address",
                );
                return None;
            }
        }
    }
    Some(pictures)
}

fn option(f: &mut Fields<'_>, id: Option<&str>) -> Option<Fact> {
    let id = model_id(f, id, OptionId::parse);
    let property = f.parsed("property", PropertyId::parse);
    let category = f.parsed("category", CategoryId::parse);
    let space = f.parsed("space", SpaceId::parse);
    let name = f.text("name");
    let description = f.text_or_empty("description");
    let currency = f.currency("currency");
    let monthly_price = money(f, "monthly_price", currency);
    let one_time_fee = money_or_zero(f, "one_time_fee", currency);
    let unit = unit(f);
    let position = f.integer_or("position", 0, 0, i64::from(u32::MAX));
    let pictures = pictures(f);
    let record = AddOnOptionRecord {
        id: id?,
        category: category?,
        space: space?,
        name: name?,
        description: description?,
        pictures: pictures?,
        monthly_price: monthly_price?,
        one_time_fee: one_time_fee?,
        unit: unit?,
        position: u32::try_from(position?).ok()?,
    };
    match tillval_engine::model::AddOnOption::try_from(record) {
        Ok(option) => Some(Fact::Option {
            property: property?,
            option,
        }),
        Err(error) => {
            f.problem(
                blamed(&error, "id"),
                ProblemCode::BadValue,
                error.to_string(),
            );
            None
        }
    }
}

/// `unit`: `single` (the default) or `piece` with `max` (1–99).
fn unit(f: &mut Fields<'_>) -> Option<Unit> {
    let kind = if f.has("unit") {
        f.text("unit")?
    } else {
        "single".to_owned()
    };
    match kind.as_str() {
        "single" => {
            if f.has("max") {
                f.integer("max", 1, 1)?;
            }
            Some(Unit::Single)
        }
        "piece" => {
            let max = f.integer_or("max", 1, 1, 99)?;
            Quantity::new(max).ok().map(|max| Unit::Piece { max })
        }
        other => {
            let shown: String = other.chars().take(40).collect();
            f.problem(
                "unit",
                ProblemCode::BadValue,
                format!("{shown:?}: single or piece"),
            );
            None
        }
    }
}

fn spaces(f: &mut Fields<'_>) -> Option<Vec<Space>> {
    let items = f.list("spaces", 64)?;
    let mut spaces = Vec::with_capacity(items.len());
    for item in items {
        let space = match item {
            // From a CSV cell: `kitchen=Kök`.
            Value::String(text) => match text.split_once('=') {
                Some((id, name)) => SpaceId::parse(id.trim())
                    .map(|id| Space {
                        id,
                        name: name.trim().to_owned(),
                    })
                    .map_err(|e| e.to_string()),
                None => Err(format!("{text:?}: a space is id=name")),
            },
            other => serde_json::from_value::<Space>(other).map_err(|e| e.to_string()),
        };
        match space {
            Ok(space) => spaces.push(space),
            Err(error) => {
                f.problem("spaces", ProblemCode::BadValue, error);
                return None;
            }
        }
    }
    Some(spaces)
}

fn rental_object(f: &mut Fields<'_>, id: Option<&str>) -> Option<Fact> {
    let id = model_id(f, id, RentalObjectId::parse);
    let property = f.parsed("property", PropertyId::parse);
    let address = name(f, "address", 200);
    let building_year = f.integer("building_year", 1600, 2200);
    let rooms = f.integer("rooms", 1, 50);
    let area_sqm = f.integer("area_sqm", 1, 10_000);
    let spaces = spaces(f);
    let record = RentalObjectRecord {
        id: id?,
        property: property?,
        address: address?,
        building_year: i32::try_from(building_year?).ok()?,
        rooms: u8::try_from(rooms?).ok()?,
        area_sqm: u32::try_from(area_sqm?).ok()?,
        spaces: spaces?,
    };
    match RentalObject::try_from(record) {
        Ok(object) => Some(Fact::RentalObject(object)),
        Err(error) => {
            f.problem(
                blamed(&error, "spaces"),
                ProblemCode::BadValue,
                error.to_string(),
            );
            None
        }
    }
}

fn tenant(f: &mut Fields<'_>, id: Option<&str>) -> Option<Fact> {
    let id = model_id(f, id, TenantId::parse);
    let name = name(f, "name", 200);
    let ordering_enabled = f.truth_or("ordering_enabled", true);
    Some(Fact::Tenant {
        id: id?,
        name: name?,
        ordering_enabled: ordering_enabled?,
    })
}

fn tenancy(f: &mut Fields<'_>) -> Option<Fact> {
    let rental_object = f.parsed("rental_object", RentalObjectId::parse);
    let ended = f.truth_or("ended", false);
    let items = f.list("tenants", 16);
    let mut tenants: Vec<TenantId> = Vec::new();
    for item in items? {
        let parsed = match &item {
            Value::String(id) => TenantId::parse(id).map_err(|e| e.to_string()),
            _ => Err("a tenant is named by its id".to_owned()),
        };
        match parsed {
            Ok(id) if tenants.contains(&id) => {
                f.problem("tenants", ProblemCode::BadValue, format!("{id} twice"));
                return None;
            }
            Ok(id) => tenants.push(id),
            Err(error) => {
                f.problem("tenants", ProblemCode::BadValue, error);
                return None;
            }
        }
    }
    if tenants.is_empty() && ended == Some(false) {
        f.problem(
            "tenants",
            ProblemCode::BadValue,
            "a tenancy that has not ended has at least one tenant",
        );
        return None;
    }
    Some(Fact::Tenancy {
        rental_object: rental_object?,
        tenants,
        ended: ended?,
    })
}

fn debt(f: &mut Fields<'_>, id: Option<&str>) -> Option<Fact> {
    // A debt's id is its tenant's: one balance per tenant.
    let tenant = model_id(f, id, TenantId::parse);
    let currency = f.currency("currency");
    let amount = money(f, "amount", currency);
    Some(Fact::Debt {
        tenant: tenant?,
        amount: amount?,
    })
}

fn fee(f: &mut Fields<'_>, now: DateTime<Utc>) -> Option<Fact> {
    let tenant = f.parsed("tenant", TenantId::parse);
    let rental_object = f.parsed("rental_object", RentalObjectId::parse);
    let property = f.parsed("property", PropertyId::parse);
    let option = f.parsed("option", OptionId::parse);
    let currency = f.currency("currency");
    let amount = money(f, "amount", currency);
    let booked_at = time_or(f, "booked_at", now);
    Some(Fact::Fee(ImportedFee {
        tenant: tenant?,
        rental_object: rental_object?,
        property: property?,
        option: option?,
        amount: amount?,
        booked_at: booked_at?,
        lock_keys: Vec::new(),
    }))
}

fn payment(f: &mut Fields<'_>, now: DateTime<Utc>) -> Option<Fact> {
    let fee = f.text("fee").and_then(|fee| source_id(f, "fee", fee));
    let currency = f.currency("currency");
    let amount = f.integer("amount", 1, MAX_AMOUNT);
    let paid_at = time_or(f, "paid_at", now);
    Some(Fact::Payment {
        fee: fee?,
        amount: Money::from_minor(amount?, currency?).ok()?,
        paid_at: paid_at?,
    })
}
