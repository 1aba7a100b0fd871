//! Message templates per language: `DEBT = "Du har en skuld på {debt}."`.

use std::collections::BTreeMap;

use super::{Reason, ReasonCode, RuleSetError};
use crate::model::Language;

/// Bytes of one message template.
pub const MAX_TEMPLATE_BYTES: usize = 1_000;
/// Placeholders in one message template.
pub const MAX_PLACEHOLDERS: usize = 8;
/// Bytes of one rendered message; what is longer is cut. With the template and parameter
/// bounds this is never reached by a checked set, so it is the last guard, not a rule.
pub const MAX_RENDERED_BYTES: usize = 4_000;
/// Parameters the engine itself gives its reasons (the rest come from the set's scripts).
const ENGINE_PARAMS: [&str; 4] = ["option_id", "option_name", "case_number", "current_version"];

/// A `{name}` in a template, or why the template is malformed.
fn placeholders(template: &str) -> Result<Vec<&str>, String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(at) = rest.find(['{', '}']) {
        let after = rest.get(at + 1..).unwrap_or("");
        if rest.get(at..at + 1) == Some("}") {
            return Err("a `}` without its `{`".into());
        }
        let close = after
            .find('}')
            .ok_or_else(|| "a `{` that is never closed".to_owned())?;
        let name = after.get(..close).unwrap_or("");
        let well_formed = !name.is_empty()
            && name.len() <= 64
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !well_formed {
            return Err(format!(
                "`{{{}}}` is not a placeholder (a parameter name in braces)",
                name.chars().take(40).collect::<String>()
            ));
        }
        names.push(name);
        rest = after.get(close + 1..).unwrap_or("");
    }
    Ok(names)
}

/// The line of `code`'s entry in a messages file, for the report.
fn line_of(text: &str, code: &str) -> usize {
    text.lines()
        .position(|line| {
            let line = line.trim_start().trim_start_matches(['"', '\'']);
            line.strip_prefix(code).is_some_and(|rest| {
                rest.trim_start_matches(['"', '\''])
                    .trim_start()
                    .starts_with('=')
            })
        })
        .map_or(0, |i| i + 1)
}

/// Checks every template of one messages file: bounded in size and placeholders, well formed,
/// and naming only parameters that exist (the engine's, or a word of the set's scripts).
pub(crate) fn check_templates(
    file: &str,
    text: &str,
    table: &BTreeMap<ReasonCode, String>,
    script_words: &std::collections::BTreeSet<&str>,
) -> Result<(), RuleSetError> {
    for (code, template) in table {
        let problem = |detail: String| RuleSetError::Template {
            file: file.to_owned(),
            line: line_of(text, code.as_str()),
            column: 1,
            detail: format!("message {code}: {detail}"),
        };
        if template.len() > MAX_TEMPLATE_BYTES {
            return Err(problem(format!(
                "{} bytes; at most {MAX_TEMPLATE_BYTES}",
                template.len()
            )));
        }
        let names = placeholders(template).map_err(&problem)?;
        if names.len() > MAX_PLACEHOLDERS {
            return Err(problem(format!(
                "{} placeholders; at most {MAX_PLACEHOLDERS}",
                names.len()
            )));
        }
        if let Some(unknown) = names
            .iter()
            .find(|n| !ENGINE_PARAMS.contains(n) && !script_words.contains(*n))
        {
            return Err(problem(format!(
                "`{{{unknown}}}` names no parameter the rules give"
            )));
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Messages {
    sv: BTreeMap<ReasonCode, String>,
    en: BTreeMap<ReasonCode, String>,
}

impl Messages {
    /// Parses one language's TOML file: a flat table of code → template.
    pub(crate) fn parse_language(
        file: &str,
        text: &str,
    ) -> Result<BTreeMap<ReasonCode, String>, RuleSetError> {
        let table: BTreeMap<String, String> =
            toml::from_str(text).map_err(|e| RuleSetError::Messages {
                file: file.to_owned(),
                detail: e.to_string(),
            })?;
        table
            .into_iter()
            .map(|(code, template)| {
                let code = ReasonCode::parse(&code).map_err(|detail| RuleSetError::Messages {
                    file: file.to_owned(),
                    detail,
                })?;
                Ok((code, template))
            })
            .collect()
    }

    pub(crate) fn new(sv: BTreeMap<ReasonCode, String>, en: BTreeMap<ReasonCode, String>) -> Self {
        Messages { sv, en }
    }

    /// Layers `other` over `self`: a landlord's text replaces the shipped one code by code.
    pub(crate) fn overlay(&mut self, other: Messages) {
        self.sv.extend(other.sv);
        self.en.extend(other.en);
    }

    /// Every code must read in both languages.
    pub(crate) fn check_complete(&self) -> Result<(), RuleSetError> {
        for (language, have, other) in [
            (Language::Sv, &self.sv, &self.en),
            (Language::En, &self.en, &self.sv),
        ] {
            if let Some(code) = other.keys().find(|code| !have.contains_key(*code)) {
                return Err(RuleSetError::MissingMessage {
                    code: code.to_string(),
                    language: language.code(),
                });
            }
        }
        Ok(())
    }

    pub fn template(&self, code: &ReasonCode, language: Language) -> Option<&str> {
        let table = match language {
            Language::Sv => &self.sv,
            Language::En => &self.en,
        };
        table.get(code).map(String::as_str)
    }

    pub fn contains(&self, code: &ReasonCode) -> bool {
        self.sv.contains_key(code) && self.en.contains_key(code)
    }

    pub fn codes(&self) -> impl Iterator<Item = &ReasonCode> {
        self.sv.keys()
    }

    /// The reason as a sentence. A code without a message reads as the code itself, so that a
    /// person still sees something stable to quote to customer service.
    pub fn render(&self, reason: &Reason, language: Language) -> String {
        let Some(template) = self.template(&reason.code, language) else {
            tracing::warn!(code = %reason.code, "no message for reason code");
            return reason.code.to_string();
        };
        let mut out = String::with_capacity(template.len() + 16);
        self.fill(template, reason, language, &mut out);
        if out.len() > MAX_RENDERED_BYTES {
            let mut short = crate::model::text::prefix_within(&out, MAX_RENDERED_BYTES).to_owned();
            short.push('…');
            return short;
        }
        out
    }

    fn fill(&self, template: &str, reason: &Reason, language: Language, out: &mut String) {
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            let (before, after) = rest.split_at(open);
            out.push_str(before);
            let after = after.get(1..).unwrap_or("");
            match after.find('}') {
                Some(close) => {
                    let name = after.get(..close).unwrap_or("");
                    match reason.params.get(name) {
                        // Script text was cut when the reason was read (values::cut).
                        Some(value) => out.push_str(&value.render(language)),
                        None => {
                            out.push('{');
                            out.push_str(name);
                            out.push('}');
                        }
                    }
                    rest = after.get(close + 1..).unwrap_or("");
                }
                None => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Currency, Money};
    use crate::rules::ReasonParam;

    #[test]
    fn renders_params_and_money_per_language() {
        let sv = Messages::parse_language("sv.toml", "DEBT = \"Skuld: {debt} ({n} st) {missing}\"")
            .unwrap();
        let en = Messages::parse_language("en.toml", "DEBT = \"Debt: {debt} ({n}) {\"").unwrap();
        let messages = Messages::new(sv, en);
        let reason = Reason::new(ReasonCode::parse("DEBT").unwrap())
            .with(
                "debt",
                ReasonParam::Money(Money::from_minor(150_000, Currency::SEK).unwrap()),
            )
            .with("n", ReasonParam::Int(2));
        assert_eq!(
            messages.render(&reason, Language::Sv),
            "Skuld: 1\u{a0}500,00\u{a0}kr (2 st) {missing}"
        );
        assert_eq!(
            messages.render(&reason, Language::En),
            "Debt: SEK 1,500.00 (2) {"
        );
        let unknown = Reason::new(ReasonCode::parse("OTHER").unwrap());
        assert_eq!(messages.render(&unknown, Language::En), "OTHER");
    }

    #[test]
    fn a_code_missing_in_one_language_is_an_error() {
        let sv = Messages::parse_language("sv.toml", "A = \"a\"\nB = \"b\"").unwrap();
        let en = Messages::parse_language("en.toml", "A = \"a\"").unwrap();
        let err = Messages::new(sv, en).check_complete().unwrap_err();
        assert!(
            matches!(err, RuleSetError::MissingMessage { ref code, language: "en" } if code == "B")
        );
        assert!(Messages::parse_language("x.toml", "lower = \"a\"").is_err());
    }
}
