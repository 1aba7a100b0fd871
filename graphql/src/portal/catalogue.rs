//! The catalogue's pages: the categories possible for the apartment (S6), a category's
//! options with their pictures, prices, units and what stops them (S7, S9, S10), and an
//! option's pictures in a larger size.

use maud::{Markup, html};
use tillval_engine::model::Language;

use super::layout::{confirmation, encode, error_summary, form_token_field};
use super::operations::{AddOnOption, Catalogue, Category, Reason};
use super::text::Text;

/// The reasons the rules gave, in the rule set's own words.
fn reasons(list: &[Reason]) -> Markup {
    html! {
        ul class="reasons" {
            @for reason in list {
                li data-reason=(reason.code) { (reason.message) }
            }
        }
    }
}

/// The tenant-wide gate (S2, S3), shown once at the top.
pub fn gate(language: Language, catalogue: &Catalogue) -> Markup {
    html! {
        @if !catalogue.gate.open {
            div class="notice" role="region" aria-labelledby="gate-title" {
                h2 id="gate-title" { (Text::GateTitle.get(language)) }
                (reasons(&catalogue.gate.reasons))
            }
        }
    }
}

fn cart_line(language: Language, count: i64) -> Markup {
    html! {
        p class="cart-status" {
            @if count == 0 {
                (Text::CartEmpty.get(language))
            } @else {
                a href="/kassa" { (super::text::articles(language, count, true)) }
            }
        }
    }
}

pub fn categories(language: Language, address: &str, catalogue: &Catalogue) -> Markup {
    html! {
        h1 { (Text::CategoriesTitle.get(language)) }
        p class="address" { (Text::Apartment.get(language)) ": " (address) }
        (gate(language, catalogue))
        (cart_line(language, catalogue.article_count))
        @if catalogue.categories.is_empty() {
            p { (Text::NoCategories.get(language)) }
        } @else {
            p { (Text::CategoriesLead.get(language)) }
            ul class="categories" {
                @for category in &catalogue.categories {
                    li {
                        a href={ "/kategori/" (encode(&category.id)) } {
                            span class="category-name" { (category.name) }
                            span class="category-count" {
                                (Text::OptionsInCategory.with(language, &[("n", &category.options.len().to_string())]))
                            }
                        }
                    }
                }
            }
        }
        @if catalogue.article_count > 0 {
            p { a class="button" href="/kassa" { (Text::ToCheckout.get(language)) } }
        }
    }
}

/// What an action on the category page left to say: a confirmation, or errors.
#[derive(Debug, Default)]
pub struct CategoryNotes {
    pub added: Option<String>,
    pub errors: Vec<(String, String)>,
}

pub fn category(
    language: Language,
    catalogue: &Catalogue,
    category: &Category,
    notes: &CategoryNotes,
    form_token: &str,
) -> Markup {
    html! {
        p { a class="back" href="/" { "← " (Text::BackToCategories.get(language)) } }
        (error_summary(language, &notes.errors))
        @if let Some(added) = &notes.added {
            (confirmation(&Text::Added.with(language, &[("name", added)])))
        }
        h1 { (category.name) }
        (gate(language, catalogue))
        (cart_line(language, catalogue.article_count))
        ul class="options" {
            @for (index, option) in category.options.iter().enumerate() {
                li { (option_card(language, category, option, index, form_token, !catalogue.gate.open)) }
            }
        }
        p class="actions" {
            a class="button secondary" href="/" { (Text::BackToCategories.get(language)) }
            " "
            @if catalogue.article_count > 0 {
                a class="button" href="/kassa" { (Text::ToCheckout.get(language)) }
            }
        }
    }
}

fn option_card(
    language: Language,
    category: &Category,
    option: &AddOnOption,
    index: usize,
    form_token: &str,
    gate_closed: bool,
) -> Markup {
    let status = option.status();
    let orderable = status == "AVAILABLE";
    let heading = format!("option-{index}");
    let quantity_id = format!("quantity-{index}");
    html! {
        article class={ "option" @if !orderable && status != "IN_CART" { " unavailable" } }
            aria-labelledby=(heading) data-option=(option.id) data-status=(status) {
            @if let Some(picture) = option.pictures.first() {
                a class="picture-link" href={ "/tillval/" (encode(&option.id)) "/bilder?kategori=" (encode(&category.id)) } {
                    img src=(picture.thumbnail) alt=(picture.alt) width="160" height="120";
                    span class="visually-hidden" { (Text::MorePictures.with(language, &[("name", &option.name)])) }
                }
            }
            div class="option-body" {
                h2 id=(heading) { (option.name) }
                p { (option.description) }
                ul class="facts" {
                    li class="price" { (Text::PerMonth.with(language, &[("price", &option.monthly_price.formatted)])) }
                    li {
                        @if option.one_time_fee.amount > 0 {
                            (Text::OneTimeFee.with(language, &[("price", &option.one_time_fee.formatted)]))
                        } @else {
                            (Text::NoOneTimeFee.get(language))
                        }
                    }
                    li { (Text::Space.with(language, &[("space", &option.space.name)])) }
                    li {
                        @if option.is_piece() {
                            (Text::UnitPiece.with(language, &[("n", &option.max_quantity.to_string())]))
                        } @else {
                            (Text::UnitSingle.get(language))
                        }
                    }
                }
                @match status {
                    "IN_CART" => {
                        p class="in-cart" { strong { (Text::InCart.get(language)) } " · " a href="/kassa" { (Text::ToCheckout.get(language)) } }
                    }
                    "AVAILABLE" => {
                        form method="post" action="/varukorg/lagg-till" class="order-form" {
                            (form_token_field(form_token))
                            input type="hidden" name="option" value=(option.id);
                            input type="hidden" name="category" value=(category.id);
                            @if option.is_piece() {
                                div class="quantity" {
                                    label for=(quantity_id) { (Text::Quantity.get(language)) }
                                    div class="stepper" {
                                        button type="button" class="step" data-step="-1" aria-controls=(quantity_id)
                                            aria-label=(Text::Decrease.get(language)) hidden { "−" }
                                        input id=(quantity_id) name="quantity" type="number" inputmode="numeric"
                                            min="1" max=(option.max_quantity) value="1";
                                        button type="button" class="step" data-step="1" aria-controls=(quantity_id)
                                            aria-label=(Text::Increase.get(language)) hidden { "+" }
                                    }
                                }
                            } @else {
                                input type="hidden" name="quantity" value="1";
                            }
                            button type="submit" class="button" {
                                (Text::Order.get(language))
                                span class="visually-hidden" { ": " (option.name) }
                            }
                        }
                    }
                    _ => {
                        div class="why-not" {
                            p { strong { (Text::Unavailable.get(language)) } }
                            @if gate_closed {
                                // The gate's reasons stand once, at the top of the page.
                                p { (Text::SeeGate.get(language)) }
                            } @else if option.reasons().is_empty() {
                                p { (Text::RuleErrorShort.get(language)) }
                            } @else {
                                (reasons(option.reasons()))
                            }
                            button type="button" class="button" disabled {
                                (Text::Order.get(language))
                                span class="visually-hidden" { ": " (option.name) }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub fn pictures(language: Language, option: &AddOnOption, category: &Category) -> Markup {
    let total = option.pictures.len().to_string();
    html! {
        p { a class="back" href={ "/kategori/" (encode(&category.id)) } { "← " (category.name) } }
        h1 { (Text::PicturesTitle.with(language, &[("name", &option.name)])) }
        ul class="pictures" {
            @for (index, picture) in option.pictures.iter().enumerate() {
                li {
                    figure {
                        img src=(picture.large) alt=(picture.alt) width="800" height="600";
                        figcaption {
                            (Text::PictureOf.with(language, &[("n", &(index + 1).to_string()), ("total", &total)]))
                            @if !picture.alt.is_empty() { ": " (picture.alt) }
                        }
                    }
                }
            }
        }
        p { a class="button secondary" href={ "/kategori/" (encode(&category.id)) } { "← " (category.name) } }
    }
}
