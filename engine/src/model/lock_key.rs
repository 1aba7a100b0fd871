//! Lock keys: what an add-on occupies. Options sharing a key exclude each other in the
//! cart (S10) and against ongoing orders and unpaid fees (S4, S5). By default a key is
//! `category/space`; a rule set may choose others.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::ModelError;

pub const MAX_LOCK_KEY_LEN: usize = 160;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LockKey(Arc<str>);

impl LockKey {
    pub fn parse(value: impl AsRef<str>) -> Result<Self, ModelError> {
        let value = value.as_ref();
        if value.is_empty() || value.len() > MAX_LOCK_KEY_LEN || value.chars().any(char::is_control)
        {
            return Err(ModelError::InvalidLockKey(
                value.chars().take(MAX_LOCK_KEY_LEN).collect(),
            ));
        }
        Ok(LockKey(Arc::from(value)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for LockKey {
    type Error = ModelError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        LockKey::parse(value)
    }
}

impl From<LockKey> for String {
    fn from(key: LockKey) -> String {
        key.0.to_string()
    }
}

// Ordering, equality and hashing are those of the text, so maps keyed by `LockKey` can be
// searched with a plain `&str` (no allocation on the rules' hot path).
impl std::borrow::Borrow<str> for LockKey {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LockKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
