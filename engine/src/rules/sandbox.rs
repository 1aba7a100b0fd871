//! The sandbox every rule runs in. rhai's limits are unlimited by default and its depth
//! defaults differ between debug and release builds, so every bound is set here, explicitly.
//!
//! Rules can only compute: the engine is built raw and given the packages that compute
//! (arithmetic, logic, strings, arrays, maps, blobs, bit fields, math, iterators and function
//! pointers). rhai's language-core package is left out on purpose: it holds `sleep` (which
//! escapes every operation bound), `exit`, value tags and `parse_json`; with `no_time` there is
//! no clock either. docs/rules.md lists what a script can call.
//!
//! Bounds are counted in operations, per call and per view ([`Budget`]), so the same inputs
//! always give the same answer whatever the machine's load. The wall clock is only a last
//! guard: a view that outlives it is an engine fault, never a tenant's answer.

use std::cell::Cell;
use std::time::{Duration, Instant};

use rhai::packages::{
    ArithmeticPackage, BasicArrayPackage, BasicBlobPackage, BasicFnPackage, BasicIteratorPackage,
    BasicMapPackage, BasicMathPackage, BasicStringPackage, BitFieldPackage, LogicPackage,
    MoreStringPackage, Package,
};
use rhai::{AST, CallFnOptions, Dynamic, Engine, EvalAltResult, FuncArgs, Position, Scope};

use super::{RuleError, SandboxLimit};

/// The bounds of one call into a rule set, and of one view (every call made to decide one
/// household's catalogue).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SandboxLimits {
    /// rhai operations per call (an endless loop stops here).
    pub max_operations: u64,
    /// rhai operations for one view, all its calls together: what one household's catalogue
    /// may cost. Publishing refuses a set whose dearest view in the database exceeds it.
    pub max_view_operations: u64,
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
    /// Wall-clock budget of one view, checked every few hundred operations: a last guard
    /// against what the operation count does not see. Reaching it is an engine fault (the
    /// request fails), never an answer, so answers never depend on load. Generous on purpose:
    /// a view at its full operation budget takes a fraction of a second in a release build and
    /// seconds in a debug one on a loaded machine, and neither may be refused for it.
    pub wall_clock: Duration,
}

impl Default for SandboxLimits {
    fn default() -> Self {
        SandboxLimits {
            max_operations: 200_000,
            max_view_operations: 4_000_000,
            max_call_depth: 32,
            max_expr_depth: 64,
            max_function_expr_depth: 32,
            max_string_bytes: 16 * 1024,
            max_array_len: 1_000,
            max_map_len: 1_000,
            max_variables: 256,
            wall_clock: Duration::from_secs(10),
        }
    }
}

/// What is left of one view's bounds: operations, and the wall-clock deadline.
#[derive(Debug, Clone)]
pub struct Budget {
    remaining: u64,
    used: u64,
    /// `None` when the wall clock given is too far to reach (no deadline at all).
    deadline: Option<Instant>,
    fault: Option<RuleError>,
}

impl Budget {
    pub fn new(limits: &SandboxLimits) -> Budget {
        Budget {
            remaining: limits.max_view_operations,
            used: 0,
            deadline: Instant::now().checked_add(limits.wall_clock),
            fault: None,
        }
    }
    /// Operations spent so far.
    pub fn used(&self) -> u64 {
        self.used
    }
    /// The first wall-clock fault, if the view outlived its deadline.
    pub fn fault(&self) -> Option<&RuleError> {
        self.fault.as_ref()
    }
    fn spend(&mut self, operations: u64) {
        self.used = self.used.saturating_add(operations);
        self.remaining = self.remaining.saturating_sub(operations);
    }
}

thread_local! {
    /// The bounds of the rule call running on this thread. rhai's progress callback is shared
    /// by the engine, so the per-call bounds have to live beside it; one cell, so that the
    /// callback, which runs on every operation, touches thread-local storage once.
    static CALL: Cell<Option<CallBounds>> = const { Cell::new(None) };
    /// What a batched call collects, one answer per item (see `rules::BATCH_SCRIPT`): growing
    /// a script array instead costs a data-size check of the whole array per item. `None`
    /// outside a batched call, where collecting does nothing.
    static COLLECTED: std::cell::RefCell<Option<Collector>> = const { std::cell::RefCell::new(None) };
}

/// The bounds of one running call, and what it has used.
#[derive(Debug, Clone, Copy)]
struct CallBounds {
    /// What is left of the view's operations.
    limit: u64,
    deadline: Option<Instant>,
    /// Operations used, as rhai last reported them.
    used: u64,
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

/// Calls a batch function of `expected` items under the bounds and returns what it collected.
/// A script that calls the collector itself only adds answers, which the caller's count check
/// refuses.
pub(crate) fn call_collecting(
    engine: &Engine,
    ast: &AST,
    budget: &mut Budget,
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
    let result = call(engine, ast, budget, function, args);
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
const VIEW_BUDGET_TOKEN: &str = "tillval:view-operations";

/// rhai keywords that look like calls but are no registered function.
const KEYWORD_CALLS: [&str; 9] = [
    "print",
    "debug",
    "type_of",
    "Fn",
    "call",
    "curry",
    "is_shared",
    "is_def_fn",
    "is_def_var",
];

/// A rhai engine with every bound set, only the computing packages, no `eval`, no `import`,
/// floats compiled out (money is integer öre), `print`/`debug` into the log, and `params::…`
/// from the rule set's manifest.
pub(crate) fn sandboxed_engine(limits: &SandboxLimits, params: rhai::Module) -> Engine {
    let mut engine = Engine::new_raw();
    ArithmeticPackage::new().register_into_engine(&mut engine);
    LogicPackage::new().register_into_engine(&mut engine);
    BasicStringPackage::new().register_into_engine(&mut engine);
    MoreStringPackage::new().register_into_engine(&mut engine);
    BasicIteratorPackage::new().register_into_engine(&mut engine);
    BasicFnPackage::new().register_into_engine(&mut engine);
    BasicArrayPackage::new().register_into_engine(&mut engine);
    BasicBlobPackage::new().register_into_engine(&mut engine);
    BasicMapPackage::new().register_into_engine(&mut engine);
    BasicMathPackage::new().register_into_engine(&mut engine);
    BitFieldPackage::new().register_into_engine(&mut engine);
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
    super::values::register_value_types(&mut engine);
    engine.register_fn(COLLECT_FN, collect);
    engine.on_progress(|operations| {
        let bounds = CALL.with(|c| {
            let mut bounds = c.get()?;
            bounds.used = operations;
            c.set(Some(bounds));
            Some(bounds)
        })?;
        if operations > bounds.limit {
            return Some(Dynamic::from(VIEW_BUDGET_TOKEN));
        }
        (operations % CLOCK_CHECK_EVERY == 0 && past(bounds.deadline))
            .then(|| Dynamic::from(WALL_CLOCK_TOKEN))
    });
    engine
}

/// The names of every native function a script of this engine can call: the packages', the
/// engine's own and the keywords. A call to anything else is refused when a set is compiled,
/// so a typo (or a `sleep`) is a problem at its line, not an error at run time.
pub(crate) fn native_functions(engine: &Engine) -> std::collections::BTreeSet<String> {
    let mut names: std::collections::BTreeSet<String> = engine
        .gen_fn_signatures(true)
        .iter()
        .filter_map(|signature| {
            let name = signature.split('(').next()?.trim();
            let name = name.rsplit(' ').next()?;
            Some(name.to_owned())
        })
        .collect();
    names.extend(KEYWORD_CALLS.iter().map(|k| (*k).to_owned()));
    names
}

/// Calls one function of the rule set under the bounds left in `budget`, and spends what the
/// call used.
pub(crate) fn call(
    engine: &Engine,
    ast: &AST,
    budget: &mut Budget,
    function: &'static str,
    args: impl FuncArgs,
) -> Result<Dynamic, RuleError> {
    let refused = |limit| RuleError::LimitExceeded {
        function,
        limit,
        line: None,
    };
    if budget.remaining == 0 {
        return Err(refused(SandboxLimit::ViewOperations));
    }
    // Past the deadline no further call starts, however few operations each would take (the
    // progress callback looks at the clock only every few hundred).
    if budget.fault.is_some() || past(budget.deadline) {
        let error = refused(SandboxLimit::WallClock);
        budget.fault.get_or_insert_with(|| error.clone());
        return Err(error);
    }
    let previous = CALL.with(|c| {
        c.replace(Some(CallBounds {
            limit: budget.remaining,
            deadline: budget.deadline,
            used: 0,
        }))
    });
    let options = CallFnOptions::new().eval_ast(false).rewind_scope(false);
    let result =
        engine.call_fn_with_options::<Dynamic>(options, &mut Scope::new(), ast, function, args);
    let used = CALL.with(|c| c.replace(previous)).map_or(0, |b| b.used);
    budget.spend(used.max(1));
    let result = result.map_err(|error| rule_error(function, &error));
    if let Err(
        error @ RuleError::LimitExceeded {
            limit: SandboxLimit::WallClock,
            ..
        },
    ) = &result
        && budget.fault.is_none()
    {
        budget.fault = Some(error.clone());
    }
    result
}

fn past(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|deadline| Instant::now() > deadline)
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
        EvalAltResult::ErrorTerminated(token, _) => match token.clone().into_string() {
            Ok(t) if t == WALL_CLOCK_TOKEN => Some(SandboxLimit::WallClock),
            Ok(t) if t == VIEW_BUDGET_TOKEN => Some(SandboxLimit::ViewOperations),
            _ => None,
        },
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
