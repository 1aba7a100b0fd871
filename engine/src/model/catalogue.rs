//! The add-on catalogue of one property: categories and options (S6, S7).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{CategoryId, Currency, ModelError, Money, OptionId, PropertyId, SpaceId, Unit, text};

/// A picture of an add-on: a thumbnail for the list, a large version on request (S7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Picture {
    pub thumbnail: String,
    pub large: String,
    #[serde(default)]
    pub alt: String,
}

impl Picture {
    fn checked(self) -> Result<Picture, ModelError> {
        Ok(Picture {
            thumbnail: text::url("picture thumbnail", &self.thumbnail)?,
            large: text::url("picture large", &self.large)?,
            alt: text::optional("picture alt", &self.alt, 200)?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub id: CategoryId,
    /// "Diskmaskin"
    pub name: String,
    /// Display order; ties are broken by id so the view never depends on input order.
    #[serde(default)]
    pub position: u32,
}

/// One add-on a tenant can order (tillvalsåtgärd).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "AddOnOptionRecord", into = "AddOnOptionRecord")]
pub struct AddOnOption {
    id: OptionId,
    category: CategoryId,
    space: SpaceId,
    name: String,
    description: String,
    pictures: Vec<Picture>,
    monthly_price: Money,
    one_time_fee: Money,
    unit: Unit,
    position: u32,
}

/// The plain form of an [`AddOnOption`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddOnOptionRecord {
    pub id: OptionId,
    pub category: CategoryId,
    pub space: SpaceId,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub pictures: Vec<Picture>,
    pub monthly_price: Money,
    pub one_time_fee: Money,
    pub unit: Unit,
    #[serde(default)]
    pub position: u32,
}

impl TryFrom<AddOnOptionRecord> for AddOnOption {
    type Error = ModelError;
    fn try_from(r: AddOnOptionRecord) -> Result<Self, Self::Error> {
        if r.pictures.is_empty() {
            return Err(ModelError::NoPicture(r.id.to_string()));
        }
        if r.pictures.len() > 20 {
            return Err(ModelError::OutOfRange {
                field: "pictures",
                value: r.pictures.len() as i64,
            });
        }
        if r.monthly_price.currency() != r.one_time_fee.currency() {
            return Err(ModelError::CurrencyMismatch(
                r.monthly_price.currency(),
                r.one_time_fee.currency(),
            ));
        }
        Ok(AddOnOption {
            name: text::required("option name", &r.name, 120)?,
            description: text::optional("option description", &r.description, 4000)?,
            pictures: r
                .pictures
                .into_iter()
                .map(Picture::checked)
                .collect::<Result<_, _>>()?,
            id: r.id,
            category: r.category,
            space: r.space,
            monthly_price: r.monthly_price,
            one_time_fee: r.one_time_fee,
            unit: r.unit,
            position: r.position,
        })
    }
}

impl From<AddOnOption> for AddOnOptionRecord {
    fn from(o: AddOnOption) -> Self {
        AddOnOptionRecord {
            id: o.id,
            category: o.category,
            space: o.space,
            name: o.name,
            description: o.description,
            pictures: o.pictures,
            monthly_price: o.monthly_price,
            one_time_fee: o.one_time_fee,
            unit: o.unit,
            position: o.position,
        }
    }
}

impl AddOnOption {
    pub fn id(&self) -> &OptionId {
        &self.id
    }
    pub fn category(&self) -> &CategoryId {
        &self.category
    }
    pub fn space(&self) -> &SpaceId {
        &self.space
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn description(&self) -> &str {
        &self.description
    }
    pub fn pictures(&self) -> &[Picture] {
        &self.pictures
    }
    pub fn monthly_price(&self) -> Money {
        self.monthly_price
    }
    pub fn one_time_fee(&self) -> Money {
        self.one_time_fee
    }
    pub fn unit(&self) -> Unit {
        self.unit
    }
    pub fn position(&self) -> u32 {
        self.position
    }
    pub fn currency(&self) -> Currency {
        self.monthly_price.currency()
    }
}

/// A property's catalogue: every option refers to a category of the same catalogue, ids are
/// unique, and all prices are in the catalogue's currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "CatalogueRecord", into = "CatalogueRecord")]
pub struct Catalogue {
    property: PropertyId,
    currency: Currency,
    categories: Vec<Category>,
    options: Vec<Arc<AddOnOption>>,
    #[serde(skip)]
    option_index: HashMap<OptionId, usize>,
}

/// The plain form of a [`Catalogue`], as a catalogue file holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueRecord {
    pub property: PropertyId,
    pub currency: Currency,
    #[serde(default)]
    pub categories: Vec<Category>,
    #[serde(default)]
    pub options: Vec<AddOnOption>,
}

/// The most options one property's catalogue may hold; a bound, so that a runaway import
/// cannot make every request slow.
pub const MAX_OPTIONS: usize = 50_000;

impl TryFrom<CatalogueRecord> for Catalogue {
    type Error = ModelError;
    fn try_from(r: CatalogueRecord) -> Result<Self, Self::Error> {
        if r.options.len() > MAX_OPTIONS {
            return Err(ModelError::OutOfRange {
                field: "options",
                value: r.options.len() as i64,
            });
        }
        let mut categories = r.categories;
        let mut category_ids = HashSet::new();
        for category in &mut categories {
            category.name = text::required("category name", &category.name, 80)?;
            if !category_ids.insert(category.id.clone()) {
                return Err(ModelError::Duplicate {
                    kind: "category",
                    id: category.id.to_string(),
                });
            }
        }
        let mut option_index = HashMap::with_capacity(r.options.len());
        for (i, option) in r.options.iter().enumerate() {
            if option_index.insert(option.id().clone(), i).is_some() {
                return Err(ModelError::Duplicate {
                    kind: "option",
                    id: option.id().to_string(),
                });
            }
            if !category_ids.contains(option.category()) {
                return Err(ModelError::UnknownReference {
                    kind: "category",
                    id: option.category().to_string(),
                    from: option.id().to_string(),
                });
            }
            if option.currency() != r.currency {
                return Err(ModelError::CurrencyMismatch(r.currency, option.currency()));
            }
        }
        Ok(Catalogue {
            property: r.property,
            currency: r.currency,
            categories,
            options: r.options.into_iter().map(Arc::new).collect(),
            option_index,
        })
    }
}

impl From<Catalogue> for CatalogueRecord {
    fn from(c: Catalogue) -> Self {
        CatalogueRecord {
            property: c.property,
            currency: c.currency,
            categories: c.categories,
            options: c.options.iter().map(|o| AddOnOption::clone(o)).collect(),
        }
    }
}

impl Catalogue {
    pub fn property(&self) -> &PropertyId {
        &self.property
    }
    pub fn currency(&self) -> Currency {
        self.currency
    }
    pub fn categories(&self) -> &[Category] {
        &self.categories
    }
    pub fn category(&self, id: &CategoryId) -> Option<&Category> {
        self.categories.iter().find(|c| &c.id == id)
    }
    pub fn options(&self) -> &[Arc<AddOnOption>] {
        &self.options
    }
    pub fn option(&self, id: &OptionId) -> Option<&Arc<AddOnOption>> {
        self.option_index.get(id).and_then(|&i| self.options.get(i))
    }
    pub fn option_position(&self, id: &OptionId) -> Option<usize> {
        self.option_index.get(id).copied()
    }
}
