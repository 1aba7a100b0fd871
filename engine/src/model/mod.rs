//! The domain model: types that cannot hold a bad value. Constructors and deserialisation
//! check; everything downstream trusts.

mod cart;
mod catalogue;
mod facts;
mod ids;
mod language;
mod lock_key;
mod money;
mod quantity;
mod rental_object;
pub mod text;

pub use cart::{Cart, CartLine, MAX_CART_LINES};
pub use catalogue::{
    AddOnOption, AddOnOptionRecord, Catalogue, CatalogueRecord, Category, MAX_OPTIONS, Picture,
};
pub use facts::{OngoingOrder, TenantFacts};
pub use ids::{CategoryId, MAX_ID_LEN, OptionId, PropertyId, RentalObjectId, SpaceId, TenantId};
pub use language::Language;
pub use lock_key::{LockKey, MAX_LOCK_KEY_LEN};
pub use money::{Currency, Money, MoneyRecord};
pub use quantity::{MAX_QUANTITY, Quantity, Unit};
pub use rental_object::{RentalObject, RentalObjectRecord, Space};

/// Why a value was refused by the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("invalid {kind} id {value:?}: it {reason}")]
    InvalidId {
        kind: &'static str,
        value: String,
        reason: &'static str,
    },
    #[error("invalid lock key {0:?}: 1–160 characters without control characters")]
    InvalidLockKey(String),
    #[error("an amount of money cannot be negative (got {0} minor units)")]
    NegativeMoney(i64),
    #[error("unknown currency {0:?}")]
    UnknownCurrency(String),
    #[error("amounts in {0} and {1} cannot be combined")]
    CurrencyMismatch(Currency, Currency),
    #[error("the amount is too large")]
    MoneyOverflow,
    #[error("quantity {value} is out of range: 1 to {max}")]
    InvalidQuantity { value: i64, max: u32 },
    #[error("quantity {value} is more than this add-on allows ({max})")]
    QuantityOverMax { value: u32, max: u32 },
    #[error("{field}: {reason}")]
    InvalidText {
        field: &'static str,
        reason: &'static str,
    },
    #[error("{field} must not be empty")]
    EmptyText { field: &'static str },
    #[error("{field} is longer than {max_chars} characters")]
    TextTooLong {
        field: &'static str,
        max_chars: usize,
    },
    #[error("{field} is out of range ({value})")]
    OutOfRange { field: &'static str, value: i64 },
    #[error("duplicate {kind} {id:?}")]
    Duplicate { kind: &'static str, id: String },
    #[error("{from:?} refers to unknown {kind} {id:?}")]
    UnknownReference {
        kind: &'static str,
        id: String,
        from: String,
    },
    #[error("option {0:?} has no picture; every add-on needs at least one (S7)")]
    NoPicture(String),
}
