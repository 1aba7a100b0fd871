//! The frame of every page: the skip link, the header with the menu and the cart's article
//! count, the language switch, the main landmark, and the live region that announces changes.

use maud::{DOCTYPE, Markup, html};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use tillval_engine::model::Language;

use super::session::language_code;
use super::text::Text;

/// Which menu entry the page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    AddOns,
    Cart,
    Cases,
    None,
}

/// What the frame needs besides the page's own content.
#[derive(Debug, Clone)]
pub struct Frame<'a> {
    pub language: Language,
    pub title: String,
    pub section: Section,
    /// The cart's article count; `None` when signed out.
    pub article_count: Option<i64>,
    /// The session's form token; `None` when signed out.
    pub form_token: Option<&'a str>,
    /// This page's path, for the language switch to come back to.
    pub path: &'a str,
    /// A staff page: the staff menu instead of the tenant's.
    pub staff: bool,
}

/// A path segment or query value, percent-encoded.
pub fn encode(value: &str) -> String {
    utf8_percent_encode(value, NON_ALPHANUMERIC).to_string()
}

/// The hidden field every post of a session carries.
pub fn form_token_field(token: &str) -> Markup {
    html! { input type="hidden" name="form_token" value=(token); }
}

pub fn page(frame: &Frame<'_>, content: Markup) -> Markup {
    let l = frame.language;
    let other = match l {
        Language::Sv => Language::En,
        Language::En => Language::Sv,
    };
    let current = |section: Section| (frame.section == section).then_some("page");
    html! {
        (DOCTYPE)
        html lang=(language_code(l)) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (frame.title) " – " (Text::SiteName.get(l)) }
                link rel="stylesheet" href="/assets/portal.css";
                script src="/assets/portal.js" defer {}
            }
            body {
                a class="skip-link" href="#main" { (Text::SkipToContent.get(l)) }
                header class="site-header" {
                    div class="wrap header-row" {
                        a class="brand" href="/" { (Text::SiteName.get(l)) }
                        div class="tools" {
                            a href={ "/sprak/" (language_code(other)) "?tillbaka=" (encode(frame.path)) }
                                lang=(language_code(other)) hreflang=(language_code(other))
                                aria-label=(Text::OtherLanguageName.get(l)) {
                                (Text::OtherLanguage.get(l))
                            }
                            @if let Some(token) = frame.form_token {
                                form method="post" action="/logga-ut" class="inline" {
                                    (form_token_field(token))
                                    button type="submit" class="link-button" { (Text::SignOut.get(l)) }
                                }
                            }
                        }
                    }
                    @if frame.staff {
                        nav class="wrap menu" aria-label=(Text::MainMenu.get(l)) {
                            ul {
                                li { a href="/staff/regler" aria-current=[frame.path.starts_with("/staff/regler").then_some("page")] { (Text::StaffRules.get(l)) } }
                                li { a href="/staff/arenden" aria-current=[frame.path.starts_with("/staff/arenden").then_some("page")] { (Text::Cases.get(l)) } }
                                li { a href="/staff/reskontra" aria-current=[frame.path.starts_with("/staff/reskontra").then_some("page")] { (Text::StaffLedger.get(l)) } }
                                li { a href="/staff/katalog" aria-current=[frame.path.starts_with("/staff/katalog").then_some("page")] { (Text::StaffCatalogue.get(l)) } }
                                li { a href="/staff/beslut" aria-current=[frame.path.starts_with("/staff/beslut").then_some("page")] { (Text::StaffDecisions.get(l)) } }
                            }
                        }
                    }
                    @if let Some(count) = frame.article_count {
                        nav class="wrap menu" aria-label=(Text::MainMenu.get(l)) {
                            ul {
                                li { a href="/" aria-current=[current(Section::AddOns)] { (Text::AddOns.get(l)) } }
                                li {
                                    a href="/kassa" aria-current=[current(Section::Cart)] {
                                        (Text::Cart.get(l)) " "
                                        span class="badge" data-article-count=(count) {
                                            (super::text::articles(l, count, false))
                                        }
                                    }
                                }
                                li { a href="/arenden" aria-current=[current(Section::Cases)] { (Text::Cases.get(l)) } }
                            }
                        }
                    }
                }
                main id="main" tabindex="-1" {
                    div class="wrap" { (content) }
                }
                div id="live" class="visually-hidden" aria-live="polite" aria-atomic="true" {}
            }
        }
    }
}

/// A short note in the live region's style, shown where the page starts (after an action).
pub fn confirmation(text: &str) -> Markup {
    html! {
        div class="confirmation" role="status" { p { (text) } }
    }
}

/// GOV.UK's error summary: what went wrong, each linking to its field.
pub fn error_summary(language: Language, errors: &[(String, String)]) -> Markup {
    html! {
        @if !errors.is_empty() {
            div class="error-summary" role="alert" tabindex="-1" data-autofocus {
                h2 { (Text::ErrorSummaryTitle.get(language)) }
                ul {
                    @for (field, message) in errors {
                        li { a href={ "#" (field) } { (message) } }
                    }
                }
            }
        }
    }
}

/// Text that may hold line breaks, as paragraphs.
pub fn paragraphs(text: &str) -> Markup {
    html! {
        @for paragraph in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
            p { (paragraph.trim()) }
        }
    }
}
