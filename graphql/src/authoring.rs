//! Rule authoring over GraphQL, for staff: validate, publish and roll back rule sets, list the
//! versions, explain a tenant's decisions, read the decision log.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use tillval_engine::model::TenantId;
use tillval_engine::rules::check::Problem;
use tillval_engine::rules::{RuleSetSource, ScriptSource};
use tillval_services::Entity;
use tillval_services::service::ServiceError;
use tillval_services::store::{DecisionFilter, StoredRuleSet};

use crate::context::{StaffOnly, parse_rental_object_id, services, staff};
use crate::errors::{UserError, error, not_found, to_graphql, to_user_error};
use crate::ids::{Kind, decode, encode};
use crate::types::{AvailabilityStatus, Reason, language};

/// One file of a rule set: its name in the folder and its text.
#[derive(Debug, InputObject)]
pub struct RuleSetFileInput {
    /// `option_blocks.rhai`, or for tests `tests/cap.toml`.
    pub name: String,
    /// The file's text (UTF-8).
    pub content: String,
}

/// A rule set as its folder holds it.
#[derive(Debug, InputObject)]
pub struct RuleSetInput {
    /// `ruleset.toml`.
    pub manifest: String,
    /// The rhai scripts, e.g. `key_blocks.rhai`.
    pub scripts: Vec<RuleSetFileInput>,
    /// `messages.sv.toml`: the reason codes' messages in Swedish.
    pub messages_sv: Option<String>,
    /// `messages.en.toml`: the reason codes' messages in English.
    pub messages_en: Option<String>,
    /// The set's own test cases (`tests/*.toml`), run before it may go live.
    #[graphql(default)]
    pub tests: Vec<RuleSetFileInput>,
}

impl From<RuleSetInput> for RuleSetSource {
    fn from(input: RuleSetInput) -> Self {
        let files = |files: Vec<RuleSetFileInput>| {
            files
                .into_iter()
                .map(|f| ScriptSource {
                    name: f.name,
                    code: f.content,
                })
                .collect()
        };
        RuleSetSource {
            manifest: input.manifest,
            scripts: files(input.scripts),
            messages_sv: input.messages_sv,
            messages_en: input.messages_en,
            tests: files(input.tests),
        }
    }
}

/// One file of a rule set, named as its folder holds it: `ruleset.toml`, `key_blocks.rhai`,
/// `messages/sv.toml`, `tests/seed.toml`.
#[derive(Debug, Clone, SimpleObject)]
pub struct RuleSetFile {
    /// Its name in the folder, e.g. `key_blocks.rhai`.
    pub name: String,
    /// Its text.
    pub content: String,
}

fn files_of(source: RuleSetSource) -> Vec<RuleSetFile> {
    let mut files = vec![RuleSetFile {
        name: "ruleset.toml".into(),
        content: source.manifest,
    }];
    files.extend(source.scripts.into_iter().map(|s| RuleSetFile {
        name: s.name,
        content: s.code,
    }));
    for (name, messages) in [
        ("messages/sv.toml", source.messages_sv),
        ("messages/en.toml", source.messages_en),
    ] {
        if let Some(content) = messages {
            files.push(RuleSetFile {
                name: name.into(),
                content,
            });
        }
    }
    files.extend(source.tests.into_iter().map(|t| RuleSetFile {
        name: if t.name.starts_with("tests/") {
            t.name
        } else {
            format!("tests/{}", t.name)
        },
        content: t.code,
    }));
    files
}

/// One line of a file diff.
#[derive(Debug, Clone, SimpleObject)]
pub struct DiffLine {
    /// `SAME`, `ADDED` or `REMOVED`.
    pub kind: String,
    /// The line's text.
    pub text: String,
    /// The line's number in the older version (none for an added line).
    pub old_line: Option<u32>,
    /// The line's number in the newer version (none for a removed line).
    pub new_line: Option<u32>,
}

/// One file of two versions, line by line.
#[derive(Debug, Clone, SimpleObject)]
pub struct FileDiff {
    /// The file's name in the folder.
    pub name: String,
    /// `SAME`, `CHANGED`, `ADDED` or `REMOVED`.
    pub status: String,
    /// Every line when the file changed; none when it is the same.
    pub lines: Vec<DiffLine>,
}

/// Two published versions side by side.
#[derive(Debug, SimpleObject)]
pub struct RuleSetDiff {
    /// The older version.
    pub from: RuleSetVersion,
    /// The newer version.
    pub to: RuleSetVersion,
    /// Every file of either version, by name.
    pub files: Vec<FileDiff>,
}

fn diff_files(old: &[RuleSetFile], new: &[RuleSetFile]) -> Vec<FileDiff> {
    let mut names: Vec<&str> = old.iter().chain(new).map(|f| f.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let small = |n: usize| u32::try_from(n + 1).ok();
    names
        .into_iter()
        .map(|name| {
            let before = old
                .iter()
                .find(|f| f.name == name)
                .map(|f| f.content.as_str());
            let after = new
                .iter()
                .find(|f| f.name == name)
                .map(|f| f.content.as_str());
            let status = match (before, after) {
                (Some(a), Some(b)) if a == b => "SAME",
                (Some(_), Some(_)) => "CHANGED",
                (None, _) => "ADDED",
                (_, None) => "REMOVED",
            };
            let lines = if status == "SAME" {
                Vec::new()
            } else {
                let diff = similar::TextDiff::from_lines(before.unwrap_or(""), after.unwrap_or(""));
                diff.iter_all_changes()
                    .map(|change| DiffLine {
                        kind: match change.tag() {
                            similar::ChangeTag::Equal => "SAME",
                            similar::ChangeTag::Insert => "ADDED",
                            similar::ChangeTag::Delete => "REMOVED",
                        }
                        .to_owned(),
                        text: change.value().trim_end_matches('\n').to_owned(),
                        old_line: change.old_index().and_then(small),
                        new_line: change.new_index().and_then(small),
                    })
                    .collect()
            };
            FileDiff {
                name: name.to_owned(),
                status: status.to_owned(),
                lines,
            }
        })
        .collect()
}

/// One problem of a rule set, where it is.
#[derive(Debug, Clone, SimpleObject)]
pub struct RuleProblem {
    /// The file it is in, e.g. `key_blocks.rhai` or `tests/cap.toml`.
    pub file: String,
    /// Its line, when known (from 1).
    pub line: Option<u32>,
    /// Its column, when known (from 1).
    pub column: Option<u32>,
    /// What is wrong, for the rule's author.
    pub message: String,
}

impl From<&Problem> for RuleProblem {
    fn from(p: &Problem) -> Self {
        let small = |n: Option<usize>| n.and_then(|n| u32::try_from(n).ok());
        RuleProblem {
            file: p.file.clone(),
            line: small(p.line),
            column: small(p.column),
            message: p.message.clone(),
        }
    }
}

/// What the checks found in a candidate rule set.
#[derive(Debug, SimpleObject)]
pub struct RuleSetValidation {
    /// True when it may be published: it compiles, its functions have the right arity and its test cases pass.
    pub ok: bool,
    /// Everything wrong, each with its file and place.
    pub problems: Vec<RuleProblem>,
    /// How many of the set's own test cases ran.
    pub test_cases_run: u32,
    /// How many of them passed.
    pub test_cases_passed: u32,
    /// What the set's own test cases exercise: its own functions, and the reason codes its
    /// messages name. A zero is something no case covers.
    pub coverage: Vec<CoverageEntry>,
}

/// A function or reason code of the set, and in how many of its test cases it shows.
#[derive(Debug, Clone, SimpleObject)]
pub struct CoverageEntry {
    /// `FUNCTION` or `REASON_CODE`.
    pub kind: String,
    /// The function's name or the reason code.
    pub name: String,
    /// In how many test cases it shows (0: none covers it).
    pub cases: u32,
}

pub fn coverage_entries(coverage: &tillval_engine::rules::check::Coverage) -> Vec<CoverageEntry> {
    let entry = |kind: &str| {
        let kind = kind.to_owned();
        move |(name, cases): &(String, u32)| CoverageEntry {
            kind: kind.clone(),
            name: name.clone(),
            cases: *cases,
        }
    };
    coverage
        .functions
        .iter()
        .map(entry("FUNCTION"))
        .chain(coverage.codes.iter().map(entry("REASON_CODE")))
        .collect()
}

/// A published version of the rule set.
#[derive(Debug, Clone, SimpleObject)]
pub struct RuleSetVersion {
    /// Its number: 1, 2, 3 … in the order published.
    pub version: i64,
    /// The name its manifest gives.
    pub name: String,
    /// The version its manifest gives (the author's own label).
    pub manifest_version: String,
    /// Who published it (the staff user's token subject).
    pub published_by: String,
    /// When (UTC).
    pub published_at: DateTime<Utc>,
    /// True for the version in force.
    pub active: bool,
}

impl From<StoredRuleSet> for RuleSetVersion {
    fn from(s: StoredRuleSet) -> Self {
        RuleSetVersion {
            version: s.version,
            name: s.name,
            manifest_version: s.manifest_version,
            published_by: s.published_by,
            published_at: s.published_at,
            active: s.active,
        }
    }
}

/// The answer to publishing or rolling back a rule set.
#[derive(Debug, SimpleObject)]
pub struct RuleSetPayload {
    /// The version now in force; null when refused.
    pub rule_set: Option<RuleSetVersion>,
    /// Why the set was refused; the running one stays.
    pub problems: Vec<RuleProblem>,
    /// Why it was refused, besides the set's own problems; empty on success.
    pub user_errors: Vec<UserError>,
}

/// One option's decision, and what decided it.
#[derive(Debug, SimpleObject)]
pub struct OptionDecision {
    /// The option.
    pub option_id: ID,
    /// Its name.
    pub name: String,
    /// What was decided.
    pub status: AvailabilityStatus,
    /// Why, when not available.
    pub reasons: Vec<Reason>,
    /// `order_blocks`, `key_blocks`, `option_blocks`, `lock_keys`, or `cart` (the engine).
    pub decided_by: Option<String>,
    /// The rule-set file of that function (`shipped:…` for the shipped set's).
    pub file: Option<String>,
    /// The script error, when the rules failed for it.
    pub error: Option<String>,
}

/// A tenant's catalogue decisions, each with what decided it.
#[derive(Debug, SimpleObject)]
pub struct DecisionExplanation {
    /// `name version` of the rule set in force.
    pub rule_set: String,
    /// Whether the tenant may order at all.
    pub gate_open: bool,
    /// Why not, when the gate is closed.
    pub gate_reasons: Vec<Reason>,
    /// Every option of the apartment's catalogue.
    pub options: Vec<OptionDecision>,
}

/// One refusal the rules made (a cart add or a submit), as logged.
#[derive(Debug, SimpleObject)]
pub struct DecisionLogEntry {
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// `cart_add` or `checkout_submit`.
    pub action: String,
    /// The apartment.
    pub rental_object_id: ID,
    /// The option, for a cart add.
    pub option_id: Option<ID>,
    /// `name version` of the rule set that refused.
    pub rule_set: String,
    /// The codes of the reasons given.
    pub reason_codes: Vec<String>,
    /// The facts' key figures then, as JSON: debt, ongoing orders, unpaid fees …
    pub figures: String,
}

/// How many household × option pairs change, one way or the other.
#[derive(Debug, Clone, Copy, SimpleObject)]
pub struct ImpactCounts {
    /// Orderable now, blocked with the candidate.
    pub newly_blocked: u64,
    /// Blocked now, orderable with the candidate.
    pub newly_available: u64,
    /// Blocked with both, for other reasons.
    pub reasons_changed: u64,
}

impl From<tillval_engine::impact::Counts> for ImpactCounts {
    fn from(c: tillval_engine::impact::Counts) -> Self {
        ImpactCounts {
            newly_blocked: c.newly_blocked,
            newly_available: c.newly_available,
            reasons_changed: c.reasons_changed,
        }
    }
}

/// A household an option changes for.
#[derive(Debug, Clone, SimpleObject)]
pub struct ImpactHousehold {
    /// The tenant.
    pub tenant_id: ID,
    /// The apartment.
    pub rental_object_id: ID,
    /// `NEWLY_BLOCKED`, `NEWLY_AVAILABLE` or `REASONS_CHANGED`.
    pub change: String,
    /// The reason codes under the set in force.
    pub active_reasons: Vec<String>,
    /// The reason codes under the candidate.
    pub candidate_reasons: Vec<String>,
}

/// What the candidate changes for one option.
#[derive(Debug, Clone, SimpleObject)]
pub struct OptionImpact {
    /// The option.
    pub option_id: ID,
    /// Its name.
    pub name: String,
    /// Its category.
    pub category_id: ID,
    /// How many households it changes for, by kind of change.
    pub counts: ImpactCounts,
    /// The first 50 households it changes for.
    pub households: Vec<ImpactHousehold>,
}

/// What the candidate changes in one category.
#[derive(Debug, Clone, SimpleObject)]
pub struct CategoryImpact {
    /// The category.
    pub category_id: ID,
    /// Household × option pairs changed, by kind.
    pub counts: ImpactCounts,
}

/// What the candidate changes for one reason code.
#[derive(Debug, Clone, SimpleObject)]
pub struct ReasonImpact {
    /// The candidate's code for pairs blocked with it; the active set's for pairs it frees.
    pub code: String,
    /// Household × option pairs that gain or lose this code, by kind.
    pub counts: ImpactCounts,
}

/// Script errors of the candidate, per rule function.
#[derive(Debug, Clone, SimpleObject)]
pub struct ImpactScriptError {
    /// The function, e.g. `option_blocks`.
    pub function: String,
    /// How many calls failed.
    pub count: u64,
    /// The first error's message.
    pub example: String,
}

/// What a candidate rule set would change for every household, before it goes live.
#[derive(Debug, SimpleObject)]
pub struct RuleSetImpact {
    /// False when the time limit stopped the preview before every household.
    pub complete: bool,
    /// `name version` of the set in force.
    pub active: String,
    /// `name version` of the candidate.
    pub candidate: String,
    /// How many households were decided.
    pub households: u64,
    /// How many of them any option changed for.
    pub households_changed: u64,
    /// How many household × option pairs were decided.
    pub options_decided: u64,
    /// All changes, by kind.
    pub totals: ImpactCounts,
    /// Per option, those that change most first.
    pub by_option: Vec<OptionImpact>,
    /// Per category.
    pub by_category: Vec<CategoryImpact>,
    /// Per reason code.
    pub by_reason: Vec<ReasonImpact>,
    /// The candidate's script errors, per function.
    pub script_errors: Vec<ImpactScriptError>,
    /// How long the preview took, in milliseconds.
    pub elapsed_ms: u64,
    /// Why the candidate could not be previewed (it does not compile); nothing was decided.
    pub problems: Vec<RuleProblem>,
}

impl RuleSetImpact {
    fn refused(problems: Vec<RuleProblem>) -> Self {
        RuleSetImpact {
            complete: false,
            active: String::new(),
            candidate: String::new(),
            households: 0,
            households_changed: 0,
            options_decided: 0,
            totals: tillval_engine::impact::Counts::default().into(),
            by_option: Vec::new(),
            by_category: Vec::new(),
            by_reason: Vec::new(),
            script_errors: Vec::new(),
            elapsed_ms: 0,
            problems,
        }
    }
}

impl From<tillval_services::impact::ImpactPreview> for RuleSetImpact {
    fn from(preview: tillval_services::impact::ImpactPreview) -> Self {
        let report = preview.report;
        let change = |c: tillval_engine::impact::Change| {
            match c {
                tillval_engine::impact::Change::NewlyBlocked => "NEWLY_BLOCKED",
                tillval_engine::impact::Change::NewlyAvailable => "NEWLY_AVAILABLE",
                tillval_engine::impact::Change::ReasonsChanged => "REASONS_CHANGED",
            }
            .to_owned()
        };
        let mut by_option: Vec<OptionImpact> = report
            .by_option
            .into_values()
            .map(|o| OptionImpact {
                option_id: encode(Kind::AddOnOption, o.option.as_str()),
                name: o.name,
                category_id: encode(Kind::Category, o.category.as_str()),
                counts: o.counts.into(),
                households: o
                    .households
                    .into_iter()
                    .map(|h| ImpactHousehold {
                        tenant_id: encode(Kind::Tenant, h.tenant.as_str()),
                        rental_object_id: encode(Kind::RentalObject, h.rental_object.as_str()),
                        change: change(h.change),
                        active_reasons: h.active_reasons,
                        candidate_reasons: h.candidate_reasons,
                    })
                    .collect(),
            })
            .collect();
        // The options that change for the most households first.
        by_option.sort_by_key(|o| {
            std::cmp::Reverse(
                o.counts.newly_blocked + o.counts.newly_available + o.counts.reasons_changed,
            )
        });
        RuleSetImpact {
            complete: preview.complete,
            active: preview.active,
            candidate: preview.candidate,
            households: report.households,
            households_changed: report.households_changed,
            options_decided: report.options_decided,
            totals: report.totals.into(),
            by_option,
            by_category: report
                .by_category
                .into_iter()
                .map(|(id, counts)| CategoryImpact {
                    category_id: encode(Kind::Category, id.as_str()),
                    counts: counts.into(),
                })
                .collect(),
            by_reason: report
                .by_reason
                .into_iter()
                .map(|(code, counts)| ReasonImpact {
                    code,
                    counts: counts.into(),
                })
                .collect(),
            script_errors: report
                .script_errors
                .into_values()
                .map(|e| ImpactScriptError {
                    function: e.function,
                    count: e.count,
                    example: e.example,
                })
                .collect(),
            elapsed_ms: u64::try_from(preview.elapsed.as_millis()).unwrap_or(u64::MAX),
            problems: Vec::new(),
        }
    }
}

fn tenant_id(id: &ID) -> Result<TenantId> {
    decode(Kind::Tenant, id)
        .and_then(|t| TenantId::parse(t).ok())
        .ok_or_else(|| not_found(Entity::Tenant))
}

fn payload(
    result: std::result::Result<StoredRuleSet, ServiceError>,
    ctx: &Context<'_>,
) -> Result<RuleSetPayload> {
    match result {
        Ok(stored) => Ok(RuleSetPayload {
            rule_set: Some(stored.into()),
            problems: Vec::new(),
            user_errors: Vec::new(),
        }),
        Err(ServiceError::NotFound(what)) => Err(not_found(what)),
        Err(error) => {
            let problems = tillval_services::authoring::problems(&error)
                .iter()
                .map(RuleProblem::from)
                .collect();
            let services = services(ctx)?;
            let user_error = to_user_error(error, &services.rules(), language(ctx))?;
            Ok(RuleSetPayload {
                rule_set: None,
                problems,
                user_errors: vec![user_error],
            })
        }
    }
}

#[derive(Debug, Default)]
pub struct AuthoringQuery;

#[Object]
impl AuthoringQuery {
    /// Staff: every published rule-set version, newest first.
    #[graphql(guard = "StaffOnly")]
    async fn rule_sets(&self, ctx: &Context<'_>) -> Result<Vec<RuleSetVersion>> {
        let sets = services(ctx)?.rule_sets().await.map_err(to_graphql)?;
        Ok(sets.into_iter().map(Into::into).collect())
    }

    /// Staff: the files of a published rule-set version, or of the set in force.
    #[graphql(guard = "StaffOnly")]
    async fn rule_set_files(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The version; the one in force when left out.")] version: Option<i64>,
    ) -> Result<Vec<RuleSetFile>> {
        let source = services(ctx)?
            .rule_set_source(version)
            .await
            .map_err(to_graphql)?;
        Ok(files_of(source))
    }

    /// Staff: two published versions side by side, file by file and line by line, with who
    /// published each and when.
    #[graphql(guard = "StaffOnly")]
    async fn rule_set_diff(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The older version's number.")] from: i64,
        #[graphql(desc = "The newer version's number.")] to: i64,
    ) -> Result<RuleSetDiff> {
        let services = services(ctx)?;
        let sets = services.rule_sets().await.map_err(to_graphql)?;
        let version = |v: i64| {
            sets.iter()
                .find(|s| s.version == v)
                .cloned()
                .map(RuleSetVersion::from)
                .ok_or_else(|| not_found(Entity::RuleSet))
        };
        let (from_version, to_version) = (version(from)?, version(to)?);
        let old = files_of(
            services
                .rule_set_source(Some(from))
                .await
                .map_err(to_graphql)?,
        );
        let new = files_of(
            services
                .rule_set_source(Some(to))
                .await
                .map_err(to_graphql)?,
        );
        Ok(RuleSetDiff {
            from: from_version,
            to: to_version,
            files: diff_files(&old, &new),
        })
    }

    /// Staff: what a candidate rule set would change, decided over every household the
    /// database holds against the set in force: per option, category and reason code, how many
    /// household × option pairs become blocked, become available, or change reasons, with the
    /// first households of each option, and the candidate's script errors per function.
    /// Changes nothing. A candidate that does not compile answers its problems.
    #[graphql(guard = "StaffOnly")]
    async fn rule_set_impact(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The candidate rule set, file by file.")] source: RuleSetInput,
    ) -> Result<RuleSetImpact> {
        match services(ctx)?.rule_set_impact(&source.into()).await {
            Ok(preview) => Ok(preview.into()),
            Err(ServiceError::RuleSetRefused(problems)) => Ok(RuleSetImpact::refused(
                problems.iter().map(RuleProblem::from).collect(),
            )),
            Err(error) => Err(to_graphql(error)),
        }
    }

    /// Staff: a tenant's catalogue decisions with, per option, what decided it.
    #[graphql(guard = "StaffOnly")]
    async fn decision_explain(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The tenant.")] tenant_id: ID,
        #[graphql(desc = "One of the tenant's apartments.")] rental_object_id: ID,
    ) -> Result<DecisionExplanation> {
        let tenant = self::tenant_id(&tenant_id)?;
        let object = parse_rental_object_id(&rental_object_id)?;
        let (rules, view) = services(ctx)?
            .catalogue_view(&tenant, &object)
            .await
            .map_err(to_graphql)?;
        let language = language(ctx);
        let options = view
            .options()
            .map(|o| {
                let decided_by = o.availability.decided_by;
                let function = decided_by.and_then(|d| d.function());
                OptionDecision {
                    option_id: encode(Kind::AddOnOption, o.option.id().as_str()),
                    name: o.option.name().to_owned(),
                    status: o.availability.status.into(),
                    reasons: o
                        .availability
                        .reasons
                        .iter()
                        .map(|r| Reason::new(r, &rules, language))
                        .collect(),
                    decided_by: decided_by.map(|_| function.unwrap_or("cart").to_owned()),
                    file: function.and_then(|f| rules.origin(f)).map(str::to_owned),
                    error: o.availability.error.as_ref().map(ToString::to_string),
                }
            })
            .collect();
        Ok(DecisionExplanation {
            rule_set: format!("{} {}", rules.name(), rules.version()),
            gate_open: view.gate.is_open(),
            gate_reasons: view
                .gate
                .reasons
                .iter()
                .map(|r| Reason::new(r, &rules, language))
                .collect(),
            options,
        })
    }

    /// Staff: a tenant's refusals (cart adds and submits), newest first; optionally only one
    /// action's (`cart_add` or `checkout_submit`), one apartment's, or those that carried one
    /// reason code.
    #[graphql(guard = "StaffOnly")]
    #[allow(clippy::too_many_arguments)]
    async fn decisions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The tenant.")] tenant_id: ID,
        #[graphql(desc = "How many to return: 1 to 100 (20 when left out).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the page before, to get the next.")] after: Option<
            String,
        >,
        #[graphql(desc = "Only this action's: `cart_add` or `checkout_submit`.")] action: Option<
            String,
        >,
        #[graphql(desc = "Only this apartment's.")] rental_object_id: Option<ID>,
        #[graphql(desc = "Only those that carried this reason code, e.g. DEBT.")]
        reason_code: Option<String>,
    ) -> Result<Connection<String, DecisionLogEntry>> {
        let tenant = self::tenant_id(&tenant_id)?;
        let filter = DecisionFilter {
            action,
            rental_object: rental_object_id
                .as_ref()
                .map(parse_rental_object_id)
                .transpose()?,
            reason_code,
        };
        let after = match after {
            None => None,
            Some(cursor) => Some(
                cursor
                    .strip_prefix("decisions:")
                    .and_then(|id| id.parse::<i64>().ok())
                    .ok_or_else(|| {
                        error("BAD_USER_INPUT", "after: not a cursor from this connection")
                    })?,
            ),
        };
        let (records, has_next) = services(ctx)?
            .decisions(&tenant, &filter, after, i64::from(first.unwrap_or(20)))
            .await
            .map_err(to_graphql)?;
        let mut connection = Connection::new(after.is_some(), has_next);
        connection.edges.extend(records.into_iter().map(|r| {
            Edge::new(
                format!("decisions:{}", r.id),
                DecisionLogEntry {
                    at: r.at,
                    action: r.action,
                    rental_object_id: encode(Kind::RentalObject, r.rental_object.as_str()),
                    option_id: r.option.map(|o| encode(Kind::AddOnOption, o.as_str())),
                    rule_set: r.rule_set,
                    reason_codes: r.reason_codes,
                    figures: r.figures.to_string(),
                },
            )
        }));
        Ok(connection)
    }
}

#[derive(Debug, Default)]
pub struct AuthoringMutation;

#[Object]
impl AuthoringMutation {
    /// Staff: the checks of `tillval rules check`, changing nothing.
    #[graphql(guard = "StaffOnly")]
    async fn rule_set_validate(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The candidate rule set, file by file.")] source: RuleSetInput,
    ) -> Result<RuleSetValidation> {
        let report = services(ctx)?
            .rule_set_validate(&source.into())
            .await
            .map_err(to_graphql)?;
        Ok(RuleSetValidation {
            ok: report.is_ok(),
            problems: report.problems.iter().map(RuleProblem::from).collect(),
            test_cases_run: u32::try_from(report.tests.cases_run).unwrap_or(u32::MAX),
            test_cases_passed: u32::try_from(report.tests.cases_passed).unwrap_or(u32::MAX),
            coverage: coverage_entries(&report.coverage),
        })
    }

    /// Staff: checks, then publishes a rule set; answers change at once, requests in flight
    /// finish on the old set. A set with problems is refused and the running one stays.
    #[graphql(guard = "StaffOnly")]
    async fn rule_set_publish(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The rule set to publish, file by file.")] source: RuleSetInput,
    ) -> Result<RuleSetPayload> {
        let by = staff(ctx)?;
        let result = services(ctx)?.rule_set_publish(&source.into(), &by).await;
        payload(result, ctx)
    }

    /// Staff: makes an earlier published version the active one.
    #[graphql(guard = "StaffOnly")]
    async fn rule_set_rollback(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The published version to make active again.")] version: i64,
    ) -> Result<RuleSetPayload> {
        let by = staff(ctx)?;
        let result = services(ctx)?.rule_set_rollback(version, &by).await;
        payload(result, ctx)
    }
}
