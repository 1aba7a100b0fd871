//! What a candidate rule set would change, before it goes live: both sets decide the same
//! households (their facts, carts and catalogues as they are), and the report counts, per
//! option, category and reason code, the household × option pairs that become blocked, become
//! available, or stay blocked for other reasons, with the first households of each option for a
//! drill-down, and the candidate's script errors per function.
//!
//! Pure computation over given inputs: the services gather the households from the store. It
//! decides in parallel on scoped threads (no async runtime), and holds at most
//! [`MAX_HOUSEHOLDS_PER_OPTION`] households per option, so its memory does not grow with the
//! population.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;

use crate::availability::{CatalogueView, DecidedBy, OptionStatus, OptionView, catalogue_view};
use crate::catalogue::PreparedCatalogue;
use crate::model::{Cart, CategoryId, OptionId, RentalObjectId, TenantFacts, TenantId};
use crate::rules::RuleSet;

/// Households kept per option for the drill-down; the counts cover all of them.
pub const MAX_HOUSEHOLDS_PER_OPTION: usize = 50;

/// One household as both sets see it: its facts and cart, and its property's catalogue
/// prepared for each set (lock keys come from the set).
#[derive(Debug, Clone)]
pub struct Household {
    pub facts: TenantFacts,
    pub cart: Cart,
    pub active: Arc<PreparedCatalogue>,
    pub candidate: Arc<PreparedCatalogue>,
}

/// How one option changes for one household.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Change {
    /// Orderable (or in the cart) with the active set, not with the candidate.
    NewlyBlocked,
    /// Not orderable with the active set, orderable with the candidate.
    NewlyAvailable,
    /// Not orderable with either, for other reasons.
    ReasonsChanged,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub newly_blocked: u64,
    pub newly_available: u64,
    pub reasons_changed: u64,
}

impl Counts {
    fn count(&mut self, change: Change) {
        match change {
            Change::NewlyBlocked => self.newly_blocked += 1,
            Change::NewlyAvailable => self.newly_available += 1,
            Change::ReasonsChanged => self.reasons_changed += 1,
        }
    }

    fn add(&mut self, other: Counts) {
        self.newly_blocked += other.newly_blocked;
        self.newly_available += other.newly_available;
        self.reasons_changed += other.reasons_changed;
    }

    pub fn is_zero(&self) -> bool {
        *self == Counts::default()
    }
}

/// A household an option changes for, with the reason codes each set gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AffectedHousehold {
    pub tenant: TenantId,
    pub rental_object: RentalObjectId,
    pub change: Change,
    pub active_reasons: Vec<String>,
    pub candidate_reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptionImpact {
    pub option: OptionId,
    pub name: String,
    pub category: CategoryId,
    pub counts: Counts,
    /// The first [`MAX_HOUSEHOLDS_PER_OPTION`] households, in the order decided.
    pub households: Vec<AffectedHousehold>,
}

/// The candidate's script errors of one function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScriptErrors {
    pub function: String,
    pub count: u64,
    /// The first error's message, naming the household it failed for.
    pub example: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImpactReport {
    pub households: u64,
    /// Households with at least one option changed (or the gate).
    pub households_changed: u64,
    /// Household × option pairs decided by both sets.
    pub options_decided: u64,
    pub totals: Counts,
    pub by_option: BTreeMap<OptionId, OptionImpact>,
    pub by_category: BTreeMap<CategoryId, Counts>,
    /// Newly blocked and changed pairs under the candidate's codes; newly available ones under
    /// the active set's (the reasons that go away).
    pub by_reason: BTreeMap<String, Counts>,
    pub script_errors: BTreeMap<String, ScriptErrors>,
}

impl ImpactReport {
    /// Nothing changes for anyone.
    pub fn is_unchanged(&self) -> bool {
        self.households_changed == 0 && self.totals.is_zero() && self.script_errors.is_empty()
    }

    /// Adds what a part of the population showed.
    pub fn merge(&mut self, other: ImpactReport) {
        self.households += other.households;
        self.households_changed += other.households_changed;
        self.options_decided += other.options_decided;
        self.totals.add(other.totals);
        for (id, theirs) in other.by_option {
            match self.by_option.get_mut(&id) {
                Some(mine) => {
                    mine.counts.add(theirs.counts);
                    let room = MAX_HOUSEHOLDS_PER_OPTION.saturating_sub(mine.households.len());
                    mine.households
                        .extend(theirs.households.into_iter().take(room));
                }
                None => {
                    self.by_option.insert(id, theirs);
                }
            }
        }
        for (category, counts) in other.by_category {
            self.by_category.entry(category).or_default().add(counts);
        }
        for (code, counts) in other.by_reason {
            self.by_reason.entry(code).or_default().add(counts);
        }
        for (function, theirs) in other.script_errors {
            match self.script_errors.get_mut(&function) {
                Some(mine) => mine.count += theirs.count,
                None => {
                    self.script_errors.insert(function, theirs);
                }
            }
        }
    }

    /// Decides one household with both sets and counts what differs.
    pub fn add(&mut self, active: &RuleSet, candidate: &RuleSet, household: &Household) {
        let before = catalogue_view(active, &household.active, &household.facts, &household.cart);
        let after = catalogue_view(
            candidate,
            &household.candidate,
            &household.facts,
            &household.cart,
        );
        self.households += 1;
        self.note_errors(candidate, household, &after);
        let mut changed = before.gate.is_open() != after.gate.is_open();
        for new in after.options() {
            let Some(old) = before.option(new.option.id()) else {
                continue;
            };
            self.options_decided += 1;
            let Some(change) = change(old, new) else {
                continue;
            };
            changed = true;
            self.record(household, old, new, change);
        }
        if changed {
            self.households_changed += 1;
        }
    }

    fn record(
        &mut self,
        household: &Household,
        old: &OptionView,
        new: &OptionView,
        change: Change,
    ) {
        let option = &new.option;
        self.totals.count(change);
        self.by_category
            .entry(option.category().clone())
            .or_default()
            .count(change);
        let codes = |view: &OptionView| -> BTreeSet<String> {
            view.availability
                .reasons
                .iter()
                .map(|r| r.code.as_str().to_owned())
                .collect()
        };
        let (old_codes, new_codes) = (codes(old), codes(new));
        let attributed = match change {
            Change::NewlyAvailable => &old_codes,
            Change::NewlyBlocked | Change::ReasonsChanged => &new_codes,
        };
        for code in attributed {
            self.by_reason
                .entry(code.clone())
                .or_default()
                .count(change);
        }
        let entry = self
            .by_option
            .entry(option.id().clone())
            .or_insert_with(|| OptionImpact {
                option: option.id().clone(),
                name: option.name().to_owned(),
                category: option.category().clone(),
                counts: Counts::default(),
                households: Vec::new(),
            });
        entry.counts.count(change);
        if entry.households.len() < MAX_HOUSEHOLDS_PER_OPTION {
            entry.households.push(AffectedHousehold {
                tenant: household.facts.tenant.clone(),
                rental_object: household.facts.rental_object.id().clone(),
                change,
                active_reasons: old_codes.into_iter().collect(),
                candidate_reasons: new_codes.into_iter().collect(),
            });
        }
    }

    fn note_errors(&mut self, candidate: &RuleSet, household: &Household, view: &CatalogueView) {
        let errors = view
            .gate
            .error
            .iter()
            .map(|e| ("order_blocks", e))
            // An option failed by the gate carries the gate's error: counted once, above.
            .chain(
                view.options()
                    .filter(|o| o.availability.decided_by != Some(DecidedBy::OrderBlocks))
                    .filter_map(|o| {
                        let function = o
                            .availability
                            .decided_by
                            .and_then(|d| d.function())
                            .unwrap_or("lock_keys");
                        o.availability.error.as_ref().map(|e| (function, e))
                    }),
            )
            .chain(view.fault.iter().map(|e| ("(the view)", e)));
        for (function, error) in errors {
            let entry = self
                .script_errors
                .entry(function.to_owned())
                .or_insert_with(|| ScriptErrors {
                    function: function.to_owned(),
                    count: 0,
                    example: format!(
                        "household {} in {}: {}{}",
                        household.facts.tenant,
                        household.facts.rental_object.id(),
                        error,
                        candidate
                            .origin(function)
                            .map(|file| format!(" ({file})"))
                            .unwrap_or_default()
                    ),
                });
            entry.count += 1;
        }
    }
}

fn orderable(status: OptionStatus) -> bool {
    matches!(status, OptionStatus::Available | OptionStatus::InCart)
}

/// How one option's answer differs between the sets, if it does.
fn change(old: &OptionView, new: &OptionView) -> Option<Change> {
    let (was, is) = (
        orderable(old.availability.status),
        orderable(new.availability.status),
    );
    match (was, is) {
        (true, false) => Some(Change::NewlyBlocked),
        (false, true) => Some(Change::NewlyAvailable),
        (true, true) => None,
        (false, false) => {
            fn codes(o: &OptionView) -> Vec<&str> {
                let mut codes: Vec<&str> = o
                    .availability
                    .reasons
                    .iter()
                    .map(|r| r.code.as_str())
                    .collect();
                codes.sort_unstable();
                codes
            }
            let differs =
                old.availability.status != new.availability.status || codes(old) != codes(new);
            differs.then_some(Change::ReasonsChanged)
        }
    }
}

/// Decides every household with both sets on up to `threads` threads and reports the
/// difference.
pub fn impact(
    active: &RuleSet,
    candidate: &RuleSet,
    households: &[Household],
    threads: usize,
) -> ImpactReport {
    let threads = threads.clamp(1, 64);
    let chunk = households.len().div_ceil(threads).max(1);
    let mut report = ImpactReport::default();
    let parts: Vec<ImpactReport> = std::thread::scope(|scope| {
        let workers: Vec<_> = households
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let mut report = ImpactReport::default();
                    for household in part {
                        report.add(active, candidate, household);
                    }
                    report
                })
            })
            .collect();
        workers
            .into_iter()
            .filter_map(|worker| worker.join().ok())
            .collect()
    });
    for part in parts {
        report.merge(part);
    }
    report
}
