//! The catalogue cache in front of its sources: hits and misses counted, explicit
//! invalidation, a rule-set change seen, concurrent misses loading once; the file source.

use std::sync::Arc;
use std::time::Duration;

use tillval_engine::catalogue::{
    CatalogueCache, CatalogueSource, CatalogueSourceError, FileCatalogueSource,
    InMemoryCatalogueSource,
};
use tillval_engine::model::{Catalogue, CatalogueRecord, PropertyId};
use tillval_engine::rules::{RuleSet, RuleSetSource, SandboxLimits, ScriptSource};
use tillval_tests::*;

fn property() -> PropertyId {
    PropertyId::parse("prop-1").unwrap()
}

fn cache_over(source: Arc<dyn CatalogueSource>) -> CatalogueCache {
    CatalogueCache::new(source, 100, Duration::from_secs(600))
}

#[tokio::test]
async fn counts_hits_and_misses_and_invalidates_on_request() {
    let source = Arc::new(InMemoryCatalogueSource::new([seed_catalogue()]));
    let cache = cache_over(source.clone());
    let rules = RuleSet::shipped().unwrap();

    let first = cache.get(&property(), &rules).await.unwrap();
    let second = cache.get(&property(), &rules).await.unwrap();
    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!((cache.stats().hits, cache.stats().misses), (1, 1));

    // The source changes; the cache serves what it has until told.
    let mut record = CatalogueRecord::from(seed_catalogue());
    record.options.retain(|o| o.id().as_str() != "dm-bosch");
    source.put(Catalogue::try_from(record).unwrap());
    assert_eq!(
        cache
            .get(&property(), &rules)
            .await
            .unwrap()
            .entries()
            .len(),
        6
    );

    cache.invalidate(&property()).await;
    assert_eq!(
        cache
            .get(&property(), &rules)
            .await
            .unwrap()
            .entries()
            .len(),
        5
    );
    assert_eq!((cache.stats().hits, cache.stats().misses), (2, 2));
}

#[tokio::test]
async fn a_new_rule_set_prepares_the_catalogue_anew() {
    let cache = cache_over(Arc::new(InMemoryCatalogueSource::new([seed_catalogue()])));
    let shipped = RuleSet::shipped().unwrap();
    let per_category = RuleSet::compile(
        &RuleSetSource {
            manifest: "name = \"per category\"\nversion = \"2\"".into(),
            scripts: vec![ScriptSource {
                name: "keys.rhai".into(),
                code: "fn lock_keys(option) { [option.category] }".into(),
            }],
            messages_sv: None,
            messages_en: None,
            tests: Vec::new(),
        },
        SandboxLimits::default(),
    )
    .unwrap();
    let before = cache.get(&property(), &shipped).await.unwrap();
    let after = cache.get(&property(), &per_category).await.unwrap();
    assert_eq!(
        before.entries()[2].keys.as_ref().unwrap()[0].as_str(),
        "golv/hall"
    );
    assert_eq!(
        after.entries()[2].keys.as_ref().unwrap()[0].as_str(),
        "golv"
    );
    assert_eq!(cache.stats().misses, 2);
}

#[tokio::test]
async fn concurrent_misses_load_once() {
    let cache = Arc::new(cache_over(Arc::new(InMemoryCatalogueSource::new([
        seed_catalogue(),
    ]))));
    let rules = Arc::new(RuleSet::shipped().unwrap());
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (cache, rules) = (cache.clone(), rules.clone());
            tokio::spawn(async move {
                cache
                    .get(&property(), &rules)
                    .await
                    .map(|p| p.entries().len())
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), 6);
    }
    assert_eq!(cache.stats().misses, 1);
    assert_eq!(cache.stats().hits + cache.stats().misses, 16);
}

#[tokio::test]
async fn an_unknown_property_is_not_found_and_not_cached() {
    let cache = cache_over(Arc::new(InMemoryCatalogueSource::default()));
    let rules = RuleSet::shipped().unwrap();
    let error = cache.get(&property(), &rules).await.unwrap_err();
    assert_eq!(error, CatalogueSourceError::NotFound(property()));
    assert!(cache.get(&property(), &rules).await.is_err());
    assert_eq!(cache.stats().misses, 2);
}

#[tokio::test]
async fn the_file_source_reads_toml_and_refuses_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let text = toml::to_string(&seed_catalogue()).unwrap();
    std::fs::write(dir.path().join("prop-1.toml"), &text).unwrap();
    let source = FileCatalogueSource::new(dir.path());
    assert_eq!(source.load(&property()).await.unwrap(), seed_catalogue());

    let missing = PropertyId::parse("prop-2").unwrap();
    assert_eq!(
        source.load(&missing).await.unwrap_err(),
        CatalogueSourceError::NotFound(missing.clone())
    );

    std::fs::write(dir.path().join("prop-2.toml"), &text).unwrap();
    assert!(
        matches!(
            source.load(&missing).await,
            Err(CatalogueSourceError::Invalid { .. })
        ),
        "names another property"
    );

    let negative = text.replacen("amount = 9900", "amount = -9900", 1);
    assert_ne!(negative, text);
    std::fs::write(dir.path().join("prop-1.toml"), negative).unwrap();
    let error = source.load(&property()).await.unwrap_err();
    assert!(
        matches!(&error, CatalogueSourceError::Invalid { detail, .. } if detail.contains("negative")),
        "{error}"
    );
}
