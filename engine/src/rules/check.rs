//! Checking a rule set before it goes live, as `tillval rules check` and `ruleSetValidate` do:
//! it compiles (positions for every problem), every function runs on a smoke case without
//! breaking a limit, its own test cases pass, and, on request, generated inputs find no script
//! error and no break of the invariants a landlord may not turn off.

use std::fmt;

use super::testcases::{TestReport, run_file_within};

/// Sandbox operations all of one check may cost (smoke, test cases, generated inputs): what
/// keeps `ruleSetValidate` and publishing answering within a bound whatever the set holds.
pub const MAX_CHECK_OPERATIONS: u64 = 60_000_000;
use super::{RuleError, RuleSet, RuleSetError, RuleSetSource, SandboxLimits};

/// One thing wrong with a rule set, where it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.file, self.message),
            (Some(l), None) => write!(f, "{}:{l}: {}", self.file, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

fn problem(
    file: &str,
    line: Option<usize>,
    column: Option<usize>,
    message: impl Into<String>,
) -> Problem {
    Problem {
        file: file.to_owned(),
        line,
        column,
        message: message.into(),
    }
}

impl From<&RuleSetError> for Problem {
    fn from(error: &RuleSetError) -> Self {
        let positive = |n: usize| (n > 0).then_some(n);
        match error {
            RuleSetError::Syntax {
                file,
                line,
                column,
                detail,
            } => problem(file, positive(*line), positive(*column), detail.clone()),
            RuleSetError::WrongArity {
                file, line, column, ..
            }
            | RuleSetError::UnknownFunction {
                file, line, column, ..
            }
            | RuleSetError::UnknownCall {
                file, line, column, ..
            }
            | RuleSetError::Template {
                file, line, column, ..
            } => {
                let message = error.to_string();
                let message = message
                    .split_once(": ")
                    .map_or(message.clone(), |(_, m)| m.to_owned());
                problem(file, positive(*line), positive(*column), message)
            }
            RuleSetError::Manifest { file, detail } | RuleSetError::Messages { file, detail } => {
                problem(file, None, None, detail.clone())
            }
            other => problem("ruleset", None, None, other.to_string()),
        }
    }
}

/// The outcome of a check. `rules` is the compiled set when it compiled.
#[derive(Debug)]
pub struct CheckReport {
    pub rules: Option<RuleSet>,
    pub problems: Vec<Problem>,
    pub tests: TestReport,
    pub fuzz_cases: u32,
    /// What the set's own test cases exercise of the set's own functions and reason codes.
    pub coverage: Coverage,
}

/// Per function the set defines itself (not the shipped fallbacks), the cases in which it
/// blocked something; per reason code its messages name (not the engine's own), the cases that
/// produced it. A zero is a function or code no case exercises.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    pub functions: Vec<(String, u32)>,
    pub codes: Vec<(String, u32)>,
}

impl Coverage {
    fn of(
        source: &RuleSetSource,
        rules: &RuleSet,
        exercised: &super::testcases::Exercised,
    ) -> Coverage {
        let functions = ["order_blocks", "key_blocks", "option_blocks"]
            .into_iter()
            .filter(|f| {
                rules
                    .origin(f)
                    .is_some_and(|file| !file.starts_with("shipped:"))
            })
            .map(|f| {
                (
                    f.to_owned(),
                    exercised.functions.get(f).copied().unwrap_or(0),
                )
            })
            .collect();
        let mut codes = std::collections::BTreeSet::new();
        for messages in [&source.messages_sv, &source.messages_en]
            .into_iter()
            .flatten()
        {
            if let Ok(table) = toml::from_str::<toml::Table>(messages) {
                codes.extend(table.keys().cloned());
            }
        }
        let codes = codes
            .into_iter()
            .filter(|code| !super::engine_codes::ALL.contains(&code.as_str()))
            .map(|code| {
                let cases = exercised.codes.get(&code).copied().unwrap_or(0);
                (code, cases)
            })
            .collect();
        Coverage { functions, codes }
    }

    /// The set's reason codes no case produces.
    pub fn uncovered_codes(&self) -> Vec<&str> {
        self.codes
            .iter()
            .filter(|(_, n)| *n == 0)
            .map(|(code, _)| code.as_str())
            .collect()
    }

    /// The set's functions that block nothing in any case.
    pub fn uncovered_functions(&self) -> Vec<&str> {
        self.functions
            .iter()
            .filter(|(_, n)| *n == 0)
            .map(|(f, _)| f.as_str())
            .collect()
    }
}

impl CheckReport {
    pub fn is_ok(&self) -> bool {
        self.rules.is_some() && self.problems.is_empty()
    }
}

/// A rule error as a problem at the function's file and the line the script stopped on.
pub fn rule_error_problem(rules: &RuleSet, error: &RuleError) -> Problem {
    let (function, line) = match error {
        RuleError::LimitExceeded { function, line, .. } => (*function, *line),
        RuleError::Script { function, line, .. } => (*function, *line),
        RuleError::BadReturn { function, .. } => (*function, None),
    };
    let file = rules.origin(function).unwrap_or("ruleset").to_owned();
    // rhai knows no position for some stops (operations, wall clock): then the function's own.
    match line {
        Some(line) => problem(&file, Some(line), None, error.to_string()),
        None => {
            let (line, column) = rules.position(function).unzip();
            problem(
                &file,
                line.filter(|l| *l > 0),
                column.filter(|c| *c > 0),
                error.to_string(),
            )
        }
    }
}

/// Compiles and checks `source`; runs `fuzz_cases` generated inputs (0 skips them).
pub fn check(source: &RuleSetSource, limits: SandboxLimits, fuzz_cases: u32) -> CheckReport {
    let rules = match RuleSet::compile(source, limits) {
        Ok(rules) => rules,
        Err(error) => {
            return CheckReport {
                rules: None,
                problems: vec![Problem::from(&error)],
                tests: TestReport::default(),
                fuzz_cases: 0,
                coverage: Coverage::default(),
            };
        }
    };
    let mut problems = smoke(&rules);
    let mut tests = TestReport::default();
    for file in &source.tests {
        let left = MAX_CHECK_OPERATIONS.saturating_sub(tests.operations);
        let report = run_file_within(&rules, &file.name, &file.code, left);
        tests.operations = tests.operations.saturating_add(report.operations);
        tests.cases_run += report.cases_run;
        tests.cases_passed += report.cases_passed;
        tests.failures.extend(report.failures);
        tests.exercised.merge(report.exercised);
    }
    for failure in &tests.failures {
        let case = if failure.case.is_empty() {
            String::new()
        } else {
            format!("case \"{}\": ", failure.case)
        };
        problems.push(problem(
            &failure.file,
            failure.line,
            None,
            format!("{case}{}", failure.message),
        ));
    }
    let fuzzed = if fuzz_cases > 0 && problems.is_empty() {
        fuzz(
            &rules,
            fuzz_cases,
            MAX_CHECK_OPERATIONS.saturating_sub(tests.operations),
            &mut problems,
        )
    } else {
        0
    };
    let coverage = Coverage::of(source, &rules, &tests.exercised);
    CheckReport {
        rules: Some(rules),
        problems,
        tests,
        fuzz_cases: fuzzed,
        coverage,
    }
}

/// Every function called once on a small, ordinary case: an endless loop or a broken rule
/// shows here even in a set without test cases.
fn smoke(rules: &RuleSet) -> Vec<Problem> {
    const SMOKE: &str = r#"
[[options]]
id = "smoke-a"
category = "diskmaskin"
space = "kitchen"
[[options]]
id = "smoke-b"
category = "golv"
space = "hall"
unit = "piece"
max_quantity = 3
[[cases]]
name = "smoke"
cart = { smoke-b = 2 }
ongoing_orders = { "diskmaskin/kitchen" = "TV-2026-000001" }
"#;
    let Ok(file) = toml::from_str::<super::testcases::TestFile>(SMOKE) else {
        return Vec::new();
    };
    let Some(case) = file.cases.first() else {
        return Vec::new();
    };
    let Ok(inputs) = super::testcases::build(&file, case) else {
        return Vec::new();
    };
    let prepared = crate::catalogue::PreparedCatalogue::prepare(inputs.catalogue, rules);
    let view = crate::availability::catalogue_view(rules, &prepared, &inputs.facts, &inputs.cart);
    let mut problems: Vec<Problem> = Vec::new();
    let errors = view
        .gate
        .error
        .iter()
        .chain(view.options().filter_map(|o| o.availability.error.as_ref()));
    for error in errors {
        let found = rule_error_problem(rules, error);
        if !problems.contains(&found) {
            problems.push(found);
        }
    }
    problems
}

fn fuzz(rules: &RuleSet, cases: u32, max_operations: u64, problems: &mut Vec<Problem>) -> u32 {
    use proptest::test_runner::{Config, TestCaseError, TestRunner};

    use crate::availability::OptionStatus;
    use crate::testing::arb_scenario;

    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let first_error: std::cell::RefCell<Option<Problem>> = std::cell::RefCell::new(None);
    let spent = std::cell::Cell::new(0u64);
    let outcome = runner.run(&arb_scenario(30), |scenario| {
        // Past the budget the remaining inputs pass unexamined, and the check says so below.
        if spent.get() > max_operations {
            return Ok(());
        }
        let prepared = crate::catalogue::PreparedCatalogue::prepare(
            std::sync::Arc::new(scenario.catalogue.clone()),
            rules,
        );
        let view =
            crate::availability::catalogue_view(rules, &prepared, &scenario.facts, &scenario.cart);
        spent.set(spent.get().saturating_add(view.operations));
        if let Some(error) = view
            .gate
            .error
            .iter()
            .chain(view.options().filter_map(|o| o.availability.error.as_ref()))
            .next()
        {
            first_error
                .borrow_mut()
                .get_or_insert_with(|| rule_error_problem(rules, error));
            return Err(TestCaseError::fail(error.to_string()));
        }
        let cart_keys: Vec<_> = view
            .options()
            .filter(|o| scenario.cart.contains(o.option.id()))
            .flat_map(|o| o.keys.iter().cloned())
            .collect();
        for option in view.options() {
            let orderable = option.availability.status == OptionStatus::Available;
            if !orderable {
                continue;
            }
            if !scenario.facts.debt.is_zero() {
                return Err(TestCaseError::fail(format!(
                    "{} is orderable with a debt (S3)",
                    option.option.id()
                )));
            }
            if option
                .keys
                .iter()
                .any(|k| scenario.facts.ongoing_orders.contains_key(k))
            {
                return Err(TestCaseError::fail(format!(
                    "{} is orderable with an ongoing order on its key (S4)",
                    option.option.id()
                )));
            }
            if option.keys.iter().any(|k| cart_keys.contains(k)) {
                return Err(TestCaseError::fail(format!(
                    "{} is orderable beside a cart line on its key (S10)",
                    option.option.id()
                )));
            }
        }
        Ok(())
    });
    if let Err(failure) = outcome {
        let found = first_error
            .into_inner()
            .unwrap_or_else(|| problem("fuzz", None, None, failure.to_string()));
        problems.push(found);
    }
    if spent.get() > max_operations {
        problems.push(problem(
            "fuzz",
            None,
            None,
            format!(
                "the checks cost more than {MAX_CHECK_OPERATIONS} operations; make the rules cheaper"
            ),
        ));
    }
    cases
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An embedder on default features checks (and so publishes) with generated inputs: the
    /// `testing` feature only exposes the generators, it does not enable them.
    #[test]
    fn checking_with_generated_inputs_needs_no_feature() {
        let report = check(&RuleSetSource::shipped(), SandboxLimits::default(), 16);
        assert!(report.is_ok(), "{:?}", report.problems);
        assert_eq!(report.fuzz_cases, 16);
        assert!(report.tests.cases_run > 0);
    }

    #[test]
    fn coverage_lists_a_reason_code_no_case_produces() {
        let shipped = check(&RuleSetSource::shipped(), SandboxLimits::default(), 0);
        assert_eq!(
            shipped.coverage.uncovered_codes(),
            Vec::<&str>::new(),
            "{:?}",
            shipped.coverage
        );
        assert_eq!(shipped.coverage.uncovered_functions(), Vec::<&str>::new());
        assert!(
            shipped
                .coverage
                .codes
                .iter()
                .any(|(code, n)| code == "DEBT" && *n > 0)
        );

        // A code the messages name but no script path any case takes: listed, the rest not.
        let mut source = RuleSetSource::shipped();
        for messages in [&mut source.messages_sv, &mut source.messages_en]
            .into_iter()
            .flatten()
        {
            messages.push_str("\nNEVER_PRODUCED = \"Aldrig.\"\n");
        }
        let report = check(&source, SandboxLimits::default(), 0);
        assert!(report.is_ok(), "{:?}", report.problems);
        assert_eq!(report.coverage.uncovered_codes(), vec!["NEVER_PRODUCED"]);
    }
}
