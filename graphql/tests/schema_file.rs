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

/// Every type, field, argument, input field and enum value the schema exports carries a
/// description, so GraphiQL's docs pane explains the whole API.
#[test]
fn every_schema_item_has_a_description() {
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};

    let document =
        async_graphql::parser::parse_schema(tillval_graphql::sdl()).expect("the SDL parses");
    let mut missing = Vec::new();
    let mut items = 0_usize;
    let mut check = |path: String, description: &Option<_>| {
        items += 1;
        if description.is_none() {
            missing.push(path);
        }
    };
    for definition in &document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else {
            continue;
        };
        let ty = &ty.node;
        let name = ty.name.node.as_str();
        // async-graphql's own connection type gives its fields descriptions but offers no way
        // to describe the type; the field returning it says what the list holds.
        let library_connection = name.ends_with("Connection")
            && matches!(&ty.kind, TypeKind::Object(object)
                if object.fields.iter().any(|f| f.node.name.node == "pageInfo"));
        if !library_connection {
            check(name.to_owned(), &ty.description);
        }
        match &ty.kind {
            TypeKind::Object(object) => {
                for field in &object.fields {
                    let field = &field.node;
                    check(format!("{name}.{}", field.name.node), &field.description);
                    for argument in &field.arguments {
                        check(
                            format!("{name}.{}({}:)", field.name.node, argument.node.name.node),
                            &argument.node.description,
                        );
                    }
                }
            }
            TypeKind::Interface(interface) => {
                for field in &interface.fields {
                    check(
                        format!("{name}.{}", field.node.name.node),
                        &field.node.description,
                    );
                }
            }
            TypeKind::InputObject(input) => {
                for field in &input.fields {
                    check(
                        format!("{name}.{}", field.node.name.node),
                        &field.node.description,
                    );
                }
            }
            TypeKind::Enum(enumeration) => {
                for value in &enumeration.values {
                    check(
                        format!("{name}.{}", value.node.value.node),
                        &value.node.description,
                    );
                }
            }
            TypeKind::Scalar | TypeKind::Union(_) => {}
        }
    }
    assert!(
        items > 300,
        "the walk found only {items} items: it is not reading the schema"
    );
    assert!(
        missing.is_empty(),
        "{} of {items} schema items have no description (a doc comment on the Rust item):\n{}",
        missing.len(),
        missing.join("\n")
    );
}
