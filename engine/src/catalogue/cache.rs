//! The catalogue cache: prepared catalogues per property in moka, in front of any source.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::{CatalogueSource, CatalogueSourceError, PreparedCatalogue};
use crate::model::PropertyId;
use crate::rules::RuleSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
}

#[derive(Debug)]
pub struct CatalogueCache {
    source: Arc<dyn CatalogueSource>,
    cache: moka::future::Cache<PropertyId, Arc<PreparedCatalogue>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl CatalogueCache {
    /// `capacity` is the number of properties held; entries also expire after `ttl`, so a
    /// change the cache was not told about is seen at the latest then.
    pub fn new(source: Arc<dyn CatalogueSource>, capacity: u64, ttl: Duration) -> Self {
        CatalogueCache {
            source,
            cache: moka::future::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .build(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The property's catalogue prepared for `rules`. Concurrent misses for one property load
    /// it once. A catalogue prepared for another rule set counts as a miss.
    pub async fn get(
        &self,
        property: &PropertyId,
        rules: &RuleSet,
    ) -> Result<Arc<PreparedCatalogue>, CatalogueSourceError> {
        if let Some(prepared) = self.cache.get(property).await {
            if prepared.rule_set_fingerprint() == rules.fingerprint() {
                self.hits.fetch_add(1, Ordering::Relaxed);
                return Ok(prepared);
            }
            self.cache.invalidate(property).await;
        }
        let prepared = self
            .cache
            .try_get_with(property.clone(), async {
                self.misses.fetch_add(1, Ordering::Relaxed);
                let catalogue = self.source.load(property).await?;
                Ok::<_, CatalogueSourceError>(Arc::new(PreparedCatalogue::prepare(
                    Arc::new(catalogue),
                    rules,
                )))
            })
            .await
            .map_err(|e| CatalogueSourceError::clone(&e))?;
        if prepared.rule_set_fingerprint() != rules.fingerprint() {
            // Another request, on another rule set, filled the entry between our two looks.
            return Ok(Arc::new(PreparedCatalogue::prepare(
                Arc::clone(prepared.catalogue()),
                rules,
            )));
        }
        Ok(prepared)
    }

    /// Drops one property's catalogue; the next request loads it anew.
    pub async fn invalidate(&self, property: &PropertyId) {
        self.cache.invalidate(property).await;
    }

    pub fn invalidate_all(&self) {
        self.cache.invalidate_all();
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }
}
