//! Who is asking, and with what: the services, the caller's identity and role (the staff
//! guard), and ids decoded from what the client sent. Every resolver module starts here.

use async_graphql::{Context, ID, Result};
use tillval_engine::model::{OptionId, RentalObjectId, TenantId};
use tillval_services::Entity;
use tillval_services::case::CaseNumber;
use tillval_services::service::Services;

use crate::AppStore;
use crate::auth::Identity;
use crate::errors::{forbidden, not_found, unauthenticated};
use crate::ids::{Kind, decode};

pub(crate) fn services<'a>(ctx: &Context<'a>) -> Result<&'a Services<AppStore>> {
    ctx.data::<Services<AppStore>>()
}

pub(crate) fn tenant(ctx: &Context<'_>) -> Result<TenantId> {
    match ctx.data_opt::<Identity>() {
        Some(Identity::Tenant(tenant)) => Ok(tenant.clone()),
        Some(Identity::Staff(_) | Identity::Integration(_)) => Err(forbidden()),
        None => Err(unauthenticated()),
    }
}

pub(crate) fn staff(ctx: &Context<'_>) -> Result<String> {
    match ctx.data_opt::<Identity>() {
        Some(Identity::Staff(name)) => Ok(name.clone()),
        Some(Identity::Tenant(_) | Identity::Integration(_)) => Err(forbidden()),
        None => Err(unauthenticated()),
    }
}

/// Who moves a case on the maintenance side: staff, or the landlord's maintenance system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CaseMover {
    Staff,
    Integration,
}

pub(crate) fn case_mover(ctx: &Context<'_>) -> Result<CaseMover> {
    match ctx.data_opt::<Identity>() {
        Some(Identity::Staff(_)) => Ok(CaseMover::Staff),
        Some(Identity::Integration(_)) => Ok(CaseMover::Integration),
        Some(Identity::Tenant(_)) => Err(forbidden()),
        None => Err(unauthenticated()),
    }
}

/// Staff or the `integration` role, as a guard: `#[graphql(guard = "CaseMoverOnly")]`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CaseMoverOnly;

impl async_graphql::Guard for CaseMoverOnly {
    async fn check(&self, ctx: &Context<'_>) -> Result<()> {
        case_mover(ctx).map(|_| ())
    }
}

/// Who may import facts: staff, or the landlord's rental system (the `integration` role).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ImporterOnly;

impl async_graphql::Guard for ImporterOnly {
    async fn check(&self, ctx: &Context<'_>) -> Result<()> {
        case_mover(ctx).map(|_| ())
    }
}

/// The staff role, as a guard on a field: `#[graphql(guard = "StaffOnly")]`. A tenant gets
/// `FORBIDDEN`, no token `UNAUTHENTICATED`, before the resolver runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StaffOnly;

impl async_graphql::Guard for StaffOnly {
    async fn check(&self, ctx: &Context<'_>) -> Result<()> {
        staff(ctx).map(|_| ())
    }
}

pub(crate) fn parse_rental_object_id(id: &ID) -> Result<RentalObjectId> {
    decode(Kind::RentalObject, id)
        .and_then(|raw| RentalObjectId::parse(raw).ok())
        .ok_or_else(|| not_found(Entity::RentalObject))
}

pub(crate) fn option_id(id: &ID) -> Option<OptionId> {
    decode(Kind::AddOnOption, id).and_then(|raw| OptionId::parse(raw).ok())
}

pub(crate) fn case_number(number: &str) -> Result<CaseNumber> {
    CaseNumber::parse(number).ok_or_else(|| not_found(Entity::Case))
}
