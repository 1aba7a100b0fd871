//! Benchmark fixtures: a catalogue of N options over 20 categories and 8 spaces, an apartment
//! with all 8 spaces, a tenant with 10 ongoing orders and 5 unpaid fees, and 3 cart lines.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod floor;
pub mod import_file;
pub mod scale_fixture;
pub mod server_process;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use tillval_engine::model::*;

pub const CATEGORIES: usize = 20;
pub const SPACES: [&str; 8] = [
    "kitchen", "bathroom", "hall", "bedroom", "living", "balcony", "laundry", "storage",
];

fn sek(ore: i64) -> Money {
    Money::from_minor(ore, Currency::SEK).unwrap()
}

pub fn catalogue(options: usize) -> Catalogue {
    let categories = (0..CATEGORIES)
        .map(|c| Category {
            id: CategoryId::parse(format!("cat-{c:02}")).unwrap(),
            name: format!("Kategori {c}"),
            position: c as u32,
        })
        .collect();
    let options = (0..options)
        .map(|n| {
            let unit = if n % 5 == 0 {
                Unit::Piece {
                    max: Quantity::new(6).unwrap(),
                }
            } else {
                Unit::Single
            };
            AddOnOption::try_from(AddOnOptionRecord {
                id: OptionId::parse(format!("opt-{n:05}")).unwrap(),
                category: CategoryId::parse(format!("cat-{:02}", n % CATEGORIES)).unwrap(),
                space: SpaceId::parse(SPACES[(n / CATEGORIES) % SPACES.len()]).unwrap(),
                name: format!("Tillval {n}"),
                description: "Ett tillval att ha med i hyran.".into(),
                pictures: vec![Picture {
                    thumbnail: format!("/p/{n}-s.png"),
                    large: format!("/p/{n}.png"),
                    alt: String::new(),
                }],
                monthly_price: sek(1_000 + (n as i64 % 97) * 100),
                one_time_fee: sek((n as i64 % 7) * 10_000),
                unit,
                position: (n % 13) as u32,
            })
            .unwrap()
        })
        .collect();
    Catalogue::try_from(CatalogueRecord {
        property: PropertyId::parse("prop-bench").unwrap(),
        currency: Currency::SEK,
        categories,
        options,
    })
    .unwrap()
}

pub fn apartment() -> RentalObject {
    RentalObject::try_from(RentalObjectRecord {
        id: RentalObjectId::parse("lgh-bench").unwrap(),
        property: PropertyId::parse("prop-bench").unwrap(),
        address: "Bänkgatan 1".into(),
        building_year: 1972,
        rooms: 4,
        area_sqm: 96,
        spaces: SPACES
            .iter()
            .map(|s| Space {
                id: SpaceId::parse(s).unwrap(),
                name: s.to_string(),
            })
            .collect(),
    })
    .unwrap()
}

fn key(category: usize, space: usize) -> LockKey {
    LockKey::parse(format!("cat-{category:02}/{}", SPACES[space])).unwrap()
}

/// 10 ongoing orders and 5 unpaid fees, on keys the catalogue has.
pub fn facts() -> TenantFacts {
    let ongoing_orders: BTreeMap<LockKey, OngoingOrder> = (0..10)
        .map(|i| {
            (
                key(i * 2, i % 8),
                OngoingOrder {
                    case_number: format!("TV-2026-{i:06}"),
                },
            )
        })
        .collect();
    let unpaid_fees: BTreeMap<LockKey, Money> = (0..5)
        .map(|i| (key(i * 3 + 1, (i + 3) % 8), sek(25_000)))
        .collect();
    TenantFacts {
        tenant: TenantId::parse("tenant-bench").unwrap(),
        rental_object: Arc::new(apartment()),
        ordering_enabled: true,
        debt: Money::zero(Currency::SEK),
        ongoing_orders,
        unpaid_fees,
        active_monthly_total: sek(5_000),
        co_tenants: Vec::new(),
        today: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
    }
}

/// Three lines on three keys none of the facts block.
pub fn cart(catalogue: &Catalogue) -> Cart {
    let lines = [5usize, 41, 77]
        .iter()
        .filter_map(|&i| {
            catalogue
                .options()
                .get(i % catalogue.options().len().max(1))
        })
        .map(|o| CartLine {
            option: o.id().clone(),
            quantity: Quantity::ONE,
        })
        .collect();
    Cart::with_lines(
        TenantId::parse("tenant-bench").unwrap(),
        RentalObjectId::parse("lgh-bench").unwrap(),
        lines,
    )
    .unwrap()
}

/// The repository's rules/ folder.
pub fn rules_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("rules")
}

/// `count` copies of the demo's first apartment (`{tag}-{i}`), each leased by a tenant of its
/// own (`{tag}-t{i}`), with `in_cart` in each cart if given: orders that conflict with nothing.
pub async fn demo_apartments<S: tillval_services::store::Store>(
    services: &tillval_services::service::Services<S>,
    tag: &str,
    count: usize,
    in_cart: Option<&OptionId>,
) -> Result<Vec<(TenantId, RentalObjectId)>, Box<dyn std::error::Error + Send + Sync>> {
    let template = tillval_services::demo::demo(chrono::Utc::now().date_naive())?
        .rental_objects
        .first()
        .ok_or("the demo has apartments")?
        .clone();
    let store = services.store();
    let mut pairs = Vec::with_capacity(count);
    for i in 0..count {
        let object = RentalObjectId::parse(format!("{tag}-{i}"))?;
        let record = RentalObjectRecord {
            id: object.clone(),
            ..RentalObjectRecord::from(template.clone())
        };
        store
            .put_rental_object(&RentalObject::try_from(record)?, "Kv. Ekbacken")
            .await?;
        let tenant = TenantId::parse(format!("{tag}-t{i}"))?;
        store
            .put_tenant(&tillval_services::store::TenantRecord {
                id: tenant.clone(),
                name: "Bänk".into(),
                ordering_enabled: true,
            })
            .await?;
        store.put_lease(&tenant, &object).await?;
        if let Some(option) = in_cart {
            services.cart_add(&tenant, &object, option, 1).await?;
        }
        pairs.push((tenant, object));
    }
    Ok(pairs)
}
