//! Fixtures shared by the cross-crate tests: a small, readable catalogue in the seed's terms.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod candidates;
pub mod outbox;
pub mod reference;
pub mod test_database;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use tillval_engine::availability::{CatalogueView, catalogue_view};
use tillval_engine::catalogue::PreparedCatalogue;
use tillval_engine::model::*;
use tillval_engine::rules::RuleSet;

pub fn sek(kronor: i64) -> Money {
    Money::from_minor(kronor * 100, Currency::SEK).unwrap()
}

pub fn option(
    id: &str,
    category: &str,
    space: &str,
    monthly_kr: i64,
    fee_kr: i64,
    unit: Unit,
) -> AddOnOption {
    AddOnOption::try_from(AddOnOptionRecord {
        id: OptionId::parse(id).unwrap(),
        category: CategoryId::parse(category).unwrap(),
        space: SpaceId::parse(space).unwrap(),
        name: format!("Namn {id}"),
        description: format!("Beskrivning av {id}"),
        pictures: vec![Picture {
            thumbnail: format!("/p/{id}-s.png"),
            large: format!("/p/{id}.png"),
            alt: id.into(),
        }],
        monthly_price: sek(monthly_kr),
        one_time_fee: sek(fee_kr),
        unit,
        position: 0,
    })
    .unwrap()
}

pub fn piece(max: i64) -> Unit {
    Unit::Piece {
        max: Quantity::new(max).unwrap(),
    }
}

/// Dishwashers and floors in the kitchen, a floor in the hall, spotlights by the piece, and
/// washing machines for a laundry room the apartment does not have.
pub fn seed_catalogue() -> Catalogue {
    let category = |id: &str, name: &str, position| Category {
        id: CategoryId::parse(id).unwrap(),
        name: name.into(),
        position,
    };
    Catalogue::try_from(CatalogueRecord {
        property: PropertyId::parse("prop-1").unwrap(),
        currency: Currency::SEK,
        categories: vec![
            category("diskmaskin", "Diskmaskin", 1),
            category("golv", "Golv", 2),
            category("belysning", "Belysning", 3),
            category("tvattmaskin", "Tvättmaskin", 4),
        ],
        options: vec![
            option("dm-bosch", "diskmaskin", "kitchen", 99, 0, Unit::Single),
            option("dm-siemens", "diskmaskin", "kitchen", 129, 0, Unit::Single),
            option("golv-ek-hall", "golv", "hall", 150, 500, Unit::Single),
            option("golv-ek-kok", "golv", "kitchen", 150, 500, Unit::Single),
            option("spotlight", "belysning", "kitchen", 15, 0, piece(6)),
            option(
                "tm-electrolux",
                "tvattmaskin",
                "laundry",
                89,
                0,
                Unit::Single,
            ),
        ],
    })
    .unwrap()
}

pub fn apartment(building_year: i32) -> RentalObject {
    let space = |id: &str, name: &str| Space {
        id: SpaceId::parse(id).unwrap(),
        name: name.into(),
    };
    RentalObject::try_from(RentalObjectRecord {
        id: RentalObjectId::parse("lgh-1001").unwrap(),
        property: PropertyId::parse("prop-1").unwrap(),
        address: "Storgatan 1".into(),
        building_year,
        rooms: 3,
        area_sqm: 74,
        spaces: vec![
            space("kitchen", "Kök"),
            space("bathroom", "Badrum"),
            space("hall", "Hall"),
        ],
    })
    .unwrap()
}

/// A tenant free to order, in a 1965 building, on 2026-11-24.
pub fn free_tenant() -> TenantFacts {
    TenantFacts {
        tenant: TenantId::parse("tenant-1").unwrap(),
        rental_object: Arc::new(apartment(1965)),
        ordering_enabled: true,
        debt: Money::zero(Currency::SEK),
        ongoing_orders: BTreeMap::new(),
        unpaid_fees: BTreeMap::new(),
        active_monthly_total: Money::zero(Currency::SEK),
        co_tenants: Vec::new(),
        today: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
    }
}

pub fn key(text: &str) -> LockKey {
    LockKey::parse(text).unwrap()
}

pub fn cart(lines: &[(&str, i64)]) -> Cart {
    Cart::with_lines(
        TenantId::parse("tenant-1").unwrap(),
        RentalObjectId::parse("lgh-1001").unwrap(),
        lines
            .iter()
            .map(|(id, q)| CartLine {
                option: OptionId::parse(id).unwrap(),
                quantity: Quantity::new(*q).unwrap(),
            })
            .collect(),
    )
    .unwrap()
}

pub fn view(rules: &RuleSet, facts: &TenantFacts, cart: &Cart) -> CatalogueView {
    let prepared = PreparedCatalogue::prepare(Arc::new(seed_catalogue()), rules);
    catalogue_view(rules, &prepared, facts, cart)
}

/// The status and reason codes of one option, for short assertions.
pub fn decision(
    view: &CatalogueView,
    option: &str,
) -> (tillval_engine::availability::OptionStatus, Vec<String>) {
    let o = view
        .option(&OptionId::parse(option).unwrap())
        .unwrap_or_else(|| panic!("{option} not in view"));
    (
        o.availability.status,
        o.availability
            .reasons
            .iter()
            .map(|r| r.code.to_string())
            .collect(),
    )
}

/// The shipped `rules/` folder of this repository.
pub fn rules_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("rules")
}

/// Services with the demo landlord loaded, on 2026-11-24 10:00 UTC, over either store: the
/// store suite is written once against [`db::Backend`] and run on both (`store_suite!`).
pub mod db {
    use std::sync::Arc;

    use crate::test_database::{TestDatabase, server_url};
    use chrono::{TimeZone, Utc};
    use tillval_engine::model::{OptionId, RentalObjectId, TenantId};
    use tillval_engine::rules::RuleSet;
    use tillval_services::demo::{demo, load_demo};
    use tillval_services::service::{FixedClock, Services};
    use tillval_services::store::PoolSettings;
    use tillval_store::SqlStore;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Backend {
        Sqlite,
        Postgres,
    }

    /// Where a test's database lives; gone when the test ends well.
    pub enum Place {
        Sqlite(tempfile::TempDir),
        Postgres(TestDatabase),
    }

    pub struct TestDb {
        pub services: Services<SqlStore>,
        pub clock: Arc<FixedClock>,
        pub place: Place,
    }

    fn settings() -> PoolSettings {
        // Small pools: many tests run at once against one server.
        PoolSettings {
            max_connections: 6,
            acquire_timeout: std::time::Duration::from_secs(30),
        }
    }

    async fn open_at(place: &Place) -> SqlStore {
        match place {
            Place::Sqlite(dir) => {
                SqlStore::sqlite(dir.path().join("tillval.db").to_str().unwrap(), settings())
                    .await
                    .unwrap()
            }
            Place::Postgres(db) => SqlStore::postgres(&db.url, settings()).await.unwrap(),
        }
    }

    /// An empty database on `backend`; `None` (printed) when PostgreSQL is not configured.
    pub async fn empty_place(backend: Backend, test: &str) -> Option<Place> {
        Some(match backend {
            Backend::Sqlite => Place::Sqlite(tempfile::tempdir().unwrap()),
            Backend::Postgres => {
                Place::Postgres(TestDatabase::create(&server_url(test)?).await.unwrap())
            }
        })
    }

    /// The demo landlord on `backend`; `None` when the test is to be skipped.
    pub async fn demo_db_on(backend: Backend, test: &str) -> Option<TestDb> {
        let place = empty_place(backend, test).await?;
        let clock = Arc::new(FixedClock::new(
            Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap(),
        ));
        let services = Services::new(
            open_at(&place).await,
            RuleSet::shipped().unwrap(),
            clock.clone(),
        );
        load_demo(&services, &demo(clock_today(&clock)).unwrap())
            .await
            .unwrap();
        Some(TestDb {
            services,
            clock,
            place,
        })
    }

    /// The demo landlord on SQLite.
    pub async fn demo_db() -> TestDb {
        demo_db_on(Backend::Sqlite, "demo_db").await.unwrap()
    }

    impl TestDb {
        /// New services over the same database, as after a restart.
        pub async fn reopen(&self) -> Services<SqlStore> {
            Services::new(
                open_at(&self.place).await,
                RuleSet::shipped().unwrap(),
                self.clock.clone(),
            )
        }

        /// Closes the store and removes the database.
        pub async fn finish(self) {
            self.services.store().close().await;
            match self.place {
                Place::Sqlite(dir) => drop(dir),
                Place::Postgres(db) => db.drop_database().await.unwrap(),
            }
        }
    }

    fn clock_today(clock: &FixedClock) -> chrono::NaiveDate {
        use tillval_services::service::Clock;
        clock.today()
    }

    pub fn tenant(id: &str) -> TenantId {
        TenantId::parse(id).unwrap()
    }
    pub fn object(id: &str) -> RentalObjectId {
        RentalObjectId::parse(id).unwrap()
    }
    pub fn opt(id: &str) -> OptionId {
        OptionId::parse(id).unwrap()
    }
}

/// Runs each named `async fn(Backend)` of the calling file as two tests, `sqlite::NAME` and
/// `postgres::NAME`: one suite, both stores.
#[macro_export]
macro_rules! store_suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name($crate::db::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name($crate::db::Backend::Postgres).await
                }
            )*
        }
    };
}
