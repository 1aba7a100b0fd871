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
    /// The ISO 4217 code, e.g. "SEK".
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

/// One parameter of a reason, e.g. `amount` of DEBT, as text. Money is in minor units.
#[derive(Debug, Clone, SimpleObject)]
pub struct ReasonParameter {
    /// The parameter's name, as the rule set's messages use it.
    pub name: String,
    /// Its value as text: an integer for money (minor units), a date as YYYY-MM-DD.
    pub value: String,
}

/// Why something cannot be ordered: a stable code, its parameters, and a message.
#[derive(Debug, Clone, SimpleObject)]
pub struct Reason {
    /// Stable, for programs: ORDERING_DISABLED, DEBT, ONGOING_ORDER, UNPAID_FEE, LOCKED_BY_CART, or a code of the landlord's rules.
    pub code: String,
    /// For people, in the caller's language (Accept-Language; Swedish by default).
    pub message: String,
    /// The values the message was made from.
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

/// Whether an option can be added to the cart now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum AvailabilityStatus {
    /// It can be ordered.
    Available,
    /// It is in the cart already.
    InCart,
    /// Another option of the same category and space is in the cart (S10).
    LockedByCart,
    /// The rules say no; `reasons` say why (S2–S5).
    Blocked,
    /// The rules failed for this option; it cannot be ordered until staff fix them.
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

/// Whether one option can be ordered now, and why not.
#[derive(Debug, Clone, SimpleObject)]
pub struct Availability {
    /// Available, in the cart, locked by the cart, blocked or a rule error.
    pub status: AvailabilityStatus,
    /// Why not, when it is not available: empty when it is.
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

/// A picture of an option (S7): a small one for the list and a large one on request.
#[derive(Debug, Clone, SimpleObject)]
pub struct Picture {
    /// The address of the small picture.
    pub thumbnail: String,
    /// The address of the large picture.
    pub large: String,
    /// What the picture shows, for screen readers.
    pub alt: String,
}

/// A space of an apartment: kitchen, bathroom, hall …
#[derive(Debug, Clone, SimpleObject)]
pub struct Space {
    /// Opaque id.
    pub id: ID,
    /// The space's name, as the landlord wrote it.
    pub name: String,
}

/// How an option is counted (S9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum UnitKind {
    /// "styck": a quantity can be chosen, up to `maxQuantity`.
    Piece,
    /// One each: no quantity to choose.
    Single,
}

/// An add-on option as the catalogue offers it (S7).
#[derive(Debug, Clone)]
pub struct AddOnOption {
    pub option: Arc<model::AddOnOption>,
    pub space_name: String,
    pub availability: Option<Availability>,
}

/// An add-on option as the catalogue offers it (S7).
#[Object]
impl AddOnOption {
    /// Opaque id.
    async fn id(&self) -> ID {
        encode(Kind::AddOnOption, self.option.id().as_str())
    }
    /// The option's name, e.g. "Diskmaskin Bosch 60 cm".
    async fn name(&self) -> &str {
        self.option.name()
    }
    /// The landlord's description of it.
    async fn description(&self) -> &str {
        self.option.description()
    }
    /// Its pictures, the first shown in the list (S7).
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
    /// The space it goes in.
    async fn space(&self) -> Space {
        Space {
            id: encode(Kind::Space, self.option.space().as_str()),
            name: self.space_name.clone(),
        }
    }
    /// PIECE (a quantity can be chosen) or SINGLE.
    async fn unit(&self) -> UnitKind {
        match self.option.unit() {
            model::Unit::Piece { .. } => UnitKind::Piece,
            model::Unit::Single => UnitKind::Single,
        }
    }
    /// The most that one order may hold (1 for SINGLE).
    async fn max_quantity(&self) -> u32 {
        self.option.unit().max_quantity().get()
    }
    /// What it adds to the monthly rent, per piece.
    async fn monthly_price(&self, ctx: &Context<'_>) -> Money {
        Money::new(self.option.monthly_price(), language(ctx))
    }
    /// What it costs once, per piece (may be zero).
    async fn one_time_fee(&self, ctx: &Context<'_>) -> Money {
        Money::new(self.option.one_time_fee(), language(ctx))
    }
    /// Whether this tenant may order it now, and why not (S2–S5, S10).
    async fn availability(&self) -> Option<&Availability> {
        self.availability.as_ref()
    }
}

/// A category of add-ons ("tillvalsgrupp"), with the options possible for this apartment (S6).
#[derive(Debug, Clone, SimpleObject)]
pub struct Category {
    /// Opaque id.
    pub id: ID,
    /// Its name, e.g. "Diskmaskiner".
    pub name: String,
    /// The options in it, in the landlord's order, each with its availability.
    pub options: Vec<AddOnOption>,
}

/// The tenant-wide gate (S2, S3): when closed, nothing can be ordered.
#[derive(Debug, Clone, SimpleObject)]
pub struct Gate {
    /// Whether this tenant may order at all.
    pub open: bool,
    /// Why not, when closed: the product is off (S2) or a debt (S3).
    pub reasons: Vec<Reason>,
}

/// What a tenant may order for one apartment (S6, S7, S10).
#[derive(Debug, Clone, SimpleObject)]
pub struct Catalogue {
    /// The apartment this catalogue is for.
    pub rental_object_id: ID,
    /// `name version` of the rule set that decided it.
    pub rule_set_version: String,
    /// Whether the tenant may order at all, and why not (S2, S3).
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

/// What the tenant tells the landlord with the order (S12).
#[derive(Debug, Clone, SimpleObject)]
pub struct CheckoutDetailsObject {
    /// A phone number to reach the tenant on, if given.
    pub contact_phone: Option<String>,
    /// When the tenant would like the work done, if given.
    pub preferred_date: Option<NaiveDate>,
    /// A message to the landlord (may be empty).
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

/// One line of the cart: an option and how many.
#[derive(Debug, Clone, SimpleObject)]
pub struct CartLine {
    /// The option, with its availability now.
    pub option: AddOnOption,
    /// How many (1 for SINGLE options).
    pub quantity: u32,
    /// Monthly price × quantity.
    pub monthly_total: Money,
    /// One-time fee × quantity.
    pub one_time_total: Money,
}

/// A line that cannot be sent as it is, and why.
#[derive(Debug, Clone, SimpleObject)]
pub struct CartProblem {
    /// The line's option.
    pub option_id: ID,
    /// Why it cannot be sent.
    pub reasons: Vec<Reason>,
}

/// The tenant's cart for one apartment (S8, S12).
#[derive(Debug, Clone, SimpleObject)]
pub struct Cart {
    /// The apartment.
    pub rental_object_id: ID,
    /// Its lines, in the order they were added.
    pub lines: Vec<CartLine>,
    /// S8: the number of articles.
    pub article_count: u32,
    /// What the cart adds to the monthly rent.
    pub monthly_total: Money,
    /// What the cart costs once.
    pub one_time_total: Money,
    /// Lines that cannot be sent as they are (the rules changed, or a fact did); empty when the cart can be sent.
    pub problems: Vec<CartProblem>,
    /// The order's details, as last saved.
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

/// Where a case is in its lifecycle. `nextStatuses` on a case says which moves the caller may make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "tillval_services::case::CaseStatus")]
pub enum CaseStatus {
    /// Sent by the tenant; not yet looked at.
    Submitted,
    /// The landlord is looking at it.
    UnderReview,
    /// The landlord said yes.
    Approved,
    /// A date for the work is set.
    Scheduled,
    /// The work is done: its one-time fees are booked and the monthly charge runs.
    Installed,
    /// The landlord said no (final).
    Rejected,
    /// The tenant withdrew it (final).
    Cancelled,
}

/// Who moved a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum CaseActor {
    /// The tenant (sending, cancelling).
    Tenant,
    /// The landlord's staff.
    Staff,
    /// The landlord's maintenance system.
    Integration,
}

/// One step of a case's history (S16).
#[derive(Debug, Clone, SimpleObject)]
pub struct CaseHistoryEntry {
    /// The status the case came to.
    pub status: CaseStatus,
    /// Who moved it.
    pub actor: CaseActor,
    /// When (UTC).
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct CaseLine(pub cases::CaseLine);

/// One line of a case: what was ordered, at the prices of the day it was sent (S16).
#[Object]
impl CaseLine {
    /// The option ordered.
    async fn option_id(&self) -> ID {
        encode(Kind::AddOnOption, self.0.option.as_str())
    }
    /// The option's name when ordered.
    async fn name(&self) -> &str {
        &self.0.option_name
    }
    /// How many.
    async fn quantity(&self) -> u32 {
        self.0.quantity.get()
    }
    /// The monthly price per piece when ordered.
    async fn monthly_price(&self, ctx: &Context<'_>) -> Money {
        Money::new(self.0.monthly_price, language(ctx))
    }
    /// The one-time fee per piece when ordered.
    async fn one_time_fee(&self, ctx: &Context<'_>) -> Money {
        Money::new(self.0.one_time_fee, language(ctx))
    }
    /// Monthly price × quantity.
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

/// An add-on case (S14–S16): what was ordered, its status and history.
#[Object]
impl Case {
    /// Opaque id.
    async fn id(&self) -> ID {
        encode(Kind::Case, self.case.number.as_str())
    }
    /// The case number the tenant quotes (S14).
    async fn number(&self) -> &str {
        self.case.number.as_str()
    }
    /// Where the case is now (S15).
    async fn status(&self) -> CaseStatus {
        self.case.status.into()
    }
    /// The apartment the order is for.
    async fn rental_object_id(&self) -> ID {
        encode(Kind::RentalObject, self.case.rental_object.as_str())
    }
    /// What was ordered (S16).
    async fn lines(&self) -> Vec<CaseLine> {
        self.case.lines.iter().cloned().map(CaseLine).collect()
    }
    /// What the case adds to the monthly rent; null if its lines are in different currencies.
    async fn monthly_total(&self, ctx: &Context<'_>) -> Option<Money> {
        self.case
            .monthly_total()
            .map(|m| Money::new(m, language(ctx)))
    }
    /// What it costs once; null if its lines are in different currencies.
    async fn one_time_total(&self, ctx: &Context<'_>) -> Option<Money> {
        self.case
            .one_time_total()
            .map(|m| Money::new(m, language(ctx)))
    }
    /// Every status it has had, oldest first, with who moved it and when (S16).
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
    /// The version of the terms the tenant accepted when sending (S13).
    async fn accepted_terms_version(&self) -> i64 {
        self.case.terms_version
    }
    /// What the tenant told the landlord with the order.
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
    /// When it was sent (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.case.created_at
    }
    /// When it last changed (UTC).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.case.updated_at
    }
}

/// The terms a tenant accepts to send an order (S13), in their current version.
#[derive(Debug, Clone, SimpleObject)]
pub struct Terms {
    /// Sent back in `checkoutSubmit` to say which version was accepted.
    pub version: i64,
    /// In the caller's language.
    pub text: String,
    /// The terms in Swedish.
    pub text_sv: String,
    /// The terms in English.
    pub text_en: String,
    /// When this version was published (UTC).
    pub published_at: DateTime<Utc>,
}

/// An apartment the tenant rents.
#[derive(Debug, Clone, SimpleObject)]
pub struct RentalObject {
    /// Opaque id.
    pub id: ID,
    /// The property (building) it is in.
    pub property_id: ID,
    /// Its address, e.g. "Storgatan 1, lgh 1102".
    pub address: String,
    /// The year the building was built (rules may use it).
    pub building_year: i32,
    /// Number of rooms.
    pub rooms: u8,
    /// Living area in square metres.
    pub area_sqm: u32,
    /// Its spaces (kitchen, bathroom …).
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

/// A tenant.
#[derive(Debug, Clone, SimpleObject)]
pub struct Tenant {
    /// Opaque id.
    pub id: ID,
    /// The tenant's name.
    pub name: String,
}

/// The signed-in tenant (S1).
#[derive(Debug, Clone, SimpleObject)]
pub struct Viewer {
    /// Who is signed in.
    pub tenant: Tenant,
    /// The apartments they rent.
    pub rental_objects: Vec<RentalObject>,
}

/// A one-time fee booked when a case's work was installed, and what is paid of it (S5).
#[derive(Debug, Clone, SimpleObject)]
pub struct Fee {
    /// Opaque id.
    pub id: ID,
    /// The case it was booked for.
    pub case_number: String,
    /// The option it is for.
    pub option_id: ID,
    /// The fee.
    pub amount: Money,
    /// What is paid so far.
    pub paid: Money,
    /// What is left to pay; while above zero the category and space stay locked (S5).
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
    /// The case.
    pub case_number: String,
    /// Its new status.
    pub status: CaseStatus,
    /// When (UTC).
    pub at: DateTime<Utc>,
}
