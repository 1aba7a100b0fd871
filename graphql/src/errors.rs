//! How the engine's errors reach a client. Unexpected ones are GraphQL errors with a stable
//! `extensions.code`; expected refusals are data (`userErrors`) in a mutation's payload.

use async_graphql::{ErrorExtensions, SimpleObject};
use tillval_engine::model::Language;
use tillval_engine::rules::RuleSet;
use tillval_services::service::{RefusalCode, ServiceError};
use tillval_services::{Entity, Input};

use crate::types::Reason;

pub fn error(code: &'static str, message: impl Into<String>) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", code))
}

pub fn unauthenticated() -> async_graphql::Error {
    error("UNAUTHENTICATED", "a bearer token is required")
}

pub fn forbidden() -> async_graphql::Error {
    error("FORBIDDEN", "not allowed for this role")
}

pub fn not_found(what: Entity) -> async_graphql::Error {
    error("NOT_FOUND", format!("{what} not found"))
}

/// The GraphQL input field an input of the services arrives in.
pub fn input_field(input: Input) -> &'static str {
    match input {
        Input::Action => "action",
        Input::Amount => "amount",
        Input::Category => "category",
        Input::ContactPhone => "contactPhone",
        Input::Currency => "currency",
        Input::Description => "description",
        Input::Details => "details",
        Input::First => "first",
        Input::IdempotencyKey => "idempotencyKey",
        Input::MonthlyPrice => "monthlyPrice",
        Input::Option => "option",
        Input::Quantity => "quantity",
        Input::ReasonCode => "reasonCode",
        Input::Retention => "retention",
        Input::Secret => "secret",
        Input::Url => "url",
    }
}

/// The input field a refusal concerns, where one does: the terms' checkbox and version.
fn refusal_field(code: RefusalCode) -> Option<Vec<String>> {
    let field = match code {
        RefusalCode::TermsNotAccepted => "acceptTerms",
        RefusalCode::TermsOutdated => "termsVersion",
        _ => return None,
    };
    Some(vec!["input".to_owned(), field.to_owned()])
}

/// A service error as a GraphQL error (queries, and what a payload cannot hold).
pub fn to_graphql(error_: ServiceError) -> async_graphql::Error {
    match error_ {
        ServiceError::NotFound(what) => not_found(what),
        ServiceError::InvalidInput { field, message } => {
            let field = input_field(field);
            error("BAD_USER_INPUT", format!("{field}: {message}"))
                .extend_with(|_, e| e.set("field", field))
        }
        ServiceError::Refused(refusal) => error(refusal.code.as_str(), refusal.code.as_str()),
        ServiceError::IllegalTransition { from, to } => {
            error("ILLEGAL_TRANSITION", format!("{from} → {to}"))
        }
        ServiceError::Conflict(number) => {
            error("CONFLICT", format!("case {number} changed meanwhile"))
        }
        ServiceError::Rules(rule) => {
            tracing::error!(error = %rule, "rule error");
            error(
                "RULE_ERROR",
                "the rules could not decide; staff have been told",
            )
        }
        ServiceError::RulesUnavailable(_) => error(
            "RULES_UNAVAILABLE",
            "the rules could not decide in time; try again shortly",
        ),
        ServiceError::RuleSetRefused(problems) => {
            let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
            error("RULE_SET_INVALID", lines.join("; "))
        }
        ServiceError::Internal(detail) => {
            tracing::error!(%detail, "internal error");
            error("INTERNAL", "internal error")
        }
    }
}

/// An expected failure of a mutation: a stable code, the input field, a message, and the
/// rules' reasons when the rules said no.
#[derive(Debug, Clone, SimpleObject)]
pub struct UserError {
    /// Stable, for programs, e.g. INVALID_INPUT, TERMS_NOT_ACCEPTED, DEBT, LOCKED, ILLEGAL_TRANSITION.
    pub code: String,
    /// The path to the input field it is about, e.g. ["lines", "0", "quantity"]; null when it is about no one field.
    pub field: Option<Vec<String>>,
    /// For people, in the caller's language.
    pub message: String,
    /// The rules' reasons, when the rules said no.
    pub reasons: Vec<Reason>,
}

impl UserError {
    pub fn new(code: &str, field: Option<&str>, message: impl Into<String>) -> Self {
        UserError {
            code: code.into(),
            field: field.map(|f| vec![f.to_owned()]),
            message: message.into(),
            reasons: Vec::new(),
        }
    }
}

/// Splits a service error into a user error (expected) or a GraphQL error (not).
pub fn to_user_error(
    error_: ServiceError,
    rules: &RuleSet,
    language: Language,
) -> Result<UserError, async_graphql::Error> {
    Ok(match error_ {
        ServiceError::InvalidInput { field, message } => {
            UserError::new("INVALID_INPUT", Some(input_field(field)), message)
        }
        ServiceError::NotFound(what @ (Entity::AddOnOption | Entity::CartLine)) => {
            // The engine names the entity; the facade names the input field it came from.
            let field = match what {
                Entity::AddOnOption => "optionId",
                _ => "lines",
            };
            UserError::new("NOT_FOUND", Some(field), format!("{what} not found"))
        }
        ServiceError::Refused(refusal) => {
            let reasons: Vec<Reason> = refusal
                .reasons
                .iter()
                .map(|r| Reason::new(r, rules, language))
                .collect();
            let message = reasons
                .iter()
                .map(|r| r.message.clone())
                .collect::<Vec<_>>()
                .join(" ");
            UserError {
                code: refusal.code.as_str().into(),
                field: refusal_field(refusal.code),
                message,
                reasons,
            }
        }
        ServiceError::IllegalTransition { from, to } => UserError::new(
            "ILLEGAL_TRANSITION",
            Some("to"),
            format!("a case cannot go from {from} to {to}"),
        ),
        ServiceError::Conflict(number) => UserError::new(
            "CONFLICT",
            None,
            format!("case {number} changed meanwhile; look again"),
        ),
        ServiceError::RuleSetRefused(problems) => {
            let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
            UserError::new("RULE_SET_INVALID", Some("source"), lines.join("; "))
        }
        other => return Err(to_graphql(other)),
    })
}
