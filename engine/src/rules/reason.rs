//! Reasons: why something cannot be ordered, as a stable code plus parameters. Text is made
//! from them per language by [`super::Messages`], never by the scripts.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::model::{Language, Money};

/// `SCREAMING_SNAKE_CASE`, 1–64 characters: stable across versions, safe in any client.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReasonCode(Arc<str>);

impl ReasonCode {
    pub fn parse(value: impl AsRef<str>) -> Result<Self, String> {
        let value = value.as_ref();
        let mut bytes = value.bytes();
        let well_formed = value.len() <= 64
            && bytes.next().is_some_and(|b| b.is_ascii_uppercase())
            && bytes.all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        if well_formed {
            Ok(ReasonCode(Arc::from(value)))
        } else {
            Err(format!(
                "reason code {:?} is not SCREAMING_SNAKE_CASE of at most 64 characters",
                value.chars().take(70).collect::<String>()
            ))
        }
    }

    /// A code fixed in the program's text: the engine's own ([`engine_codes`], which a unit
    /// test holds well formed) and the services' refusal codes (held by theirs).
    pub fn engine(code: &'static str) -> Self {
        ReasonCode(Arc::from(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ReasonCode {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        ReasonCode::parse(value)
    }
}

impl From<ReasonCode> for String {
    fn from(code: ReasonCode) -> String {
        code.0.to_string()
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One parameter of a reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ReasonParam {
    Int(i64),
    Bool(bool),
    Money(Money),
    Text(String),
}

impl ReasonParam {
    /// How the parameter reads inside a message.
    pub fn render(&self, language: Language) -> String {
        match self {
            ReasonParam::Int(i) => i.to_string(),
            ReasonParam::Bool(b) => match (b, language) {
                (true, Language::Sv) => "ja".into(),
                (false, Language::Sv) => "nej".into(),
                (true, Language::En) => "yes".into(),
                (false, Language::En) => "no".into(),
            },
            ReasonParam::Money(m) => m.format(language),
            ReasonParam::Text(t) => t.clone(),
        }
    }
}

/// Why an option (or the whole order) is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub code: ReasonCode,
    #[serde(default)]
    pub params: BTreeMap<String, ReasonParam>,
}

impl Reason {
    pub fn new(code: ReasonCode) -> Self {
        Reason {
            code,
            params: BTreeMap::new(),
        }
    }

    pub fn with(mut self, name: &str, value: ReasonParam) -> Self {
        self.params.insert(name.to_owned(), value);
        self
    }
}

/// Codes the engine itself gives, whatever the rule set says; every rule set's messages must
/// have them.
pub mod engine_codes {
    /// S10: another option with the same lock key is already in the cart.
    pub const LOCKED_BY_CART: &str = "LOCKED_BY_CART";
    /// A cart line's option is no longer offered for the apartment.
    pub const OPTION_UNAVAILABLE: &str = "OPTION_UNAVAILABLE";
    /// Another order took a key first, while this one was being sent (S4).
    pub const LOCKED: &str = "LOCKED";
    pub const ALREADY_IN_CART: &str = "ALREADY_IN_CART";
    pub const TERMS_NOT_ACCEPTED: &str = "TERMS_NOT_ACCEPTED";
    pub const TERMS_OUTDATED: &str = "TERMS_OUTDATED";
    pub const EMPTY_CART: &str = "EMPTY_CART";
    pub const CART_CHANGED: &str = "CART_CHANGED";
    /// Every code above.
    pub const ALL: [&str; 8] = [
        LOCKED_BY_CART,
        OPTION_UNAVAILABLE,
        LOCKED,
        ALREADY_IN_CART,
        TERMS_NOT_ACCEPTED,
        TERMS_OUTDATED,
        EMPTY_CART,
        CART_CHANGED,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_codes_are_well_formed_and_bad_codes_are_refused() {
        for code in engine_codes::ALL {
            assert!(ReasonCode::parse(code).is_ok(), "{code}");
        }
        for bad in ["", "debt", "DEBT-1", "1DEBT", "DËBT"] {
            assert!(ReasonCode::parse(bad).is_err(), "{bad}");
        }
        assert!(ReasonCode::parse("A".repeat(65)).is_err());
    }
}
