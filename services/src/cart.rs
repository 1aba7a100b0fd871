//! The cart service (S8–S12): add with a quantity the unit allows, change, remove, clear; the
//! cart answers its lines, article count, totals and its problems.

use crate::entity::Entity;
use std::sync::Arc;

use crate::order::CheckoutDetails;
use crate::service::{DecisionContext, Refusal, RefusalCode, ServiceError, Services};
use crate::store::{Store, StoreError};
use tillval_engine::availability::{Availability, Decider, OptionStatus, locked_by_cart};
use tillval_engine::model::{
    AddOnOption, CartLine, Money, OptionId, Quantity, RentalObject, RentalObjectId, TenantId,
};
use tillval_engine::rules::{Reason, ReasonCode, ReasonParam, RuleError, engine_codes};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartLineView {
    pub option: Arc<AddOnOption>,
    pub quantity: Quantity,
    pub monthly_total: Money,
    pub one_time_total: Money,
    pub availability: Availability,
}

/// A line that cannot be sent as it is: its option was withdrawn, or the rules now refuse it
/// (a debt appeared, an order on its key was made elsewhere).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartProblem {
    pub option: OptionId,
    pub reasons: Vec<Reason>,
    pub error: Option<RuleError>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartView {
    pub tenant: TenantId,
    pub rental_object: Arc<RentalObject>,
    pub lines: Vec<CartLineView>,
    /// S8: the number of articles, quantities added up.
    pub article_count: u32,
    pub monthly_total: Money,
    pub one_time_total: Money,
    pub problems: Vec<CartProblem>,
    pub details: CheckoutDetails,
}

impl CartView {
    pub(crate) fn build(
        tenant: &TenantId,
        ctx: &DecisionContext,
    ) -> Result<CartView, ServiceError> {
        let cart = &ctx.snapshot.cart.cart;
        let mut decider = Decider::new(&ctx.rules, &ctx.catalogue, &ctx.snapshot.facts, cart);
        let currency = ctx.catalogue.catalogue().currency();
        let overflow = |e: tillval_engine::model::ModelError| ServiceError::Internal(e.to_string());
        let (mut monthly_total, mut one_time_total) =
            (Money::zero(currency), Money::zero(currency));
        let (mut lines, mut problems) = (Vec::new(), Vec::new());
        for line in cart.lines() {
            let entry = ctx
                .catalogue
                .entry(&line.option)
                .filter(|e| ctx.object.has_space(e.option.space()));
            let (Some(entry), Some(availability)) = (entry, decider.decide(&line.option)) else {
                let reason = Reason::new(ReasonCode::engine(engine_codes::OPTION_UNAVAILABLE))
                    .with("option_id", ReasonParam::Text(line.option.to_string()));
                problems.push(CartProblem {
                    option: line.option.clone(),
                    reasons: vec![reason],
                    error: None,
                });
                continue;
            };
            if availability.status != OptionStatus::InCart {
                problems.push(CartProblem {
                    option: line.option.clone(),
                    reasons: availability.reasons.clone(),
                    error: availability.error.clone(),
                });
            }
            let monthly = entry
                .option
                .monthly_price()
                .checked_mul(line.quantity.get())
                .map_err(overflow)?;
            let one_time = entry
                .option
                .one_time_fee()
                .checked_mul(line.quantity.get())
                .map_err(overflow)?;
            monthly_total = monthly_total.checked_add(monthly).map_err(overflow)?;
            one_time_total = one_time_total.checked_add(one_time).map_err(overflow)?;
            lines.push(CartLineView {
                option: Arc::clone(&entry.option),
                quantity: line.quantity,
                monthly_total: monthly,
                one_time_total: one_time,
                availability,
            });
        }
        if let Some(fault) = decider.fault() {
            return Err(crate::service::rules_unavailable(fault));
        }
        Ok(CartView {
            tenant: tenant.clone(),
            rental_object: Arc::clone(&ctx.object),
            lines,
            article_count: cart.article_count(),
            monthly_total,
            one_time_total,
            problems,
            details: ctx.snapshot.cart.details.clone(),
        })
    }
}

fn parse_quantity(quantity: i64) -> Result<Quantity, ServiceError> {
    Quantity::new(quantity).map_err(ServiceError::invalid(crate::Input::Quantity))
}

impl<S: Store> Services<S> {
    pub async fn cart(
        &self,
        tenant: &TenantId,
        object: &RentalObjectId,
    ) -> Result<CartView, ServiceError> {
        let ctx = self.decision_context(tenant, object).await?;
        let tenant = tenant.clone();
        self.off_workers(move || CartView::build(&tenant, &ctx))
            .await?
    }

    /// Adds an option (S9: a quantity for unit "piece", 1..=max; otherwise 1). A blocked or
    /// locked option is refused with its reasons (S3–S5, S10).
    pub async fn cart_add(
        &self,
        tenant: &TenantId,
        object: &RentalObjectId,
        option: &OptionId,
        quantity: i64,
    ) -> Result<CartView, ServiceError> {
        let quantity = parse_quantity(quantity)?;
        let ctx = self.decision_context(tenant, object).await?;
        let entry = ctx
            .catalogue
            .entry(option)
            .filter(|e| ctx.object.has_space(e.option.space()))
            .ok_or(ServiceError::NotFound(Entity::AddOnOption))?;
        entry
            .option
            .unit()
            .check(quantity)
            .map_err(ServiceError::invalid(crate::Input::Quantity))?;
        if ctx.snapshot.cart.cart.contains(option) {
            return Err(ServiceError::Refused(Refusal::plain(
                RefusalCode::AlreadyInCart,
            )));
        }
        let keys = entry.keys.clone().map_err(ServiceError::Rules)?;
        let wanted = option.clone();
        let (ctx, decided) = self
            .off_workers(move || {
                let mut decider = Decider::new(
                    &ctx.rules,
                    &ctx.catalogue,
                    &ctx.snapshot.facts,
                    &ctx.snapshot.cart.cart,
                );
                let availability = decider.decide(&wanted);
                let decided = match decider.fault() {
                    Some(fault) => Err(crate::service::rules_unavailable(fault)),
                    None => Ok(availability),
                };
                (ctx, decided)
            })
            .await?;
        let availability = decided?.ok_or(ServiceError::NotFound(Entity::AddOnOption))?;
        match availability.status {
            OptionStatus::Available => {}
            OptionStatus::RuleError => {
                let error = availability.error.unwrap_or(RuleError::BadReturn {
                    function: "?",
                    detail: "no answer".into(),
                });
                return Err(ServiceError::Rules(error));
            }
            _ => {
                self.log_refusal(
                    "cart_add",
                    &ctx.snapshot.facts,
                    object,
                    Some(option),
                    &ctx.rules,
                    &availability.reasons,
                )
                .await;
                return Err(ServiceError::Refused(Refusal::new(
                    RefusalCode::NotOrderable,
                    availability.reasons,
                )));
            }
        }
        let line = CartLine {
            option: option.clone(),
            quantity,
        };
        match self
            .store
            .cart_add_line(tenant, object, &line, &keys, self.clock.now())
            .await
        {
            Ok(()) => {}
            // Another request put a line on the same key between our look and our write.
            Err(StoreError::CartKeyTaken { holder, .. }) => {
                let reason = locked_by_cart(&ctx.catalogue, &holder);
                self.log_refusal(
                    "cart_add",
                    &ctx.snapshot.facts,
                    object,
                    Some(option),
                    &ctx.rules,
                    std::slice::from_ref(&reason),
                )
                .await;
                return Err(ServiceError::Refused(Refusal::new(
                    RefusalCode::NotOrderable,
                    vec![reason],
                )));
            }
            Err(other) => return Err(other.into()),
        }
        self.cart(tenant, object).await
    }

    /// Changes a line's quantity (S9), within what its unit allows.
    pub async fn cart_update(
        &self,
        tenant: &TenantId,
        object: &RentalObjectId,
        option: &OptionId,
        quantity: i64,
    ) -> Result<CartView, ServiceError> {
        let quantity = parse_quantity(quantity)?;
        let ctx = self.decision_context(tenant, object).await?;
        if !ctx.snapshot.cart.cart.contains(option) {
            return Err(ServiceError::NotFound(Entity::CartLine));
        }
        let entry = ctx
            .catalogue
            .entry(option)
            .ok_or(ServiceError::NotFound(Entity::AddOnOption))?;
        entry
            .option
            .unit()
            .check(quantity)
            .map_err(ServiceError::invalid(crate::Input::Quantity))?;
        self.store
            .cart_set_quantity(tenant, object, option, quantity, self.clock.now())
            .await?;
        self.cart(tenant, object).await
    }

    /// Removes a line (S12).
    pub async fn cart_remove(
        &self,
        tenant: &TenantId,
        object: &RentalObjectId,
        option: &OptionId,
    ) -> Result<CartView, ServiceError> {
        self.rental_object(tenant, object).await?;
        self.store.cart_remove_line(tenant, object, option).await?;
        self.cart(tenant, object).await
    }

    pub async fn cart_clear(
        &self,
        tenant: &TenantId,
        object: &RentalObjectId,
    ) -> Result<CartView, ServiceError> {
        self.rental_object(tenant, object).await?;
        self.store.cart_clear(tenant, object).await?;
        self.cart(tenant, object).await
    }
}
