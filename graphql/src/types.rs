//! The schema's output types: thin wrappers over the engine's, rendering money and reasons in
//! the caller's language.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use tillval_engine::availability::{self, OptionStatus};
use tillval_engine::model::{self, Language};
use tillval_engine::rules::{self, ReasonParam, RuleSet};
use tillval_services::cart::{CartLineView, CartView};
use tillval_services::case::{self as cases, Actor};
use tillval_services::order::CheckoutDetails;
use tillval_services::store::Fee as EngineFee;

use crate::ids::{Kind, encode};

pub fn language(ctx: &Context<'_>) -> Language {
    ctx.data_opt::<Language>().copied().unwrap_or_default()
}

/// What the decision to let an order through saw.
#[derive(Debug, Clone, SimpleObject)]
pub struct DecisionReceipt {
    /// `name version` of the rule set in force.
    pub rule_set: String,
    /// The facts as JSON: `ordering_enabled`, `debt`, `active_monthly_total`, `today`, and per
    /// lock key of the order its `ongoing_order` and `unpaid_fee` (null when none).
    pub facts: String,
}

/// An amount in minor units (öre) with its currency, and formatted for the reader.
#[derive(Debug, Clone, SimpleObject)]
pub struct Money {
    /// Minor units: öre for SEK.
    pub amount: i64,
    pub currency: String,
    /// "1 500,00 kr" or "SEK 1,500.00", from `Accept-Language`.
    pub formatted: String,
}

impl Money {
    pub fn new(money: model::Money, language: Language) -> Money {
        Money {
            amount: money.minor(),
            currency: money.currency().code().into(),
            formatted: money.format(language),
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct ReasonParameter {
    pub name: String,
    pub value: String,
}

/// Why something cannot be ordered: a stable code, its parameters, and a message.
#[derive(Debug, Clone, SimpleObject)]
pub struct Reason {
    pub code: String,
    pub message: String,
    pub params: Vec<ReasonParameter>,
}

impl Reason {
    pub fn new(reason: &rules::Reason, rules: &RuleSet, language: Language) -> Reason {
        Reason {
            code: reason.code.to_string(),
            message: rules.render(reason, language),
            params: reason
                .params
                .iter()
                .map(|(name, value)| ReasonParameter {
                    name: name.clone(),
                    value: match value {
                        ReasonParam::Money(m) => m.minor().to_string(),
                        other => other.render(Language::En),
                    },
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum AvailabilityStatus {
    Available,
    InCart,
    LockedByCart,
    Blocked,
    RuleError,
}

impl From<OptionStatus> for AvailabilityStatus {
    fn from(status: OptionStatus) -> Self {
        match status {
            OptionStatus::Available => AvailabilityStatus::Available,
            OptionStatus::InCart => AvailabilityStatus::InCart,
            OptionStatus::LockedByCart => AvailabilityStatus::LockedByCart,
            OptionStatus::Blocked => AvailabilityStatus::Blocked,
            OptionStatus::RuleError => AvailabilityStatus::RuleError,
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct Availability {
    pub status: AvailabilityStatus,
    pub reasons: Vec<Reason>,
}

impl Availability {
    pub fn new(
        availability: &availability::Availability,
        rules: &RuleSet,
        language: Language,
    ) -> Availability {
        Availability {
            status: availability.status.into(),
            reasons: availability
                .reasons
                .iter()
                .map(|r| Reason::new(r, rules, language))
                .collect(),
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct Picture {
    pub thumbnail: String,
    pub large: String,
    pub alt: String,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct Space {
    pub id: ID,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum UnitKind {
    /// "styck": a quantity can be chosen, up to `maxQuantity`.
    Piece,
    Single,
}

/// An add-on option as the catalogue offers it (S7).
#[derive(Debug, Clone)]
pub struct AddOnOption {
    pub option: Arc<model::AddOnOption>,
    pub space_name: String,
    pub availability: Option<Availability>,
}

#[Object]
impl AddOnOption {
    async fn id(&self) -> ID {
        encode(Kind::AddOnOption, self.option.id().as_str())
    }
    async fn name(&self) -> &str {
        self.option.name()
    }
    async fn description(&self) -> &str {
        self.option.description()
    }
    async fn pictures(&self) -> Vec<Picture> {
        self.option
            .pictures()
            .iter()
            .map(|p| Picture {
                thumbnail: p.thumbnail.clone(),
                large: p.large.clone(),
                alt: p.alt.clone(),
            })
            .collect()
    }
    async fn space(&self) -> Space {
        Space {
            id: encode(Kind::Space, self.option.space().as_str()),
            name: self.space_name.clone(),
        }
    }
    async fn unit(&self) -> UnitKind {
        match self.option.unit() {
            model::Unit::Piece { .. } => UnitKind::Piece,
            model::Unit::Single => UnitKind::Single,
        }
    }
    async fn max_quantity(&self) -> u32 {
        self.option.unit().max_quantity().get()
    }
    async fn monthly_price(&self, ctx: &Context<'_>) -> Money {
        Money::new(self.option.monthly_price(), language(ctx))
    }
    async fn one_time_fee(&self, ctx: &Context<'_>) -> Money {
        Money::new(self.option.one_time_fee(), language(ctx))
    }
    /// Whether this tenant may order it now, and why not (S2–S5, S10).
    async fn availability(&self) -> Option<&Availability> {
        self.availability.as_ref()
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct Category {
    pub id: ID,
    pub name: String,
    pub options: Vec<AddOnOption>,
}

/// The tenant-wide gate (S2, S3): when closed, nothing can be ordered.
#[derive(Debug, Clone, SimpleObject)]
pub struct Gate {
    pub open: bool,
    pub reasons: Vec<Reason>,
}

/// What a tenant may order for one apartment (S6, S7, S10).
#[derive(Debug, Clone, SimpleObject)]
pub struct Catalogue {
    pub rental_object_id: ID,
    pub rule_set_version: String,
    pub gate: Gate,
    /// Only categories with an add-on possible for this apartment (S6).
    pub categories: Vec<Category>,
    /// S8: the cart's article count, for the category page.
    pub article_count: u32,
}

impl Catalogue {
    pub fn new(view: &availability::CatalogueView, rules: &RuleSet, language: Language) -> Self {
        let object = &view.rental_object;
        let space_name = |option: &model::AddOnOption| {
            object
                .space(option.space())
                .map(|s| s.name.clone())
                .unwrap_or_else(|| option.space().to_string())
        };
        Catalogue {
            rental_object_id: encode(Kind::RentalObject, view.rental_object.id().as_str()),
            rule_set_version: view.rule_set_version.clone(),
            gate: Gate {
                open: view.gate.is_open(),
                reasons: view
                    .gate
                    .reasons
                    .iter()
                    .map(|r| Reason::new(r, rules, language))
                    .collect(),
            },
            categories: view
                .categories
                .iter()
                .map(|c| Category {
                    id: encode(Kind::Category, c.category.id.as_str()),
                    name: c.category.name.clone(),
                    options: c
                        .options
                        .iter()
                        .map(|o| AddOnOption {
                            option: Arc::clone(&o.option),
                            space_name: space_name(&o.option),
                            availability: Some(Availability::new(&o.availability, rules, language)),
                        })
                        .collect(),
                })
                .collect(),
            article_count: view.article_count,
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct CheckoutDetailsObject {
    pub contact_phone: Option<String>,
    pub preferred_date: Option<NaiveDate>,
    pub message: String,
}

impl From<&CheckoutDetails> for CheckoutDetailsObject {
    fn from(d: &CheckoutDetails) -> Self {
        CheckoutDetailsObject {
            contact_phone: d.contact_phone.as_ref().map(|p| p.as_str().to_owned()),
            preferred_date: d.preferred_date,
            message: d.message.clone(),
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct CartLine {
    pub option: AddOnOption,
    pub quantity: u32,
    pub monthly_total: Money,
    pub one_time_total: Money,
}

/// A line that cannot be sent as it is, and why.
#[derive(Debug, Clone, SimpleObject)]
pub struct CartProblem {
    pub option_id: ID,
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct Cart {
    pub rental_object_id: ID,
    pub lines: Vec<CartLine>,
    /// S8: the number of articles.
    pub article_count: u32,
    pub monthly_total: Money,
    pub one_time_total: Money,
    pub problems: Vec<CartProblem>,
    #[graphql(name = "checkoutDetails")]
    pub checkout_details: CheckoutDetailsObject,
}

impl Cart {
    pub fn new(view: &CartView, rules: &RuleSet, language: Language) -> Cart {
        let line = |l: &CartLineView| CartLine {
            option: AddOnOption {
                option: Arc::clone(&l.option),
                space_name: view
                    .rental_object
                    .space(l.option.space())
                    .map(|s| s.name.clone())
                    .unwrap_or_else(|| l.option.space().to_string()),
                availability: Some(Availability::new(&l.availability, rules, language)),
            },
            quantity: l.quantity.get(),
            monthly_total: Money::new(l.monthly_total, language),
            one_time_total: Money::new(l.one_time_total, language),
        };
        Cart {
            rental_object_id: encode(Kind::RentalObject, view.rental_object.id().as_str()),
            lines: view.lines.iter().map(line).collect(),
            article_count: view.article_count,
            monthly_total: Money::new(view.monthly_total, language),
            one_time_total: Money::new(view.one_time_total, language),
            problems: view
                .problems
                .iter()
                .map(|p| CartProblem {
                    option_id: encode(Kind::AddOnOption, p.option.as_str()),
                    reasons: p
                        .reasons
                        .iter()
                        .map(|r| Reason::new(r, rules, language))
                        .collect(),
                })
                .collect(),
            checkout_details: (&view.details).into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "tillval_services::case::CaseStatus")]
pub enum CaseStatus {
    Submitted,
    UnderReview,
    Approved,
    Scheduled,
    Installed,
    Rejected,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum CaseActor {
    Tenant,
    Staff,
    /// The landlord's maintenance system.
    Integration,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct CaseHistoryEntry {
    pub status: CaseStatus,
    pub actor: CaseActor,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct CaseLine(pub cases::CaseLine);

#[Object]
impl CaseLine {
    async fn option_id(&self) -> ID {
        encode(Kind::AddOnOption, self.0.option.as_str())
    }
    async fn name(&self) -> &str {
        &self.0.option_name
    }
    async fn quantity(&self) -> u32 {
        self.0.quantity.get()
    }
    async fn monthly_price(&self, ctx: &Context<'_>) -> Money {
        Money::new(self.0.monthly_price, language(ctx))
    }
    async fn one_time_fee(&self, ctx: &Context<'_>) -> Money {
        Money::new(self.0.one_time_fee, language(ctx))
    }
    async fn monthly_total(&self, ctx: &Context<'_>) -> Money {
        Money::new(self.0.monthly_total(), language(ctx))
    }
}

/// An add-on case (S14–S16).
#[derive(Debug, Clone)]
pub struct Case {
    pub case: cases::Case,
    /// Whose view: a tenant sees the statuses they may choose, staff theirs.
    pub actor: Actor,
}

#[Object]
impl Case {
    async fn id(&self) -> ID {
        encode(Kind::Case, self.case.number.as_str())
    }
    /// The case number the tenant quotes (S14).
    async fn number(&self) -> &str {
        self.case.number.as_str()
    }
    async fn status(&self) -> CaseStatus {
        self.case.status.into()
    }
    async fn rental_object_id(&self) -> ID {
        encode(Kind::RentalObject, self.case.rental_object.as_str())
    }
    async fn lines(&self) -> Vec<CaseLine> {
        self.case.lines.iter().cloned().map(CaseLine).collect()
    }
    async fn monthly_total(&self, ctx: &Context<'_>) -> Option<Money> {
        self.case
            .monthly_total()
            .map(|m| Money::new(m, language(ctx)))
    }
    async fn one_time_total(&self, ctx: &Context<'_>) -> Option<Money> {
        self.case
            .one_time_total()
            .map(|m| Money::new(m, language(ctx)))
    }
    async fn history(&self) -> Vec<CaseHistoryEntry> {
        self.case
            .history
            .iter()
            .map(|h| CaseHistoryEntry {
                status: h.status.into(),
                actor: match h.actor {
                    Actor::Tenant => CaseActor::Tenant,
                    Actor::Staff => CaseActor::Staff,
                    Actor::Integration => CaseActor::Integration,
                },
                at: h.at,
            })
            .collect()
    }
    /// What the caller may move the case to now (the lifecycle table).
    async fn next_statuses(&self) -> Vec<CaseStatus> {
        self.case
            .status
            .next_statuses(self.actor)
            .into_iter()
            .map(Into::into)
            .collect()
    }
    async fn accepted_terms_version(&self) -> i64 {
        self.case.terms_version
    }
    async fn checkout_details(&self) -> CheckoutDetailsObject {
        (&self.case.details).into()
    }
    /// Staff: why the order was allowed: the rule set in force and the facts it decided on
    /// (debt, ordering on, per key an ongoing order or unpaid fee). Null for cases from before
    /// receipts were kept.
    #[graphql(guard = "crate::context::StaffOnly")]
    async fn decision_receipt(&self) -> Option<DecisionReceipt> {
        self.case.receipt.as_ref().map(|r| DecisionReceipt {
            rule_set: r.rule_set.clone(),
            facts: r.facts.to_string(),
        })
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.case.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.case.updated_at
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct Terms {
    pub version: i64,
    /// In the caller's language.
    pub text: String,
    pub text_sv: String,
    pub text_en: String,
    pub published_at: DateTime<Utc>,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct RentalObject {
    pub id: ID,
    pub property_id: ID,
    pub address: String,
    pub building_year: i32,
    pub rooms: u8,
    pub area_sqm: u32,
    pub spaces: Vec<Space>,
}

impl From<&model::RentalObject> for RentalObject {
    fn from(o: &model::RentalObject) -> Self {
        RentalObject {
            id: encode(Kind::RentalObject, o.id().as_str()),
            property_id: encode(Kind::Property, o.property().as_str()),
            address: o.address().to_owned(),
            building_year: o.building_year(),
            rooms: o.rooms(),
            area_sqm: o.area_sqm(),
            spaces: o
                .spaces()
                .iter()
                .map(|s| Space {
                    id: encode(Kind::Space, s.id.as_str()),
                    name: s.name.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct Tenant {
    pub id: ID,
    pub name: String,
}

/// The signed-in tenant (S1).
#[derive(Debug, Clone, SimpleObject)]
pub struct Viewer {
    pub tenant: Tenant,
    pub rental_objects: Vec<RentalObject>,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct Fee {
    pub id: ID,
    pub case_number: String,
    pub option_id: ID,
    pub amount: Money,
    pub paid: Money,
    pub remaining: Money,
}

impl Fee {
    pub fn new(fee: &EngineFee, language: Language) -> Fee {
        Fee {
            id: encode(Kind::Fee, &fee.id.to_string()),
            case_number: fee.case_number.to_string(),
            option_id: encode(Kind::AddOnOption, fee.option.as_str()),
            amount: Money::new(fee.amount, language),
            paid: Money::new(fee.paid, language),
            remaining: Money::new(fee.remaining(), language),
        }
    }
}

/// A case changed status.
#[derive(Debug, Clone, SimpleObject)]
pub struct CaseStatusEvent {
    pub case_number: String,
    pub status: CaseStatus,
    pub at: DateTime<Utc>,
}
