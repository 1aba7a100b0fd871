//! PostgreSQL databases for tests (feature `testing`): each test gets a database of its own on
//! the server named by `TILLVAL_TEST_DATABASE_URL`, so tests run in parallel and leave nothing
//! behind for the next. Without the variable, tests that need PostgreSQL are skipped with a
//! printed line; with `TILLVAL_REQUIRE_POSTGRES=1` a missing or unreachable server fails them.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::{Connection, PgConnection, Row};

/// Databases this helper creates start with this; older than an hour, they are leftovers of a
/// test that failed before it could drop its own, and are dropped.
const PREFIX: &str = "tillval_t_";
const STALE_AFTER_SECS: u64 = 3600;

static COUNTER: AtomicU32 = AtomicU32::new(0);

#[derive(Debug, thiserror::Error)]
pub enum TestDatabaseError {
    #[error("TILLVAL_TEST_DATABASE_URL is not set")]
    NotConfigured,
    #[error("PostgreSQL at {url}: {message}")]
    Server { url: String, message: String },
}

/// The server's URL, or `None` (after printing why) when these tests are to be skipped.
///
/// # Panics
/// When `TILLVAL_REQUIRE_POSTGRES=1` and `TILLVAL_TEST_DATABASE_URL` is not set: CI must not
/// pass by skipping.
#[allow(clippy::panic)]
pub fn server_url(test: &str) -> Option<String> {
    match std::env::var("TILLVAL_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if required() => {
            panic!("{test}: TILLVAL_REQUIRE_POSTGRES=1 but TILLVAL_TEST_DATABASE_URL is not set")
        }
        _ => {
            println!("skipped {test}: set TILLVAL_TEST_DATABASE_URL to run it on PostgreSQL");
            None
        }
    }
}

/// Whether PostgreSQL tests must run (`TILLVAL_REQUIRE_POSTGRES=1`).
pub fn required() -> bool {
    std::env::var("TILLVAL_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// A database of one test's own.
#[derive(Debug)]
pub struct TestDatabase {
    /// Connect here.
    pub url: String,
    name: String,
    server: String,
}

impl TestDatabase {
    /// Creates an empty database on `server` (a URL whose database the tests may connect to).
    pub async fn create(server: &str) -> Result<TestDatabase, TestDatabaseError> {
        let fail = |e: sqlx::Error| TestDatabaseError::Server {
            url: server.to_owned(),
            message: e.to_string(),
        };
        let mut admin = PgConnection::connect(server).await.map_err(fail)?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        drop_stale(&mut admin, now).await.map_err(fail)?;
        let name = format!(
            "{PREFIX}{now}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
            .map_err(fail)?;
        admin.close().await.map_err(fail)?;
        Ok(TestDatabase {
            url: with_database(server, &name),
            name,
            server: server.to_owned(),
        })
    }

    /// Drops the database, closing whatever is still connected to it.
    pub async fn drop_database(self) -> Result<(), TestDatabaseError> {
        let fail = |e: sqlx::Error| TestDatabaseError::Server {
            url: self.server.clone(),
            message: e.to_string(),
        };
        let mut admin = PgConnection::connect(&self.server).await.map_err(fail)?;
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        ))
        .execute(&mut admin)
        .await
        .map_err(fail)?;
        admin.close().await.map_err(fail)?;
        Ok(())
    }

    /// Empties every table of the migrated schema (not the migrations' own), restarts its
    /// sequences and sets the landlord's settings back, for tests that run many cases on one
    /// database.
    pub async fn reset(&self) -> Result<(), TestDatabaseError> {
        let fail = |e: sqlx::Error| TestDatabaseError::Server {
            url: self.url.clone(),
            message: e.to_string(),
        };
        let mut conn = PgConnection::connect(&self.url).await.map_err(fail)?;
        let tables: Vec<String> = sqlx::query(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() \
             AND tablename NOT IN ('_sqlx_migrations', 'landlord_settings')",
        )
        .fetch_all(&mut conn)
        .await
        .map_err(fail)?
        .iter()
        .map(|row| row.try_get::<String, _>(0))
        .collect::<Result<_, _>>()
        .map_err(fail)?;
        if tables.is_empty() {
            // Not migrated yet: nothing to empty.
            return conn.close().await.map_err(fail);
        }
        {
            let list = tables
                .iter()
                .map(|t| format!("\"{t}\""))
                .collect::<Vec<_>>()
                .join(", ");
            sqlx::query(&format!("TRUNCATE {list} RESTART IDENTITY CASCADE"))
                .execute(&mut conn)
                .await
                .map_err(fail)?;
        }
        sqlx::query("UPDATE landlord_settings SET ordering_enabled = TRUE")
            .execute(&mut conn)
            .await
            .map_err(fail)?;
        sqlx::query("ALTER SEQUENCE IF EXISTS case_number_seq RESTART")
            .execute(&mut conn)
            .await
            .map_err(fail)?;
        conn.close().await.map_err(fail)?;
        Ok(())
    }
}

async fn drop_stale(admin: &mut PgConnection, now: u64) -> Result<(), sqlx::Error> {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'tillval\\_t\\_%'")
            .fetch_all(&mut *admin)
            .await?;
    for name in names {
        let created = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|secs| secs.parse::<u64>().ok());
        if created.is_some_and(|secs| secs + STALE_AFTER_SECS < now) {
            // Another run may be dropping it too; either way it goes.
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut *admin)
                .await;
        }
    }
    Ok(())
}

/// `url` with its database (the path) replaced by `name`, query kept.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_in_a_url_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/test?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }
}
