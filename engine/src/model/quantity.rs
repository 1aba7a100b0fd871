//! Quantities and units (S9): a "piece" add-on is ordered in 1..=max, anything else is one.

use serde::{Deserialize, Serialize};

use super::ModelError;

/// The most of one add-on anyone may order on one line, whatever the option says.
pub const MAX_QUANTITY: u32 = 99;

/// A quantity from 1 to [`MAX_QUANTITY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u32")]
pub struct Quantity(u32);

impl Quantity {
    pub const ONE: Quantity = Quantity(1);

    /// Takes a signed number because that is what clients send; a negative or zero
    /// quantity is an error here, not a wrap-around later.
    pub fn new(value: i64) -> Result<Self, ModelError> {
        match u32::try_from(value) {
            Ok(v) if (1..=MAX_QUANTITY).contains(&v) => Ok(Quantity(v)),
            _ => Err(ModelError::InvalidQuantity {
                value,
                max: MAX_QUANTITY,
            }),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<i64> for Quantity {
    type Error = ModelError;
    fn try_from(value: i64) -> Result<Self, Self::Error> {
        Quantity::new(value)
    }
}

impl From<Quantity> for u32 {
    fn from(q: Quantity) -> u32 {
        q.0
    }
}

/// How an add-on is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Unit {
    /// "styck": the tenant chooses how many, up to `max`.
    Piece { max: Quantity },
    /// Anything else: exactly one.
    Single,
}

impl Unit {
    /// Whether `quantity` may be ordered of an add-on with this unit (S9).
    pub fn check(self, quantity: Quantity) -> Result<(), ModelError> {
        let max = match self {
            Unit::Piece { max } => max,
            Unit::Single => Quantity::ONE,
        };
        if quantity > max {
            return Err(ModelError::QuantityOverMax {
                value: quantity.get(),
                max: max.get(),
            });
        }
        Ok(())
    }

    pub fn max_quantity(self) -> Quantity {
        match self {
            Unit::Piece { max } => max,
            Unit::Single => Quantity::ONE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantity_bounds() {
        assert!(Quantity::new(0).is_err());
        assert!(Quantity::new(-3).is_err());
        assert!(Quantity::new(i64::from(u32::MAX) + 2).is_err());
        assert!(Quantity::new(100).is_err());
        assert_eq!(Quantity::new(99).unwrap().get(), 99);
    }

    #[test]
    fn units_allow_what_s9_allows() {
        let three = Quantity::new(3).unwrap();
        assert!(Unit::Single.check(Quantity::ONE).is_ok());
        assert!(Unit::Single.check(three).is_err());
        let piece = Unit::Piece {
            max: Quantity::new(4).unwrap(),
        };
        assert!(piece.check(three).is_ok());
        assert!(piece.check(Quantity::new(5).unwrap()).is_err());
    }
}
