//! The case queue: every tenant's cases by status, with the moves `nextStatuses` allows staff
//! and each case's history (`caseQueue`, `caseTransition`).

#![allow(clippy::indexing_slicing)]

use axum::Form;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{StaffVisit, frame_at, minute, number_of};
use crate::portal::layout::{confirmation, form_token_field, page};
use crate::portal::session;
use crate::portal::text::Text;

const QUEUE: &str = "query StaffQueue($status: CaseStatus) { caseQueue(first: 100, status: $status) { nodes { number status createdAt nextStatuses lines { name quantity } history { status actor at } } } }";
const TRANSITION: &str = "mutation StaffTransition($n: String!, $to: CaseStatus!) { caseTransition(number: $n, to: $to) { case { number status } userErrors { code message } } }";

const STATUSES: [&str; 7] = [
    "SUBMITTED",
    "UNDER_REVIEW",
    "APPROVED",
    "SCHEDULED",
    "INSTALLED",
    "REJECTED",
    "CANCELLED",
];

#[derive(Debug, Deserialize)]
pub(in crate::portal) struct QueueQuery {
    status: Option<String>,
    klart: Option<String>,
}

/// The case queue: every tenant's cases, by status, each with the moves its lifecycle allows
/// staff, and its history.
pub(in crate::portal) async fn cases_page(
    visit: StaffVisit,
    axum::extract::Query(query): axum::extract::Query<QueueQuery>,
) -> Response {
    let status = query.status.filter(|s| STATUSES.contains(&s.as_str()));
    let data: Value = match visit.client.run(QUEUE, json!({ "status": status })).await {
        Ok(data) => data,
        Err(error) => return visit.failed(&error),
    };
    let l = visit.language;
    let token = visit.form_token();
    let path = match &status {
        Some(s) => format!("/staff/arenden?status={s}"),
        None => "/staff/arenden".to_owned(),
    };
    let content = html! {
        h1 { (Text::CaseQueueTitle.get(l)) }
        @if let Some(done) = query.klart.as_deref().and_then(|k| k.split_once(':')).filter(|(n, _)| tillval_services::case::CaseNumber::parse(n).is_some()) {
            (confirmation(&Text::CaseMoved.with(l, &[("number", done.0), ("status", crate::portal::text::status(done.1, l))])))
        }
        nav aria-label=(Text::FilterByStatus.get(l)) {
            ul class="filters" {
                li { a href="/staff/arenden" aria-current=[status.is_none().then_some("page")] { (Text::AllStatuses.get(l)) } }
                @for s in STATUSES {
                    li { a href={ "/staff/arenden?status=" (s) } aria-current=[(status.as_deref() == Some(s)).then_some("page")] { (crate::portal::text::status(s, l)) } }
                }
            }
        }
        div class="table-scroll" tabindex="0" role="region" aria-label=(Text::CaseQueueTitle.get(l)) {
            table class="queue" {
                caption class="visually-hidden" { (Text::CaseQueueTitle.get(l)) }
                thead { tr {
                    th scope="col" { (Text::CaseNumber.get(l)) }
                    th scope="col" { (Text::Contents.get(l)) }
                    th scope="col" { (Text::Created.get(l)) }
                    th scope="col" { (Text::Status.get(l)) }
                    th scope="col" { (Text::History.get(l)) }
                } }
                tbody {
                    @for case in data["caseQueue"]["nodes"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                        @let number = case["number"].as_str().unwrap_or("");
                        tr data-case=(number) {
                            th scope="row" { (number) }
                            td { @for (i, line) in case["lines"].as_array().map(Vec::as_slice).unwrap_or(&[]).iter().enumerate() {
                                @if i > 0 { ", " } (line["name"].as_str().unwrap_or("")) " × " (number_of(&line["quantity"]))
                            } }
                            td { (case["createdAt"].as_str().map(minute).unwrap_or_default()) }
                            td {
                                span class="status" { (crate::portal::text::status(case["status"].as_str().unwrap_or(""), l)) }
                                @for next in case["nextStatuses"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                                    @let to = next.as_str().unwrap_or("");
                                    form method="post" action={ "/staff/arenden/" (crate::portal::layout::encode(number)) } class="inline" {
                                        (form_token_field(&token))
                                        input type="hidden" name="to" value=(to);
                                        input type="hidden" name="back" value=(path);
                                        " "
                                        button type="submit" class="button small secondary" {
                                            (Text::MoveTo.with(l, &[("status", crate::portal::text::status(to, l))]))
                                            span class="visually-hidden" { " " (number) }
                                        }
                                    }
                                }
                            }
                            td { ol class="history" { @for h in case["history"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                                li { (crate::portal::text::status(h["status"].as_str().unwrap_or(""), l)) " · " (h["at"].as_str().map(minute).unwrap_or_default()) }
                            } } }
                        }
                    }
                }
            }
        }
    };
    page(&frame_at(l, Some(&token), &path, Text::Cases), content).into_response()
}

#[derive(Debug, Deserialize)]
pub(in crate::portal) struct MoveForm {
    form_token: String,
    to: String,
    back: Option<String>,
}

pub(in crate::portal) async fn case_move(
    visit: StaffVisit,
    headers: HeaderMap,
    axum::extract::Path(number): axum::extract::Path<String>,
    Form(form): Form<MoveForm>,
) -> Response {
    if let Err(refused) = visit.check_post(&headers, &form.form_token) {
        return refused;
    }
    if !STATUSES.contains(&form.to.as_str()) {
        return (StatusCode::BAD_REQUEST, "not a status").into_response();
    }
    let data: Value = match visit
        .client
        .run(TRANSITION, json!({ "n": number, "to": form.to }))
        .await
    {
        Ok(data) => data,
        Err(error) if error.code() == "NOT_FOUND" => {
            return (StatusCode::NOT_FOUND, "no such case").into_response();
        }
        Err(error) => return visit.failed(&error),
    };
    let back = session::local_path(form.back.as_deref().unwrap_or("/staff/arenden")).to_owned();
    let moved = &data["caseTransition"]["case"];
    if moved.is_null() {
        return Redirect::to(&back).into_response();
    }
    let separator = if back.contains('?') { '&' } else { '?' };
    Redirect::to(&format!(
        "{back}{separator}klart={}:{}",
        crate::portal::layout::encode(moved["number"].as_str().unwrap_or("")),
        moved["status"].as_str().unwrap_or("")
    ))
    .into_response()
}

/// Every GraphQL document this module runs, for the trusted-documents manifest.
pub(super) const DOCUMENTS: &[&str] = &[QUEUE, TRANSITION];
