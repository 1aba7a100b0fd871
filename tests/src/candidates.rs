//! Candidate rule sets the impact preview's tests and bench compare with the shipped one.

use tillval_engine::rules::{RuleSetSource, ScriptSource};

/// `order_blocks` under which a fee not fully paid anywhere closes the gate: every add-on of
/// such a household is blocked, not only its own category and space.
pub const UNPAID_FEE_ANYWHERE: &str = r#"
fn order_blocks(tenant) {
    let reasons = [];
    if !tenant.ordering_enabled { reasons.push(#{ code: "ORDERING_DISABLED" }); }
    if tenant.debt.amount > 0 { reasons.push(#{ code: "DEBT", debt: tenant.debt }); }
    let fees = tenant.unpaid_fees.values();
    if fees.len() > 0 { reasons.push(#{ code: "UNPAID_FEE", remaining: fees[0] }); }
    reasons
}
"#;

/// The shipped set with `order_blocks.rhai` replaced by `code`.
pub fn with_order_blocks(code: &str) -> RuleSetSource {
    let mut source = RuleSetSource::shipped();
    source.scripts.retain(|s| s.name != "order_blocks.rhai");
    source.scripts.push(ScriptSource {
        name: "order_blocks.rhai".into(),
        code: code.into(),
    });
    source
}
