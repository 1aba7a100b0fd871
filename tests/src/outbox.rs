//! What the event outbox holds, read straight from the database: for tests that check every
//! event written reached a receiver (the store's API says only how deep the outbox is).

use sqlx::Connection;

/// The `webhook-id` of every event written, in the database at `url` (SQLite or PostgreSQL).
pub async fn webhook_ids(url: &str) -> Result<Vec<String>, sqlx::Error> {
    const SQL: &str = "SELECT webhook_id FROM outbox_events ORDER BY id";
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        let ids = sqlx::query_scalar(SQL).fetch_all(&mut conn).await?;
        conn.close().await?;
        Ok(ids)
    } else {
        let mut conn = sqlx::SqliteConnection::connect(url).await?;
        let ids = sqlx::query_scalar(SQL).fetch_all(&mut conn).await?;
        conn.close().await?;
        Ok(ids)
    }
}
