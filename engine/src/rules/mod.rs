//! The rule runtime: a landlord's rule set (rhai scripts, a manifest, messages in Swedish and
//! English), compiled once, checked before it goes live, and called under the sandbox.
//!
//! The contract (docs/rules.md): `lock_keys(option)`, `order_blocks(tenant)`,
//! `key_blocks(tenant, key)` and the optional `option_blocks(tenant, option)`. A set overrides
//! any of them; what it leaves out comes from the shipped set in `rules/`.

pub mod check;
mod error;
mod key_use;
mod messages;
mod option_use;
mod reason;
mod sandbox;
mod source;
mod stats;
pub mod testcases;
mod values;

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;

use rhai::{AST, Array, Dynamic, Engine, FnAccess};
use serde::Deserialize;

pub use error::{RuleError, RuleSetError, SandboxLimit};
pub use key_use::KeyUse;
pub use messages::Messages;
pub use option_use::OptionUse;
pub use reason::{Reason, ReasonCode, ReasonParam, engine_codes};
pub use sandbox::{Budget, SandboxLimits};
pub use source::{MANIFEST_FILE, RuleSetSource, ScriptSource};
pub use stats::{FunctionStats, RuleStats};
pub use values::CartSummary;

pub(crate) use values::{TenantValue, option_value, tenant_value};

use crate::model::{AddOnOption, Language, LockKey};

/// The functions the engine calls, with their arity.
pub const WELL_KNOWN_FUNCTIONS: [(&str, usize); 4] = [
    ("lock_keys", 1),
    ("order_blocks", 1),
    ("key_blocks", 2),
    ("option_blocks", 2),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    name: String,
    version: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    params: toml::Table,
}

/// A compiled, checked rule set, ready to decide. Cheap to share behind an `Arc`.
pub struct RuleSet {
    name: String,
    version: String,
    description: String,
    fingerprint: u64,
    engine: Engine,
    ast: AST,
    defines_option_blocks: bool,
    /// How `key_blocks` reads its key: through the tenant's look-ups only, or directly.
    key_use: KeyUse,
    /// What `option_blocks` reads of its option (`None`: the set has none).
    option_use: Option<OptionUse>,
    /// Which file each well-known function comes from (`shipped:key_blocks.rhai` when the
    /// landlord's set leaves it out).
    origins: BTreeMap<&'static str, String>,
    /// Where each well-known function is defined in its file (line, column).
    positions: BTreeMap<&'static str, (usize, usize)>,
    messages: Messages,
    limits: SandboxLimits,
    stats: RuleStats,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSet")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("fingerprint", &self.fingerprint)
            .field("origins", &self.origins)
            .finish_non_exhaustive()
    }
}

impl RuleSet {
    /// The shipped rule set alone.
    pub fn shipped() -> Result<RuleSet, RuleSetError> {
        let shipped = RuleSetSource::shipped();
        // Only the manifest: the scripts and messages are the fallback layer already.
        let manifest_only = RuleSetSource {
            manifest: shipped.manifest,
            scripts: Vec::new(),
            messages_sv: None,
            messages_en: None,
            tests: Vec::new(),
        };
        RuleSet::compile(&manifest_only, SandboxLimits::default())
    }

    /// Reads and compiles a rule-set folder with the default limits.
    pub fn load(dir: &Path) -> Result<RuleSet, RuleSetError> {
        RuleSet::compile(&RuleSetSource::read_dir(dir)?, SandboxLimits::default())
    }

    /// Compiles and checks a rule set: the manifest parses, every script compiles, every public
    /// function is a well-known one with the right arity (helpers are `private fn`), and every
    /// message reads in both languages.
    pub fn compile(source: &RuleSetSource, limits: SandboxLimits) -> Result<RuleSet, RuleSetError> {
        if let Some(file) = file_with_control_characters(source) {
            return Err(RuleSetError::Manifest {
                file,
                detail: "holds control characters (such as NUL); rule sets are plain text".into(),
            });
        }
        let manifest: Manifest =
            toml::from_str(&source.manifest).map_err(|e| RuleSetError::Manifest {
                file: MANIFEST_FILE.into(),
                detail: e.to_string(),
            })?;
        let manifest_problem = |detail: &str| RuleSetError::Manifest {
            file: MANIFEST_FILE.into(),
            detail: detail.into(),
        };
        if manifest.name.trim().is_empty() {
            return Err(manifest_problem("`name` is empty"));
        }
        if manifest.version.trim().is_empty() {
            return Err(manifest_problem("`version` is empty"));
        }
        let engine = sandbox::sandboxed_engine(&limits, params_module(&manifest.params)?);

        let shipped = RuleSetSource::shipped();
        let mut origins = BTreeMap::new();
        let mut positions = BTreeMap::new();
        let mut ast = AST::empty();
        let mut compiled_scripts: Vec<(String, AST)> = Vec::new();
        for script in &shipped.scripts {
            let compiled = compile_script(&engine, script)?;
            compiled_scripts.push((format!("shipped:{}", script.name), compiled.clone()));
            for (name, _) in WELL_KNOWN_FUNCTIONS {
                if defines(&compiled, name) {
                    origins.insert(name, format!("shipped:{}", script.name));
                    positions.insert(name, function_position(&script.code, name));
                }
            }
            ast = ast.merge(&compiled);
        }
        let mut landlord_origins: BTreeMap<&'static str, String> = BTreeMap::new();
        for script in &source.scripts {
            let compiled = compile_script(&engine, script)?;
            compiled_scripts.push((script.name.clone(), compiled.clone()));
            for (name, _) in WELL_KNOWN_FUNCTIONS {
                if defines(&compiled, name)
                    && let Some(first) = landlord_origins.insert(name, script.name.clone())
                {
                    return Err(RuleSetError::DefinedTwice {
                        name: name.into(),
                        first,
                        second: script.name.clone(),
                    });
                }
            }
            for (name, _) in WELL_KNOWN_FUNCTIONS {
                if defines(&compiled, name) {
                    positions.insert(name, function_position(&script.code, name));
                }
            }
            ast = ast.merge(&compiled);
        }
        origins.extend(landlord_origins);
        let batch = engine
            .compile(BATCH_SCRIPT)
            .map_err(|e| RuleSetError::Syntax {
                file: "tillval:batch".into(),
                line: e.1.line().unwrap_or(0),
                column: e.1.position().unwrap_or(0),
                detail: e.0.to_string(),
            })?;
        ast = ast.merge(&batch);
        check_calls(&engine, &ast, &compiled_scripts)?;

        let mut messages = shipped_messages()?;
        let (sv, en) = (&source.messages_sv, &source.messages_en);
        let landlord_sv = sv
            .as_deref()
            .map(|t| Messages::parse_language("messages/sv.toml", t))
            .transpose()?;
        let landlord_en = en
            .as_deref()
            .map(|t| Messages::parse_language("messages/en.toml", t))
            .transpose()?;
        let script_words: std::collections::BTreeSet<&str> = shipped
            .scripts
            .iter()
            .chain(&source.scripts)
            .flat_map(|s| {
                s.code
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            })
            .filter(|w| !w.is_empty())
            .collect();
        for (file, text, table) in [
            ("messages/sv.toml", sv, &landlord_sv),
            ("messages/en.toml", en, &landlord_en),
        ] {
            if let (Some(text), Some(table)) = (text, table) {
                messages::check_templates(file, text, table, &script_words)?;
            }
        }
        messages.overlay(Messages::new(
            landlord_sv.unwrap_or_default(),
            landlord_en.unwrap_or_default(),
        ));
        messages.check_complete()?;

        let mut hasher = DefaultHasher::new();
        source.manifest.hash(&mut hasher);
        for script in &source.scripts {
            script.name.hash(&mut hasher);
            script.code.hash(&mut hasher);
        }
        source.messages_sv.hash(&mut hasher);
        source.messages_en.hash(&mut hasher);

        Ok(RuleSet {
            name: manifest.name,
            version: manifest.version,
            description: manifest.description,
            fingerprint: hasher.finish(),
            defines_option_blocks: defines(&ast, "option_blocks"),
            key_use: KeyUse::of(&ast),
            option_use: OptionUse::of(&ast),
            engine,
            ast,
            origins,
            positions,
            messages,
            limits,
            stats: RuleStats::default(),
        })
    }

    /// How this set's functions were called since it was compiled.
    pub fn stats(&self) -> &RuleStats {
        &self.stats
    }

    /// Calls one of the set's functions under `budget`, counted in its stats.
    fn call(
        &self,
        budget: &mut Budget,
        function: &'static str,
        args: impl rhai::FuncArgs,
    ) -> Result<Dynamic, RuleError> {
        let started = std::time::Instant::now();
        let result = sandbox::call(&self.engine, &self.ast, budget, function, args);
        self.stats
            .record(function, started.elapsed(), result.as_ref().map(|_| ()));
        result
    }

    /// A batch function's call, counted like [`RuleSet::call`].
    fn call_collecting(
        &self,
        budget: &mut Budget,
        function: &'static str,
        expected: usize,
        args: impl rhai::FuncArgs,
    ) -> Result<Vec<Dynamic>, RuleError> {
        let started = std::time::Instant::now();
        let result =
            sandbox::call_collecting(&self.engine, &self.ast, budget, function, expected, args);
        self.stats
            .record(function, started.elapsed(), result.as_ref().map(|_| ()));
        result
    }

    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn version(&self) -> &str {
        &self.version
    }
    pub fn description(&self) -> &str {
        &self.description
    }
    /// Changes whenever any of the set's text changes; caches of derived data key on it.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }
    pub fn messages(&self) -> &Messages {
        &self.messages
    }
    pub fn render(&self, reason: &Reason, language: Language) -> String {
        self.messages.render(reason, language)
    }
    /// The file a well-known function of this set comes from.
    pub fn origin(&self, function: &str) -> Option<&str> {
        self.origins.get(function).map(String::as_str)
    }
    /// Where a well-known function of this set is defined: (line, column) in its file.
    pub fn position(&self, function: &str) -> Option<(usize, usize)> {
        self.positions.get(function).copied()
    }
    /// The bounds this set runs under.
    pub fn limits(&self) -> &SandboxLimits {
        &self.limits
    }
    /// A fresh budget for one view.
    pub fn budget(&self) -> Budget {
        Budget::new(&self.limits)
    }
    /// Whether the set has per-option rules; without them no option needs a call of its own.
    pub fn defines_option_blocks(&self) -> bool {
        self.defines_option_blocks
    }

    /// How `key_blocks` reads its key; with [`KeyUse::ThroughLookups`] a view decides the keys
    /// the tenant has no facts on with one call.
    pub fn key_use(&self) -> KeyUse {
        self.key_use
    }

    /// What `option_blocks` reads of its option; with [`OptionUse::Properties`] a view decides
    /// options alike in what is read once. `None` when the set has no `option_blocks`.
    pub fn option_use(&self) -> Option<&OptionUse> {
        self.option_use.as_ref()
    }

    /// `lock_keys(option)`: the keys an option occupies.
    pub fn lock_keys(&self, option: &AddOnOption) -> Result<Vec<LockKey>, RuleError> {
        let value = option_value(option, &[]);
        let answer = self.call(&mut self.budget(), "lock_keys", (value,))?;
        values::lock_keys_from(answer)
    }

    /// `order_blocks(tenant)`: reasons the tenant cannot order at all.
    pub(crate) fn order_blocks(
        &self,
        tenant: &TenantValue,
        budget: &mut Budget,
    ) -> Result<Vec<Reason>, RuleError> {
        let answer = self.call(budget, "order_blocks", (tenant.clone(),))?;
        values::reasons_from("order_blocks", answer)
    }

    /// `key_blocks(tenant, key)`: reasons one lock key is blocked.
    pub(crate) fn key_blocks(
        &self,
        tenant: &TenantValue,
        key: &LockKey,
        budget: &mut Budget,
    ) -> Result<Vec<Reason>, RuleError> {
        let key = Dynamic::from(rhai::ImmutableString::from(key.as_str()));
        let answer = self.call(budget, "key_blocks", (tenant.clone(), key))?;
        values::reasons_from("key_blocks", answer)
    }

    /// `key_blocks` for many keys in one call into the sandbox (which costs more than the rule
    /// it runs). `None` if the call failed as a whole: then the caller asks key by key, so that
    /// a key whose rule fails fails alone, as it would have.
    pub(crate) fn key_blocks_many(
        &self,
        tenant: &TenantValue,
        keys: Array,
        budget: &mut Budget,
    ) -> Option<Vec<Result<Vec<Reason>, RuleError>>> {
        self.many(BATCH_KEY_BLOCKS, "key_blocks", tenant, keys, budget)
    }

    /// `option_blocks` for many options in one call; `None` as for [`RuleSet::key_blocks_many`],
    /// or when the set defines no `option_blocks`.
    pub(crate) fn option_blocks_many(
        &self,
        tenant: &TenantValue,
        options: Array,
        budget: &mut Budget,
    ) -> Option<Vec<Result<Vec<Reason>, RuleError>>> {
        if !self.defines_option_blocks {
            return None;
        }
        self.many(
            BATCH_OPTION_BLOCKS,
            "option_blocks",
            tenant,
            options,
            budget,
        )
    }

    fn many(
        &self,
        batch: &'static str,
        function: &'static str,
        tenant: &TenantValue,
        items: Array,
        budget: &mut Budget,
    ) -> Option<Vec<Result<Vec<Reason>, RuleError>>> {
        let expected = items.len();
        let answers = self
            .call_collecting(
                budget,
                batch,
                expected,
                (tenant.clone(), Dynamic::from_array(items)),
            )
            .ok()?;
        (answers.len() == expected).then(|| {
            answers
                .into_iter()
                .map(|a| values::reasons_from(function, a))
                .collect()
        })
    }

    /// `option_blocks(tenant, option)`, when the set defines it.
    pub(crate) fn option_blocks(
        &self,
        tenant: &TenantValue,
        option: &Dynamic,
        budget: &mut Budget,
    ) -> Option<Result<Vec<Reason>, RuleError>> {
        if !self.defines_option_blocks {
            return None;
        }
        let answer = self.call(budget, "option_blocks", (tenant.clone(), option.clone()));
        Some(answer.and_then(|a| values::reasons_from("option_blocks", a)))
    }
}

/// The first file of the set with a control character other than a line break or a tab.
fn file_with_control_characters(source: &RuleSetSource) -> Option<String> {
    use crate::model::text::has_control_characters;
    if has_control_characters(&source.manifest) {
        return Some(MANIFEST_FILE.into());
    }
    for (file, text) in [
        ("messages/sv.toml", &source.messages_sv),
        ("messages/en.toml", &source.messages_en),
    ] {
        if text.as_deref().is_some_and(has_control_characters) {
            return Some(file.into());
        }
    }
    source
        .scripts
        .iter()
        .chain(&source.tests)
        .find(|s| has_control_characters(&s.code) || has_control_characters(&s.name))
        .map(|s| s.name.clone())
}

fn shipped_messages() -> Result<Messages, RuleSetError> {
    let shipped = RuleSetSource::shipped();
    let sv = Messages::parse_language(
        "shipped:messages/sv.toml",
        shipped.messages_sv.as_deref().unwrap_or(""),
    )?;
    let en = Messages::parse_language(
        "shipped:messages/en.toml",
        shipped.messages_en.as_deref().unwrap_or(""),
    )?;
    let messages = Messages::new(sv, en);
    for code in engine_codes::ALL {
        let code = ReasonCode::parse(code).map_err(|detail| RuleSetError::Messages {
            file: "shipped".into(),
            detail,
        })?;
        if !messages.contains(&code) {
            return Err(RuleSetError::MissingMessage {
                code: code.to_string(),
                language: "sv/en",
            });
        }
    }
    Ok(messages)
}

/// Functions the engine adds to every set: each calls a rule for every item of an array, so
/// that deciding a catalogue is a few calls into the sandbox rather than one per key or option.
/// Merged last, so a set cannot replace them.
const BATCH_SCRIPT: &str = "
fn __tillval_key_blocks_all(tenant, keys) {
    for key in keys { __tillval_collect(key_blocks(tenant, key)); }
}
fn __tillval_option_blocks_all(tenant, options) {
    for option in options { __tillval_collect(option_blocks(tenant, option)); }
}
";
const BATCH_KEY_BLOCKS: &str = "__tillval_key_blocks_all";
const BATCH_OPTION_BLOCKS: &str = "__tillval_option_blocks_all";

/// Every function a script calls exists: one of the set's own, or one the sandbox registers.
/// rhai finds a missing function only when the call runs, which may be for one option of one
/// household; here it is a problem at its file and line before the set goes live.
fn check_calls(
    engine: &Engine,
    merged: &AST,
    scripts: &[(String, AST)],
) -> Result<(), RuleSetError> {
    use rhai::{ASTNode, Expr, Stmt};
    let mut known = sandbox::native_functions(engine);
    known.extend(merged.iter_functions().map(|f| f.name.to_owned()));
    for (file, ast) in scripts {
        let mut unknown: Option<(String, rhai::Position)> = None;
        ast.walk(&mut |path: &[ASTNode]| {
            let (call, position) = match path.last() {
                Some(ASTNode::Expr(Expr::FnCall(call, position)))
                | Some(ASTNode::Expr(Expr::MethodCall(call, position)))
                | Some(ASTNode::Stmt(Stmt::FnCall(call, position))) => (call, *position),
                _ => return true,
            };
            let name = call.name.as_str();
            let identifier = name
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_');
            if call.op_token.is_some() || !identifier || !call.namespace.is_empty() {
                return true;
            }
            if known.contains(name) {
                return true;
            }
            unknown = Some((name.to_owned(), position));
            false
        });
        if let Some((name, position)) = unknown {
            return Err(RuleSetError::UnknownCall {
                file: file.clone(),
                line: position.line().unwrap_or(0),
                column: position.position().unwrap_or(0),
                name,
            });
        }
    }
    Ok(())
}

fn defines(ast: &AST, name: &str) -> bool {
    ast.iter_functions()
        .any(|f| f.name == name && f.access != FnAccess::Private)
}

/// Compiles one script and checks its functions against the contract.
fn compile_script(engine: &Engine, script: &ScriptSource) -> Result<AST, RuleSetError> {
    let mut ast = engine
        .compile(&script.code)
        .map_err(|e| RuleSetError::Syntax {
            file: script.name.clone(),
            line: e.1.line().unwrap_or(0),
            column: e.1.position().unwrap_or(0),
            detail: e.0.to_string(),
        })?;
    ast.set_source(script.name.as_str());
    for function in ast.iter_functions() {
        if function.access == FnAccess::Private {
            continue;
        }
        let (line, column) = function_position(&script.code, function.name);
        match WELL_KNOWN_FUNCTIONS
            .iter()
            .find(|(name, _)| *name == function.name)
        {
            Some((_, arity)) if *arity != function.params.len() => {
                return Err(RuleSetError::WrongArity {
                    file: script.name.clone(),
                    line,
                    column,
                    name: function.name.to_owned(),
                    expected: *arity,
                    found: function.params.len(),
                });
            }
            Some(_) => {}
            None => {
                return Err(RuleSetError::UnknownFunction {
                    file: script.name.clone(),
                    line,
                    column,
                    name: function.name.to_owned(),
                });
            }
        }
    }
    Ok(ast)
}

/// rhai's function metadata has no position, so find `fn name` in the text for the report.
fn function_position(code: &str, name: &str) -> (usize, usize) {
    for (index, line) in code.lines().enumerate() {
        let mut search = line;
        let mut offset = 0;
        while let Some(at) = search.find("fn ") {
            let after = search.get(at + 3..).unwrap_or("").trim_start();
            let gap = search.len() - at - 3 - after.len();
            let rest = after.strip_prefix(name).unwrap_or("");
            if after.starts_with(name) && rest.trim_start().starts_with('(') {
                return (index + 1, offset + at + 3 + gap + 1);
            }
            offset += at + 3;
            search = search.get(at + 3..).unwrap_or("");
        }
    }
    (0, 0)
}

/// `[params]` of the manifest, as constants `params::name` in every script.
fn params_module(params: &toml::Table) -> Result<rhai::Module, RuleSetError> {
    let mut module = rhai::Module::new();
    for (name, value) in params {
        module.set_var(name.as_str(), toml_to_dynamic(name, value)?);
    }
    Ok(module)
}

fn toml_to_dynamic(name: &str, value: &toml::Value) -> Result<Dynamic, RuleSetError> {
    let problem = |detail: String| RuleSetError::Manifest {
        file: MANIFEST_FILE.into(),
        detail,
    };
    Ok(match value {
        toml::Value::Integer(i) => Dynamic::from_int(*i),
        toml::Value::String(s) => Dynamic::from(s.clone()),
        toml::Value::Boolean(b) => Dynamic::from_bool(*b),
        toml::Value::Array(items) => Dynamic::from_array(
            items
                .iter()
                .map(|v| toml_to_dynamic(name, v))
                .collect::<Result<Vec<_>, _>>()?,
        ),
        toml::Value::Float(_) => {
            return Err(problem(format!(
                "param `{name}` is a float; use integers (money in öre)"
            )));
        }
        toml::Value::Datetime(_) | toml::Value::Table(_) => {
            return Err(problem(format!(
                "param `{name}` must be an integer, string, boolean or array"
            )));
        }
    })
}
