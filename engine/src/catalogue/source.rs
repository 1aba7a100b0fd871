//! Where catalogues come from. The engine asks a [`CatalogueSource`] and never cares whether
//! the answer is in memory, in a file or in the database.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::RwLock;

use crate::model::{Catalogue, PropertyId};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueSourceError {
    #[error("no catalogue for property {0}")]
    NotFound(PropertyId),
    #[error("the catalogue of property {property} is invalid: {detail}")]
    Invalid {
        property: PropertyId,
        detail: String,
    },
    #[error("the catalogue source failed: {0}")]
    Unavailable(String),
}

/// Loads one property's catalogue.
pub trait CatalogueSource: Send + Sync + std::fmt::Debug {
    fn load<'a>(
        &'a self,
        property: &'a PropertyId,
    ) -> BoxFuture<'a, Result<Catalogue, CatalogueSourceError>>;
}

/// Catalogues held in memory: for tests, demos and embedding.
#[derive(Debug, Default)]
pub struct InMemoryCatalogueSource {
    catalogues: RwLock<HashMap<PropertyId, Catalogue>>,
}

impl InMemoryCatalogueSource {
    pub fn new(catalogues: impl IntoIterator<Item = Catalogue>) -> Self {
        let source = InMemoryCatalogueSource::default();
        for catalogue in catalogues {
            source.put(catalogue);
        }
        source
    }

    /// Puts (or replaces) a catalogue. A cache in front must be told: `invalidate`.
    pub fn put(&self, catalogue: Catalogue) {
        let mut map = self
            .catalogues
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.insert(catalogue.property().clone(), catalogue);
    }
}

impl CatalogueSource for InMemoryCatalogueSource {
    fn load<'a>(
        &'a self,
        property: &'a PropertyId,
    ) -> BoxFuture<'a, Result<Catalogue, CatalogueSourceError>> {
        let found = self
            .catalogues
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(property)
            .cloned();
        Box::pin(
            async move { found.ok_or_else(|| CatalogueSourceError::NotFound(property.clone())) },
        )
    }
}

/// Catalogues as TOML files: `DIR/<property id>.toml`, in the form of
/// [`crate::model::CatalogueRecord`].
#[derive(Debug, Clone)]
pub struct FileCatalogueSource {
    dir: PathBuf,
}

/// A catalogue file larger than this is refused rather than parsed.
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

impl FileCatalogueSource {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FileCatalogueSource { dir: dir.into() }
    }

    fn read(&self, property: &PropertyId) -> Result<Catalogue, CatalogueSourceError> {
        // Property ids are checked to be plain names, so this path stays inside `dir`.
        let path = self.dir.join(format!("{property}.toml"));
        let metadata = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(CatalogueSourceError::NotFound(property.clone()));
            }
            Err(e) => {
                return Err(CatalogueSourceError::Unavailable(format!(
                    "{}: {e}",
                    path.display()
                )));
            }
        };
        if metadata.len() > MAX_FILE_BYTES {
            return Err(CatalogueSourceError::Invalid {
                property: property.clone(),
                detail: "file larger than 16 MiB".into(),
            });
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| CatalogueSourceError::Unavailable(format!("{}: {e}", path.display())))?;
        let catalogue: Catalogue =
            toml::from_str(&text).map_err(|e| CatalogueSourceError::Invalid {
                property: property.clone(),
                detail: e.to_string(),
            })?;
        if catalogue.property() != property {
            return Err(CatalogueSourceError::Invalid {
                property: property.clone(),
                detail: format!("the file names property {}", catalogue.property()),
            });
        }
        Ok(catalogue)
    }
}

impl CatalogueSource for FileCatalogueSource {
    fn load<'a>(
        &'a self,
        property: &'a PropertyId,
    ) -> BoxFuture<'a, Result<Catalogue, CatalogueSourceError>> {
        // Catalogue files are small and read once per cache miss; a blocking read here costs
        // less than handing it to another thread.
        let result = self.read(property);
        Box::pin(async move { result })
    }
}
