//! Signing in. In development and demo mode, "Logga in som …" lists the demo tenants; in
//! production that page does not exist, and the landlord's own sign-in (BankID through their
//! identity provider, say) hands the portal the same signed token the API takes, by a form
//! post to `/session` (docs/portal.md).

use maud::{Markup, html};
use tillval_engine::model::Language;
use tillval_services::demo::{DemoTenant, SeedCase};

use super::text::Text;

fn seed_case(case: SeedCase) -> Text {
    match case {
        SeedCase::Free => Text::SeedFree,
        SeedCase::Debt => Text::SeedDebt,
        SeedCase::OngoingOrder => Text::SeedOngoingOrder,
        SeedCase::UnpaidFee => Text::SeedUnpaidFee,
        SeedCase::PieceUnit => Text::SeedPieceUnit,
    }
}

pub fn demo_page(language: Language, tenants: &[DemoTenant]) -> Markup {
    html! {
        h1 { (Text::SignInAs.get(language)) }
        p { (Text::SignInDemoLead.get(language)) }
        ul class="sign-in" {
            @for tenant in tenants {
                li {
                    form method="post" action="/logga-in" {
                        input type="hidden" name="tenant" value=(tenant.id.as_str());
                        button type="submit" class="button secondary" {
                            (Text::SignInAsButton.get(language)) " " (tenant.name)
                        }
                        " "
                        span class="hint" { (tenant.name) " " (seed_case(tenant.case).get(language)) }
                    }
                }
            }
            li {
                form method="post" action="/logga-in" {
                    input type="hidden" name="tenant" value="ola-forvaltare";
                    input type="hidden" name="role" value="staff";
                    button type="submit" class="button secondary" { (Text::SignInStaff.get(language)) }
                    " "
                    span class="hint" { "Ola Förvaltare" }
                }
            }
        }
    }
}

pub fn elsewhere_page(language: Language) -> Markup {
    html! {
        h1 { (Text::SignIn.get(language)) }
        p { (Text::SignInElsewhere.get(language)) }
    }
}
