//! A catalogue made ready for one rule set: each option's lock keys computed once (they depend
//! on the option alone) and its script value built once, so a request never redoes either.

use std::collections::HashMap;
use std::sync::Arc;

use rhai::Dynamic;

use crate::model::{AddOnOption, Catalogue, LockKey, OptionId, SpaceId};
use crate::rules::{OptionUse, RuleError, RuleSet, option_value};

#[derive(Debug, Clone)]
pub struct PreparedOption {
    pub option: Arc<AddOnOption>,
    /// The keys the option occupies, or why the rule set could not say.
    pub keys: Result<Arc<[LockKey]>, RuleError>,
    pub(crate) value: Dynamic,
    /// Indices of `keys` into [`PreparedCatalogue::distinct_keys`].
    pub(crate) key_ids: Vec<usize>,
    /// Index of the option's space into [`PreparedCatalogue::distinct_spaces`].
    pub(crate) space_id: usize,
    /// Options alike in every property the set's `option_blocks` reads share a group (see
    /// [`crate::rules::OptionUse`]); with a set that reads otherwise, each option is alone.
    pub(crate) option_group: usize,
}

#[derive(Debug)]
pub struct PreparedCatalogue {
    catalogue: Arc<Catalogue>,
    rule_set_fingerprint: u64,
    entries: Vec<PreparedOption>,
    /// Categories in display order (position, then id), each with its options' entry indices
    /// in display order: sorted once here so that no request sorts.
    display_order: Vec<(usize, Vec<usize>)>,
    /// Every lock key some option occupies, once, so that a decision can memoise per key in a
    /// vector rather than hash a string per option.
    distinct_keys: Vec<LockKey>,
    /// The same keys as script values, made once.
    key_values: Vec<Dynamic>,
    key_ids: HashMap<LockKey, usize>,
    /// Every space some option is for, once: an apartment is asked about each once per view.
    distinct_spaces: Vec<SpaceId>,
    /// How many option groups the entries fall in.
    option_groups: usize,
}

impl PreparedCatalogue {
    pub fn prepare(catalogue: Arc<Catalogue>, rules: &RuleSet) -> PreparedCatalogue {
        let mut distinct_spaces: Vec<SpaceId> = Vec::new();
        let mut distinct_keys: Vec<LockKey> = Vec::new();
        let mut key_ids: HashMap<LockKey, usize> = HashMap::new();
        let mut groups: HashMap<Vec<String>, usize> = HashMap::new();
        let entries = catalogue
            .options()
            .iter()
            .map(|option| {
                let keys: Result<Arc<[LockKey]>, RuleError> =
                    rules.lock_keys(option).map(Arc::from);
                if let Err(error) = &keys {
                    tracing::warn!(option = %option.id(), %error, "lock_keys failed");
                }
                let occupied = keys.as_deref().unwrap_or(&[]);
                let value = option_value(option, occupied);
                let ids = occupied
                    .iter()
                    .map(|key| {
                        *key_ids.entry(key.clone()).or_insert_with(|| {
                            distinct_keys.push(key.clone());
                            distinct_keys.len() - 1
                        })
                    })
                    .collect();
                let space_id = match distinct_spaces.iter().position(|s| s == option.space()) {
                    Some(i) => i,
                    None => {
                        distinct_spaces.push(option.space().clone());
                        distinct_spaces.len() - 1
                    }
                };
                let group_key = option_group_key(option, occupied, rules.option_use());
                let next = groups.len();
                let option_group = *groups.entry(group_key).or_insert(next);
                PreparedOption {
                    option: Arc::clone(option),
                    keys,
                    value,
                    key_ids: ids,
                    space_id,
                    option_group,
                }
            })
            .collect();
        let option_groups = groups.len();
        let display_order = display_order(&catalogue);
        let key_values = distinct_keys
            .iter()
            .map(|k| Dynamic::from(rhai::ImmutableString::from(k.as_str())))
            .collect();
        PreparedCatalogue {
            catalogue,
            rule_set_fingerprint: rules.fingerprint(),
            entries,
            display_order,
            distinct_keys,
            key_values,
            key_ids,
            distinct_spaces,
            option_groups,
        }
    }

    /// How many groups of options alike (for `option_blocks`) the entries fall in.
    pub fn option_groups(&self) -> usize {
        self.option_groups
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
    /// Categories (by index into [`Catalogue::categories`]) in display order, each with the
    /// indices of its entries in display order. Categories without options are left out.
    pub fn display_order(&self) -> &[(usize, Vec<usize>)] {
        &self.display_order
    }
    /// Every lock key the catalogue's options occupy, each once.
    pub fn distinct_keys(&self) -> &[LockKey] {
        &self.distinct_keys
    }
    pub(crate) fn key_value(&self, id: usize) -> Option<&Dynamic> {
        self.key_values.get(id)
    }
    /// The index of `key` in [`PreparedCatalogue::distinct_keys`].
    pub fn key_id(&self, key: &LockKey) -> Option<usize> {
        self.key_ids.get(key).copied()
    }
    /// Every space the catalogue's options are for, each once.
    pub fn distinct_spaces(&self) -> &[SpaceId] {
        &self.distinct_spaces
    }
    /// The entry's index, for per-option memos.
    pub fn entry_index(&self, option: &OptionId) -> Option<usize> {
        self.catalogue.option_position(option)
    }
}

/// What an option is to the set's `option_blocks`: the values of the properties it reads, or
/// (when it reads otherwise) the option's own id, so that it is alone.
fn option_group_key(
    option: &AddOnOption,
    keys: &[LockKey],
    use_: Option<&OptionUse>,
) -> Vec<String> {
    let Some(OptionUse::Properties { read, .. }) = use_ else {
        return vec![format!("alone:{}", option.id())];
    };
    let money = |m: crate::model::Money| format!("{} {}", m.minor(), m.currency().code());
    read.iter()
        .map(|property| match property.as_str() {
            "id" => option.id().to_string(),
            "category" => option.category().to_string(),
            "space" => option.space().to_string(),
            "name" => option.name().to_owned(),
            "monthly_price" => money(option.monthly_price()),
            "one_time_fee" => money(option.one_time_fee()),
            "unit" | "max_quantity" => format!("{:?}", option.unit()),
            "keys" => keys
                .iter()
                .map(LockKey::as_str)
                .collect::<Vec<_>>()
                .join("\n"),
            // Not a property: the read fails alike for every option.
            _ => String::new(),
        })
        .collect()
}

fn display_order(catalogue: &Catalogue) -> Vec<(usize, Vec<usize>)> {
    let categories = catalogue.categories();
    let mut order: Vec<usize> = (0..categories.len()).collect();
    order.sort_by(|&a, &b| {
        let key = |i: usize| categories.get(i).map(|c| (c.position, &c.id));
        key(a).cmp(&key(b))
    });
    let options = catalogue.options();
    let mut by_category: std::collections::HashMap<&crate::model::CategoryId, Vec<usize>> =
        std::collections::HashMap::new();
    for (i, option) in options.iter().enumerate() {
        by_category.entry(option.category()).or_default().push(i);
    }
    order
        .into_iter()
        .filter_map(|c| {
            let category = categories.get(c)?;
            let mut members = by_category.remove(&category.id)?;
            members.sort_by(|&a, &b| {
                let key = |i: usize| options.get(i).map(|o| (o.position(), o.id()));
                key(a).cmp(&key(b))
            });
            Some((c, members))
        })
        .collect()
}
