//! Mina sidor: the tenant portal at `/`, server-rendered HTML over the public GraphQL
//! operations (`operations.rs`, executed in-process by `client.rs`). Plain forms and links do
//! everything; `assets/portal.js` only adds the plus/minus buttons, focus on an error summary
//! and the live case status (server-sent events from the `caseStatusChanged` subscription).
//!
//! Why server-side: pages work without a build step and without scripts, render in a few
//! milliseconds (no client round trips), and the tenant's token stays in an `HttpOnly` cookie
//! that no script can read, while every page is still made of the same operations a landlord's
//! own front end would send to `/graphql`.

// A page's early answer (a redirect, an error page) is a `Response`; boxing it would buy nothing
// on a path that renders HTML.
#![allow(clippy::result_large_err)]

mod cases;
mod catalogue;
mod checkout;
mod client;
mod layout;
mod operations;
mod session;
mod sign_in;
mod staff;
mod text;

use std::convert::Infallible;

use axum::Router;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json};
use axum_extra::extract::cookie::CookieJar;
use futures_util::{Stream, StreamExt};
use maud::Markup;
use serde::Deserialize;
use serde_json::json;
use tillval_engine::model::Language;

use crate::auth::Role;
use crate::server::AppState;
use client::{Client, ClientError};
use layout::{Frame, Section, encode, page};
use operations as op;
use session::{Session, local_path, same_origin};
use text::Text;

/// How long a demo sign-in lasts.
const DEMO_SESSION_SECS: u64 = 8 * 3600;

/// The portal's routes, merged into the server's router.
pub fn routes(production: bool) -> Router<AppState> {
    let mut router = Router::new()
        .route("/", get(categories_page))
        .route("/kategori/{category}", get(category_page))
        .route("/tillval/{option}/bilder", get(pictures_page))
        .route("/varukorg/lagg-till", post(cart_add))
        .route("/varukorg/antal", post(cart_quantity))
        .route("/varukorg/ta-bort", post(cart_remove))
        .route("/kassa", get(checkout_page))
        .route("/kassa/uppgifter", post(details_update))
        .route("/kassa/skicka", post(submit))
        .route("/arenden", get(cases_page))
        .route("/arenden/live", get(case_events))
        .route("/arenden/{number}", get(case_page))
        .route("/arenden/{number}/avbryt", post(case_cancel))
        .route("/sprak/{language}", get(switch_language))
        .route("/logga-ut", post(sign_out))
        .route("/session", post(hand_over))
        .route("/staff", get(staff::home))
        .route(
            "/staff/regler",
            get(staff::rules_page).post(staff::rules_post),
        )
        .route("/staff/regler/version", post(staff::make_active))
        .route("/staff/regler/jamfor", get(staff::diff_page))
        .route("/staff/arenden", get(staff::cases_page))
        .route("/staff/arenden/{number}", post(staff::case_move))
        .route("/staff/reskontra", get(staff::ledger_page))
        .route("/staff/reskontra/skuld", post(staff::debt_post))
        .route("/staff/reskontra/betalning", post(staff::payment_post))
        .route(
            "/staff/katalog",
            get(staff::catalogue_page).post(staff::catalogue_post),
        )
        .route("/staff/beslut", get(staff::decisions_page))
        .route("/assets/portal.css", get(stylesheet))
        .route("/assets/portal.js", get(script));
    if !production {
        router = router.route("/logga-in", get(sign_in_page).post(sign_in));
    }
    router
}

/// A request of a signed-in tenant: their session, their language, and the API as them.
struct Visit {
    state: AppState,
    session: Session,
    client: Client,
    language: Language,
    path: String,
}

impl FromRequestParts<AppState> for Visit {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let jar = CookieJar::from_headers(&parts.headers);
        let language = session::language(&jar, &parts.headers);
        let Some(session) = Session::from_cookies(&jar, &state.auth) else {
            return Err(signed_out(state, language));
        };
        let path = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        Ok(Visit {
            client: Client::new(state.schema.clone(), session.identity(), language),
            state: state.clone(),
            session,
            language,
            path,
        })
    }
}

/// No session: to the demo sign-in, or (in production) a page that says where to sign in.
fn signed_out(state: &AppState, language: Language) -> Response {
    if state.production {
        let frame = Frame {
            language,
            title: Text::SignIn.get(language).to_owned(),
            section: Section::None,
            article_count: None,
            form_token: None,
            path: "/",
            staff: false,
        };
        (
            StatusCode::UNAUTHORIZED,
            page(&frame, sign_in::elsewhere_page(language)),
        )
            .into_response()
    } else {
        Redirect::to("/logga-in").into_response()
    }
}

/// The tenant's apartment and the cart's article count: what every page's frame shows.
struct Home {
    object: String,
    address: String,
}

impl Visit {
    fn form_token(&self) -> String {
        self.session.form_token(&self.state.auth)
    }

    /// The tenant's (first) apartment. Tenants with several see the first; the API has them all.
    async fn home(&self) -> Result<Home, Response> {
        let viewer: op::ViewerData = self
            .client
            .run(op::VIEWER, json!({}))
            .await
            .map_err(|e| self.failure(&e))?;
        let object = viewer
            .viewer
            .rental_objects
            .into_iter()
            .next()
            .ok_or_else(|| self.not_found())?;
        Ok(Home {
            object: object.id,
            address: object.address,
        })
    }

    /// Runs `document` for the tenant's apartment: `variables` get its id as `object`.
    async fn on_home<T: serde::de::DeserializeOwned>(
        &self,
        document: &str,
        mut variables: serde_json::Value,
    ) -> Result<T, Response> {
        let home = self.home().await?;
        if let Some(map) = variables.as_object_mut() {
            map.insert("object".into(), json!(home.object));
        }
        self.client
            .run(document, variables)
            .await
            .map_err(|e| self.failure(&e))
    }

    async fn article_count(&self, home: &Home) -> i64 {
        self.client
            .run::<op::ArticleCountData>(op::ARTICLE_COUNT, json!({ "object": home.object }))
            .await
            .map(|d| d.cart.article_count)
            .unwrap_or(0)
    }

    fn render(&self, title: &str, section: Section, count: i64, content: Markup) -> Response {
        let token = self.form_token();
        let frame = Frame {
            language: self.language,
            title: title.to_owned(),
            section,
            article_count: Some(count),
            form_token: Some(&token),
            path: &self.path,
            staff: false,
        };
        page(&frame, content).into_response()
    }

    fn error_page(&self, status: StatusCode, title: Text, lead: Text) -> Response {
        let frame = Frame {
            language: self.language,
            title: title.get(self.language).to_owned(),
            section: Section::None,
            article_count: None,
            form_token: None,
            path: &self.path,
            staff: false,
        };
        let content = maud::html! {
            h1 { (title.get(self.language)) }
            p { (lead.get(self.language)) }
            p { a href="/" { (Text::BackToCategories.get(self.language)) } }
        };
        (status, page(&frame, content)).into_response()
    }

    fn not_found(&self) -> Response {
        self.error_page(
            StatusCode::NOT_FOUND,
            Text::NotFoundTitle,
            Text::NotFoundLead,
        )
    }

    fn bad_input(&self) -> Response {
        self.error_page(
            StatusCode::BAD_REQUEST,
            Text::BadInputTitle,
            Text::NotFoundLead,
        )
    }

    /// What an API error means for the page.
    fn failure(&self, error: &ClientError) -> Response {
        match error.code() {
            "NOT_FOUND" | "BAD_USER_INPUT" => self.not_found(),
            "UNAUTHENTICATED" => signed_out(&self.state, self.language),
            _ => {
                tracing::warn!(%error, "portal page failed");
                self.error_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    Text::UnavailableTitle,
                    Text::UnavailableLead,
                )
            }
        }
    }

    /// A post passes only from a page of this site holding this session's form token.
    fn check_post(&self, headers: &HeaderMap, form_token: &str) -> Result<(), Response> {
        if same_origin(headers)
            && self
                .state
                .auth
                .form_token_ok(&self.session.token, form_token)
        {
            Ok(())
        } else {
            Err(self.error_page(
                StatusCode::FORBIDDEN,
                Text::ForbiddenTitle,
                Text::ForbiddenLead,
            ))
        }
    }
}

fn see_other(path: &str) -> Response {
    Redirect::to(local_path(path)).into_response()
}

// Catalogue (S6, S7, S9, S10).

async fn catalogue(visit: &Visit, home: &Home) -> Result<op::Catalogue, Response> {
    visit
        .client
        .run::<op::CatalogueData>(op::CATALOGUE, json!({ "object": home.object }))
        .await
        .map(|d| d.catalogue)
        .map_err(|e| visit.failure(&e))
}

async fn categories_page(visit: Visit) -> Response {
    let result = async {
        let home = visit.home().await?;
        let data = catalogue(&visit, &home).await?;
        let content = catalogue::categories(visit.language, &home.address, &data);
        Ok(visit.render(
            Text::AddOns.get(visit.language),
            Section::AddOns,
            data.article_count,
            content,
        ))
    };
    result.await.unwrap_or_else(|response: Response| response)
}

#[derive(Debug, Deserialize)]
struct CategoryQuery {
    #[serde(rename = "lagt-till")]
    added: Option<String>,
}

async fn category_page(
    visit: Visit,
    Path(category): Path<String>,
    Query(query): Query<CategoryQuery>,
) -> Response {
    let notes = |data: &op::Catalogue| catalogue::CategoryNotes {
        added: query.added.as_ref().and_then(|id| {
            data.categories
                .iter()
                .flat_map(|c| &c.options)
                .find(|o| &o.id == id)
                .map(|o| o.name.clone())
        }),
        errors: Vec::new(),
    };
    render_category(&visit, &category, notes, StatusCode::OK).await
}

async fn render_category(
    visit: &Visit,
    category: &str,
    notes: impl FnOnce(&op::Catalogue) -> catalogue::CategoryNotes,
    status: StatusCode,
) -> Response {
    let result = async {
        let home = visit.home().await?;
        let data = catalogue(visit, &home).await?;
        let Some(found) = data.categories.iter().find(|c| c.id == category) else {
            return Err(visit.not_found());
        };
        let notes = notes(&data);
        let content =
            catalogue::category(visit.language, &data, found, &notes, &visit.form_token());
        let mut response = visit.render(&found.name, Section::AddOns, data.article_count, content);
        *response.status_mut() = status;
        Ok(response)
    };
    result.await.unwrap_or_else(|response: Response| response)
}

#[derive(Debug, Deserialize)]
struct PicturesQuery {
    kategori: Option<String>,
}

async fn pictures_page(
    visit: Visit,
    Path(option): Path<String>,
    Query(query): Query<PicturesQuery>,
) -> Response {
    let result = async {
        let home = visit.home().await?;
        let data = catalogue(&visit, &home).await?;
        let found = data.categories.iter().find_map(|c| {
            let in_category = query.kategori.as_ref().is_none_or(|k| k == &c.id);
            c.options
                .iter()
                .find(|o| in_category && o.id == option)
                .map(|o| (c, o))
        });
        let Some((category, option)) = found else {
            return Err(visit.not_found());
        };
        let content = catalogue::pictures(visit.language, option, category);
        Ok(visit.render(&option.name, Section::AddOns, data.article_count, content))
    };
    result.await.unwrap_or_else(|response: Response| response)
}

/// A quantity as typed: 1–99, else `None`.
fn quantity(text: &str) -> Option<i64> {
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|q| (1..=99).contains(q))
}

#[derive(Debug, Deserialize)]
struct CartAddForm {
    form_token: String,
    option: String,
    category: String,
    quantity: String,
}

async fn cart_add(visit: Visit, headers: HeaderMap, Form(form): Form<CartAddForm>) -> Response {
    if let Err(refused) = visit.check_post(&headers, &form.form_token) {
        return refused;
    }
    let Some(quantity) = quantity(&form.quantity) else {
        let message = Text::QuantityInvalid.get(visit.language).to_owned();
        return render_category(
            &visit,
            &form.category,
            |_| catalogue::CategoryNotes {
                added: None,
                errors: vec![("main".to_owned(), message)],
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let result = async {
        let data: op::CartAddData = visit
            .on_home(
                op::CART_ADD,
                json!({ "option": form.option, "quantity": quantity }),
            )
            .await?;
        Ok(data.cart_lines_add.user_errors)
    };
    match result.await {
        Err(response) => response,
        Ok(errors) if errors.is_empty() => see_other(&format!(
            "/kategori/{}?lagt-till={}",
            encode(&form.category),
            encode(&form.option)
        )),
        Ok(errors) => {
            let messages = user_messages(visit.language, &errors);
            render_category(
                &visit,
                &form.category,
                |_| catalogue::CategoryNotes {
                    added: None,
                    errors: messages,
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// The messages of user errors, in the reader's language, each with the field it concerns
/// (the page's anchor). Reasons are the rule set's own words.
fn user_messages(language: Language, errors: &[op::UserError]) -> Vec<(String, String)> {
    errors
        .iter()
        .map(|error| {
            let field = error.field().unwrap_or("main").to_owned();
            let message = if !error.reasons.is_empty() {
                let reasons: Vec<&str> = error.reasons.iter().map(|r| r.message.as_str()).collect();
                match error.field() {
                    // A refusal about one input (the terms) is said at that input.
                    Some(_) => reasons.join(" "),
                    None => format!("{} {}", Text::OrderRefused.get(language), reasons.join(" ")),
                }
            } else {
                match (error.field(), error.code.as_str()) {
                    (Some("contactPhone"), _) => Text::PhoneInvalid.get(language).to_owned(),
                    (Some("details"), _) => Text::DetailsInvalid.get(language).to_owned(),
                    (Some("quantity"), _) => Text::QuantityInvalid.get(language).to_owned(),
                    (Some("acceptTerms"), _) => Text::AcceptTermsRequired.get(language).to_owned(),
                    _ => error.message.clone(),
                }
            };
            let field = match field.as_str() {
                "details" => "preferredDate".to_owned(),
                _ => field,
            };
            (field, message)
        })
        .collect()
}

// Cart and checkout (S8, S9, S12, S13, S14).

#[derive(Debug, Deserialize)]
struct CheckoutQuery {
    klart: Option<String>,
}

async fn checkout_page(visit: Visit, Query(query): Query<CheckoutQuery>) -> Response {
    let done = match query.klart.as_deref() {
        Some("borttagen") => Some(Text::LineRemoved.get(visit.language).to_owned()),
        Some("antal") => Some(Text::QuantityChanged.get(visit.language).to_owned()),
        Some("sparad") => Some(Text::DetailsSaved.get(visit.language).to_owned()),
        _ => None,
    };
    render_checkout(
        &visit,
        checkout::CheckoutNotes {
            done,
            ..Default::default()
        },
        StatusCode::OK,
    )
    .await
}

async fn render_checkout(
    visit: &Visit,
    notes: checkout::CheckoutNotes,
    status: StatusCode,
) -> Response {
    let result = async {
        let data: op::CheckoutData = visit.on_home(op::CHECKOUT, json!({})).await?;
        let key = uuid::Uuid::new_v4().to_string();
        let content = checkout::checkout(visit.language, &data, &notes, &visit.form_token(), &key);
        let mut response = visit.render(
            Text::CheckoutTitle.get(visit.language),
            Section::Cart,
            data.cart.article_count,
            content,
        );
        *response.status_mut() = status;
        Ok(response)
    };
    result.await.unwrap_or_else(|response: Response| response)
}

#[derive(Debug, Deserialize)]
struct LineForm {
    form_token: String,
    option: String,
    quantity: Option<String>,
}

async fn cart_quantity(visit: Visit, headers: HeaderMap, Form(form): Form<LineForm>) -> Response {
    if let Err(refused) = visit.check_post(&headers, &form.form_token) {
        return refused;
    }
    let Some(quantity) = form.quantity.as_deref().and_then(quantity) else {
        return checkout_error(&visit, "main", Text::QuantityInvalid).await;
    };
    let result = async {
        let data: op::CartUpdateData = visit
            .on_home(
                op::CART_UPDATE,
                json!({ "option": form.option, "quantity": quantity }),
            )
            .await?;
        Ok(data.cart_lines_update.user_errors)
    };
    after_checkout_action(&visit, result.await, "/kassa?klart=antal").await
}

async fn cart_remove(visit: Visit, headers: HeaderMap, Form(form): Form<LineForm>) -> Response {
    if let Err(refused) = visit.check_post(&headers, &form.form_token) {
        return refused;
    }
    let result = async {
        let data: op::CartRemoveData = visit
            .on_home(op::CART_REMOVE, json!({ "option": form.option }))
            .await?;
        Ok(data.cart_lines_remove.user_errors)
    };
    after_checkout_action(&visit, result.await, "/kassa?klart=borttagen").await
}

async fn checkout_error(visit: &Visit, field: &str, text: Text) -> Response {
    render_checkout(
        visit,
        checkout::CheckoutNotes {
            errors: vec![(field.to_owned(), text.get(visit.language).to_owned())],
            ..Default::default()
        },
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

async fn after_checkout_action(
    visit: &Visit,
    result: Result<Vec<op::UserError>, Response>,
    then: &str,
) -> Response {
    match result {
        Err(response) => response,
        Ok(errors) if errors.is_empty() => see_other(then),
        Ok(errors) => {
            render_checkout(
                visit,
                checkout::CheckoutNotes {
                    errors: user_messages(visit.language, &errors),
                    ..Default::default()
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

#[derive(Debug, Deserialize)]
struct DetailsForm {
    form_token: String,
    #[serde(default)]
    contact_phone: String,
    #[serde(default)]
    preferred_date: String,
    #[serde(default)]
    message: String,
}

async fn details_update(
    visit: Visit,
    headers: HeaderMap,
    Form(form): Form<DetailsForm>,
) -> Response {
    if let Err(refused) = visit.check_post(&headers, &form.form_token) {
        return refused;
    }
    let typed = checkout::TypedDetails {
        contact_phone: form.contact_phone.clone(),
        preferred_date: form.preferred_date.clone(),
        message: form.message.clone(),
    };
    let date = form.preferred_date.trim();
    let preferred_date = if date.is_empty() {
        None
    } else {
        match chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d") {
            Ok(date) => Some(date.to_string()),
            Err(_) => {
                return render_checkout(
                    &visit,
                    checkout::CheckoutNotes {
                        errors: vec![(
                            "preferredDate".to_owned(),
                            Text::DetailsInvalid.get(visit.language).to_owned(),
                        )],
                        typed: Some(typed),
                        done: None,
                    },
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
        }
    };
    let phone = form.contact_phone.trim();
    let details = json!({
        "contactPhone": if phone.is_empty() { None } else { Some(phone) },
        "preferredDate": preferred_date,
        "message": form.message,
    });
    let result = async {
        let data: op::DetailsData = visit
            .on_home(op::DETAILS_UPDATE, json!({ "details": details }))
            .await?;
        Ok(data.checkout_details_update.user_errors)
    };
    match result.await {
        Err(response) => response,
        Ok(errors) if errors.is_empty() => see_other("/kassa?klart=sparad"),
        Ok(errors) => {
            render_checkout(
                &visit,
                checkout::CheckoutNotes {
                    errors: user_messages(visit.language, &errors),
                    typed: Some(typed),
                    done: None,
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

#[derive(Debug, Deserialize)]
struct SubmitForm {
    form_token: String,
    accept_terms: Option<String>,
    terms_version: String,
    idempotency_key: String,
}

async fn submit(visit: Visit, headers: HeaderMap, Form(form): Form<SubmitForm>) -> Response {
    if let Err(refused) = visit.check_post(&headers, &form.form_token) {
        return refused;
    }
    let Ok(terms_version) = form.terms_version.trim().parse::<i64>() else {
        return visit.bad_input();
    };
    let input = json!({
        "acceptTerms": form.accept_terms.as_deref() == Some("true"),
        "termsVersion": terms_version,
        "idempotencyKey": form.idempotency_key,
    });
    let result = async {
        let data: op::SubmitData = visit.on_home(op::SUBMIT, json!({ "input": input })).await?;
        Ok(data.checkout_submit)
    };
    match result.await {
        Err(response) => response,
        Ok(op::SubmitPayload {
            case: Some(case), ..
        }) => see_other(&format!("/arenden/{}?skickad=1", encode(&case.number))),
        Ok(payload) => {
            render_checkout(
                &visit,
                checkout::CheckoutNotes {
                    errors: user_messages(visit.language, &payload.user_errors),
                    ..Default::default()
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

// Cases (S14, S15, S16).

async fn cases_page(visit: Visit) -> Response {
    let result = async {
        let home = visit.home().await?;
        let data: op::CasesData = visit
            .client
            .run(op::CASES, json!({}))
            .await
            .map_err(|e| visit.failure(&e))?;
        let count = visit.article_count(&home).await;
        let content = cases::list(visit.language, &data.cases.nodes);
        Ok(visit.render(
            Text::Cases.get(visit.language),
            Section::Cases,
            count,
            content,
        ))
    };
    result.await.unwrap_or_else(|response: Response| response)
}

#[derive(Debug, Deserialize)]
struct CaseQuery {
    skickad: Option<String>,
    klart: Option<String>,
}

async fn case_page(
    visit: Visit,
    Path(number): Path<String>,
    Query(query): Query<CaseQuery>,
) -> Response {
    let notes = cases::CaseNotes {
        sent: query.skickad.is_some(),
        done: (query.klart.as_deref() == Some("avbrutet"))
            .then(|| Text::CaseCancelled.get(visit.language).to_owned()),
        refused: Vec::new(),
    };
    render_case(&visit, &number, notes, StatusCode::OK).await
}

async fn render_case(
    visit: &Visit,
    number: &str,
    notes: cases::CaseNotes,
    status: StatusCode,
) -> Response {
    let result = async {
        let home = visit.home().await?;
        let data: op::CaseData = visit
            .client
            .run(op::CASE, json!({ "number": number }))
            .await
            .map_err(|e| visit.failure(&e))?;
        let count = visit.article_count(&home).await;
        let content = cases::details(visit.language, &data.case, &notes, &visit.form_token());
        let title = Text::CaseTitle.with(visit.language, &[("number", &data.case.number)]);
        let mut response = visit.render(&title, Section::Cases, count, content);
        *response.status_mut() = status;
        Ok(response)
    };
    result.await.unwrap_or_else(|response: Response| response)
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    form_token: String,
}

async fn case_cancel(
    visit: Visit,
    headers: HeaderMap,
    Path(number): Path<String>,
    Form(form): Form<TokenForm>,
) -> Response {
    if let Err(refused) = visit.check_post(&headers, &form.form_token) {
        return refused;
    }
    let result: Result<op::CaseCancelData, Response> = visit
        .client
        .run(op::CASE_CANCEL, json!({ "number": number }))
        .await
        .map_err(|e| visit.failure(&e));
    match result {
        Err(response) => response,
        Ok(data) if data.case_cancel.user_errors.is_empty() => {
            see_other(&format!("/arenden/{}?klart=avbrutet", encode(&number)))
        }
        Ok(data) => {
            let refused = data
                .case_cancel
                .user_errors
                .iter()
                .map(|e| e.message.clone())
                .collect();
            let notes = cases::CaseNotes {
                refused,
                ..Default::default()
            };
            render_case(&visit, &number, notes, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// The open cases pages' live feed: each status change of the tenant's cases, from the
/// `caseStatusChanged` subscription, as a server-sent event with the status in words.
async fn case_events(visit: Visit) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let language = visit.language;
    let request = async_graphql::Request::new(op::CASE_STATUS_CHANGED)
        .data(visit.client.identity().clone())
        .data(language);
    let events = visit
        .client
        .schema()
        .execute_stream(request)
        .filter_map(move |response| async move {
            let data: op::CaseStatusData = response
                .data
                .into_json()
                .ok()
                .and_then(|d| serde_json::from_value(d).ok())?;
            let event = data.case_status_changed;
            let label = text::status(&event.status, language);
            let body = json!({
                "caseNumber": event.case_number,
                "status": event.status,
                "label": label,
                "announcement": Text::StatusChanged.with(language, &[("number", &event.case_number), ("status", label)]),
            });
            Some(Ok(Event::default().event("status").data(body.to_string())))
        });
    Sse::new(events).keep_alive(KeepAlive::default())
}

// Language, signing in and out.

#[derive(Debug, Deserialize)]
struct BackQuery {
    tillbaka: Option<String>,
}

async fn switch_language(
    jar: CookieJar,
    Path(code): Path<String>,
    Query(query): Query<BackQuery>,
) -> Response {
    let back = local_path(query.tillbaka.as_deref().unwrap_or("/")).to_owned();
    match session::parse_language(&code) {
        Some(language) => (
            jar.add(session::language_cookie(language)),
            Redirect::to(&back),
        )
            .into_response(),
        None => Redirect::to(&back).into_response(),
    }
}

async fn sign_in_page(jar: CookieJar, headers: HeaderMap) -> Response {
    let language = session::language(&jar, &headers);
    let tenants = tillval_services::demo::demo(chrono::Utc::now().date_naive())
        .map(|d| d.tenants)
        .unwrap_or_default();
    let frame = Frame {
        language,
        title: Text::SignIn.get(language).to_owned(),
        section: Section::None,
        article_count: None,
        form_token: None,
        path: "/logga-in",
        staff: false,
    };
    page(&frame, sign_in::demo_page(language, &tenants)).into_response()
}

#[derive(Debug, Deserialize)]
struct SignInForm {
    tenant: String,
    /// `staff` for the demo's staff member.
    role: Option<String>,
}

/// The demo's staff member.
const DEMO_STAFF: &str = "ola-forvaltare";

/// The demo's sign-in (never in production): a token for a demo tenant, in the cookie.
async fn sign_in(
    State(state): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let demo = tillval_services::demo::demo(chrono::Utc::now().date_naive())
        .map(|d| d.tenants)
        .unwrap_or_default();
    let staff = form.role.as_deref() == Some("staff") && form.tenant == DEMO_STAFF;
    let known = staff || demo.iter().any(|t| t.id.as_str() == form.tenant);
    if !same_origin(&headers) || !known {
        return (StatusCode::FORBIDDEN, "refused").into_response();
    }
    let ttl = DEMO_SESSION_SECS.min(state.auth.max_lifetime_secs());
    let (role, home) = if staff {
        (Role::Staff, "/staff/regler")
    } else {
        (Role::Tenant, "/")
    };
    match state.auth.issue(&form.tenant, role, ttl) {
        Ok(token) => (
            jar.add(session::session_cookie(token, ttl)),
            Redirect::to(home),
        )
            .into_response(),
        Err(error) => {
            tracing::warn!(%error, "demo sign-in failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[derive(Debug, Deserialize)]
struct HandOverForm {
    token: String,
}

/// The landlord's sign-in hands over a tenant's token (a form post from its own site): it is
/// checked like any API token and kept in the session cookie for as long as it lives.
async fn hand_over(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<HandOverForm>,
) -> Response {
    match state.auth.verify_token(form.token.trim()) {
        Ok(verified) if matches!(verified.identity, crate::auth::Identity::Tenant(_)) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let ttl = verified.expires_at.saturating_sub(now);
            (
                jar.add(session::session_cookie(form.token.trim().to_owned(), ttl)),
                Redirect::to("/"),
            )
                .into_response()
        }
        _ => (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "the token was refused" })),
        )
            .into_response(),
    }
}

async fn sign_out(
    State(state): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    let session = Session::from_cookies(&jar, &state.auth);
    let allowed = same_origin(&headers)
        && session.is_some_and(|s| state.auth.form_token_ok(&s.token, &form.form_token));
    if !allowed {
        return (StatusCode::FORBIDDEN, "refused").into_response();
    }
    let target = if state.production { "/" } else { "/logga-in" };
    (jar.add(session::session_removal()), Redirect::to(target)).into_response()
}

/// Every GraphQL document the portal and the staff pages run: what the trusted-documents
/// manifest holds (`crate::trusted`). The in-process client refuses any other, so a page that
/// runs a document not listed here fails its tests.
pub fn documents() -> impl Iterator<Item = &'static str> {
    operations::DOCUMENTS
        .iter()
        .copied()
        .chain(staff::documents())
}

// Assets: no build step, compiled into the binary.

async fn stylesheet() -> Response {
    asset(include_str!("assets/portal.css"), "text/css; charset=utf-8")
}

async fn script() -> Response {
    asset(
        include_str!("assets/portal.js"),
        "text/javascript; charset=utf-8",
    )
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
        ],
        body,
    )
        .into_response()
}
