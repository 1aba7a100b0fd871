//! The crate graph is the architecture: each crate's normal dependencies leave out what it must
//! never know. `cargo tree` answers, so a crate that gains a forbidden dependency fails here
//! (and in `.ci/run`), not in review.

use std::process::Command;

/// What each crate of the workspace must never depend on, directly or through another crate.
const FORBIDDEN: &[(&str, &[&str])] = &[
    // The embeddable core: no database, no async runtime, no HTTP, no GraphQL.
    (
        "tillval-engine",
        &[
            "sqlx",
            "tokio",
            "hyper",
            "axum",
            "async-graphql",
            "tillval-services",
            "tillval-store",
        ],
    ),
    // The services speak to a store trait: no SQL, no HTTP, no GraphQL.
    (
        "tillval-services",
        &["sqlx", "hyper", "axum", "async-graphql", "tillval-store"],
    ),
    // The store: no HTTP, no GraphQL.
    (
        "tillval-store",
        &["hyper", "axum", "async-graphql", "tillval-graphql"],
    ),
    // Webhook delivery speaks HTTP as a client and to the store trait: no SQL, no server, no
    // GraphQL.
    (
        "tillval-webhooks",
        &[
            "sqlx",
            "axum",
            "async-graphql",
            "tillval-store",
            "tillval-graphql",
        ],
    ),
    // The store does not deliver webhooks.
    ("tillval-store", &["tillval-webhooks", "reqwest"]),
    // The server never carries test-only code.
    (
        "tillval-graphql",
        &["tillval-tests", "proptest-derive", "tempfile"],
    ),
];

/// The names of `package`'s normal dependencies, all the way down.
fn normal_dependencies(package: &str) -> Vec<String> {
    let output = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
            "-p",
        ])
        .arg(package)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output();
    let output = match output {
        Ok(output) if output.status.success() => output,
        Ok(output) => panic!(
            "cargo tree -p {package} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(error) => panic!("cargo tree -p {package} did not run: {error}"),
    };
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn no_crate_depends_on_what_its_layer_must_never_know() {
    let mut breaches = Vec::new();
    for (package, forbidden) in FORBIDDEN {
        let dependencies = normal_dependencies(package);
        assert!(
            dependencies.first().map(String::as_str) == Some(*package),
            "cargo tree -p {package} did not list the package itself first: {dependencies:?}"
        );
        for name in *forbidden {
            if dependencies.iter().any(|d| d == name) {
                breaches.push(format!("{package} depends on {name}"));
            }
        }
    }
    assert!(
        breaches.is_empty(),
        "the crate graph is broken: {breaches:#?}"
    );
}

#[test]
fn the_server_builds_the_engine_without_the_testing_feature() {
    let output = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "-e",
            "features,normal",
            "--prefix",
            "none",
            "-p",
            "tillval-graphql",
        ])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .unwrap_or_else(|error| panic!("cargo tree did not run: {error}"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8_lossy(&output.stdout);
    assert!(
        tree.contains("tillval-engine"),
        "tillval-graphql's tree has no tillval-engine: {tree}"
    );
    assert!(
        !tree.contains("tillval-engine feature \"testing\""),
        "tillval-graphql's normal dependencies turn on tillval-engine's `testing` feature"
    );
}
