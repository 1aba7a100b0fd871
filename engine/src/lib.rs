//! tillval's embeddable rules engine: the domain model, the sandboxed rhai rule runtime with
//! its checks (compile, contract, the set's own cases, generated inputs, explain), the
//! availability decision, and the catalogue (sources, the catalogue prepared for a rule set,
//! the moka cache in front).
//!
//! No database driver, no async runtime, no HTTP: `cargo tree -p tillval-engine -e normal`
//! names none of sqlx, tokio, hyper, axum or async-graphql, and a test holds it so. The
//! services, the SQL store and the GraphQL server are crates of their own on top.
//!
//! ```
//! use std::sync::Arc;
//! use tillval_engine::availability::{OptionStatus, catalogue_view};
//! use tillval_engine::catalogue::PreparedCatalogue;
//! use tillval_engine::model::{Cart, Catalogue, Language, TenantFacts};
//! use tillval_engine::rules::RuleSet;
//!
//! let rules = RuleSet::shipped()?; // or RuleSet::load(Path::new("rules"))?
//! let catalogue: Catalogue = toml::from_str(include_str!("../examples/embed/catalogue.toml"))?;
//! let mut facts: TenantFacts = toml::from_str(include_str!("../examples/embed/household.toml"))?;
//! facts.debt = tillval_engine::model::Money::from_minor(185_000, facts.debt.currency())?;
//! let cart = Cart::empty(facts.tenant.clone(), facts.rental_object.id().clone());
//!
//! let prepared = PreparedCatalogue::prepare(Arc::new(catalogue), &rules);
//! let view = catalogue_view(&rules, &prepared, &facts, &cart);
//! assert!(!view.gate.is_open());
//! assert_eq!(
//!     rules.render(&view.gate.reasons[0], Language::En),
//!     "You have a debt of SEK 1,850.00, so you cannot order add-ons. Please contact your landlord."
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! `examples/embed.rs` does the whole round: a rule set from a folder, checked with generated
//! inputs, and a household's view printed.

pub mod availability;
pub mod catalogue;
pub mod impact;
pub mod model;
pub mod rules;
/// The generators behind `rules check --fuzz` and publishing: always built, public for
/// downstream test suites with the `testing` feature.
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(not(feature = "testing"))]
#[allow(dead_code, unreachable_pub)]
pub(crate) mod testing;
pub mod view_memo;
