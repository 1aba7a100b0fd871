//! Memoised catalogue views: a household's view, kept with the exact inputs it was decided from
//! (the rule set, the prepared catalogue, the facts and the cart), and given again while all of
//! them are unchanged.
//!
//! The memo never has to be told of a change. A hit requires the same rule set (its fingerprint),
//! the very same prepared catalogue (an edit or a publish prepares a new one), and facts and cart
//! equal to the ones the view was decided from: a debt, an order, a fee paid, a cart line or a
//! new day changes the facts or the cart, so the next view misses and is decided afresh. Every
//! node reads the facts and the cart from the store for each request, so a change made on
//! another node is seen at once too. Memory is bounded by a weigher (options held).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::availability::{CatalogueView, catalogue_view};
use crate::catalogue::PreparedCatalogue;
use crate::model::{Cart, RentalObjectId, TenantFacts, TenantId};
use crate::rules::RuleSet;

/// What a memoised view was decided from.
#[derive(Debug)]
struct Memoised {
    rule_set_fingerprint: u64,
    catalogue: Arc<PreparedCatalogue>,
    facts: TenantFacts,
    cart: Cart,
    view: Arc<CatalogueView>,
}

impl Memoised {
    fn decided_from(
        &self,
        rules: &RuleSet,
        catalogue: &Arc<PreparedCatalogue>,
        facts: &TenantFacts,
        cart: &Cart,
    ) -> bool {
        self.rule_set_fingerprint == rules.fingerprint()
            && Arc::ptr_eq(&self.catalogue, catalogue)
            && self.facts == *facts
            && self.cart == *cart
    }
}

/// How the memo has answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemoStats {
    /// Views given from the memo.
    pub hits: u64,
    /// Views decided (nothing memoised, or an input had changed).
    pub misses: u64,
}

/// Catalogue views per (tenant, rental object), each with the inputs it was decided from.
pub struct ViewMemo {
    views: moka::sync::Cache<(TenantId, RentalObjectId), Arc<Memoised>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for ViewMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ViewMemo")
            .field("entries", &self.views.entry_count())
            .field("stats", &self.stats())
            .finish()
    }
}

/// The weight of one memoised view: its options, the facts and cart lines kept to compare,
/// and one for the view itself (so that many households with small views are bounded too).
fn weight(memoised: &Memoised) -> u32 {
    let facts = &memoised.facts;
    let units = memoised.view.options().count()
        + facts.ongoing_orders.len()
        + facts.unpaid_fees.len()
        + facts.co_tenants.len()
        + memoised.cart.lines().len()
        + 1;
    u32::try_from(units).unwrap_or(u32::MAX)
}

/// The memo's key: the household.
fn household(facts: &TenantFacts) -> (TenantId, RentalObjectId) {
    (facts.tenant.clone(), facts.rental_object.id().clone())
}

impl ViewMemo {
    /// A memo holding at most `max_options` options' decisions (with the facts and cart lines
    /// kept beside them), all views together.
    pub fn new(max_options: u64) -> ViewMemo {
        ViewMemo {
            views: moka::sync::Cache::builder()
                .max_capacity(max_options)
                .weigher(|_, memoised: &Arc<Memoised>| weight(memoised))
                .build(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The household's view: the memoised one if it was decided from exactly these inputs,
    /// else decided now (and memoised, unless it carries an engine fault, which is never kept).
    pub fn view(
        &self,
        rules: &RuleSet,
        catalogue: &Arc<PreparedCatalogue>,
        facts: &TenantFacts,
        cart: &Cart,
    ) -> Arc<CatalogueView> {
        match self.memoised(rules, catalogue, facts, cart) {
            Some(view) => view,
            None => self.decide(rules, catalogue, facts, cart),
        }
    }

    /// The memoised view, if it was decided from exactly these inputs. Cheap: no rule runs, so
    /// a server can ask on its request thread before handing a miss to its rule workers.
    pub fn memoised(
        &self,
        rules: &RuleSet,
        catalogue: &Arc<PreparedCatalogue>,
        facts: &TenantFacts,
        cart: &Cart,
    ) -> Option<Arc<CatalogueView>> {
        let memoised = self
            .views
            .get(&household(facts))
            .filter(|m| m.decided_from(rules, catalogue, facts, cart));
        let counter = if memoised.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        memoised.map(|m| Arc::clone(&m.view))
    }

    /// Decides the view now and memoises it (unless it carries an engine fault, which is never
    /// kept: it says the machine was too slow, not what the household may order).
    pub fn decide(
        &self,
        rules: &RuleSet,
        catalogue: &Arc<PreparedCatalogue>,
        facts: &TenantFacts,
        cart: &Cart,
    ) -> Arc<CatalogueView> {
        let view = Arc::new(catalogue_view(rules, catalogue, facts, cart));
        if view.fault.is_none() {
            self.views.insert(
                household(facts),
                Arc::new(Memoised {
                    rule_set_fingerprint: rules.fingerprint(),
                    catalogue: Arc::clone(catalogue),
                    facts: facts.clone(),
                    cart: cart.clone(),
                    view: Arc::clone(&view),
                }),
            );
        }
        view
    }

    /// Drops every memoised view (a node that may have missed a change, or a test).
    pub fn clear(&self) {
        self.views.invalidate_all();
    }

    pub fn stats(&self) -> MemoStats {
        MemoStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }
}
