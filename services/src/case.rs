//! Add-on cases (tillvalsärenden): what a submitted order becomes (S14–S16). The lifecycle is
//! one declared table; everything else (next statuses, who may do what, when a lock is
//! released) is derived from it.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::order::CheckoutDetails;
use tillval_engine::model::{
    CategoryId, LockKey, Money, OptionId, Quantity, RentalObjectId, SpaceId, TenantId,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CaseStatus {
    Submitted,
    UnderReview,
    Approved,
    Scheduled,
    Installed,
    Rejected,
    Cancelled,
}

/// Who moves a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    Tenant,
    Staff,
    /// The landlord's maintenance system, moving cases as its work goes (issue 15).
    Integration,
}

/// The lifecycle: (from, to, who may). Nothing else moves a case.
pub const TRANSITIONS: [(CaseStatus, CaseStatus, &[Actor]); 8] = {
    use Actor::*;
    use CaseStatus::*;
    [
        (Submitted, UnderReview, &[Staff, Integration]),
        (UnderReview, Approved, &[Staff, Integration]),
        (Approved, Scheduled, &[Staff, Integration]),
        (Scheduled, Installed, &[Staff, Integration]),
        (UnderReview, Rejected, &[Staff, Integration]),
        (Submitted, Cancelled, &[Tenant, Staff, Integration]),
        (UnderReview, Cancelled, &[Tenant, Staff, Integration]),
        (Submitted, Rejected, &[Staff, Integration]),
    ]
};

impl CaseStatus {
    pub const ALL: [CaseStatus; 7] = [
        CaseStatus::Submitted,
        CaseStatus::UnderReview,
        CaseStatus::Approved,
        CaseStatus::Scheduled,
        CaseStatus::Installed,
        CaseStatus::Rejected,
        CaseStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Submitted => "SUBMITTED",
            CaseStatus::UnderReview => "UNDER_REVIEW",
            CaseStatus::Approved => "APPROVED",
            CaseStatus::Scheduled => "SCHEDULED",
            CaseStatus::Installed => "INSTALLED",
            CaseStatus::Rejected => "REJECTED",
            CaseStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(text: &str) -> Option<CaseStatus> {
        CaseStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The statuses `actor` may move a case in this status to.
    pub fn next_statuses(self, actor: Actor) -> Vec<CaseStatus> {
        TRANSITIONS
            .iter()
            .filter(|(from, _, who)| *from == self && who.contains(&actor))
            .map(|(_, to, _)| *to)
            .collect()
    }

    pub fn may_move_to(self, to: CaseStatus, actor: Actor) -> bool {
        TRANSITIONS
            .iter()
            .any(|(from, target, who)| *from == self && *target == to && who.contains(&actor))
    }

    /// No transition leaves it.
    pub fn is_terminal(self) -> bool {
        !TRANSITIONS.iter().any(|(from, _, _)| *from == self)
    }

    /// Whether the case still holds its order locks (S4): until it ends.
    pub fn holds_locks(self) -> bool {
        !self.is_terminal()
    }

    /// Whether its add-ons count towards the apartment's monthly total: ordered or installed.
    pub fn counts_monthly(self) -> bool {
        !matches!(self, CaseStatus::Rejected | CaseStatus::Cancelled)
    }
}

impl fmt::Display for CaseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `TV-2026-000123`: what the tenant quotes to customer service (S14).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CaseNumber(String);

impl CaseNumber {
    pub fn new(year: i32, sequence: i64) -> CaseNumber {
        CaseNumber(format!("TV-{year}-{sequence:06}"))
    }

    pub fn parse(text: &str) -> Option<CaseNumber> {
        let rest = text.strip_prefix("TV-")?;
        let (year, sequence) = rest.split_once('-')?;
        let digits = |s: &str, min: usize, max: usize| {
            (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
        };
        (digits(year, 4, 4) && digits(sequence, 6, 12)).then(|| CaseNumber(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CaseNumber {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        CaseNumber::parse(&value)
            .ok_or_else(|| format!("{value:?} is not a case number like TV-2026-000123"))
    }
}

impl From<CaseNumber> for String {
    fn from(number: CaseNumber) -> String {
        number.0
    }
}

impl fmt::Display for CaseNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A line as it was ordered: prices are those of the moment of sending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseLine {
    pub option: OptionId,
    pub option_name: String,
    pub category: CategoryId,
    pub space: SpaceId,
    pub keys: Vec<LockKey>,
    pub quantity: Quantity,
    pub monthly_price: Money,
    pub one_time_fee: Money,
}

impl CaseLine {
    pub fn monthly_total(&self) -> Money {
        self.monthly_price
            .checked_mul(self.quantity.get())
            .unwrap_or(self.monthly_price)
    }
    pub fn one_time_total(&self) -> Money {
        self.one_time_fee
            .checked_mul(self.quantity.get())
            .unwrap_or(self.one_time_fee)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub status: CaseStatus,
    pub actor: Actor,
    pub at: DateTime<Utc>,
}

/// A case with everything S16 shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// The store's key; also the keyset cursor (newest first).
    pub id: i64,
    pub number: CaseNumber,
    pub tenant: TenantId,
    pub rental_object: RentalObjectId,
    pub status: CaseStatus,
    pub terms_version: i64,
    pub details: CheckoutDetails,
    pub lines: Vec<CaseLine>,
    pub history: Vec<HistoryEntry>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// What the decision to let the order through saw; `None` for cases from before receipts.
    pub receipt: Option<DecisionReceipt>,
}

/// Why an order was allowed, kept with its case for a dispute: the rule set in force and the
/// facts it decided on (the debt, whether ordering was on, and per key of the order whether an
/// ongoing order or an unpaid fee was there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionReceipt {
    /// `name version` of the rule set.
    pub rule_set: String,
    pub facts: serde_json::Value,
}

impl Case {
    pub fn monthly_total(&self) -> Option<Money> {
        sum(self.lines.iter().map(CaseLine::monthly_total))
    }
    pub fn one_time_total(&self) -> Option<Money> {
        sum(self.lines.iter().map(CaseLine::one_time_total))
    }
    pub fn preferred_date(&self) -> Option<NaiveDate> {
        self.details.preferred_date
    }
}

fn sum(mut amounts: impl Iterator<Item = Money>) -> Option<Money> {
    let first = amounts.next()?;
    amounts.try_fold(first, |total, m| total.checked_add(m).ok())
}

/// One page of a tenant's cases, newest first (S15).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CasePage {
    pub cases: Vec<Case>,
    pub has_next_page: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaseStatus::*;

    #[test]
    fn the_lifecycle_is_the_declared_table() {
        assert_eq!(
            Submitted.next_statuses(Actor::Staff),
            [UnderReview, Cancelled, Rejected]
        );
        assert_eq!(Submitted.next_statuses(Actor::Tenant), [Cancelled]);
        assert_eq!(UnderReview.next_statuses(Actor::Tenant), [Cancelled]);
        assert!(Approved.next_statuses(Actor::Tenant).is_empty());
        assert_eq!(Scheduled.next_statuses(Actor::Staff), [Installed]);
        for terminal in [Installed, Rejected, Cancelled] {
            assert!(terminal.is_terminal() && !terminal.holds_locks());
            assert!(terminal.next_statuses(Actor::Staff).is_empty());
        }
        assert!(!Submitted.may_move_to(Installed, Actor::Staff));
        assert!(Approved.holds_locks());
    }

    #[test]
    fn statuses_and_numbers_round_trip() {
        for status in CaseStatus::ALL {
            assert_eq!(CaseStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(CaseNumber::new(2026, 42).as_str(), "TV-2026-000042");
        assert!(CaseNumber::parse("TV-2026-000042").is_some());
        for bad in [
            "",
            "TV-26-000001",
            "XX-2026-000001",
            "TV-2026-12",
            "TV-2026-00000a",
        ] {
            assert!(CaseNumber::parse(bad).is_none(), "{bad}");
        }
    }
}
