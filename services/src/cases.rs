//! The case operations: a tenant's cases and one case's details (S15, S16), and moving a case
//! through its lifecycle (declared in [`crate::case`]).

use crate::case::{Actor, Case, CaseNumber, CasePage, CaseStatus};
use crate::service::{CaseEvent, ServiceError, Services};
use crate::store::Store;
use tillval_engine::model::TenantId;

/// The most cases one page holds.
pub const MAX_PAGE: u32 = 100;

/// `first` as a page size: 1 to [`MAX_PAGE`].
fn page_size(first: i64) -> Result<u32, ServiceError> {
    u32::try_from(first)
        .ok()
        .filter(|f| (1..=MAX_PAGE).contains(f))
        .ok_or(ServiceError::InvalidInput {
            field: crate::Input::First,
            message: format!("1 to {MAX_PAGE}"),
        })
}

impl<S: Store> Services<S> {
    /// The tenant's cases, newest first, `first` at a time after the cursor `after` (S15).
    pub async fn cases(
        &self,
        tenant: &TenantId,
        status: Option<CaseStatus>,
        after: Option<i64>,
        first: i64,
    ) -> Result<CasePage, ServiceError> {
        let first = page_size(first)?;
        Ok(self.store.cases(tenant, status, after, first).await?)
    }

    /// Every tenant's cases, newest first, for staff's queue (`first` at a time).
    pub async fn case_queue(
        &self,
        status: Option<CaseStatus>,
        after: Option<i64>,
        first: i64,
    ) -> Result<CasePage, ServiceError> {
        let first = page_size(first)?;
        Ok(self.store.case_queue(status, after, first).await?)
    }

    /// One of the tenant's cases (S16); another tenant's is "not found".
    pub async fn case(&self, tenant: &TenantId, number: &CaseNumber) -> Result<Case, ServiceError> {
        match self.store.case(number).await? {
            Some(case) if &case.tenant == tenant => Ok(case),
            _ => Err(ServiceError::NotFound(crate::entity::Entity::Case)),
        }
    }

    /// Any case, for staff.
    pub async fn case_for_staff(&self, number: &CaseNumber) -> Result<Case, ServiceError> {
        self.store
            .case(number)
            .await?
            .ok_or(ServiceError::NotFound(crate::entity::Entity::Case))
    }

    /// The tenant cancels their case, while SUBMITTED or UNDER_REVIEW.
    pub async fn case_cancel(
        &self,
        tenant: &TenantId,
        number: &CaseNumber,
    ) -> Result<Case, ServiceError> {
        let case = self.case(tenant, number).await?;
        self.move_case(case, CaseStatus::Cancelled, Actor::Tenant)
            .await
    }

    /// Staff move a case along the lifecycle.
    pub async fn case_transition(
        &self,
        number: &CaseNumber,
        to: CaseStatus,
    ) -> Result<Case, ServiceError> {
        let case = self.case_for_staff(number).await?;
        self.move_case(case, to, Actor::Staff).await
    }

    /// The maintenance system moves a case. Idempotent: asked for the status the case is
    /// already in, it answers the case as it is (no second history step, no second event), so
    /// a retried request is one transition.
    pub async fn case_transition_by_integration(
        &self,
        number: &CaseNumber,
        to: CaseStatus,
    ) -> Result<Case, ServiceError> {
        let case = self.case_for_staff(number).await?;
        if case.status == to {
            return Ok(case);
        }
        match self.move_case(case, to, Actor::Integration).await {
            // Two retries at once: the other one moved it first.
            Err(ServiceError::Conflict(_)) => {
                let now = self.case_for_staff(number).await?;
                if now.status == to {
                    Ok(now)
                } else {
                    Err(ServiceError::IllegalTransition {
                        from: now.status,
                        to,
                    })
                }
            }
            other => other,
        }
    }

    async fn move_case(
        &self,
        case: Case,
        to: CaseStatus,
        actor: Actor,
    ) -> Result<Case, ServiceError> {
        if !case.status.may_move_to(to, actor) {
            return Err(ServiceError::IllegalTransition {
                from: case.status,
                to,
            });
        }
        let at = self.clock.now();
        let moved = self
            .store
            .transition(&case.number, case.status, to, actor, at)
            .await?;
        self.publish(CaseEvent {
            tenant: moved.tenant.clone(),
            number: moved.number.clone(),
            status: to,
            at,
        });
        Ok(moved)
    }
}
