//! Reading one record's fields, every problem noted rather than the first: a missing field, a
//! value of the wrong type or out of range, a field no record of this type has. A CSV cell is
//! text; where a number, a truth value or a list is expected, the text is read as one.

use serde_json::{Map, Value};
use tillval_engine::model::{Currency, ModelError};

use crate::imported::{ImportProblem, ProblemCode};

pub(crate) struct Fields<'a> {
    map: Map<String, Value>,
    line: u64,
    problems: &'a mut Vec<ImportProblem>,
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a truth value",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

impl<'a> Fields<'a> {
    pub(crate) fn new(
        map: Map<String, Value>,
        line: u64,
        problems: &'a mut Vec<ImportProblem>,
    ) -> Fields<'a> {
        Fields {
            map,
            line,
            problems,
        }
    }

    pub(crate) fn line(&self) -> u64 {
        self.line
    }

    pub(crate) fn problem(&mut self, field: &str, code: ProblemCode, detail: impl Into<String>) {
        self.problems
            .push(ImportProblem::new(self.line, Some(field), code, detail));
    }

    fn bad(&mut self, field: &str, detail: impl Into<String>) {
        self.problem(field, ProblemCode::BadValue, detail);
    }

    /// The field's value, taken out (so that what is left at [`Fields::finish`] is unknown).
    /// `null` is absent.
    fn take(&mut self, field: &str) -> Option<Value> {
        self.map.remove(field).filter(|v| !v.is_null())
    }

    fn required(&mut self, field: &str) -> Option<Value> {
        let value = self.take(field);
        if value.is_none() {
            self.problem(field, ProblemCode::MissingField, "");
        }
        value
    }

    pub(crate) fn has(&self, field: &str) -> bool {
        self.map.get(field).is_some_and(|v| !v.is_null())
    }

    fn text_of(&mut self, field: &str, value: Value) -> Option<String> {
        match value {
            Value::String(text) => Some(text),
            other => {
                let found = type_name(&other);
                self.bad(field, format!("expected text, found {found}"));
                None
            }
        }
    }

    pub(crate) fn text(&mut self, field: &str) -> Option<String> {
        let value = self.required(field)?;
        self.text_of(field, value)
    }

    pub(crate) fn text_or_empty(&mut self, field: &str) -> Option<String> {
        match self.take(field) {
            Some(value) => self.text_of(field, value),
            None => Some(String::new()),
        }
    }

    /// A value the model checks (an id, a currency): its error is the detail.
    pub(crate) fn parsed<T>(
        &mut self,
        field: &str,
        parse: impl FnOnce(String) -> Result<T, ModelError>,
    ) -> Option<T> {
        let text = self.text(field)?;
        match parse(text) {
            Ok(value) => Some(value),
            Err(error) => {
                self.bad(field, error.to_string());
                None
            }
        }
    }

    pub(crate) fn currency(&mut self, field: &str) -> Option<Currency> {
        self.parsed(field, |code| Currency::parse(&code))
    }

    fn integer_of(&mut self, field: &str, value: Value, min: i64, max: i64) -> Option<i64> {
        let number = match &value {
            Value::Number(n) => n.as_i64(),
            Value::String(text) => text.trim().parse::<i64>().ok(),
            _ => None,
        };
        match number {
            Some(n) if (min..=max).contains(&n) => Some(n),
            Some(n) => {
                self.bad(field, format!("{n} is not between {min} and {max}"));
                None
            }
            None => {
                let shown: String = value.to_string().chars().take(40).collect();
                self.bad(field, format!("expected a whole number, found {shown}"));
                None
            }
        }
    }

    pub(crate) fn integer(&mut self, field: &str, min: i64, max: i64) -> Option<i64> {
        let value = self.required(field)?;
        self.integer_of(field, value, min, max)
    }

    pub(crate) fn integer_or(
        &mut self,
        field: &str,
        default: i64,
        min: i64,
        max: i64,
    ) -> Option<i64> {
        match self.take(field) {
            Some(value) => self.integer_of(field, value, min, max),
            None => Some(default),
        }
    }

    pub(crate) fn truth(&mut self, field: &str) -> Option<bool> {
        if !self.has(field) {
            self.problem(field, ProblemCode::MissingField, "");
            return None;
        }
        self.truth_or(field, false)
    }

    pub(crate) fn truth_or(&mut self, field: &str, default: bool) -> Option<bool> {
        let value = match self.take(field) {
            Some(value) => value,
            None => return Some(default),
        };
        let truth = match &value {
            Value::Bool(b) => Some(*b),
            Value::String(text) => match text.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "ja" => Some(true),
                "false" | "0" | "no" | "nej" => Some(false),
                _ => None,
            },
            _ => None,
        };
        if truth.is_none() {
            let shown: String = value.to_string().chars().take(40).collect();
            self.bad(field, format!("expected true or false, found {shown}"));
        }
        truth
    }

    /// A list; from a CSV cell, JSON (`[…]`) or items separated by `|`.
    pub(crate) fn list(&mut self, field: &str, max: usize) -> Option<Vec<Value>> {
        let value = self.required(field)?;
        let items = match value {
            Value::Array(items) => items,
            Value::String(text) if text.trim_start().starts_with('[') => {
                match serde_json::from_str::<Vec<Value>>(&text) {
                    Ok(items) => items,
                    Err(error) => {
                        self.bad(field, format!("not a JSON list: {error}"));
                        return None;
                    }
                }
            }
            Value::String(text) => text
                .split('|')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| Value::String(item.to_owned()))
                .collect(),
            other => {
                let found = type_name(&other);
                self.bad(field, format!("expected a list, found {found}"));
                return None;
            }
        };
        if items.len() > max {
            self.bad(field, format!("{} items, at most {max}", items.len()));
            return None;
        }
        Some(items)
    }

    /// Notes every field left as unknown.
    pub(crate) fn finish(self) {
        let mut unknown: Vec<String> = self.map.into_iter().map(|(k, _)| k).collect();
        unknown.sort();
        for field in unknown {
            let shown: String = field.chars().take(64).collect();
            self.problems.push(ImportProblem::new(
                self.line,
                Some(&shown),
                ProblemCode::UnknownField,
                "",
            ));
        }
    }
}
