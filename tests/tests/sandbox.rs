//! The sandbox: a rule that loops, recurses, or grows a string or an array without end ends
//! with a limit error for that decision, and the engine keeps answering. Rule sets that could
//! escape (eval, import) or break the contract do not compile.

use std::time::{Duration, Instant};

use tillval_engine::availability::OptionStatus;
use tillval_engine::rules::{
    RuleError, RuleSet, RuleSetError, RuleSetSource, SandboxLimit, SandboxLimits, ScriptSource,
};
use tillval_tests::*;

/// Far more than any of these tests needs; the bound that proves "never hangs".
const BOUND: Duration = Duration::from_secs(5);

fn set_with(script: &str) -> Result<RuleSet, RuleSetError> {
    set_with_limits(script, SandboxLimits::default())
}

fn set_with_limits(script: &str, limits: SandboxLimits) -> Result<RuleSet, RuleSetError> {
    let source = RuleSetSource {
        manifest: "name = \"test\"\nversion = \"0.0.1\"\n".into(),
        scripts: vec![ScriptSource {
            name: "test.rhai".into(),
            code: script.into(),
        }],
        messages_sv: None,
        messages_en: None,
        tests: Vec::new(),
    };
    RuleSet::compile(&source, limits)
}

/// Runs the view with a misbehaving `key_blocks` and returns the error every option got.
fn limit_hit_by(script: &str, limits: SandboxLimits) -> RuleError {
    let rules = set_with_limits(script, limits).expect("compiles");
    let started = Instant::now();
    let view = view(&rules, &free_tenant(), &cart(&[]));
    assert!(started.elapsed() < BOUND, "took {:?}", started.elapsed());
    let option = view.options().next().expect("options");
    assert_eq!(
        option.availability.status,
        OptionStatus::RuleError,
        "an error, not a denial"
    );
    assert!(option.availability.reasons.is_empty());
    option
        .availability
        .error
        .clone()
        .expect("the error is reported")
}

fn assert_all_available(view: &tillval_engine::availability::CatalogueView) {
    let statuses: Vec<_> = view
        .options()
        .map(|o| (o.option.id().to_string(), o.availability.status))
        .collect();
    assert!(
        statuses.iter().all(|(_, s)| *s == OptionStatus::Available),
        "{statuses:?}"
    );
}

fn assert_limit(error: RuleError, expected: SandboxLimit) {
    assert!(
        matches!(error, RuleError::LimitExceeded { function: "key_blocks", limit, .. } if limit == expected),
        "expected {expected:?}, got {error:?}"
    );
}

#[test]
fn an_endless_loop_stops_at_the_operation_limit() {
    let error = limit_hit_by(
        "fn key_blocks(tenant, key) { loop { } }",
        SandboxLimits::default(),
    );
    assert_limit(error, SandboxLimit::Operations);
}

#[test]
fn an_endless_loop_stops_at_the_wall_clock_when_operations_are_unbounded() {
    let limits = SandboxLimits {
        max_operations: 0,
        wall_clock: Duration::from_millis(20),
        ..SandboxLimits::default()
    };
    let error = limit_hit_by(
        "fn key_blocks(tenant, key) { let x = 0; loop { x += 1; } }",
        limits,
    );
    assert_limit(error, SandboxLimit::WallClock);
}

#[test]
fn deep_recursion_stops_at_the_call_depth() {
    let script = "private fn down(n) { down(n + 1) }\nfn key_blocks(tenant, key) { down(0) }";
    assert_limit(
        limit_hit_by(script, SandboxLimits::default()),
        SandboxLimit::CallDepth,
    );
}

#[test]
fn a_huge_string_stops_at_the_size_limit() {
    let script = "fn key_blocks(tenant, key) { let s = \"x\"; loop { s += s; } }";
    assert_limit(
        limit_hit_by(script, SandboxLimits::default()),
        SandboxLimit::DataSize,
    );
}

#[test]
fn a_huge_array_stops_at_the_size_limit() {
    let script = "fn key_blocks(tenant, key) { let a = []; loop { a.push(1); } }";
    assert_limit(
        limit_hit_by(script, SandboxLimits::default()),
        SandboxLimit::DataSize,
    );
}

#[test]
fn a_huge_map_stops_at_the_size_limit() {
    let script = "fn key_blocks(tenant, key) { let m = #{}; let i = 0; \
                  loop { let n = #{}; n[`k${i}`] = i; m.mixin(n); i += 1; } }";
    assert_limit(
        limit_hit_by(script, SandboxLimits::default()),
        SandboxLimit::DataSize,
    );
}

#[test]
fn a_map_grown_by_index_is_stopped_by_the_operation_limit() {
    // rhai checks sizes when a value is built or returned, not on each `m[k] = v`; the
    // operation count bounds this one.
    let script =
        "fn key_blocks(tenant, key) { let m = #{}; let i = 0; loop { m[`k${i}`] = i; i += 1; } }";
    let error = limit_hit_by(script, SandboxLimits::default());
    assert!(matches!(
        error,
        RuleError::LimitExceeded {
            limit: SandboxLimit::Operations | SandboxLimit::WallClock,
            ..
        }
    ));
}

#[test]
fn the_engine_keeps_answering_after_a_limit_error() {
    let looping = set_with("fn key_blocks(tenant, key) { loop { } }").unwrap();
    for _ in 0..3 {
        let view = view(&looping, &free_tenant(), &cart(&[]));
        assert!(
            view.options()
                .all(|o| o.availability.status == OptionStatus::RuleError)
        );
    }
    // The same thread, a healthy rule set: answers as usual (the deadline was reset).
    let shipped = RuleSet::shipped().unwrap();
    let view = view(&shipped, &free_tenant(), &cart(&[]));
    assert_all_available(&view);
}

#[test]
fn a_failing_gate_is_an_error_for_every_option_not_a_refusal() {
    let rules = set_with("fn order_blocks(tenant) { tenant.no_such_fact }").unwrap();
    let view = view(&rules, &free_tenant(), &cart(&[]));
    assert!(view.gate.reasons.is_empty());
    assert!(
        matches!(
            view.gate.error,
            Some(RuleError::Script {
                function: "order_blocks",
                ..
            })
        ),
        "{:?}",
        view.gate.error
    );
    assert!(
        view.options()
            .all(|o| o.availability.status == OptionStatus::RuleError)
    );
}

#[test]
fn a_script_error_names_its_line() {
    let rules =
        set_with("fn key_blocks(tenant, key) {\n  let x = 1;\n  throw `broken ${x}`\n}").unwrap();
    let view = view(&rules, &free_tenant(), &cart(&[]));
    let error = view
        .options()
        .next()
        .unwrap()
        .availability
        .error
        .clone()
        .unwrap();
    assert!(
        matches!(
            error,
            RuleError::Script {
                function: "key_blocks",
                line: Some(3),
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn a_malformed_answer_is_an_error() {
    for (script, needle) in [
        ("fn key_blocks(tenant, key) { 42 }", "expected an array"),
        (
            "fn key_blocks(tenant, key) { [#{ nocode: 1 }] }",
            "without a code",
        ),
        (
            "fn key_blocks(tenant, key) { [#{ code: \"lower\" }] }",
            "SCREAMING_SNAKE_CASE",
        ),
        (
            "fn key_blocks(tenant, key) { [#{ code: \"X\", p: [1] }] }",
            "parameter p",
        ),
        ("fn lock_keys(option) { [] }", "at least one"),
    ] {
        let rules = set_with(script).unwrap();
        let view = view(&rules, &free_tenant(), &cart(&[]));
        let error = view
            .options()
            .next()
            .unwrap()
            .availability
            .error
            .clone()
            .unwrap();
        match error {
            RuleError::BadReturn { detail, .. } => {
                assert!(detail.contains(needle), "{script}: {detail}")
            }
            other => panic!("{script}: {other:?}"),
        }
    }
}

#[test]
fn eval_import_and_floats_do_not_compile() {
    for script in [
        "fn key_blocks(tenant, key) { eval(\"1\") }",
        "import \"secrets\" as s;\nfn key_blocks(tenant, key) { [] }",
        "fn key_blocks(tenant, key) { let x = 1.5; [] }",
    ] {
        assert!(
            matches!(set_with(script), Err(RuleSetError::Syntax { .. })),
            "{script}"
        );
    }
}

#[test]
fn the_contract_is_checked_at_load_with_positions() {
    let wrong_arity = set_with("// header\nfn key_blocks(key) { [] }").unwrap_err();
    assert!(
        matches!(
            &wrong_arity,
            RuleSetError::WrongArity {
                line: 2,
                expected: 2,
                found: 1,
                ..
            }
        ),
        "{wrong_arity:?}"
    );
    let unknown = set_with("fn order_block(tenant) { [] }").unwrap_err();
    assert!(
        matches!(&unknown, RuleSetError::UnknownFunction { name, line: 1, .. } if name == "order_block")
    );
    assert!(unknown.to_string().contains("test.rhai:1:"), "{unknown}");
    let syntax = set_with("fn key_blocks(tenant, key) {\n  [ \n").unwrap_err();
    assert!(
        matches!(syntax, RuleSetError::Syntax { ref file, line: 3, .. } if file == "test.rhai"),
        "{syntax:?}"
    );
    // A helper marked private is fine.
    assert!(set_with("private fn helper() { 1 }\nfn key_blocks(tenant, key) { [] }").is_ok());
}

#[test]
fn undeclared_variables_are_caught_at_load() {
    let error =
        set_with("fn key_blocks(tenant, key) { if debt > 0 { [] } else { [] } }").unwrap_err();
    assert!(matches!(error, RuleSetError::Syntax { .. }), "{error:?}");
}

/// The engine decides a catalogue's keys (and options) in batched calls; a rule that fails for
/// one key must still fail for that key alone, exactly as when each key had its own call.
#[test]
fn a_rule_failing_for_one_key_fails_only_that_keys_options() {
    let rules = set_with(
        "fn key_blocks(tenant, key) {\n  if key == \"golv/hall\" { throw \"broken\" }\n  if key == \"diskmaskin/kitchen\" { return [#{ code: \"DEBT\" }]; }\n  []\n}",
    )
    .unwrap();
    let view = view(&rules, &free_tenant(), &cart(&[]));
    let status = |id: &str| decision(&view, id).0;
    assert_eq!(status("golv-ek-hall"), OptionStatus::RuleError);
    assert_eq!(status("golv-ek-kok"), OptionStatus::Available);
    assert_eq!(status("dm-bosch"), OptionStatus::Blocked);
    assert_eq!(decision(&view, "dm-siemens").1, vec!["DEBT".to_string()]);
    assert_eq!(status("spotlight"), OptionStatus::Available);
}

#[test]
fn an_option_rule_failing_for_one_option_fails_only_that_option() {
    let rules = set_with(
        "fn option_blocks(tenant, option) {\n  if option.id == \"dm-siemens\" { loop { } }\n  if option.id == \"spotlight\" { return [#{ code: \"DEBT\" }]; }\n  []\n}",
    )
    .unwrap();
    let view = view(&rules, &free_tenant(), &cart(&[]));
    let status = |id: &str| decision(&view, id).0;
    assert_eq!(status("dm-siemens"), OptionStatus::RuleError);
    assert_eq!(status("dm-bosch"), OptionStatus::Available);
    assert_eq!(status("spotlight"), OptionStatus::Blocked);
    assert_eq!(status("golv-ek-hall"), OptionStatus::Available);
}

/// A rule that writes to the option or tenant it was given changes its own copy: the next
/// decision (of this view or the next) sees the catalogue and the facts as they are.
#[test]
fn a_rule_cannot_change_what_later_decisions_see() {
    let rules = set_with(
        "fn option_blocks(tenant, option) {\n  if option.name == \"hacked\" || option.monthly_price.amount == 0 { return [#{ code: \"DEBT\" }]; }\n  option.name = \"hacked\";\n  option.monthly_price.amount = 0;\n  let p = option.monthly_price;\n  p.amount = 0;\n  []\n}",
    )
    .unwrap();
    // One prepared catalogue, as the cache holds it across requests.
    let prepared = tillval_engine::catalogue::PreparedCatalogue::prepare(
        std::sync::Arc::new(seed_catalogue()),
        &rules,
    );
    for _ in 0..2 {
        let view = tillval_engine::availability::catalogue_view(
            &rules,
            &prepared,
            &free_tenant(),
            &cart(&[]),
        );
        assert_all_available(&view);
    }
}

/// The tenant's money values are made once per decision and shared; writing to one is writing
/// to the script's own copy.
#[test]
fn a_rule_cannot_change_the_tenants_money_for_later_decisions() {
    let rules = set_with(
        "fn option_blocks(tenant, option) {\n  if tenant.debt.amount != 0 || tenant.active_monthly_total.amount != 0 { return [#{ code: \"DEBT\" }]; }\n  let d = tenant.debt;\n  d.amount = 5;\n  tenant.active_monthly_total.amount = 7;\n  []\n}",
    )
    .unwrap();
    let view = view(&rules, &free_tenant(), &cart(&[]));
    assert_all_available(&view);
}

#[test]
fn a_rule_cannot_change_the_apartment_for_later_decisions() {
    let rules = set_with(
        "fn option_blocks(tenant, option) {\n  if tenant.rental_object.rooms == 99 { return [#{ code: \"DEBT\" }]; }\n  let o = tenant.rental_object;\n  o.rooms = 99;\n  tenant.rental_object.rooms = 99;\n  []\n}",
    )
    .unwrap();
    let view = view(&rules, &free_tenant(), &cart(&[]));
    assert_all_available(&view);
}

/// A script may call the engine's collector itself: the batch's count is then wrong and the
/// keys are asked one by one, with the answers they would have had.
#[test]
fn a_script_calling_the_collector_itself_changes_no_answer() {
    let rules = set_with(
        "fn key_blocks(tenant, key) {\n  for i in 0..1000 { __tillval_collect([#{ code: \"DEBT\" }]); }\n  if key == \"golv/hall\" { return [#{ code: \"DEBT\" }]; }\n  []\n}",
    )
    .unwrap();
    let view = view(&rules, &free_tenant(), &cart(&[]));
    let status = |id: &str| decision(&view, id).0;
    assert_eq!(status("golv-ek-hall"), OptionStatus::Blocked);
    assert_eq!(status("golv-ek-kok"), OptionStatus::Available);
    assert_eq!(status("dm-bosch"), OptionStatus::Available);
    assert_eq!(status("spotlight"), OptionStatus::Available);
}

fn set_with_messages(script: &str, en: &str, sv: &str) -> Result<RuleSet, RuleSetError> {
    let source = RuleSetSource {
        manifest: "name = \"test\"\nversion = \"0.0.1\"\n".into(),
        scripts: vec![ScriptSource {
            name: "option_blocks.rhai".into(),
            code: script.into(),
        }],
        messages_sv: Some(sv.into()),
        messages_en: Some(en.into()),
        tests: Vec::new(),
    };
    RuleSet::compile(&source, SandboxLimits::default())
}

/// Rules only compute: `sleep` (which no operation bound sees), the clock, `exit` and JSON
/// parsing are no functions a script can call, and a call to any of them, or to a function
/// that does not exist, is refused when the set compiles, at its line.
#[test]
fn a_set_that_sleeps_or_calls_what_does_not_exist_is_refused_at_its_line() {
    for (call, name) in [
        ("sleep(5)", "sleep"),
        ("sleep(0)", "sleep"),
        ("timestamp()", "timestamp"),
        ("exit()", "exit"),
        ("parse_json(\"{}\")", "parse_json"),
        ("tenant.has_dbt()", "has_dbt"),
    ] {
        let script = format!(
            "fn option_blocks(tenant, option) {{\n  if option.id == \"dm-bosch\" {{\n    {call};\n  }}\n  []\n}}"
        );
        let Err(error) = set_with(&script) else {
            panic!("{call} compiled");
        };
        assert!(
            matches!(&error, RuleSetError::UnknownCall { name: n, line: 3, .. } if n == name),
            "{call}: {error:?}"
        );
    }
    // What a rule needs to compute still compiles.
    set_with(
        "private fn half(n) { n / 2 }\nfn option_blocks(tenant, option) {\n  let ids = [\"a\", \"b\"];\n  if ids.contains(option.id) || half(4) == 2 && option.id.len() > 100 { return [#{ code: \"DEBT\" }]; }\n  let m = #{ a: 1 }; if m.keys().len() > 5 { throw \"no\" }\n  []\n}",
    )
    .unwrap();
}

#[test]
fn amplifying_and_malformed_messages_are_refused_with_file_and_line() {
    let script = "fn option_blocks(tenant, option) { [#{ code: \"BIG\", p: \"x\" }] }";
    let thousand = "{p}".repeat(1_000);
    let nine = "{p}".repeat(9);
    for (template, needle) in [
        (thousand.as_str(), "bytes; at most"),
        (nine.as_str(), "placeholders; at most 8"),
        ("Hello {nope}", "`{nope}` names no parameter"),
        ("Unclosed {p", "never closed"),
        ("Stray } brace", "without its `{`"),
        ("Empty {} braces", "is not a placeholder"),
    ] {
        let en = format!("# header\nBIG = {template:?}\n");
        let error = set_with_messages(script, &en, "BIG = \"Stor {p}\"").unwrap_err();
        let text = error.to_string();
        assert!(
            text.starts_with("messages/en.toml:2:1:") && text.contains(needle),
            "{template}: {text}"
        );
    }
    set_with_messages(
        script,
        "BIG = \"Big {p} {option_name}\"",
        "BIG = \"Stor {p}\"",
    )
    .unwrap();
}

#[test]
fn a_long_parameter_is_cut_and_a_message_stays_small() {
    let script = "fn option_blocks(tenant, option) { let s = \"x\"; while s.len() < 4000 { s += s; } [#{ code: \"BIG\", p: s }] }";
    let rules = set_with_messages(
        script,
        "BIG = \"{p}{p}{p}{p}{p}{p}{p}{p}\"",
        "BIG = \"{p}{p}{p}{p}{p}{p}{p}{p}\"",
    )
    .unwrap();
    let view = view(&rules, &free_tenant(), &cart(&[]));
    let option = view.options().next().unwrap();
    let Some(reason) = option.availability.reasons.first() else {
        panic!("{:?}", option.availability);
    };
    let Some(tillval_engine::rules::ReasonParam::Text(p)) = reason.params.get("p") else {
        panic!("{reason:?}");
    };
    assert_eq!(
        p.chars().count(),
        201,
        "cut to 200 characters and an ellipsis"
    );
    let rendered = rules.render(reason, tillval_engine::model::Language::En);
    assert!(rendered.len() <= 8 * 203, "{}", rendered.len());
}

#[test]
fn too_many_reasons_in_one_answer_is_an_error_not_a_flood() {
    let rules = set_with(
        "fn option_blocks(tenant, option) { let r = []; for i in 0..17 { r.push(#{ code: \"DEBT\" }); } r }",
    )
    .unwrap();
    let view = view(&rules, &free_tenant(), &cart(&[]));
    let option = view.options().next().unwrap();
    assert_eq!(option.availability.status, OptionStatus::RuleError);
}

/// Bounds are operations, so the same inputs give the same answers whatever the load: a view
/// that runs out of its operations does so at the same decision every time.
#[test]
fn a_view_over_its_operation_budget_fails_the_same_decisions_every_time() {
    let limits = SandboxLimits {
        max_view_operations: 20_000,
        ..SandboxLimits::default()
    };
    let rules = set_with_limits(
        // Reads the key itself, so each key is decided alone (not once for all, see `KeyUse`).
        "fn key_blocks(tenant, key) { let n = key.len(); for i in 0..2000 { n += i; } [] }",
        limits,
    )
    .unwrap();
    let first = view(&rules, &free_tenant(), &cart(&[]));
    let statuses = |v: &tillval_engine::availability::CatalogueView| {
        v.options()
            .map(|o| (o.option.id().to_string(), o.availability.clone()))
            .collect::<Vec<_>>()
    };
    let over: Vec<_> = first
        .options()
        .filter(|o| {
            matches!(
                o.availability.error,
                Some(RuleError::LimitExceeded {
                    limit: SandboxLimit::ViewOperations,
                    ..
                })
            )
        })
        .collect();
    assert!(!over.is_empty(), "the budget ran out");
    assert!(first.operations <= 20_000 + 200_000);
    assert!(first.fault.is_none(), "a budget is an answer, not a fault");
    for _ in 0..5 {
        assert_eq!(
            statuses(&view(&rules, &free_tenant(), &cart(&[]))),
            statuses(&first)
        );
    }
}

#[test]
fn the_wall_clock_is_a_fault_of_the_view_not_an_answer() {
    let limits = SandboxLimits {
        max_operations: 0,
        max_view_operations: u64::MAX,
        wall_clock: Duration::from_millis(20),
        ..SandboxLimits::default()
    };
    let rules = set_with_limits(
        "fn key_blocks(tenant, key) { let x = 0; loop { x += 1; } }",
        limits,
    )
    .unwrap();
    let view = view(&rules, &free_tenant(), &cart(&[]));
    assert!(matches!(
        view.fault,
        Some(RuleError::LimitExceeded {
            limit: SandboxLimit::WallClock,
            ..
        })
    ));
}

#[test]
fn a_rule_set_with_control_characters_is_refused() {
    let error = set_with("fn key_blocks(tenant, key) { [] }\u{0}").unwrap_err();
    assert!(
        matches!(&error, RuleSetError::Manifest { file, .. } if file == "test.rhai"),
        "{error:?}"
    );
}
