//! Checkout: the order's details (S12), the terms (S13) and sending (S14).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::model::ModelError;

/// A phone number as people write them: digits, spaces, `-`, and a leading `+`; 6–20 digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(text: &str) -> Result<PhoneNumber, ModelError> {
        let trimmed = text.trim();
        let digits = trimmed.bytes().filter(u8::is_ascii_digit).count();
        let allowed = trimmed
            .char_indices()
            .all(|(i, c)| c.is_ascii_digit() || c == ' ' || c == '-' || (c == '+' && i == 0));
        if !allowed || !(6..=20).contains(&digits) || trimmed.len() > 32 {
            return Err(ModelError::InvalidText {
                field: "contact phone",
                reason: "6–20 digits, spaces, '-' and a leading '+'",
            });
        }
        Ok(PhoneNumber(trimmed.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = ModelError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        PhoneNumber::parse(&value)
    }
}

impl From<PhoneNumber> for String {
    fn from(p: PhoneNumber) -> String {
        p.0
    }
}

pub const MAX_MESSAGE_CHARS: usize = 1000;

/// What the tenant tells the landlord with the order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutDetails {
    pub contact_phone: Option<PhoneNumber>,
    pub preferred_date: Option<NaiveDate>,
    pub message: String,
}

impl CheckoutDetails {
    /// Checks what a client sends: the message bounded, the date not in the past.
    pub fn new(
        contact_phone: Option<PhoneNumber>,
        preferred_date: Option<NaiveDate>,
        message: &str,
        today: NaiveDate,
    ) -> Result<CheckoutDetails, ModelError> {
        if preferred_date.is_some_and(|d| d < today) {
            return Err(ModelError::InvalidText {
                field: "preferred date",
                reason: "is in the past",
            });
        }
        let message = crate::model::text::optional("message", message, MAX_MESSAGE_CHARS)?;
        Ok(CheckoutDetails {
            contact_phone,
            preferred_date,
            message,
        })
    }
}

/// The terms a tenant accepts by sending an order (S13).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terms {
    pub version: i64,
    pub text_sv: String,
    pub text_en: String,
    pub published_at: DateTime<Utc>,
}

/// A client's key for one submission: the same key twice gives the same case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(text: &str) -> Result<IdempotencyKey, ModelError> {
        let ok = (8..=128).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_graphic());
        if !ok {
            return Err(ModelError::InvalidText {
                field: "idempotency key",
                reason: "8–128 printable ASCII characters",
            });
        }
        Ok(IdempotencyKey(text.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the tenant sends with "Send order".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitRequest {
    pub accept_terms: bool,
    pub terms_version: i64,
    pub idempotency_key: IdempotencyKey,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_and_keys_are_checked() {
        assert!(PhoneNumber::parse("+46 70-123 45 67").is_ok());
        assert!(PhoneNumber::parse("070 1234567").is_ok());
        for bad in [
            "",
            "12345",
            "070+123456",
            "call me",
            "1".repeat(21).as_str(),
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad}");
        }
        assert!(IdempotencyKey::parse("abcdefgh").is_ok());
        assert!(IdempotencyKey::parse("short").is_err());
        assert!(IdempotencyKey::parse("has space in it").is_err());
    }

    #[test]
    fn details_refuse_a_past_date_and_a_long_message() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let yesterday = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert!(CheckoutDetails::new(None, Some(yesterday), "", today).is_err());
        assert!(
            CheckoutDetails::new(None, Some(today), "  hej  ", today)
                .unwrap()
                .message
                == "hej"
        );
        assert!(CheckoutDetails::new(None, None, &"x".repeat(1001), today).is_err());
    }
}

/// Submits in flight on this node, by (tenant, idempotency key). The same key sent twice at
/// once is one order: the second waits for the first and then answers with its case.
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    keys: std::sync::Mutex<std::collections::HashMap<InFlightKey, KeyLock>>,
}

type InFlightKey = (crate::model::TenantId, String);
type KeyLock = std::sync::Arc<tokio::sync::Mutex<()>>;

impl InFlight {
    /// The lock of one key, shared by every submit with it while any holds it.
    fn lock_of(&self, tenant: &crate::model::TenantId, key: &str) -> KeyLock {
        let mut keys = self
            .keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        std::sync::Arc::clone(keys.entry((tenant.clone(), key.to_owned())).or_default())
    }

    /// Forgets a key no submit holds any more, so the map holds only what is in flight.
    fn release(&self, tenant: &crate::model::TenantId, key: &str) {
        let mut keys = self
            .keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let map_key = (tenant.clone(), key.to_owned());
        if keys
            .get(&map_key)
            .is_some_and(|lock| std::sync::Arc::strong_count(lock) == 1)
        {
            keys.remove(&map_key);
        }
    }
}

mod service {
    use std::collections::HashSet;

    use chrono::NaiveDate;

    use super::{CheckoutDetails, PhoneNumber, SubmitRequest, Terms};
    use crate::availability::locked_by_cart;
    use crate::cart::CartView;
    use crate::cases::{Case, CaseLine};
    use crate::model::{RentalObjectId, TenantId};
    use crate::rules::ReasonParam;
    use crate::service::{Refusal, RefusalCode, ServiceError, Services};
    use crate::store::{Store, StoreError, SubmitOutcome, SubmitPlan};

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
                .ok_or(ServiceError::NotFound(crate::model::Entity::Terms))
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
                .map_err(ServiceError::invalid("contactPhone"))?;
            let details = CheckoutDetails::new(phone, preferred_date, message, self.clock.today())
                .map_err(|e| ServiceError::InvalidInput {
                    field: "details",
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
                    .ok_or(ServiceError::NotFound(crate::model::Entity::AddOnOption))?;
                entry
                    .option
                    .unit()
                    .check(line.quantity)
                    .map_err(ServiceError::invalid("quantity"))?;
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
            let plan = SubmitPlan {
                tenant: tenant.clone(),
                rental_object: object.clone(),
                idempotency_key: request.idempotency_key.clone(),
                terms_version: terms.version,
                details: ctx.snapshot.cart.details.clone(),
                lines,
                cart_lines: cart.lines().to_vec(),
                at: self.clock.now(),
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
}

pub use service::Submitted;
