//! What a rule set's `option_blocks(tenant, option)` reads of its option, found by walking its
//! syntax tree when the set is compiled.
//!
//! Most per-option rules read a few properties of the option (`option.monthly_price`,
//! `option.category`) and, through `tenant.in_cart(option.id)`, whether it is in the cart. Two
//! options alike in every property read (and in being in the cart or not) get the same answer,
//! so a view decides each such group once. Real catalogues repeat prices and categories, so a
//! 1,000-option view is a hundred calls, not a thousand.
//!
//! The walk is conservative, as for keys ([`super::KeyUse`]): the option passed whole to a
//! helper, a method called on it, the option or tenant variable replaced, a script function
//! named `in_cart`: the set is [`OptionUse::Direct`] and every option is decided alone.

use std::collections::BTreeSet;

use rhai::{AST, ASTNode, Expr, Stmt};

use super::key_use::{
    OTHER_TENANT_METHODS, first_link, function_alone, lookup, replaces, variable_name,
};

/// What `option_blocks` reads of its option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionUse {
    /// Only these properties, and (`in_cart`) whether the option is in the cart through
    /// `tenant.in_cart(option.id)`.
    Properties {
        read: BTreeSet<String>,
        in_cart: bool,
    },
    /// Anything else: every option is decided alone.
    Direct,
}

impl OptionUse {
    /// Walks the merged AST's `option_blocks`; `None` when the set has none.
    pub(crate) fn of(ast: &AST) -> Option<OptionUse> {
        ast.iter_fn_def()
            .find(|f| f.name == "option_blocks" && f.params.len() == 2)?;
        let Some((alone, tenant, option)) = function_alone(ast, "option_blocks") else {
            return Some(OptionUse::Direct);
        };
        if ast.iter_fn_def().any(|f| f.name == "in_cart") {
            return Some(OptionUse::Direct);
        }
        let mut walk = Walk {
            tenant: &tenant,
            option: &option,
            read: BTreeSet::new(),
            in_cart: false,
            direct: false,
        };
        alone.walk(&mut |path: &[ASTNode]| walk.visit(path));
        Some(if walk.direct {
            OptionUse::Direct
        } else {
            OptionUse::Properties {
                read: walk.read,
                in_cart: walk.in_cart,
            }
        })
    }
}

struct Walk<'a> {
    tenant: &'a str,
    option: &'a str,
    read: BTreeSet<String>,
    in_cart: bool,
    direct: bool,
}

impl Walk<'_> {
    fn visit(&mut self, path: &[ASTNode]) -> bool {
        let Some(node) = path.last() else {
            return true;
        };
        let direct = match node {
            ASTNode::Stmt(statement) => replaces(statement, [self.tenant, self.option]),
            ASTNode::Expr(expr) => match variable_name(expr) {
                Some(name) if name == self.option => !self.is_property_read(expr, path),
                _ => self.calls_a_method_that_may_write(expr),
            },
            _ => false,
        };
        if direct {
            self.direct = true;
        }
        !direct
    }

    /// A method called on the tenant that is not one of its native read-only ones, or any
    /// method called on the option: a script method gets its object by reference.
    fn calls_a_method_that_may_write(&self, expr: &Expr) -> bool {
        let Expr::Dot(x, ..) = expr else {
            return false;
        };
        let object = variable_name(&x.lhs);
        if object != Some(self.tenant) && object != Some(self.option) {
            return false;
        }
        match first_link(&x.rhs) {
            Expr::MethodCall(call, _) => {
                let name = call.name.as_str();
                object == Some(self.option)
                    || (lookup(name).is_none() && !OTHER_TENANT_METHODS.contains(&name))
            }
            _ => false,
        }
    }

    /// `option` (the variable `expr`, last on `path`) is the object of a property read
    /// `option.name…`; records the property, or `in_cart` for `tenant.in_cart(option.id)`.
    fn is_property_read(&mut self, expr: &Expr, path: &[ASTNode]) -> bool {
        let at = |back: usize| path.len().checked_sub(back).and_then(|i| path.get(i));
        let Some(ASTNode::Expr(dot @ Expr::Dot(x, ..))) = at(2) else {
            return false;
        };
        if !std::ptr::eq(&x.lhs, expr) {
            return false;
        }
        let Expr::Property(property, _) = first_link(&x.rhs) else {
            return false;
        };
        let name = property.2.as_str();
        if name == "id"
            && matches!(&x.rhs, Expr::Property(..))
            && self.is_in_cart_argument(dot, path)
        {
            self.in_cart = true;
        } else {
            self.read.insert(name.to_owned());
        }
        true
    }

    /// `dot` (`option.id`, second from the end of `path`) is the argument of
    /// `tenant.in_cart(…)` or `in_cart(tenant, …)`.
    fn is_in_cart_argument(&self, dot: &Expr, path: &[ASTNode]) -> bool {
        let at = |back: usize| path.len().checked_sub(back).and_then(|i| path.get(i));
        match (at(3), at(4)) {
            (
                Some(ASTNode::Expr(Expr::MethodCall(call, _))),
                Some(ASTNode::Expr(Expr::Dot(on, ..))),
            ) => {
                call.name == "in_cart"
                    && call.args.len() == 1
                    && call.args.first().is_some_and(|a| std::ptr::eq(a, dot))
                    && variable_name(&on.lhs) == Some(self.tenant)
                    && matches!(&on.rhs, Expr::MethodCall(c, _) if std::ptr::eq(&**c, &**call))
            }
            (
                Some(ASTNode::Expr(Expr::FnCall(call, _)) | ASTNode::Stmt(Stmt::FnCall(call, _))),
                _,
            ) => {
                call.name == "in_cart"
                    && call.namespace.is_empty()
                    && call.args.len() == 2
                    && call.args.first().and_then(variable_name) == Some(self.tenant)
                    && call.args.get(1).is_some_and(|a| std::ptr::eq(a, dot))
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::OptionUse;
    use crate::rules::{RuleSet, RuleSetSource, SandboxLimits, ScriptSource};

    fn option_use_of(option_blocks: &str) -> Option<OptionUse> {
        let source = RuleSetSource {
            manifest: "name = \"test\"\nversion = \"1\"\n[params]\ncap = 100\n".into(),
            scripts: vec![ScriptSource {
                name: "option_blocks.rhai".into(),
                code: option_blocks.into(),
            }],
            messages_sv: None,
            messages_en: None,
            tests: Vec::new(),
        };
        match RuleSet::compile(&source, SandboxLimits::default()) {
            Ok(rules) => rules.option_use().cloned(),
            Err(error) => panic!("{option_blocks}\ndoes not compile: {error}"),
        }
    }

    fn reads(properties: &[&str], in_cart: bool) -> Option<OptionUse> {
        Some(OptionUse::Properties {
            read: properties
                .iter()
                .map(|p| (*p).to_owned())
                .collect::<BTreeSet<_>>(),
            in_cart,
        })
    }

    #[test]
    fn the_shipped_set_has_no_option_rule() {
        assert_eq!(
            RuleSet::shipped()
                .ok()
                .and_then(|r| r.option_use().cloned()),
            None
        );
    }

    #[test]
    fn property_reads_and_the_cart_look_up() {
        // The monthly-cap example, as shipped in rules/examples.
        assert_eq!(
            option_use_of(include_str!(
                "../../../rules/examples/monthly-cap/option_blocks.rhai"
            )),
            reads(&["monthly_price"], true)
        );
        assert_eq!(
            option_use_of(include_str!(
                "../../../rules/examples/building-age/option_blocks.rhai"
            )),
            reads(&["category"], false)
        );
        assert_eq!(
            option_use_of(
                "fn option_blocks(t, o) { if in_cart(t, o.id) || o.space == \"hall\" { return [#{ code: \"DEBT\" }]; } [] }"
            ),
            reads(&["space"], true)
        );
        // `id` read for itself: every option is a group of its own, still exact.
        assert_eq!(
            option_use_of(
                "fn option_blocks(tenant, option) { if option.id == \"a\" { return [#{ code: \"DEBT\" }]; } [] }"
            ),
            reads(&["id"], false)
        );
    }

    #[test]
    fn any_other_use_of_the_option_is_direct() {
        for script in [
            "fn option_blocks(tenant, option) { if big(option) { return [#{ code: \"DEBT\" }]; } [] }\nprivate fn big(o) { o.monthly_price.amount > 100 }",
            "fn option_blocks(tenant, option) { if option.keys.len() > 1 && option.check() { return [#{ code: \"DEBT\" }]; } [] }\nprivate fn check() { true }",
            "fn option_blocks(tenant, option) { let option = #{ id: \"x\" }; [] }",
            "fn option_blocks(tenant, option) { option.name = \"x\"; [] }",
            "fn option_blocks(tenant, option) { [#{ code: \"DEBT\", what: option }] }",
            "fn option_blocks(tenant, option) { if tenant.in_cart(option.id) { return [#{ code: \"DEBT\" }]; } [] }\nprivate fn in_cart(id) { true }",
            "fn option_blocks(tenant, option) { tenant.swap(); [] }\nprivate fn swap() { this = 1; }",
            "fn option_blocks(tenant, option) { for option in [#{ id: \"x\" }] { if option.id == \"x\" { return [#{ code: \"DEBT\" }]; } } [] }",
        ] {
            assert_eq!(option_use_of(script), Some(OptionUse::Direct), "{script}");
        }
    }
}
