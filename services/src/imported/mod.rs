//! The records of an import (issue 15): the kinds of fact the landlord's rental system sends,
//! each checked, with its line, the source's id and version; what a batch did, or every problem
//! that refused it. The operation is `import`'s; the store writes these records.

pub mod problem;

use chrono::{DateTime, Utc};
use tillval_engine::model::{
    AddOnOption, Category, Currency, LockKey, Money, OptionId, PropertyId, RentalObject,
    RentalObjectId, TenantId,
};

pub use problem::{ImportProblem, ProblemCode};

/// The kinds of record, in the order a batch is applied: what is referred to before what refers
/// to it, so a file may list its records in any order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FactKind {
    Landlord,
    Property,
    Category,
    Option,
    RentalObject,
    Tenant,
    Tenancy,
    Debt,
    Fee,
    Payment,
}

impl FactKind {
    pub const ALL: [FactKind; 10] = [
        FactKind::Landlord,
        FactKind::Property,
        FactKind::Category,
        FactKind::Option,
        FactKind::RentalObject,
        FactKind::Tenant,
        FactKind::Tenancy,
        FactKind::Debt,
        FactKind::Fee,
        FactKind::Payment,
    ];

    /// The record's `type` in a file.
    pub fn as_str(self) -> &'static str {
        match self {
            FactKind::Landlord => "landlord",
            FactKind::Property => "property",
            FactKind::Category => "category",
            FactKind::Option => "option",
            FactKind::RentalObject => "rental_object",
            FactKind::Tenant => "tenant",
            FactKind::Tenancy => "tenancy",
            FactKind::Debt => "debt",
            FactKind::Fee => "fee",
            FactKind::Payment => "payment",
        }
    }

    pub fn parse(text: &str) -> Option<FactKind> {
        FactKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// A fee on an add-on the rental system bills (S5): it blocks its lock keys on the rental
/// object while payments leave some of it unpaid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedFee {
    pub tenant: TenantId,
    pub rental_object: RentalObjectId,
    pub property: PropertyId,
    pub option: OptionId,
    pub amount: Money,
    pub booked_at: DateTime<Utc>,
    /// What the option occupies under the rule set in force at the import.
    pub lock_keys: Vec<LockKey>,
}

/// One record's fact, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    /// S2 for the whole landlord.
    Landlord {
        ordering_enabled: bool,
    },
    /// A property, its catalogue's currency, and S2 for it.
    Property {
        id: PropertyId,
        name: String,
        currency: Currency,
        ordering_enabled: bool,
    },
    Category {
        property: PropertyId,
        category: Category,
    },
    Option {
        property: PropertyId,
        option: AddOnOption,
    },
    /// An apartment and its spaces (the spaces replace those stored).
    RentalObject(RentalObject),
    Tenant {
        id: TenantId,
        name: String,
        ordering_enabled: bool,
    },
    /// A tenancy (its source id is the contract's): the rental object is leased by exactly
    /// these tenants, the first the contract holder and the rest co-tenants, until it ends.
    Tenancy {
        rental_object: RentalObjectId,
        tenants: Vec<TenantId>,
        ended: bool,
    },
    /// What the tenant owes past due (S3); 0 clears it.
    Debt {
        tenant: TenantId,
        amount: Money,
    },
    Fee(ImportedFee),
    /// A payment on an imported fee (by the fee's source id).
    Payment {
        fee: String,
        amount: Money,
        paid_at: DateTime<Utc>,
    },
}

/// One record of a batch, checked: its line, the source's key and version, and the fact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportItem {
    pub line: u64,
    pub kind: FactKind,
    /// The source system's id; for categories and options, `property/id`.
    pub source_id: String,
    /// The record's version (or its timestamp in microseconds since 1970).
    pub version: i64,
    pub fact: Fact,
}

/// What a batch that went in did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    /// Records newer than what was stored (or new): written.
    pub applied: u64,
    /// Records of the version already stored: nothing to do.
    pub unchanged: u64,
    /// Records older than the version stored: left as they were.
    pub stale: u64,
}

/// A batch either went in whole, or not at all, with every reason why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportOutcome {
    Applied(ImportCounts),
    Refused(Vec<ImportProblem>),
}
