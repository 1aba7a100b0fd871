//! The catalogue: sources, the catalogue prepared for a rule set, and the cache in front.

mod cache;
mod prepared;
mod source;

pub use cache::{CacheStats, CatalogueCache};
pub use prepared::{PreparedCatalogue, PreparedOption};
pub use source::{
    BoxFuture, CatalogueSource, CatalogueSourceError, FileCatalogueSource, InMemoryCatalogueSource,
};
