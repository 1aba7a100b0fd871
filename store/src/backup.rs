//! Backups of the embedded default: an online, consistent copy of the SQLite file while the
//! server serves (`VACUUM INTO` reads one snapshot in a read transaction; WAL lets writers go
//! on), checked (`PRAGMA integrity_check`, the cases counted) before it takes its name, so a
//! file under the backup's name is always a whole, checked copy. PostgreSQL has its own tools
//! (`pg_dump`, base backups); docs/operations.md says how.

use std::path::{Path, PathBuf};

use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

use crate::SqlStore;

/// What a backup wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    pub path: PathBuf,
    pub bytes: u64,
    /// Cases in the copy, counted in it.
    pub cases: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "tillval backs up SQLite only; back PostgreSQL up with pg_dump (see docs/operations.md)"
    )]
    NotSqlite,
    #[error("{0} exists: a backup never overwrites a file")]
    TargetExists(PathBuf),
    #[error("{0} is not a path SQLite can be given (not UTF-8)")]
    UnusablePath(PathBuf),
    #[error("the copy failed: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the copy failed its check: {0}")]
    Check(String),
    #[error("writing {path}: {source}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl SqlStore {
    /// Copies the SQLite database to `to` (which must not exist) while it serves, checks the
    /// copy, and only then gives it its name.
    pub async fn backup(&self, to: &Path) -> Result<Backup, BackupError> {
        let SqlStore::Sqlite(store) = self else {
            return Err(BackupError::NotSqlite);
        };
        if to.exists() {
            return Err(BackupError::TargetExists(to.to_owned()));
        }
        let mut partial = to.as_os_str().to_owned();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        let partial_text = partial
            .to_str()
            .ok_or_else(|| BackupError::UnusablePath(to.to_owned()))?
            .to_owned();
        // A partial copy left by a backup that died is never a backup: start afresh.
        remove_if_there(&partial)?;
        let copied = async {
            sqlx::query("VACUUM INTO $1")
                .bind(&partial_text)
                .execute(&store.0.pool)
                .await?;
            check(&partial).await
        }
        .await;
        let cases = match copied {
            Ok(cases) => cases,
            Err(error) => {
                remove_if_there(&partial)?;
                return Err(error);
            }
        };
        let file = |source| BackupError::File {
            path: to.to_owned(),
            source,
        };
        std::fs::File::open(&partial)
            .and_then(|f| f.sync_all())
            .map_err(file)?;
        std::fs::rename(&partial, to).map_err(file)?;
        if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(file)?;
        }
        let bytes = std::fs::metadata(to).map_err(file)?.len();
        tracing::info!(path = %to.display(), bytes, cases, "backup written");
        Ok(Backup {
            path: to.to_owned(),
            bytes,
            cases,
        })
    }
}

/// The copy opened read-only: whole (`integrity_check` says `ok`) and readable (its cases
/// counted).
async fn check(copy: &Path) -> Result<i64, BackupError> {
    let options = SqliteConnectOptions::new().filename(copy).read_only(true);
    let mut conn = SqliteConnection::connect_with(&options).await?;
    let verdict: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await?;
    if verdict != ["ok"] {
        return Err(BackupError::Check(verdict.join("; ")));
    }
    let cases: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases")
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    Ok(cases)
}

fn remove_if_there(path: &Path) -> Result<(), BackupError> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(BackupError::File {
            path: path.to_owned(),
            source: error,
        }),
        _ => Ok(()),
    }
}
