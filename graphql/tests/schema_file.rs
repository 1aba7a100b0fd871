//! `schema.graphql` at the repository root is the SDL the code exports. Regenerate it with
//! `cargo run -p tillval-graphql -- schema > schema.graphql`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[test]
fn schema_graphql_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("schema.graphql");
    let on_disk = std::fs::read_to_string(&path).expect("schema.graphql exists");
    let exported = tillval_graphql::sdl();
    assert!(
        on_disk == exported,
        "schema.graphql is out of date: run `cargo run -p tillval-graphql -- schema > schema.graphql`"
    );
}
