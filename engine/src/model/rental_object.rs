//! Rental objects (apartments) and their spaces.

use serde::{Deserialize, Serialize};

use super::{ModelError, PropertyId, RentalObjectId, SpaceId, text};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Space {
    pub id: SpaceId,
    /// What the tenant reads: "Kök", "Badrum".
    pub name: String,
}

/// An apartment. Its spaces decide which add-ons are possible for it (S6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RentalObjectRecord", into = "RentalObjectRecord")]
pub struct RentalObject {
    id: RentalObjectId,
    property: PropertyId,
    address: String,
    building_year: i32,
    rooms: u8,
    area_sqm: u32,
    spaces: Vec<Space>,
}

/// The plain form of a [`RentalObject`], for files, the store and builders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RentalObjectRecord {
    pub id: RentalObjectId,
    pub property: PropertyId,
    pub address: String,
    pub building_year: i32,
    pub rooms: u8,
    pub area_sqm: u32,
    pub spaces: Vec<Space>,
}

impl TryFrom<RentalObjectRecord> for RentalObject {
    type Error = ModelError;
    fn try_from(r: RentalObjectRecord) -> Result<Self, Self::Error> {
        if !(1600..=2200).contains(&r.building_year) {
            return Err(ModelError::OutOfRange {
                field: "building_year",
                value: i64::from(r.building_year),
            });
        }
        if r.rooms == 0 || r.rooms > 50 {
            return Err(ModelError::OutOfRange {
                field: "rooms",
                value: i64::from(r.rooms),
            });
        }
        if r.area_sqm == 0 || r.area_sqm > 10_000 {
            return Err(ModelError::OutOfRange {
                field: "area_sqm",
                value: i64::from(r.area_sqm),
            });
        }
        let mut spaces = r.spaces;
        for space in &mut spaces {
            space.name = text::required("space name", &space.name, 80)?;
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(dup) = spaces.iter().find(|s| !seen.insert(s.id.clone())) {
            return Err(ModelError::Duplicate {
                kind: "space",
                id: dup.id.to_string(),
            });
        }
        Ok(RentalObject {
            id: r.id,
            property: r.property,
            address: text::optional("address", &r.address, 200)?,
            building_year: r.building_year,
            rooms: r.rooms,
            area_sqm: r.area_sqm,
            spaces,
        })
    }
}

impl From<RentalObject> for RentalObjectRecord {
    fn from(o: RentalObject) -> Self {
        RentalObjectRecord {
            id: o.id,
            property: o.property,
            address: o.address,
            building_year: o.building_year,
            rooms: o.rooms,
            area_sqm: o.area_sqm,
            spaces: o.spaces,
        }
    }
}

impl RentalObject {
    pub fn id(&self) -> &RentalObjectId {
        &self.id
    }
    pub fn property(&self) -> &PropertyId {
        &self.property
    }
    pub fn address(&self) -> &str {
        &self.address
    }
    pub fn building_year(&self) -> i32 {
        self.building_year
    }
    pub fn rooms(&self) -> u8 {
        self.rooms
    }
    pub fn area_sqm(&self) -> u32 {
        self.area_sqm
    }
    pub fn spaces(&self) -> &[Space] {
        &self.spaces
    }
    pub fn has_space(&self, space: &SpaceId) -> bool {
        self.spaces.iter().any(|s| &s.id == space)
    }
    pub fn space(&self, space: &SpaceId) -> Option<&Space> {
        self.spaces.iter().find(|s| &s.id == space)
    }
}
