//! Money: integer minor units (öre) with a currency. Never a float, never negative:
//! a price, a fee and a debt are all amounts owed, and a credit is not a debt of -x.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Language, ModelError};

/// ISO 4217 currencies a Nordic landlord bills in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Currency {
    SEK,
    NOK,
    DKK,
    EUR,
}

impl Currency {
    pub fn code(self) -> &'static str {
        match self {
            Currency::SEK => "SEK",
            Currency::NOK => "NOK",
            Currency::DKK => "DKK",
            Currency::EUR => "EUR",
        }
    }

    pub fn parse(code: &str) -> Result<Self, ModelError> {
        match code {
            "SEK" => Ok(Currency::SEK),
            "NOK" => Ok(Currency::NOK),
            "DKK" => Ok(Currency::DKK),
            "EUR" => Ok(Currency::EUR),
            other => Err(ModelError::UnknownCurrency(
                other.chars().take(16).collect(),
            )),
        }
    }

    /// How Swedish writes the unit after the amount.
    fn swedish_suffix(self) -> &'static str {
        match self {
            Currency::SEK => "kr",
            Currency::NOK => "NOK",
            Currency::DKK => "DKK",
            Currency::EUR => "€",
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A non-negative amount in minor units (öre, cents) of one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "MoneyRecord", into = "MoneyRecord")]
pub struct Money {
    minor: i64,
    currency: Currency,
}

/// The wire and file form of [`Money`]: `{ amount = 9900, currency = "SEK" }`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct MoneyRecord {
    /// Minor units (öre).
    pub amount: i64,
    pub currency: Currency,
}

impl Money {
    pub fn from_minor(minor: i64, currency: Currency) -> Result<Self, ModelError> {
        if minor < 0 {
            return Err(ModelError::NegativeMoney(minor));
        }
        Ok(Self { minor, currency })
    }

    pub const fn zero(currency: Currency) -> Self {
        Self { minor: 0, currency }
    }

    pub fn minor(self) -> i64 {
        self.minor
    }

    pub fn currency(self) -> Currency {
        self.currency
    }

    pub fn is_zero(self) -> bool {
        self.minor == 0
    }

    pub fn checked_add(self, other: Money) -> Result<Money, ModelError> {
        if self.currency != other.currency {
            return Err(ModelError::CurrencyMismatch(self.currency, other.currency));
        }
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or(ModelError::MoneyOverflow)?;
        Ok(Money {
            minor,
            currency: self.currency,
        })
    }

    /// What remains of `self` once `paid` is taken off; never below zero.
    pub fn saturating_sub(self, paid: Money) -> Result<Money, ModelError> {
        if self.currency != paid.currency {
            return Err(ModelError::CurrencyMismatch(self.currency, paid.currency));
        }
        Ok(Money {
            minor: (self.minor - paid.minor).max(0),
            currency: self.currency,
        })
    }

    pub fn checked_mul(self, factor: u32) -> Result<Money, ModelError> {
        let minor = self
            .minor
            .checked_mul(i64::from(factor))
            .ok_or(ModelError::MoneyOverflow)?;
        Ok(Money {
            minor,
            currency: self.currency,
        })
    }

    /// `1 500,00 kr` in Swedish, `SEK 1,500.00` in English.
    pub fn format(self, language: Language) -> String {
        let whole = self.minor / 100;
        let cents = self.minor % 100;
        let (group_separator, decimal_separator) = match language {
            Language::Sv => ('\u{a0}', ','),
            Language::En => (',', '.'),
        };
        let digits = whole.to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(group_separator);
            }
            grouped.push(digit);
        }
        match language {
            Language::Sv => format!(
                "{grouped}{decimal_separator}{cents:02}\u{a0}{}",
                self.currency.swedish_suffix()
            ),
            Language::En => format!("{} {grouped}{decimal_separator}{cents:02}", self.currency),
        }
    }
}

/// For logs and errors; people see [`Money::format`] in their language.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format(Language::En))
    }
}

impl TryFrom<MoneyRecord> for Money {
    type Error = ModelError;
    fn try_from(record: MoneyRecord) -> Result<Self, Self::Error> {
        Money::from_minor(record.amount, record.currency)
    }
}

impl From<Money> for MoneyRecord {
    fn from(money: Money) -> Self {
        MoneyRecord {
            amount: money.minor,
            currency: money.currency,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_in_both_languages() {
        let m = Money::from_minor(150_050, Currency::SEK).unwrap();
        assert_eq!(m.format(Language::Sv), "1\u{a0}500,50\u{a0}kr");
        assert_eq!(m.format(Language::En), "SEK 1,500.50");
        let small = Money::from_minor(5, Currency::SEK).unwrap();
        assert_eq!(small.format(Language::En), "SEK 0.05");
        let big = Money::from_minor(12_345_678_900, Currency::EUR).unwrap();
        assert_eq!(big.format(Language::En), "EUR 123,456,789.00");
    }

    #[test]
    fn refuses_negative_mixed_and_overflowing_amounts() {
        assert!(Money::from_minor(-1, Currency::SEK).is_err());
        let sek = Money::from_minor(100, Currency::SEK).unwrap();
        let eur = Money::from_minor(100, Currency::EUR).unwrap();
        assert!(matches!(
            sek.checked_add(eur),
            Err(ModelError::CurrencyMismatch(..))
        ));
        let max = Money::from_minor(i64::MAX, Currency::SEK).unwrap();
        assert!(matches!(
            max.checked_add(sek),
            Err(ModelError::MoneyOverflow)
        ));
        assert_eq!(sek.checked_add(sek).unwrap().minor(), 200);
        assert_eq!(
            sek.saturating_sub(sek.checked_mul(3).unwrap())
                .unwrap()
                .minor(),
            0
        );
    }

    #[test]
    fn deserializing_refuses_a_negative_amount() {
        let bad: Result<Money, _> = serde_json::from_str(r#"{"amount":-5,"currency":"SEK"}"#);
        assert!(bad.is_err());
        let bad: Result<Money, _> = serde_json::from_str(r#"{"amount":5,"currency":"XXX"}"#);
        assert!(bad.is_err());
    }
}
