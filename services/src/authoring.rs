//! Rule authoring while serving (staff): validate, publish and roll back rule sets without a
//! release, and the log of refusals. A set is checked exactly as `tillval rules check` checks
//! it before it goes live; the swap is atomic, so requests in flight finish on the old set.

use crate::service::{ServiceError, Services};
use crate::store::{DecisionFilter, DecisionRecord, Store, StoredRuleSet};
use tillval_engine::model::{OptionId, RentalObjectId, TenantFacts, TenantId};
use tillval_engine::rules::Reason;
use tillval_engine::rules::check::{CheckReport, Problem, check};
use tillval_engine::rules::{RuleSet, RuleSetSource, SandboxLimits};

/// The actions the decision log records a refusal of.
pub const LOGGED_ACTIONS: [&str; 2] = ["cart_add", "checkout_submit"];

/// What a reason code may be made of, as a filter: the codes rule sets write.
fn is_reason_code(code: &str) -> bool {
    (1..=64).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

/// Fuzz cases run before a publish: enough to catch a broken invariant, cheap enough to wait for.
pub const PUBLISH_FUZZ_CASES: u32 = 64;

/// Households decided per call onto the rule pool while a candidate is measured.
const MEASURE_BATCH: u32 = 200;

impl<S: Store> Services<S> {
    /// The checks of `rules check`, without changing anything. They run on the rule pool and
    /// are bounded in operations ([`tillval_engine::rules::check::MAX_CHECK_OPERATIONS`]).
    pub async fn rule_set_validate(
        &self,
        source: &RuleSetSource,
    ) -> Result<CheckReport, ServiceError> {
        let source = source.clone();
        self.off_workers(move || check(&source, SandboxLimits::default(), PUBLISH_FUZZ_CASES))
            .await
    }

    /// Decides every household's view in the database (as it holds them now) with `candidate`:
    /// a set that is cheap on generated tenants can be dear, or fail, for the real ones. Any
    /// rule error, and any view dearer than the view budget, is a problem naming the household.
    pub async fn rule_set_measure(
        &self,
        candidate: std::sync::Arc<RuleSet>,
    ) -> Result<Vec<Problem>, ServiceError> {
        use std::collections::HashMap;
        use std::sync::Arc;

        use tillval_engine::catalogue::PreparedCatalogue;
        use tillval_engine::rules::check::rule_error_problem;

        let mut prepared: HashMap<tillval_engine::model::PropertyId, Arc<PreparedCatalogue>> =
            HashMap::new();
        let mut after = None;
        let today = self.clock.today();
        loop {
            let page = self.store.households(after.as_ref(), MEASURE_BATCH).await?;
            let Some(last) = page.last().cloned() else {
                return Ok(Vec::new());
            };
            let mut inputs = Vec::with_capacity(page.len());
            for (tenant, object) in &page {
                let Some(snapshot) = self.store.leased_snapshot(tenant, object, today).await?
                else {
                    continue;
                };
                let property = snapshot.facts.rental_object.property().clone();
                let catalogue = match prepared.get(&property) {
                    Some(catalogue) => Arc::clone(catalogue),
                    None => {
                        let Some(catalogue) = self.store.catalogue(&property).await? else {
                            continue;
                        };
                        let rules = Arc::clone(&candidate);
                        let catalogue = self
                            .off_workers(move || {
                                Arc::new(PreparedCatalogue::prepare(Arc::new(catalogue), &rules))
                            })
                            .await?;
                        prepared.insert(property, Arc::clone(&catalogue));
                        catalogue
                    }
                };
                inputs.push((tenant.clone(), catalogue, snapshot));
            }
            let rules = Arc::clone(&candidate);
            let problems = self
                .off_workers(move || {
                    let mut problems = Vec::new();
                    for (tenant, catalogue, snapshot) in &inputs {
                        let view = tillval_engine::availability::catalogue_view(
                            &rules,
                            catalogue,
                            &snapshot.facts,
                            &snapshot.cart.cart,
                        );
                        let household = format!(
                            "household {tenant} in {}",
                            snapshot.facts.rental_object.id()
                        );
                        let error = view
                            .fault
                            .iter()
                            .chain(view.gate.error.iter())
                            .chain(view.options().filter_map(|o| o.availability.error.as_ref()))
                            .next();
                        // A view over its budget shows here too: the decisions past it are
                        // `view_operations` errors.
                        if let Some(error) = error {
                            let mut found = rule_error_problem(&rules, error);
                            found.message = format!("{household}: {}", found.message);
                            problems.push(found);
                        }
                        if problems.len() >= 10 {
                            break;
                        }
                    }
                    problems
                })
                .await?;
            if !problems.is_empty() {
                return Ok(problems);
            }
            after = Some(last);
        }
    }

    /// Checks, measures on the database's households, stores and activates a rule set; a set
    /// with problems is refused with them and the running set stays.
    pub async fn rule_set_publish(
        &self,
        source: &RuleSetSource,
        by: &str,
    ) -> Result<StoredRuleSet, ServiceError> {
        let report = self.rule_set_validate(source).await?;
        let rules = std::sync::Arc::new(accepted(report)?);
        let problems = self.rule_set_measure(std::sync::Arc::clone(&rules)).await?;
        if !problems.is_empty() {
            return Err(ServiceError::RuleSetRefused(problems));
        }
        let rules = std::sync::Arc::try_unwrap(rules)
            .map_err(|_| ServiceError::Internal("the candidate rule set is still shared".into()))?;
        let at = self.clock.now();
        let stored = self
            .store
            .publish_rule_set(source, rules.name(), rules.version(), by, at)
            .await?;
        self.set_rules(rules);
        tracing::info!(version = stored.version, by, "rule set published");
        Ok(stored)
    }

    /// Makes an earlier version active again (checked again first: limits may have changed).
    pub async fn rule_set_rollback(
        &self,
        version: i64,
        by: &str,
    ) -> Result<StoredRuleSet, ServiceError> {
        let source = self
            .store
            .rule_set_source(version)
            .await?
            .ok_or(ServiceError::NotFound(crate::entity::Entity::RuleSet))?;
        let rules = accepted(check(&source, SandboxLimits::default(), 0))?;
        let stored = self
            .store
            .activate_rule_set(version, by, self.clock.now())
            .await?;
        self.set_rules(rules);
        tracing::info!(version, by, "rule set rolled back");
        Ok(stored)
    }

    /// Every published version, newest first.
    pub async fn rule_sets(&self) -> Result<Vec<StoredRuleSet>, ServiceError> {
        Ok(self.store.rule_sets().await?)
    }

    /// At start: the store's active rule set goes live; if none was ever published, `initial`
    /// is recorded as the first version, so that there is always one to roll back to.
    pub async fn start_rule_sets(
        &self,
        initial: &RuleSetSource,
    ) -> Result<StoredRuleSet, ServiceError> {
        if let Some((version, source)) = self.store.active_rule_set().await? {
            let rules = accepted(check(&source, SandboxLimits::default(), 0))?;
            self.set_rules(rules);
            let sets = self.store.rule_sets().await?;
            return sets
                .into_iter()
                .find(|s| s.version == version)
                .ok_or(ServiceError::NotFound(crate::entity::Entity::RuleSet));
        }
        self.rule_set_publish(initial, "system").await
    }

    /// The files of a published version, or of the set in force when `version` is `None`.
    pub async fn rule_set_source(
        &self,
        version: Option<i64>,
    ) -> Result<RuleSetSource, ServiceError> {
        let source = match version {
            Some(version) => self.store.rule_set_source(version).await?,
            None => self
                .store
                .active_rule_set()
                .await?
                .map(|(_, source)| source),
        };
        source.ok_or(ServiceError::NotFound(crate::entity::Entity::RuleSet))
    }

    /// Deletes logged refusals older than `retention`; how many went.
    pub async fn decision_log_prune(
        &self,
        retention: std::time::Duration,
    ) -> Result<u64, ServiceError> {
        let too_long = || ServiceError::InvalidInput {
            field: crate::Input::Retention,
            message: "too long".into(),
        };
        let retention = chrono::Duration::from_std(retention).map_err(|_| too_long())?;
        let before = self
            .clock
            .now()
            .checked_sub_signed(retention)
            .ok_or_else(too_long)?;
        Ok(self.store.prune_decisions(before).await?)
    }

    /// A tenant's logged refusals that `filter` lets through, newest first. The filter's
    /// action is one the log writes and its code a code's characters, nothing else.
    pub async fn decisions(
        &self,
        tenant: &TenantId,
        filter: &DecisionFilter,
        after: Option<i64>,
        first: i64,
    ) -> Result<(Vec<DecisionRecord>, bool), ServiceError> {
        if let Some(action) = &filter.action
            && !LOGGED_ACTIONS.contains(&action.as_str())
        {
            return Err(ServiceError::InvalidInput {
                field: crate::Input::Action,
                message: format!("one of {}", LOGGED_ACTIONS.join(", ")),
            });
        }
        if let Some(code) = &filter.reason_code
            && !is_reason_code(code)
        {
            return Err(ServiceError::InvalidInput {
                field: crate::Input::ReasonCode,
                message: "1 to 64 letters, digits, `_`, `-`, `.` or `:`".into(),
            });
        }
        let first = u32::try_from(first)
            .ok()
            .filter(|f| (1..=100).contains(f))
            .ok_or(ServiceError::InvalidInput {
                field: crate::Input::First,
                message: "1 to 100".into(),
            })?;
        Ok(self.store.decisions(tenant, filter, after, first).await?)
    }

    /// Logs a refusal; a failure to log is reported, never the tenant's problem.
    pub(crate) async fn log_refusal(
        &self,
        action: &str,
        facts: &TenantFacts,
        object: &RentalObjectId,
        option: Option<&OptionId>,
        rules: &RuleSet,
        reasons: &[Reason],
    ) {
        let record = DecisionRecord {
            id: 0,
            tenant: facts.tenant.clone(),
            rental_object: object.clone(),
            action: action.to_owned(),
            option: option.cloned(),
            rule_set: format!("{} {}", rules.name(), rules.version()),
            reason_codes: reasons.iter().map(|r| r.code.to_string()).collect(),
            figures: serde_json::json!({
                "debt": facts.debt.minor(),
                "ongoing_orders": facts.ongoing_orders.len(),
                "unpaid_fees": facts.unpaid_fees.len(),
                "active_monthly_total": facts.active_monthly_total.minor(),
                "ordering_enabled": facts.ordering_enabled,
            }),
            at: self.clock.now(),
        };
        if let Err(error) = self.store.record_decision(&record).await {
            tracing::error!(%error, "could not log a refusal");
        }
    }
}

pub(crate) fn accepted(report: CheckReport) -> Result<RuleSet, ServiceError> {
    match report.rules {
        Some(rules) if report.problems.is_empty() => Ok(rules),
        _ => Err(ServiceError::RuleSetRefused(report.problems)),
    }
}

/// The problems of a refused rule set, for callers that print them.
pub fn problems(error: &ServiceError) -> &[Problem] {
    match error {
        ServiceError::RuleSetRefused(problems) => problems,
        _ => &[],
    }
}
