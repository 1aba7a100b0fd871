//! Identifiers: short, printable, and checked once at the edge so nothing downstream
//! has to wonder whether an id is empty or carries markup.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::ModelError;

/// The longest id we accept; ids end up in URLs, logs and lock keys.
pub const MAX_ID_LEN: usize = 64;

fn check_id(kind: &'static str, value: &str) -> Result<(), ModelError> {
    let problem = if value.is_empty() {
        Some("is empty")
    } else if value.len() > MAX_ID_LEN {
        Some("is longer than 64 characters")
    } else if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        Some("may only hold ASCII letters, digits, '-', '_' and '.'")
    } else {
        None
    };
    match problem {
        Some(reason) => Err(ModelError::InvalidId {
            kind,
            value: value.chars().take(MAX_ID_LEN + 8).collect(),
            reason,
        }),
        None => Ok(()),
    }
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(Arc<str>);

        impl $name {
            /// Parses an id: 1–64 ASCII letters, digits, `-`, `_` or `.`.
            pub fn parse(value: impl AsRef<str>) -> Result<Self, ModelError> {
                let value = value.as_ref();
                check_id($kind, value)?;
                Ok(Self(Arc::from(value)))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ModelError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0.to_string()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A tenant (hyresgäst).
    TenantId,
    "tenant"
);
id_type!(
    /// A property (fastighet): one or more buildings with rental objects.
    PropertyId,
    "property"
);
id_type!(
    /// A rental object, in practice an apartment.
    RentalObjectId,
    "rental object"
);
id_type!(
    /// A kind of space in an apartment (utrymme): `kitchen`, `bathroom`, `hall` …
    SpaceId,
    "space"
);
id_type!(
    /// A category of add-ons (tillvalsgrupp), e.g. `diskmaskin`.
    CategoryId,
    "category"
);
id_type!(
    /// One add-on option (tillvalsåtgärd).
    OptionId,
    "option"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_ids_and_refuses_the_rest() {
        assert_eq!(
            OptionId::parse("dm-bosch.4_x").unwrap().as_str(),
            "dm-bosch.4_x"
        );
        assert!(OptionId::parse("").is_err());
        assert!(OptionId::parse("a b").is_err());
        assert!(OptionId::parse("kök").is_err());
        assert!(OptionId::parse("x".repeat(65)).is_err());
        assert!(OptionId::parse("x".repeat(64)).is_ok());
    }

    #[test]
    fn deserializing_checks_the_id() {
        let bad: Result<TenantId, _> = serde_json::from_str("\"<script>\"");
        assert!(bad.is_err());
        let good: TenantId = serde_json::from_str("\"t-1\"").unwrap();
        assert_eq!(good.as_str(), "t-1");
    }
}
