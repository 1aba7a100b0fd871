//! The catalogues (`/staff/katalog`): a property's add-ons with their pictures, prices, unit
//! and position, one added or edited at a time (`properties`, `propertyCatalogue`,
//! `catalogueOptionUpsert`). Tenants see a change on their next page: the API drops the
//! cached catalogue.

#![allow(clippy::indexing_slicing)]

use axum::Form;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tillval_engine::model::Language;

use super::{StaffVisit, frame_at, kronor_text, list, number, parse_kronor, text};
use crate::portal::layout::{confirmation, encode, error_summary, form_token_field, page};
use crate::portal::text::Text;

const PROPERTIES: &str = "query StaffProperties { properties { id name } }";
const CATALOGUE: &str = "query StaffCatalogue($p: ID!) { properties { id name } propertyCatalogue(propertyId: $p) { propertyId currency categories { id name } options { handle categoryId spaceId name description pictures { thumbnail large alt } monthlyPrice { amount formatted } oneTimeFee { amount formatted } unit maxQuantity position } } }";
const UPSERT: &str = "mutation StaffOptionUpsert($p: ID!, $o: AddOnOptionInput!) { catalogueOptionUpsert(propertyId: $p, input: $o) { option { name } userErrors { code field message } } }";

const PATH: &str = "/staff/katalog";

#[derive(Debug, Deserialize)]
pub(in crate::portal) struct CatalogueQuery {
    fastighet: Option<String>,
    /// The option to edit, by handle.
    tillval: Option<String>,
    /// The option just saved, by handle.
    klart: Option<String>,
}

/// The option form's fields as typed (or as stored, to edit).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub(in crate::portal) struct OptionForm {
    #[serde(default)]
    form_token: String,
    property: String,
    #[serde(default)]
    editing: String,
    handle: String,
    category: String,
    space: String,
    name: String,
    #[serde(default)]
    description: String,
    thumbnail: String,
    large: String,
    #[serde(default)]
    alt: String,
    /// Pictures after the first, kept as they were (JSON).
    #[serde(default)]
    more_pictures: String,
    monthly_price: String,
    one_time_fee: String,
    unit: String,
    max_quantity: String,
    position: String,
    currency: String,
}

impl OptionForm {
    fn from_entry(property: &str, currency: &str, o: &Value) -> OptionForm {
        let pictures = list(&o["pictures"]);
        let first = pictures.first().cloned().unwrap_or(Value::Null);
        OptionForm {
            property: property.to_owned(),
            editing: text(&o["handle"]).to_owned(),
            handle: text(&o["handle"]).to_owned(),
            category: text(&o["categoryId"]).to_owned(),
            space: text(&o["spaceId"]).to_owned(),
            name: text(&o["name"]).to_owned(),
            description: text(&o["description"]).to_owned(),
            thumbnail: text(&first["thumbnail"]).to_owned(),
            large: text(&first["large"]).to_owned(),
            alt: text(&first["alt"]).to_owned(),
            more_pictures: if pictures.len() > 1 {
                Value::Array(pictures[1..].to_vec()).to_string()
            } else {
                String::new()
            },
            monthly_price: kronor_text(o["monthlyPrice"]["amount"].as_i64().unwrap_or(0)),
            one_time_fee: kronor_text(o["oneTimeFee"]["amount"].as_i64().unwrap_or(0)),
            unit: text(&o["unit"]).to_owned(),
            max_quantity: number(&o["maxQuantity"]),
            position: number(&o["position"]),
            currency: currency.to_owned(),
            ..OptionForm::default()
        }
    }

    fn new_in(property: &str, currency: &str) -> OptionForm {
        OptionForm {
            property: property.to_owned(),
            unit: "SINGLE".to_owned(),
            max_quantity: "1".to_owned(),
            position: "0".to_owned(),
            currency: currency.to_owned(),
            ..OptionForm::default()
        }
    }

    /// The API's input, or the fields the page itself can tell are wrong (amounts and whole
    /// numbers); the API checks the rest.
    fn input(&self, l: Language) -> Result<Value, Vec<(String, String)>> {
        let mut errors = Vec::new();
        let mut kronor = |field: &str, value: &str| {
            parse_kronor(value).unwrap_or_else(|| {
                errors.push((field.to_owned(), Text::AmountInvalid.get(l).to_owned()));
                0
            })
        };
        let monthly = kronor("monthlyPrice", &self.monthly_price);
        let fee = kronor("oneTimeFee", &self.one_time_fee);
        let mut whole = |field: &str, value: &str| {
            value.trim().parse::<u32>().unwrap_or_else(|_| {
                errors.push((field.to_owned(), Text::WholeNumberInvalid.get(l).to_owned()));
                0
            })
        };
        let max_quantity = whole("maxQuantity", &self.max_quantity);
        let position = whole("position", &self.position);
        let mut pictures = vec![
            json!({ "thumbnail": self.thumbnail.trim(), "large": self.large.trim(), "alt": self.alt.trim() }),
        ];
        if !self.more_pictures.trim().is_empty() {
            match serde_json::from_str::<Vec<Value>>(&self.more_pictures) {
                Ok(more) => pictures.extend(more.into_iter().take(20)),
                Err(_) => errors.push((
                    "thumbnail".to_owned(),
                    Text::BadInputTitle.get(l).to_owned(),
                )),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let unit = if self.unit == "PIECE" {
            "PIECE"
        } else {
            "SINGLE"
        };
        Ok(json!({
            "handle": self.handle.trim(),
            "categoryId": self.category,
            "spaceId": self.space,
            "name": self.name.trim(),
            "description": self.description.replace("\r\n", "\n").trim(),
            "pictures": pictures,
            "monthlyPrice": { "amount": monthly, "currency": self.currency },
            "oneTimeFee": { "amount": fee, "currency": self.currency },
            "unit": unit,
            "maxQuantity": max_quantity,
            "position": position,
        }))
    }
}

/// The properties, or one property's catalogue with the form to add (or edit) an option.
pub(in crate::portal) async fn catalogue_page(
    visit: StaffVisit,
    Query(query): Query<CatalogueQuery>,
) -> Response {
    let l = visit.language;
    let Some(property) = query.fastighet else {
        let data: Value = match visit.client.run(PROPERTIES, json!({})).await {
            Ok(data) => data,
            Err(error) => return visit.failed(&error),
        };
        let token = visit.form_token();
        let content = html! {
            h1 { (Text::CatalogueAdminTitle.get(l)) }
            p { (Text::CatalogueAdminLead.get(l)) }
            ul class="property-list" {
                @for p in list(&data["properties"]) {
                    li { a href={ (PATH) "?fastighet=" (encode(text(&p["id"]))) } { (text(&p["name"])) } }
                }
            }
        };
        return page(
            &frame_at(l, Some(&token), PATH, Text::StaffCatalogue),
            content,
        )
        .into_response();
    };
    catalogue_view(
        &visit,
        &property,
        query.tillval.as_deref(),
        None,
        query.klart.as_deref(),
        StatusCode::OK,
    )
    .await
}

/// The catalogue of `property`, the form filled from `typed` (after an error) or from the
/// option `editing`, or empty for a new one; `saved` is the option a post just saved.
async fn catalogue_view(
    visit: &StaffVisit,
    property: &str,
    editing: Option<&str>,
    typed: Option<(OptionForm, Vec<(String, String)>)>,
    saved: Option<&str>,
    status: StatusCode,
) -> Response {
    let data: Value = match visit.client.run(CATALOGUE, json!({ "p": property })).await {
        Ok(data) => data,
        Err(error) if error.code() == "NOT_FOUND" => return visit.not_found(),
        Err(error) => return visit.failed(&error),
    };
    let l = visit.language;
    let token = visit.form_token();
    let catalogue = &data["propertyCatalogue"];
    let currency = text(&catalogue["currency"]);
    let name = list(&data["properties"])
        .iter()
        .find(|p| text(&p["id"]) == property)
        .map(|p| text(&p["name"]))
        .unwrap_or(property);
    let categories = list(&catalogue["categories"]);
    let category_name = |id: &str| {
        categories
            .iter()
            .find(|c| text(&c["id"]) == id)
            .map(|c| text(&c["name"]))
            .unwrap_or("")
    };
    let options = list(&catalogue["options"]);
    let mut spaces: Vec<&str> = options.iter().map(|o| text(&o["spaceId"])).collect();
    spaces.sort_unstable();
    spaces.dedup();
    let (form, errors) = match typed {
        Some((form, errors)) => (form, errors),
        None => {
            let existing =
                editing.and_then(|handle| options.iter().find(|o| text(&o["handle"]) == handle));
            let form = match existing {
                Some(o) => OptionForm::from_entry(property, currency, o),
                None => OptionForm::new_in(property, currency),
            };
            (form, Vec::new())
        }
    };
    let path = format!("{PATH}?fastighet={}", encode(property));
    let note = match saved.and_then(|handle| options.iter().find(|o| text(&o["handle"]) == handle))
    {
        Some(o) => confirmation(&Text::OptionSaved.with(l, &[("name", text(&o["name"]))])),
        None => html! {},
    };
    let content = html! {
        p { a class="back" href=(PATH) { "← " (Text::CatalogueAdminTitle.get(l)) } }
        h1 { (Text::CatalogueOf.with(l, &[("name", name)])) }
        (note)
        (error_summary(l, &errors))
        div class="table-scroll" tabindex="0" role="region" aria-label=(Text::CatalogueOf.with(l, &[("name", name)])) {
            table class="catalogue-admin" {
                caption class="visually-hidden" { (Text::CatalogueOf.with(l, &[("name", name)])) }
                thead { tr {
                    th scope="col" { (Text::Picture.get(l)) }
                    th scope="col" { (Text::Name.get(l)) }
                    th scope="col" { (Text::Category.get(l)) }
                    th scope="col" { (Text::SpaceColumn.get(l)) }
                    th scope="col" class="num" { (Text::MonthlyPrice.get(l)) }
                    th scope="col" class="num" { (Text::OneTimeFeeColumn.get(l)) }
                    th scope="col" { (Text::Unit.get(l)) }
                    th scope="col" class="num" { (Text::Position.get(l)) }
                    th scope="col" { span class="visually-hidden" { (Text::Edit.get(l)) } }
                } }
                tbody {
                    @for o in options {
                        @let handle = text(&o["handle"]);
                        tr data-option=(handle) {
                            td { @if let Some(p) = list(&o["pictures"]).first() {
                                img src=(text(&p["thumbnail"])) alt=(text(&p["alt"])) width="64" height="48" loading="lazy";
                            } }
                            th scope="row" { (text(&o["name"])) span class="hint" { code { (handle) } } }
                            td { (category_name(text(&o["categoryId"]))) }
                            td { (last_segment(text(&o["spaceId"]))) }
                            td class="num" data-price=(o["monthlyPrice"]["amount"].as_i64().unwrap_or(0)) { (text(&o["monthlyPrice"]["formatted"])) }
                            td class="num" { (text(&o["oneTimeFee"]["formatted"])) }
                            td { (unit_text(l, text(&o["unit"]), &o["maxQuantity"])) }
                            td class="num" { (number(&o["position"])) }
                            td { a href={ (path) "&tillval=" (encode(handle)) "#option-form" } {
                                (Text::Edit.get(l)) span class="visually-hidden" { " " (text(&o["name"])) }
                            } }
                        }
                    }
                }
            }
        }
        (option_form(l, &token, &form, &errors, categories, &spaces))
    };
    (
        status,
        page(
            &frame_at(l, Some(&token), &path, Text::StaffCatalogue),
            content,
        ),
    )
        .into_response()
}

fn last_segment(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

fn unit_text(l: Language, unit: &str, max: &Value) -> String {
    if unit == "PIECE" {
        Text::UnitPiece.with(l, &[("n", &number(max))])
    } else {
        Text::UnitSingle.get(l).to_owned()
    }
}

fn option_form(
    l: Language,
    token: &str,
    form: &OptionForm,
    errors: &[(String, String)],
    categories: &[Value],
    spaces: &[&str],
) -> Markup {
    let error = |field: &str| {
        errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    };
    let field = |id: &str, name: &str, label: Text, hint: Option<Text>, value: &str, kind: &str| {
        let message = error(id);
        html! {
            div class={ "field" @if message.is_some() { " has-error" } } {
                label for=(id) { (label.get(l)) }
                @if let Some(hint) = hint { p class="hint" id={ (id) "-hint" } { (hint.get(l)) } }
                @if let Some(message) = message { p class="field-error" id={ (id) "-error" } { (message) } }
                input id=(id) name=(name) type="text" value=(value) inputmode=(kind) autocomplete="off"
                    aria-describedby=[describedby(id, hint.is_some(), message.is_some())]
                    aria-invalid=[message.map(|_| "true")];
            }
        }
    };
    let title = if form.editing.is_empty() {
        Text::AddOption.get(l).to_owned()
    } else {
        Text::EditOption.with(l, &[("name", &form.name)])
    };
    html! {
        h2 id="option-form" { (title) }
        form method="post" action=(PATH) class="option-form" novalidate {
            (form_token_field(token))
            input type="hidden" name="property" value=(form.property);
            input type="hidden" name="editing" value=(form.editing);
            input type="hidden" name="currency" value=(form.currency);
            input type="hidden" name="more_pictures" value=(form.more_pictures);
            (field("handle", "handle", Text::Handle, Some(Text::HandleHint), &form.handle, "text"))
            (field("name", "name", Text::Name, None, &form.name, "text"))
            div class={ "field" @if error("categoryId").is_some() { " has-error" } } {
                label for="categoryId" { (Text::Category.get(l)) }
                @if let Some(message) = error("categoryId") { p class="field-error" id="categoryId-error" { (message) } }
                select id="categoryId" name="category" {
                    @for c in categories {
                        option value=(text(&c["id"])) selected[text(&c["id"]) == form.category] { (text(&c["name"])) }
                    }
                }
            }
            div class={ "field" @if error("spaceId").is_some() { " has-error" } } {
                label for="spaceId" { (Text::SpaceColumn.get(l)) }
                @if let Some(message) = error("spaceId") { p class="field-error" id="spaceId-error" { (message) } }
                select id="spaceId" name="space" {
                    @for s in spaces {
                        option value=(s) selected[*s == form.space] { (last_segment(s)) }
                    }
                }
            }
            div class={ "field" @if error("description").is_some() { " has-error" } } {
                label for="description" { (Text::Description.get(l)) }
                @if let Some(message) = error("description") { p class="field-error" id="description-error" { (message) } }
                textarea id="description" name="description" rows="3" { (form.description) }
            }
            (field("thumbnail", "thumbnail", Text::PictureThumbnail, None, &form.thumbnail, "url"))
            (field("large", "large", Text::PictureLarge, None, &form.large, "url"))
            (field("alt", "alt", Text::PictureAlt, None, &form.alt, "text"))
            (field("monthlyPrice", "monthly_price", Text::MonthlyPrice, Some(Text::KronorHint), &form.monthly_price, "decimal"))
            (field("oneTimeFee", "one_time_fee", Text::OneTimeFeeColumn, Some(Text::KronorHint), &form.one_time_fee, "decimal"))
            fieldset class="field" {
                legend { (Text::Unit.get(l)) }
                @for (value, label) in [("SINGLE", Text::UnitSingle), ("PIECE", Text::UnitPieceShort)] {
                    div class="radio" {
                        input type="radio" id={ "unit-" (value) } name="unit" value=(value) checked[form.unit == value];
                        label for={ "unit-" (value) } { (label.get(l)) }
                    }
                }
            }
            (field("maxQuantity", "max_quantity", Text::MaxQuantity, None, &form.max_quantity, "numeric"))
            (field("position", "position", Text::Position, None, &form.position, "numeric"))
            div class="actions" {
                button type="submit" class="button" { (Text::SaveOption.get(l)) }
            }
        }
    }
}

fn describedby(id: &str, hint: bool, error: bool) -> Option<String> {
    let mut ids = Vec::new();
    if hint {
        ids.push(format!("{id}-hint"));
    }
    if error {
        ids.push(format!("{id}-error"));
    }
    (!ids.is_empty()).then(|| ids.join(" "))
}

/// The API's input field as the form's.
fn form_field(api_field: &str) -> &str {
    match api_field {
        "handle" | "name" | "categoryId" | "spaceId" | "description" | "monthlyPrice"
        | "oneTimeFee" | "maxQuantity" | "position" => api_field,
        "currency" => "monthlyPrice",
        "pictures" | "picture thumbnail" => "thumbnail",
        "picture large" => "large",
        "picture alt" => "alt",
        _ => "handle",
    }
}

pub(in crate::portal) async fn catalogue_post(
    visit: StaffVisit,
    headers: HeaderMap,
    Form(form): Form<OptionForm>,
) -> Response {
    if let Err(refused) = visit.check_post(&headers, &form.form_token) {
        return refused;
    }
    let l = visit.language;
    let input = match form.input(l) {
        Ok(input) => input,
        Err(errors) => {
            let property = form.property.clone();
            return catalogue_view(
                &visit,
                &property,
                None,
                Some((form, errors)),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let data: Value = match visit
        .client
        .run(UPSERT, json!({ "p": form.property, "o": input }))
        .await
    {
        Ok(data) => data,
        Err(error) if error.code() == "NOT_FOUND" => return visit.not_found(),
        Err(error) => return visit.failed(&error),
    };
    let payload = &data["catalogueOptionUpsert"];
    let errors: Vec<(String, String)> = list(&payload["userErrors"])
        .iter()
        .map(|e| {
            (
                form_field(text(&e["field"])).to_owned(),
                text(&e["message"]).to_owned(),
            )
        })
        .collect();
    if !errors.is_empty() {
        let property = form.property.clone();
        return catalogue_view(
            &visit,
            &property,
            None,
            Some((form, errors)),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    Redirect::to(&format!(
        "{PATH}?fastighet={}&klart={}",
        encode(&form.property),
        encode(form.handle.trim())
    ))
    .into_response()
}

/// Every GraphQL document this module runs, for the trusted-documents manifest.
pub(super) const DOCUMENTS: &[&str] = &[PROPERTIES, CATALOGUE, UPSERT];
