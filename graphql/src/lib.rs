//! The GraphQL facade over tillval's engine (async-graphql over axum), and what the `tillval`
//! binary serves. Resolvers call engine services only; no SQL here.

pub mod app;
pub mod auth;
pub mod authoring;
pub mod context;
pub mod errors;
pub mod graphiql;
pub mod ids;
pub mod import;
pub mod inputs;
pub mod limits;
pub mod listener;
pub mod metrics;
pub mod pictures;
pub mod portal;
pub mod query_shape;
pub mod schema;
pub mod server;
pub mod trusted;
pub mod types;
pub mod webhooks;
pub mod websocket;
pub mod workbench;

/// The store the server runs on: SQLite or PostgreSQL, chosen by `--database`.
pub type AppStore = tillval_store::SqlStore;

pub use app::{App, AppConfig, AppError};
pub use schema::{TillvalSchema, build_schema, sdl};
pub use server::{AppState, router};
