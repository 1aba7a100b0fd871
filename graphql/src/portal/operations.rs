//! The public GraphQL operations the portal uses, and the shapes of their answers. A landlord's
//! own front end could send these same documents to `/graphql` with the tenant's token.

use serde::Deserialize;

/// The signed-in tenant's apartments.
pub const VIEWER: &str = "query PortalViewer { viewer { rentalObjects { id address } } }";

/// The catalogue of one apartment: the gate, the categories and every option with its
/// availability and reasons (S6, S7, S9, S10).
pub const CATALOGUE: &str = "query PortalCatalogue($object: ID!) {
  catalogue(rentalObjectId: $object) {
    articleCount
    gate { open reasons { code message } }
    categories {
      id name
      options {
        id name description
        pictures { thumbnail large alt }
        space { name }
        unit maxQuantity
        monthlyPrice { formatted }
        oneTimeFee { amount formatted }
        availability { status reasons { code message } }
      }
    }
  }
}";

/// The cart and what checkout shows (S8, S12, S13).
pub const CHECKOUT: &str = "query PortalCheckout($object: ID!) {
  cart(rentalObjectId: $object) {
    articleCount
    monthlyTotal { formatted }
    oneTimeTotal { amount formatted }
    lines {
      quantity
      monthlyTotal { formatted }
      oneTimeTotal { amount formatted }
      option { id name unit maxQuantity space { name } }
    }
    problems { optionId reasons { code message } }
    checkoutDetails { contactPhone preferredDate message }
  }
  terms { version text }
}";

/// Only the cart's article count, for pages that show nothing else of it.
pub const ARTICLE_COUNT: &str =
    "query PortalArticleCount($object: ID!) { cart(rentalObjectId: $object) { articleCount } }";

pub const CART_ADD: &str = "mutation PortalCartAdd($object: ID!, $option: ID!, $quantity: Int!) {
  cartLinesAdd(rentalObjectId: $object, lines: [{ optionId: $option, quantity: $quantity }]) {
    cart { articleCount }
    userErrors { code field message reasons { code message } }
  }
}";

pub const CART_UPDATE: &str =
    "mutation PortalCartUpdate($object: ID!, $option: ID!, $quantity: Int!) {
  cartLinesUpdate(rentalObjectId: $object, lines: [{ optionId: $option, quantity: $quantity }]) {
    cart { articleCount }
    userErrors { code field message reasons { code message } }
  }
}";

pub const CART_REMOVE: &str = "mutation PortalCartRemove($object: ID!, $option: ID!) {
  cartLinesRemove(rentalObjectId: $object, optionIds: [$option]) {
    cart { articleCount }
    userErrors { code field message reasons { code message } }
  }
}";

pub const DETAILS_UPDATE: &str =
    "mutation PortalDetails($object: ID!, $details: CheckoutDetailsInput!) {
  checkoutDetailsUpdate(rentalObjectId: $object, details: $details) {
    cart { articleCount }
    userErrors { code field message reasons { code message } }
  }
}";

pub const SUBMIT: &str = "mutation PortalSubmit($object: ID!, $input: CheckoutSubmitInput!) {
  checkoutSubmit(rentalObjectId: $object, input: $input) {
    case { number }
    userErrors { code field message reasons { code message } }
  }
}";

/// The tenant's cases, newest first (S15).
pub const CASES: &str = "query PortalCases {
  cases(first: 50) {
    nodes { number status createdAt monthlyTotal { formatted } lines { name quantity } }
  }
}";

/// One case (S16).
pub const CASE: &str = "query PortalCase($number: String!) {
  case(number: $number) {
    number status createdAt nextStatuses acceptedTermsVersion
    lines { name quantity oneTimeFee { amount formatted } monthlyTotal { formatted } }
    monthlyTotal { formatted }
    oneTimeTotal { amount formatted }
    history { status actor at }
    checkoutDetails { contactPhone preferredDate message }
  }
}";

pub const CASE_CANCEL: &str = "mutation PortalCaseCancel($number: String!) {
  caseCancel(number: $number) {
    case { number status }
    userErrors { code field message reasons { code message } }
  }
}";

/// Status changes of the tenant's own cases, live (S15).
pub const CASE_STATUS_CHANGED: &str =
    "subscription PortalCaseStatus { caseStatusChanged { caseNumber status at } }";

#[derive(Debug, Clone, Deserialize)]
pub struct ViewerData {
    pub viewer: Viewer,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Viewer {
    pub rental_objects: Vec<RentalObject>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RentalObject {
    pub id: String,
    pub address: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CatalogueData {
    pub catalogue: Catalogue,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Catalogue {
    pub article_count: i64,
    pub gate: Gate,
    pub categories: Vec<Category>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Gate {
    pub open: bool,
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Reason {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Category {
    pub id: String,
    pub name: String,
    pub options: Vec<AddOnOption>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddOnOption {
    pub id: String,
    pub name: String,
    pub description: String,
    pub pictures: Vec<Picture>,
    pub space: Space,
    pub unit: String,
    pub max_quantity: i64,
    pub monthly_price: Money,
    pub one_time_fee: Money,
    pub availability: Option<Availability>,
}

impl AddOnOption {
    pub fn status(&self) -> &str {
        self.availability
            .as_ref()
            .map_or("AVAILABLE", |a| a.status.as_str())
    }

    pub fn reasons(&self) -> &[Reason] {
        self.availability.as_ref().map_or(&[], |a| &a.reasons)
    }

    pub fn is_piece(&self) -> bool {
        self.unit == "PIECE"
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Picture {
    pub thumbnail: String,
    pub large: String,
    pub alt: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Space {
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Money {
    #[serde(default)]
    pub amount: i64,
    pub formatted: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Availability {
    pub status: String,
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CheckoutData {
    pub cart: Cart,
    pub terms: Terms,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cart {
    pub article_count: i64,
    pub monthly_total: Money,
    pub one_time_total: Money,
    pub lines: Vec<CartLine>,
    pub problems: Vec<CartProblem>,
    pub checkout_details: CheckoutDetails,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CartLine {
    pub quantity: i64,
    pub monthly_total: Money,
    pub one_time_total: Money,
    pub option: CartOption,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CartOption {
    pub id: String,
    pub name: String,
    pub unit: String,
    pub max_quantity: i64,
    pub space: Space,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CartProblem {
    pub option_id: String,
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutDetails {
    pub contact_phone: Option<String>,
    pub preferred_date: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Terms {
    pub version: i64,
    pub text: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArticleCountData {
    pub cart: ArticleCount,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArticleCount {
    pub article_count: i64,
}

/// What every mutation answers: the user errors (empty when it went through).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payload {
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct UserError {
    pub code: String,
    pub field: Option<Vec<String>>,
    pub message: String,
    pub reasons: Vec<Reason>,
}

impl UserError {
    /// The input field the error concerns (the last element of its path).
    pub fn field(&self) -> Option<&str> {
        self.field.as_ref()?.last().map(String::as_str)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CartAddData {
    pub cart_lines_add: Payload,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CartUpdateData {
    pub cart_lines_update: Payload,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CartRemoveData {
    pub cart_lines_remove: Payload,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DetailsData {
    pub checkout_details_update: Payload,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubmitData {
    pub checkout_submit: SubmitPayload,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubmitPayload {
    pub case: Option<CaseNumberOnly>,
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CaseNumberOnly {
    pub number: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CasesData {
    pub cases: CaseNodes,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CaseNodes {
    pub nodes: Vec<CaseSummary>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseSummary {
    pub number: String,
    pub status: String,
    pub created_at: String,
    pub monthly_total: Option<Money>,
    pub lines: Vec<CaseLineSummary>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CaseLineSummary {
    pub name: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CaseData {
    pub case: Case,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Case {
    pub number: String,
    pub status: String,
    pub created_at: String,
    pub next_statuses: Vec<String>,
    pub accepted_terms_version: i64,
    pub lines: Vec<CaseLine>,
    pub monthly_total: Option<Money>,
    pub one_time_total: Option<Money>,
    pub history: Vec<HistoryEntry>,
    pub checkout_details: CheckoutDetails,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseLine {
    pub name: String,
    pub quantity: i64,
    pub one_time_fee: Money,
    pub monthly_total: Money,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HistoryEntry {
    pub status: String,
    pub actor: String,
    pub at: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseCancelData {
    pub case_cancel: Payload,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseStatusData {
    pub case_status_changed: CaseStatusEvent,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseStatusEvent {
    pub case_number: String,
    pub status: String,
}

/// Every GraphQL document this module runs, for the trusted-documents manifest.
pub const DOCUMENTS: &[&str] = &[
    VIEWER,
    CATALOGUE,
    CHECKOUT,
    ARTICLE_COUNT,
    CART_ADD,
    CART_UPDATE,
    CART_REMOVE,
    DETAILS_UPDATE,
    SUBMIT,
    CASES,
    CASE,
    CASE_CANCEL,
    CASE_STATUS_CHANGED,
];
