//! Facts in from the landlord's rental system (issue 15): tenants, tenancies with co-tenants,
//! debts, fees and payments, ordering switched on or off per landlord, property or tenant, and
//! the catalogue (properties, rental objects with their spaces, categories, options) as one
//! batch, from JSON Lines or CSV.
//!
//! Every record carries the source system's id and a version (or a timestamp): a record whose
//! version is not newer than the one stored changes nothing, so re-importing a file is
//! harmless and an older export never overwrites a newer one. A batch is all or nothing: the
//! file is read and checked whole, every problem noted by line and field, and only a batch
//! without one is written, in one transaction. Decisions read the facts from the store, so the
//! next one sees them, on every node (a catalogue changed is announced to the other nodes'
//! caches with the transaction).

mod fields;
mod parse;

use std::collections::{HashMap, HashSet};

use tillval_engine::model::{AddOnOption, OptionId, PropertyId};

pub use parse::{ImportFormat, MAX_RECORDS, parse};

use crate::imported::{Fact, FactKind, ImportItem, ImportOutcome, ImportProblem, ProblemCode};
use crate::service::{ServiceError, Services};
use crate::store::Store;

impl<S: Store> Services<S> {
    /// Imports one batch (see the module's documentation). `Refused` lists every problem, by
    /// line and field; then nothing was written.
    pub async fn import(
        &self,
        text: &str,
        format: ImportFormat,
    ) -> Result<ImportOutcome, ServiceError> {
        let now = self.clock.now();
        let (mut items, mut problems) = parse::parse(text, format, now);
        duplicates(&items, &mut problems);
        self.fee_lock_keys(&mut items, &mut problems).await?;
        if !problems.is_empty() {
            problems.sort_by_key(|p| p.line);
            return Ok(ImportOutcome::Refused(problems));
        }
        items.sort_by_key(|item| (item.kind, item.line));
        let outcome = self.store.import(&items, now).await?;
        if let ImportOutcome::Applied(counts) = &outcome {
            let properties: HashSet<&PropertyId> = items
                .iter()
                .filter_map(|item| match &item.fact {
                    Fact::Property { id, .. } => Some(id),
                    Fact::Category { property, .. } | Fact::Option { property, .. } => {
                        Some(property)
                    }
                    _ => None,
                })
                .collect();
            for property in properties {
                self.catalogues().invalidate(property).await;
            }
            tracing::info!(
                applied = counts.applied,
                unchanged = counts.unchanged,
                stale = counts.stale,
                "import applied"
            );
        }
        Ok(outcome)
    }

    /// Each fee's lock keys: what its option occupies under the rules in force, the option
    /// taken from the batch or else from the property's catalogue.
    async fn fee_lock_keys(
        &self,
        items: &mut [ImportItem],
        problems: &mut Vec<ImportProblem>,
    ) -> Result<(), ServiceError> {
        if !items.iter().any(|i| i.kind == FactKind::Fee) {
            return Ok(());
        }
        let rules = self.rules();
        let mut options: HashMap<(PropertyId, OptionId), AddOnOption> = items
            .iter()
            .filter_map(|item| match &item.fact {
                Fact::Option { property, option } => {
                    Some(((property.clone(), option.id().clone()), option.clone()))
                }
                _ => None,
            })
            .collect();
        let mut catalogues_read: HashSet<PropertyId> = HashSet::new();
        for item in items.iter() {
            let Fact::Fee(fee) = &item.fact else { continue };
            if options.contains_key(&(fee.property.clone(), fee.option.clone()))
                || !catalogues_read.insert(fee.property.clone())
            {
                continue;
            }
            match self.catalogues().get(&fee.property, &rules).await {
                Ok(prepared) => {
                    for option in prepared.catalogue().options() {
                        options
                            .entry((fee.property.clone(), option.id().clone()))
                            .or_insert_with(|| AddOnOption::clone(option));
                    }
                }
                Err(tillval_engine::catalogue::CatalogueSourceError::NotFound(_)) => {}
                Err(error) => return Err(error.into()),
            }
        }
        let fees: Vec<(usize, AddOnOption)> = items
            .iter()
            .enumerate()
            .filter_map(|(index, item)| match &item.fact {
                Fact::Fee(fee) => match options.get(&(fee.property.clone(), fee.option.clone())) {
                    Some(option) => Some((index, option.clone())),
                    None => {
                        problems.push(ImportProblem::new(
                            item.line,
                            Some("option"),
                            ProblemCode::UnknownReference,
                            format!("option {} of property {}", fee.option, fee.property),
                        ));
                        None
                    }
                },
                _ => None,
            })
            .collect();
        let keys = self
            .off_workers(move || {
                fees.into_iter()
                    .map(|(index, option)| (index, rules.lock_keys(&option)))
                    .collect::<Vec<_>>()
            })
            .await?;
        for (index, keys) in keys {
            let Some(item) = items.get_mut(index) else {
                continue;
            };
            match (keys, &mut item.fact) {
                (Ok(keys), Fact::Fee(fee)) => fee.lock_keys = keys,
                (Err(error), _) => problems.push(ImportProblem::new(
                    item.line,
                    Some("option"),
                    ProblemCode::BadValue,
                    format!("the rules give the option no lock keys: {error}"),
                )),
                (Ok(_), _) => {}
            }
        }
        Ok(())
    }
}

/// The same record (type and source id) twice in one batch: which line wins would be a guess.
fn duplicates(items: &[ImportItem], problems: &mut Vec<ImportProblem>) {
    let mut first: HashMap<(FactKind, &str), u64> = HashMap::new();
    for item in items {
        match first.entry((item.kind, item.source_id.as_str())) {
            std::collections::hash_map::Entry::Occupied(earlier) => {
                problems.push(ImportProblem::new(
                    item.line,
                    Some("id"),
                    ProblemCode::Duplicate,
                    earlier.get().to_string(),
                ));
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(item.line);
            }
        }
    }
}
