//! What an order is made of: its details (S12), the terms it accepts (S13), the key that makes
//! sending it idempotent, and the request to send it (S14).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use tillval_engine::model::ModelError;

/// A phone number as people write them: digits, spaces, `-`, and a leading `+`; 6–20 digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(text: &str) -> Result<PhoneNumber, ModelError> {
        let trimmed = text.trim();
        let digits = trimmed.bytes().filter(u8::is_ascii_digit).count();
        let allowed = trimmed
            .char_indices()
            .all(|(i, c)| c.is_ascii_digit() || c == ' ' || c == '-' || (c == '+' && i == 0));
        if !allowed || !(6..=20).contains(&digits) || trimmed.len() > 32 {
            return Err(ModelError::InvalidText {
                field: "contact phone",
                reason: "6–20 digits, spaces, '-' and a leading '+'",
            });
        }
        Ok(PhoneNumber(trimmed.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = ModelError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        PhoneNumber::parse(&value)
    }
}

impl From<PhoneNumber> for String {
    fn from(p: PhoneNumber) -> String {
        p.0
    }
}

pub const MAX_MESSAGE_CHARS: usize = 1000;

/// What the tenant tells the landlord with the order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutDetails {
    pub contact_phone: Option<PhoneNumber>,
    pub preferred_date: Option<NaiveDate>,
    pub message: String,
}

impl CheckoutDetails {
    /// Checks what a client sends: the message bounded, the date not in the past.
    pub fn new(
        contact_phone: Option<PhoneNumber>,
        preferred_date: Option<NaiveDate>,
        message: &str,
        today: NaiveDate,
    ) -> Result<CheckoutDetails, ModelError> {
        if preferred_date.is_some_and(|d| d < today) {
            return Err(ModelError::InvalidText {
                field: "preferred date",
                reason: "is in the past",
            });
        }
        let message = tillval_engine::model::text::optional("message", message, MAX_MESSAGE_CHARS)?;
        Ok(CheckoutDetails {
            contact_phone,
            preferred_date,
            message,
        })
    }
}

/// The terms a tenant accepts by sending an order (S13).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terms {
    pub version: i64,
    pub text_sv: String,
    pub text_en: String,
    pub published_at: DateTime<Utc>,
}

/// A client's key for one submission: the same key twice gives the same case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(text: &str) -> Result<IdempotencyKey, ModelError> {
        let ok = (8..=128).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_graphic());
        if !ok {
            return Err(ModelError::InvalidText {
                field: "idempotency key",
                reason: "8–128 printable ASCII characters",
            });
        }
        Ok(IdempotencyKey(text.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the tenant sends with "Send order".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitRequest {
    pub accept_terms: bool,
    pub terms_version: i64,
    pub idempotency_key: IdempotencyKey,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_and_keys_are_checked() {
        assert!(PhoneNumber::parse("+46 70-123 45 67").is_ok());
        assert!(PhoneNumber::parse("070 1234567").is_ok());
        for bad in [
            "",
            "12345",
            "070+123456",
            "call me",
            "1".repeat(21).as_str(),
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad}");
        }
        assert!(IdempotencyKey::parse("abcdefgh").is_ok());
        assert!(IdempotencyKey::parse("short").is_err());
        assert!(IdempotencyKey::parse("has space in it").is_err());
    }

    #[test]
    fn details_refuse_a_past_date_and_a_long_message() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let yesterday = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert!(CheckoutDetails::new(None, Some(yesterday), "", today).is_err());
        assert!(
            CheckoutDetails::new(None, Some(today), "  hej  ", today)
                .unwrap()
                .message
                == "hej"
        );
        assert!(CheckoutDetails::new(None, None, &"x".repeat(1001), today).is_err());
    }
}
