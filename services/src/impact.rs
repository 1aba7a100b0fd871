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
use tillval_engine::model::{PropertyId, RentalObjectId, TenantId};
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

/// Each property's catalogue prepared for the set in force and for the candidate.
type Prepared = HashMap<PropertyId, (Arc<PreparedCatalogue>, Arc<PreparedCatalogue>)>;

/// Snapshots read at once while a page is read.
const SNAPSHOTS_AT_ONCE: usize = 8;

impl<S: Store> Services<S> {
    /// The households after `after` with their snapshots and prepared catalogues, and the
    /// last one's key; `None` when there are no more.
    async fn impact_page(
        &self,
        after: Option<(TenantId, RentalObjectId)>,
        active: &Arc<RuleSet>,
        candidate: &Arc<RuleSet>,
        prepared: &mut Prepared,
    ) -> Result<Option<(Vec<Household>, (TenantId, RentalObjectId))>, ServiceError> {
        let today = self.clock.today();
        let page = self.store.households(after.as_ref(), IMPACT_BATCH).await?;
        let Some(last) = page.last().cloned() else {
            return Ok(None);
        };
        let mut snapshots = Vec::with_capacity(page.len());
        for chunk in page.chunks(SNAPSHOTS_AT_ONCE) {
            // A loop, not a closure: a closure over the borrowed ids makes this future not
            // general enough for the GraphQL resolver that awaits it.
            let mut reads = Vec::with_capacity(chunk.len());
            for (tenant, object) in chunk {
                reads.push(self.store.leased_snapshot(tenant, object, today));
            }
            snapshots.extend(futures_util::future::join_all(reads).await);
        }
        let mut households = Vec::with_capacity(snapshots.len());
        for snapshot in snapshots {
            let Some(snapshot) = snapshot? else {
                continue;
            };
            let property = snapshot.facts.rental_object.property().clone();
            let catalogues = match prepared.get(&property) {
                Some(both) => both.clone(),
                None => {
                    let Some(catalogue) = self.store.catalogue(&property).await? else {
                        continue;
                    };
                    let (active, candidate) = (Arc::clone(active), Arc::clone(candidate));
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
        Ok(Some((households, last)))
    }

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

    /// Previews a compiled candidate against the set in force. The next page of households is
    /// read from the store while the rule pool decides this one, and a page's snapshots are
    /// read several at a time, so the store's round trips hide behind the deciding.
    pub async fn impact_of(&self, candidate: Arc<RuleSet>) -> Result<ImpactPreview, ServiceError> {
        let started = Instant::now();
        let active = self.rules();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut prepared: Prepared = HashMap::new();
        let mut report = ImpactReport::default();
        let mut complete = true;
        let mut page = self
            .impact_page(None, &active, &candidate, &mut prepared)
            .await?;
        while let Some((households, last)) = page {
            if started.elapsed() > IMPACT_TIME_LIMIT {
                complete = false;
                break;
            }
            let (a, c) = (Arc::clone(&active), Arc::clone(&candidate));
            let decide = self.off_workers(move || impact(&a, &c, &households, threads));
            let read_next = self.impact_page(Some(last), &active, &candidate, &mut prepared);
            let (part, next) = tokio::join!(decide, read_next);
            report.merge(part?);
            page = next?;
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
