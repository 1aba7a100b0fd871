//! What a landlord would otherwise pick, on the same decisions: the catalogue view for one
//! apartment (100 and 1,000 options, the fixtures of `catalogue_view`) made by tillval, by the plain-Rust
//! reference, and option by option by rhai with a precompiled script, by Cedar
//! (`cedar-policy` 4) and by zen-engine (2, a decision table). Each peer's answers (the reason
//! codes of every option) are checked equal to tillval's before anything is timed.
//!
//! Every peer gets its inputs prepared once, outside the timing (the tenant's entity, context
//! or map; one entity or map per option): what is timed is the decisions and their reasons.
//!
//! cargo bench -p tillval-benches --bench peers

use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;
use std::str::FromStr;
use std::sync::Arc;

use cedar_policy::{Authorizer, Context, Decision, Entities, EntityUid, PolicySet, Request};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;
use tillval_benches::{cart, catalogue, facts, rules_dir};
use tillval_engine::availability::{CatalogueView, catalogue_view};
use tillval_engine::catalogue::PreparedCatalogue;
use tillval_engine::model::{Cart, TenantFacts};
use tillval_engine::rules::RuleSet;
use tillval_tests::reference;

/// A real apartment's catalogue (100 options) and the headline size.
const OPTIONS: [usize; 2] = [100, 1_000];

/// Each option's id and its reason codes, sorted: the answer every engine must give.
type Answers = BTreeMap<String, BTreeSet<String>>;

fn answers_of(view: &CatalogueView) -> Answers {
    view.options()
        .map(|o| {
            (
                o.option.id().to_string(),
                o.availability
                    .reasons
                    .iter()
                    .map(|r| r.code.to_string())
                    .collect(),
            )
        })
        .collect()
}

/// What every peer decides on: one option's id and lock key.
struct Item {
    id: String,
    key: String,
}

fn items(view: &CatalogueView) -> Vec<Item> {
    view.options()
        .map(|o| Item {
            id: o.option.id().to_string(),
            key: o.keys.first().map(|k| k.to_string()).unwrap_or_default(),
        })
        .collect()
}

/// The tenant's facts as the peers take them: debt, and the keys of ongoing orders, unpaid
/// fees and cart lines (with the options holding them).
fn tenant_json(facts: &TenantFacts, cart: &Cart, view: &CatalogueView) -> serde_json::Value {
    let cart_options: Vec<String> = cart.lines().iter().map(|l| l.option.to_string()).collect();
    let cart_keys: Vec<String> = view
        .options()
        .filter(|o| cart_options.contains(&o.option.id().to_string()))
        .flat_map(|o| o.keys.iter().map(|k| k.to_string()))
        .collect();
    json!({
        "debt": facts.debt.minor(),
        "ongoingKeys": facts.ongoing_orders.keys().map(|k| k.to_string()).collect::<Vec<_>>(),
        "unpaidKeys": facts.unpaid_fees.keys().map(|k| k.to_string()).collect::<Vec<_>>(),
        "cartKeys": cart_keys,
        "cartOptions": cart_options,
    })
}

// rhai, option by option: the script a user would write against rhai directly.
const RHAI_SCRIPT: &str = r#"
fn decide(tenant, option) {
    let reasons = [];
    if tenant.debt > 0 { reasons.push("DEBT"); }
    if option.key in tenant.ongoing { reasons.push("ONGOING_ORDER"); }
    if option.key in tenant.unpaid { reasons.push("UNPAID_FEE"); }
    if option.key in tenant.cart_keys && !(option.id in tenant.cart_options) { reasons.push("LOCKED_BY_CART"); }
    reasons
}
"#;

struct RhaiPeer {
    engine: rhai::Engine,
    ast: rhai::AST,
    tenant: rhai::Dynamic,
    options: Vec<(String, rhai::Dynamic)>,
}

impl RhaiPeer {
    fn new(tenant: &serde_json::Value, items: &[Item]) -> RhaiPeer {
        let engine = rhai::Engine::new();
        let ast = engine.compile(RHAI_SCRIPT).expect("rhai peer script");
        let set = |field: &str| -> rhai::Map {
            tenant[field]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|k| k.as_str())
                .map(|k| (k.into(), rhai::Dynamic::TRUE))
                .collect()
        };
        let mut map = rhai::Map::new();
        map.insert("debt".into(), tenant["debt"].as_i64().unwrap_or(0).into());
        map.insert("ongoing".into(), set("ongoingKeys").into());
        map.insert("unpaid".into(), set("unpaidKeys").into());
        map.insert("cart_keys".into(), set("cartKeys").into());
        map.insert("cart_options".into(), set("cartOptions").into());
        let options = items
            .iter()
            .map(|item| {
                let mut option = rhai::Map::new();
                option.insert("id".into(), item.id.clone().into());
                option.insert("key".into(), item.key.clone().into());
                (item.id.clone(), option.into())
            })
            .collect();
        RhaiPeer {
            engine,
            ast,
            tenant: map.into(),
            options,
        }
    }

    fn decide_all(&self) -> Answers {
        let mut scope = rhai::Scope::new();
        self.options
            .iter()
            .map(|(id, option)| {
                let reasons: rhai::Array = self
                    .engine
                    .call_fn(
                        &mut scope,
                        &self.ast,
                        "decide",
                        (self.tenant.clone(), option.clone()),
                    )
                    .expect("rhai peer decides");
                (
                    id.clone(),
                    reasons.into_iter().map(|r| r.to_string()).collect(),
                )
            })
            .collect()
    }
}

// Cedar: one permit, one forbid per reason; the reason is the forbidding policy's annotation.
const CEDAR_POLICIES: &str = r#"
permit(principal, action == Action::"order", resource);

@reason("DEBT")
forbid(principal, action == Action::"order", resource) when { principal.debt > 0 };

@reason("ONGOING_ORDER")
forbid(principal, action == Action::"order", resource) when { principal.ongoingKeys.contains(resource.key) };

@reason("UNPAID_FEE")
forbid(principal, action == Action::"order", resource) when { principal.unpaidKeys.contains(resource.key) };

@reason("LOCKED_BY_CART")
forbid(principal, action == Action::"order", resource)
when { principal.cartKeys.contains(resource.key) && !principal.cartOptions.contains(resource.optionId) };
"#;

struct CedarPeer {
    authorizer: Authorizer,
    policies: PolicySet,
    entities: Entities,
    principal: EntityUid,
    action: EntityUid,
    options: Vec<(String, EntityUid)>,
    reasons: BTreeMap<String, String>,
}

impl CedarPeer {
    fn new(tenant: &serde_json::Value, items: &[Item]) -> CedarPeer {
        let policies = PolicySet::from_str(CEDAR_POLICIES).expect("cedar policies");
        let reasons = policies
            .policies()
            .filter_map(|p| Some((p.id().to_string(), p.annotation("reason")?.to_owned())))
            .collect();
        let mut entities = vec![json!({
            "uid": { "type": "Tenant", "id": "tenant-bench" },
            "attrs": tenant,
            "parents": [],
        })];
        entities.extend(items.iter().map(|item| {
            json!({
                "uid": { "type": "Option", "id": item.id },
                "attrs": { "key": item.key, "optionId": item.id },
                "parents": [],
            })
        }));
        let entities =
            Entities::from_json_value(serde_json::Value::Array(entities), None).expect("entities");
        let uid = |kind: &str, id: &str| {
            EntityUid::from_str(&format!("{kind}::{}", serde_json::Value::from(id)))
                .expect("entity uid")
        };
        CedarPeer {
            authorizer: Authorizer::new(),
            policies,
            entities,
            principal: uid("Tenant", "tenant-bench"),
            action: uid("Action", "order"),
            options: items
                .iter()
                .map(|item| (item.id.clone(), uid("Option", &item.id)))
                .collect(),
            reasons,
        }
    }

    fn decide_all(&self) -> Answers {
        self.options
            .iter()
            .map(|(id, resource)| {
                let request = Request::new(
                    self.principal.clone(),
                    self.action.clone(),
                    resource.clone(),
                    Context::empty(),
                    None,
                )
                .expect("cedar request");
                let response =
                    self.authorizer
                        .is_authorized(&request, &self.policies, &self.entities);
                let codes = match response.decision() {
                    Decision::Allow => BTreeSet::new(),
                    Decision::Deny => response
                        .diagnostics()
                        .reason()
                        .filter_map(|p| self.reasons.get(&p.to_string()).cloned())
                        .collect(),
                };
                (id.clone(), codes)
            })
            .collect()
    }
}

// zen-engine: a decision table, hit policy "collect", one row per reason.
fn zen_graph() -> serde_json::Value {
    let row = |id: &str, condition: &str, code: &str| json!({ "_id": id, "when": condition, "reason": format!("\"{code}\"") });
    json!({
        "contentType": "application/vnd.gorules.decision",
        "nodes": [
            { "id": "in", "type": "inputNode", "name": "request", "position": { "x": 0, "y": 0 } },
            { "id": "table", "type": "decisionTableNode", "name": "reasons", "position": { "x": 300, "y": 0 },
              "content": {
                "hitPolicy": "collect",
                "inputs": [{ "id": "when", "name": "when", "field": "" }],
                "outputs": [{ "id": "reason", "name": "reason", "field": "reason" }],
                "rules": [
                    row("debt", "tenant.debt > 0", "DEBT"),
                    row("ongoing", "option.key in tenant.ongoingKeys", "ONGOING_ORDER"),
                    row("unpaid", "option.key in tenant.unpaidKeys", "UNPAID_FEE"),
                    row("cart", "option.key in tenant.cartKeys and not (option.id in tenant.cartOptions)", "LOCKED_BY_CART"),
                ]
              } },
            { "id": "out", "type": "outputNode", "name": "response", "position": { "x": 600, "y": 0 } }
        ],
        "edges": [
            { "id": "e1", "sourceId": "in", "targetId": "table" },
            { "id": "e2", "sourceId": "table", "targetId": "out" }
        ]
    })
}

struct ZenPeer {
    decision: zen_engine::Decision,
    runtime: tokio::runtime::Runtime,
    tenant: serde_json::Value,
    options: Vec<(String, serde_json::Value)>,
}

impl ZenPeer {
    fn new(tenant: &serde_json::Value, items: &[Item]) -> ZenPeer {
        let content: zen_engine::model::DecisionContent =
            serde_json::from_value(zen_graph()).expect("zen graph");
        let engine = zen_engine::DecisionEngine::default();
        let mut decision = engine
            .create_decision(Arc::new(content))
            .expect("zen decision");
        decision.compile();
        ZenPeer {
            decision,
            runtime: tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime"),
            tenant: tenant.clone(),
            options: items
                .iter()
                .map(|item| (item.id.clone(), json!({ "id": item.id, "key": item.key })))
                .collect(),
        }
    }

    fn decide_all(&self) -> Answers {
        // Variables are reference-counted and not Send: made once per view, shared per option.
        let tenant = zen_engine::Variable::from(self.tenant.clone());
        let options: Vec<zen_engine::Variable> = self
            .options
            .iter()
            .map(|(_, o)| zen_engine::Variable::from(o.clone()))
            .collect();
        self.options
            .iter()
            .zip(options)
            .map(|((id, _), option)| {
                let context = zen_engine::Variable::empty_object();
                context.dot_insert("tenant", tenant.clone());
                context.dot_insert("option", option);
                let response = self
                    .runtime
                    .block_on(self.decision.evaluate(context))
                    .expect("zen evaluates");
                let codes = response
                    .result
                    .to_value()
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|row| row["reason"].as_str().map(str::to_owned))
                    .collect();
                (id.clone(), codes)
            })
            .collect()
    }
}

fn bench(c: &mut Criterion) {
    for options in OPTIONS {
        bench_at(c, options);
    }
}

fn bench_at(c: &mut Criterion, options: usize) {
    let shipped = RuleSet::load(&rules_dir()).expect("shipped rules");
    let facts = facts();
    let catalogue = Arc::new(catalogue(options));
    let cart = cart(&catalogue);
    let prepared = PreparedCatalogue::prepare(Arc::clone(&catalogue), &shipped);
    let view = catalogue_view(&shipped, &prepared, &facts, &cart);
    let expected = answers_of(&view);
    let blocked = expected.values().filter(|codes| !codes.is_empty()).count();
    assert!(
        blocked > 0,
        "the fixture blocks some options, or the comparison proves nothing"
    );

    let items = items(&view);
    let tenant = tenant_json(&facts, &cart, &view);
    let rhai_peer = RhaiPeer::new(&tenant, &items);
    let cedar = CedarPeer::new(&tenant, &items);
    let zen = ZenPeer::new(&tenant, &items);
    // Same answers before any timing.
    assert_eq!(
        answers_of(&reference::catalogue_view(&catalogue, &facts, &cart)),
        expected,
        "reference"
    );
    assert_eq!(rhai_peer.decide_all(), expected, "rhai option by option");
    assert_eq!(cedar.decide_all(), expected, "cedar");
    assert_eq!(zen.decide_all(), expected, "zen-engine");
    println!(
        "peers: {} options, {blocked} refused, every engine gives the same reasons",
        expected.len()
    );

    let mut group = c.benchmark_group("peers");
    group.throughput(Throughput::Elements(expected.len() as u64));
    group.bench_function(BenchmarkId::new("tillval_view", options), |b| {
        b.iter(|| black_box(catalogue_view(&shipped, &prepared, &facts, &cart)))
    });
    group.bench_function(BenchmarkId::new("reference", options), |b| {
        b.iter(|| black_box(reference::catalogue_view(&catalogue, &facts, &cart)))
    });
    group.bench_function(BenchmarkId::new("rhai_option_by_option", options), |b| {
        b.iter(|| black_box(rhai_peer.decide_all()))
    });
    group.bench_function(BenchmarkId::new("cedar_option_by_option", options), |b| {
        b.iter(|| black_box(cedar.decide_all()))
    });
    group.bench_function(BenchmarkId::new("zen_option_by_option", options), |b| {
        b.iter(|| black_box(zen.decide_all()))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
