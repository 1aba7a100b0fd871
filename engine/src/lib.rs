//! tillval's rules engine: the domain model, the sandboxed rhai rule runtime, the catalogue
//! cache and the availability decision. No HTTP, no GraphQL.

pub mod availability;
pub mod catalogue;
pub mod demo;
pub mod model;
pub mod reference;
pub mod rules;
#[cfg(feature = "testing")]
pub mod testing;
