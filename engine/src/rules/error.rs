//! Errors of rule sets (refused before they go live) and of single decisions.

use std::path::PathBuf;

/// Why a rule set was refused. The running set, if any, stays.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleSetError {
    #[error("cannot read {path}: {detail}")]
    Read { path: PathBuf, detail: String },
    #[error("{file}: invalid manifest: {detail}")]
    Manifest { file: String, detail: String },
    #[error("{file}:{line}:{column}: {detail}")]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        detail: String,
    },
    #[error(
        "{file}:{line}:{column}: `{name}` takes {expected} parameter(s), this one takes {found}"
    )]
    WrongArity {
        file: String,
        line: usize,
        column: usize,
        name: String,
        expected: usize,
        found: usize,
    },
    #[error(
        "{file}:{line}:{column}: `{name}` is not a function the engine calls; mark helpers `private fn`"
    )]
    UnknownFunction {
        file: String,
        line: usize,
        column: usize,
        name: String,
    },
    #[error(
        "{file}:{line}:{column}: `{name}` is no function a rule can call (rules only compute: see docs/rules.md)"
    )]
    UnknownCall {
        file: String,
        line: usize,
        column: usize,
        name: String,
    },
    #[error("{file}:{line}:{column}: {detail}")]
    Template {
        file: String,
        line: usize,
        column: usize,
        detail: String,
    },
    #[error("`{name}` is defined both in {first} and in {second}")]
    DefinedTwice {
        name: String,
        first: String,
        second: String,
    },
    #[error("{file}: invalid messages: {detail}")]
    Messages { file: String, detail: String },
    #[error("message {code} has no {language} text")]
    MissingMessage {
        code: String,
        language: &'static str,
    },
    #[error("the rule set has no .rhai scripts and no messages")]
    Empty,
}

/// Why one call into the rules gave no answer. Reported as an error for that decision, never
/// as a refusal: a broken rule is not the tenant's fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleError {
    #[error("rule `{function}` broke the sandbox limit on {limit}{at}", at = at(*line, None))]
    LimitExceeded {
        function: &'static str,
        limit: SandboxLimit,
        /// Where the script was when it was stopped.
        line: Option<usize>,
    },
    #[error("rule `{function}` failed{at}: {message}", at = at(*line, *column))]
    Script {
        function: &'static str,
        message: String,
        line: Option<usize>,
        column: Option<usize>,
    },
    #[error("rule `{function}` returned {detail}")]
    BadReturn {
        function: &'static str,
        detail: String,
    },
}

fn at(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" at line {l}, column {c}"),
        (Some(l), None) => format!(" at line {l}"),
        _ => String::new(),
    }
}

/// Which sandbox bound a script broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SandboxLimit {
    Operations,
    /// The operations of one whole view (every call deciding one household's catalogue).
    ViewOperations,
    CallDepth,
    DataSize,
    Variables,
    WallClock,
}

impl std::fmt::Display for SandboxLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SandboxLimit::Operations => "operations",
            SandboxLimit::ViewOperations => "operations of one view",
            SandboxLimit::CallDepth => "call depth",
            SandboxLimit::DataSize => "string, array or map size",
            SandboxLimit::Variables => "variables",
            SandboxLimit::WallClock => "wall-clock time",
        })
    }
}
