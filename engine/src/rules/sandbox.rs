//! The sandbox every rule runs in. rhai's limits are unlimited by default and its depth
//! defaults differ between debug and release builds, so every bound is set here, explicitly.

use std::cell::Cell;
use std::time::{Duration, Instant};

use rhai::{AST, CallFnOptions, Dynamic, Engine, EvalAltResult, FuncArgs, Position, Scope};

use super::{RuleError, SandboxLimit};

/// The bounds of one call into a rule set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SandboxLimits {
    /// rhai operations per call (an endless loop stops here).
    pub max_operations: u64,
    /// Nested function calls (deep recursion stops here).
    pub max_call_depth: usize,
    /// Nesting of expressions at the top level and inside functions.
    pub max_expr_depth: usize,
    pub max_function_expr_depth: usize,
    /// Bytes of one string.
    pub max_string_bytes: usize,
    /// Elements of one array; entries of one map.
    pub max_array_len: usize,
    pub max_map_len: usize,
    pub max_variables: usize,
    /// Wall-clock budget per call, checked every few hundred operations: a backstop for what
    /// the operation count does not see.
    pub wall_clock: Duration,
}

impl Default for SandboxLimits {
    fn default() -> Self {
        SandboxLimits {
            max_operations: 200_000,
            max_call_depth: 32,
            max_expr_depth: 64,
            max_function_expr_depth: 32,
            max_string_bytes: 16 * 1024,
            max_array_len: 1_000,
            max_map_len: 1_000,
            max_variables: 256,
            wall_clock: Duration::from_millis(100),
        }
    }
}

thread_local! {
    /// The deadline of the rule call running on this thread. rhai's progress callback is
    /// shared by the engine, so the per-call budget has to live beside it.
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    /// What a batched call collects, one answer per item (see `rules::BATCH_SCRIPT`): growing
    /// a script array instead costs a data-size check of the whole array per item. `None`
    /// outside a batched call, where collecting does nothing.
    static COLLECTED: std::cell::RefCell<Option<Collector>> = const { std::cell::RefCell::new(None) };
}

/// The answers of one batched call, held to one more than expected: a script that calls the
/// collector itself can make the count wrong (and the batch is then asked item by item), but
/// cannot make it grow without bound.
struct Collector {
    expected: usize,
    answers: Vec<Dynamic>,
}

/// The native function batched calls hand each answer to.
pub(crate) const COLLECT_FN: &str = "__tillval_collect";

/// Calls a batch function of `expected` items under the limits and returns what it collected.
/// A script that calls the collector itself only adds answers, which the caller's count check
/// refuses.
pub(crate) fn call_collecting(
    engine: &Engine,
    ast: &AST,
    wall_clock: Duration,
    function: &'static str,
    expected: usize,
    args: impl FuncArgs,
) -> Result<Vec<Dynamic>, RuleError> {
    COLLECTED.with(|c| {
        *c.borrow_mut() = Some(Collector {
            expected,
            answers: Vec::with_capacity(expected),
        })
    });
    let result = call(engine, ast, wall_clock, function, args);
    let collected = COLLECTED.with(|c| c.borrow_mut().take());
    result.map(|_| collected.map(|c| c.answers).unwrap_or_default())
}

fn collect(answer: Dynamic) {
    COLLECTED.with(|c| {
        if let Some(collector) = c.borrow_mut().as_mut()
            && collector.answers.len() <= collector.expected
        {
            collector.answers.push(answer);
        }
    });
}

/// How often (in operations) the progress callback looks at the clock.
const CLOCK_CHECK_EVERY: u64 = 512;
const WALL_CLOCK_TOKEN: &str = "tillval:wall-clock";

/// A rhai engine with every bound set, no `eval`, no `import`, floats compiled out (money is
/// integer öre), `print`/`debug` into the log, and `params::…` from the rule set's manifest.
pub(crate) fn sandboxed_engine(limits: &SandboxLimits, params: rhai::Module) -> Engine {
    let mut engine = Engine::new();
    engine
        .set_max_operations(limits.max_operations)
        .set_max_call_levels(limits.max_call_depth)
        .set_max_expr_depths(limits.max_expr_depth, limits.max_function_expr_depth)
        .set_max_string_size(limits.max_string_bytes)
        .set_max_array_size(limits.max_array_len)
        .set_max_map_size(limits.max_map_len)
        .set_max_variables(limits.max_variables)
        .set_max_functions(512)
        .set_strict_variables(true)
        .set_fail_on_invalid_map_property(true);
    engine.disable_symbol("eval");
    engine.disable_symbol("import");
    engine.set_module_resolver(rhai::module_resolvers::DummyModuleResolver::new());
    engine.on_print(|text| tracing::debug!(target: "tillval::rules", "{text}"));
    engine.on_debug(|text, source, position| {
        tracing::debug!(target: "tillval::rules", source = source.unwrap_or(""), %position, "{text}");
    });
    engine.register_static_module("params", params.into());
    super::values::register_tenant_type(&mut engine);
    engine.register_fn(COLLECT_FN, collect);
    engine.on_progress(|operations| {
        if operations % CLOCK_CHECK_EVERY != 0 {
            return None;
        }
        let late = DEADLINE.with(|d| d.get().is_some_and(|deadline| Instant::now() > deadline));
        late.then(|| Dynamic::from(WALL_CLOCK_TOKEN))
    });
    engine
}

/// Calls one function of the rule set under the limits and the wall-clock budget.
pub(crate) fn call(
    engine: &Engine,
    ast: &AST,
    wall_clock: Duration,
    function: &'static str,
    args: impl FuncArgs,
) -> Result<Dynamic, RuleError> {
    let deadline = Instant::now() + wall_clock;
    let previous = DEADLINE.with(|d| d.replace(Some(deadline)));
    let options = CallFnOptions::new().eval_ast(false).rewind_scope(false);
    let result =
        engine.call_fn_with_options::<Dynamic>(options, &mut Scope::new(), ast, function, args);
    DEADLINE.with(|d| d.set(previous));
    result.map_err(|error| rule_error(function, &error))
}

/// The root cause of a rhai error, as a [`RuleError`]: rhai wraps errors raised inside nested
/// calls, and a limit broken three calls deep is still a limit.
pub(crate) fn rule_error(function: &'static str, error: &EvalAltResult) -> RuleError {
    let mut root = error;
    while let EvalAltResult::ErrorInFunctionCall(_, _, inner, _)
    | EvalAltResult::ErrorInModule(_, inner, _) = root
    {
        root = inner;
    }
    let limit = match root {
        EvalAltResult::ErrorTooManyOperations(_) => Some(SandboxLimit::Operations),
        EvalAltResult::ErrorStackOverflow(_) => Some(SandboxLimit::CallDepth),
        EvalAltResult::ErrorDataTooLarge(..) => Some(SandboxLimit::DataSize),
        EvalAltResult::ErrorTooManyVariables(_) => Some(SandboxLimit::Variables),
        EvalAltResult::ErrorTerminated(token, _)
            if token
                .clone()
                .into_string()
                .is_ok_and(|t| t == WALL_CLOCK_TOKEN) =>
        {
            Some(SandboxLimit::WallClock)
        }
        _ => None,
    };
    let position = first_position(error);
    if let Some(limit) = limit {
        return RuleError::LimitExceeded {
            function,
            limit,
            line: position.line(),
        };
    }
    RuleError::Script {
        function,
        message: root.to_string(),
        line: position.line(),
        column: position.position(),
    }
}

/// The position nearest the script's own text: the innermost one that is known.
fn first_position(error: &EvalAltResult) -> Position {
    let mut position = error.position();
    let mut current = error;
    while let EvalAltResult::ErrorInFunctionCall(_, _, inner, _)
    | EvalAltResult::ErrorInModule(_, inner, _) = current
    {
        if !inner.position().is_none() {
            position = inner.position();
        }
        current = inner;
    }
    position
}
