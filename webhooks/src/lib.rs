//! Delivering tillval's events to the landlord's systems (issue 15). The store writes each event
//! to its outbox in the transaction of the change (`tillval_services::events`); here a
//! [`Dispatcher`] leases what is due, posts it to the endpoint in the Standard Webhooks format
//! ([`signature`]), and records the outcome: delivered, retried later with exponential backoff
//! and jitter, or after the last attempt dead-lettered for staff to replay. Endpoint secrets are
//! made by [`secret::generate`].
//!
//! At least once, in order per case: a lease that runs out (a node died mid-delivery) lets
//! another node take the delivery, with the same `webhook-id`, so a receiver drops duplicates by
//! it.

pub mod dispatcher;
pub mod secret;
pub mod signature;

pub use dispatcher::{Dispatcher, DispatcherConfig};
