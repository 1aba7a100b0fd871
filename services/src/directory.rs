//! What staff pick from: the households (tenant and apartment) and the properties, and a
//! property's catalogue as it is stored (not decided for anyone).

use crate::service::{ServiceError, Services};
use crate::store::{HouseholdEntry, PropertyRecord, Store};
use tillval_engine::model::{Catalogue, PropertyId, RentalObjectId, TenantId};

/// The most households one page holds.
pub const DIRECTORY_PAGE_MAX: u32 = 100;

impl<S: Store> Services<S> {
    /// Households in key order, `first` (1 to 100) after `after`, and whether more follow.
    pub async fn household_directory(
        &self,
        after: Option<&(TenantId, RentalObjectId)>,
        first: i64,
    ) -> Result<(Vec<HouseholdEntry>, bool), ServiceError> {
        let first = u32::try_from(first)
            .ok()
            .filter(|f| (1..=DIRECTORY_PAGE_MAX).contains(f))
            .ok_or(ServiceError::InvalidInput {
                field: crate::Input::First,
                message: format!("1 to {DIRECTORY_PAGE_MAX}"),
            })?;
        let mut page = self.store.household_directory(after, first + 1).await?;
        let has_next = page.len() > first as usize;
        page.truncate(first as usize);
        Ok((page, has_next))
    }

    pub async fn properties(&self) -> Result<Vec<PropertyRecord>, ServiceError> {
        Ok(self.store.properties().await?)
    }

    /// A property's catalogue as stored, every option whoever asks; `NotFound` if it has none.
    pub async fn catalogue_for_staff(
        &self,
        property: &PropertyId,
    ) -> Result<Catalogue, ServiceError> {
        self.store
            .catalogue(property)
            .await?
            .ok_or(ServiceError::NotFound(crate::entity::Entity::Catalogue))
    }
}
