//! The rules in force as files in an editor, checked (problems at file, line and column, the
//! set's own test cases, their coverage), previewed against every household (what becomes
//! blocked or orderable, by reason and add-on, down to the households), published, compared
//! version with version, and rolled back (`ruleSetFiles`, `ruleSets`, `ruleSetValidate`,
//! `ruleSetImpact`, `ruleSetPublish`, `ruleSetDiff`, `ruleSetRollback`).

#![allow(clippy::indexing_slicing)]

use axum::Form;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};
use tillval_engine::model::Language;

use super::{StaffVisit, frame, list, minute, number, text};
use crate::portal::layout::{confirmation, encode, form_token_field, page};
use crate::portal::text::Text;

const FILES: &str = "query StaffRuleFiles { ruleSetFiles { name content } ruleSets { version name manifestVersion publishedBy publishedAt active } }";
const VERSIONS: &str = "query StaffVersions { ruleSets { version name manifestVersion publishedBy publishedAt active } }";
const VALIDATE: &str = "mutation StaffValidate($s: RuleSetInput!) { ruleSetValidate(source: $s) { ok problems { file line column message } testCasesRun testCasesPassed coverage { kind name cases } } }";
const IMPACT: &str = "query StaffImpact($s: RuleSetInput!) { ruleSetImpact(source: $s) { complete households householdsChanged totals { newlyBlocked newlyAvailable reasonsChanged } byReason { code counts { newlyBlocked newlyAvailable reasonsChanged } } byOption { optionId name counts { newlyBlocked newlyAvailable reasonsChanged } households { tenantId rentalObjectId change activeReasons candidateReasons } } scriptErrors { function count example } problems { file line column message } } }";
const PUBLISH: &str = "mutation StaffPublish($s: RuleSetInput!) { ruleSetPublish(source: $s) { ruleSet { version } problems { file line column message } userErrors { code message } } }";
const DIFF: &str = "query StaffDiff($from: Int!, $to: Int!) { ruleSetDiff(from: $from, to: $to) { from { version publishedBy publishedAt } to { version publishedBy publishedAt } files { name status lines { kind text oldLine newLine } } } ruleSetFiles(version: $to) { name content } }";
const ROLLBACK: &str = "mutation StaffRollback($v: Int!) { ruleSetRollback(version: $v) { ruleSet { version } problems { message } userErrors { code message } } }";

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
                    (drill_down(language, &i["byOption"]))
                }
                @if let Some(errors) = i["scriptErrors"].as_array().filter(|e| !e.is_empty()) {
                    h3 { (Text::ScriptErrors.get(language)) }
                    ul { @for e in errors { li { code { (e["function"].as_str().unwrap_or("")) } " × " (number(&e["count"])) ": " (e["example"].as_str().unwrap_or("")) } } }
                }
            }
        }
    }
}

/// Per add-on, the first households it changes for, each linked to its explanation.
fn drill_down(language: Language, by_option: &Value) -> Markup {
    let l = language;
    let change_text = |change: &str| match change {
        "NEWLY_BLOCKED" => Text::NewlyBlocked,
        "NEWLY_AVAILABLE" => Text::NewlyAvailable,
        _ => Text::ReasonsChanged,
    };
    html! {
        @for option in list(by_option).iter().take(50).filter(|o| !list(&o["households"]).is_empty()) {
            @let households = list(&option["households"]);
            details class="drill-down" {
                summary { (text(&option["name"])) ": " (Text::FirstHouseholds.with(l, &[("n", &households.len().to_string())])) }
                div class="table-scroll" tabindex="0" role="region" aria-label=(text(&option["name"])) {
                    table {
                        caption class="visually-hidden" { (text(&option["name"])) }
                        thead { tr {
                            th scope="col" { (Text::Households.get(l)) }
                            th scope="col" { (Text::Change.get(l)) }
                            th scope="col" { (Text::ReasonsNow.get(l)) }
                            th scope="col" { (Text::ReasonsAfter.get(l)) }
                        } }
                        tbody {
                            @for h in households {
                                @let (tenant, object) = (text(&h["tenantId"]), text(&h["rentalObjectId"]));
                                tr data-change=(text(&h["change"])) {
                                    th scope="row" {
                                        a href={ "/staff/beslut?hyresgast=" (encode(tenant)) "&objekt=" (encode(object)) } {
                                            (tenant.rsplit('/').next().unwrap_or("")) ", " (object.rsplit('/').next().unwrap_or(""))
                                        }
                                    }
                                    td { (change_text(text(&h["change"])).get(l)) }
                                    td { @for c in list(&h["activeReasons"]) { code { (text(c)) } " " } }
                                    td { @for c in list(&h["candidateReasons"]) { code { (text(c)) } " " } }
                                }
                            }
                        }
                    }
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

    async fn versions(&self) -> Value {
        self.client
            .run::<Value>(VERSIONS, json!({}))
            .await
            .map(|d| d["ruleSets"].clone())
            .unwrap_or(Value::Null)
    }
}

pub(in crate::portal) async fn rules_page(visit: StaffVisit) -> Response {
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
pub(in crate::portal) async fn rules_post(
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
pub(in crate::portal) struct VersionForm {
    form_token: String,
    version: String,
}

pub(in crate::portal) async fn make_active(
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
pub(in crate::portal) struct DiffQuery {
    fran: String,
    till: String,
}

/// Two versions side by side, and the newer one's files ready to preview against the set in
/// force (and publish from the editor that answers).
pub(in crate::portal) async fn diff_page(
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

/// Every GraphQL document this module runs, for the trusted-documents manifest.
pub(super) const DOCUMENTS: &[&str] = &[FILES, VERSIONS, VALIDATE, IMPACT, PUBLISH, DIFF, ROLLBACK];
