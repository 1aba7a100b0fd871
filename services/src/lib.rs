//! tillval's services: what a tenant, staff and the landlord's systems do (carts, checkout,
//! cases, the ledger, the catalogue, publishing rule sets), each an operation on [`Services`]
//! that decides with `tillval-engine` and writes through a [`Store`]. The store is a trait
//! here; the SQL behind it lives in `tillval-store`, so nothing in this crate sees SQL.
//!
//! Module graph (no cycles): the records (`entity`, `case`, `order`, `store`) depend on the
//! engine's model only; `service` holds the shared context over them; each concept (`cart`,
//! `checkout`, `cases`, `ledger`, `catalogue_admin`, `directory`, `authoring`, `impact`, `changes`) adds its
//! operations to [`Services`]; `demo` uses them all.

pub mod authoring;
pub mod cart;
pub mod case;
pub mod cases;
pub mod catalogue_admin;
mod changes;
pub mod checkout;
pub mod demo;
pub mod directory;
pub mod entity;
pub mod events;
pub mod impact;
pub mod import;
pub mod imported;
mod in_flight;
pub mod input;
pub mod ledger;
pub mod order;
pub mod outbox_admin;
pub mod service;
pub mod store;

pub use entity::Entity;
pub use input::Input;
pub use service::{ServiceError, Services};
pub use store::{Store, StoreError};
