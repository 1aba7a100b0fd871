//! The landlord's workbench, for staff (`/staff`): the rules (`rules`), the case queue
//! (`cases`), a tenant's ledger (`ledger`), the catalogues (`catalogue`) and the decision log
//! with "explain" for one household (`decisions`). Like the portal, every step is a public
//! GraphQL operation run in-process as the staff member; a tenant's session gets nothing here.

// `serde_json::Value`'s `[]` answers `Null` for a missing key or a non-object; it never panics.
#![allow(clippy::indexing_slicing)]

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use maud::{Markup, html};
use serde_json::{Value, json};
use tillval_engine::model::Language;

use crate::auth::{Identity, Verified};
use crate::portal::client::Client;
use crate::portal::layout::{Frame, Section, encode, page};
use crate::portal::session::{self, SESSION_COOKIE, same_origin};
use crate::portal::text::Text;
use crate::server::AppState;

mod cases;
mod catalogue;
mod decisions;
mod ledger;
mod rules;

pub(super) use cases::{case_move, cases_page};
pub(super) use catalogue::{catalogue_page, catalogue_post};
pub(super) use decisions::decisions_page;
pub(super) use ledger::{debt_post, ledger_page, payment_post};
pub(super) use rules::{diff_page, make_active, rules_page, rules_post};

/// A staff member's request.
pub(super) struct StaffVisit {
    state: AppState,
    token: String,
    client: Client,
    language: Language,
}

impl FromRequestParts<AppState> for StaffVisit {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let jar = CookieJar::from_headers(&parts.headers);
        let language = session::language(&jar, &parts.headers);
        let token = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned());
        let verified = token.as_deref().map(|t| state.auth.verify_token(t));
        match (token, verified) {
            (
                Some(token),
                Some(Ok(Verified {
                    identity: identity @ Identity::Staff(_),
                    ..
                })),
            ) => Ok(StaffVisit {
                client: Client::new(state.schema.clone(), identity, language),
                state: state.clone(),
                token,
                language,
            }),
            // A tenant, or nobody: nothing of the workbench, not even that it exists beyond this.
            _ => {
                let frame = frame(language, None);
                let content = html! {
                    h1 { (Text::StaffOnlyTitle.get(language)) }
                    p { (Text::StaffOnlyLead.get(language)) }
                };
                Err((StatusCode::FORBIDDEN, page(&frame, content)).into_response())
            }
        }
    }
}

fn frame(language: Language, form_token: Option<&str>) -> Frame<'_> {
    frame_at(language, form_token, "/staff/regler", Text::StaffRules)
}

fn frame_at<'a>(
    language: Language,
    form_token: Option<&'a str>,
    path: &'a str,
    title: Text,
) -> Frame<'a> {
    Frame {
        language,
        title: title.get(language).to_owned(),
        section: Section::None,
        article_count: None,
        form_token,
        path,
        staff: form_token.is_some(),
    }
}

pub(super) async fn home() -> Redirect {
    Redirect::to("/staff/regler")
}

impl StaffVisit {
    fn form_token(&self) -> String {
        self.state.auth.form_token(&self.token)
    }

    fn failed(&self, error: &crate::portal::client::ClientError) -> Response {
        tracing::warn!(%error, "staff page failed");
        let frame = frame(self.language, None);
        let content =
            html! { h1 { (Text::UnavailableTitle.get(self.language)) } p { (error.to_string()) } };
        (StatusCode::SERVICE_UNAVAILABLE, page(&frame, content)).into_response()
    }

    fn check_post(&self, headers: &HeaderMap, form_token: &str) -> Result<(), Response> {
        if same_origin(headers) && self.state.auth.form_token_ok(&self.token, form_token) {
            Ok(())
        } else {
            let frame = frame(self.language, None);
            let content = html! { h1 { (Text::ForbiddenTitle.get(self.language)) } p { (Text::ForbiddenLead.get(self.language)) } };
            Err((StatusCode::FORBIDDEN, page(&frame, content)).into_response())
        }
    }

    fn not_found(&self) -> Response {
        let frame = frame(self.language, None);
        let content = html! { h1 { (Text::NotFoundTitle.get(self.language)) } };
        (StatusCode::NOT_FOUND, page(&frame, content)).into_response()
    }
}

fn number(value: &Value) -> String {
    value.as_u64().unwrap_or(0).to_string()
}

fn number_of(value: &Value) -> String {
    value.as_i64().unwrap_or(0).to_string()
}

/// The array at `value`, or none.
fn list(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or(&[])
}

/// The string at `value`, or "".
fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("")
}

/// `2026-11-25T15:52:01Z` as `2026-11-25 15:52` (UTC, as stored).
fn minute(at: &str) -> String {
    at.get(..16).unwrap_or(at).replace('T', " ")
}

const HOUSEHOLDS: &str = "query StaffHouseholds($after: String) { households(first: 50, after: $after) { nodes { tenantId tenantName rentalObjectId address } pageInfo { hasNextPage endCursor } } }";

/// The households, 50 at a time from `after`, each linked by `link` to the page that picked it;
/// `path` is this page's, for the next 50.
async fn household_picker(
    visit: &StaffVisit,
    after: Option<&str>,
    path: &str,
    link: impl Fn(&Value) -> String,
) -> Result<Markup, Response> {
    let data: Value = visit
        .client
        .run(HOUSEHOLDS, json!({ "after": after }))
        .await
        .map_err(|error| visit.failed(&error))?;
    let l = visit.language;
    let page_info = &data["households"]["pageInfo"];
    Ok(html! {
        div class="table-scroll" tabindex="0" role="region" aria-label=(Text::HouseholdsTitle.get(l)) {
            table class="households" {
                caption { (Text::HouseholdsTitle.get(l)) }
                thead { tr {
                    th scope="col" { (Text::Tenant.get(l)) }
                    th scope="col" { (Text::Address.get(l)) }
                } }
                tbody {
                    @for h in list(&data["households"]["nodes"]) {
                        tr {
                            th scope="row" { a href=(link(h)) { (text(&h["tenantName"])) } }
                            td { (text(&h["address"])) }
                        }
                    }
                }
            }
        }
        @if page_info["hasNextPage"] == true {
            p { a href={ (path) "?efter=" (encode(text(&page_info["endCursor"]))) } { (Text::MoreHouseholds.get(l)) } }
        }
    })
}

/// "1 850", "249,50", "249.5 kr" as öre; `None` for anything else (negative, more than two
/// decimals, letters, more than a trillion kronor).
fn parse_kronor(input: &str) -> Option<i64> {
    let compact: String = input
        .trim()
        .trim_end_matches("kr")
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}')
        .collect();
    let (whole, fraction) = match compact.split_once([',', '.']) {
        Some((_, "")) => return None,
        Some((whole, fraction)) => (whole, fraction),
        None => (compact.as_str(), ""),
    };
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty()
        || whole.len() > 12
        || !digits(whole)
        || fraction.len() > 2
        || !digits(fraction)
    {
        return None;
    }
    let kronor: i64 = whole.parse().ok()?;
    let ore: i64 = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<i64>().ok()? * 10,
        _ => fraction.parse().ok()?,
    };
    kronor.checked_mul(100)?.checked_add(ore)
}

/// Öre as the form shows them back: "1850" or "249,50".
fn kronor_text(ore: i64) -> String {
    if ore % 100 == 0 {
        (ore / 100).to_string()
    } else {
        format!("{},{:02}", ore / 100, (ore % 100).abs())
    }
}

/// Every GraphQL document the staff pages run, for the trusted-documents manifest.
pub(super) fn documents() -> impl Iterator<Item = &'static str> {
    [
        &[HOUSEHOLDS][..],
        cases::DOCUMENTS,
        catalogue::DOCUMENTS,
        decisions::DOCUMENTS,
        ledger::DOCUMENTS,
        rules::DOCUMENTS,
    ]
    .into_iter()
    .flatten()
    .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kronor_are_read_as_people_write_them_and_nothing_else() {
        for (written, ore) in [
            ("1850", 185_000),
            ("1 850", 185_000),
            ("1\u{a0}850,50", 185_050),
            ("249.5", 24_950),
            ("249,05 kr", 24_905),
            ("0", 0),
            (" 12 ", 1_200),
        ] {
            assert_eq!(parse_kronor(written), Some(ore), "{written:?}");
            assert_eq!(parse_kronor(&kronor_text(ore)), Some(ore));
        }
        for bad in [
            "",
            "kr",
            "-5",
            "1,234",
            "1.2.3",
            "12e3",
            "ett",
            "1,",
            ",5",
            "9999999999999",
            "1_000",
            "+4",
            "0x10",
        ] {
            assert_eq!(parse_kronor(bad), None, "{bad:?}");
        }
    }
}
