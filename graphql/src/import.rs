//! Facts in (issue 15): staff and the landlord's systems (the `integration` role) import a
//! batch of the rental system's facts and the catalogue, as JSON Lines or CSV. The answer says
//! what the batch did, or every problem that refused it, by line and field.

use async_graphql::{Context, Enum, Object, Result, SimpleObject};
use tillval_services::import::ImportFormat as Format;
use tillval_services::imported::{ImportOutcome, ImportProblem as Problem};

use crate::context::{ImporterOnly, services};
use crate::errors::to_graphql;
use crate::types::language;

/// The most problems one answer lists; `problemCount` says how many there were.
pub const MAX_PROBLEMS_SHOWN: usize = 1_000;

/// How the batch is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ImportFormat {
    /// One JSON object per line (docs/integration.md).
    JsonLines,
    /// A header row naming the fields, then one record per row.
    Csv,
}

/// Why a line of the batch was refused.
#[derive(Debug, Clone, SimpleObject)]
pub struct ImportProblem {
    /// The line, counted from 1 (0: the batch as a whole).
    pub line: u64,
    /// The record's field to blame, where one is.
    pub field: Option<String>,
    /// A stable code: UNREADABLE, UNKNOWN_TYPE, MISSING_FIELD, UNKNOWN_FIELD, BAD_VALUE,
    /// DUPLICATE, UNKNOWN_REFERENCE, CURRENCY_MISMATCH, OVERPAID, TOO_LARGE, EMPTY.
    pub code: String,
    /// The message's parameter: the value refused or what was referred to.
    pub detail: String,
    /// The problem in the caller's language.
    pub message: String,
}

/// What an import did: all of it, or nothing.
#[derive(Debug, Clone, SimpleObject)]
pub struct ImportPayload {
    /// Whether the batch went in. When false, nothing changed.
    pub accepted: bool,
    /// Records newer than what was stored (or new): written.
    pub applied: u64,
    /// Records of the version already stored.
    pub unchanged: u64,
    /// Records older than the version stored: left as they were.
    pub stale: u64,
    /// The first 1,000 problems, by line.
    pub problems: Vec<ImportProblem>,
    /// How many problems there were in all (at most 1,000 are listed).
    pub problem_count: u64,
}

#[derive(Debug, Default)]
pub struct ImportMutation;

#[Object]
impl ImportMutation {
    /// Staff or the `integration` role: imports one batch of facts (tenants, tenancies, debts,
    /// fees, payments, ordering on or off, the catalogue). Each record's version decides: an
    /// older one than stored changes nothing. One problem refuses the whole batch.
    #[graphql(guard = "ImporterOnly")]
    async fn import_facts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "JSON_LINES when not given.")] format: Option<ImportFormat>,
        #[graphql(desc = "The batch: JSON Lines or CSV, at most 200,000 records.")] data: String,
    ) -> Result<ImportPayload> {
        let format = match format {
            Some(ImportFormat::JsonLines) | None => Format::JsonLines,
            Some(ImportFormat::Csv) => Format::Csv,
        };
        let outcome = services(ctx)?
            .import(&data, format)
            .await
            .map_err(to_graphql)?;
        let language = language(ctx);
        Ok(match outcome {
            ImportOutcome::Applied(counts) => ImportPayload {
                accepted: true,
                applied: counts.applied,
                unchanged: counts.unchanged,
                stale: counts.stale,
                problems: Vec::new(),
                problem_count: 0,
            },
            ImportOutcome::Refused(problems) => ImportPayload {
                accepted: false,
                applied: 0,
                unchanged: 0,
                stale: 0,
                problem_count: problems.len() as u64,
                problems: problems
                    .iter()
                    .take(MAX_PROBLEMS_SHOWN)
                    .map(|p: &Problem| ImportProblem {
                        line: p.line,
                        field: p.field.clone(),
                        code: p.code.as_str().to_owned(),
                        detail: p.detail.clone(),
                        message: p.message(language),
                    })
                    .collect(),
            },
        })
    }
}
