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
use tillval_services::store::StoredRuleSet;

use crate::context::{StaffOnly, parse_rental_object_id, services, staff};
use crate::errors::{UserError, error, not_found, to_graphql, to_user_error};
use crate::ids::{Kind, decode, encode};
use crate::types::{AvailabilityStatus, Reason, language};

#[derive(Debug, InputObject)]
pub struct RuleSetFileInput {
    /// `option_blocks.rhai`, or for tests `tests/cap.toml`.
    pub name: String,
    pub content: String,
}

/// A rule set as its folder holds it.
#[derive(Debug, InputObject)]
pub struct RuleSetInput {
    /// `ruleset.toml`.
    pub manifest: String,
    pub scripts: Vec<RuleSetFileInput>,
    pub messages_sv: Option<String>,
    pub messages_en: Option<String>,
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

/// One problem of a rule set, where it is.
#[derive(Debug, Clone, SimpleObject)]
pub struct RuleProblem {
    pub file: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
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

#[derive(Debug, SimpleObject)]
pub struct RuleSetValidation {
    pub ok: bool,
    pub problems: Vec<RuleProblem>,
    pub test_cases_run: u32,
    pub test_cases_passed: u32,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct RuleSetVersion {
    pub version: i64,
    pub name: String,
    pub manifest_version: String,
    pub published_by: String,
    pub published_at: DateTime<Utc>,
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

#[derive(Debug, SimpleObject)]
pub struct RuleSetPayload {
    pub rule_set: Option<RuleSetVersion>,
    /// Why the set was refused; the running one stays.
    pub problems: Vec<RuleProblem>,
    pub user_errors: Vec<UserError>,
}

/// One option's decision, and what decided it.
#[derive(Debug, SimpleObject)]
pub struct OptionDecision {
    pub option_id: ID,
    pub name: String,
    pub status: AvailabilityStatus,
    pub reasons: Vec<Reason>,
    /// `order_blocks`, `key_blocks`, `option_blocks`, `lock_keys`, or `cart` (the engine).
    pub decided_by: Option<String>,
    /// The rule-set file of that function (`shipped:…` for the shipped set's).
    pub file: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, SimpleObject)]
pub struct DecisionExplanation {
    pub rule_set: String,
    pub gate_open: bool,
    pub gate_reasons: Vec<Reason>,
    pub options: Vec<OptionDecision>,
}

#[derive(Debug, SimpleObject)]
pub struct DecisionLogEntry {
    pub at: DateTime<Utc>,
    /// `cart_add` or `checkout_submit`.
    pub action: String,
    pub rental_object_id: ID,
    pub option_id: Option<ID>,
    pub rule_set: String,
    pub reason_codes: Vec<String>,
    /// The facts' key figures then, as JSON: debt, ongoing orders, unpaid fees …
    pub figures: String,
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

    /// Staff: a tenant's catalogue decisions with, per option, what decided it.
    #[graphql(guard = "StaffOnly")]
    async fn decision_explain(
        &self,
        ctx: &Context<'_>,
        tenant_id: ID,
        rental_object_id: ID,
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

    /// Staff: a tenant's refusals (cart adds and submits), newest first.
    #[graphql(guard = "StaffOnly")]
    async fn decisions(
        &self,
        ctx: &Context<'_>,
        tenant_id: ID,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, DecisionLogEntry>> {
        let tenant = self::tenant_id(&tenant_id)?;
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
            .decisions(&tenant, after, i64::from(first.unwrap_or(20)))
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
        source: RuleSetInput,
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
        })
    }

    /// Staff: checks, then publishes a rule set; answers change at once, requests in flight
    /// finish on the old set. A set with problems is refused and the running one stays.
    #[graphql(guard = "StaffOnly")]
    async fn rule_set_publish(
        &self,
        ctx: &Context<'_>,
        source: RuleSetInput,
    ) -> Result<RuleSetPayload> {
        let by = staff(ctx)?;
        let result = services(ctx)?.rule_set_publish(&source.into(), &by).await;
        payload(result, ctx)
    }

    /// Staff: makes an earlier published version the active one.
    #[graphql(guard = "StaffOnly")]
    async fn rule_set_rollback(&self, ctx: &Context<'_>, version: i64) -> Result<RuleSetPayload> {
        let by = staff(ctx)?;
        let result = services(ctx)?.rule_set_rollback(version, &by).await;
        payload(result, ctx)
    }
}
