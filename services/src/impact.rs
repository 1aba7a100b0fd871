//! The impact preview: a candidate rule set against the one in force, decided over every
//! household the store holds (their facts, carts and catalogues as they are now), reporting what
//! would change before anything does. Read-only: it changes no rule set and writes nothing.
//!
//! Bounded: households are read a page at a time, each page decided on the rule pool's threads
//! in parallel and folded into one report whose drill-downs are capped per option
//! (`tillval_engine::impact`); past [`IMPACT_TIME_LIMIT`] the preview stops and says it is
//! incomplete.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tillval_engine::catalogue::PreparedCatalogue;
use tillval_engine::impact::{Household, ImpactReport, impact};
use tillval_engine::model::PropertyId;
use tillval_engine::rules::check::Problem;
use tillval_engine::rules::{RuleSet, RuleSetSource, SandboxLimits};

use crate::service::{ServiceError, Services};
use crate::store::Store;

/// Households read and decided per round.
const IMPACT_BATCH: u32 = 500;
/// The longest a preview decides before it stops and reports what it has.
pub const IMPACT_TIME_LIMIT: Duration = Duration::from_secs(120);

/// A preview: the report, and whether it covers every household.
#[derive(Debug, Clone)]
pub struct ImpactPreview {
    pub report: ImpactReport,
    /// False when the time limit stopped it first.
    pub complete: bool,
    pub active: String,
    pub candidate: String,
    pub elapsed: Duration,
}

impl<S: Store> Services<S> {
    /// Compiles `source` and previews it against the set in force. A set that does not compile
    /// is refused with its problems (`RuleSetRefused`), and nothing is decided.
    pub async fn rule_set_impact(
        &self,
        source: &RuleSetSource,
    ) -> Result<ImpactPreview, ServiceError> {
        let source = source.clone();
        let candidate = self
            .off_workers(move || RuleSet::compile(&source, SandboxLimits::default()))
            .await?
            .map_err(|error| ServiceError::RuleSetRefused(vec![Problem::from(&error)]))?;
        self.impact_of(Arc::new(candidate)).await
    }

    /// Previews a compiled candidate against the set in force.
    pub async fn impact_of(&self, candidate: Arc<RuleSet>) -> Result<ImpactPreview, ServiceError> {
        let started = Instant::now();
        let active = self.rules();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let today = self.clock.today();
        let mut prepared: HashMap<PropertyId, (Arc<PreparedCatalogue>, Arc<PreparedCatalogue>)> =
            HashMap::new();
        let mut report = ImpactReport::default();
        let mut after = None;
        let mut complete = true;
        loop {
            if started.elapsed() > IMPACT_TIME_LIMIT {
                complete = false;
                break;
            }
            let page = self.store.households(after.as_ref(), IMPACT_BATCH).await?;
            let Some(last) = page.last().cloned() else {
                break;
            };
            let mut households = Vec::with_capacity(page.len());
            for (tenant, object) in &page {
                let Some(snapshot) = self.store.leased_snapshot(tenant, object, today).await?
                else {
                    continue;
                };
                let property = snapshot.facts.rental_object.property().clone();
                let catalogues = match prepared.get(&property) {
                    Some(both) => both.clone(),
                    None => {
                        let Some(catalogue) = self.store.catalogue(&property).await? else {
                            continue;
                        };
                        let (active, candidate) = (Arc::clone(&active), Arc::clone(&candidate));
                        let both = self
                            .off_workers(move || {
                                let catalogue = Arc::new(catalogue);
                                (
                                    Arc::new(PreparedCatalogue::prepare(
                                        Arc::clone(&catalogue),
                                        &active,
                                    )),
                                    Arc::new(PreparedCatalogue::prepare(catalogue, &candidate)),
                                )
                            })
                            .await?;
                        prepared.insert(property, both.clone());
                        both
                    }
                };
                households.push(Household {
                    facts: snapshot.facts,
                    cart: snapshot.cart.cart,
                    active: catalogues.0,
                    candidate: catalogues.1,
                });
            }
            let (active, candidate) = (Arc::clone(&active), Arc::clone(&candidate));
            let part = self
                .off_workers(move || impact(&active, &candidate, &households, threads))
                .await?;
            report.merge(part);
            after = Some(last);
        }
        Ok(ImpactPreview {
            report,
            complete,
            active: format!("{} {}", active.name(), active.version()),
            candidate: format!("{} {}", candidate.name(), candidate.version()),
            elapsed: started.elapsed(),
        })
    }
}
