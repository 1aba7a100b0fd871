//! The landlord's workbench, for staff (`/staff`): the rules in force as files in an editor,
//! checked (problems at file, line and column, the set's own test cases, their coverage),
//! previewed against every household (what becomes blocked or orderable, by reason and add-on),
//! published, and rolled back. Like the portal, every step is a public GraphQL operation
//! (`ruleSetFiles`, `ruleSets`, `ruleSetValidate`, `ruleSetImpact`, `ruleSetPublish`,
//! `ruleSetRollback`) run in-process as the staff member. A tenant's session gets nothing here.

// `serde_json::Value`'s `[]` answers `Null` for a missing key or a non-object; it never panics.
#![allow(clippy::indexing_slicing)]

use axum::Form;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};
use tillval_engine::model::Language;

use super::client::Client;
use super::layout::{Frame, Section, confirmation, form_token_field, page};
use super::session::{self, SESSION_COOKIE, same_origin};
use super::text::Text;
use crate::auth::{Identity, Verified};
use crate::server::AppState;

const FILES: &str = "query StaffRuleFiles { ruleSetFiles { name content } ruleSets { version name manifestVersion publishedBy publishedAt active } }";
const VERSIONS: &str = "query StaffVersions { ruleSets { version name manifestVersion publishedBy publishedAt active } }";
const VALIDATE: &str = "mutation StaffValidate($s: RuleSetInput!) { ruleSetValidate(source: $s) { ok problems { file line column message } testCasesRun testCasesPassed coverage { kind name cases } } }";
const IMPACT: &str = "query StaffImpact($s: RuleSetInput!) { ruleSetImpact(source: $s) { complete households householdsChanged totals { newlyBlocked newlyAvailable reasonsChanged } byReason { code counts { newlyBlocked newlyAvailable reasonsChanged } } byOption { optionId name counts { newlyBlocked newlyAvailable reasonsChanged } households { tenantId } } scriptErrors { function count example } problems { file line column message } } }";
const PUBLISH: &str = "mutation StaffPublish($s: RuleSetInput!) { ruleSetPublish(source: $s) { ruleSet { version } problems { file line column message } userErrors { code message } } }";
const DIFF: &str = "query StaffDiff($from: Int!, $to: Int!) { ruleSetDiff(from: $from, to: $to) { from { version publishedBy publishedAt } to { version publishedBy publishedAt } files { name status lines { kind text oldLine newLine } } } ruleSetFiles(version: $to) { name content } }";
const ROLLBACK: &str = "mutation StaffRollback($v: Int!) { ruleSetRollback(version: $v) { ruleSet { version } problems { message } userErrors { code message } } }";

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

/// The set's files as the editor holds them, back into the API's `RuleSetInput`.
fn source_input(files: &[(String, String)]) -> Value {
    let mut manifest = String::new();
    let (mut scripts, mut tests) = (Vec::new(), Vec::new());
    let (mut sv, mut en) = (Value::Null, Value::Null);
    for (name, content) in files {
        // Browsers send textarea lines with CRLF; the rules are written with LF.
        let content = content.replace("\r\n", "\n");
        match name.as_str() {
            "ruleset.toml" => manifest = content,
            "messages/sv.toml" => sv = Value::String(content),
            "messages/en.toml" => en = Value::String(content),
            test if test.starts_with("tests/") => {
                tests.push(json!({ "name": test, "content": content }))
            }
            script => scripts.push(json!({ "name": script, "content": content })),
        }
    }
    json!({ "manifest": manifest, "scripts": scripts, "messagesSv": sv, "messagesEn": en, "tests": tests })
}

fn problems(language: Language, list: &Value) -> Markup {
    html! {
        @if let Some(list) = list.as_array().filter(|l| !l.is_empty()) {
            div class="error-summary" role="alert" tabindex="-1" data-autofocus {
                h2 { (Text::Problems.get(language)) }
                ul class="problems" {
                    @for p in list {
                        @let file = p["file"].as_str().unwrap_or("");
                        li {
                            a href={ "#file-" (file_anchor(file)) } {
                                code { (file) @if let Some(line) = p["line"].as_u64() { ":" (line) } @if let Some(column) = p["column"].as_u64() { ":" (column) } }
                            }
                            " " (p["message"].as_str().unwrap_or(""))
                        }
                    }
                }
            }
        }
    }
}

fn file_anchor(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn number(value: &Value) -> String {
    value.as_u64().unwrap_or(0).to_string()
}

fn validation(language: Language, v: &Value) -> Markup {
    html! {
        (problems(language, &v["problems"]))
        @if v["ok"] == true {
            (confirmation(&Text::NoProblems.with(language, &[("passed", &number(&v["testCasesPassed"])), ("run", &number(&v["testCasesRun"]))])))
        }
        @if let Some(entries) = v["coverage"].as_array().filter(|e| !e.is_empty()) {
            h2 { (Text::CoverageTitle.get(language)) }
            ul class="coverage" {
                @for e in entries {
                    li data-covered=(e["cases"].as_u64().unwrap_or(0) > 0) {
                        code { (e["name"].as_str().unwrap_or("")) } ": "
                        @if e["cases"].as_u64().unwrap_or(0) == 0 {
                            strong { (Text::NotCovered.get(language)) }
                        } @else {
                            (Text::CasesCount.with(language, &[("n", &number(&e["cases"]))]))
                        }
                    }
                }
            }
        }
    }
}

fn impact(language: Language, i: &Value) -> Markup {
    let totals = &i["totals"];
    html! {
        (problems(language, &i["problems"]))
        @if i["problems"].as_array().is_none_or(Vec::is_empty) {
            section class="impact" aria-labelledby="impact-title" {
                h2 id="impact-title" { (Text::ImpactTitle.get(language)) }
                @if i["householdsChanged"].as_u64().unwrap_or(0) == 0 {
                    p data-impact-changed="0" { (Text::ImpactNone.get(language)) }
                } @else {
                    p data-impact-changed=(number(&i["householdsChanged"])) {
                        (Text::ImpactSummary.with(language, &[
                            ("changed", &number(&i["householdsChanged"])),
                            ("households", &number(&i["households"])),
                            ("blocked", &number(&totals["newlyBlocked"])),
                            ("available", &number(&totals["newlyAvailable"])),
                            ("other", &number(&totals["reasonsChanged"])),
                        ]))
                    }
                    (counts_table(language, Text::ByReason, Text::ReasonCode, i["byReason"].as_array(), "code"))
                    (counts_table(language, Text::ByOption, Text::Files, i["byOption"].as_array(), "name"))
                }
                @if let Some(errors) = i["scriptErrors"].as_array().filter(|e| !e.is_empty()) {
                    h3 { (Text::ScriptErrors.get(language)) }
                    ul { @for e in errors { li { code { (e["function"].as_str().unwrap_or("")) } " × " (number(&e["count"])) ": " (e["example"].as_str().unwrap_or("")) } } }
                }
            }
        }
    }
}

fn counts_table(
    language: Language,
    title: Text,
    first: Text,
    rows: Option<&Vec<Value>>,
    key: &str,
) -> Markup {
    let first_heading = if key == "name" {
        Text::Households
    } else {
        first
    };
    html! {
        @if let Some(rows) = rows.filter(|r| !r.is_empty()) {
            div class="table-scroll" tabindex="0" role="region" aria-label=(title.get(language)) {
                table {
                    caption { (title.get(language)) }
                    thead { tr {
                        th scope="col" { @if key == "name" { (Text::Article.get(language)) } @else { (first_heading.get(language)) } }
                        th scope="col" class="num" { (Text::NewlyBlocked.get(language)) }
                        th scope="col" class="num" { (Text::NewlyAvailable.get(language)) }
                        th scope="col" class="num" { (Text::ReasonsChanged.get(language)) }
                    } }
                    tbody {
                        @for row in rows.iter().take(50) {
                            tr {
                                th scope="row" {
                                    @if key == "code" {
                                        code { (row[key].as_str().unwrap_or("")) }
                                    } @else {
                                        (row[key].as_str().unwrap_or(""))
                                        @if let Some(id) = row["optionId"].as_str().and_then(|id| id.rsplit('/').next()) {
                                            span class="hint" { code { (id) } }
                                        }
                                    }
                                }
                                td class="num" { (number(&row["counts"]["newlyBlocked"])) }
                                td class="num" { (number(&row["counts"]["newlyAvailable"])) }
                                td class="num" { (number(&row["counts"]["reasonsChanged"])) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn versions(language: Language, list: &Value, form_token: &str) -> Markup {
    let active = list
        .as_array()
        .and_then(|l| l.iter().find(|v| v["active"] == true))
        .and_then(|v| v["version"].as_u64());
    html! {
        h2 { (Text::Versions.get(language)) }
        div class="table-scroll" tabindex="0" role="region" aria-label=(Text::Versions.get(language)) {
            table class="versions" {
                caption class="visually-hidden" { (Text::Versions.get(language)) }
                thead { tr {
                    th scope="col" { (Text::Version.get(language)) }
                    th scope="col" { (Text::PublishedBy.get(language)) }
                    th scope="col" { (Text::Created.get(language)) }
                    th scope="col" { span class="visually-hidden" { (Text::InForce.get(language)) } }
                } }
                tbody {
                    @for v in list.as_array().map(Vec::as_slice).unwrap_or(&[]) {
                        @let version = number(&v["version"]);
                        tr {
                            th scope="row" { (version) " · " (v["name"].as_str().unwrap_or("")) " " (v["manifestVersion"].as_str().unwrap_or("")) }
                            td { (v["publishedBy"].as_str().unwrap_or("")) }
                            td { (v["publishedAt"].as_str().map(minute).unwrap_or_default()) }
                            td {
                                @if v["active"] == true {
                                    strong { (Text::InForce.get(language)) }
                                } @else {
                                    @if let Some(active) = active {
                                        a href={ "/staff/regler/jamfor?fran=" (active) "&till=" (version) } {
                                            (Text::CompareWithActive.with(language, &[("version", &version)]))
                                        }
                                        " "
                                    }
                                    form method="post" action="/staff/regler/version" class="inline" {
                                        (form_token_field(form_token))
                                        input type="hidden" name="version" value=(version);
                                        button type="submit" class="button small secondary" {
                                            (Text::MakeActive.with(language, &[("version", &version)]))
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
}

fn editor(language: Language, files: &[(String, String)], form_token: &str) -> Markup {
    html! {
        form method="post" action="/staff/regler" class="rules-editor" {
            (form_token_field(form_token))
            h2 { (Text::Files.get(language)) }
            @for (index, (name, content)) in files.iter().enumerate() {
                @let id = format!("file-{}", file_anchor(name));
                div class="field editor-file" {
                    label for=(id) { code { (name) } }
                    input type="hidden" name={ "name_" (index) } value=(name);
                    div class="editor" {
                        pre class="gutter" aria-hidden="true" {
                            @for n in 1..=content.lines().count().max(1) { (n) "\n" }
                        }
                        textarea id=(id) name={ "content_" (index) } rows=(content.lines().count().clamp(4, 30))
                            spellcheck="false" autocapitalize="off" wrap="off" { (content) }
                    }
                }
            }
            div class="actions" {
                button type="submit" name="action" value="validate" class="button secondary" { (Text::Validate.get(language)) }
                button type="submit" name="action" value="impact" class="button secondary" { (Text::Preview.get(language)) }
                button type="submit" name="action" value="publish" class="button" { (Text::Publish.get(language)) }
            }
        }
    }
}

impl StaffVisit {
    fn form_token(&self) -> String {
        self.state.auth.form_token(&self.token)
    }

    fn render(
        &self,
        status: StatusCode,
        files: &[(String, String)],
        result: Markup,
        versions_list: &Value,
    ) -> Response {
        let token = self.form_token();
        let l = self.language;
        let content = html! {
            h1 { (Text::StaffRulesTitle.get(l)) }
            p { (Text::StaffRulesLead.get(l)) }
            (result)
            (editor(l, files, &token))
            (versions(l, versions_list, &token))
        };
        (status, page(&frame(l, Some(&token)), content)).into_response()
    }

    fn failed(&self, error: &super::client::ClientError) -> Response {
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

    async fn versions(&self) -> Value {
        self.client
            .run::<Value>(VERSIONS, json!({}))
            .await
            .map(|d| d["ruleSets"].clone())
            .unwrap_or(Value::Null)
    }
}

pub(super) async fn rules_page(visit: StaffVisit) -> Response {
    rules_page_with(visit, html! {}).await
}

/// The rules in force in the editor, with `note` above it.
async fn rules_page_with(visit: StaffVisit, note: Markup) -> Response {
    let data: Value = match visit.client.run(FILES, json!({})).await {
        Ok(data) => data,
        Err(error) => return visit.failed(&error),
    };
    let files: Vec<(String, String)> = data["ruleSetFiles"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap_or("").to_owned(),
                f["content"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    visit.render(StatusCode::OK, &files, note, &data["ruleSets"])
}

/// The editor's post: `form_token`, `action`, and the files as `name_N`, `content_N`.
pub(super) async fn rules_post(
    visit: StaffVisit,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if let Err(refused) = visit.check_post(&headers, field("form_token").unwrap_or("")) {
        return refused;
    }
    let mut files = Vec::new();
    for index in 0..64 {
        let (Some(name), Some(content)) = (
            field(&format!("name_{index}")),
            field(&format!("content_{index}")),
        ) else {
            break;
        };
        files.push((name.to_owned(), content.to_owned()));
    }
    let source = source_input(&files);
    let l = visit.language;
    let (status, result) = match field("action") {
        Some("validate") => match visit
            .client
            .run::<Value>(VALIDATE, json!({ "s": source }))
            .await
        {
            Ok(data) => (StatusCode::OK, validation(l, &data["ruleSetValidate"])),
            Err(error) => return visit.failed(&error),
        },
        Some("impact") => match visit
            .client
            .run::<Value>(IMPACT, json!({ "s": source }))
            .await
        {
            Ok(data) => (StatusCode::OK, impact(l, &data["ruleSetImpact"])),
            Err(error) => return visit.failed(&error),
        },
        Some("publish") => match visit
            .client
            .run::<Value>(PUBLISH, json!({ "s": source }))
            .await
        {
            Ok(data) => {
                let payload = &data["ruleSetPublish"];
                match payload["ruleSet"]["version"].as_u64() {
                    Some(version) => (
                        StatusCode::OK,
                        confirmation(
                            &Text::PublishedVersion.with(l, &[("version", &version.to_string())]),
                        ),
                    ),
                    None => (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        problems(l, &payload["problems"]),
                    ),
                }
            }
            Err(error) => return visit.failed(&error),
        },
        _ => (StatusCode::BAD_REQUEST, html! {}),
    };
    let versions = visit.versions().await;
    visit.render(status, &files, result, &versions)
}

#[derive(Debug, Deserialize)]
pub(super) struct VersionForm {
    form_token: String,
    version: String,
}

pub(super) async fn make_active(
    visit: StaffVisit,
    headers: HeaderMap,
    Form(form): Form<VersionForm>,
) -> Response {
    if let Err(refused) = visit.check_post(&headers, &form.form_token) {
        return refused;
    }
    let Ok(version) = form.version.trim().parse::<i64>() else {
        return (StatusCode::BAD_REQUEST, "not a version").into_response();
    };
    let data = match visit
        .client
        .run::<Value>(ROLLBACK, json!({ "v": version }))
        .await
    {
        Ok(data) => data,
        Err(error) => return visit.failed(&error),
    };
    let l = visit.language;
    let note = if data["ruleSetRollback"]["ruleSet"].is_null() {
        problems(l, &data["ruleSetRollback"]["problems"])
    } else {
        confirmation(&Text::RolledBack.with(l, &[("version", &version.to_string())]))
    };
    rules_page_with(visit, note).await
}

#[derive(Debug, Deserialize)]
pub(super) struct DiffQuery {
    fran: String,
    till: String,
}

/// Two versions side by side, and the newer one's files ready to preview against the set in
/// force (and publish from the editor that answers).
pub(super) async fn diff_page(
    visit: StaffVisit,
    axum::extract::Query(query): axum::extract::Query<DiffQuery>,
) -> Response {
    let (Ok(from), Ok(to)) = (
        query.fran.trim().parse::<i64>(),
        query.till.trim().parse::<i64>(),
    ) else {
        return (StatusCode::BAD_REQUEST, "not versions").into_response();
    };
    let data: Value = match visit
        .client
        .run(DIFF, json!({ "from": from, "to": to }))
        .await
    {
        Ok(data) => data,
        Err(error) if error.code() == "NOT_FOUND" => {
            let frame = frame(visit.language, None);
            let content = html! { h1 { (Text::NotFoundTitle.get(visit.language)) } };
            return (StatusCode::NOT_FOUND, page(&frame, content)).into_response();
        }
        Err(error) => return visit.failed(&error),
    };
    let l = visit.language;
    let token = visit.form_token();
    let diff = &data["ruleSetDiff"];
    let status_text = |status: &str| match status {
        "ADDED" => Text::FileAdded,
        "REMOVED" => Text::FileRemoved,
        "CHANGED" => Text::FileChanged,
        _ => Text::FileSame,
    };
    let content = html! {
        p { a class="back" href="/staff/regler" { "← " (Text::BackToRules.get(l)) } }
        h1 { (Text::DiffTitle.with(l, &[("from", &from.to_string()), ("to", &to.to_string())])) }
        ul {
            @for side in ["from", "to"] {
                li { (Text::Version.get(l)) " " (number(&diff[side]["version"])) ": " (diff[side]["publishedBy"].as_str().unwrap_or("")) ", " (diff[side]["publishedAt"].as_str().map(minute).unwrap_or_default()) }
            }
        }
        @for file in diff["files"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            @let status = file["status"].as_str().unwrap_or("SAME");
            section class="file-diff" data-status=(status) {
                h2 { code { (file["name"].as_str().unwrap_or("")) } " · " (status_text(status).get(l)) }
                @if let Some(lines) = file["lines"].as_array().filter(|lines| !lines.is_empty()) {
                    div class="table-scroll" tabindex="0" role="region" aria-label=(file["name"].as_str().unwrap_or("")) {
                        table class="diff" {
                            caption class="visually-hidden" { (file["name"].as_str().unwrap_or("")) }
                            thead { tr { th scope="col" { (from) } th scope="col" { (to) } th scope="col" { span class="visually-hidden" { (Text::Files.get(l)) } } } }
                            tbody {
                                @for line in lines {
                                    @let kind = line["kind"].as_str().unwrap_or("SAME");
                                    tr class={ "diff-" (kind.to_ascii_lowercase()) } {
                                        td class="num" { @if let Some(n) = line["oldLine"].as_u64() { (n) } }
                                        td class="num" { @if let Some(n) = line["newLine"].as_u64() { (n) } }
                                        td { code { (match kind { "ADDED" => "+ ", "REMOVED" => "− ", _ => "  " }) (line["text"].as_str().unwrap_or("")) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        form method="post" action="/staff/regler" {
            (form_token_field(&token))
            input type="hidden" name="action" value="impact";
            @for (index, f) in data["ruleSetFiles"].as_array().map(Vec::as_slice).unwrap_or(&[]).iter().enumerate() {
                input type="hidden" name={ "name_" (index) } value=(f["name"].as_str().unwrap_or(""));
                input type="hidden" name={ "content_" (index) } value=(f["content"].as_str().unwrap_or(""));
            }
            button type="submit" class="button" { (Text::PreviewVersion.with(l, &[("version", &to.to_string())])) }
        }
    };
    page(&frame(l, Some(&token)), content).into_response()
}

const QUEUE: &str = "query StaffQueue($status: CaseStatus) { caseQueue(first: 100, status: $status) { nodes { number status createdAt nextStatuses lines { name quantity } history { status actor at } } } }";
const TRANSITION: &str = "mutation StaffTransition($n: String!, $to: CaseStatus!) { caseTransition(number: $n, to: $to) { case { number status } userErrors { code message } } }";

const STATUSES: [&str; 7] = [
    "SUBMITTED",
    "UNDER_REVIEW",
    "APPROVED",
    "SCHEDULED",
    "INSTALLED",
    "REJECTED",
    "CANCELLED",
];

#[derive(Debug, Deserialize)]
pub(super) struct QueueQuery {
    status: Option<String>,
    klart: Option<String>,
}

/// The case queue: every tenant's cases, by status, each with the moves its lifecycle allows
/// staff, and its history.
pub(super) async fn cases_page(
    visit: StaffVisit,
    axum::extract::Query(query): axum::extract::Query<QueueQuery>,
) -> Response {
    let status = query.status.filter(|s| STATUSES.contains(&s.as_str()));
    let data: Value = match visit.client.run(QUEUE, json!({ "status": status })).await {
        Ok(data) => data,
        Err(error) => return visit.failed(&error),
    };
    let l = visit.language;
    let token = visit.form_token();
    let path = match &status {
        Some(s) => format!("/staff/arenden?status={s}"),
        None => "/staff/arenden".to_owned(),
    };
    let content = html! {
        h1 { (Text::CaseQueueTitle.get(l)) }
        @if let Some(done) = query.klart.as_deref().and_then(|k| k.split_once(':')).filter(|(n, _)| tillval_services::case::CaseNumber::parse(n).is_some()) {
            (confirmation(&Text::CaseMoved.with(l, &[("number", done.0), ("status", super::text::status(done.1, l))])))
        }
        nav aria-label=(Text::FilterByStatus.get(l)) {
            ul class="filters" {
                li { a href="/staff/arenden" aria-current=[status.is_none().then_some("page")] { (Text::AllStatuses.get(l)) } }
                @for s in STATUSES {
                    li { a href={ "/staff/arenden?status=" (s) } aria-current=[(status.as_deref() == Some(s)).then_some("page")] { (super::text::status(s, l)) } }
                }
            }
        }
        div class="table-scroll" tabindex="0" role="region" aria-label=(Text::CaseQueueTitle.get(l)) {
            table class="queue" {
                caption class="visually-hidden" { (Text::CaseQueueTitle.get(l)) }
                thead { tr {
                    th scope="col" { (Text::CaseNumber.get(l)) }
                    th scope="col" { (Text::Contents.get(l)) }
                    th scope="col" { (Text::Created.get(l)) }
                    th scope="col" { (Text::Status.get(l)) }
                    th scope="col" { (Text::History.get(l)) }
                } }
                tbody {
                    @for case in data["caseQueue"]["nodes"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                        @let number = case["number"].as_str().unwrap_or("");
                        tr data-case=(number) {
                            th scope="row" { (number) }
                            td { @for (i, line) in case["lines"].as_array().map(Vec::as_slice).unwrap_or(&[]).iter().enumerate() {
                                @if i > 0 { ", " } (line["name"].as_str().unwrap_or("")) " × " (number_of(&line["quantity"]))
                            } }
                            td { (case["createdAt"].as_str().map(minute).unwrap_or_default()) }
                            td {
                                span class="status" { (super::text::status(case["status"].as_str().unwrap_or(""), l)) }
                                @for next in case["nextStatuses"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                                    @let to = next.as_str().unwrap_or("");
                                    form method="post" action={ "/staff/arenden/" (super::layout::encode(number)) } class="inline" {
                                        (form_token_field(&token))
                                        input type="hidden" name="to" value=(to);
                                        input type="hidden" name="back" value=(path);
                                        " "
                                        button type="submit" class="button small secondary" {
                                            (Text::MoveTo.with(l, &[("status", super::text::status(to, l))]))
                                            span class="visually-hidden" { " " (number) }
                                        }
                                    }
                                }
                            }
                            td { ol class="history" { @for h in case["history"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                                li { (super::text::status(h["status"].as_str().unwrap_or(""), l)) " · " (h["at"].as_str().map(minute).unwrap_or_default()) }
                            } } }
                        }
                    }
                }
            }
        }
    };
    page(&frame_at(l, Some(&token), &path, Text::Cases), content).into_response()
}

fn number_of(value: &Value) -> String {
    value.as_i64().unwrap_or(0).to_string()
}

#[derive(Debug, Deserialize)]
pub(super) struct MoveForm {
    form_token: String,
    to: String,
    back: Option<String>,
}

pub(super) async fn case_move(
    visit: StaffVisit,
    headers: HeaderMap,
    axum::extract::Path(number): axum::extract::Path<String>,
    Form(form): Form<MoveForm>,
) -> Response {
    if let Err(refused) = visit.check_post(&headers, &form.form_token) {
        return refused;
    }
    if !STATUSES.contains(&form.to.as_str()) {
        return (StatusCode::BAD_REQUEST, "not a status").into_response();
    }
    let data: Value = match visit
        .client
        .run(TRANSITION, json!({ "n": number, "to": form.to }))
        .await
    {
        Ok(data) => data,
        Err(error) if error.code() == "NOT_FOUND" => {
            return (StatusCode::NOT_FOUND, "no such case").into_response();
        }
        Err(error) => return visit.failed(&error),
    };
    let back = session::local_path(form.back.as_deref().unwrap_or("/staff/arenden")).to_owned();
    let moved = &data["caseTransition"]["case"];
    if moved.is_null() {
        return Redirect::to(&back).into_response();
    }
    let separator = if back.contains('?') { '&' } else { '?' };
    Redirect::to(&format!(
        "{back}{separator}klart={}:{}",
        super::layout::encode(moved["number"].as_str().unwrap_or("")),
        moved["status"].as_str().unwrap_or("")
    ))
    .into_response()
}

/// `2026-11-25T15:52:01Z` as `2026-11-25 15:52` (UTC, as stored).
fn minute(at: &str) -> String {
    at.get(..16).unwrap_or(at).replace('T', " ")
}
