//! The schema: queries, mutations and the subscription. Resolvers only call engine services;
//! the caller's identity comes from the token alone.

use std::pin::Pin;

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Object, Result, Schema, SimpleObject, Subscription};
use futures_util::{Stream, StreamExt};
use tillval_engine::model::{AddOnOptionRecord, Currency, PropertyId, TenantId};
use tillval_services::Entity;
use tillval_services::case::Actor;
use tillval_services::order::SubmitRequest;
use tillval_services::service::{ServiceError, Services};
use tokio_stream::wrappers::BroadcastStream;

use crate::AppStore;
use crate::auth::Identity;
use crate::context::{
    CaseMover, CaseMoverOnly, StaffOnly, case_mover, case_number, option_id,
    parse_rental_object_id, services, tenant,
};
use crate::errors::{UserError, forbidden, not_found, to_graphql, to_user_error, unauthenticated};
use crate::ids::{Kind, decode, encode};
use crate::inputs::*;
use crate::types::*;

pub type TillvalSchema = Schema<Query, Mutation, Subscription>;

/// The query root: the tenant's and staff's queries, and rule authoring's.
#[derive(Debug, Default, async_graphql::MergedObject)]
pub struct Query(
    CoreQuery,
    crate::authoring::AuthoringQuery,
    crate::workbench::WorkbenchQuery,
    crate::webhooks::WebhooksQuery,
);

/// The mutation root.
#[derive(Debug, Default, async_graphql::MergedObject)]
pub struct Mutation(
    CoreMutation,
    crate::authoring::AuthoringMutation,
    crate::webhooks::WebhooksMutation,
    crate::import::ImportMutation,
);

/// The schema over `services`. Production turns off introspection and field suggestions.
pub fn build_schema(services: Services<AppStore>, production: bool) -> TillvalSchema {
    build_schema_measured(services, production, Some(Default::default()), None)
}

/// The schema over `services`: its operations counted and timed in `metrics` (when given),
/// and only `trusted_only`'s documents run (when given).
pub fn build_schema_measured(
    services: Services<AppStore>,
    production: bool,
    metrics: Option<std::sync::Arc<crate::metrics::Metrics>>,
    trusted_only: Option<std::sync::Arc<crate::trusted::TrustedDocuments>>,
) -> TillvalSchema {
    let mut builder =
        Schema::build(Query::default(), Mutation::default(), Subscription).data(services);
    // The first extension wraps the others: metrics time the whole request, the refusals too.
    if let Some(metrics) = metrics {
        builder = builder.extension(crate::metrics::MetricsExtension(metrics));
    }
    if let Some(documents) = trusted_only {
        builder = builder.extension(crate::trusted::TrustedOnly(documents));
    }
    builder = builder
        .extension(crate::query_shape::QueryShape)
        .limit_depth(16)
        .limit_complexity(2_000)
        .limit_recursive_depth(32);
    if production {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.finish()
}

/// The SDL of the schema, as `schema.graphql` holds it.
pub fn sdl() -> String {
    Schema::build(Query::default(), Mutation::default(), Subscription)
        .finish()
        .sdl()
}

const MAX_LINES_PER_CALL: usize = 50;

/// The case id in a `cases:` cursor of a case connection.
fn case_cursor(after: Option<&str>) -> Result<Option<i64>> {
    after
        .map(|cursor| {
            cursor
                .strip_prefix("cases:")
                .and_then(|id| id.parse::<i64>().ok())
                .ok_or_else(|| {
                    crate::errors::error(
                        "BAD_USER_INPUT",
                        "after: not a cursor from this connection",
                    )
                })
        })
        .transpose()
}

#[derive(Debug, Default)]
pub struct CoreQuery;

#[Object]
impl CoreQuery {
    /// The signed-in tenant and their rental objects (S1).
    async fn viewer(&self, ctx: &Context<'_>) -> Result<Viewer> {
        let tenant = tenant(ctx)?;
        let (record, objects) = services(ctx)?.viewer(&tenant).await.map_err(to_graphql)?;
        Ok(Viewer {
            tenant: Tenant {
                id: encode(Kind::Tenant, record.id.as_str()),
                name: record.name,
            },
            rental_objects: objects.iter().map(RentalObject::from).collect(),
        })
    }

    /// What the tenant may order for one of their apartments, and why not (S6, S7, S10).
    /// Deciding a catalogue runs the rules, so it weighs 100 in the query's complexity: a
    /// query holds a few, not dozens (aliases).
    #[graphql(complexity = "100 + child_complexity")]
    async fn catalogue(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The apartment, as an id from `viewer.rentalObjects`.")] rental_object_id: ID,
    ) -> Result<Catalogue> {
        let tenant = tenant(ctx)?;
        let object = parse_rental_object_id(&rental_object_id)?;
        let services = services(ctx)?;
        let (rules, view) = services
            .catalogue_view(&tenant, &object)
            .await
            .map_err(to_graphql)?;
        Ok(Catalogue::new(&view, &rules, language(ctx)))
    }

    /// The tenant's cart for one apartment (S8, S12).
    async fn cart(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The apartment, as an id from `viewer.rentalObjects`.")] rental_object_id: ID,
    ) -> Result<Cart> {
        let tenant = tenant(ctx)?;
        let object = parse_rental_object_id(&rental_object_id)?;
        let services = services(ctx)?;
        let view = services.cart(&tenant, &object).await.map_err(to_graphql)?;
        Ok(Cart::new(&view, &services.rules(), language(ctx)))
    }

    /// The terms a tenant accepts when sending an order (S13). Open to anyone.
    async fn terms(&self, ctx: &Context<'_>) -> Result<Terms> {
        let terms = services(ctx)?.terms().await.map_err(to_graphql)?;
        let text = match language(ctx) {
            tillval_engine::model::Language::Sv => terms.text_sv.clone(),
            tillval_engine::model::Language::En => terms.text_en.clone(),
        };
        Ok(Terms {
            version: terms.version,
            text,
            text_sv: terms.text_sv,
            text_en: terms.text_en,
            published_at: terms.published_at,
        })
    }

    /// The tenant's cases, newest first (S15).
    async fn cases(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many to return: 1 to 100 (20 when left out).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the page before, to get the next.")] after: Option<
            String,
        >,
        #[graphql(desc = "Only cases in this status.")] status: Option<CaseStatus>,
    ) -> Result<Connection<String, Case>> {
        let tenant = tenant(ctx)?;
        let after = case_cursor(after.as_deref())?;
        let page = services(ctx)?
            .cases(
                &tenant,
                status.map(Into::into),
                after,
                i64::from(first.unwrap_or(20)),
            )
            .await
            .map_err(to_graphql)?;
        let mut connection = Connection::new(after.is_some(), page.has_next_page);
        connection.edges.extend(page.cases.into_iter().map(|case| {
            Edge::new(
                format!("cases:{}", case.id),
                Case {
                    case,
                    actor: Actor::Tenant,
                },
            )
        }));
        Ok(connection)
    }

    /// Staff: every tenant's cases, newest first, optionally of one status: the queue staff
    /// work through (`nextStatuses` are staff's).
    #[graphql(guard = "StaffOnly")]
    async fn case_queue(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many to return: 1 to 100 (20 when left out).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the page before, to get the next.")] after: Option<
            String,
        >,
        #[graphql(desc = "Only cases in this status, e.g. SUBMITTED for the new ones.")]
        status: Option<CaseStatus>,
    ) -> Result<Connection<String, Case>> {
        let after = case_cursor(after.as_deref())?;
        let page = services(ctx)?
            .case_queue(
                status.map(Into::into),
                after,
                i64::from(first.unwrap_or(20)),
            )
            .await
            .map_err(to_graphql)?;
        let mut connection = Connection::new(after.is_some(), page.has_next_page);
        connection.edges.extend(page.cases.into_iter().map(|case| {
            Edge::new(
                format!("cases:{}", case.id),
                Case {
                    case,
                    actor: Actor::Staff,
                },
            )
        }));
        Ok(connection)
    }

    /// One of the tenant's cases, by number (S16). Staff see any case.
    async fn case(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The case number, e.g. \"TV-2026-000042\".")] number: String,
    ) -> Result<Case> {
        let number = case_number(&number)?;
        let services = services(ctx)?;
        match ctx.data_opt::<Identity>() {
            Some(Identity::Tenant(tenant)) => {
                let case = services.case(tenant, &number).await.map_err(to_graphql)?;
                Ok(Case {
                    case,
                    actor: Actor::Tenant,
                })
            }
            Some(Identity::Staff(_)) => {
                let case = services.case_for_staff(&number).await.map_err(to_graphql)?;
                Ok(Case {
                    case,
                    actor: Actor::Staff,
                })
            }
            // The maintenance system moves cases; it reads them from its own events.
            Some(Identity::Integration(_)) => Err(forbidden()),
            None => Err(unauthenticated()),
        }
    }

    /// Staff: a tenant's fees and what remains of them (S5).
    #[graphql(guard = "StaffOnly")]
    async fn ledger_fees(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The tenant, as an id from `households` or a case.")] tenant_id: ID,
    ) -> Result<Vec<Fee>> {
        let tenant = decode(Kind::Tenant, &tenant_id)
            .and_then(|t| TenantId::parse(t).ok())
            .ok_or_else(|| not_found(Entity::Tenant))?;
        let fees = services(ctx)?
            .ledger_fees(&tenant)
            .await
            .map_err(to_graphql)?;
        Ok(fees.iter().map(|f| Fee::new(f, language(ctx))).collect())
    }
}

/// The answer to a cart mutation: the cart as it is now, and what went wrong.
#[derive(Debug, SimpleObject)]
pub struct CartPayload {
    /// The cart after the mutation (lines that failed left as they were).
    pub cart: Option<Cart>,
    /// One per line or field that could not be done, with the rules' reasons; empty on success.
    pub user_errors: Vec<UserError>,
}

/// The answer to sending an order.
#[derive(Debug, SimpleObject)]
pub struct CheckoutSubmitPayload {
    /// The new case (S14); the earlier one when the idempotency key was used before.
    pub case: Option<Case>,
    /// True when this idempotency key was sent before: `case` is the one made then, nothing new was made.
    pub replayed: bool,
    /// Why the order was not sent (terms not accepted, debt, a locked line …); empty on success.
    pub user_errors: Vec<UserError>,
}

/// The answer to a case mutation.
#[derive(Debug, SimpleObject)]
pub struct CasePayload {
    /// The case as it is now; null when the mutation was refused.
    pub case: Option<Case>,
    /// Why it was refused (e.g. a move the lifecycle does not allow); empty on success.
    pub user_errors: Vec<UserError>,
}

/// The answer to setting a tenant's debt.
#[derive(Debug, SimpleObject)]
pub struct LedgerDebtPayload {
    /// The tenant.
    pub tenant_id: ID,
    /// The debt now; null when refused.
    pub debt: Option<Money>,
    /// Why it was refused (a negative amount, a wrong currency); empty on success.
    pub user_errors: Vec<UserError>,
}

/// The answer to recording a payment.
#[derive(Debug, SimpleObject)]
pub struct FeePayload {
    /// The fee with the payment counted; null when refused.
    pub fee: Option<Fee>,
    /// Why it was refused (more than remains, a wrong currency); empty on success.
    pub user_errors: Vec<UserError>,
}

/// The answer to adding or changing a catalogue option.
#[derive(Debug, SimpleObject)]
pub struct AddOnOptionPayload {
    /// The option as stored; null when refused.
    pub option: Option<AddOnOption>,
    /// Each field that was wrong; empty on success.
    pub user_errors: Vec<UserError>,
}

fn currency(code: &str) -> std::result::Result<Currency, UserError> {
    Currency::parse(code)
        .map_err(|e| UserError::new("INVALID_INPUT", Some("currency"), e.to_string()))
}

#[derive(Debug, Default)]
pub struct CoreMutation;

/// A case mutation's answer: the case, or the user error, or (not found) a GraphQL error.
fn case_payload(
    result: std::result::Result<tillval_services::case::Case, ServiceError>,
    actor: Actor,
    ctx: &Context<'_>,
) -> Result<CasePayload> {
    match result {
        Ok(case) => Ok(CasePayload {
            case: Some(Case { case, actor }),
            user_errors: Vec::new(),
        }),
        Err(ServiceError::NotFound(what)) => Err(not_found(what)),
        Err(error) => {
            let user_error = to_user_error(error, &services(ctx)?.rules(), language(ctx))?;
            Ok(CasePayload {
                case: None,
                user_errors: vec![user_error],
            })
        }
    }
}

/// One of the line-wise cart mutations.
#[derive(Debug, Clone, Copy)]
enum CartOp {
    Add,
    Update,
    Remove,
}

impl CoreMutation {
    /// Runs a cart operation line by line; each failure is a user error on its line, and the
    /// payload's cart is what remains.
    async fn cart_operation(
        ctx: &Context<'_>,
        rental_object_id: &ID,
        op: CartOp,
        lines: Vec<(ID, i64)>,
    ) -> Result<CartPayload> {
        let tenant = tenant(ctx)?;
        let object = parse_rental_object_id(rental_object_id)?;
        if lines.len() > MAX_LINES_PER_CALL {
            return Err(crate::errors::error(
                "BAD_USER_INPUT",
                format!("at most {MAX_LINES_PER_CALL} lines per call"),
            ));
        }
        let services = services(ctx)?;
        services
            .rental_object(&tenant, &object)
            .await
            .map_err(to_graphql)?;
        let rules = services.rules();
        let mut user_errors = Vec::new();
        // Each operation answers the cart as it left it; a failed one changes nothing, so the
        // last answer is the cart now and need not be loaded again.
        let mut latest = None;
        for (i, (id, quantity)) in lines.iter().enumerate() {
            let result = match (option_id(id), op) {
                (None, CartOp::Add) => Err(ServiceError::NotFound(Entity::AddOnOption)),
                (None, _) => Err(ServiceError::NotFound(Entity::CartLine)),
                (Some(option), CartOp::Add) => {
                    services
                        .cart_add(&tenant, &object, &option, *quantity)
                        .await
                }
                (Some(option), CartOp::Update) => {
                    services
                        .cart_update(&tenant, &object, &option, *quantity)
                        .await
                }
                (Some(option), CartOp::Remove) => {
                    services.cart_remove(&tenant, &object, &option).await
                }
            };
            match result {
                Ok(view) => latest = Some(view),
                Err(error) => {
                    let mut user_error = to_user_error(error, &rules, language(ctx))?;
                    let mut field = vec!["lines".to_owned(), i.to_string()];
                    field.extend(
                        user_error
                            .field
                            .take()
                            .unwrap_or_default()
                            .into_iter()
                            .filter(|f| f != "lines"),
                    );
                    user_error.field = Some(field);
                    user_errors.push(user_error);
                }
            }
        }
        let view = match latest {
            Some(view) => view,
            None => services.cart(&tenant, &object).await.map_err(to_graphql)?,
        };
        Ok(CartPayload {
            cart: Some(Cart::new(&view, &rules, language(ctx))),
            user_errors,
        })
    }
}

#[Object]
impl CoreMutation {
    /// Adds lines to the cart (S9, S10). A blocked or locked option is a user error with the
    /// rules' reasons.
    async fn cart_lines_add(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The apartment, as an id from `viewer.rentalObjects`.")] rental_object_id: ID,
        #[graphql(desc = "The options and quantities to add: at most 50.")] lines: Vec<
            CartLineInput,
        >,
    ) -> Result<CartPayload> {
        let lines = lines
            .into_iter()
            .map(|l| (l.option_id, l.quantity))
            .collect();
        Self::cart_operation(ctx, &rental_object_id, CartOp::Add, lines).await
    }

    /// Changes quantities of lines in the cart (S9).
    async fn cart_lines_update(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The apartment, as an id from `viewer.rentalObjects`.")] rental_object_id: ID,
        #[graphql(desc = "The lines and their new quantities: at most 50.")] lines: Vec<
            CartLineInput,
        >,
    ) -> Result<CartPayload> {
        let lines = lines
            .into_iter()
            .map(|l| (l.option_id, l.quantity))
            .collect();
        Self::cart_operation(ctx, &rental_object_id, CartOp::Update, lines).await
    }

    /// Removes lines from the cart (S12).
    async fn cart_lines_remove(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The apartment, as an id from `viewer.rentalObjects`.")] rental_object_id: ID,
        #[graphql(desc = "The options whose lines to remove: at most 50.")] option_ids: Vec<ID>,
    ) -> Result<CartPayload> {
        let lines = option_ids.into_iter().map(|id| (id, 0)).collect();
        Self::cart_operation(ctx, &rental_object_id, CartOp::Remove, lines).await
    }

    /// Updates the order's details (S12).
    async fn checkout_details_update(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The apartment, as an id from `viewer.rentalObjects`.")] rental_object_id: ID,
        #[graphql(desc = "The details; each replaces the one saved.")]
        details: CheckoutDetailsInput,
    ) -> Result<CartPayload> {
        let (tenant, object, services) = (
            tenant(ctx)?,
            parse_rental_object_id(&rental_object_id)?,
            services(ctx)?,
        );
        let rules = services.rules();
        let result = services
            .checkout_details_update(
                &tenant,
                &object,
                details.contact_phone.as_deref(),
                details.preferred_date,
                &details.message,
            )
            .await;
        match result {
            Ok(view) => Ok(CartPayload {
                cart: Some(Cart::new(&view, &rules, language(ctx))),
                user_errors: Vec::new(),
            }),
            Err(error) => {
                let user_error = to_user_error(error, &rules, language(ctx))?;
                let view = services.cart(&tenant, &object).await.map_err(to_graphql)?;
                Ok(CartPayload {
                    cart: Some(Cart::new(&view, &rules, language(ctx))),
                    user_errors: vec![user_error],
                })
            }
        }
    }

    /// Sends the order (S13, S14): the terms must be accepted in their current version.
    async fn checkout_submit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The apartment, as an id from `viewer.rentalObjects`.")] rental_object_id: ID,
        #[graphql(desc = "The accepted terms and an idempotency key.")] input: CheckoutSubmitInput,
    ) -> Result<CheckoutSubmitPayload> {
        let (tenant, object, services) = (
            tenant(ctx)?,
            parse_rental_object_id(&rental_object_id)?,
            services(ctx)?,
        );
        let request = match SubmitRequest::try_from(&input) {
            Ok(request) => request,
            Err(invalid) => {
                return Ok(CheckoutSubmitPayload {
                    case: None,
                    replayed: false,
                    user_errors: vec![invalid.into()],
                });
            }
        };
        match services.checkout_submit(&tenant, &object, &request).await {
            Ok(sent) => Ok(CheckoutSubmitPayload {
                case: Some(Case {
                    case: sent.case,
                    actor: Actor::Tenant,
                }),
                replayed: sent.replayed,
                user_errors: Vec::new(),
            }),
            Err(ServiceError::NotFound(what @ Entity::RentalObject)) => Err(not_found(what)),
            Err(error) => Ok(CheckoutSubmitPayload {
                case: None,
                replayed: false,
                user_errors: vec![to_user_error(error, &services.rules(), language(ctx))?],
            }),
        }
    }

    /// The tenant cancels a case while it is SUBMITTED or UNDER_REVIEW.
    async fn case_cancel(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The case number.")] number: String,
    ) -> Result<CasePayload> {
        let tenant = tenant(ctx)?;
        let number = case_number(&number)?;
        let services = services(ctx)?;
        case_payload(
            services.case_cancel(&tenant, &number).await,
            Actor::Tenant,
            ctx,
        )
    }

    /// Staff, or the landlord's maintenance system (`integration` role): moves a case along
    /// its lifecycle. For the maintenance system it is idempotent: a case already in `to` is
    /// answered as it is, so a retried request is one transition.
    #[graphql(guard = "CaseMoverOnly")]
    async fn case_transition(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The case number.")] number: String,
        #[graphql(desc = "The status to move it to: one of the case's `nextStatuses`.")]
        to: CaseStatus,
    ) -> Result<CasePayload> {
        let number = case_number(&number)?;
        let services = services(ctx)?;
        match case_mover(ctx)? {
            CaseMover::Staff => case_payload(
                services.case_transition(&number, to.into()).await,
                Actor::Staff,
                ctx,
            ),
            CaseMover::Integration => case_payload(
                services
                    .case_transition_by_integration(&number, to.into())
                    .await,
                Actor::Integration,
                ctx,
            ),
        }
    }

    /// Staff: sets a tenant's debt (S3); 0 clears it.
    #[graphql(guard = "StaffOnly")]
    async fn ledger_debt_set(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The tenant, as an id from `households` or a case.")] tenant_id: ID,
        #[graphql(desc = "The debt: zero or more, in the property's currency.")] amount: MoneyInput,
    ) -> Result<LedgerDebtPayload> {
        let tenant = decode(Kind::Tenant, &tenant_id)
            .and_then(|t| TenantId::parse(t).ok())
            .ok_or_else(|| not_found(Entity::Tenant))?;
        let services = services(ctx)?;
        let currency = match currency(&amount.currency) {
            Ok(c) => c,
            Err(e) => {
                return Ok(LedgerDebtPayload {
                    tenant_id,
                    debt: None,
                    user_errors: vec![e],
                });
            }
        };
        match services
            .ledger_set_debt(&tenant, amount.amount, currency)
            .await
        {
            Ok(()) => {
                let debt = tillval_engine::model::Money::from_minor(amount.amount, currency)
                    .ok()
                    .map(|m| Money::new(m, language(ctx)));
                Ok(LedgerDebtPayload {
                    tenant_id,
                    debt,
                    user_errors: Vec::new(),
                })
            }
            Err(ServiceError::NotFound(what)) => Err(not_found(what)),
            Err(error) => Ok(LedgerDebtPayload {
                tenant_id,
                debt: None,
                user_errors: vec![to_user_error(error, &services.rules(), language(ctx))?],
            }),
        }
    }

    /// Staff: records a payment on a fee (S5).
    #[graphql(guard = "StaffOnly")]
    async fn ledger_payment_record(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fee, as an id from `ledgerFees`.")] fee_id: ID,
        #[graphql(desc = "What was paid: more than zero, at most what remains.")]
        amount: MoneyInput,
    ) -> Result<FeePayload> {
        let fee = decode(Kind::Fee, &fee_id)
            .and_then(|f| f.parse::<i64>().ok())
            .ok_or_else(|| not_found(Entity::Fee))?;
        let services = services(ctx)?;
        let currency = match currency(&amount.currency) {
            Ok(c) => c,
            Err(e) => {
                return Ok(FeePayload {
                    fee: None,
                    user_errors: vec![e],
                });
            }
        };
        match services
            .ledger_record_payment(fee, amount.amount, currency)
            .await
        {
            Ok(fee) => Ok(FeePayload {
                fee: Some(Fee::new(&fee, language(ctx))),
                user_errors: Vec::new(),
            }),
            Err(ServiceError::NotFound(what)) => Err(not_found(what)),
            Err(error) => Ok(FeePayload {
                fee: None,
                user_errors: vec![to_user_error(error, &services.rules(), language(ctx))?],
            }),
        }
    }

    /// Staff: adds or replaces an option in a property's catalogue; the cached catalogue is
    /// dropped, so tenants see the change on their next request.
    #[graphql(guard = "StaffOnly")]
    async fn catalogue_option_upsert(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The property whose catalogue it belongs to.")] property_id: ID,
        #[graphql(desc = "The option; its `handle` says which one to change, or a new one.")] input: AddOnOptionInput,
    ) -> Result<AddOnOptionPayload> {
        let property = decode(Kind::Property, &property_id)
            .and_then(|p| PropertyId::parse(p).ok())
            .ok_or_else(|| not_found(Entity::Property))?;
        let services = services(ctx)?;
        let record = match AddOnOptionRecord::try_from(&input) {
            Ok(record) => record,
            Err(invalid) => {
                return Ok(AddOnOptionPayload {
                    option: None,
                    user_errors: vec![invalid.into()],
                });
            }
        };
        let space_name = record.space.to_string();
        match services.catalogue_option_upsert(&property, record).await {
            Ok(option) => Ok(AddOnOptionPayload {
                option: Some(AddOnOption {
                    option: std::sync::Arc::new(option),
                    space_name,
                    availability: None,
                }),
                user_errors: Vec::new(),
            }),
            Err(ServiceError::NotFound(what)) => Err(not_found(what)),
            Err(error) => Ok(AddOnOptionPayload {
                option: None,
                user_errors: vec![to_user_error(error, &services.rules(), language(ctx))?],
            }),
        }
    }
}

#[derive(Debug)]
pub struct Subscription;

/// The subscription root: live case status over WebSocket.
#[Subscription]
impl Subscription {
    /// Status changes of the tenant's own cases (staff: of every case). Over WebSocket
    /// (graphql-transport-ws); the token comes in `connection_init`.
    async fn case_status_changed(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Pin<Box<dyn Stream<Item = CaseStatusEvent> + Send>>> {
        let only = match ctx.data_opt::<Identity>() {
            Some(Identity::Tenant(tenant)) => Some(tenant.clone()),
            Some(Identity::Staff(_)) => None,
            Some(Identity::Integration(_)) => return Err(forbidden()),
            None => return Err(unauthenticated()),
        };
        let events = BroadcastStream::new(services(ctx)?.subscribe_case_events());
        Ok(Box::pin(events.filter_map(move |event| {
            let only = only.clone();
            async move {
                let event = event.ok()?;
                if only.as_ref().is_some_and(|tenant| tenant != &event.tenant) {
                    return None;
                }
                Some(CaseStatusEvent {
                    case_number: event.number.to_string(),
                    status: event.status.into(),
                    at: event.at,
                })
            }
        })))
    }
}
