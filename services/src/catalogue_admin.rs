//! Changing a catalogue while serving (staff): the store is written, then the cache told.

use crate::service::{ServiceError, Services};
use crate::store::Store;
use tillval_engine::model::{AddOnOption, AddOnOptionRecord, PropertyId};

impl<S: Store> Services<S> {
    /// Inserts or replaces one option in a property's catalogue, and drops the cached
    /// catalogue so the next request sees it.
    pub async fn catalogue_option_upsert(
        &self,
        property: &PropertyId,
        record: AddOnOptionRecord,
    ) -> Result<AddOnOption, ServiceError> {
        let catalogue = self
            .store
            .catalogue(property)
            .await?
            .ok_or(ServiceError::NotFound(crate::entity::Entity::Catalogue))?;
        if catalogue.category(&record.category).is_none() {
            return Err(ServiceError::InvalidInput {
                field: crate::Input::Category,
                message: format!("no category {}", record.category),
            });
        }
        let option =
            AddOnOption::try_from(record).map_err(ServiceError::invalid(crate::Input::Option))?;
        if option.currency() != catalogue.currency() {
            return Err(ServiceError::InvalidInput {
                field: crate::Input::MonthlyPrice,
                message: format!("the catalogue is in {}", catalogue.currency()),
            });
        }
        self.store.put_option(property, &option).await?;
        self.catalogues().invalidate(property).await;
        Ok(option)
    }
}
