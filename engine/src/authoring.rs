//! Rule authoring while serving (staff): validate, publish and roll back rule sets without a
//! release, and the log of refusals. A set is checked exactly as `tillval rules check` checks
//! it before it goes live; the swap is atomic, so requests in flight finish on the old set.

use crate::model::{OptionId, RentalObjectId, TenantFacts, TenantId};
use crate::rules::Reason;
use crate::rules::check::{CheckReport, Problem, check};
use crate::rules::{RuleSet, RuleSetSource, SandboxLimits};
use crate::service::{ServiceError, Services};
use crate::store::{DecisionRecord, Store, StoredRuleSet};

/// Fuzz cases run before a publish: enough to catch a broken invariant, cheap enough to wait for.
pub const PUBLISH_FUZZ_CASES: u32 = 64;

impl<S: Store> Services<S> {
    /// The checks of `rules check`, without changing anything.
    pub fn rule_set_validate(&self, source: &RuleSetSource) -> CheckReport {
        check(source, SandboxLimits::default(), PUBLISH_FUZZ_CASES)
    }

    /// Checks, stores and activates a rule set; a set with problems is refused with them and the
    /// running set stays.
    pub async fn rule_set_publish(
        &self,
        source: &RuleSetSource,
        by: &str,
    ) -> Result<StoredRuleSet, ServiceError> {
        let report = self.rule_set_validate(source);
        let rules = accepted(report)?;
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
            .ok_or(ServiceError::NotFound("rule set"))?;
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
                .ok_or(ServiceError::NotFound("rule set"));
        }
        self.rule_set_publish(initial, "system").await
    }

    /// A tenant's logged refusals, newest first.
    pub async fn decisions(
        &self,
        tenant: &TenantId,
        after: Option<i64>,
        first: i64,
    ) -> Result<(Vec<DecisionRecord>, bool), ServiceError> {
        let first = u32::try_from(first)
            .ok()
            .filter(|f| (1..=100).contains(f))
            .ok_or(ServiceError::InvalidInput {
                field: "first",
                message: "1 to 100".into(),
            })?;
        Ok(self.store.decisions(tenant, after, first).await?)
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
