//! The native floor (issue 16): the shipped rules (S2–S5, S10) hand-written for speed, with no
//! scripts and nothing done per view that can be done once per catalogue. It answers exactly
//! what the engine answers with the shipped rules (the benches assert so before timing), so
//! the engine's time divided by the floor's is what rules as scripts cost over the best Rust.
//!
//! Once per catalogue ([`FloorCatalogue::prepare`]): the options' lock keys (category + space),
//! each category's options in display order, the categories in display order. Per view: the
//! gate once; per option a space check, two map look-ups only when the tenant has ongoing
//! orders or unpaid fees at all, and a scan of the cart's few keys; the answer's vectors
//! allocated at their final size.

use std::sync::Arc;

use tillval_engine::availability::{
    Availability, CatalogueView, CategoryView, DecidedBy, Gate, OptionStatus, OptionView,
};
use tillval_engine::model::{
    AddOnOption, Cart, Catalogue, Category, LockKey, OptionId, TenantFacts,
};
use tillval_engine::rules::{Reason, ReasonCode, ReasonParam, engine_codes};

/// One option as the floor keeps it: the option and its one key.
struct FloorOption {
    option: Arc<AddOnOption>,
    keys: Arc<[LockKey]>,
}

struct FloorCategory {
    category: Category,
    options: Vec<FloorOption>,
}

/// A catalogue prepared for the floor: keys computed, everything in display order.
pub struct FloorCatalogue {
    categories: Vec<FloorCategory>,
    catalogue: Arc<Catalogue>,
}

impl FloorCatalogue {
    pub fn prepare(catalogue: Arc<Catalogue>) -> FloorCatalogue {
        let mut categories: Vec<FloorCategory> = catalogue
            .categories()
            .iter()
            .map(|category| FloorCategory {
                category: category.clone(),
                options: Vec::new(),
            })
            .collect();
        categories.sort_by(|a, b| {
            (a.category.position, &a.category.id).cmp(&(b.category.position, &b.category.id))
        });
        for option in catalogue.options() {
            let Ok(key) = LockKey::parse(format!("{}/{}", option.category(), option.space()))
            else {
                continue;
            };
            if let Some(category) = categories
                .iter_mut()
                .find(|c| &c.category.id == option.category())
            {
                category.options.push(FloorOption {
                    option: Arc::clone(option),
                    keys: Arc::from([key]),
                });
            }
        }
        for category in &mut categories {
            category.options.sort_by(|a, b| {
                (a.option.position(), a.option.id()).cmp(&(b.option.position(), b.option.id()))
            });
        }
        FloorCatalogue {
            categories,
            catalogue,
        }
    }

    /// The key of a catalogue option, for the cart's lines.
    fn key_of(&self, id: &OptionId) -> Option<&LockKey> {
        let option = self.catalogue.option(id)?;
        self.categories
            .iter()
            .find(|c| &c.category.id == option.category())?
            .options
            .iter()
            .find(|o| o.option.id() == id)
            .and_then(|o| o.keys.first())
    }
}

fn reason(code: &'static str) -> Reason {
    Reason::new(ReasonCode::engine(code))
}

/// The view, as the engine gives it with the shipped rules.
pub fn catalogue_view(floor: &FloorCatalogue, facts: &TenantFacts, cart: &Cart) -> CatalogueView {
    let mut gate = Vec::new();
    if !facts.ordering_enabled {
        gate.push(reason("ORDERING_DISABLED"));
    }
    if !facts.debt.is_zero() {
        gate.push(reason("DEBT").with("debt", ReasonParam::Money(facts.debt)));
    }
    // The cart holds a few lines: a scan beats a map. The first line of a key holds it.
    let mut held: Vec<(&LockKey, &OptionId)> = Vec::with_capacity(cart.lines().len());
    for line in cart.lines() {
        if let Some(key) = floor.key_of(&line.option)
            && !held.iter().any(|(k, _)| *k == key)
        {
            held.push((key, &line.option));
        }
    }
    let any_key_facts = !facts.ongoing_orders.is_empty() || !facts.unpaid_fees.is_empty();
    let rental_object = &facts.rental_object;
    let mut categories = Vec::with_capacity(floor.categories.len());
    for category in &floor.categories {
        let mut options = Vec::with_capacity(category.options.len());
        for entry in &category.options {
            let option = &entry.option;
            if !rental_object.has_space(option.space()) {
                continue;
            }
            let availability = if !gate.is_empty() {
                Availability::blocked(gate.clone(), DecidedBy::OrderBlocks)
            } else {
                let key = &entry.keys[0];
                let mut blocks = Vec::new();
                if any_key_facts {
                    if let Some(order) = facts.ongoing_orders.get(key) {
                        blocks.push(
                            reason("ONGOING_ORDER")
                                .with("case_number", ReasonParam::Text(order.case_number.clone())),
                        );
                    }
                    if let Some(remaining) = facts.unpaid_fees.get(key) {
                        blocks.push(
                            reason("UNPAID_FEE").with("remaining", ReasonParam::Money(*remaining)),
                        );
                    }
                }
                if !blocks.is_empty() {
                    Availability::blocked(blocks, DecidedBy::KeyBlocks)
                } else if cart.contains(option.id()) {
                    Availability::of(OptionStatus::InCart, Some(DecidedBy::Cart))
                } else if let Some((_, holder)) = held.iter().find(|(k, _)| *k == key) {
                    locked_by_cart(floor, holder)
                } else {
                    Availability::of(OptionStatus::Available, None)
                }
            };
            options.push(OptionView {
                option: Arc::clone(option),
                keys: Arc::clone(&entry.keys),
                availability,
            });
        }
        if !options.is_empty() {
            categories.push(CategoryView {
                category: category.category.clone(),
                options,
            });
        }
    }
    CatalogueView {
        rental_object: Arc::clone(rental_object),
        rule_set_version: "floor".into(),
        gate: Gate {
            reasons: gate,
            error: None,
        },
        categories,
        article_count: cart.article_count(),
        operations: 0,
        fault: None,
    }
}

fn locked_by_cart(floor: &FloorCatalogue, holder: &OptionId) -> Availability {
    let name = floor
        .catalogue
        .option(holder)
        .map(|o| o.name().to_owned())
        .unwrap_or_default();
    Availability {
        status: OptionStatus::LockedByCart,
        reasons: vec![
            reason(engine_codes::LOCKED_BY_CART)
                .with("option_id", ReasonParam::Text(holder.to_string()))
                .with("option_name", ReasonParam::Text(name)),
        ],
        error: None,
        decided_by: Some(DecidedBy::Cart),
    }
}
