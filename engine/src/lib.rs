//! tillval's rules engine: the domain model, the sandboxed rhai rule runtime, the catalogue
//! cache and the availability decision. No HTTP, no GraphQL.
//!
//! ```
//! use std::sync::Arc;
//! use tillval_engine::{availability::catalogue_view, catalogue::PreparedCatalogue, demo::demo, rules::RuleSet};
//! use tillval_engine::model::Language;
//!
//! let rules = RuleSet::shipped()?; // or RuleSet::load(Path::new("rules"))?
//! let demo = demo(chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap())?;
//! let tenant = &demo.tenants[1]; // Bertil Lind, who has a debt
//! let prepared = PreparedCatalogue::prepare(Arc::new(demo.catalogues[0].clone()), &rules);
//! let view = catalogue_view(&rules, &prepared, &tenant.facts, &tenant.cart);
//! assert!(!view.gate.is_open());
//! assert_eq!(
//!     rules.render(&view.gate.reasons[0], Language::En),
//!     "You have a debt of SEK 1,850.00, so you cannot order add-ons. Please contact your landlord."
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod authoring;
pub mod availability;
pub mod cart;
pub mod cases;
pub mod catalogue;
mod changes;
pub mod checkout;
pub mod demo;
pub mod ledger;
pub mod model;
pub mod reference;
pub mod rules;
pub mod service;
pub mod store;
#[cfg(feature = "testing")]
pub mod test_database;
/// The generators behind `rules check --fuzz` and publishing: always built, public for
/// downstream test suites with the `testing` feature.
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(not(feature = "testing"))]
#[allow(dead_code, unreachable_pub)]
pub(crate) mod testing;
