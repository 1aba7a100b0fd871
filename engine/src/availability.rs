//! The decision: for one tenant, one apartment and their cart, what may be ordered and why not.
//!
//! The order of evaluation is the cost model. The tenant-wide gate (`order_blocks`) runs once;
//! `key_blocks` runs once per distinct lock key, not per option; `option_blocks` runs per
//! option only when the rule set defines it. Lock keys were computed when the catalogue was
//! prepared.
//!
//! Precedence for one option: a rule error, then blocked (gate, key, option rules), then in the
//! cart itself, then locked by another cart line on the same key (S10), then available.

use std::sync::Arc;

use crate::rules::TenantValue;
use serde::Serialize;

use crate::catalogue::{PreparedCatalogue, PreparedOption};
use crate::model::{AddOnOption, Cart, Category, LockKey, Money, OptionId, TenantFacts};
use crate::rules::{
    Budget, CartSummary, KeyUse, OptionUse, Reason, ReasonCode, ReasonParam, RuleError, RuleSet,
    engine_codes, tenant_value,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OptionStatus {
    Available,
    /// This option is in the cart.
    InCart,
    /// Another option with the same lock key is in the cart (S10).
    LockedByCart,
    /// The rules refuse it (S2–S5, or the landlord's own).
    Blocked,
    /// The rules could not decide; not the tenant's fault, and not orderable.
    RuleError,
}

impl OptionStatus {
    /// Whether the option may be added to the cart now.
    pub fn is_orderable(self) -> bool {
        self == OptionStatus::Available
    }
}

/// What decided an option's status: one of the rule set's functions, or the engine's own cart
/// lock (S10). `None` for an available option: nothing refused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DecidedBy {
    LockKeys,
    OrderBlocks,
    KeyBlocks,
    OptionBlocks,
    /// The engine: the option or another on its key is in the cart.
    Cart,
}

impl DecidedBy {
    /// The rule-set function, if a function decided.
    pub fn function(self) -> Option<&'static str> {
        match self {
            DecidedBy::LockKeys => Some("lock_keys"),
            DecidedBy::OrderBlocks => Some("order_blocks"),
            DecidedBy::KeyBlocks => Some("key_blocks"),
            DecidedBy::OptionBlocks => Some("option_blocks"),
            DecidedBy::Cart => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Availability {
    pub status: OptionStatus,
    pub reasons: Vec<Reason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<RuleError>,
    pub decided_by: Option<DecidedBy>,
}

impl Availability {
    /// An answer with no reasons: available, in the cart, or decided elsewhere.
    pub fn of(status: OptionStatus, decided_by: Option<DecidedBy>) -> Self {
        Availability {
            status,
            reasons: Vec::new(),
            error: None,
            decided_by,
        }
    }
    /// Blocked, for `reasons`, by the step `decided_by`.
    pub fn blocked(reasons: Vec<Reason>, decided_by: DecidedBy) -> Self {
        Availability {
            status: OptionStatus::Blocked,
            reasons,
            error: None,
            decided_by: Some(decided_by),
        }
    }
    fn failed(error: RuleError, decided_by: DecidedBy) -> Self {
        Availability {
            status: OptionStatus::RuleError,
            reasons: Vec::new(),
            error: Some(error),
            decided_by: Some(decided_by),
        }
    }
}

/// The tenant-wide gate (S2, S3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gate {
    pub reasons: Vec<Reason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<RuleError>,
}

impl Gate {
    pub fn is_open(&self) -> bool {
        self.reasons.is_empty() && self.error.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptionView {
    pub option: Arc<AddOnOption>,
    pub keys: Arc<[LockKey]>,
    pub availability: Availability,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryView {
    pub category: Category,
    pub options: Vec<OptionView>,
}

/// What a tenant sees of the catalogue for one apartment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogueView {
    /// The apartment decided for.
    pub rental_object: Arc<crate::model::RentalObject>,
    pub rule_set_version: String,
    pub gate: Gate,
    /// Only categories with at least one option possible for this apartment (S6), by position.
    pub categories: Vec<CategoryView>,
    pub article_count: u32,
    /// Sandbox operations this view cost (what publishing measures against the view budget).
    pub operations: u64,
    /// An engine fault (the wall-clock guard), if the view outlived it: see [`Decider::fault`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<RuleError>,
}

impl CatalogueView {
    pub fn options(&self) -> impl Iterator<Item = &OptionView> {
        self.categories.iter().flat_map(|c| c.options.iter())
    }
    pub fn option(&self, id: &OptionId) -> Option<&OptionView> {
        self.options().find(|o| o.option.id() == id)
    }
}

/// The cart as the rules see it: which keys its lines hold, and its totals. Lines whose option
/// is no longer in the catalogue hold nothing.
pub fn cart_summary(catalogue: &PreparedCatalogue, cart: &Cart) -> CartSummary {
    let mut summary = CartSummary {
        article_count: cart.article_count(),
        ..CartSummary::default()
    };
    let mut monthly = Money::zero(catalogue.catalogue().currency());
    for line in cart.lines() {
        summary
            .lines
            .insert(line.option.clone(), line.quantity.get());
        let Some(entry) = catalogue.entry(&line.option) else {
            continue;
        };
        if let Ok(keys) = &entry.keys {
            for key in keys.iter() {
                summary
                    .keys
                    .entry(key.clone())
                    .or_insert_with(|| line.option.clone());
            }
        }
        let line_total = entry
            .option
            .monthly_price()
            .checked_mul(line.quantity.get());
        monthly = match line_total.and_then(|t| monthly.checked_add(t)) {
            Ok(m) => m,
            Err(error) => {
                tracing::warn!(%error, "cart total does not add up; left at what it was");
                monthly
            }
        };
    }
    summary.monthly_total = Some(monthly);
    summary
}

/// Decides options one at a time for one tenant, memoising what is shared between them: the
/// gate once, each lock key once (by its index in the prepared catalogue), and what
/// [`Decider::prefetch`] decided ahead in a few calls into the sandbox.
pub struct Decider<'a> {
    rules: &'a RuleSet,
    catalogue: &'a PreparedCatalogue,
    summary: CartSummary,
    tenant: TenantValue,
    gate: Gate,
    /// `key_blocks` per key id.
    keys: Vec<Option<Answer>>,
    /// `key_blocks` for every key the tenant has no facts on, when the set reads keys only
    /// through the tenant's look-ups ([`KeyUse::ThroughLookups`]): one answer for them all.
    factless: Option<Answer>,
    /// `option_blocks` per entry index, when prefetched.
    options: Vec<Option<Answer>>,
    /// The cart line holding each key id, if any.
    holders: Vec<Option<OptionId>>,
    /// Whether each entry (by index) is in the cart.
    in_cart: Vec<bool>,
    /// What is left of this view's operations and time.
    budget: Budget,
}

/// Items per batched call: well inside the sandbox's array limit.
const BATCH: usize = 256;

type Answer = Result<Vec<Reason>, RuleError>;

/// Asks `many` for the items `ids` (their script values from `value`) in batches of [`BATCH`]
/// and puts each answer in its slot. A batch that fails leaves its slots empty: those are then
/// decided one call each.
fn fill_in_batches(
    slots: &mut [Option<Answer>],
    ids: &[usize],
    value: impl Fn(usize) -> Option<rhai::Dynamic>,
    mut many: impl FnMut(rhai::Array) -> Option<Vec<Answer>>,
) {
    for chunk in ids.chunks(BATCH) {
        let values: rhai::Array = chunk.iter().filter_map(|&id| value(id)).collect();
        if values.len() != chunk.len() {
            continue;
        }
        for (&id, answer) in chunk.iter().zip(many(values).into_iter().flatten()) {
            if let Some(slot) = slots.get_mut(id) {
                *slot = Some(answer);
            }
        }
    }
}

impl std::fmt::Debug for Decider<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decider")
            .field("gate", &self.gate)
            .finish_non_exhaustive()
    }
}

impl<'a> Decider<'a> {
    pub fn new(
        rules: &'a RuleSet,
        catalogue: &'a PreparedCatalogue,
        facts: &TenantFacts,
        cart: &'a Cart,
    ) -> Self {
        let summary = cart_summary(catalogue, cart);
        let tenant = tenant_value(facts, &summary, catalogue.catalogue().currency());
        let mut budget = rules.budget();
        let gate = match rules.order_blocks(&tenant, &mut budget) {
            Ok(reasons) => Gate {
                reasons,
                error: None,
            },
            Err(error) => Gate {
                reasons: Vec::new(),
                error: Some(error),
            },
        };
        let key_count = catalogue.distinct_keys().len();
        let mut holders = vec![None; key_count];
        for (key, holder) in &summary.keys {
            if let Some(slot) = catalogue.key_id(key).and_then(|id| holders.get_mut(id)) {
                *slot = Some(holder.clone());
            }
        }
        let mut in_cart = vec![false; catalogue.entries().len()];
        for line in cart.lines() {
            if let Some(slot) = catalogue
                .entry_index(&line.option)
                .and_then(|i| in_cart.get_mut(i))
            {
                *slot = true;
            }
        }
        Decider {
            rules,
            catalogue,
            summary,
            tenant,
            gate,
            keys: vec![None; key_count],
            factless: None,
            options: Vec::new(),
            holders,
            in_cart,
            budget,
        }
    }

    /// Operations this decider has spent in the sandbox.
    pub fn operations_used(&self) -> u64 {
        self.budget.used()
    }

    /// Set when the decisions outlived the wall-clock guard: an engine fault (a machine far
    /// too slow, or a bound the operation count does not see), never an answer. Callers fail
    /// the request rather than show decisions that depended on load.
    pub fn fault(&self) -> Option<&RuleError> {
        self.budget.fault()
    }

    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    pub fn cart_summary(&self) -> &CartSummary {
        &self.summary
    }

    /// Decides ahead, in batches, the keys and (if the set has per-option rules) the options of
    /// the entries with these indices; [`Decider::decide`] then only reads. Nothing to do when
    /// the gate is closed: then no option's own rules run.
    pub fn prefetch(&mut self, entries: &[usize]) {
        if self.gate.error.is_some() || !self.gate.reasons.is_empty() {
            return;
        }
        let catalogue = self.catalogue;
        let mut wanted = vec![false; self.keys.len()];
        for entry in entries.iter().filter_map(|&i| catalogue.entries().get(i)) {
            for &id in &entry.key_ids {
                if let Some(w) = wanted.get_mut(id) {
                    *w = true;
                }
            }
        }
        let missing: Vec<usize> = wanted
            .iter()
            .enumerate()
            .filter(|&(id, &w)| w && self.keys.get(id).is_some_and(Option::is_none))
            .map(|(id, _)| id)
            .collect();
        self.prefetch_keys(missing);
        let (rules, tenant, budget) = (self.rules, &self.tenant, &mut self.budget);
        if !rules.defines_option_blocks() {
            return;
        }
        if self.options.len() < catalogue.entries().len() {
            self.options = vec![None; catalogue.entries().len()];
        }
        let grouped = matches!(rules.option_use(), Some(OptionUse::Properties { .. }));
        if !grouped {
            fill_in_batches(
                &mut self.options,
                entries,
                |i| catalogue.entries().get(i).map(|e| e.value.clone()),
                |values| rules.option_blocks_many(tenant, values, budget),
            );
            return;
        }
        // One representative per group of options alike in what the rule reads (and in being
        // in the cart), decided in batches; the rest take its answer.
        let reads_in_cart = matches!(
            rules.option_use(),
            Some(OptionUse::Properties { in_cart: true, .. })
        );
        let in_cart = &self.in_cart;
        let slot_of = |i: usize| {
            let group = catalogue.entries().get(i).map_or(0, |e| e.option_group);
            let carted = reads_in_cart && in_cart.get(i).is_some_and(|&c| c);
            group * 2 + usize::from(carted)
        };
        let mut group_answers: Vec<Option<Answer>> = vec![None; catalogue.option_groups() * 2];
        let mut representative: Vec<Option<usize>> = vec![None; group_answers.len()];
        let mut asked = Vec::new();
        for &i in entries {
            if let Some(first) = representative.get_mut(slot_of(i))
                && first.is_none()
            {
                *first = Some(i);
                asked.push(i);
            }
        }
        let mut answers: Vec<Option<Answer>> = vec![None; catalogue.entries().len()];
        fill_in_batches(
            &mut answers,
            &asked,
            |i| catalogue.entries().get(i).map(|e| e.value.clone()),
            |values| rules.option_blocks_many(tenant, values, budget),
        );
        for &i in &asked {
            if let (Some(slot), Some(answer)) =
                (group_answers.get_mut(slot_of(i)), answers.get_mut(i))
            {
                *slot = answer.take();
            }
        }
        for &i in entries {
            if let (Some(Some(answer)), Some(slot)) =
                (group_answers.get(slot_of(i)), self.options.get_mut(i))
            {
                *slot = Some(answer.clone());
            }
        }
    }

    /// Decides the keys `missing` in batches. With a set that reads keys only through the
    /// tenant's look-ups, the keys the tenant has no facts on are asked once, through the first
    /// of them, and all share its answer.
    fn prefetch_keys(&mut self, missing: Vec<usize>) {
        let catalogue = self.catalogue;
        let key_use = self.rules.key_use();
        let (asked, shared): (Vec<usize>, Vec<usize>) = match key_use {
            KeyUse::Direct => (missing, Vec::new()),
            KeyUse::ThroughLookups { .. } => {
                // The tenant's few fact keys marked by id, rather than every key looked up.
                let mut with_facts = vec![false; catalogue.distinct_keys().len()];
                for key in self.tenant.fact_keys(key_use) {
                    if let Some(mark) = catalogue.key_id(key).and_then(|id| with_facts.get_mut(id))
                    {
                        *mark = true;
                    }
                }
                let (mut asked, factless): (Vec<usize>, Vec<usize>) = missing
                    .into_iter()
                    .partition(|&id| with_facts.get(id).is_none_or(|&marked| marked));
                if self.factless.is_none() {
                    asked.extend(factless.first().copied());
                }
                (asked, factless)
            }
        };
        let (rules, tenant, budget) = (self.rules, &self.tenant, &mut self.budget);
        fill_in_batches(
            &mut self.keys,
            &asked,
            |id| catalogue.key_value(id).cloned(),
            |values| rules.key_blocks_many(tenant, values, budget),
        );
        let answer = match &self.factless {
            Some(answer) => Some(answer.clone()),
            None => shared
                .first()
                .and_then(|&id| self.keys.get(id))
                .cloned()
                .flatten(),
        };
        let Some(answer) = answer else {
            return;
        };
        for &id in &shared {
            if let Some(slot) = self.keys.get_mut(id) {
                slot.get_or_insert_with(|| answer.clone());
            }
        }
        self.factless = Some(answer);
    }

    /// The availability of one option of the catalogue; `None` if it is not in it.
    pub fn decide(&mut self, option: &OptionId) -> Option<Availability> {
        let catalogue = self.catalogue;
        let index = catalogue.entry_index(option)?;
        catalogue
            .entries()
            .get(index)
            .map(|entry| self.decide_entry(index, entry))
    }

    fn key_reasons(&mut self, id: usize, key: &LockKey) -> Result<Vec<Reason>, RuleError> {
        let (rules, tenant, budget) = (self.rules, &self.tenant, &mut self.budget);
        let key_use = rules.key_use();
        if let Some(Some(answer)) = self.keys.get(id) {
            return answer.clone();
        }
        if !tenant.has_facts_on(key, key_use) {
            let answer = self
                .factless
                .get_or_insert_with(|| rules.key_blocks(tenant, key, budget))
                .clone();
            if let Some(slot) = self.keys.get_mut(id) {
                *slot = Some(answer.clone());
            }
            return answer;
        }
        match self.keys.get_mut(id) {
            Some(slot) => slot
                .get_or_insert_with(|| rules.key_blocks(tenant, key, budget))
                .clone(),
            None => rules.key_blocks(tenant, key, budget),
        }
    }

    fn decide_entry(&mut self, index: usize, entry: &PreparedOption) -> Availability {
        let keys: &[LockKey] = match &entry.keys {
            Ok(keys) => keys,
            Err(error) => return Availability::failed(error.clone(), DecidedBy::LockKeys),
        };
        if let Some(error) = &self.gate.error {
            return Availability::failed(error.clone(), DecidedBy::OrderBlocks);
        }
        if !self.gate.reasons.is_empty() {
            return Availability::blocked(self.gate.reasons.clone(), DecidedBy::OrderBlocks);
        }
        let mut reasons = Vec::new();
        for (key, &id) in keys.iter().zip(&entry.key_ids) {
            match self.key_reasons(id, key) {
                Ok(key_reasons) => reasons.extend(key_reasons),
                Err(error) => return Availability::failed(error, DecidedBy::KeyBlocks),
            }
        }
        // Key reasons come first; the option's own rules only add to them.
        let mut decided_by = DecidedBy::KeyBlocks;
        let prefetched = self.options.get_mut(index).and_then(Option::take);
        let option_result = match prefetched {
            Some(result) => Some(result),
            None => self
                .rules
                .option_blocks(&self.tenant, &entry.value, &mut self.budget),
        };
        if let Some(result) = option_result {
            match result {
                Ok(option_reasons) => {
                    if reasons.is_empty() && !option_reasons.is_empty() {
                        decided_by = DecidedBy::OptionBlocks;
                    }
                    reasons.extend(option_reasons)
                }
                Err(error) => return Availability::failed(error, DecidedBy::OptionBlocks),
            }
        }
        if !reasons.is_empty() {
            return Availability::blocked(reasons, decided_by);
        }
        let id = entry.option.id();
        if self.in_cart.get(index).is_some_and(|&yes| yes) {
            return Availability::of(OptionStatus::InCart, Some(DecidedBy::Cart));
        }
        let mut holders: Vec<&OptionId> = Vec::new();
        for &key in &entry.key_ids {
            if let Some(Some(holder)) = self.holders.get(key)
                && holder != id
                && !holders.contains(&holder)
            {
                holders.push(holder);
            }
        }
        if holders.is_empty() {
            return Availability::of(OptionStatus::Available, None);
        }
        let reasons = holders
            .into_iter()
            .map(|holder| locked_by_cart(self.catalogue, holder))
            .collect();
        Availability {
            status: OptionStatus::LockedByCart,
            reasons,
            error: None,
            decided_by: Some(DecidedBy::Cart),
        }
    }
}

/// The S10 reason: which cart line holds the key.
pub fn locked_by_cart(catalogue: &PreparedCatalogue, holder: &OptionId) -> Reason {
    let name = catalogue
        .entry(holder)
        .map(|e| e.option.name().to_owned())
        .unwrap_or_else(|| holder.to_string());
    Reason::new(ReasonCode::engine(engine_codes::LOCKED_BY_CART))
        .with("option_id", ReasonParam::Text(holder.to_string()))
        .with("option_name", ReasonParam::Text(name))
}

/// The catalogue view (S6, S10 and the rules' refusals) for one tenant and apartment.
pub fn catalogue_view(
    rules: &RuleSet,
    catalogue: &PreparedCatalogue,
    facts: &TenantFacts,
    cart: &Cart,
) -> CatalogueView {
    let mut decider = Decider::new(rules, catalogue, facts, cart);
    let object = &facts.rental_object;
    // The options the apartment can have (S6), by category in display order.
    let has_space: Vec<bool> = catalogue
        .distinct_spaces()
        .iter()
        .map(|space| object.has_space(space))
        .collect();
    let visible: Vec<(usize, Vec<usize>)> = catalogue
        .display_order()
        .iter()
        .map(|(category, members)| {
            let members = members
                .iter()
                .copied()
                .filter(|&i| {
                    catalogue
                        .entries()
                        .get(i)
                        .and_then(|e| has_space.get(e.space_id))
                        .is_some_and(|&has| has)
                })
                .collect();
            (*category, members)
        })
        .collect();
    let all: Vec<usize> = visible
        .iter()
        .flat_map(|(_, m)| m.iter().copied())
        .collect();
    decider.prefetch(&all);
    let mut categories = Vec::new();
    for (category, members) in &visible {
        let Some(category) = catalogue.catalogue().categories().get(*category) else {
            continue;
        };
        // At its final size: grown by doubling, a large category's vector is copied again and
        // again, and its pages faulted in anew on every view.
        let mut options: Vec<OptionView> = Vec::with_capacity(members.len());
        for &i in members {
            if let Some(entry) = catalogue.entries().get(i) {
                options.push(OptionView {
                    option: Arc::clone(&entry.option),
                    keys: entry.keys.clone().unwrap_or_else(|_| Arc::from([])),
                    availability: decider.decide_entry(i, entry),
                });
            }
        }
        if !options.is_empty() {
            categories.push(CategoryView {
                category: category.clone(),
                options,
            });
        }
    }
    CatalogueView {
        rental_object: Arc::clone(object),
        rule_set_version: rules.version().to_owned(),
        gate: decider.gate.clone(),
        categories,
        article_count: cart.article_count(),
        operations: decider.operations_used(),
        fault: decider.fault().cloned(),
    }
}
