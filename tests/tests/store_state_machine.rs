//! A state-machine property test: random sequences of add / update / remove / submit / status
//! change / payment / debt change against a simple in-memory model of the seed's rules. After
//! every step the store and the model agree, and the invariants hold.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use tillval_engine::model::*;
use tillval_engine::rules::RuleSet;
use tillval_services::case::{Actor, CaseNumber, CaseStatus};
use tillval_services::order::{IdempotencyKey, SubmitRequest, Terms};
use tillval_services::service::{FixedClock, RefusalCode, ServiceError, Services};
use tillval_services::store::{PoolSettings, Store, TenantRecord};
use tillval_store::SqlStore;
use tillval_tests::test_database::{TestDatabase, server_url};

/// (id, category, space, monthly öre, fee öre, piece max)
type OptionRow = (
    &'static str,
    &'static str,
    &'static str,
    i64,
    i64,
    Option<i64>,
);
const OPTIONS: [OptionRow; 6] = [
    ("dm-a", "diskmaskin", "kitchen", 9_900, 0, None),
    ("dm-b", "diskmaskin", "kitchen", 12_900, 50_000, None),
    ("golv-a", "golv", "hall", 14_900, 100_000, None),
    ("golv-b", "golv", "hall", 7_900, 0, None),
    ("spot", "belysning", "kitchen", 1_500, 10_000, Some(4)),
    ("lamp", "belysning", "kitchen", 3_500, 0, None),
];

fn key_of(o: usize) -> String {
    format!("{}/{}", OPTIONS[o].1, OPTIONS[o].2)
}

#[derive(Debug, Clone)]
enum Op {
    Add(usize, i64),
    Update(usize, i64),
    Remove(usize),
    Submit {
        accept: bool,
        current_terms: bool,
        key: usize,
    },
    Transition {
        case: usize,
        to: usize,
        staff: bool,
    },
    /// Staff move a case to one of its legal next statuses, so that long lifecycles happen.
    Advance {
        case: usize,
        pick: usize,
    },
    Payment {
        fee: usize,
        amount: i64,
    },
    SetDebt(i64),
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..6usize, -1..6i64).prop_map(|(o, q)| Op::Add(o, q)),
        2 => (0..6usize, -1..6i64).prop_map(|(o, q)| Op::Update(o, q)),
        2 => (0..6usize).prop_map(Op::Remove),
        4 => (prop::bool::weighted(0.9), prop::bool::weighted(0.9), 0..6usize)
            .prop_map(|(accept, current_terms, key)| Op::Submit { accept, current_terms, key }),
        2 => (0..4usize, 0..7usize, prop::bool::weighted(0.6)).prop_map(|(case, to, staff)| Op::Transition { case, to, staff }),
        6 => (0..3usize, 0..8usize).prop_map(|(case, pick)| Op::Advance { case, pick }),
        2 => (0..3usize, 0..120_000i64).prop_map(|(fee, amount)| Op::Payment { fee, amount }),
        1 => prop_oneof![3 => Just(0i64), 1 => 1..50_000i64].prop_map(Op::SetDebt),
    ]
}

#[derive(Debug, Clone)]
struct ModelCase {
    number: CaseNumber,
    status: CaseStatus,
    lines: Vec<(usize, u32)>,
    idempotency: usize,
}

#[derive(Debug, Clone)]
struct ModelFee {
    key: String,
    amount: i64,
    paid: i64,
}

#[derive(Debug, Default)]
struct Model {
    cart: Vec<(usize, u32)>,
    debt: i64,
    cases: Vec<ModelCase>,
    fees: Vec<ModelFee>,
}

/// What the model expects of one step.
#[derive(Debug, PartialEq, Eq)]
enum Expect {
    Ok,
    Invalid,
    NotFound,
    Refused(RefusalCode),
    Illegal,
    Skip,
}

impl Model {
    fn ongoing_keys(&self) -> BTreeSet<String> {
        self.cases
            .iter()
            .filter(|c| c.status.holds_locks())
            .flat_map(|c| c.lines.iter().map(|(o, _)| key_of(*o)))
            .collect()
    }
    fn unpaid_keys(&self) -> BTreeSet<String> {
        self.fees
            .iter()
            .filter(|f| f.paid < f.amount)
            .map(|f| f.key.clone())
            .collect()
    }
    fn blocked(&self, o: usize) -> bool {
        self.debt > 0
            || self.ongoing_keys().contains(&key_of(o))
            || self.unpaid_keys().contains(&key_of(o))
    }
    fn unit_allows(o: usize, q: i64) -> bool {
        match OPTIONS[o].5 {
            Some(max) => q <= max,
            None => q == 1,
        }
    }

    /// Applies `op` to the model as the seed's rules say, returning what the store must answer.
    fn expect(&mut self, op: &Op) -> Expect {
        match *op {
            Op::Add(o, q) => {
                if !(1..=99).contains(&q) || !Self::unit_allows(o, q) {
                    return Expect::Invalid;
                }
                if self.cart.iter().any(|(x, _)| *x == o) {
                    return Expect::Refused(RefusalCode::AlreadyInCart);
                }
                if self.blocked(o) || self.cart.iter().any(|(x, _)| key_of(*x) == key_of(o)) {
                    return Expect::Refused(RefusalCode::NotOrderable);
                }
                self.cart.push((o, q as u32));
                Expect::Ok
            }
            Op::Update(o, q) => {
                if !(1..=99).contains(&q) {
                    return Expect::Invalid;
                }
                let Some(line) = self.cart.iter_mut().find(|(x, _)| *x == o) else {
                    return Expect::NotFound;
                };
                if !Self::unit_allows(o, q) {
                    return Expect::Invalid;
                }
                line.1 = q as u32;
                Expect::Ok
            }
            Op::Remove(o) => {
                let before = self.cart.len();
                self.cart.retain(|(x, _)| *x != o);
                if self.cart.len() == before {
                    Expect::NotFound
                } else {
                    Expect::Ok
                }
            }
            Op::Submit {
                accept,
                current_terms,
                key,
            } => {
                if self.cases.iter().any(|c| c.idempotency == key) {
                    return Expect::Ok; // replayed, nothing changes
                }
                if !accept {
                    return Expect::Refused(RefusalCode::TermsNotAccepted);
                }
                if !current_terms {
                    return Expect::Refused(RefusalCode::TermsOutdated);
                }
                if self.cart.is_empty() {
                    return Expect::Refused(RefusalCode::EmptyCart);
                }
                if self.cart.iter().any(|(o, _)| self.blocked(*o)) {
                    return Expect::Refused(RefusalCode::NotOrderable);
                }
                let lines = std::mem::take(&mut self.cart);
                // The number is filled in from the store's answer.
                self.cases.push(ModelCase {
                    number: CaseNumber::new(0, 0),
                    status: CaseStatus::Submitted,
                    lines,
                    idempotency: key,
                });
                Expect::Ok
            }
            Op::Transition { case, to, staff } => {
                let Some(c) = self.cases.get_mut(case) else {
                    return Expect::Skip;
                };
                let to = CaseStatus::ALL[to];
                let actor = if staff { Actor::Staff } else { Actor::Tenant };
                if !staff && to != CaseStatus::Cancelled {
                    return Expect::Skip;
                }
                if !c.status.may_move_to(to, actor) {
                    return Expect::Illegal;
                }
                c.status = to;
                if to == CaseStatus::Installed {
                    for (o, q) in c.lines.clone() {
                        let fee = OPTIONS[o].4 * i64::from(q);
                        if fee > 0 {
                            self.fees.push(ModelFee {
                                key: key_of(o),
                                amount: fee,
                                paid: 0,
                            });
                        }
                    }
                }
                Expect::Ok
            }
            Op::Payment { fee, amount } => {
                let Some(f) = self.fees.get_mut(fee) else {
                    return Expect::Skip;
                };
                if amount == 0 || amount > f.amount - f.paid {
                    return Expect::Invalid;
                }
                f.paid += amount;
                Expect::Ok
            }
            Op::SetDebt(d) => {
                self.debt = d;
                Expect::Ok
            }
            Op::Advance { .. } => Expect::Skip,
        }
    }
}

fn outcome<T>(result: Result<T, ServiceError>) -> Expect {
    match result {
        Ok(_) => Expect::Ok,
        Err(ServiceError::InvalidInput { .. }) => Expect::Invalid,
        Err(ServiceError::NotFound(_)) => Expect::NotFound,
        Err(ServiceError::Refused(r)) => Expect::Refused(r.code),
        Err(ServiceError::IllegalTransition { .. }) => Expect::Illegal,
        Err(other) => panic!("unexpected error {other:?}"),
    }
}

fn id<T: TryFrom<String>>(s: &str) -> T
where
    T::Error: std::fmt::Debug,
{
    T::try_from(s.to_owned()).unwrap()
}

/// The store for one sequence: a private in-memory SQLite, or the PostgreSQL test database
/// emptied.
async fn fresh_store(postgres: Option<&TestDatabase>) -> SqlStore {
    match postgres {
        None => SqlStore::sqlite_in_memory().await.unwrap(),
        Some(db) => {
            db.reset().await.unwrap();
            let settings = PoolSettings {
                max_connections: 2,
                ..PoolSettings::default()
            };
            SqlStore::postgres(&db.url, settings).await.unwrap()
        }
    }
}

async fn setup(postgres: Option<&TestDatabase>) -> Services<SqlStore> {
    let store = fresh_store(postgres).await;
    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap(),
    ));
    let services = Services::new(store, RuleSet::shipped().unwrap(), clock);
    let object = RentalObject::try_from(RentalObjectRecord {
        id: id("o1"),
        property: id("p1"),
        address: "Modellgatan 1".into(),
        building_year: 1970,
        rooms: 2,
        area_sqm: 60,
        spaces: vec![
            Space {
                id: id("kitchen"),
                name: "Kök".into(),
            },
            Space {
                id: id("hall"),
                name: "Hall".into(),
            },
        ],
    })
    .unwrap();
    let s = services.store();
    s.put_rental_object(&object, "Modellen").await.unwrap();
    let sek = |m: i64| Money::from_minor(m, Currency::SEK).unwrap();
    let categories = ["diskmaskin", "golv", "belysning"]
        .iter()
        .map(|c| Category {
            id: id(c),
            name: c.to_string(),
            position: 0,
        })
        .collect();
    let options = OPTIONS
        .iter()
        .map(|(o, c, sp, monthly, fee, piece)| {
            AddOnOption::try_from(AddOnOptionRecord {
                id: id(o),
                category: id(c),
                space: id(sp),
                name: o.to_string(),
                description: String::new(),
                pictures: vec![Picture {
                    thumbnail: "/t.svg".into(),
                    large: "/l.svg".into(),
                    alt: String::new(),
                }],
                monthly_price: sek(*monthly),
                one_time_fee: sek(*fee),
                unit: piece.map_or(Unit::Single, |m| Unit::Piece {
                    max: Quantity::new(m).unwrap(),
                }),
                position: 0,
            })
            .unwrap()
        })
        .collect();
    s.put_catalogue(
        &Catalogue::try_from(CatalogueRecord {
            property: id("p1"),
            currency: Currency::SEK,
            categories,
            options,
        })
        .unwrap(),
    )
    .await
    .unwrap();
    s.put_terms(&Terms {
        version: 1,
        text_sv: "v".into(),
        text_en: "t".into(),
        published_at: Utc::now(),
    })
    .await
    .unwrap();
    s.put_tenant(&TenantRecord {
        id: id("t1"),
        name: "T".into(),
        ordering_enabled: true,
    })
    .await
    .unwrap();
    s.put_lease(&id("t1"), &id("o1")).await.unwrap();
    services
}

async fn run(ops: Vec<Op>, postgres: Option<&TestDatabase>) -> Result<(), TestCaseError> {
    let s = setup(postgres).await;
    let (t, o): (TenantId, RentalObjectId) = (id("t1"), id("o1"));
    let mut model = Model::default();
    let mut installed = 0;
    for (step, op) in ops.iter().enumerate() {
        // An advance is a transition to a legal next status, chosen on the model's state; the
        // forward path (away from cancelling) is taken three times in four.
        let op = &match *op {
            Op::Advance { case, pick } => match model.cases.get(case) {
                Some(c) => {
                    let next = c.status.next_statuses(Actor::Staff);
                    let forward: Vec<_> = next
                        .iter()
                        .copied()
                        .filter(|s| *s != CaseStatus::Cancelled && *s != CaseStatus::Rejected)
                        .collect();
                    let choice = if pick % 4 != 0 && !forward.is_empty() {
                        forward.first().copied()
                    } else {
                        next.get(pick % next.len().max(1)).copied()
                    };
                    match choice {
                        Some(to) => Op::Transition {
                            case,
                            to: CaseStatus::ALL.iter().position(|s| *s == to).unwrap_or(0),
                            staff: true,
                        },
                        None => continue,
                    }
                }
                None => continue,
            },
            ref other => other.clone(),
        };
        if let Op::Transition { to, .. } = op
            && CaseStatus::ALL[*to] == CaseStatus::Installed
        {
            installed += 1;
        }
        let debt_before = model.debt;
        let expected = model.expect(op);
        let actual = match op {
            Op::Add(x, q) => outcome(s.cart_add(&t, &o, &id(OPTIONS[*x].0), *q).await),
            Op::Update(x, q) => outcome(s.cart_update(&t, &o, &id(OPTIONS[*x].0), *q).await),
            Op::Remove(x) => outcome(s.cart_remove(&t, &o, &id(OPTIONS[*x].0)).await),
            Op::Submit {
                accept,
                current_terms,
                key,
            } => {
                let request = SubmitRequest {
                    accept_terms: *accept,
                    terms_version: if *current_terms { 1 } else { 2 },
                    idempotency_key: IdempotencyKey::parse(&format!("idem-key-{key}")).unwrap(),
                };
                let result = s.checkout_submit(&t, &o, &request).await;
                if let Ok(sent) = &result
                    && !sent.replayed
                {
                    prop_assert_eq!(debt_before, 0, "no submit with debt");
                    if let Some(last) = model.cases.last_mut() {
                        last.number = sent.case.number.clone();
                    }
                }
                outcome(result)
            }
            Op::Transition { case, to, staff } => match model.cases.get(*case) {
                None => Expect::Skip,
                Some(c) if !*staff && CaseStatus::ALL[*to] != CaseStatus::Cancelled => {
                    let _ = c;
                    Expect::Skip
                }
                Some(c) => {
                    let number = c.number.clone();
                    if *staff {
                        outcome(s.case_transition(&number, CaseStatus::ALL[*to]).await)
                    } else {
                        outcome(s.case_cancel(&t, &number).await)
                    }
                }
            },
            Op::Payment { fee, amount } => {
                let fees = s.ledger_fees(&t).await.unwrap();
                match fees.get(*fee) {
                    None => Expect::Skip,
                    Some(f) => outcome(s.ledger_record_payment(f.id, *amount, Currency::SEK).await),
                }
            }
            Op::SetDebt(d) => outcome(s.ledger_set_debt(&t, *d, Currency::SEK).await),
            Op::Advance { .. } => Expect::Skip,
        };
        prop_assert_eq!(&actual, &expected, "step {} {:?}", step, op);

        // The store and the model agree.
        let cart = s.cart(&t, &o).await.unwrap();
        let stored: BTreeMap<String, u32> = cart
            .lines
            .iter()
            .map(|l| (l.option.id().to_string(), l.quantity.get()))
            .collect();
        let modelled: BTreeMap<String, u32> = model
            .cart
            .iter()
            .map(|(x, q)| (OPTIONS[*x].0.to_string(), *q))
            .collect();
        prop_assert_eq!(&stored, &modelled, "cart after step {} {:?}", step, op);
        let page = s.cases(&t, None, None, 100).await.unwrap();
        let stored: Vec<(CaseNumber, CaseStatus)> = page
            .cases
            .iter()
            .rev()
            .map(|c| (c.number.clone(), c.status))
            .collect();
        let modelled: Vec<(CaseNumber, CaseStatus)> = model
            .cases
            .iter()
            .map(|c| (c.number.clone(), c.status))
            .collect();
        prop_assert_eq!(&stored, &modelled, "cases after step {}", step);
        let object = s.rental_object(&t, &o).await.unwrap();
        let snapshot = s
            .store()
            .snapshot(
                &t,
                object,
                chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
            )
            .await
            .unwrap();
        let ongoing: BTreeSet<String> = snapshot
            .facts
            .ongoing_orders
            .keys()
            .map(|k| k.to_string())
            .collect();
        prop_assert_eq!(
            &ongoing,
            &model.ongoing_keys(),
            "ongoing after step {}",
            step
        );
        let unpaid: BTreeSet<String> = snapshot
            .facts
            .unpaid_fees
            .keys()
            .map(|k| k.to_string())
            .collect();
        prop_assert_eq!(&unpaid, &model.unpaid_keys(), "unpaid after step {}", step);

        // Invariants.
        let mut open_keys = BTreeSet::new();
        for case in page.cases.iter().filter(|c| c.status.holds_locks()) {
            for key in case.lines.iter().flat_map(|l| l.keys.iter()) {
                prop_assert!(open_keys.insert(key.clone()), "two open orders on {}", key);
            }
        }
        let mut cart_keys = BTreeSet::new();
        let mut monthly = 0;
        for line in &cart.lines {
            let key = format!("{}/{}", line.option.category(), line.option.space());
            prop_assert!(cart_keys.insert(key), "two cart lines on one key");
            prop_assert!(
                line.option.unit().check(line.quantity).is_ok(),
                "quantity in range"
            );
            prop_assert_eq!(
                line.monthly_total.minor(),
                line.option.monthly_price().minor() * i64::from(line.quantity.get())
            );
            monthly += line.monthly_total.minor();
        }
        prop_assert_eq!(cart.monthly_total.minor(), monthly, "the total is the sum");
        prop_assert_eq!(
            cart.article_count,
            cart.lines.iter().map(|l| l.quantity.get()).sum::<u32>()
        );
    }
    INSTALLS.fetch_add(installed, std::sync::atomic::Ordering::Relaxed);
    s.store().close().await;
    Ok(())
}

/// How many INSTALLED transitions the generated sequences tried, across all cases: a check
/// that the generator reaches the end of the lifecycle, not only its start.
static INSTALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn the_sqlite_store_follows_the_model(ops in prop::collection::vec(arb_op(), 1..40)) {
        runtime().block_on(run(ops, None))?;
    }
}

/// The same property on PostgreSQL: one database for the run, emptied before each sequence.
#[test]
fn the_postgres_store_follows_the_model() {
    let Some(server) = server_url("the_postgres_store_follows_the_model") else {
        return;
    };
    let db = runtime().block_on(TestDatabase::create(&server)).unwrap();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(96));
    let result = runner.run(&prop::collection::vec(arb_op(), 1..40), |ops| {
        runtime().block_on(run(ops, Some(&db)))
    });
    runtime().block_on(db.drop_database()).unwrap();
    result.unwrap();
}

#[test]
fn the_generator_reaches_installation() {
    // Runs the property on its own seed-independent sample and counts installs.
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(48));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let before = INSTALLS.load(std::sync::atomic::Ordering::Relaxed);
    runner
        .run(&prop::collection::vec(arb_op(), 20..40), |ops| {
            runtime.block_on(run(ops, None))
        })
        .unwrap();
    let installs = INSTALLS.load(std::sync::atomic::Ordering::Relaxed) - before;
    assert!(installs >= 10, "only {installs} installs in 48 sequences");
}
