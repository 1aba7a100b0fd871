//! The seed's rules (S2–S5, S10) written plainly in Rust, with no scripts: the model the
//! shipped rhai rule set is held to by differential tests, and the limit benchmarks compare
//! against. It answers exactly what [`tillval_engine::availability::catalogue_view`] answers with the
//! shipped rules.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use tillval_engine::availability::{
    Availability, CatalogueView, CategoryView, DecidedBy, Gate, OptionStatus, OptionView,
};
use tillval_engine::model::{
    AddOnOption, Cart, Catalogue, CategoryId, LockKey, OptionId, TenantFacts,
};
use tillval_engine::rules::{Reason, ReasonCode, ReasonParam, engine_codes};

/// The shipped `lock_keys`: category + space.
pub fn lock_key(option: &AddOnOption) -> Option<LockKey> {
    LockKey::parse(format!("{}/{}", option.category(), option.space())).ok()
}

fn reason(code: &'static str) -> Reason {
    Reason::new(ReasonCode::engine(code))
}

/// S2 and S3.
pub fn gate(facts: &TenantFacts) -> Vec<Reason> {
    let mut reasons = Vec::new();
    if !facts.ordering_enabled {
        reasons.push(reason("ORDERING_DISABLED"));
    }
    if !facts.debt.is_zero() {
        reasons.push(reason("DEBT").with("debt", ReasonParam::Money(facts.debt)));
    }
    reasons
}

/// S4 and S5.
pub fn key_blocks(facts: &TenantFacts, key: &LockKey) -> Vec<Reason> {
    let mut reasons = Vec::new();
    if let Some(order) = facts.ongoing_orders.get(key) {
        reasons.push(
            reason("ONGOING_ORDER")
                .with("case_number", ReasonParam::Text(order.case_number.clone())),
        );
    }
    if let Some(remaining) = facts.unpaid_fees.get(key) {
        reasons.push(reason("UNPAID_FEE").with("remaining", ReasonParam::Money(*remaining)));
    }
    reasons
}

/// The whole view, as the engine gives it with the shipped rules.
pub fn catalogue_view(catalogue: &Catalogue, facts: &TenantFacts, cart: &Cart) -> CatalogueView {
    let gate_reasons = gate(facts);
    let mut cart_keys: HashMap<LockKey, &OptionId> = HashMap::new();
    for line in cart.lines() {
        if let Some(key) = catalogue.option(&line.option).and_then(|o| lock_key(o)) {
            cart_keys.entry(key).or_insert(&line.option);
        }
    }
    let mut by_category: BTreeMap<&CategoryId, Vec<OptionView>> = BTreeMap::new();
    for option in catalogue.options() {
        if !facts.rental_object.has_space(option.space()) {
            continue;
        }
        let Some(key) = lock_key(option) else {
            continue;
        };
        let availability = if !gate_reasons.is_empty() {
            Availability::blocked(gate_reasons.clone(), DecidedBy::OrderBlocks)
        } else {
            let blocks = key_blocks(facts, &key);
            if !blocks.is_empty() {
                Availability::blocked(blocks, DecidedBy::KeyBlocks)
            } else if cart.contains(option.id()) {
                Availability::of(OptionStatus::InCart, Some(DecidedBy::Cart))
            } else if let Some(holder) = cart_keys.get(&key).filter(|h| **h != option.id()) {
                let name = catalogue
                    .option(holder)
                    .map(|o| o.name().to_owned())
                    .unwrap_or_default();
                let reason = reason(engine_codes::LOCKED_BY_CART)
                    .with("option_id", ReasonParam::Text(holder.to_string()))
                    .with("option_name", ReasonParam::Text(name));
                Availability {
                    status: OptionStatus::LockedByCart,
                    reasons: vec![reason],
                    error: None,
                    decided_by: Some(DecidedBy::Cart),
                }
            } else {
                Availability::of(OptionStatus::Available, None)
            }
        };
        by_category
            .entry(option.category())
            .or_default()
            .push(OptionView {
                option: Arc::clone(option),
                keys: Arc::from([key]),
                availability,
            });
    }
    let mut categories: Vec<CategoryView> = catalogue
        .categories()
        .iter()
        .filter_map(|category| {
            let mut options = by_category.remove(&category.id)?;
            options.sort_by(|a, b| {
                (a.option.position(), a.option.id()).cmp(&(b.option.position(), b.option.id()))
            });
            Some(CategoryView {
                category: category.clone(),
                options,
            })
        })
        .collect();
    categories.sort_by(|a, b| {
        (a.category.position, &a.category.id).cmp(&(b.category.position, &b.category.id))
    });
    CatalogueView {
        rental_object: Arc::clone(&facts.rental_object),
        rule_set_version: "reference".into(),
        gate: Gate {
            reasons: gate_reasons,
            error: None,
        },
        categories,
        article_count: cart.article_count(),
        operations: 0,
        fault: None,
    }
}
