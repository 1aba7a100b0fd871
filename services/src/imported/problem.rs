//! What is wrong with an import, by line and field: a code, the field, a detail (the value or
//! what it refers to), and a message in Swedish or English made from them.

use serde::Serialize;
use tillval_engine::model::Language;

/// Why a line of an import was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProblemCode {
    /// The line is not a JSON object (JSON Lines) or not a row (CSV).
    Unreadable,
    /// `type` names no kind of record.
    UnknownType,
    MissingField,
    UnknownField,
    /// A value of the wrong type or out of range.
    BadValue,
    /// The same record (type and id) twice in one batch.
    Duplicate,
    /// Refers to something neither the batch nor the store holds.
    UnknownReference,
    CurrencyMismatch,
    /// Payments on a fee would add up to more than the fee.
    Overpaid,
    /// The batch is larger than one import takes.
    TooLarge,
    /// The batch holds no record.
    Empty,
}

impl ProblemCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemCode::Unreadable => "UNREADABLE",
            ProblemCode::UnknownType => "UNKNOWN_TYPE",
            ProblemCode::MissingField => "MISSING_FIELD",
            ProblemCode::UnknownField => "UNKNOWN_FIELD",
            ProblemCode::BadValue => "BAD_VALUE",
            ProblemCode::Duplicate => "DUPLICATE",
            ProblemCode::UnknownReference => "UNKNOWN_REFERENCE",
            ProblemCode::CurrencyMismatch => "CURRENCY_MISMATCH",
            ProblemCode::Overpaid => "OVERPAID",
            ProblemCode::TooLarge => "TOO_LARGE",
            ProblemCode::Empty => "EMPTY",
        }
    }
}

/// One problem of a refused import. `line` counts from 1 as an editor does (0: the batch as a
/// whole); `field` is the record's field, where one is to blame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportProblem {
    pub line: u64,
    pub field: Option<String>,
    pub code: ProblemCode,
    /// The parameter of the message: the value refused, what was referred to, or why.
    pub detail: String,
}

impl ImportProblem {
    pub fn new(
        line: u64,
        field: Option<&str>,
        code: ProblemCode,
        detail: impl Into<String>,
    ) -> ImportProblem {
        ImportProblem {
            line,
            field: field.map(str::to_owned),
            code,
            detail: detail.into(),
        }
    }

    /// The problem as a person reads it.
    pub fn message(&self, language: Language) -> String {
        let field = self.field.as_deref().unwrap_or("-");
        let detail = &self.detail;
        let line = self.line;
        match (language, self.code) {
            (Language::Sv, ProblemCode::Unreadable) => {
                format!("rad {line} går inte att läsa: {detail}")
            }
            (Language::Sv, ProblemCode::UnknownType) => {
                format!("rad {line}: okänd posttyp {detail}")
            }
            (Language::Sv, ProblemCode::MissingField) => {
                format!("rad {line}: fältet {field} saknas")
            }
            (Language::Sv, ProblemCode::UnknownField) => format!("rad {line}: okänt fält {field}"),
            (Language::Sv, ProblemCode::BadValue) => format!("rad {line}, fält {field}: {detail}"),
            (Language::Sv, ProblemCode::Duplicate) => {
                format!("rad {line}: samma post finns redan på rad {detail}")
            }
            (Language::Sv, ProblemCode::UnknownReference) => {
                format!("rad {line}, fält {field}: {detail} finns inte")
            }
            (Language::Sv, ProblemCode::CurrencyMismatch) => {
                format!("rad {line}, fält {field}: {detail}")
            }
            (Language::Sv, ProblemCode::Overpaid) => {
                format!("rad {line}: betalningarna blir mer än avgiften ({detail})")
            }
            (Language::Sv, ProblemCode::TooLarge) => format!("filen är för stor: {detail}"),
            (Language::Sv, ProblemCode::Empty) => "filen innehåller inga poster".to_owned(),
            (Language::En, ProblemCode::Unreadable) => {
                format!("line {line} cannot be read: {detail}")
            }
            (Language::En, ProblemCode::UnknownType) => {
                format!("line {line}: unknown record type {detail}")
            }
            (Language::En, ProblemCode::MissingField) => {
                format!("line {line}: the field {field} is missing")
            }
            (Language::En, ProblemCode::UnknownField) => {
                format!("line {line}: unknown field {field}")
            }
            (Language::En, ProblemCode::BadValue) => {
                format!("line {line}, field {field}: {detail}")
            }
            (Language::En, ProblemCode::Duplicate) => {
                format!("line {line}: the same record is on line {detail}")
            }
            (Language::En, ProblemCode::UnknownReference) => {
                format!("line {line}, field {field}: {detail} does not exist")
            }
            (Language::En, ProblemCode::CurrencyMismatch) => {
                format!("line {line}, field {field}: {detail}")
            }
            (Language::En, ProblemCode::Overpaid) => {
                format!("line {line}: the payments add up to more than the fee ({detail})")
            }
            (Language::En, ProblemCode::TooLarge) => format!("the file is too large: {detail}"),
            (Language::En, ProblemCode::Empty) => "the file holds no record".to_owned(),
        }
    }
}
