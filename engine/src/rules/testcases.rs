//! A rule set's own test cases, as data a landlord's staff can read and extend: TOML files in
//! `DIR/tests/`. A file describes an apartment and a catalogue slice once, then cases: the
//! tenant's facts, the cart, and the expected status and reason codes per option.
//!
//! ```toml
//! [rental_object]
//! building_year = 1965
//! spaces = ["kitchen", "hall"]
//!
//! [[options]]
//! id = "dm-bosch"
//! category = "diskmaskin"
//! space = "kitchen"
//! monthly_price = 9900          # öre
//!
//! [[cases]]
//! name = "S4: an ongoing order blocks its category and space"
//! ongoing_orders = { "diskmaskin/kitchen" = "TV-2026-000001" }
//! expect = { dm-bosch = "BLOCKED ONGOING_ORDER" }
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::Deserialize;

use super::RuleSet;
use crate::availability::{CatalogueView, OptionStatus, catalogue_view};
use crate::catalogue::PreparedCatalogue;
use crate::model::{
    AddOnOption, AddOnOptionRecord, Cart, CartLine, Catalogue, CatalogueRecord, Category,
    CategoryId, Currency, LockKey, ModelError, Money, OngoingOrder, OptionId, Picture, PropertyId,
    Quantity, RentalObject, RentalObjectId, RentalObjectRecord, Space, SpaceId, TenantFacts,
    TenantId, Unit,
};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    #[serde(default)]
    pub rental_object: ObjectSpec,
    #[serde(default)]
    pub options: Vec<OptionSpec>,
    #[serde(default)]
    pub cases: Vec<CaseSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectSpec {
    #[serde(default = "default_year")]
    pub building_year: i32,
    #[serde(default = "default_spaces")]
    pub spaces: Vec<String>,
    #[serde(default = "default_rooms")]
    pub rooms: u8,
    #[serde(default = "default_area")]
    pub area_sqm: u32,
}

impl Default for ObjectSpec {
    fn default() -> Self {
        ObjectSpec {
            building_year: default_year(),
            spaces: default_spaces(),
            rooms: default_rooms(),
            area_sqm: default_area(),
        }
    }
}

fn default_year() -> i32 {
    1970
}
fn default_spaces() -> Vec<String> {
    ["kitchen", "bathroom", "hall"].map(String::from).to_vec()
}
fn default_rooms() -> u8 {
    2
}
fn default_area() -> u32 {
    60
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionSpec {
    pub id: String,
    pub category: String,
    pub space: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default = "default_price")]
    pub monthly_price: i64,
    #[serde(default)]
    pub one_time_fee: i64,
    /// "single" (default) or "piece".
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub max_quantity: Option<i64>,
}

fn default_price() -> i64 {
    10_000
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseSpec {
    pub name: String,
    #[serde(default = "yes")]
    pub ordering_enabled: bool,
    /// Öre.
    #[serde(default)]
    pub debt: i64,
    /// Lock key → case number.
    #[serde(default)]
    pub ongoing_orders: BTreeMap<String, String>,
    /// Lock key → öre unpaid.
    #[serde(default)]
    pub unpaid_fees: BTreeMap<String, i64>,
    #[serde(default)]
    pub active_monthly_total: i64,
    /// "YYYY-MM-DD"; 2026-01-15 when left out.
    #[serde(default)]
    pub today: Option<NaiveDate>,
    #[serde(default)]
    pub building_year: Option<i32>,
    /// Option id → quantity.
    #[serde(default)]
    pub cart: BTreeMap<String, i64>,
    /// Reason codes expected of the tenant-wide gate.
    #[serde(default)]
    pub expect_gate: Option<Vec<String>>,
    /// Option id → "STATUS CODE CODE …", e.g. "BLOCKED DEBT" or "AVAILABLE".
    #[serde(default)]
    pub expect: BTreeMap<String, String>,
}

fn yes() -> bool {
    true
}

/// One failed expectation, or a case that could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFailure {
    pub file: String,
    pub line: Option<usize>,
    pub case: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestReport {
    pub cases_run: usize,
    pub cases_passed: usize,
    pub failures: Vec<CaseFailure>,
    /// Sandbox operations the cases cost, all together.
    pub operations: u64,
    /// Per rule function, the cases in which it blocked something; per reason code, the cases
    /// that produced it.
    pub exercised: Exercised,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exercised {
    pub functions: BTreeMap<String, u32>,
    pub codes: BTreeMap<String, u32>,
}

impl Exercised {
    fn note(&mut self, view: &CatalogueView) {
        let mut functions = std::collections::BTreeSet::new();
        let mut codes = std::collections::BTreeSet::new();
        if !view.gate.reasons.is_empty() {
            functions.insert("order_blocks");
        }
        codes.extend(view.gate.reasons.iter().map(|r| r.code.as_str().to_owned()));
        for option in view.options() {
            if !option.availability.reasons.is_empty()
                && let Some(function) = option.availability.decided_by.and_then(|d| d.function())
            {
                functions.insert(function);
            }
            codes.extend(
                option
                    .availability
                    .reasons
                    .iter()
                    .map(|r| r.code.as_str().to_owned()),
            );
        }
        for function in functions {
            *self.functions.entry(function.to_owned()).or_default() += 1;
        }
        for code in codes {
            *self.codes.entry(code).or_default() += 1;
        }
    }

    pub fn merge(&mut self, other: Exercised) {
        for (function, n) in other.functions {
            *self.functions.entry(function).or_default() += n;
        }
        for (code, n) in other.codes {
            *self.codes.entry(code).or_default() += n;
        }
    }
}

fn status_name(status: OptionStatus) -> &'static str {
    match status {
        OptionStatus::Available => "AVAILABLE",
        OptionStatus::InCart => "IN_CART",
        OptionStatus::LockedByCart => "LOCKED_BY_CART",
        OptionStatus::Blocked => "BLOCKED",
        OptionStatus::RuleError => "RULE_ERROR",
    }
}

/// An option's answer in the test-file notation: "BLOCKED ONGOING_ORDER".
pub fn describe(view: &CatalogueView, option: &str) -> Option<String> {
    let id = OptionId::parse(option).ok()?;
    let option = view.option(&id)?;
    let mut words = vec![status_name(option.availability.status).to_owned()];
    words.extend(
        option
            .availability
            .reasons
            .iter()
            .map(|r| r.code.to_string()),
    );
    Some(words.join(" "))
}

fn sek(minor: i64) -> Result<Money, ModelError> {
    Money::from_minor(minor, Currency::SEK)
}

/// The inputs of one case, built from a file's apartment and catalogue and the case's facts.
pub struct CaseInputs {
    pub catalogue: Arc<Catalogue>,
    pub facts: TenantFacts,
    pub cart: Cart,
}

impl std::fmt::Debug for CaseInputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaseInputs").finish_non_exhaustive()
    }
}

pub fn build(file: &TestFile, case: &CaseSpec) -> Result<CaseInputs, ModelError> {
    let property = PropertyId::parse("test-property")?;
    let object_id = RentalObjectId::parse("test-object")?;
    let tenant = TenantId::parse("test-tenant")?;
    let mut categories: Vec<Category> = Vec::new();
    let mut options = Vec::new();
    for spec in &file.options {
        let category = CategoryId::parse(&spec.category)?;
        if !categories.iter().any(|c| c.id == category) {
            categories.push(Category {
                id: category.clone(),
                name: spec.category.clone(),
                position: categories.len() as u32,
            });
        }
        let unit = match spec.unit.as_deref() {
            Some("piece") => Unit::Piece {
                max: Quantity::new(spec.max_quantity.unwrap_or(10))?,
            },
            Some("single") | None => Unit::Single,
            Some(_) => {
                return Err(ModelError::InvalidText {
                    field: "unit",
                    reason: "is \"single\" or \"piece\"",
                });
            }
        };
        options.push(AddOnOption::try_from(AddOnOptionRecord {
            id: OptionId::parse(&spec.id)?,
            category,
            space: SpaceId::parse(&spec.space)?,
            name: spec.name.clone().unwrap_or_else(|| spec.id.clone()),
            description: String::new(),
            pictures: vec![Picture {
                thumbnail: "/t.svg".into(),
                large: "/l.svg".into(),
                alt: String::new(),
            }],
            monthly_price: sek(spec.monthly_price)?,
            one_time_fee: sek(spec.one_time_fee)?,
            unit,
            position: options.len() as u32,
        })?);
    }
    let catalogue = Catalogue::try_from(CatalogueRecord {
        property: property.clone(),
        currency: Currency::SEK,
        categories,
        options,
    })?;
    let spaces = file
        .rental_object
        .spaces
        .iter()
        .map(|s| {
            Ok(Space {
                id: SpaceId::parse(s)?,
                name: s.clone(),
            })
        })
        .collect::<Result<Vec<_>, ModelError>>()?;
    let object = RentalObject::try_from(RentalObjectRecord {
        id: object_id.clone(),
        property,
        address: "Testgatan 1".into(),
        building_year: case
            .building_year
            .unwrap_or(file.rental_object.building_year),
        rooms: file.rental_object.rooms,
        area_sqm: file.rental_object.area_sqm,
        spaces,
    })?;
    let mut ongoing_orders = BTreeMap::new();
    for (key, number) in &case.ongoing_orders {
        ongoing_orders.insert(
            LockKey::parse(key)?,
            OngoingOrder {
                case_number: number.clone(),
            },
        );
    }
    let mut unpaid_fees = BTreeMap::new();
    for (key, amount) in &case.unpaid_fees {
        unpaid_fees.insert(LockKey::parse(key)?, sek(*amount)?);
    }
    let facts = TenantFacts {
        tenant: tenant.clone(),
        rental_object: Arc::new(object),
        ordering_enabled: case.ordering_enabled,
        debt: sek(case.debt)?,
        ongoing_orders,
        unpaid_fees,
        active_monthly_total: sek(case.active_monthly_total)?,
        co_tenants: Vec::new(),
        today: case
            .today
            .or_else(|| NaiveDate::from_ymd_opt(2026, 1, 15))
            .unwrap_or_default(),
    };
    let lines = case
        .cart
        .iter()
        .map(|(option, quantity)| {
            Ok(CartLine {
                option: OptionId::parse(option)?,
                quantity: Quantity::new(*quantity)?,
            })
        })
        .collect::<Result<Vec<_>, ModelError>>()?;
    Ok(CaseInputs {
        catalogue: Arc::new(catalogue),
        facts,
        cart: Cart::with_lines(tenant, object_id, lines)?,
    })
}

/// The line where a case's name stands in its file, for the report.
fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1)
}

/// Runs every case of one test file against `rules`.
pub fn run_file(rules: &RuleSet, file_name: &str, text: &str) -> TestReport {
    run_file_within(rules, file_name, text, u64::MAX)
}

/// [`run_file`], stopping (with a failure) once the cases have cost `max_operations`.
pub fn run_file_within(
    rules: &RuleSet,
    file_name: &str,
    text: &str,
    max_operations: u64,
) -> TestReport {
    let mut report = TestReport::default();
    let fail = |case: &str, line: Option<usize>, message: String| CaseFailure {
        file: file_name.to_owned(),
        line,
        case: case.to_owned(),
        message,
    };
    let file: TestFile = match toml::from_str(text) {
        Ok(file) => file,
        Err(e) => {
            let line = e.span().map(|span| {
                text.get(..span.start)
                    .map_or(1, |t| t.lines().count().max(1))
            });
            report
                .failures
                .push(fail("", line, format!("not a test file: {}", e.message())));
            return report;
        }
    };
    for case in &file.cases {
        let line = line_of(text, &case.name);
        if report.operations > max_operations {
            report.failures.push(fail(
                &case.name,
                line,
                format!("not run: the checks already cost more than {max_operations} operations"),
            ));
            break;
        }
        report.cases_run += 1;
        let inputs = match build(&file, case) {
            Ok(inputs) => inputs,
            Err(e) => {
                report.failures.push(fail(&case.name, line, e.to_string()));
                continue;
            }
        };
        let prepared = PreparedCatalogue::prepare(inputs.catalogue, rules);
        let view = catalogue_view(rules, &prepared, &inputs.facts, &inputs.cart);
        report.operations = report.operations.saturating_add(view.operations);
        report.exercised.note(&view);
        let mut problems = Vec::new();
        if let Some(error) = &view.gate.error {
            problems.push(format!("the gate failed: {error}"));
        }
        if let Some(expected) = &case.expect_gate {
            let got: Vec<String> = view
                .gate
                .reasons
                .iter()
                .map(|r| r.code.to_string())
                .collect();
            if &got != expected {
                problems.push(format!("gate: expected {expected:?}, got {got:?}"));
            }
        }
        for (option, expected) in &case.expect {
            let expected = expected.split_whitespace().collect::<Vec<_>>().join(" ");
            match describe(&view, option) {
                Some(got) if got == expected => {}
                Some(got) => {
                    let error = OptionId::parse(option)
                        .ok()
                        .and_then(|id| view.option(&id).and_then(|o| o.availability.error.clone()));
                    let detail = error.map(|e| format!(" ({e})")).unwrap_or_default();
                    problems.push(format!("{option}: expected {expected}, got {got}{detail}"));
                }
                None => problems.push(format!(
                    "{option}: not shown for this apartment (expected {expected})"
                )),
            }
        }
        if problems.is_empty() {
            report.cases_passed += 1;
        } else {
            report
                .failures
                .extend(problems.into_iter().map(|p| fail(&case.name, line, p)));
        }
    }
    report
}
