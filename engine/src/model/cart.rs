//! The cart: what a tenant has chosen for one rental object and not yet sent.

use serde::{Deserialize, Serialize};

use super::{ModelError, OptionId, Quantity, RentalObjectId, TenantId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub option: OptionId,
    pub quantity: Quantity,
}

/// At most one line per option; whether two lines may share a lock key is the rules'
/// business (S10) and the cart service's to enforce, not this type's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    tenant: TenantId,
    rental_object: RentalObjectId,
    lines: Vec<CartLine>,
}

/// Carts are small; a bound keeps a hostile client from making one that is not.
pub const MAX_CART_LINES: usize = 200;

impl Cart {
    pub fn empty(tenant: TenantId, rental_object: RentalObjectId) -> Self {
        Cart {
            tenant,
            rental_object,
            lines: Vec::new(),
        }
    }

    pub fn with_lines(
        tenant: TenantId,
        rental_object: RentalObjectId,
        lines: Vec<CartLine>,
    ) -> Result<Self, ModelError> {
        let mut cart = Cart::empty(tenant, rental_object);
        for line in lines {
            cart.push(line)?;
        }
        Ok(cart)
    }

    /// Adds a line; an option already in the cart is an error, not a silent merge.
    pub fn push(&mut self, line: CartLine) -> Result<(), ModelError> {
        if self.lines.iter().any(|l| l.option == line.option) {
            return Err(ModelError::Duplicate {
                kind: "cart line",
                id: line.option.to_string(),
            });
        }
        if self.lines.len() >= MAX_CART_LINES {
            return Err(ModelError::OutOfRange {
                field: "cart lines",
                value: self.lines.len() as i64 + 1,
            });
        }
        self.lines.push(line);
        Ok(())
    }

    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }
    pub fn rental_object(&self) -> &RentalObjectId {
        &self.rental_object
    }
    pub fn lines(&self) -> &[CartLine] {
        &self.lines
    }
    pub fn line(&self, option: &OptionId) -> Option<&CartLine> {
        self.lines.iter().find(|l| &l.option == option)
    }
    pub fn contains(&self, option: &OptionId) -> bool {
        self.line(option).is_some()
    }
    /// The number of articles (S8): quantities added up.
    pub fn article_count(&self) -> u32 {
        self.lines.iter().map(|l| l.quantity.get()).sum()
    }
}
