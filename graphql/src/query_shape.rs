//! A bound on what a document asks for once its fragments are expanded, checked right after
//! parsing and before anything walks the expanded document.
//!
//! async-graphql's own depth and complexity checks expand every fragment spread where it
//! stands, so a 1 KB document whose fragments each spread the next one twice costs 2^28 steps
//! before it is refused. Here each fragment is counted once (memoised), so the count of a
//! document costs time linear in its size, and the count stops as soon as it passes the bound.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Name, ServerError, ServerResult, Variables};

/// Fields a document may select, every fragment spread counted as often as it is spread.
pub const MAX_EXPANDED_SELECTIONS: u64 = 2_000;
/// Fragment spreads nested inside each other (a spread in a fragment in a fragment …).
pub const MAX_SPREAD_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShapeError {
    TooManySelections,
    TooDeep,
    Cycle(String),
    UnknownFragment(String),
}

impl std::fmt::Display for ShapeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShapeError::TooManySelections => write!(
                f,
                "the query selects more than {MAX_EXPANDED_SELECTIONS} fields once its fragments are expanded"
            ),
            ShapeError::TooDeep => write!(
                f,
                "fragment spreads are nested more than {MAX_SPREAD_DEPTH} deep"
            ),
            ShapeError::Cycle(name) => write!(f, "fragment {name} spreads itself"),
            ShapeError::UnknownFragment(name) => write!(f, "unknown fragment {name}"),
        }
    }
}

/// How many fields `document` selects with its fragments expanded; stops at the bound.
pub fn expanded_selections(document: &ExecutableDocument) -> Result<u64, ShapeError> {
    let mut counter = Counter {
        document,
        memo: HashMap::new(),
        total_work: 0,
    };
    let mut total: u64 = 0;
    for (_, operation) in document.operations.iter() {
        total = total.saturating_add(counter.set(&operation.node.selection_set.node, 0)?);
        if total > MAX_EXPANDED_SELECTIONS {
            return Err(ShapeError::TooManySelections);
        }
    }
    Ok(total)
}

struct Counter<'a> {
    document: &'a ExecutableDocument,
    /// Per fragment: `None` while it is being counted (a cycle), then its count.
    memo: HashMap<&'a Name, Option<u64>>,
    /// Selections visited, a guard that the memo keeps linear.
    total_work: u64,
}

impl<'a> Counter<'a> {
    fn set(&mut self, set: &'a SelectionSet, depth: usize) -> Result<u64, ShapeError> {
        let mut count: u64 = 0;
        for item in &set.items {
            self.total_work += 1;
            count = count.saturating_add(match &item.node {
                Selection::Field(field) => {
                    1u64.saturating_add(self.set(&field.node.selection_set.node, depth)?)
                }
                Selection::InlineFragment(inline) => {
                    self.set(&inline.node.selection_set.node, depth)?
                }
                Selection::FragmentSpread(spread) => {
                    self.fragment(&spread.node.fragment_name.node, depth + 1)?
                }
            });
            if count > MAX_EXPANDED_SELECTIONS {
                return Err(ShapeError::TooManySelections);
            }
        }
        Ok(count)
    }

    fn fragment(&mut self, name: &'a Name, depth: usize) -> Result<u64, ShapeError> {
        if depth > MAX_SPREAD_DEPTH {
            return Err(ShapeError::TooDeep);
        }
        match self.memo.get(name) {
            Some(Some(count)) => return Ok(*count),
            Some(None) => return Err(ShapeError::Cycle(name.to_string())),
            None => {}
        }
        let Some(fragment) = self.document.fragments.get(name) else {
            return Err(ShapeError::UnknownFragment(name.to_string()));
        };
        self.memo.insert(name, None);
        let count = self.set(&fragment.node.selection_set.node, depth)?;
        self.memo.insert(name, Some(count));
        Ok(count)
    }
}

/// The schema extension that refuses a document over the bounds as soon as it is parsed, for
/// HTTP and WebSocket alike.
#[derive(Debug, Default, Clone, Copy)]
pub struct QueryShape;

impl ExtensionFactory for QueryShape {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(QueryShape)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for QueryShape {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        // Counted on a parse of our own, before `next` runs: async-graphql's recursion-depth
        // check, inside `next`, expands the fragments itself. A document that does not parse
        // goes on to `next`, which says why.
        let shape = async_graphql::parser::parse_query(query)
            .map(|document| expanded_selections(&document));
        match shape {
            Err(_) | Ok(Ok(_)) => next.run(ctx, query, variables).await,
            Ok(Err(ShapeError::UnknownFragment(_))) => {
                // async-graphql's validation names it precisely, and it costs nothing.
                next.run(ctx, query, variables).await
            }
            Ok(Err(shape)) => {
                // A cycle too: async-graphql's depth check would walk it 2^depth times.
                let code = match shape {
                    ShapeError::Cycle(_) => "GRAPHQL_VALIDATION_FAILED",
                    _ => "QUERY_TOO_LARGE",
                };
                let mut error = ServerError::new(shape.to_string(), None);
                let mut extensions = async_graphql::ErrorExtensionValues::default();
                extensions.set("code", code);
                error.extensions = Some(extensions);
                Err(error)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fan_out(levels: usize, spreads: usize) -> String {
        let mut query = String::from("{ ...F0 }\n");
        for level in 0..levels {
            let next = format!("...F{} ", level + 1);
            query.push_str(&format!(
                "fragment F{level} on Query {{ {} }}\n",
                next.repeat(spreads)
            ));
        }
        query.push_str(&format!(
            "fragment F{levels} on Query {{ terms {{ text }} }}\n"
        ));
        query
    }

    #[test]
    fn an_exponential_fan_out_is_refused_after_linear_work() {
        let query = fan_out(27, 2);
        let document = async_graphql::parser::parse_query(&query).unwrap();
        let mut counter = Counter {
            document: &document,
            memo: HashMap::new(),
            total_work: 0,
        };
        let result = counter.set(
            &document
                .operations
                .iter()
                .next()
                .unwrap()
                .1
                .node
                .selection_set
                .node,
            0,
        );
        assert_eq!(result, Err(ShapeError::TooManySelections));
        // 28 fragments of at most 2 items each: the work is the document, not 2^28.
        assert!(counter.total_work < 200, "{}", counter.total_work);
    }

    #[test]
    fn an_ordinary_query_with_fragments_is_counted_exactly() {
        let query = "query { viewer { ...T ...T } } fragment T on Viewer { tenant { name id } }";
        let document = async_graphql::parser::parse_query(query).unwrap();
        // viewer (1) + twice (tenant + name + id) = 7
        assert_eq!(expanded_selections(&document), Ok(7));
        let deep = fan_out(40, 1);
        let document = async_graphql::parser::parse_query(&deep).unwrap();
        assert_eq!(expanded_selections(&document), Err(ShapeError::TooDeep));
        let cyclic = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
        let document = async_graphql::parser::parse_query(cyclic).unwrap();
        assert!(matches!(
            expanded_selections(&document),
            Err(ShapeError::Cycle(_))
        ));
    }
}
