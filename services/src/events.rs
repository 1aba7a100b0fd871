//! What the landlord's other systems learn of: the events the store writes to its outbox in
//! the transaction of each change (a case created, moved, cancelled or installed; a fee
//! booked), their payloads, and the records of the webhook endpoints they go to. Delivery (HTTP,
//! signatures, retries) is `tillval-webhooks`'; this module only says what an event is.
//!
//! Each event's `webhook_id` is derived from what it is about (the case number and the step of
//! its history; the fee's id), so the same change is the same id on every node and every
//! attempt, and a receiver can drop a duplicate by it.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use tillval_engine::model::Money;

use crate::case::{Actor, Case, CaseStatus};

/// The kinds of event, as their `type` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    CaseCreated,
    CaseMoved,
    CaseCancelled,
    CaseInstalled,
    FeeBooked,
}

impl EventType {
    pub const ALL: [EventType; 5] = [
        EventType::CaseCreated,
        EventType::CaseMoved,
        EventType::CaseCancelled,
        EventType::CaseInstalled,
        EventType::FeeBooked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::CaseCreated => "case.created",
            EventType::CaseMoved => "case.moved",
            EventType::CaseCancelled => "case.cancelled",
            EventType::CaseInstalled => "case.installed",
            EventType::FeeBooked => "fee.booked",
        }
    }
}

/// One event as the outbox keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEvent {
    /// The `webhook-id` of every attempt: `msg_` and what the event is about.
    pub webhook_id: String,
    pub event_type: EventType,
    /// Events with the same key are delivered to an endpoint in the order they were written.
    pub ordering_key: String,
    /// The body: `{ "type", "timestamp", "data" }` (the Standard Webhooks convention).
    pub payload: Value,
    pub at: DateTime<Utc>,
}

fn money(m: Money) -> Value {
    json!({ "amount": m.minor(), "currency": m.currency().code() })
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn actor(actor: Actor) -> &'static str {
    match actor {
        Actor::Tenant => "tenant",
        Actor::Staff => "staff",
        Actor::Integration => "integration",
    }
}

fn envelope(event_type: EventType, at: DateTime<Utc>, data: Value) -> Value {
    json!({ "type": event_type.as_str(), "timestamp": time(at), "data": data })
}

/// What the maintenance system needs of a new case: who, where, what (lines with prices and
/// fees), the order's details, the terms accepted, and when.
fn case_data(case: &Case) -> Value {
    let lines: Vec<Value> = case
        .lines
        .iter()
        .map(|l| {
            json!({
                "optionId": l.option.as_str(),
                "name": l.option_name,
                "categoryId": l.category.as_str(),
                "spaceId": l.space.as_str(),
                "quantity": l.quantity.get(),
                "monthlyPrice": money(l.monthly_price),
                "oneTimeFee": money(l.one_time_fee),
                "monthlyTotal": money(l.monthly_total()),
                "oneTimeTotal": money(l.one_time_total()),
            })
        })
        .collect();
    json!({
        "caseNumber": case.number.as_str(),
        "status": case.status.as_str(),
        "tenantId": case.tenant.as_str(),
        "rentalObjectId": case.rental_object.as_str(),
        "lines": lines,
        "monthlyTotal": case.monthly_total().map(money),
        "oneTimeTotal": case.one_time_total().map(money),
        "details": {
            "contactPhone": case.details.contact_phone.as_ref().map(|p| p.as_str()),
            "preferredDate": case.details.preferred_date.map(|d| d.to_string()),
            "message": case.details.message,
        },
        "termsVersion": case.terms_version,
        "createdAt": time(case.created_at),
    })
}

/// The event of a case just submitted.
pub fn case_created(case: &Case) -> OutboxEvent {
    OutboxEvent {
        webhook_id: format!("msg_{}_1", case.number.as_str()),
        event_type: EventType::CaseCreated,
        ordering_key: case.number.as_str().to_owned(),
        payload: envelope(EventType::CaseCreated, case.created_at, case_data(case)),
        at: case.created_at,
    }
}

/// The event of a case moved from `from` (its history's last step is the move).
pub fn case_moved(case: &Case, from: CaseStatus, by: Actor, at: DateTime<Utc>) -> OutboxEvent {
    let event_type = match case.status {
        CaseStatus::Cancelled => EventType::CaseCancelled,
        CaseStatus::Installed => EventType::CaseInstalled,
        _ => EventType::CaseMoved,
    };
    let data = json!({
        "caseNumber": case.number.as_str(),
        "tenantId": case.tenant.as_str(),
        "rentalObjectId": case.rental_object.as_str(),
        "from": from.as_str(),
        "to": case.status.as_str(),
        "by": actor(by),
        "at": time(at),
    });
    OutboxEvent {
        webhook_id: format!("msg_{}_{}", case.number.as_str(), case.history.len()),
        event_type,
        ordering_key: case.number.as_str().to_owned(),
        payload: envelope(event_type, at, data),
        at,
    }
}

/// The event of a fee booked on an installed case's line.
pub fn fee_booked(
    case: &Case,
    fee_id: i64,
    option: &str,
    amount: Money,
    at: DateTime<Utc>,
) -> OutboxEvent {
    let data = json!({
        "feeId": fee_id,
        "caseNumber": case.number.as_str(),
        "tenantId": case.tenant.as_str(),
        "rentalObjectId": case.rental_object.as_str(),
        "optionId": option,
        "amount": money(amount),
        "at": time(at),
    });
    OutboxEvent {
        webhook_id: format!("msg_fee_{fee_id}"),
        event_type: EventType::FeeBooked,
        ordering_key: case.number.as_str().to_owned(),
        payload: envelope(EventType::FeeBooked, at, data),
        at,
    }
}

/// A webhook endpoint as the store keeps it. The secret is for signing only: no read of the
/// API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    pub id: i64,
    pub url: String,
    pub secret: String,
    pub description: String,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
}

/// A delivery a dispatcher holds a lease on: the event, where it goes, how often it was tried.
#[derive(Debug, Clone, PartialEq)]
pub struct LeasedDelivery {
    pub event: i64,
    pub endpoint: i64,
    pub webhook_id: String,
    pub event_type: String,
    pub payload: String,
    pub url: String,
    pub secret: String,
    pub attempts: u32,
    pub lease: String,
}

/// A delivery given up on after its last attempt, for staff to see and replay.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    pub event: i64,
    pub endpoint: i64,
    pub webhook_id: String,
    pub event_type: String,
    pub attempts: u32,
    pub last_error: String,
    pub created_at: DateTime<Utc>,
}

/// How deep the outbox is: what waits, since when, and what was given up on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutboxDepth {
    pub pending: u64,
    pub oldest_pending: Option<DateTime<Utc>>,
    pub dead: u64,
}
