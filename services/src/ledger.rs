//! The ledger service, for staff: debts (S3) and fees with payments (S5). In production these
//! facts come from the landlord's rental system; here the store keeps them.

use crate::service::{ServiceError, Services};
use crate::store::{Fee, Store, StoreError, TenantRecord};
use tillval_engine::model::{Currency, Money, TenantId};

fn amount(minor: i64, currency: Currency) -> Result<Money, ServiceError> {
    Money::from_minor(minor, currency).map_err(ServiceError::invalid(crate::Input::Amount))
}

/// A tenant's account as staff see it: their debt (`None` if none was ever set) and fees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerAccount {
    pub tenant: TenantRecord,
    pub debt: Option<Money>,
    pub fees: Vec<Fee>,
}

impl<S: Store> Services<S> {
    /// The tenant's debt and fees; `NotFound` for a tenant the store does not hold.
    pub async fn ledger_account(&self, tenant: &TenantId) -> Result<LedgerAccount, ServiceError> {
        let record = self
            .store
            .tenant(tenant)
            .await?
            .ok_or(ServiceError::NotFound(crate::entity::Entity::Tenant))?;
        Ok(LedgerAccount {
            tenant: record,
            debt: self.store.debt(tenant).await?,
            fees: self.store.fees(tenant).await?,
        })
    }

    /// Sets a tenant's debt (0 clears it).
    pub async fn ledger_set_debt(
        &self,
        tenant: &TenantId,
        minor: i64,
        currency: Currency,
    ) -> Result<(), ServiceError> {
        let debt = amount(minor, currency)?;
        self.store
            .tenant(tenant)
            .await?
            .ok_or(ServiceError::NotFound(crate::entity::Entity::Tenant))?;
        Ok(self.store.set_debt(tenant, debt, self.clock.now()).await?)
    }

    pub async fn ledger_fees(&self, tenant: &TenantId) -> Result<Vec<Fee>, ServiceError> {
        Ok(self.store.fees(tenant).await?)
    }

    /// Records a payment on a fee; more than remains is refused.
    pub async fn ledger_record_payment(
        &self,
        fee: i64,
        minor: i64,
        currency: Currency,
    ) -> Result<Fee, ServiceError> {
        let paid = amount(minor, currency)?;
        if paid.is_zero() {
            return Err(ServiceError::InvalidInput {
                field: crate::Input::Amount,
                message: "a payment is more than 0".into(),
            });
        }
        match self.store.record_payment(fee, paid, self.clock.now()).await {
            Err(StoreError::Overpayment { paid, remaining })
                if paid.currency() != remaining.currency() =>
            {
                Err(ServiceError::InvalidInput {
                    field: crate::Input::Currency,
                    message: format!(
                        "the fee is in {}, not {}",
                        remaining.currency(),
                        paid.currency()
                    ),
                })
            }
            Err(StoreError::Overpayment { remaining, .. }) => Err(ServiceError::InvalidInput {
                field: crate::Input::Amount,
                message: format!("more than the {remaining} that remains"),
            }),
            other => Ok(other?),
        }
    }
}
