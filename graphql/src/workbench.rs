//! What the staff workbench reads besides the rules: who lives where (to pick a household),
//! a tenant's ledger account, the properties and a property's catalogue as stored. Staff
//! only; a tenant gets `FORBIDDEN` before a resolver runs.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Object, Result, SimpleObject};
use tillval_engine::model::{self, PropertyId, RentalObjectId, TenantId};
use tillval_services::Entity;

use crate::context::{StaffOnly, services};
use crate::errors::{error, not_found, to_graphql};
use crate::ids::{Kind, decode, encode};
use crate::types::{Fee, Money, Picture, UnitKind, language};

/// A tenant and one apartment they lease.
#[derive(Debug, Clone, SimpleObject)]
pub struct Household {
    /// The tenant.
    pub tenant_id: ID,
    /// The tenant's name.
    pub tenant_name: String,
    /// The apartment.
    pub rental_object_id: ID,
    /// Its address.
    pub address: String,
}

/// A tenant's account: the debt that closes the gate (S3) and the fees that block a key (S5).
#[derive(Debug, Clone, SimpleObject)]
pub struct LedgerAccount {
    /// The tenant.
    pub tenant_id: ID,
    /// The tenant's name.
    pub tenant_name: String,
    /// `null` when no debt was ever set; an amount of 0 when it was cleared.
    pub debt: Option<Money>,
    /// Every fee booked for the tenant, with what is paid.
    pub fees: Vec<Fee>,
}

/// A property (a building or an estate) whose catalogue staff keep.
#[derive(Debug, Clone, SimpleObject)]
pub struct Property {
    /// Opaque id.
    pub id: ID,
    /// Its name.
    pub name: String,
}

/// A category of a property's catalogue, as staff see it.
#[derive(Debug, Clone, SimpleObject)]
pub struct CatalogueCategory {
    /// Opaque id.
    pub id: ID,
    /// Its name.
    pub name: String,
    /// Its place in the list (lowest first).
    pub position: u32,
}

/// An option as stored, with what `catalogueOptionUpsert` takes to change it.
#[derive(Debug, Clone, SimpleObject)]
pub struct CatalogueEntry {
    /// The option's key within the property (`catalogueOptionUpsert`'s `handle`).
    pub handle: String,
    /// Opaque id.
    pub id: ID,
    /// Its category.
    pub category_id: ID,
    /// The space it goes in.
    pub space_id: ID,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// Its pictures.
    pub pictures: Vec<Picture>,
    /// What it adds to the monthly rent, per piece.
    pub monthly_price: Money,
    /// What it costs once, per piece.
    pub one_time_fee: Money,
    /// PIECE or SINGLE.
    pub unit: UnitKind,
    /// The most one order may hold.
    pub max_quantity: u32,
    /// Its place in its category (lowest first).
    pub position: u32,
}

/// A property's catalogue as stored: every option, decided for nobody.
#[derive(Debug, Clone, SimpleObject)]
pub struct PropertyCatalogue {
    /// The property.
    pub property_id: ID,
    /// The catalogue's currency (ISO 4217), e.g. "SEK".
    pub currency: String,
    /// Its categories, in order.
    pub categories: Vec<CatalogueCategory>,
    /// Every option, in order.
    pub options: Vec<CatalogueEntry>,
}

const HOUSEHOLD_CURSOR: &str = "households:";

fn household_cursor(tenant: &TenantId, object: &RentalObjectId) -> String {
    let pair = serde_json::json!([tenant.as_str(), object.as_str()]);
    format!("{HOUSEHOLD_CURSOR}{pair}")
}

fn parse_household_cursor(cursor: &str) -> Result<(TenantId, RentalObjectId)> {
    cursor
        .strip_prefix(HOUSEHOLD_CURSOR)
        .and_then(|pair| serde_json::from_str::<(String, String)>(pair).ok())
        .and_then(|(t, o)| Some((TenantId::parse(t).ok()?, RentalObjectId::parse(o).ok()?)))
        .ok_or_else(|| error("BAD_USER_INPUT", "after: not a cursor from this connection"))
}

fn tenant_id(id: &ID) -> Result<TenantId> {
    decode(Kind::Tenant, id)
        .and_then(|t| TenantId::parse(t).ok())
        .ok_or_else(|| not_found(Entity::Tenant))
}

fn entry(option: &model::AddOnOption, language: model::Language) -> CatalogueEntry {
    let unit = match option.unit() {
        model::Unit::Piece { .. } => UnitKind::Piece,
        model::Unit::Single => UnitKind::Single,
    };
    CatalogueEntry {
        handle: option.id().as_str().to_owned(),
        id: encode(Kind::AddOnOption, option.id().as_str()),
        category_id: encode(Kind::Category, option.category().as_str()),
        space_id: encode(Kind::Space, option.space().as_str()),
        name: option.name().to_owned(),
        description: option.description().to_owned(),
        pictures: option
            .pictures()
            .iter()
            .map(|p| Picture {
                thumbnail: p.thumbnail.clone(),
                large: p.large.clone(),
                alt: p.alt.clone(),
            })
            .collect(),
        monthly_price: Money::new(option.monthly_price(), language),
        one_time_fee: Money::new(option.one_time_fee(), language),
        unit,
        max_quantity: option.unit().max_quantity().get(),
        position: option.position(),
    }
}

#[derive(Debug, Default)]
pub struct WorkbenchQuery;

#[Object]
impl WorkbenchQuery {
    /// Staff: every household (a tenant and an apartment they lease) in id order, to pick
    /// one for the ledger, the decision log or an explanation. `first` is 1 to 100.
    #[graphql(guard = "StaffOnly")]
    async fn households(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many to return: 1 to 100 (20 when left out).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the page before, to get the next.")] after: Option<
            String,
        >,
    ) -> Result<Connection<String, Household>> {
        let after = after.as_deref().map(parse_household_cursor).transpose()?;
        let (page, has_next) = services(ctx)?
            .household_directory(after.as_ref(), i64::from(first.unwrap_or(50)))
            .await
            .map_err(to_graphql)?;
        let mut connection = Connection::new(after.is_some(), has_next);
        connection.edges.extend(page.into_iter().map(|h| {
            Edge::new(
                household_cursor(&h.tenant, &h.rental_object),
                Household {
                    tenant_id: encode(Kind::Tenant, h.tenant.as_str()),
                    tenant_name: h.tenant_name,
                    rental_object_id: encode(Kind::RentalObject, h.rental_object.as_str()),
                    address: h.address,
                },
            )
        }));
        Ok(connection)
    }

    /// Staff: a tenant's debt and fees (S3, S5).
    #[graphql(guard = "StaffOnly")]
    async fn ledger_account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The tenant, as an id from `households`.")] tenant_id: ID,
    ) -> Result<LedgerAccount> {
        let tenant = self::tenant_id(&tenant_id)?;
        let account = services(ctx)?
            .ledger_account(&tenant)
            .await
            .map_err(to_graphql)?;
        let language = language(ctx);
        Ok(LedgerAccount {
            tenant_id: encode(Kind::Tenant, account.tenant.id.as_str()),
            tenant_name: account.tenant.name,
            debt: account.debt.map(|d| Money::new(d, language)),
            fees: account.fees.iter().map(|f| Fee::new(f, language)).collect(),
        })
    }

    /// Staff: every property, by id.
    #[graphql(guard = "StaffOnly")]
    async fn properties(&self, ctx: &Context<'_>) -> Result<Vec<Property>> {
        let properties = services(ctx)?.properties().await.map_err(to_graphql)?;
        Ok(properties
            .into_iter()
            .map(|p| Property {
                id: encode(Kind::Property, p.id.as_str()),
                name: p.name,
            })
            .collect())
    }

    /// Staff: a property's catalogue as stored, every option in its order, to edit with
    /// `catalogueOptionUpsert`.
    #[graphql(guard = "StaffOnly")]
    async fn property_catalogue(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The property, as an id from `properties`.")] property_id: ID,
    ) -> Result<PropertyCatalogue> {
        let property = decode(Kind::Property, &property_id)
            .and_then(|p| PropertyId::parse(p).ok())
            .ok_or_else(|| not_found(Entity::Property))?;
        let catalogue = services(ctx)?
            .catalogue_for_staff(&property)
            .await
            .map_err(to_graphql)?;
        let language = language(ctx);
        Ok(PropertyCatalogue {
            property_id: encode(Kind::Property, catalogue.property().as_str()),
            currency: catalogue.currency().code().to_owned(),
            categories: catalogue
                .categories()
                .iter()
                .map(|c| CatalogueCategory {
                    id: encode(Kind::Category, c.id.as_str()),
                    name: c.name.clone(),
                    position: c.position,
                })
                .collect(),
            options: catalogue
                .options()
                .iter()
                .map(|o| entry(o, language))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_household_cursor_reads_back_and_anything_else_is_refused() {
        let (Ok(tenant), Ok(object)) = (TenantId::parse("t-1"), RentalObjectId::parse("ro-2"))
        else {
            panic!("test ids parse");
        };
        let cursor = household_cursor(&tenant, &object);
        assert_eq!(parse_household_cursor(&cursor).ok(), Some((tenant, object)));
        for bad in [
            "",
            "households:",
            "households:[\"t-1\"]",
            "households:[\"t 1\",\"ro-2\"]",
            "cases:12",
            "households:{\"a\":1}",
        ] {
            assert!(parse_household_cursor(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
