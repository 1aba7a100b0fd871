//! The cart and checkout (S8, S12, S13): the lines with their quantities and totals, removing
//! a line, the order's details, the terms and the checkbox, and "Skicka beställning".

use maud::{Markup, html};
use tillval_engine::model::Language;

use super::layout::{confirmation, error_summary, form_token_field, paragraphs};
use super::operations::CheckoutData;
use super::text::Text;

/// What the checkout page says besides its data: a confirmation, errors by field, and the
/// values the tenant typed (kept when the details were refused).
#[derive(Debug, Default)]
pub struct CheckoutNotes {
    pub done: Option<String>,
    pub errors: Vec<(String, String)>,
    pub typed: Option<TypedDetails>,
}

#[derive(Debug, Default, Clone)]
pub struct TypedDetails {
    pub contact_phone: String,
    pub preferred_date: String,
    pub message: String,
}

fn error_for<'a>(notes: &'a CheckoutNotes, field: &str) -> Option<&'a str> {
    notes
        .errors
        .iter()
        .find(|(f, _)| f == field)
        .map(|(_, m)| m.as_str())
}

pub fn checkout(
    language: Language,
    data: &CheckoutData,
    notes: &CheckoutNotes,
    form_token: &str,
    idempotency_key: &str,
) -> Markup {
    let cart = &data.cart;
    let details = &cart.checkout_details;
    let typed = notes.typed.clone().unwrap_or_else(|| TypedDetails {
        contact_phone: details.contact_phone.clone().unwrap_or_default(),
        preferred_date: details.preferred_date.clone().unwrap_or_default(),
        message: details.message.clone(),
    });
    let field_error = |field: &str| error_for(notes, field);
    html! {
        p { a class="back" href="/" { "← " (Text::BackToCategories.get(language)) } }
        (error_summary(language, &notes.errors))
        @if let Some(done) = &notes.done { (confirmation(done)) }
        h1 { (Text::CheckoutTitle.get(language)) }
        @if cart.lines.is_empty() {
            p { (Text::CartEmpty.get(language)) }
            p { a class="button" href="/" { (Text::BackToCategories.get(language)) } }
        } @else {
            h2 { (Text::CartLines.get(language)) " (" (super::text::articles(language, cart.article_count, false)) ")" }
            div class="table-scroll" tabindex="0" role="region" aria-label=(Text::CartLines.get(language)) {
                table class="lines" {
                    caption class="visually-hidden" { (Text::CartLines.get(language)) }
                    thead { tr {
                        th scope="col" { (Text::Article.get(language)) }
                        th scope="col" { (Text::Quantity.get(language)) }
                        th scope="col" class="num" { (Text::MonthlyCost.get(language)) }
                        th scope="col" class="num" { (Text::OneTimeCost.get(language)) }
                        th scope="col" { span class="visually-hidden" { (Text::Remove.get(language)) } }
                    } }
                    tbody {
                        @for (index, line) in cart.lines.iter().enumerate() {
                            @let quantity_id = format!("line-quantity-{index}");
                            tr data-option=(line.option.id) {
                                th scope="row" {
                                    (line.option.name)
                                    span class="hint" { (Text::Space.with(language, &[("space", &line.option.space.name)])) }
                                    @if let Some(problem) = cart.problems.iter().find(|p| p.option_id == line.option.id) {
                                        div class="why-not" {
                                            strong { (Text::LineProblem.get(language)) }
                                            ul class="reasons" { @for r in &problem.reasons { li data-reason=(r.code) { (r.message) } } }
                                        }
                                    }
                                }
                                td {
                                    @if line.option.unit == "PIECE" {
                                        form method="post" action="/varukorg/antal" class="quantity-form" {
                                            (form_token_field(form_token))
                                            input type="hidden" name="option" value=(line.option.id);
                                            label for=(quantity_id) class="visually-hidden" {
                                                (Text::Quantity.get(language)) ", " (line.option.name)
                                            }
                                            div class="stepper" {
                                                button type="button" class="step" data-step="-1" aria-controls=(quantity_id)
                                                    aria-label=(Text::Decrease.get(language)) hidden { "−" }
                                                input id=(quantity_id) name="quantity" type="number" inputmode="numeric"
                                                    min="1" max=(line.option.max_quantity) value=(line.quantity);
                                                button type="button" class="step" data-step="1" aria-controls=(quantity_id)
                                                    aria-label=(Text::Increase.get(language)) hidden { "+" }
                                            }
                                            button type="submit" class="button small secondary" { (Text::ChangeQuantity.get(language)) }
                                        }
                                    } @else {
                                        (line.quantity)
                                    }
                                }
                                td class="num" { (line.monthly_total.formatted) }
                                td class="num" { (line.one_time_total.formatted) }
                                td {
                                    form method="post" action="/varukorg/ta-bort" {
                                        (form_token_field(form_token))
                                        input type="hidden" name="option" value=(line.option.id);
                                        button type="submit" class="button small warning" {
                                            (Text::Remove.get(language))
                                            span class="visually-hidden" { " " (line.option.name) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    tfoot { tr {
                        th scope="row" colspan="2" { (Text::Total.get(language)) }
                        td class="num" data-total="monthly" { (cart.monthly_total.formatted) }
                        td class="num" data-total="one-time" { (cart.one_time_total.formatted) }
                        td {}
                    } }
                }
            }

            h2 { (Text::DetailsTitle.get(language)) }
            form method="post" action="/kassa/uppgifter" class="details-form" novalidate {
                (form_token_field(form_token))
                div class={ "field" @if field_error("contactPhone").is_some() { " has-error" } } {
                    label for="contactPhone" { (Text::ContactPhone.get(language)) }
                    p class="hint" id="contactPhone-hint" { (Text::ContactPhoneHint.get(language)) }
                    @if let Some(message) = field_error("contactPhone") {
                        p class="field-error" id="contactPhone-error" { (message) }
                    }
                    input id="contactPhone" name="contact_phone" type="tel" autocomplete="tel"
                        value=(typed.contact_phone)
                        aria-describedby={ "contactPhone-hint" @if field_error("contactPhone").is_some() { " contactPhone-error" } }
                        aria-invalid=[field_error("contactPhone").map(|_| "true")];
                }
                div class={ "field" @if field_error("preferredDate").is_some() { " has-error" } } {
                    label for="preferredDate" { (Text::PreferredDate.get(language)) }
                    @if let Some(message) = field_error("preferredDate") {
                        p class="field-error" id="preferredDate-error" { (message) }
                    }
                    input id="preferredDate" name="preferred_date" type="date" value=(typed.preferred_date)
                        aria-describedby=[field_error("preferredDate").map(|_| "preferredDate-error")]
                        aria-invalid=[field_error("preferredDate").map(|_| "true")];
                }
                div class={ "field" @if field_error("message").is_some() { " has-error" } } {
                    label for="message" { (Text::Message.get(language)) }
                    @if let Some(message) = field_error("message") {
                        p class="field-error" id="message-error" { (message) }
                    }
                    textarea id="message" name="message" rows="3" maxlength="1000"
                        aria-describedby=[field_error("message").map(|_| "message-error")]
                        aria-invalid=[field_error("message").map(|_| "true")] { (typed.message) }
                }
                button type="submit" class="button secondary" { (Text::SaveDetails.get(language)) }
            }

            h2 id="terms-title" { (Text::TermsTitle.get(language)) }
            div class="terms" { (paragraphs(&data.terms.text)) }
            form method="post" action="/kassa/skicka" class="submit-form" {
                (form_token_field(form_token))
                input type="hidden" name="terms_version" value=(data.terms.version);
                input type="hidden" name="idempotency_key" value=(idempotency_key);
                div class={ "field checkbox" @if field_error("acceptTerms").is_some() { " has-error" } } {
                    @if let Some(message) = field_error("acceptTerms") {
                        p class="field-error" id="acceptTerms-error" { (message) }
                    }
                    input id="acceptTerms" name="accept_terms" type="checkbox" value="true"
                        aria-describedby=[field_error("acceptTerms").map(|_| "acceptTerms-error")]
                        aria-invalid=[field_error("acceptTerms").map(|_| "true")];
                    label for="acceptTerms" { (Text::AcceptTerms.get(language)) }
                }
                button type="submit" class="button" { (Text::SendOrder.get(language)) }
            }
        }
    }
}
