//! `/metrics` in the Prometheus text format (`prometheus-client`, the Prometheus project's Rust
//! client): per GraphQL operation name and type, the count, the errors by code and a latency
//! histogram; and, read when scraped, the catalogue cache's hits and misses, the database pool
//! in use, the rule pool's free threads, and the outbox's depth, oldest age and dead letters.
//!
//! An operation's name is the client's: a label only if it looks like a name (1–64 of
//! `[A-Za-z0-9_]`) and while fewer than [`MAX_OPERATION_NAMES`] are known; the rest count as
//! `other`, so a client sending random names cannot grow the registry without bound.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest, NextRequest,
};
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{Response, ServerResult, Variables};
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tillval_services::service::Services;

use crate::AppStore;

/// Distinct operation names kept as labels; past this, `other`.
pub const MAX_OPERATION_NAMES: usize = 200;

#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq, EncodeLabelValue)]
pub enum OperationKind {
    Query,
    Mutation,
    Subscription,
    /// The document did not parse, or named no operation it holds.
    Unknown,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabels {
    pub operation: String,
    pub kind: OperationKind,
}

/// A rule-set function, and the set (`name version`) whose function it is.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RuleLabels {
    pub function: String,
    pub rule_set: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    pub operation: String,
    pub code: String,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms … about 8 s.
    Histogram::new(exponential_buckets(0.000_5, 2.0, 15))
}

/// The node's metrics: what requests did, and gauges read at each scrape.
pub struct Metrics {
    registry: Registry,
    operations: Family<OperationLabels, Counter>,
    errors: Family<ErrorLabels, Counter>,
    latency: Family<OperationLabels, Histogram, fn() -> Histogram>,
    cache_hits: Gauge,
    cache_misses: Gauge,
    db_connections: Gauge,
    db_idle: Gauge,
    rule_pool_free: Gauge,
    rule_pool_waiting: Gauge,
    limited: Counter,
    outbox_pending: Gauge,
    outbox_oldest_age: Gauge,
    outbox_dead: Gauge,
    rule_calls: Family<RuleLabels, Counter>,
    rule_errors: Family<RuleLabels, Counter>,
    rule_budget_hits: Family<RuleLabels, Counter>,
    rule_seconds: Family<RuleLabels, Counter<f64, std::sync::atomic::AtomicU64>>,
    notify_received: Counter,
    notify_lag_seconds: Counter<f64, std::sync::atomic::AtomicU64>,
    notify_last_lag_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
    names: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("tillval");
        let operations = Family::<OperationLabels, Counter>::default();
        let errors = Family::<ErrorLabels, Counter>::default();
        let latency = Family::<OperationLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        registry.register(
            "graphql_operations",
            "GraphQL operations answered, by name and type",
            operations.clone(),
        );
        registry.register(
            "graphql_errors",
            "Errors in GraphQL answers, by operation and code",
            errors.clone(),
        );
        registry.register(
            "graphql_operation_seconds",
            "Time to answer a GraphQL operation",
            latency.clone(),
        );
        let rule_calls = Family::<RuleLabels, Counter>::default();
        let rule_errors = Family::<RuleLabels, Counter>::default();
        let rule_budget_hits = Family::<RuleLabels, Counter>::default();
        let rule_seconds =
            Family::<RuleLabels, Counter<f64, std::sync::atomic::AtomicU64>>::default();
        registry.register(
            "rule_calls",
            "Rule-set function calls, by function and rule set (name version)",
            rule_calls.clone(),
        );
        registry.register(
            "rule_errors",
            "Rule-set function calls that failed",
            rule_errors.clone(),
        );
        registry.register(
            "rule_budget_hits",
            "Rule-set function calls a sandbox bound stopped",
            rule_budget_hits.clone(),
        );
        registry.register(
            "rule_seconds",
            "Time spent in rule-set functions",
            rule_seconds.clone(),
        );
        let notify_received = Counter::default();
        let notify_lag_seconds = Counter::<f64, std::sync::atomic::AtomicU64>::default();
        let notify_last_lag_seconds = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "notify_received",
            "Other nodes' change notifications heard (PostgreSQL)",
            notify_received.clone(),
        );
        registry.register(
            "notify_lag_seconds",
            "Summed lag of those notifications, from the sender's write to their arrival here",
            notify_lag_seconds.clone(),
        );
        registry.register(
            "notify_last_lag_seconds",
            "The lag of the last notification heard",
            notify_last_lag_seconds.clone(),
        );
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let gauge = Gauge::default();
            registry.register(name, help, gauge.clone());
            gauge
        };
        Metrics {
            cache_hits: gauge(
                &mut registry,
                "catalogue_cache_hits",
                "Catalogue cache hits since start",
            ),
            cache_misses: gauge(
                &mut registry,
                "catalogue_cache_misses",
                "Catalogue cache misses (loads) since start",
            ),
            db_connections: gauge(
                &mut registry,
                "db_pool_connections",
                "Database connections open",
            ),
            db_idle: gauge(
                &mut registry,
                "db_pool_idle",
                "Database connections open and idle",
            ),
            rule_pool_free: gauge(
                &mut registry,
                "rule_pool_free",
                "Rule-pool threads free to evaluate",
            ),
            rule_pool_waiting: gauge(
                &mut registry,
                "rule_pool_waiting",
                "Rule evaluations waiting for a rule-pool thread",
            ),
            limited: {
                let limited = Counter::default();
                registry.register(
                    "limited_requests",
                    "Requests answered 429 by the fair limits",
                    limited.clone(),
                );
                limited
            },
            outbox_pending: gauge(
                &mut registry,
                "outbox_pending",
                "Webhook deliveries waiting",
            ),
            outbox_oldest_age: gauge(
                &mut registry,
                "outbox_oldest_pending_seconds",
                "Age of the oldest waiting delivery",
            ),
            outbox_dead: gauge(
                &mut registry,
                "outbox_dead",
                "Webhook deliveries given up on (dead letters)",
            ),
            registry,
            operations,
            errors,
            latency,
            rule_calls,
            rule_errors,
            rule_budget_hits,
            rule_seconds,
            notify_received,
            notify_lag_seconds,
            notify_last_lag_seconds,
            names: Mutex::new(HashSet::new()),
        }
    }

    /// Counts a request the fair limits answered 429.
    pub fn limited(&self) {
        self.limited.inc();
    }

    /// The label for a client's operation name.
    fn label(&self, name: Option<&str>) -> String {
        let Some(name) = name else {
            return "anonymous".to_owned();
        };
        let looks_like_a_name = (1..=64).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !looks_like_a_name {
            return "other".to_owned();
        }
        let mut names = self
            .names
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if names.contains(name) || names.len() < MAX_OPERATION_NAMES {
            names.insert(name.to_owned());
            name.to_owned()
        } else {
            "other".to_owned()
        }
    }

    /// Counts one answered operation.
    pub fn observe(
        &self,
        name: Option<&str>,
        kind: OperationKind,
        seconds: f64,
        response: &Response,
    ) {
        let operation = self.label(name);
        let labels = OperationLabels {
            operation: operation.clone(),
            kind,
        };
        self.operations.get_or_create(&labels).inc();
        self.latency.get_or_create(&labels).observe(seconds);
        for error in &response.errors {
            let code = error
                .extensions
                .as_ref()
                .and_then(|e| e.get("code"))
                .and_then(|v| match v {
                    async_graphql::Value::String(code) => Some(code.clone()),
                    _ => None,
                })
                .filter(|c| c.len() <= 64 && c.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'))
                .unwrap_or_else(|| "GRAPHQL_VALIDATION_FAILED".to_owned());
            self.errors
                .get_or_create(&ErrorLabels {
                    operation: operation.clone(),
                    code,
                })
                .inc();
        }
    }

    /// The rule set's own counts (kept by the engine since the set was compiled) brought up to
    /// date in the counters: each grows by what the set counted since the last scrape.
    fn read_rule_stats(&self, rules: &tillval_engine::rules::RuleSet) {
        let rule_set = format!("{} {}", rules.name(), rules.version());
        for stats in rules.stats().read() {
            let labels = RuleLabels {
                function: stats.function.to_owned(),
                rule_set: rule_set.clone(),
            };
            let bring_up = |counter: &Counter, now: u64| {
                counter.inc_by(now.saturating_sub(counter.get()));
            };
            bring_up(&self.rule_calls.get_or_create(&labels), stats.calls);
            bring_up(&self.rule_errors.get_or_create(&labels), stats.errors);
            bring_up(
                &self.rule_budget_hits.get_or_create(&labels),
                stats.budget_hits,
            );
            let seconds = self.rule_seconds.get_or_create(&labels);
            let grown = stats.seconds - seconds.get();
            if grown > 0.0 {
                seconds.inc_by(grown);
            }
        }
    }

    /// The text a scrape gets: the gauges read now, then everything encoded.
    pub async fn render(&self, services: &Services<AppStore>) -> Result<String, std::fmt::Error> {
        let stats = services.catalogues().stats();
        self.cache_hits
            .set(i64::try_from(stats.hits).unwrap_or(i64::MAX));
        self.cache_misses
            .set(i64::try_from(stats.misses).unwrap_or(i64::MAX));
        let pool = services.store().pool_usage();
        self.db_connections.set(i64::from(pool.size));
        self.db_idle
            .set(i64::try_from(pool.idle).unwrap_or(i64::MAX));
        self.rule_pool_free
            .set(i64::try_from(services.rule_pool().free()).unwrap_or(i64::MAX));
        self.rule_pool_waiting
            .set(i64::try_from(services.rule_pool().waiting()).unwrap_or(i64::MAX));
        // The outbox is read from the database; a failure leaves the last values and is logged.
        match services.outbox_depth().await {
            Ok(depth) => {
                self.outbox_pending
                    .set(i64::try_from(depth.pending).unwrap_or(i64::MAX));
                self.outbox_dead
                    .set(i64::try_from(depth.dead).unwrap_or(i64::MAX));
                let age = depth
                    .oldest_pending
                    .map_or(0, |at| (chrono::Utc::now() - at).num_seconds().max(0));
                self.outbox_oldest_age.set(age);
            }
            Err(error) => tracing::warn!(%error, "metrics: the outbox's depth was not read"),
        }
        self.read_rule_stats(&services.rules());
        if let Some(lag) = services.store().notify_lag() {
            self.notify_received
                .inc_by(lag.received.saturating_sub(self.notify_received.get()));
            let grown = lag.total_seconds - self.notify_lag_seconds.get();
            if grown > 0.0 {
                self.notify_lag_seconds.inc_by(grown);
            }
            self.notify_last_lag_seconds.set(lag.last_seconds);
        }
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// The async-graphql extension that times each request (a document that does not parse
/// counts too, as `unknown`) and counts its errors.
#[derive(Debug)]
pub struct MetricsExtension(pub Arc<Metrics>);

impl ExtensionFactory for MetricsExtension {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Measured {
            metrics: self.0.clone(),
            seen: Mutex::new(Seen::default()),
        })
    }
}

/// What one request said of itself: the operation it names, and its document's operations.
#[derive(Default)]
struct Seen {
    name: Option<String>,
    kinds: Vec<(Option<String>, OperationKind)>,
}

struct Measured {
    metrics: Arc<Metrics>,
    seen: Mutex<Seen>,
}

impl Measured {
    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn kind(ty: OperationType) -> OperationKind {
    match ty {
        OperationType::Query => OperationKind::Query,
        OperationType::Mutation => OperationKind::Mutation,
        OperationType::Subscription => OperationKind::Subscription,
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for Measured {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let started = Instant::now();
        let response = next.run(ctx).await;
        let (name, kind) = {
            let seen = self.seen();
            let chosen = match seen.name.as_deref() {
                Some(name) => seen.kinds.iter().find(|(n, _)| n.as_deref() == Some(name)),
                None if seen.kinds.len() == 1 => seen.kinds.first(),
                None => None,
            };
            let name = seen
                .name
                .clone()
                .or_else(|| chosen.and_then(|(n, _)| n.clone()));
            (name, chosen.map_or(OperationKind::Unknown, |(_, k)| *k))
        };
        self.metrics.observe(
            name.as_deref(),
            kind,
            started.elapsed().as_secs_f64(),
            &response,
        );
        response
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: async_graphql::Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<async_graphql::Request> {
        self.seen().name = request.operation_name.clone();
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        use async_graphql::parser::types::DocumentOperations;
        let document = next.run(ctx, query, variables).await?;
        let kinds = match &document.operations {
            DocumentOperations::Single(op) => vec![(None, kind(op.node.ty))],
            DocumentOperations::Multiple(ops) => ops
                .iter()
                .map(|(name, op)| (Some(name.to_string()), kind(op.node.ty)))
                .collect(),
        };
        self.seen().kinds = kinds;
        Ok(document)
    }
}
