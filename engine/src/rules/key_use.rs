//! How a rule set's `key_blocks(tenant, key)` reads its key, found by walking its syntax tree
//! when the set is compiled.
//!
//! Most sets read the key only through the tenant's keyed look-ups (`tenant.has_ongoing_order(key)`,
//! `tenant.unpaid_fee(key)` …). Each look-up answers "nothing" for every key the tenant has no
//! fact on, so for all those keys `key_blocks` gives one and the same answer: it is decided once
//! and shared, and only the few keys with facts are decided one by one. Real apartments give
//! nearly every option a key of its own, so this turns a view of one script call per option into
//! a handful of calls.
//!
//! The walk is conservative: anything it cannot prove key-independent (the key compared,
//! concatenated, passed to a helper, the tenant variable replaced or captured, a script function
//! shadowing a look-up) makes the set [`KeyUse::Direct`], decided key by key as before.

use rhai::{AST, ASTNode, Engine, Expr, Stmt};

/// The tenant's keyed look-ups and which of the tenant's facts each reads.
const LOOKUPS: [(&str, Fact); 5] = [
    ("has_ongoing_order", Fact::OngoingOrders),
    ("ongoing_order", Fact::OngoingOrders),
    ("has_unpaid_fee", Fact::UnpaidFees),
    ("unpaid_fee", Fact::UnpaidFees),
    ("cart_holder", Fact::CartKeys),
];

/// Native tenant methods that take no key and cannot change the tenant variable.
pub(super) const OTHER_TENANT_METHODS: [&str; 1] = ["in_cart"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fact {
    OngoingOrders,
    UnpaidFees,
    CartKeys,
}

/// What `key_blocks` reads of its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    /// The key only reaches these look-ups: the answer for a key is the same for every key the
    /// tenant has none of these facts on.
    ThroughLookups {
        ongoing_orders: bool,
        unpaid_fees: bool,
        cart_keys: bool,
    },
    /// The key is read some other way (or the walk could not tell): every key is decided alone.
    Direct,
}

impl KeyUse {
    /// Walks the merged AST's `key_blocks`. A set without one (never: the shipped set has one)
    /// is `Direct`.
    pub(crate) fn of(ast: &AST) -> KeyUse {
        let shadowed = ast
            .iter_fn_def()
            .any(|f| LOOKUPS.iter().any(|(name, _)| f.name == *name));
        if shadowed {
            return KeyUse::Direct;
        }
        let Some((alone, tenant, key)) = function_alone(ast, "key_blocks") else {
            return KeyUse::Direct;
        };
        let mut walk = Walk {
            tenant: &tenant,
            key: &key,
            reads: [false; 3],
            direct: false,
        };
        alone.walk(&mut |path: &[ASTNode]| walk.visit(path));
        if walk.direct {
            return KeyUse::Direct;
        }
        let [ongoing_orders, unpaid_fees, cart_keys] = walk.reads;
        KeyUse::ThroughLookups {
            ongoing_orders,
            unpaid_fees,
            cart_keys,
        }
    }
}

struct Walk<'a> {
    tenant: &'a str,
    key: &'a str,
    /// Which facts the look-ups read: ongoing orders, unpaid fees, cart keys.
    reads: [bool; 3],
    direct: bool,
}

/// The well-known function `name` (arity 2) of the merged AST alone, as an AST whose walk is its
/// body, with its two parameters' names; `None` when the set has no such function.
pub(super) fn function_alone(ast: &AST, name: &str) -> Option<(AST, String, String)> {
    let function = ast
        .iter_fn_def()
        .find(|f| f.name == name && f.params.len() == 2)?;
    let first = function.params.first()?.to_string();
    let second = function.params.get(1)?.to_string();
    // Beside an empty function: rhai's filter is skipped when merging into an empty AST, which
    // would bring every function along.
    let root = Engine::new_raw()
        .compile("private fn __tillval_walk_root() {}")
        .ok()?;
    let alone = root.merge_filtered(ast, |_, _, _, n, params| n == name && params == 2);
    (alone.iter_fn_def().count() == 2).then_some((alone, first, second))
}

/// A statement that declares (`let`, `for`, `catch`), assigns or captures (for a closure) one
/// of `parameters`: after it, the name may stand for another value.
pub(super) fn replaces(statement: &Stmt, parameters: [&str; 2]) -> bool {
    let is_parameter = |name: &str| parameters.contains(&name);
    match statement {
        Stmt::Var(x, ..) => is_parameter(x.0.name.as_str()),
        Stmt::For(x, ..) => {
            is_parameter(x.0.name.as_str())
                || x.1.as_ref().is_some_and(|i| is_parameter(i.name.as_str()))
        }
        Stmt::Assignment(x) => parameters.iter().any(|p| mentions(&x.1.lhs, p)),
        // The caught value is named like a parameter inside the catch block.
        Stmt::TryCatch(x, _) => variable_name(&x.expr).is_some_and(is_parameter),
        Stmt::Share(_) => true,
        _ => false,
    }
}

pub(super) fn variable_name(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Variable(x, ..) if x.2.is_empty() => Some(x.1.as_str()),
        _ => None,
    }
}

pub(super) fn lookup(name: &str) -> Option<Fact> {
    LOOKUPS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// The first link of a chain `a.b.c()`: what the method or property right of the object is.
pub(super) fn first_link(expr: &Expr) -> &Expr {
    match expr {
        Expr::Dot(x, ..) | Expr::Index(x, ..) => first_link(&x.lhs),
        other => other,
    }
}

pub(super) fn mentions(expr: &Expr, name: &str) -> bool {
    let mut found = false;
    let mut path = Vec::new();
    expr.walk(&mut path, &mut |path: &[ASTNode]| {
        if let Some(ASTNode::Expr(e)) = path.last()
            && variable_name(e) == Some(name)
        {
            found = true;
            return false;
        }
        true
    });
    found
}

impl Walk<'_> {
    /// Looks at the last node of `path`; `false` (stop) once the key is read directly.
    fn visit(&mut self, path: &[ASTNode]) -> bool {
        let Some(node) = path.last() else {
            return true;
        };
        let direct = match node {
            ASTNode::Stmt(statement) => replaces(statement, [self.tenant, self.key]),
            ASTNode::Expr(expr) => match variable_name(expr) {
                Some(name) if name == self.key => !self.is_lookup_argument(expr, path),
                _ => self.calls_a_tenant_method_that_may_write(expr),
            },
            _ => false,
        };
        if direct {
            self.direct = true;
        }
        !direct
    }

    /// `tenant.method(…)` where the method is not a native look-up: a script method gets the
    /// tenant variable by reference and could replace it.
    fn calls_a_tenant_method_that_may_write(&self, expr: &Expr) -> bool {
        let Expr::Dot(x, ..) = expr else {
            return false;
        };
        if variable_name(&x.lhs) != Some(self.tenant) {
            return false;
        }
        match first_link(&x.rhs) {
            Expr::MethodCall(call, _) => {
                let name = call.name.as_str();
                lookup(name).is_none() && !OTHER_TENANT_METHODS.contains(&name)
            }
            _ => false,
        }
    }

    /// `key` (the variable `expr`, last on `path`) is the key argument of a look-up on the
    /// tenant: `tenant.lookup(key)` or `lookup(tenant, key)`. Records which fact it reads.
    fn is_lookup_argument(&mut self, expr: &Expr, path: &[ASTNode]) -> bool {
        let at = |back: usize| path.len().checked_sub(back).and_then(|i| path.get(i));
        let fact = match (at(2), at(3)) {
            (
                Some(ASTNode::Expr(Expr::MethodCall(call, _))),
                Some(ASTNode::Expr(Expr::Dot(dot, ..))),
            ) => {
                let on_tenant = variable_name(&dot.lhs) == Some(self.tenant)
                    && matches!(&dot.rhs, Expr::MethodCall(c, _) if std::ptr::eq(&**c, &**call));
                let key_alone = call.args.len() == 1
                    && call.args.first().is_some_and(|a| std::ptr::eq(a, expr));
                lookup(call.name.as_str()).filter(|_| on_tenant && key_alone)
            }
            (
                Some(ASTNode::Expr(Expr::FnCall(call, _)) | ASTNode::Stmt(Stmt::FnCall(call, _))),
                _,
            ) => {
                let on_tenant = call.args.first().and_then(variable_name) == Some(self.tenant);
                let key_second =
                    call.args.len() == 2 && call.args.get(1).is_some_and(|a| std::ptr::eq(a, expr));
                let plain = call.namespace.is_empty() && call.op_token.is_none();
                lookup(call.name.as_str()).filter(|_| on_tenant && key_second && plain)
            }
            _ => None,
        };
        match fact {
            Some(fact) => {
                let slot = match fact {
                    Fact::OngoingOrders => 0,
                    Fact::UnpaidFees => 1,
                    Fact::CartKeys => 2,
                };
                if let Some(read) = self.reads.get_mut(slot) {
                    *read = true;
                }
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::KeyUse;
    use crate::rules::{RuleSet, RuleSetSource, SandboxLimits, ScriptSource};

    fn key_use_of(key_blocks: &str) -> KeyUse {
        let source = RuleSetSource {
            manifest: "name = \"test\"\nversion = \"1\"\n".into(),
            scripts: vec![ScriptSource {
                name: "key_blocks.rhai".into(),
                code: key_blocks.into(),
            }],
            messages_sv: None,
            messages_en: None,
            tests: Vec::new(),
        };
        match RuleSet::compile(&source, SandboxLimits::default()) {
            Ok(rules) => rules.key_use(),
            Err(error) => panic!("{key_blocks}\ndoes not compile: {error}"),
        }
    }

    const ONGOING_ONLY: KeyUse = KeyUse::ThroughLookups {
        ongoing_orders: true,
        unpaid_fees: false,
        cart_keys: false,
    };

    #[test]
    fn the_shipped_key_blocks_reads_its_key_only_through_look_ups() {
        let shipped = RuleSet::shipped().map(|r| r.key_use()).ok();
        assert_eq!(
            shipped,
            Some(KeyUse::ThroughLookups {
                ongoing_orders: true,
                unpaid_fees: true,
                cart_keys: false,
            })
        );
    }

    #[test]
    fn look_ups_in_either_form_and_the_facts_they_read() {
        assert_eq!(
            key_use_of(
                "fn key_blocks(t, k) { if has_ongoing_order(t, k) { return [#{ code: \"DEBT\" }]; } [] }"
            ),
            ONGOING_ONLY
        );
        assert_eq!(
            key_use_of(
                "fn key_blocks(tenant, key) { let h = tenant.cart_holder(key); if h != () { [#{ code: \"DEBT\" }] } else { [] } }"
            ),
            KeyUse::ThroughLookups {
                ongoing_orders: false,
                unpaid_fees: false,
                cart_keys: true
            }
        );
        // The key may be shadowed by a value that is not the key: still the look-ups only.
        assert_eq!(
            key_use_of(
                "fn key_blocks(tenant, key) { if tenant.debt.amount > 0 { return [#{ code: \"DEBT\" }]; } [] }"
            ),
            KeyUse::ThroughLookups {
                ongoing_orders: false,
                unpaid_fees: false,
                cart_keys: false
            }
        );
    }

    #[test]
    fn any_other_read_of_the_key_is_direct() {
        for script in [
            "fn key_blocks(tenant, key) { if key == \"golv/hall\" { return [#{ code: \"DEBT\" }]; } [] }",
            "fn key_blocks(tenant, key) { if key.len() > 3 { return [#{ code: \"DEBT\" }]; } [] }",
            "fn key_blocks(tenant, key) { if `${key}` == \"a/b\" { return [#{ code: \"DEBT\" }]; } [] }",
            "fn key_blocks(tenant, key) { check(tenant, key) }\nprivate fn check(t, k) { [] }",
            "fn key_blocks(tenant, key) { if tenant.has_ongoing_order(key + \"\") { return [#{ code: \"DEBT\" }]; } [] }",
            "fn key_blocks(tenant, key) { let m = #{}; m[key] = 1; [] }",
            "fn key_blocks(tenant, key) { [#{ code: \"DEBT\", key: key }] }",
            // The tenant replaced by a map whose "look-up" is a function of the script's own.
            "fn key_blocks(tenant, key) { let tenant = #{ has_ongoing_order: Fn(\"hall\") }; if tenant.has_ongoing_order(key) { return [#{ code: \"DEBT\" }]; } [] }\nprivate fn hall(k) { k == \"golv/hall\" }",
            "fn key_blocks(tenant, key) { tenant = #{ has_ongoing_order: Fn(\"hall\") }; if tenant.has_ongoing_order(key) { return [#{ code: \"DEBT\" }]; } [] }\nprivate fn hall(k) { k == \"golv/hall\" }",
            // A script method gets the tenant variable by reference and could replace it.
            "fn key_blocks(tenant, key) { tenant.swap(); if tenant.has_ongoing_order(key) { return [#{ code: \"DEBT\" }]; } [] }\nprivate fn swap() { this = #{}; }",
            // A function of the script's own with a look-up's name.
            "fn key_blocks(tenant, key) { if has_ongoing_order(tenant, key) { return [#{ code: \"DEBT\" }]; } [] }\nprivate fn has_ongoing_order(t, k) { k == \"a/b\" }",
            "fn key_blocks(tenant, key) { try { throw #{ has_ongoing_order: Fn(\"hall\") }; } catch (tenant) { if tenant.has_ongoing_order(key) { return [#{ code: \"DEBT\" }]; } } [] }\nprivate fn hall(k) { k == \"golv/hall\" }",
            "fn key_blocks(tenant, key) { for tenant in [#{ has_ongoing_order: Fn(\"hall\") }] { if tenant.has_ongoing_order(key) { return [#{ code: \"DEBT\" }]; } } [] }\nprivate fn hall(k) { k == \"golv/hall\" }",
        ] {
            assert_eq!(key_use_of(script), KeyUse::Direct, "{script}");
        }
    }
}
