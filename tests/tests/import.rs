//! Facts in from the rental system (issue 15), on both stores: a landlord imported whole
//! decides as the rules say; a bad row changes nothing and is named by line and field; a
//! re-import changes nothing; an older version never overwrites a newer one; references the
//! store does not hold and payments over a fee refuse the batch; CSV reads as JSON Lines does;
//! and on PostgreSQL an imported debt blocks the tenant on another node at once.

use std::time::{Duration, Instant};

use tillval_engine::availability::OptionStatus;
use tillval_engine::model::{Language, PropertyId};
use tillval_services::import::ImportFormat;
use tillval_services::imported::{ImportCounts, ImportOutcome, ImportProblem, ProblemCode};
use tillval_services::store::{Ledger, Store};
use tillval_tests::db::*;

/// A small landlord's facts (docs/examples/landlord.jsonl, the example docs/integration.md
/// shows): a property and its catalogue, an apartment, a tenancy with a co-tenant, a fee with
/// part of it paid.
fn landlord_file() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/examples/landlord.jsonl"
    );
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn applied(outcome: ImportOutcome) -> ImportCounts {
    match outcome {
        ImportOutcome::Applied(counts) => counts,
        ImportOutcome::Refused(problems) => panic!("refused: {problems:#?}"),
    }
}

fn refused(outcome: ImportOutcome) -> Vec<ImportProblem> {
    match outcome {
        ImportOutcome::Refused(problems) => problems,
        ImportOutcome::Applied(counts) => panic!("applied: {counts:?}"),
    }
}

/// Each problem's line, field and code: what a test names.
fn located(problems: &[ImportProblem]) -> Vec<(u64, Option<&str>, ProblemCode)> {
    problems
        .iter()
        .map(|p| (p.line, p.field.as_deref(), p.code))
        .collect()
}

fn status_of(
    view: &tillval_engine::availability::CatalogueView,
    option: &str,
) -> (OptionStatus, Vec<String>) {
    let option = view
        .option(&opt(option))
        .unwrap_or_else(|| panic!("{option} not shown"));
    (
        option.availability.status,
        option
            .availability
            .reasons
            .iter()
            .map(|r| r.code.as_str().to_owned())
            .collect(),
    )
}

async fn a_landlord_imported_whole_decides_as_the_rules_say(backend: Backend) {
    let Some(db) = demo_db_on(backend, "a_landlord_imported_whole").await else {
        return;
    };
    let s = &db.services;
    let counts = applied(
        s.import(&landlord_file(), ImportFormat::JsonLines)
            .await
            .unwrap(),
    );
    assert_eq!(
        counts,
        ImportCounts {
            applied: 13,
            unchanged: 0,
            stale: 0
        }
    );
    // Both tenants of the tenancy lease the apartment (the co-tenant too).
    for who in ["eva-ek", "olle-ek"] {
        let (_, objects) = s.viewer(&tenant(who)).await.unwrap();
        assert_eq!(objects.len(), 1, "{who}");
        assert_eq!(objects[0].id().as_str(), "ek-101");
    }
    let (_, view) = s
        .catalogue_view(&tenant("eva-ek"), &object("ek-101"))
        .await
        .unwrap();
    assert!(view.gate.is_open(), "{:?}", view.gate);
    assert_eq!(status_of(&view, "disk-a").0, OptionStatus::Available);
    // The fee on the floor is not fully paid: its category and space are blocked (S5).
    assert_eq!(
        status_of(&view, "ek-golv"),
        (OptionStatus::Blocked, vec!["UNPAID_FEE".to_owned()])
    );
    let catalogue = s
        .store()
        .catalogue(&PropertyId::parse("brf-ek").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(catalogue.options().len(), 3);

    // The rest paid, in a later batch: the floor is free.
    let paid = r#"{"type":"payment","id":"bet-2","version":1,"fee":"avgift-77","amount":40000,"currency":"SEK","paid_at":"2026-11-20T08:00:00Z"}"#;
    applied(s.import(paid, ImportFormat::JsonLines).await.unwrap());
    let (_, view) = s
        .catalogue_view(&tenant("eva-ek"), &object("ek-101"))
        .await
        .unwrap();
    assert_eq!(status_of(&view, "ek-golv").0, OptionStatus::Available);

    // Ordering switched off for the property (S2): the gate closes for everyone there.
    let off = r#"{"type":"property","id":"brf-ek","version":2,"name":"Brf Eken","currency":"SEK","ordering_enabled":false}"#;
    applied(s.import(off, ImportFormat::JsonLines).await.unwrap());
    let (_, view) = s
        .catalogue_view(&tenant("olle-ek"), &object("ek-101"))
        .await
        .unwrap();
    let codes: Vec<&str> = view.gate.reasons.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, ["ORDERING_DISABLED"]);

    // The tenancy ends: neither tenant leases the apartment any more.
    let ended = r#"{"type":"tenancy","id":"kontrakt-9001","version":2,"rental_object":"ek-101","tenants":[],"ended":true}"#;
    applied(s.import(ended, ImportFormat::JsonLines).await.unwrap());
    let (_, objects) = s.viewer(&tenant("olle-ek")).await.unwrap();
    assert!(objects.is_empty(), "{objects:?}");

    // Two new contracts in one batch that both name Olle on the apartment: one lease.
    let two = [
        r#"{"type":"tenancy","id":"kontrakt-a","version":1,"rental_object":"ek-101","tenants":["olle-ek"]}"#,
        r#"{"type":"tenancy","id":"kontrakt-b","version":1,"rental_object":"ek-101","tenants":["olle-ek","eva-ek"]}"#,
    ]
    .join("\n");
    applied(s.import(&two, ImportFormat::JsonLines).await.unwrap());
    let (_, objects) = s.viewer(&tenant("olle-ek")).await.unwrap();
    assert_eq!(objects.len(), 1, "{objects:?}");
    db.finish().await;
}

async fn a_bad_row_changes_nothing_and_is_named_by_line_and_field(backend: Backend) {
    let Some(db) = demo_db_on(backend, "a_bad_row_changes_nothing").await else {
        return;
    };
    let s = &db.services;
    let bertil = tenant("bertil-lind");
    let debt_before = s.store().debt(&bertil).await.unwrap();
    let properties_before = s.store().properties().await.unwrap();

    let mut lines: Vec<String> = landlord_file().lines().map(str::to_owned).collect();
    lines.push(
        r#"{"type":"debt","id":"bertil-lind","version":9,"amount":0,"currency":"SEK"}"#.into(),
    );
    // Line 15: a year no building has; line 16: a field no tenant has; line 17: not JSON.
    lines.push(r#"{"type":"rental_object","id":"ek-102","version":1,"property":"brf-ek","address":"Ekvägen 2","building_year":1066,"rooms":2,"area_sqm":50,"spaces":[]}"#.into());
    lines.push(
        r#"{"type":"tenant","id":"kim-ek","version":1,"name":"Kim Ek","shoe_size":44}"#.into(),
    );
    lines.push(r#"{"type":"tenant","id":"#.into());
    let problems = refused(
        s.import(&lines.join("\n"), ImportFormat::JsonLines)
            .await
            .unwrap(),
    );
    let found = located(&problems);
    assert_eq!(
        found,
        [
            (15, Some("building_year"), ProblemCode::BadValue),
            (16, Some("shoe_size"), ProblemCode::UnknownField),
            (17, None, ProblemCode::Unreadable),
        ]
    );
    // Every message names its line, in both languages.
    for problem in &problems {
        assert!(
            problem
                .message(Language::Sv)
                .contains(&format!("rad {}", problem.line))
        );
        assert!(
            problem
                .message(Language::En)
                .contains(&format!("line {}", problem.line))
        );
    }
    // Nothing of the batch went in: not the good lines before the bad ones either.
    assert_eq!(s.store().debt(&bertil).await.unwrap(), debt_before);
    assert_eq!(s.store().properties().await.unwrap(), properties_before);
    assert!(s.store().tenant(&tenant("eva-ek")).await.unwrap().is_none());

    // A batch that reads well but refers to what does not exist is refused in the store, and
    // rolled back there: the property before it is not kept.
    let dangling = [
        r#"{"type":"property","id":"brf-asp","version":1,"name":"Brf Aspen","currency":"SEK"}"#,
        r#"{"type":"tenancy","id":"kontrakt-1","version":1,"rental_object":"asp-1","tenants":["nobody-at-all"]}"#,
        r#"{"type":"payment","id":"bet-9","version":1,"fee":"no-such-fee","amount":100,"currency":"SEK"}"#,
        r#"{"type":"option","id":"x","version":1,"property":"brf-asp","category":"none","space":"kok","name":"X","monthly_price":1,"currency":"SEK","pictures":["https://bilder.example/x.jpg"]}"#,
    ]
    .join("\n");
    let problems = refused(s.import(&dangling, ImportFormat::JsonLines).await.unwrap());
    let found = located(&problems);
    assert_eq!(
        found,
        [
            (2, Some("rental_object"), ProblemCode::UnknownReference),
            (2, Some("tenants"), ProblemCode::UnknownReference),
            (3, Some("fee"), ProblemCode::UnknownReference),
            (4, Some("category"), ProblemCode::UnknownReference),
        ]
    );
    assert_eq!(s.store().properties().await.unwrap(), properties_before);

    // Payments over the fee are refused where they are.
    applied(
        s.import(&landlord_file(), ImportFormat::JsonLines)
            .await
            .unwrap(),
    );
    let over = r#"{"type":"payment","id":"bet-2","version":1,"fee":"avgift-77","amount":40001,"currency":"SEK"}"#;
    let problems = refused(s.import(over, ImportFormat::JsonLines).await.unwrap());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(
        (problems[0].line, problems[0].code),
        (1, ProblemCode::Overpaid)
    );

    // The same record twice, an empty file, a type nobody sends.
    let twice = [
        r#"{"type":"tenant","id":"eva-ek","version":3,"name":"Eva Ek"}"#,
        r#"{"type":"tenant","id":"eva-ek","version":4,"name":"Eva Eklund"}"#,
        r#"{"type":"lease","id":"x","version":1}"#,
    ]
    .join("\n");
    let problems = refused(s.import(&twice, ImportFormat::JsonLines).await.unwrap());
    let found: Vec<(u64, ProblemCode, &str)> = problems
        .iter()
        .map(|p| (p.line, p.code, p.detail.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (2, ProblemCode::Duplicate, "1"),
            (3, ProblemCode::UnknownType, "lease")
        ]
    );
    let problems = refused(s.import("\n\n", ImportFormat::JsonLines).await.unwrap());
    assert_eq!(problems[0].code, ProblemCode::Empty);
    db.finish().await;
}

async fn a_reimport_changes_nothing(backend: Backend) {
    let Some(db) = demo_db_on(backend, "a_reimport_changes_nothing").await else {
        return;
    };
    let s = &db.services;
    applied(
        s.import(&landlord_file(), ImportFormat::JsonLines)
            .await
            .unwrap(),
    );
    let account = s.ledger_account(&tenant("eva-ek")).await.unwrap();
    let catalogue = s
        .store()
        .catalogue(&PropertyId::parse("brf-ek").unwrap())
        .await
        .unwrap();
    let (_, view) = s
        .catalogue_view(&tenant("eva-ek"), &object("ek-101"))
        .await
        .unwrap();

    let again = applied(
        s.import(&landlord_file(), ImportFormat::JsonLines)
            .await
            .unwrap(),
    );
    assert_eq!(
        again,
        ImportCounts {
            applied: 0,
            unchanged: 13,
            stale: 0
        }
    );
    assert_eq!(s.ledger_account(&tenant("eva-ek")).await.unwrap(), account);
    assert_eq!(
        s.store()
            .catalogue(&PropertyId::parse("brf-ek").unwrap())
            .await
            .unwrap(),
        catalogue
    );
    let (_, view_again) = s
        .catalogue_view(&tenant("eva-ek"), &object("ek-101"))
        .await
        .unwrap();
    assert_eq!(view_again.categories, view.categories);
    db.finish().await;
}

async fn an_older_version_never_overwrites_a_newer(backend: Backend) {
    let Some(db) = demo_db_on(backend, "an_older_version_loses").await else {
        return;
    };
    let s = &db.services;
    let david = tenant("david-ek");
    let debt = |version: i64, amount: i64| {
        format!(
            r#"{{"type":"debt","id":"david-ek","version":{version},"amount":{amount},"currency":"SEK"}}"#
        )
    };
    applied(
        s.import(&debt(5, 50_000), ImportFormat::JsonLines)
            .await
            .unwrap(),
    );
    let older = applied(
        s.import(&debt(4, 100), ImportFormat::JsonLines)
            .await
            .unwrap(),
    );
    assert_eq!((older.applied, older.stale), (0, 1));
    assert_eq!(
        s.store().debt(&david).await.unwrap().map(|d| d.minor()),
        Some(50_000)
    );
    let newer = applied(
        s.import(&debt(6, 0), ImportFormat::JsonLines)
            .await
            .unwrap(),
    );
    assert_eq!(newer.applied, 1);
    assert_eq!(
        s.store().debt(&david).await.unwrap().map(|d| d.minor()),
        Some(0)
    );

    // Timestamps order records as versions do.
    let named = |at: &str, name: &str| {
        format!(r#"{{"type":"tenant","id":"david-ek","updated_at":"{at}","name":"{name}"}}"#)
    };
    applied(
        s.import(
            &named("2026-11-20T10:00:00+01:00", "David Ek"),
            ImportFormat::JsonLines,
        )
        .await
        .unwrap(),
    );
    let older = applied(
        s.import(
            &named("2026-11-20T08:59:59Z", "D. Ek"),
            ImportFormat::JsonLines,
        )
        .await
        .unwrap(),
    );
    assert_eq!(older.stale, 1);
    assert_eq!(
        s.store().tenant(&david).await.unwrap().unwrap().name,
        "David Ek"
    );
    let problems = refused(
        s.import(
            r#"{"type":"tenant","id":"david-ek","version":7,"updated_at":"2026-11-21T00:00:00Z","name":"x"}"#,
            ImportFormat::JsonLines,
        )
        .await
        .unwrap(),
    );
    assert_eq!(problems[0].field.as_deref(), Some("updated_at"));
    db.finish().await;
}

async fn csv_reads_as_json_lines_does(backend: Backend) {
    let Some(db) = demo_db_on(backend, "csv_reads_as_json_lines").await else {
        return;
    };
    let s = &db.services;
    let csv = "type,id,version,name,currency,property,category,space,monthly_price,unit,max,pictures,address,building_year,rooms,area_sqm,spaces,rental_object,tenants\n\
        property,brf-ek,1,Brf Eken,SEK,,,,,,,,,,,,,,\n\
        category,disk,1,Diskmaskin,,brf-ek,,,,,,,,,,,,,\n\
        option,disk-a,1,\"Diskmaskin A, inbyggd\",SEK,brf-ek,disk,kok,9900,piece,2,https://bilder.example/a.jpg,,,,,,,\n\
        rental_object,ek-101,1,,,brf-ek,,,,,,,Ekvägen 1,1974,3,72,kok=Kök|hall=Hall,,\n\
        tenant,eva-ek,1,Eva Ek,,,,,,,,,,,,,,,\n\
        tenancy,k-1,1,,,,,,,,,,,,,,,ek-101,eva-ek\n";
    let counts = applied(s.import(csv, ImportFormat::Csv).await.unwrap());
    assert_eq!(counts.applied, 6);
    let (_, view) = s
        .catalogue_view(&tenant("eva-ek"), &object("ek-101"))
        .await
        .unwrap();
    let a = view.option(&opt("disk-a")).unwrap();
    assert_eq!(a.option.name(), "Diskmaskin A, inbyggd");
    assert_eq!(a.option.monthly_price().minor(), 9900);

    let bad = "type,id,version,name,rooms\ntenant,kim,1,Kim,3\ntenant,kim2,x,Kim\n";
    let problems = refused(s.import(bad, ImportFormat::Csv).await.unwrap());
    let found = located(&problems);
    assert_eq!(
        found,
        [
            (2, Some("rooms"), ProblemCode::UnknownField),
            (3, None, ProblemCode::Unreadable),
        ]
    );
    db.finish().await;
}

/// PostgreSQL only: two nodes on one database. An imported debt closes the tenant's gate on
/// the other node, and an imported price reaches its catalogue cache, within a second.
async fn imported_facts_reach_the_other_node_within_a_second(backend: Backend) {
    if backend == Backend::Sqlite {
        return; // one process owns a SQLite file: there is no other node
    }
    let Some(db) = demo_db_on(backend, "imported_facts_reach_the_other_node").await else {
        return;
    };
    let a = &db.services;
    let b = db.reopen().await;
    applied(
        a.import(&landlord_file(), ImportFormat::JsonLines)
            .await
            .unwrap(),
    );
    let (_, view) = b
        .catalogue_view(&tenant("eva-ek"), &object("ek-101"))
        .await
        .unwrap();
    assert!(view.gate.is_open());
    assert_eq!(
        view.option(&opt("disk-b"))
            .unwrap()
            .option
            .monthly_price()
            .minor(),
        12_900
    );

    let debt_and_price = [
        r#"{"type":"debt","id":"eva-ek","version":2,"amount":125000,"currency":"SEK"}"#,
        r#"{"type":"option","id":"disk-b","version":2,"property":"brf-ek","category":"disk","space":"kok","name":"Diskmaskin B","monthly_price":13900,"currency":"SEK","pictures":["https://bilder.example/b.jpg"]}"#,
    ]
    .join("\n");
    applied(
        a.import(&debt_and_price, ImportFormat::JsonLines)
            .await
            .unwrap(),
    );
    let imported = Instant::now();
    let seen = loop {
        let (_, view) = b
            .catalogue_view(&tenant("eva-ek"), &object("ek-101"))
            .await
            .unwrap();
        let blocked = view.gate.reasons.iter().any(|r| r.code.as_str() == "DEBT");
        let price = view
            .option(&opt("disk-b"))
            .unwrap()
            .option
            .monthly_price()
            .minor();
        if blocked && price == 13_900 {
            break imported.elapsed();
        }
        assert!(
            imported.elapsed() < Duration::from_secs(1),
            "after 1 s node b still sees gate {:?}, price {price}",
            view.gate
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    println!("node b saw the imported debt and price after {seen:?}");
    b.store().close().await;
    db.finish().await;
}

tillval_tests::store_suite!(
    a_landlord_imported_whole_decides_as_the_rules_say,
    a_bad_row_changes_nothing_and_is_named_by_line_and_field,
    a_reimport_changes_nothing,
    an_older_version_never_overwrites_a_newer,
    csv_reads_as_json_lines_does,
    imported_facts_reach_the_other_node_within_a_second,
);
