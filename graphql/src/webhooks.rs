//! Staff's webhook endpoints and the outbox (issue 15): the endpoints (a secret shown once,
//! when it is made, never again), what was given up on, and replaying it.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use tillval_services::Entity;
use tillval_services::events::WebhookEndpoint as EndpointRecord;
use tillval_services::service::ServiceError;

use crate::context::{StaffOnly, services};
use crate::errors::{UserError, error, not_found, to_graphql, to_user_error};
use crate::ids::{Kind, decode, encode};
use crate::types::language;

/// Where the landlord's system takes events: each is posted here, signed (Standard Webhooks).
#[derive(Debug, Clone, SimpleObject)]
pub struct WebhookEndpoint {
    /// Opaque id.
    pub id: ID,
    /// Where events are POSTed.
    pub url: String,
    /// What staff wrote about it.
    pub description: String,
    /// Whether events are sent to it now (events wait while it is off).
    pub enabled: bool,
    /// When it was added (UTC).
    pub created_at: DateTime<Utc>,
}

impl From<EndpointRecord> for WebhookEndpoint {
    fn from(e: EndpointRecord) -> Self {
        WebhookEndpoint {
            id: encode(Kind::WebhookEndpoint, &e.id.to_string()),
            url: e.url,
            description: e.description,
            enabled: e.enabled,
            created_at: e.created_at,
        }
    }
}

/// A new webhook endpoint.
#[derive(Debug, InputObject)]
pub struct WebhookEndpointInput {
    /// An absolute `http` or `https` URL.
    pub url: String,
    /// A note for staff: whose system it is.
    #[graphql(default)]
    pub description: String,
}

/// The answer to adding an endpoint: the one time its signing secret is shown.
#[derive(Debug, SimpleObject)]
pub struct WebhookEndpointCreatePayload {
    /// The endpoint; null when refused.
    pub endpoint: Option<WebhookEndpoint>,
    /// The signing secret (`whsec_…`), shown this once: keep it in the receiving system.
    pub secret: Option<String>,
    /// Why it was refused (a bad URL); empty on success.
    pub user_errors: Vec<UserError>,
}

/// The answer to turning an endpoint on or off.
#[derive(Debug, SimpleObject)]
pub struct WebhookEndpointPayload {
    /// The endpoint as it is now; null when refused.
    pub endpoint: Option<WebhookEndpoint>,
    /// Why it was refused; empty on success.
    pub user_errors: Vec<UserError>,
}

/// An event an endpoint did not take after its last attempt.
#[derive(Debug, Clone, SimpleObject)]
pub struct WebhookDeadLetter {
    /// The event's key in the outbox: what `webhookReplay` takes.
    pub event_id: ID,
    /// The `webhook-id` every attempt carried.
    pub webhook_id: String,
    /// The event's type, e.g. `case.created`.
    pub event_type: String,
    /// How many times delivery was tried.
    pub attempts: u32,
    /// What the last try got back.
    pub last_error: String,
    /// When the event happened (UTC).
    pub created_at: DateTime<Utc>,
}

/// How deep the outbox is.
#[derive(Debug, Clone, SimpleObject)]
pub struct OutboxStatus {
    /// Deliveries waiting (due or retrying).
    pub pending: u64,
    /// When the oldest event not yet delivered happened (UTC); null when none waits.
    pub oldest_pending_at: Option<DateTime<Utc>>,
    /// Deliveries given up on.
    pub dead: u64,
}

/// The answer to a replay.
#[derive(Debug, SimpleObject)]
pub struct WebhookReplayPayload {
    /// How many dead letters go out again.
    pub replayed: u64,
}

fn endpoint_id(id: &ID) -> Result<i64> {
    decode(Kind::WebhookEndpoint, id)
        .and_then(|raw| raw.parse().ok())
        .ok_or_else(|| not_found(Entity::WebhookEndpoint))
}

fn event_id(id: &ID) -> Result<i64> {
    decode(Kind::OutboxEvent, id)
        .and_then(|raw| raw.parse().ok())
        .ok_or_else(|| error("NOT_FOUND", "no such event"))
}

#[derive(Debug, Default)]
pub struct WebhooksQuery;

#[Object]
impl WebhooksQuery {
    /// Staff: the webhook endpoints (never their secrets).
    #[graphql(guard = "StaffOnly")]
    async fn webhook_endpoints(&self, ctx: &Context<'_>) -> Result<Vec<WebhookEndpoint>> {
        let endpoints = services(ctx)?
            .webhook_endpoints()
            .await
            .map_err(to_graphql)?;
        Ok(endpoints.into_iter().map(Into::into).collect())
    }

    /// Staff: an endpoint's dead letters, oldest first (`first`: 1 to 100).
    #[graphql(guard = "StaffOnly")]
    async fn webhook_dead_letters(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint.")] endpoint_id: ID,
        #[graphql(desc = "How many to return: 1 to 100 (50 when left out).")] first: Option<i32>,
    ) -> Result<Vec<WebhookDeadLetter>> {
        let endpoint = self::endpoint_id(&endpoint_id)?;
        let letters = services(ctx)?
            .webhook_dead_letters(endpoint, i64::from(first.unwrap_or(50)))
            .await
            .map_err(to_graphql)?;
        Ok(letters
            .into_iter()
            .map(|d| WebhookDeadLetter {
                event_id: encode(Kind::OutboxEvent, &d.event.to_string()),
                webhook_id: d.webhook_id,
                event_type: d.event_type,
                attempts: d.attempts,
                last_error: d.last_error,
                created_at: d.created_at,
            })
            .collect())
    }

    /// Staff: what waits in the outbox, since when, and what was given up on.
    #[graphql(guard = "StaffOnly")]
    async fn outbox_status(&self, ctx: &Context<'_>) -> Result<OutboxStatus> {
        let depth = services(ctx)?.outbox_depth().await.map_err(to_graphql)?;
        Ok(OutboxStatus {
            pending: depth.pending,
            oldest_pending_at: depth.oldest_pending,
            dead: depth.dead,
        })
    }
}

#[derive(Debug, Default)]
pub struct WebhooksMutation;

#[Object]
impl WebhooksMutation {
    /// Staff: adds an endpoint that gets every event from now on. The answer carries the
    /// signing secret, this once.
    #[graphql(guard = "StaffOnly")]
    async fn webhook_endpoint_create(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Its URL and a note.")] input: WebhookEndpointInput,
    ) -> Result<WebhookEndpointCreatePayload> {
        let services = services(ctx)?;
        let secret =
            tillval_webhooks::secret::generate().map_err(|e| error("INTERNAL", e.to_string()))?;
        match services
            .webhook_endpoint_add(&input.url, &secret, &input.description)
            .await
        {
            Ok(endpoint) => Ok(WebhookEndpointCreatePayload {
                endpoint: Some(endpoint.into()),
                secret: Some(secret),
                user_errors: Vec::new(),
            }),
            Err(error @ ServiceError::InvalidInput { .. }) => Ok(WebhookEndpointCreatePayload {
                endpoint: None,
                secret: None,
                user_errors: vec![to_user_error(error, &services.rules(), language(ctx))?],
            }),
            Err(error) => Err(to_graphql(error)),
        }
    }

    /// Staff: switches an endpoint on or off. Events written while it is off are not sent to
    /// it; what it already has waiting still goes.
    #[graphql(guard = "StaffOnly")]
    async fn webhook_endpoint_set_enabled(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint.")] endpoint_id: ID,
        #[graphql(desc = "True to send to it, false to hold its events.")] enabled: bool,
    ) -> Result<WebhookEndpointPayload> {
        let endpoint = self::endpoint_id(&endpoint_id)?;
        let endpoint = services(ctx)?
            .webhook_endpoint_set_enabled(endpoint, enabled)
            .await
            .map_err(to_graphql)?;
        Ok(WebhookEndpointPayload {
            endpoint: Some(endpoint.into()),
            user_errors: Vec::new(),
        })
    }

    /// Staff: sends an endpoint's dead letters again, or only `eventId`'s, from now, with
    /// their attempts counted afresh.
    #[graphql(guard = "StaffOnly")]
    async fn webhook_replay(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint.")] endpoint_id: ID,
        #[graphql(desc = "One dead letter to send again; all of the endpoint's when left out.")]
        event_id: Option<ID>,
    ) -> Result<WebhookReplayPayload> {
        let endpoint = self::endpoint_id(&endpoint_id)?;
        let event = event_id.as_ref().map(self::event_id).transpose()?;
        let replayed = services(ctx)?
            .webhook_replay(endpoint, event)
            .await
            .map_err(to_graphql)?;
        Ok(WebhookReplayPayload { replayed })
    }
}
