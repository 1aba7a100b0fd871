//! Sending an order (S14): the order's details (S12), the terms (S13), and the one
//! transaction that turns a cart into a case.

use std::collections::HashSet;

use chrono::NaiveDate;

use crate::cart::CartView;
use crate::case::{Case, CaseLine, DecisionReceipt};
use crate::order::{CheckoutDetails, PhoneNumber, SubmitRequest, Terms};
use crate::service::{Refusal, RefusalCode, ServiceError, Services};
use crate::store::{Store, StoreError, SubmitOutcome, SubmitPlan};
use tillval_engine::availability::locked_by_cart;
use tillval_engine::model::{RentalObjectId, TenantId};
use tillval_engine::rules::ReasonParam;

/// The receipt of an allowed order: the rule set, and the facts it decided on.
fn receipt(
    rules: &tillval_engine::rules::RuleSet,
    facts: &tillval_engine::model::TenantFacts,
    lines: &[CaseLine],
) -> DecisionReceipt {
    let money = |m: tillval_engine::model::Money| serde_json::json!({ "amount": m.minor(), "currency": m.currency().code() });
    let keys: serde_json::Map<String, serde_json::Value> = lines
        .iter()
        .flat_map(|line| line.keys.iter())
        .map(|key| {
            (
                key.as_str().to_owned(),
                serde_json::json!({
                    "ongoing_order": facts.ongoing_orders.get(key).map(|o| o.case_number.clone()),
                    "unpaid_fee": facts.unpaid_fees.get(key).map(|m| money(*m)),
                }),
            )
        })
        .collect();
    DecisionReceipt {
        rule_set: format!("{} {}", rules.name(), rules.version()),
        facts: serde_json::json!({
            "ordering_enabled": facts.ordering_enabled,
            "debt": money(facts.debt),
            "active_monthly_total": money(facts.active_monthly_total),
            "today": facts.today.to_string(),
            "keys": keys,
        }),
    }
}

/// A sent order: the case, and whether it was made by an earlier call with the same key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    pub case: Case,
    pub replayed: bool,
}

impl<S: Store> Services<S> {
    /// The terms in force (S13).
    pub async fn terms(&self) -> Result<Terms, ServiceError> {
        self.store
            .current_terms()
            .await?
            .ok_or(ServiceError::NotFound(crate::entity::Entity::Terms))
    }

    /// Updates the order's details (S12).
    pub async fn checkout_details_update(
        &self,
        tenant: &TenantId,
        object: &RentalObjectId,
        contact_phone: Option<&str>,
        preferred_date: Option<NaiveDate>,
        message: &str,
    ) -> Result<CartView, ServiceError> {
        self.rental_object(tenant, object).await?;
        let phone = contact_phone
            .filter(|p| !p.trim().is_empty())
            .map(PhoneNumber::parse)
            .transpose()
            .map_err(ServiceError::invalid(crate::Input::ContactPhone))?;
        let details = CheckoutDetails::new(phone, preferred_date, message, self.clock.today())
            .map_err(|e| ServiceError::InvalidInput {
                field: crate::Input::Details,
                message: e.to_string(),
            })?;
        self.store
            .cart_set_details(tenant, object, &details, self.clock.now())
            .await?;
        self.cart(tenant, object).await
    }

    /// Sends the order (S13, S14): the terms accepted in their current version, the rules
    /// asked again on fresh facts, and the case written in one transaction with its order
    /// locks. The same idempotency key again answers the same case.
    pub async fn checkout_submit(
        &self,
        tenant: &TenantId,
        object: &RentalObjectId,
        request: &SubmitRequest,
    ) -> Result<Submitted, ServiceError> {
        let key = request.idempotency_key.as_str();
        let lock = self.submits_in_flight.lock_of(tenant, key);
        let outcome = {
            let _turn = lock.lock().await;
            self.submit_once(tenant, object, request).await
        };
        drop(lock);
        self.submits_in_flight.release(tenant, key);
        match outcome {
            // The same key may have been sent, on another node, while this one looked at
            // the cart: then the cart is empty or changed because of it, and the answer is
            // its case, not the refusal.
            Err(ServiceError::Refused(refusal)) => {
                match self
                    .store
                    .case_by_idempotency_key(tenant, &request.idempotency_key)
                    .await?
                {
                    Some(case) => Ok(Submitted {
                        case,
                        replayed: true,
                    }),
                    None => Err(ServiceError::Refused(refusal)),
                }
            }
            other => other,
        }
    }

    async fn submit_once(
        &self,
        tenant: &TenantId,
        object: &RentalObjectId,
        request: &SubmitRequest,
    ) -> Result<Submitted, ServiceError> {
        self.rental_object(tenant, object).await?;
        if let Some(case) = self
            .store
            .case_by_idempotency_key(tenant, &request.idempotency_key)
            .await?
        {
            return Ok(Submitted {
                case,
                replayed: true,
            });
        }
        if !request.accept_terms {
            return Err(ServiceError::Refused(Refusal::plain(
                RefusalCode::TermsNotAccepted,
            )));
        }
        let terms = self.terms().await?;
        if request.terms_version != terms.version {
            return Err(ServiceError::Refused(
                Refusal::plain(RefusalCode::TermsOutdated)
                    .with_param("current_version", ReasonParam::Int(terms.version)),
            ));
        }
        let ctx = self.decision_context(tenant, object).await?;
        if ctx.snapshot.cart.cart.lines().is_empty() {
            return Err(ServiceError::Refused(Refusal::plain(
                RefusalCode::EmptyCart,
            )));
        }
        let who = tenant.clone();
        let (ctx, view) = self
            .off_workers(move || {
                let view = CartView::build(&who, &ctx);
                (ctx, view)
            })
            .await?;
        let view = view?;
        if let Some(problem) = view.problems.first() {
            if let Some(error) = &problem.error {
                return Err(ServiceError::Rules(error.clone()));
            }
            let reasons: Vec<_> = view
                .problems
                .iter()
                .flat_map(|p| p.reasons.iter().cloned())
                .collect();
            self.log_refusal(
                "checkout_submit",
                &ctx.snapshot.facts,
                object,
                None,
                &ctx.rules,
                &reasons,
            )
            .await;
            return Err(ServiceError::Refused(Refusal::new(
                RefusalCode::NotOrderable,
                reasons,
            )));
        }
        let cart = &ctx.snapshot.cart.cart;
        // Every line is now `InCart` (anything else was a problem above).
        let mut taken = HashSet::new();
        let mut lines = Vec::with_capacity(cart.lines().len());
        for line in cart.lines() {
            let entry = ctx
                .catalogue
                .entry(&line.option)
                .ok_or(ServiceError::NotFound(crate::entity::Entity::AddOnOption))?;
            entry
                .option
                .unit()
                .check(line.quantity)
                .map_err(ServiceError::invalid(crate::Input::Quantity))?;
            let keys = entry.keys.clone().map_err(ServiceError::Rules)?;
            // Two lines on one key (a cart from before a rule change) cannot both be sent.
            for key in keys.iter() {
                if !taken.insert(key.clone()) {
                    let reason = locked_by_cart(&ctx.catalogue, &line.option);
                    return Err(ServiceError::Refused(Refusal::new(
                        RefusalCode::NotOrderable,
                        vec![reason],
                    )));
                }
            }
            lines.push(CaseLine {
                option: line.option.clone(),
                option_name: entry.option.name().to_owned(),
                category: entry.option.category().clone(),
                space: entry.option.space().clone(),
                keys: keys.to_vec(),
                quantity: line.quantity,
                monthly_price: entry.option.monthly_price(),
                one_time_fee: entry.option.one_time_fee(),
            });
        }
        let receipt = receipt(&ctx.rules, &ctx.snapshot.facts, &lines);
        let plan = SubmitPlan {
            tenant: tenant.clone(),
            rental_object: object.clone(),
            idempotency_key: request.idempotency_key.clone(),
            terms_version: terms.version,
            details: ctx.snapshot.cart.details.clone(),
            lines,
            cart_lines: cart.lines().to_vec(),
            at: self.clock.now(),
            receipt,
        };
        match self.store.submit(&plan).await {
            Ok(SubmitOutcome::Created(case)) => {
                tracing::info!(case = %case.number, tenant = %tenant, "order sent");
                Ok(Submitted {
                    case,
                    replayed: false,
                })
            }
            Ok(SubmitOutcome::Replayed(case)) => Ok(Submitted {
                case,
                replayed: true,
            }),
            Err(StoreError::LockTaken { key }) => {
                let holder = self
                    .store
                    .snapshot(tenant, ctx.object.clone(), self.clock.today())
                    .await?
                    .facts
                    .ongoing_orders
                    .get(&key)
                    .map(|o| o.case_number.clone())
                    .unwrap_or_default();
                let refusal = Refusal::plain(RefusalCode::Locked)
                    .with_param("key", ReasonParam::Text(key.to_string()))
                    .with_param("case_number", ReasonParam::Text(holder));
                self.log_refusal(
                    "checkout_submit",
                    &ctx.snapshot.facts,
                    object,
                    None,
                    &ctx.rules,
                    &refusal.reasons,
                )
                .await;
                Err(ServiceError::Refused(refusal))
            }
            Err(other) => Err(other.into()),
        }
    }
}
