//! Demo data: a Swedish landlord with two properties, a dozen apartments, a catalogue per
//! property, and tenants that show every case of the seed (free to order, a debt, an ongoing
//! order, an unpaid fee, a piece-unit add-on). Used by the run command and by tests.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::Serialize;

use tillval_engine::model::{
    AddOnOption, AddOnOptionRecord, Cart, CartLine, Catalogue, CatalogueRecord, Category,
    CategoryId, Currency, LockKey, ModelError, Money, OngoingOrder, OptionId, Picture, PropertyId,
    Quantity, RentalObject, RentalObjectId, RentalObjectRecord, Space, SpaceId, TenantFacts,
    TenantId, Unit,
};

/// Which seed case a demo tenant shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeedCase {
    Free,
    Debt,
    OngoingOrder,
    UnpaidFee,
    PieceUnit,
}

/// A demo tenant: who, where, and what facts the rules will see.
#[derive(Debug, Clone)]
pub struct DemoTenant {
    pub id: TenantId,
    pub name: String,
    pub case: SeedCase,
    pub facts: TenantFacts,
    pub cart: Cart,
}

#[derive(Debug, Clone)]
pub struct Demo {
    pub catalogues: Vec<Catalogue>,
    pub rental_objects: Vec<RentalObject>,
    pub tenants: Vec<DemoTenant>,
}

fn sek(kronor: i64) -> Result<Money, ModelError> {
    Money::from_minor(kronor * 100, Currency::SEK)
}

/// (category, name, spaces it is offered in)
const CATEGORIES: [(&str, &str, &[&str]); 7] = [
    ("diskmaskin", "Diskmaskin", &["kitchen"]),
    ("tvattmaskin", "Tvättmaskin", &["bathroom"]),
    ("torktumlare", "Torktumlare", &["bathroom"]),
    ("golv", "Golv", &["hall", "kitchen", "bedroom"]),
    ("kakel", "Kakel", &["bathroom", "kitchen"]),
    ("belysning", "Belysning", &["kitchen", "hall"]),
    ("forvaring", "Förvaring", &["hall", "bedroom"]),
];

/// (category, option id stem, name, description, monthly kr, one-time fee kr, piece max)
type OptionRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i64,
    i64,
    Option<i64>,
);
const OPTIONS: [OptionRow; 24] = [
    (
        "diskmaskin",
        "dm-bosch-serie4",
        "Bosch Serie 4, 60 cm",
        "Tyst diskmaskin, 46 dB, energiklass D.",
        99,
        0,
        None,
    ),
    (
        "diskmaskin",
        "dm-electrolux-700",
        "Electrolux 700, 60 cm",
        "Diskmaskin med QuickSelect, 44 dB.",
        119,
        0,
        None,
    ),
    (
        "diskmaskin",
        "dm-siemens-iq300",
        "Siemens iQ300, 45 cm",
        "Smal diskmaskin för mindre kök.",
        89,
        0,
        None,
    ),
    (
        "diskmaskin",
        "dm-miele-g5000",
        "Miele G 5000, 60 cm",
        "Bestickslåda och AutoDos, 43 dB.",
        159,
        500,
        None,
    ),
    (
        "tvattmaskin",
        "tm-electrolux-600",
        "Electrolux 600, 8 kg",
        "Tvättmaskin med ånga, 1400 varv.",
        129,
        0,
        None,
    ),
    (
        "tvattmaskin",
        "tm-bosch-serie6",
        "Bosch Serie 6, 9 kg",
        "i-DOS automatisk dosering.",
        149,
        0,
        None,
    ),
    (
        "tvattmaskin",
        "tm-miele-w1",
        "Miele W1, 8 kg",
        "TwinDos, 1400 varv.",
        189,
        500,
        None,
    ),
    (
        "torktumlare",
        "tt-electrolux-700",
        "Electrolux 700 värmepump",
        "Torktumlare med värmepump, 8 kg.",
        119,
        0,
        None,
    ),
    (
        "torktumlare",
        "tt-bosch-serie6",
        "Bosch Serie 6 värmepump",
        "Självrengörande kondensor.",
        139,
        0,
        None,
    ),
    (
        "torktumlare",
        "tt-miele-t1",
        "Miele T1 värmepump",
        "Doftflaska och ånga.",
        179,
        500,
        None,
    ),
    (
        "golv",
        "golv-ek-3stav",
        "Ekparkett, 3-stav",
        "Mattlackad ekparkett.",
        149,
        2500,
        None,
    ),
    (
        "golv",
        "golv-ek-1stav",
        "Ekparkett, 1-stav",
        "Ljus vitoljad ek, 1-stav.",
        189,
        2500,
        None,
    ),
    (
        "golv",
        "golv-klinker-gra",
        "Klinker, grå",
        "Grå klinker 30×60.",
        129,
        3000,
        None,
    ),
    (
        "golv",
        "golv-vinyl-ek",
        "Vinylgolv, ekmönster",
        "Tåligt och tyst vinylgolv.",
        79,
        1500,
        None,
    ),
    (
        "kakel",
        "kakel-vitt-blank",
        "Vitt kakel, blankt",
        "Klassiskt vitt kakel 15×15.",
        99,
        2000,
        None,
    ),
    (
        "kakel",
        "kakel-gront-metro",
        "Grönt metrokakel",
        "Metrokakel 7,5×15 i grönt.",
        119,
        2000,
        None,
    ),
    (
        "kakel",
        "kakel-gra-matt",
        "Grått kakel, matt",
        "Storformat 30×60 i grått.",
        109,
        2000,
        None,
    ),
    (
        "belysning",
        "bel-spotlight",
        "Spotlight, infälld",
        "LED-spotlight, dimbar. Pris per styck.",
        15,
        200,
        Some(8),
    ),
    (
        "belysning",
        "bel-bankbelysning",
        "Bänkbelysning LED",
        "LED-list under överskåp. Pris per meter.",
        25,
        300,
        Some(4),
    ),
    (
        "belysning",
        "bel-taklampa",
        "Taklampa, opal",
        "Plafond i opalglas.",
        35,
        300,
        None,
    ),
    (
        "forvaring",
        "forv-garderob-60",
        "Garderob 60 cm",
        "Garderob med hyllor och klädstång. Pris per styck.",
        45,
        500,
        Some(4),
    ),
    (
        "forvaring",
        "forv-skohylla",
        "Skohylla",
        "Skohylla för hallen.",
        15,
        0,
        None,
    ),
    (
        "forvaring",
        "forv-hatthylla",
        "Hatthylla med krokar",
        "Hatthylla i ek.",
        19,
        0,
        None,
    ),
    (
        "forvaring",
        "forv-skjutdorr",
        "Skjutdörrsgarderob",
        "Skjutdörrar med spegel, 120 cm.",
        89,
        1500,
        None,
    ),
];

fn catalogue(property: &PropertyId, price_adjust_kr: i64) -> Result<Catalogue, ModelError> {
    let categories = CATEGORIES
        .iter()
        .enumerate()
        .map(|(i, (id, name, _))| {
            Ok(Category {
                id: CategoryId::parse(id)?,
                name: (*name).to_owned(),
                position: i as u32,
            })
        })
        .collect::<Result<Vec<_>, ModelError>>()?;
    let mut options = Vec::new();
    for (position, (category, stem, name, description, monthly, fee, piece)) in
        OPTIONS.iter().enumerate()
    {
        let spaces = CATEGORIES
            .iter()
            .find(|(c, _, _)| c == category)
            .map(|(_, _, s)| *s)
            .unwrap_or(&[]);
        for space in spaces {
            let id = if spaces.len() == 1 {
                (*stem).to_owned()
            } else {
                format!("{stem}-{space}")
            };
            let unit = match piece {
                Some(max) => Unit::Piece {
                    max: Quantity::new(*max)?,
                },
                None => Unit::Single,
            };
            options.push(AddOnOption::try_from(AddOnOptionRecord {
                pictures: vec![
                    Picture {
                        thumbnail: format!("/pictures/{stem}-1-thumb.svg"),
                        large: format!("/pictures/{stem}-1.svg"),
                        alt: (*name).to_owned(),
                    },
                    Picture {
                        thumbnail: format!("/pictures/{stem}-2-thumb.svg"),
                        large: format!("/pictures/{stem}-2.svg"),
                        alt: format!("{name}, detalj"),
                    },
                ],
                id: OptionId::parse(&id)?,
                category: CategoryId::parse(category)?,
                space: SpaceId::parse(space)?,
                name: (*name).to_owned(),
                description: (*description).to_owned(),
                monthly_price: sek(monthly + price_adjust_kr)?,
                one_time_fee: sek(*fee)?,
                unit,
                position: position as u32,
            })?);
        }
    }
    Catalogue::try_from(CatalogueRecord {
        property: property.clone(),
        currency: Currency::SEK,
        categories,
        options,
    })
}

fn space(id: &str) -> Result<Space, ModelError> {
    let name = match id {
        "kitchen" => "Kök",
        "bathroom" => "Badrum",
        "hall" => "Hall",
        "bedroom" => "Sovrum",
        other => other,
    };
    Ok(Space {
        id: SpaceId::parse(id)?,
        name: name.to_owned(),
    })
}

fn apartments() -> Result<Vec<RentalObject>, ModelError> {
    // (id, property, street, year, rooms, m², has a bedroom)
    let rows = [
        ("lgh-1001", "ekbacken", "Ekbacksvägen 3", 1962, 2, 58, true),
        ("lgh-1002", "ekbacken", "Ekbacksvägen 3", 1962, 3, 74, true),
        ("lgh-1003", "ekbacken", "Ekbacksvägen 3", 1962, 1, 36, false),
        ("lgh-1004", "ekbacken", "Ekbacksvägen 5", 1962, 4, 92, true),
        ("lgh-1005", "ekbacken", "Ekbacksvägen 5", 1962, 2, 61, true),
        ("lgh-1006", "ekbacken", "Ekbacksvägen 5", 1962, 3, 78, true),
        ("lgh-2001", "lonnen", "Lönngatan 12", 2004, 2, 55, true),
        ("lgh-2002", "lonnen", "Lönngatan 12", 2004, 3, 71, true),
        ("lgh-2003", "lonnen", "Lönngatan 12", 2004, 1, 34, false),
        ("lgh-2004", "lonnen", "Lönngatan 14", 2004, 5, 112, true),
        ("lgh-2005", "lonnen", "Lönngatan 14", 2004, 2, 57, true),
        ("lgh-2006", "lonnen", "Lönngatan 14", 2004, 3, 80, true),
    ];
    rows.iter()
        .map(|(id, property, street, year, rooms, area, bedroom)| {
            let mut spaces = vec![space("kitchen")?, space("bathroom")?, space("hall")?];
            if *bedroom {
                spaces.push(space("bedroom")?);
            }
            RentalObject::try_from(RentalObjectRecord {
                id: RentalObjectId::parse(id)?,
                property: PropertyId::parse(property)?,
                address: format!("{street}, lgh {}", id.trim_start_matches("lgh-")),
                building_year: *year,
                rooms: *rooms,
                area_sqm: *area,
                spaces,
            })
        })
        .collect()
}

/// The demo landlord, as of `today`.
pub fn demo(today: NaiveDate) -> Result<Demo, ModelError> {
    let ekbacken = PropertyId::parse("ekbacken")?;
    let lonnen = PropertyId::parse("lonnen")?;
    let catalogues = vec![catalogue(&ekbacken, 0)?, catalogue(&lonnen, 10)?];
    let rental_objects = apartments()?;
    let object = |id: &str| -> Result<Arc<RentalObject>, ModelError> {
        rental_objects
            .iter()
            .find(|o| o.id().as_str() == id)
            .cloned()
            .map(Arc::new)
            .ok_or_else(|| ModelError::UnknownReference {
                kind: "rental object",
                id: id.into(),
                from: "demo".into(),
            })
    };
    let tenant =
        |id: &str, name: &str, case: SeedCase, apartment: &str| -> Result<DemoTenant, ModelError> {
            let tenant_id = TenantId::parse(id)?;
            let rental_object = object(apartment)?;
            Ok(DemoTenant {
                id: tenant_id.clone(),
                name: name.to_owned(),
                case,
                cart: Cart::empty(tenant_id.clone(), rental_object.id().clone()),
                facts: TenantFacts {
                    tenant: tenant_id,
                    rental_object,
                    ordering_enabled: true,
                    debt: Money::zero(Currency::SEK),
                    ongoing_orders: BTreeMap::new(),
                    unpaid_fees: BTreeMap::new(),
                    active_monthly_total: Money::zero(Currency::SEK),
                    co_tenants: Vec::new(),
                    today,
                },
            })
        };
    let free = tenant("anna-svensson", "Anna Svensson", SeedCase::Free, "lgh-1002")?;
    let mut debt = tenant("bertil-lind", "Bertil Lind", SeedCase::Debt, "lgh-1004")?;
    debt.facts.debt = sek(1_850)?;
    let mut ongoing = tenant(
        "cecilia-holm",
        "Cecilia Holm",
        SeedCase::OngoingOrder,
        "lgh-2002",
    )?;
    ongoing.facts.ongoing_orders.insert(
        LockKey::parse("diskmaskin/kitchen")?,
        OngoingOrder {
            case_number: "TV-2026-000017".into(),
        },
    );
    ongoing.facts.active_monthly_total = sek(99)?;
    let mut unpaid = tenant("david-ek", "David Ek", SeedCase::UnpaidFee, "lgh-1006")?;
    unpaid
        .facts
        .unpaid_fees
        .insert(LockKey::parse("golv/hall")?, sek(1_250)?);
    unpaid.facts.active_monthly_total = sek(149)?;
    let mut piece = tenant(
        "eva-nilsson",
        "Eva Nilsson",
        SeedCase::PieceUnit,
        "lgh-2004",
    )?;
    piece.cart.push(CartLine {
        option: OptionId::parse("bel-spotlight-kitchen")?,
        quantity: Quantity::new(4)?,
    })?;
    Ok(Demo {
        catalogues,
        rental_objects,
        tenants: vec![free, debt, ongoing, unpaid, piece],
    })
}

mod loading {
    use chrono::{TimeZone, Utc};

    use super::{Demo, SeedCase};
    use crate::case::CaseStatus;
    use crate::order::{IdempotencyKey, SubmitRequest, Terms};
    use crate::service::{ServiceError, Services};
    use crate::store::{Store, TenantRecord};
    use tillval_engine::model::{Currency, OptionId, RentalObjectId, TenantId};

    pub const TERMS_SV: &str = "Tillval debiteras månadsvis på hyran från installationen. En engångsavgift \
        betalas efter installationen. Tillvalet tillhör lägenheten och lämnas kvar vid avflyttning.";
    pub const TERMS_EN: &str = "Add-ons are charged monthly on the rent from installation. A one-time fee is \
        paid after installation. The add-on belongs to the apartment and stays when you move out.";

    /// Loads the demo landlord into the store through the services, so its cases and fees are
    /// real ones. Idempotent: the demo's orders carry fixed idempotency keys, and what exists
    /// is not made again.
    pub async fn load_demo<S: Store>(
        services: &Services<S>,
        demo: &Demo,
    ) -> Result<(), ServiceError> {
        let store = services.store();
        for object in &demo.rental_objects {
            let name = match object.property().as_str() {
                "ekbacken" => "Kv. Ekbacken",
                "lonnen" => "Kv. Lönnen",
                other => other,
            };
            store.put_rental_object(object, name).await?;
        }
        for catalogue in &demo.catalogues {
            store.put_catalogue(catalogue).await?;
        }
        let published = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default();
        store
            .put_terms(&Terms {
                version: 1,
                text_sv: TERMS_SV.into(),
                text_en: TERMS_EN.into(),
                published_at: published,
            })
            .await?;
        for tenant in &demo.tenants {
            store
                .put_tenant(&TenantRecord {
                    id: tenant.id.clone(),
                    name: tenant.name.clone(),
                    ordering_enabled: true,
                })
                .await?;
            store
                .put_lease(&tenant.id, tenant.facts.rental_object.id())
                .await?;
        }
        services.catalogues().invalidate_all();
        for tenant in &demo.tenants {
            let object = tenant.facts.rental_object.id();
            match tenant.case {
                SeedCase::Free => {}
                SeedCase::Debt => {
                    services
                        .ledger_set_debt(&tenant.id, tenant.facts.debt.minor(), Currency::SEK)
                        .await?
                }
                SeedCase::OngoingOrder => {
                    let case = order_once(
                        services,
                        &tenant.id,
                        object,
                        "dm-bosch-serie4",
                        "demo-ongoing-order",
                    )
                    .await?;
                    if let Some((number, CaseStatus::Submitted)) = case {
                        services
                            .case_transition(&number, CaseStatus::UnderReview)
                            .await?;
                    }
                }
                SeedCase::UnpaidFee => {
                    let case = order_once(
                        services,
                        &tenant.id,
                        object,
                        "golv-ek-3stav-hall",
                        "demo-unpaid-fee",
                    )
                    .await?;
                    if let Some((number, CaseStatus::Submitted)) = case {
                        for to in [
                            CaseStatus::UnderReview,
                            CaseStatus::Approved,
                            CaseStatus::Scheduled,
                            CaseStatus::Installed,
                        ] {
                            services.case_transition(&number, to).await?;
                        }
                        // Half the 2,500 kr fee paid.
                        if let Some(fee) = services.ledger_fees(&tenant.id).await?.first() {
                            services
                                .ledger_record_payment(fee.id, 125_000, Currency::SEK)
                                .await?;
                        }
                    }
                }
                SeedCase::PieceUnit => {
                    let cart = services.cart(&tenant.id, object).await?;
                    if cart.lines.is_empty() {
                        for line in tenant.cart.lines() {
                            let added = services
                                .cart_add(
                                    &tenant.id,
                                    object,
                                    &line.option,
                                    i64::from(line.quantity.get()),
                                )
                                .await;
                            unless_used(added, &tenant.id)?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Orders one option with a fixed key, unless that key was used: the case number and the
    /// status it had when new (`None` when it existed before).
    async fn order_once<S: Store>(
        services: &Services<S>,
        tenant: &TenantId,
        object: &RentalObjectId,
        option: &str,
        key: &str,
    ) -> Result<Option<(crate::case::CaseNumber, CaseStatus)>, ServiceError> {
        let key = IdempotencyKey::parse(key)
            .map_err(ServiceError::invalid(crate::Input::IdempotencyKey))?;
        if services
            .store()
            .case_by_idempotency_key(tenant, &key)
            .await?
            .is_some()
        {
            return Ok(None);
        }
        let option =
            OptionId::parse(option).map_err(ServiceError::invalid(crate::Input::Option))?;
        services.cart_clear(tenant, object).await?;
        if unless_used(services.cart_add(tenant, object, &option, 1).await, tenant)?.is_none() {
            return Ok(None);
        }
        let terms = services.terms().await?;
        let request = SubmitRequest {
            accept_terms: true,
            terms_version: terms.version,
            idempotency_key: key,
        };
        let submitted = services.checkout_submit(tenant, object, &request).await;
        Ok(unless_used(submitted, tenant)?.map(|s| (s.case.number, s.case.status)))
    }

    /// The demo's own orders and cart lines meet what people did with the demo since it was
    /// first loaded (an order on the same key, a debt set by staff): then the rules refuse
    /// them, and the demo leaves that tenant as it is rather than refuse to start.
    fn unless_used<T>(
        result: Result<T, ServiceError>,
        tenant: &TenantId,
    ) -> Result<Option<T>, ServiceError> {
        match result {
            Ok(value) => Ok(Some(value)),
            Err(ServiceError::Refused(refusal)) => {
                tracing::info!(%tenant, code = refusal.code.as_str(), "demo tenant left as used");
                Ok(None)
            }
            Err(other) => Err(other),
        }
    }
}

pub use loading::{TERMS_EN, TERMS_SV, load_demo};
