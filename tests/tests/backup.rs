//! Backups of the embedded default (issue 17): `SqlStore::backup` copies the SQLite file while
//! it is being written, checks the copy, and the copy restored (opened as a database of its
//! own) holds every case as it was, line for line and step for step. It never overwrites a
//! file; PostgreSQL is refused with the way to back it up.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tillval_engine::model::Currency;
use tillval_services::case::Case;
use tillval_services::store::{Ledger, PoolSettings, Store};
use tillval_store::{BackupError, SqlStore};
use tillval_tests::db::*;

/// Every case, through the staff queue's pages.
async fn every_case(store: &SqlStore) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut after = None;
    loop {
        let page = store.case_queue(None, after, 7).await.unwrap();
        after = page.cases.last().map(|c| c.id);
        let more = page.has_next_page;
        cases.extend(page.cases);
        if !more {
            return cases;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_while_writing_restores_every_case() {
    let db = demo_db_on(Backend::Sqlite, "a_backup_restores_every_case")
        .await
        .unwrap();
    let Place::Sqlite(dir) = &db.place else {
        unreachable!()
    };
    let store = db.services.store().clone();
    let before = every_case(&store).await;
    assert!(before.len() >= 2, "{}", before.len());

    // A writer keeps writing (a debt set over and over, each its own transaction) while the
    // backup runs: neither waits for the other to finish.
    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicU64::new(0));
    let writer = {
        let (services, stop, writes) = (db.services.clone(), stop.clone(), writes.clone());
        tokio::spawn(async move {
            let tenant = tenant("bertil-lind");
            for n in 1..=5_000_i64 {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                services
                    .ledger_set_debt(&tenant, n, Currency::SEK)
                    .await
                    .unwrap();
                writes.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    while writes.load(Ordering::SeqCst) < 20 {
        tokio::task::yield_now().await;
    }
    let path = dir.path().join("backup.db");
    let backup = store.backup(&path).await.unwrap();
    let during = writes.load(Ordering::SeqCst);
    stop.store(true, Ordering::SeqCst);
    writer.await.unwrap();
    assert_eq!(backup.cases, before.len() as i64);
    assert!(backup.bytes > 0);
    assert!(!dir.path().join("backup.db.partial").exists());

    // Restored: the copy opened as a database of its own.
    let restored = SqlStore::sqlite(path.to_str().unwrap(), PoolSettings::default())
        .await
        .unwrap();
    assert_eq!(every_case(&restored).await, before);
    let debt = restored
        .debt(&tenant("bertil-lind"))
        .await
        .unwrap()
        .unwrap()
        .minor();
    assert!(
        (1..=during as i64).contains(&debt),
        "the copy's debt {debt} is one the writer wrote (it wrote {during} by the end of the backup)"
    );
    println!(
        "backup of {} bytes, {} cases; {during} writes by its end",
        backup.bytes, backup.cases
    );
    restored.close().await;

    // Never over a file.
    let again = store.backup(&path).await;
    assert!(
        matches!(again, Err(BackupError::TargetExists(_))),
        "{again:?}"
    );
    db.finish().await;
}

#[tokio::test]
async fn postgresql_is_backed_up_with_its_own_tools() {
    let Some(db) = demo_db_on(Backend::Postgres, "postgresql_backup_refused").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let refused = db.services.store().backup(&dir.path().join("x.db")).await;
    assert!(
        matches!(refused, Err(BackupError::NotSqlite)),
        "{refused:?}"
    );
    assert!(
        refused.unwrap_err().to_string().contains("pg_dump"),
        "the refusal says what to use"
    );
    db.finish().await;
}
