//! What clients send: the input objects, and their conversion into the model's checked types
//! (`TryFrom`), so a resolver holds either a value that cannot be wrong or the input field
//! that was.

use async_graphql::{ID, InputObject};
use tillval_engine::model::{
    AddOnOptionRecord, CategoryId, Currency, ModelError, Money, OptionId, Picture, Quantity,
    SpaceId, Unit,
};

use tillval_services::order::{IdempotencyKey, SubmitRequest};

use crate::errors::UserError;
use crate::ids::{Kind, decode};
use crate::types::UnitKind;

/// An option and how many, for the cart.
#[derive(Debug, InputObject)]
pub struct CartLineInput {
    /// The option.
    pub option_id: ID,
    /// How many: 1 when left out; above 1 only for PIECE options.
    #[graphql(default = 1)]
    pub quantity: i64,
}

/// What the tenant tells the landlord with the order (S12).
#[derive(Debug, InputObject)]
pub struct CheckoutDetailsInput {
    /// A phone number to reach the tenant on; null clears it.
    pub contact_phone: Option<String>,
    /// When the work would suit the tenant (YYYY-MM-DD); null clears it.
    pub preferred_date: Option<chrono::NaiveDate>,
    /// A message to the landlord.
    #[graphql(default)]
    pub message: String,
}

/// Sending the order: the terms accepted, and a key that makes a retry safe.
#[derive(Debug, InputObject)]
pub struct CheckoutSubmitInput {
    /// "Jag godkänner villkoren" (S13): must be true.
    pub accept_terms: bool,
    /// The version of the terms the tenant read.
    pub terms_version: i64,
    /// A client-made key, 8–128 characters: sending twice with it makes one case.
    pub idempotency_key: String,
}

/// An amount in minor units (öre) and its currency.
#[derive(Debug, InputObject)]
pub struct MoneyInput {
    /// Minor units (öre).
    pub amount: i64,
    /// The ISO 4217 code, e.g. "SEK".
    pub currency: String,
}

/// A picture of an option.
#[derive(Debug, InputObject)]
pub struct PictureInput {
    /// The address of the small picture (https).
    pub thumbnail: String,
    /// The address of the large picture (https).
    pub large: String,
    /// What the picture shows, for screen readers.
    #[graphql(default)]
    pub alt: String,
}

/// A catalogue option as staff write it.
#[derive(Debug, InputObject)]
pub struct AddOnOptionInput {
    /// The option's key within the property: new, or an existing one to replace.
    pub handle: String,
    /// Its category.
    pub category_id: ID,
    /// The space it goes in.
    pub space_id: ID,
    /// Its name.
    pub name: String,
    /// Its description.
    #[graphql(default)]
    pub description: String,
    /// Its pictures, the first shown in lists.
    pub pictures: Vec<PictureInput>,
    /// What it adds to the monthly rent, per piece.
    pub monthly_price: MoneyInput,
    /// What it costs once, per piece (0 for none).
    pub one_time_fee: MoneyInput,
    /// PIECE (a quantity can be chosen) or SINGLE.
    pub unit: UnitKind,
    /// The most one order may hold, for PIECE options: 1 when left out.
    #[graphql(default = 1)]
    pub max_quantity: i64,
    /// Its place in its category (lowest first): 0 when left out.
    #[graphql(default)]
    pub position: u32,
}

/// An input field that does not hold what it must, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidField {
    pub field: &'static str,
    pub message: String,
}

impl InvalidField {
    fn of(field: &'static str) -> impl Fn(ModelError) -> InvalidField {
        move |error| InvalidField {
            field,
            message: error.to_string(),
        }
    }
}

impl From<InvalidField> for UserError {
    fn from(invalid: InvalidField) -> Self {
        UserError::new("INVALID_INPUT", Some(invalid.field), invalid.message)
    }
}

impl MoneyInput {
    fn to_money(&self, field: &'static str) -> Result<Money, InvalidField> {
        let currency = Currency::parse(&self.currency).map_err(InvalidField::of(field))?;
        Money::from_minor(self.amount, currency).map_err(InvalidField::of(field))
    }
}

impl TryFrom<&AddOnOptionInput> for AddOnOptionRecord {
    type Error = InvalidField;

    fn try_from(input: &AddOnOptionInput) -> Result<Self, Self::Error> {
        let category = decode(Kind::Category, &input.category_id).ok_or(InvalidField {
            field: "categoryId",
            message: "not a category id".to_owned(),
        })?;
        let space = decode(Kind::Space, &input.space_id).ok_or(InvalidField {
            field: "spaceId",
            message: "not a space id".to_owned(),
        })?;
        Ok(AddOnOptionRecord {
            id: OptionId::parse(&input.handle).map_err(InvalidField::of("handle"))?,
            category: CategoryId::parse(category).map_err(InvalidField::of("categoryId"))?,
            space: SpaceId::parse(space).map_err(InvalidField::of("spaceId"))?,
            name: input.name.clone(),
            description: input.description.clone(),
            pictures: input
                .pictures
                .iter()
                .map(|p| Picture {
                    thumbnail: p.thumbnail.clone(),
                    large: p.large.clone(),
                    alt: p.alt.clone(),
                })
                .collect(),
            monthly_price: input.monthly_price.to_money("monthlyPrice")?,
            one_time_fee: input.one_time_fee.to_money("oneTimeFee")?,
            unit: match input.unit {
                UnitKind::Single => Unit::Single,
                UnitKind::Piece => Unit::Piece {
                    max: Quantity::new(input.max_quantity)
                        .map_err(InvalidField::of("maxQuantity"))?,
                },
            },
            position: input.position,
        })
    }
}

impl TryFrom<&CheckoutSubmitInput> for SubmitRequest {
    type Error = InvalidField;

    fn try_from(input: &CheckoutSubmitInput) -> Result<Self, Self::Error> {
        Ok(SubmitRequest {
            accept_terms: input.accept_terms,
            terms_version: input.terms_version,
            idempotency_key: IdempotencyKey::parse(&input.idempotency_key)
                .map_err(InvalidField::of("idempotencyKey"))?,
        })
    }
}
