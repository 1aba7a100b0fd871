//! "Ärenden": the tenant's cases with their status, kept current while the page is open
//! (S15), a case's details with its lines, prices and history (S16), and the receipt shown
//! after sending (S14).

use maud::{Markup, html};
use tillval_engine::model::Language;

use super::layout::{confirmation, encode, form_token_field};
use super::operations::{Case, CaseSummary};
use super::text::{self, Text};

/// `2026-11-25T14:03:11Z` as `2026-11-25 14:03` (UTC, as stored).
fn when(at: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(at) {
        Ok(time) => time
            .with_timezone(&chrono::Utc)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        Err(_) => at.to_owned(),
    }
}

fn status_badge(language: Language, number: &str, status: &str) -> Markup {
    html! {
        span class={ "status status-" (status.to_ascii_lowercase()) } data-case-status=(number) {
            (text::status(status, language))
        }
    }
}

pub fn list(language: Language, cases: &[CaseSummary]) -> Markup {
    html! {
        h1 { (Text::CasesTitle.get(language)) }
        @if cases.is_empty() {
            p { (Text::NoCases.get(language)) }
        } @else {
            div class="table-scroll" data-live-cases tabindex="0" role="region" aria-label=(Text::CasesTitle.get(language)) {
                table class="cases" {
                    caption class="visually-hidden" { (Text::CasesTitle.get(language)) }
                    thead { tr {
                        th scope="col" { (Text::CaseNumber.get(language)) }
                        th scope="col" { (Text::Contents.get(language)) }
                        th scope="col" { (Text::Created.get(language)) }
                        th scope="col" { (Text::Status.get(language)) }
                        th scope="col" class="num" { (Text::MonthlyCost.get(language)) }
                    } }
                    tbody {
                        @for case in cases {
                            tr {
                                th scope="row" { a href={ "/arenden/" (encode(&case.number)) } { (case.number) } }
                                td {
                                    @for (i, line) in case.lines.iter().enumerate() {
                                        @if i > 0 { ", " }
                                        (line.name) @if line.quantity > 1 { " × " (line.quantity) }
                                    }
                                }
                                td { (when(&case.created_at)) }
                                td { (status_badge(language, &case.number, &case.status)) }
                                td class="num" { @if let Some(total) = &case.monthly_total { (total.formatted) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// What the details page says besides the case: the receipt after sending, a confirmation,
/// or why an action was refused.
#[derive(Debug, Default)]
pub struct CaseNotes {
    pub sent: bool,
    pub done: Option<String>,
    pub refused: Vec<String>,
}

pub fn details(language: Language, case: &Case, notes: &CaseNotes, form_token: &str) -> Markup {
    let details = &case.checkout_details;
    let not_given = Text::NotGiven.get(language);
    html! {
        p { a class="back" href="/arenden" { "← " (Text::BackToCases.get(language)) } }
        @if notes.sent {
            div class="panel" role="status" {
                h1 { (Text::SentTitle.get(language)) }
                p { (Text::SentCaseNumber.get(language)) br; strong class="case-number" { (case.number) } }
            }
            p { (Text::SentNext.get(language)) }
        }
        @if let Some(done) = &notes.done { (confirmation(done)) }
        @if !notes.refused.is_empty() {
            div class="error-summary" role="alert" tabindex="-1" data-autofocus {
                h2 { (Text::CaseRefused.get(language)) }
                ul { @for message in &notes.refused { li { (message) } } }
            }
        }
        @if notes.sent {
            h2 { (Text::CaseTitle.with(language, &[("number", &case.number)])) }
        } @else {
            h1 { (Text::CaseTitle.with(language, &[("number", &case.number)])) }
        }
        dl class="summary" data-live-cases {
            div { dt { (Text::Status.get(language)) } dd { (status_badge(language, &case.number, &case.status)) } }
            div { dt { (Text::Created.get(language)) } dd { (when(&case.created_at)) } }
            div { dt { (Text::ContactPhone.get(language)) } dd { (details.contact_phone.as_deref().unwrap_or(not_given)) } }
            div { dt { (Text::PreferredDateShort.get(language)) } dd { (details.preferred_date.as_deref().unwrap_or(not_given)) } }
            div { dt { (Text::MessageShort.get(language)) } dd { @if details.message.is_empty() { (not_given) } @else { (details.message) } } }
            div { dt { (Text::TermsTitle.get(language)) } dd { (Text::AcceptedTermsVersion.with(language, &[("n", &case.accepted_terms_version.to_string())])) } }
        }
        h2 { (Text::Contents.get(language)) }
        div class="table-scroll" tabindex="0" role="region" aria-label=(Text::Contents.get(language)) {
            table class="lines" {
                caption class="visually-hidden" { (Text::Contents.get(language)) }
                thead { tr {
                    th scope="col" { (Text::Article.get(language)) }
                    th scope="col" class="num" { (Text::Quantity.get(language)) }
                    th scope="col" class="num" { (Text::MonthlyCost.get(language)) }
                    th scope="col" class="num" { (Text::OneTimeCost.get(language)) }
                } }
                tbody {
                    @for line in &case.lines {
                        tr {
                            th scope="row" { (line.name) }
                            td class="num" { (line.quantity) }
                            td class="num" { (line.monthly_total.formatted) }
                            td class="num" { (line.one_time_fee.formatted) }
                        }
                    }
                }
                tfoot { tr {
                    th scope="row" colspan="2" { (Text::Total.get(language)) }
                    td class="num" { @if let Some(total) = &case.monthly_total { (total.formatted) } }
                    td class="num" { @if let Some(total) = &case.one_time_total { (total.formatted) } }
                } }
            }
        }
        h2 { (Text::History.get(language)) }
        ol class="history" {
            @for entry in &case.history {
                li {
                    span class="history-status" { (text::status(&entry.status, language)) }
                    " · " (when(&entry.at)) " · "
                    (if entry.actor == "STAFF" { Text::ActorStaff.get(language) } else { Text::ActorTenant.get(language) })
                }
            }
        }
        @if case.next_statuses.iter().any(|s| s == "CANCELLED") {
            form method="post" action={ "/arenden/" (encode(&case.number)) "/avbryt" } {
                (form_token_field(form_token))
                button type="submit" class="button warning" { (Text::CancelCase.get(language)) }
            }
        }
    }
}
