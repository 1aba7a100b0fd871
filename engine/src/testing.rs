//! Proptest strategies for catalogues, facts and carts, for this crate's suites and for anyone
//! embedding the engine (`features = ["testing"]`).
//!
//! Ids come from small pools so that generated inputs collide: options share categories and
//! spaces, facts name keys the catalogue really has, carts hold options of the catalogue.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use proptest::collection::{btree_set, vec};
use proptest::prelude::*;

use crate::model::{
    AddOnOption, AddOnOptionRecord, Cart, CartLine, Catalogue, CatalogueRecord, Category,
    CategoryId, Currency, LockKey, Money, OngoingOrder, OptionId, Picture, PropertyId, Quantity,
    RentalObject, RentalObjectId, RentalObjectRecord, Space, SpaceId, TenantFacts, TenantId, Unit,
};

pub const SPACES: [&str; 8] = [
    "kitchen", "bathroom", "hall", "bedroom", "living", "balcony", "laundry", "storage",
];
pub const CATEGORIES: [&str; 8] = [
    "diskmaskin",
    "tvattmaskin",
    "torktumlare",
    "golv",
    "kakel",
    "belysning",
    "forvaring",
    "spis",
];

/// Every pool above is made of plain ids, so this is `Some` for all the strategies' inputs.
fn id<T: TryFrom<String>>(text: &str) -> Option<T> {
    T::try_from(text.to_owned()).ok()
}

fn sek(minor: i64) -> Money {
    Money::from_minor(minor.max(0), Currency::SEK).unwrap_or(Money::zero(Currency::SEK))
}

/// An apartment with a random non-empty subset of [`SPACES`].
pub fn arb_rental_object() -> impl Strategy<Value = RentalObject> {
    (
        btree_set(0..SPACES.len(), 1..=SPACES.len()),
        1900..2026i32,
        1..7u8,
        20..160u32,
        0..1000u32,
    )
        .prop_filter_map("valid apartment", |(spaces, year, rooms, area, n)| {
            let spaces = spaces
                .into_iter()
                .filter_map(|i| SPACES.get(i))
                .filter_map(|s| {
                    Some(Space {
                        id: id::<SpaceId>(s)?,
                        name: s.to_string(),
                    })
                })
                .collect();
            RentalObject::try_from(RentalObjectRecord {
                id: id::<RentalObjectId>(&format!("lgh-{n}"))?,
                property: id::<PropertyId>("prop-1")?,
                address: format!("Storgatan {n}"),
                building_year: year,
                rooms,
                area_sqm: area,
                spaces,
            })
            .ok()
        })
}

fn arb_unit() -> impl Strategy<Value = Unit> {
    prop_oneof![
        3 => Just(Unit::Single),
        1 => (1..=10i64).prop_map(|max| Unit::Piece { max: Quantity::new(max).unwrap_or(Quantity::ONE) }),
    ]
}

/// A catalogue of up to `max_options` options over [`CATEGORIES`] and [`SPACES`].
pub fn arb_catalogue(max_options: usize) -> impl Strategy<Value = Catalogue> {
    let option = (
        0..CATEGORIES.len(),
        0..SPACES.len(),
        0..50_000i64,
        0..500_000i64,
        arb_unit(),
        0..5u32,
    );
    vec(option, 0..=max_options).prop_filter_map("valid catalogue", |options| {
        let categories = CATEGORIES
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                Some(Category {
                    id: id::<CategoryId>(c)?,
                    name: c.to_string(),
                    position: (i % 3) as u32,
                })
            })
            .collect();
        let options = options
            .into_iter()
            .enumerate()
            .filter_map(|(n, (c, s, monthly, fee, unit, position))| {
                let category = CATEGORIES.get(c)?;
                let space = SPACES.get(s)?;
                AddOnOption::try_from(AddOnOptionRecord {
                    id: id::<OptionId>(&format!("opt-{n}"))?,
                    category: id::<CategoryId>(category)?,
                    space: id::<SpaceId>(space)?,
                    name: format!("{category} {n}"),
                    description: String::new(),
                    pictures: vec![Picture {
                        thumbnail: format!("/p/{n}-s.png"),
                        large: format!("/p/{n}.png"),
                        alt: String::new(),
                    }],
                    monthly_price: sek(monthly),
                    one_time_fee: sek(fee),
                    unit,
                    position,
                })
                .ok()
            })
            .collect();
        Catalogue::try_from(CatalogueRecord {
            property: id::<PropertyId>("prop-1")?,
            currency: Currency::SEK,
            categories,
            options,
        })
        .ok()
    })
}

/// Every key the shipped rules can give: category/space over the pools.
pub fn all_default_keys() -> Vec<LockKey> {
    CATEGORIES
        .iter()
        .flat_map(|c| SPACES.iter().map(move |s| format!("{c}/{s}")))
        .filter_map(|k| LockKey::parse(k).ok())
        .collect()
}

/// Facts for `object`: mostly no debt and ordering on, some ongoing orders and unpaid fees
/// on keys drawn from [`all_default_keys`].
pub fn arb_facts(object: RentalObject) -> impl Strategy<Value = TenantFacts> {
    let keys = all_default_keys();
    let key_count = keys.len();
    let object = Arc::new(object);
    (
        prop::bool::weighted(0.9),
        prop_oneof![4 => Just(0i64), 1 => 1..1_000_000i64],
        btree_set(0..key_count, 0..6),
        btree_set(0..key_count, 0..6),
        0..100_000i64,
        2020..2031i32,
        1..=12u32,
    )
        .prop_filter_map(
            "valid facts",
            move |(enabled, debt, ongoing, unpaid, active, year, month)| {
                let ongoing_orders: BTreeMap<LockKey, OngoingOrder> = ongoing
                    .into_iter()
                    .filter_map(|i| keys.get(i).cloned())
                    .enumerate()
                    .map(|(n, key)| {
                        (
                            key,
                            OngoingOrder {
                                case_number: format!("TV-{year}-{:06}", n + 1),
                            },
                        )
                    })
                    .collect();
                let unpaid_fees: BTreeMap<LockKey, Money> = unpaid
                    .into_iter()
                    .filter_map(|i| keys.get(i).cloned())
                    .map(|key| (key, sek(100 + i64::from(month) * 1000)))
                    .collect();
                Some(TenantFacts {
                    tenant: id::<TenantId>("tenant-1")?,
                    rental_object: Arc::clone(&object),
                    ordering_enabled: enabled,
                    debt: sek(debt),
                    ongoing_orders,
                    unpaid_fees,
                    active_monthly_total: sek(active),
                    co_tenants: Vec::new(),
                    today: NaiveDate::from_ymd_opt(year, month, 1)?,
                })
            },
        )
}

/// A cart of options of `catalogue`, with quantities their units allow. Lines may share a lock
/// key: a cart from before a rule change can, and the engine must still answer.
pub fn arb_cart(
    catalogue: &Catalogue,
    object: &RentalObjectId,
) -> impl Strategy<Value = Cart> + use<> {
    let options: Vec<(OptionId, u32)> = catalogue
        .options()
        .iter()
        .map(|o| (o.id().clone(), o.unit().max_quantity().get()))
        .collect();
    let object = object.clone();
    let count = options.len();
    btree_set(0..count.max(1), 0..=count.min(4)).prop_filter_map("valid cart", move |picked| {
        let lines = picked
            .into_iter()
            .filter_map(|i| options.get(i))
            .map(|(option, max)| CartLine {
                option: option.clone(),
                quantity: Quantity::new(i64::from((*max).min(2))).unwrap_or(Quantity::ONE),
            })
            .collect();
        Cart::with_lines(id::<TenantId>("tenant-1")?, object.clone(), lines).ok()
    })
}

/// One coherent decision input.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub catalogue: Catalogue,
    pub facts: TenantFacts,
    pub cart: Cart,
}

pub fn arb_scenario(max_options: usize) -> impl Strategy<Value = Scenario> {
    (arb_catalogue(max_options), arb_rental_object()).prop_flat_map(|(catalogue, object)| {
        let cart = arb_cart(&catalogue, object.id());
        (Just(catalogue), arb_facts(object), cart).prop_map(|(catalogue, facts, cart)| Scenario {
            catalogue,
            facts,
            cart,
        })
    })
}
