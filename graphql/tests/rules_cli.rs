//! `tillval rules check`: exit 0 on the shipped set and the examples; non-zero, with the
//! problem and its position, on a syntax error, a wrong arity, an endless loop and a failing
//! test case.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::Command;

const BINARY: &str = env!("CARGO_BIN_EXE_tillval");

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn check(dir: &Path, extra: &[&str]) -> (bool, String) {
    let output = Command::new(BINARY)
        .arg("rules")
        .arg("check")
        .arg(dir)
        .args(extra)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// A rule set with one script and, optionally, one test file.
fn set(script: &str, test: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ruleset.toml"),
        "name = \"broken\"\nversion = \"0.1\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("rules.rhai"), script).unwrap();
    if let Some(test) = test {
        std::fs::create_dir(dir.path().join("tests")).unwrap();
        std::fs::write(dir.path().join("tests").join("cases.toml"), test).unwrap();
    }
    dir
}

#[test]
fn the_shipped_set_and_the_examples_pass() {
    for dir in [
        "rules",
        "rules/examples/monthly-cap",
        "rules/examples/building-age",
        "rules/examples/seasonal-stop",
    ] {
        let (ok, out) = check(&repo().join(dir), &["--fuzz", "100"]);
        assert!(ok, "{dir}: {out}");
        assert!(
            out.contains("test case(s) passed") && out.trim_end().ends_with("ok"),
            "{out}"
        );
    }
}

#[test]
fn a_syntax_error_is_reported_with_its_position() {
    let dir = set(
        "fn key_blocks(tenant, key) {\n    let reasons = [;\n    reasons\n}\n",
        None,
    );
    let (ok, out) = check(dir.path(), &[]);
    assert!(!ok, "{out}");
    assert!(out.contains("rules.rhai:2:"), "{out}");
}

#[test]
fn a_wrong_arity_is_reported_with_its_position() {
    let dir = set("// keys\n\nfn key_blocks(key) { [] }\n", None);
    let (ok, out) = check(dir.path(), &[]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("rules.rhai:3:4:") && out.contains("takes 2 parameter(s)"),
        "{out}"
    );
}

#[test]
fn an_endless_loop_is_reported_with_its_position() {
    let dir = set(
        "fn order_blocks(tenant) {\n    let n = 0;\n    while true { n += 1; }\n    []\n}\n",
        None,
    );
    let (ok, out) = check(dir.path(), &[]);
    assert!(!ok, "{out}");
    // rhai does not say where a loop was stopped; the function that ran away is the position.
    assert!(
        out.contains("rules.rhai:1:4:") && out.contains("sandbox limit on operations"),
        "{out}"
    );
}

#[test]
fn a_failing_test_case_is_reported_with_its_position() {
    // Forgets S5: unpaid fees no longer block.
    let script = "fn key_blocks(tenant, key) {\n    if tenant.has_ongoing_order(key) { return [#{ code: \"ONGOING_ORDER\", case_number: tenant.ongoing_order(key) }]; }\n    []\n}\n";
    let test = "[[options]]\nid = \"golv\"\ncategory = \"golv\"\nspace = \"hall\"\n\n[[cases]]\nname = \"S5 still holds\"\nunpaid_fees = { \"golv/hall\" = 100 }\nexpect = { golv = \"BLOCKED UNPAID_FEE\" }\n";
    let dir = set(script, Some(test));
    let (ok, out) = check(dir.path(), &[]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("tests/cases.toml:7:")
            && out.contains("expected BLOCKED UNPAID_FEE, got AVAILABLE"),
        "{out}"
    );
    assert!(out.contains("0/1 test case(s) passed"), "{out}");
}

#[test]
fn fuzzing_finds_a_set_that_turns_off_an_invariant() {
    // Lets a debtor order: S3 may not be turned off.
    let dir = set("fn order_blocks(tenant) { [] }\n", None);
    let (ok, out) = check(dir.path(), &["--fuzz", "300"]);
    assert!(!ok, "{out}");
    assert!(out.contains("with a debt (S3)"), "{out}");
}

#[test]
fn explain_names_the_function_and_file_that_decided() {
    let output = Command::new(BINARY)
        .args(["rules", "explain"])
        .arg(repo().join("rules"))
        .arg("--facts")
        .arg(repo().join("rules/tests/seed.toml"))
        .output()
        .unwrap();
    assert!(output.status.success());
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        out.contains("decided by key_blocks in key_blocks.rhai"),
        "{out}"
    );
    assert!(
        out.contains("decided by order_blocks in order_blocks.rhai"),
        "{out}"
    );
    assert!(out.contains("decided by the cart (engine)"), "{out}");
}
