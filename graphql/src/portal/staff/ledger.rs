//! A tenant's ledger (`/staff/reskontra`): the debt that closes the gate (S3), changed; the
//! fees that block a key until paid (S5), with a payment recorded on one
//! (`households`, `ledgerAccount`, `ledgerDebtSet`, `ledgerPaymentRecord`).

#![allow(clippy::indexing_slicing)]

use axum::Form;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{StaffVisit, frame_at, household_picker, kronor_text, list, parse_kronor, text};
use crate::portal::layout::{confirmation, encode, error_summary, form_token_field, page};
use crate::portal::text::Text;

const ACCOUNT: &str = "query StaffLedger($t: ID!) { ledgerAccount(tenantId: $t) { tenantId tenantName debt { amount currency formatted } fees { id caseNumber optionId amount { amount currency formatted } paid { formatted } remaining { amount currency formatted } } } }";
const DEBT_SET: &str = "mutation StaffDebt($t: ID!, $a: MoneyInput!) { ledgerDebtSet(tenantId: $t, amount: $a) { debt { formatted } userErrors { code field message } } }";
const PAYMENT: &str = "mutation StaffPayment($f: ID!, $a: MoneyInput!) { ledgerPaymentRecord(feeId: $f, amount: $a) { fee { caseNumber remaining { formatted } } userErrors { code field message } } }";

const PATH: &str = "/staff/reskontra";

#[derive(Debug, Deserialize)]
pub(in crate::portal) struct LedgerQuery {
    hyresgast: Option<String>,
    efter: Option<String>,
    /// What the post before this page did: `skuld`, or `betalning:` and the fee's case.
    klart: Option<String>,
}

/// The household picker, or one tenant's account.
pub(in crate::portal) async fn ledger_page(
    visit: StaffVisit,
    Query(query): Query<LedgerQuery>,
) -> Response {
    match query.hyresgast {
        Some(tenant) => {
            let done = query.klart.as_deref().map(Done::parse);
            account(&visit, &tenant, StatusCode::OK, Note::Done(done.flatten())).await
        }
        None => {
            let picker = household_picker(&visit, query.efter.as_deref(), PATH, |h| {
                format!("{PATH}?hyresgast={}", encode(text(&h["tenantId"])))
            })
            .await;
            let l = visit.language;
            let token = visit.form_token();
            match picker {
                Ok(picker) => {
                    let content = html! {
                        h1 { (Text::StaffLedger.get(l)) }
                        p { (Text::LedgerLead.get(l)) }
                        (picker)
                    };
                    page(&frame_at(l, Some(&token), PATH, Text::StaffLedger), content)
                        .into_response()
                }
                Err(failed) => failed,
            }
        }
    }
}

/// What a post did, told on the page it redirects to (so a reload does not post again).
enum Done {
    Debt,
    Payment(String),
}

impl Done {
    fn parse(text: &str) -> Option<Done> {
        match text.split_once(':') {
            None if text == "skuld" => Some(Done::Debt),
            Some(("betalning", number))
                if tillval_services::case::CaseNumber::parse(number).is_some() =>
            {
                Some(Done::Payment(number.to_owned()))
            }
            _ => None,
        }
    }

    fn query(&self) -> String {
        match self {
            Done::Debt => "skuld".to_owned(),
            Done::Payment(number) => format!("betalning:{}", encode(number)),
        }
    }
}

/// What the account page says above it.
enum Note {
    Done(Option<Done>),
    Errors(Markup),
}

/// One tenant's debt and fees, with `note` (what was just done, or the form's errors) on top.
async fn account(visit: &StaffVisit, tenant: &str, status: StatusCode, note: Note) -> Response {
    let data: Value = match visit.client.run(ACCOUNT, json!({ "t": tenant })).await {
        Ok(data) => data,
        Err(error) if error.code() == "NOT_FOUND" => return visit.not_found(),
        Err(error) => return visit.failed(&error),
    };
    let l = visit.language;
    let token = visit.form_token();
    let account = &data["ledgerAccount"];
    let path = format!("{PATH}?hyresgast={}", encode(tenant));
    let debt = &account["debt"];
    let note = match note {
        Note::Errors(errors) => errors,
        Note::Done(None) => html! {},
        Note::Done(Some(Done::Debt)) => {
            confirmation(&Text::DebtSaved.with(l, &[("amount", text(&debt["formatted"]))]))
        }
        Note::Done(Some(Done::Payment(number))) => {
            let fee = list(&account["fees"])
                .iter()
                .find(|f| text(&f["caseNumber"]) == number);
            confirmation(
                &Text::PaymentRecorded.with(
                    l,
                    &[
                        ("number", &number),
                        (
                            "remaining",
                            fee.map(|f| text(&f["remaining"]["formatted"]))
                                .unwrap_or(""),
                        ),
                    ],
                ),
            )
        }
    };
    let content = html! {
        p { a class="back" href=(PATH) { "← " (Text::HouseholdsTitle.get(l)) } }
        h1 { (Text::LedgerOf.with(l, &[("name", text(&account["tenantName"]))])) }
        (note)
        h2 { (Text::Debt.get(l)) }
        @if debt.is_null() || debt["amount"].as_i64() == Some(0) {
            p data-debt="0" { (Text::NoDebt.get(l)) }
        } @else {
            p data-debt=(debt["amount"].as_i64().unwrap_or(0)) { (Text::DebtIs.with(l, &[("amount", text(&debt["formatted"]))])) }
        }
        form method="post" action={ (PATH) "/skuld" } class="stacked" {
            (form_token_field(&token))
            input type="hidden" name="tenant" value=(tenant);
            div class="field" {
                label for="debt" { (Text::DebtAmountLabel.get(l)) }
                span class="hint" id="debt-hint" { (Text::KronorHint.get(l)) }
                input id="debt" name="amount" type="text" inputmode="decimal" autocomplete="off"
                    aria-describedby="debt-hint" size="12"
                    value=(kronor_text(debt["amount"].as_i64().unwrap_or(0)));
            }
            button type="submit" class="button secondary" { (Text::SaveDebt.get(l)) }
        }
        h2 { (Text::Fees.get(l)) }
        @if list(&account["fees"]).is_empty() {
            p { (Text::NoFees.get(l)) }
        } @else {
            div class="table-scroll" tabindex="0" role="region" aria-label=(Text::Fees.get(l)) {
                table class="fees" {
                    caption class="visually-hidden" { (Text::Fees.get(l)) }
                    thead { tr {
                        th scope="col" { (Text::CaseNumber.get(l)) }
                        th scope="col" { (Text::Article.get(l)) }
                        th scope="col" class="num" { (Text::FeeAmount.get(l)) }
                        th scope="col" class="num" { (Text::Paid.get(l)) }
                        th scope="col" class="num" { (Text::Remaining.get(l)) }
                        th scope="col" { (Text::RecordPayment.get(l)) }
                    } }
                    tbody {
                        @for (index, fee) in list(&account["fees"]).iter().enumerate() {
                            @let remaining = fee["remaining"]["amount"].as_i64().unwrap_or(0);
                            @let field = format!("payment-{index}");
                            tr data-fee=(text(&fee["caseNumber"])) {
                                th scope="row" { (text(&fee["caseNumber"])) }
                                td { code { (text(&fee["optionId"]).rsplit('/').next().unwrap_or("")) } }
                                td class="num" { (text(&fee["amount"]["formatted"])) }
                                td class="num" { (text(&fee["paid"]["formatted"])) }
                                td class="num" { (text(&fee["remaining"]["formatted"])) }
                                td {
                                    @if remaining == 0 {
                                        (Text::FullyPaid.get(l))
                                    } @else {
                                        form method="post" action={ (PATH) "/betalning" } class="inline-form" {
                                            (form_token_field(&token))
                                            input type="hidden" name="tenant" value=(tenant);
                                            input type="hidden" name="fee" value=(text(&fee["id"]));
                                            input type="hidden" name="currency" value=(text(&fee["remaining"]["currency"]));
                                            input type="hidden" name="field" value=(field);
                                            label for=(field) class="visually-hidden" { (Text::PaymentAmountLabel.get(l)) " " (text(&fee["caseNumber"])) }
                                            input id=(field) name="amount" type="text" inputmode="decimal" autocomplete="off" size="10"
                                                value=(kronor_text(remaining));
                                            " "
                                            button type="submit" class="button small secondary" {
                                                (Text::RecordPayment.get(l))
                                                span class="visually-hidden" { " " (text(&fee["caseNumber"])) }
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
    };
    (
        status,
        page(
            &frame_at(l, Some(&token), &path, Text::StaffLedger),
            content,
        ),
    )
        .into_response()
}

/// A mutation's first user error as the form's error summary, or `None` when it went through.
fn user_errors(
    language: tillval_engine::model::Language,
    payload: &Value,
    field: &str,
) -> Option<Markup> {
    let errors: Vec<(String, String)> = list(&payload["userErrors"])
        .iter()
        .map(|e| (field.to_owned(), text(&e["message"]).to_owned()))
        .collect();
    (!errors.is_empty()).then(|| error_summary(language, &errors))
}

#[derive(Debug, Deserialize)]
pub(in crate::portal) struct DebtForm {
    form_token: String,
    tenant: String,
    amount: String,
}

pub(in crate::portal) async fn debt_post(
    visit: StaffVisit,
    headers: HeaderMap,
    Form(form): Form<DebtForm>,
) -> Response {
    if let Err(refused) = visit.check_post(&headers, &form.form_token) {
        return refused;
    }
    let post = LedgerPost {
        tenant: &form.tenant,
        field: "debt",
        amount: &form.amount,
        currency: "SEK",
    };
    match post
        .run(
            &visit,
            DEBT_SET,
            "ledgerDebtSet",
            |a| json!({ "t": form.tenant, "a": a }),
        )
        .await
    {
        Ok(_) => done(&form.tenant, &Done::Debt),
        Err(page) => page,
    }
}

/// A ledger post's amount, where its errors go, and the account to show again.
struct LedgerPost<'a> {
    tenant: &'a str,
    field: &'a str,
    amount: &'a str,
    currency: &'a str,
}

impl LedgerPost<'_> {
    /// Runs `operation` with the amount (as `variables` place it) and answers its payload
    /// under `key`; the account page again (422) with the error at the field when the amount
    /// is not one or the API refuses it.
    async fn run(
        &self,
        visit: &StaffVisit,
        operation: &str,
        key: &str,
        variables: impl FnOnce(Value) -> Value,
    ) -> Result<Value, Response> {
        let l = visit.language;
        let refused = |errors: Markup| async move {
            account(
                visit,
                self.tenant,
                StatusCode::UNPROCESSABLE_ENTITY,
                Note::Errors(errors),
            )
            .await
        };
        let Some(ore) = parse_kronor(self.amount) else {
            let errors = [(self.field.to_owned(), Text::AmountInvalid.get(l).to_owned())];
            return Err(refused(error_summary(l, &errors)).await);
        };
        let amount = json!({ "amount": ore, "currency": self.currency });
        let mut data: Value = match visit.client.run(operation, variables(amount)).await {
            Ok(data) => data,
            Err(error) if error.code() == "NOT_FOUND" => return Err(visit.not_found()),
            Err(error) => return Err(visit.failed(&error)),
        };
        let payload = data[key].take();
        match user_errors(l, &payload, self.field) {
            Some(errors) => Err(refused(errors).await),
            None => Ok(payload),
        }
    }
}

fn done(tenant: &str, done: &Done) -> Response {
    Redirect::to(&format!(
        "{PATH}?hyresgast={}&klart={}",
        encode(tenant),
        done.query()
    ))
    .into_response()
}

#[derive(Debug, Deserialize)]
pub(in crate::portal) struct PaymentForm {
    form_token: String,
    tenant: String,
    fee: String,
    currency: String,
    amount: String,
    field: Option<String>,
}

pub(in crate::portal) async fn payment_post(
    visit: StaffVisit,
    headers: HeaderMap,
    Form(form): Form<PaymentForm>,
) -> Response {
    if let Err(refused) = visit.check_post(&headers, &form.form_token) {
        return refused;
    }
    // The field the error summary links to: the payment's own input, if the form says which.
    let field = form
        .field
        .as_deref()
        .filter(|f| {
            f.strip_prefix("payment-")
                .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        })
        .unwrap_or("payment-0");
    let post = LedgerPost {
        tenant: &form.tenant,
        field,
        amount: &form.amount,
        currency: &form.currency,
    };
    match post
        .run(
            &visit,
            PAYMENT,
            "ledgerPaymentRecord",
            |a| json!({ "f": form.fee, "a": a }),
        )
        .await
    {
        Ok(payload) => done(
            &form.tenant,
            &Done::Payment(text(&payload["fee"]["caseNumber"]).to_owned()),
        ),
        Err(page) => page,
    }
}

/// Every GraphQL document this module runs, for the trusted-documents manifest.
pub(super) const DOCUMENTS: &[&str] = &[ACCOUNT, DEBT_SET, PAYMENT];
