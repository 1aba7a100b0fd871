//! A catalogue made ready for one rule set: each option's lock keys computed once (they depend
//! on the option alone) and its script value built once, so a request never redoes either.

use std::sync::Arc;

use rhai::Dynamic;

use crate::model::{AddOnOption, Catalogue, LockKey, OptionId};
use crate::rules::{RuleError, RuleSet, option_value};

#[derive(Debug, Clone)]
pub struct PreparedOption {
    pub option: Arc<AddOnOption>,
    /// The keys the option occupies, or why the rule set could not say.
    pub keys: Result<Vec<LockKey>, RuleError>,
    pub(crate) value: Dynamic,
}

#[derive(Debug)]
pub struct PreparedCatalogue {
    catalogue: Arc<Catalogue>,
    rule_set_fingerprint: u64,
    entries: Vec<PreparedOption>,
}

impl PreparedCatalogue {
    pub fn prepare(catalogue: Arc<Catalogue>, rules: &RuleSet) -> PreparedCatalogue {
        let entries = catalogue
            .options()
            .iter()
            .map(|option| {
                let keys = rules.lock_keys(option);
                if let Err(error) = &keys {
                    tracing::warn!(option = %option.id(), %error, "lock_keys failed");
                }
                let value = option_value(option, keys.as_deref().unwrap_or(&[]));
                PreparedOption {
                    option: Arc::clone(option),
                    keys,
                    value,
                }
            })
            .collect();
        PreparedCatalogue {
            catalogue,
            rule_set_fingerprint: rules.fingerprint(),
            entries,
        }
    }

    pub fn catalogue(&self) -> &Arc<Catalogue> {
        &self.catalogue
    }
    /// The rule set this catalogue was prepared for.
    pub fn rule_set_fingerprint(&self) -> u64 {
        self.rule_set_fingerprint
    }
    pub fn entries(&self) -> &[PreparedOption] {
        &self.entries
    }
    pub fn entry(&self, option: &OptionId) -> Option<&PreparedOption> {
        self.catalogue
            .option_position(option)
            .and_then(|i| self.entries.get(i))
    }
}
