//! Decisions (`/staff/beslut`): for one household, what decides each add-on now ("explain":
//! the gate, each option's status, reasons, the rule function and its file), and the log of
//! refused orders with the rule-set version that refused them, filtered by action, apartment
//! and reason code (`households`, `decisionExplain`, `decisions`, `ledgerAccount` for the
//! tenant's name).

#![allow(clippy::indexing_slicing)]

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};
use tillval_engine::model::Language;

use tillval_services::authoring::LOGGED_ACTIONS;

use super::{StaffVisit, frame_at, household_picker, list, minute, text};
use crate::portal::layout::{encode, error_summary, page};
use crate::portal::text::Text;

const HOUSEHOLD: &str = "query StaffDecisions($t: ID!, $r: ID!, $after: String, $action: String, $only: ID, $code: String) { \
    ledgerAccount(tenantId: $t) { tenantName } \
    decisionExplain(tenantId: $t, rentalObjectId: $r) { ruleSet gateOpen gateReasons { code message } options { optionId name status reasons { code message } decidedBy file error } } \
    decisions(tenantId: $t, first: 25, after: $after, action: $action, rentalObjectId: $only, reasonCode: $code) { nodes { at action rentalObjectId optionId ruleSet reasonCodes figures } pageInfo { hasNextPage endCursor } } }";

const PATH: &str = "/staff/beslut";

#[derive(Debug, Deserialize)]
pub(in crate::portal) struct DecisionsQuery {
    hyresgast: Option<String>,
    objekt: Option<String>,
    efter: Option<String>,
    /// `cart_add`, `checkout_submit`, or empty for both.
    handling: Option<String>,
    /// A reason code, or empty for any.
    kod: Option<String>,
    /// Present: every apartment of the tenant's, not only this one.
    alla: Option<String>,
}

pub(in crate::portal) async fn decisions_page(
    visit: StaffVisit,
    Query(query): Query<DecisionsQuery>,
) -> Response {
    let l = visit.language;
    let (Some(tenant), Some(object)) = (query.hyresgast.as_deref(), query.objekt.as_deref()) else {
        let picker = household_picker(&visit, query.efter.as_deref(), PATH, |h| {
            format!(
                "{PATH}?hyresgast={}&objekt={}",
                encode(text(&h["tenantId"])),
                encode(text(&h["rentalObjectId"]))
            )
        })
        .await;
        let token = visit.form_token();
        return match picker {
            Ok(picker) => {
                let content = html! {
                    h1 { (Text::StaffDecisions.get(l)) }
                    p { (Text::DecisionsLead.get(l)) }
                    (picker)
                };
                page(
                    &frame_at(l, Some(&token), PATH, Text::StaffDecisions),
                    content,
                )
                .into_response()
            }
            Err(failed) => failed,
        };
    };
    let action = query.handling.as_deref().filter(|a| !a.is_empty());
    let code = query
        .kod
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let all_apartments = query.alla.is_some();
    let variables = json!({
        "t": tenant,
        "r": object,
        "after": query.efter,
        "action": action,
        "only": (!all_apartments).then_some(object),
        "code": code,
    });
    let (data, errors): (Value, Vec<(String, String)>) = match visit
        .client
        .run(HOUSEHOLD, variables)
        .await
    {
        Ok(data) => (data, Vec::new()),
        Err(error) if error.code() == "NOT_FOUND" => return visit.not_found(),
        // A filter the API refuses: the page again without the log, the error at its field.
        Err(error) if error.code() == "INVALID_INPUT" || error.code() == "BAD_USER_INPUT" => {
            // Which filter it was follows from what was asked, not from the message's words.
            let field = if action.is_some_and(|a| !LOGGED_ACTIONS.contains(&a)) {
                "action"
            } else {
                "code"
            };
            let message = if field == "code" {
                Text::CodeInvalid.get(l).to_owned()
            } else {
                error.to_string()
            };
            let retry = json!({ "t": tenant, "r": object, "after": null, "action": null, "only": object, "code": null });
            match visit.client.run::<Value>(HOUSEHOLD, retry).await {
                Ok(mut data) => {
                    data["decisions"] = Value::Null;
                    (data, vec![(field.to_owned(), message)])
                }
                Err(error) => return visit.failed(&error),
            }
        }
        Err(error) => return visit.failed(&error),
    };
    let token = visit.form_token();
    // The apartment by its own id: the address would take a lookup through every household.
    let address = object.rsplit('/').next().unwrap_or(object);
    let name = text(&data["ledgerAccount"]["tenantName"]);
    let here = format!(
        "{PATH}?hyresgast={}&objekt={}",
        encode(tenant),
        encode(object)
    );
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let content = html! {
        p { a class="back" href=(PATH) { "← " (Text::HouseholdsTitle.get(l)) } }
        h1 { (Text::DecisionsOf.with(l, &[("name", name), ("address", address)])) }
        p { a href={ "/staff/reskontra?hyresgast=" (encode(tenant)) } { (Text::LedgerOf.with(l, &[("name", name)])) } }
        (error_summary(l, &errors))
        (explanation(l, &data["decisionExplain"]))
        (log(l, &data["decisions"], &here, action, code, all_apartments, &errors))
    };
    (
        status,
        page(
            &frame_at(l, Some(&token), &here, Text::StaffDecisions),
            content,
        ),
    )
        .into_response()
}

fn status_text(status: &str) -> Text {
    match status {
        "AVAILABLE" => Text::OptionAvailable,
        "IN_CART" => Text::InCart,
        "LOCKED_BY_CART" => Text::OptionLockedByCart,
        "RULE_ERROR" => Text::OptionRuleError,
        _ => Text::OptionBlocked,
    }
}

fn explanation(l: Language, e: &Value) -> Markup {
    html! {
        section aria-labelledby="explain-title" {
            h2 id="explain-title" { (Text::ExplainTitle.get(l)) }
            p { (Text::RuleSetName.with(l, &[("name", text(&e["ruleSet"]))])) }
            @if e["gateOpen"] == true {
                p data-gate="open" { (Text::GateOpen.get(l)) }
            } @else {
                div class="notice" data-gate="closed" {
                    p { (Text::GateClosed.get(l)) }
                    ul { @for r in list(&e["gateReasons"]) { li { (text(&r["message"])) " " code { (text(&r["code"])) } } } }
                }
            }
            div class="table-scroll" tabindex="0" role="region" aria-label=(Text::ExplainTitle.get(l)) {
                table class="explain" {
                    caption class="visually-hidden" { (Text::ExplainTitle.get(l)) }
                    thead { tr {
                        th scope="col" { (Text::Article.get(l)) }
                        th scope="col" { (Text::Status.get(l)) }
                        th scope="col" { (Text::Reasons.get(l)) }
                        th scope="col" { (Text::DecidedBy.get(l)) }
                    } }
                    tbody {
                        @for o in list(&e["options"]) {
                            tr data-status=(text(&o["status"])) {
                                th scope="row" { (text(&o["name"])) }
                                td { (status_text(text(&o["status"])).get(l)) }
                                td {
                                    @for r in list(&o["reasons"]) { (text(&r["message"])) " " code { (text(&r["code"])) } br; }
                                    @if let Some(error) = o["error"].as_str() { code { (error) } }
                                }
                                td {
                                    @if let Some(by) = o["decidedBy"].as_str() {
                                        code { (by) }
                                        @if let Some(file) = o["file"].as_str() { span class="hint" { (file) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn action_text(action: &str) -> Text {
    if action == "checkout_submit" {
        Text::ActionSubmit
    } else {
        Text::ActionCartAdd
    }
}

fn log(
    l: Language,
    decisions: &Value,
    here: &str,
    action: Option<&str>,
    code: Option<&str>,
    all_apartments: bool,
    errors: &[(String, String)],
) -> Markup {
    let error = |field: &str| {
        errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    };
    let page_info = &decisions["pageInfo"];
    html! {
        section aria-labelledby="log-title" {
            h2 id="log-title" { (Text::LogTitle.get(l)) }
            form method="get" action=(PATH) class="filters-form" {
                @for (name, value) in here.split_once('?').map(|(_, q)| q).unwrap_or("").split('&').filter_map(|p| p.split_once('=')) {
                    input type="hidden" name=(name) value=(percent_decoded(value));
                }
                div class={ "field" @if error("action").is_some() { " has-error" } } {
                    label for="action" { (Text::Action.get(l)) }
                    select id="action" name="handling" {
                        option value="" selected[action.is_none()] { (Text::ActionAny.get(l)) }
                        @for a in ["cart_add", "checkout_submit"] {
                            option value=(a) selected[action == Some(a)] { (action_text(a).get(l)) }
                        }
                    }
                }
                div class={ "field" @if error("code").is_some() { " has-error" } } {
                    label for="code" { (Text::ReasonCode.get(l)) }
                    @if let Some(message) = error("code") { p class="field-error" id="code-error" { (message) } }
                    input id="code" name="kod" type="text" value=(code.unwrap_or("")) autocomplete="off" spellcheck="false"
                        aria-describedby=[error("code").map(|_| "code-error")] aria-invalid=[error("code").map(|_| "true")];
                }
                div class="field checkbox" {
                    input id="all" name="alla" type="checkbox" value="1" checked[all_apartments];
                    label for="all" { (Text::AllApartments.get(l)) }
                }
                button type="submit" class="button secondary" { (Text::Filter.get(l)) }
            }
            @if list(&decisions["nodes"]).is_empty() {
                p data-decisions="0" { (Text::NoDecisions.get(l)) }
            } @else {
                div class="table-scroll" tabindex="0" role="region" aria-label=(Text::LogTitle.get(l)) {
                    table class="decision-log" data-decisions=(list(&decisions["nodes"]).len()) {
                        caption class="visually-hidden" { (Text::LogTitle.get(l)) }
                        thead { tr {
                            th scope="col" { (Text::When.get(l)) }
                            th scope="col" { (Text::Action.get(l)) }
                            th scope="col" { (Text::Article.get(l)) }
                            th scope="col" { (Text::ReasonCode.get(l)) }
                            th scope="col" { (Text::StaffRules.get(l)) }
                            th scope="col" { (Text::Figures.get(l)) }
                        } }
                        tbody {
                            @for d in list(&decisions["nodes"]) {
                                tr {
                                    th scope="row" { (minute(text(&d["at"]))) }
                                    td { (action_text(text(&d["action"])).get(l)) }
                                    td { @if let Some(id) = d["optionId"].as_str() { code { (id.rsplit('/').next().unwrap_or("")) } } }
                                    td { @for c in list(&d["reasonCodes"]) { code { (text(c)) } " " } }
                                    td { (text(&d["ruleSet"])) }
                                    td { code class="figures" { (text(&d["figures"])) } }
                                }
                            }
                        }
                    }
                }
                @if page_info["hasNextPage"] == true {
                    p { a href={ (here)
                        @if let Some(a) = action { "&handling=" (encode(a)) }
                        @if let Some(c) = code { "&kod=" (encode(c)) }
                        @if all_apartments { "&alla=1" }
                        "&efter=" (encode(text(&page_info["endCursor"]))) } { (Text::OlderDecisions.get(l)) } }
                }
            }
        }
    }
}

fn percent_decoded(value: &str) -> String {
    percent_encoding::percent_decode_str(value)
        .decode_utf8_lossy()
        .into_owned()
}

/// Every GraphQL document this module runs, for the trusted-documents manifest.
pub(super) const DOCUMENTS: &[&str] = &[HOUSEHOLD];
