//! A landlord at scale in PostgreSQL, for any bench that needs one: properties with a catalogue
//! each, rental objects with every space, one tenant per object, and a long history of cases.
//! Written straight into the tables with `generate_series` (the import path would take an hour
//! for a million cases; this takes about a minute), after the store's own migrations.
//!
//! Every option of a property has a lock key of its own (10 categories × 10 spaces), as real
//! apartments do; the cases are all finished (installed, cancelled or rejected), so they are
//! history to page through, not ongoing orders: no order lock, no fee.

use sqlx::Executor;
use tillval_services::store::PoolSettings;
use tillval_store::SqlStore;

type AnyError = Box<dyn std::error::Error + Send + Sync>;

/// How big the landlord is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleSize {
    pub properties: u64,
    pub objects_per_property: u64,
    /// Options in each property's catalogue: at most 100 (10 categories × 10 spaces).
    pub options_per_property: u64,
    pub cases: u64,
}

impl ScaleSize {
    /// Issue 16's size: 100,000 rental objects, 1,000,000 cases, a catalogue of 100 options
    /// per property (1,000 properties).
    pub const ISSUE_16: ScaleSize = ScaleSize {
        properties: 1_000,
        objects_per_property: 100,
        options_per_property: 100,
        cases: 1_000_000,
    };

    pub fn objects(&self) -> u64 {
        self.properties * self.objects_per_property
    }
}

/// The spaces every apartment has; with the 10 categories, 100 distinct lock keys.
pub const SPACES: [&str; 10] = [
    "kok",
    "badrum",
    "hall",
    "sovrum",
    "vardagsrum",
    "balkong",
    "tvattstuga",
    "forrad",
    "entre",
    "garderob",
];

/// Tenant `n`'s id and their apartment's (tenant `hg-n` leases `lgh-n`).
pub fn household(n: u64) -> (String, String) {
    (format!("hg-{n}"), format!("lgh-{n}"))
}

/// Whether the database at `url` already holds a landlord of `size` (so a bench can reuse it).
pub async fn holds(url: &str, size: ScaleSize) -> Result<bool, AnyError> {
    let pool = sqlx::PgPool::connect(url).await?;
    let counts: Result<(i64, i64), sqlx::Error> = sqlx::query_as(
        "SELECT (SELECT count(*) FROM rental_objects), (SELECT count(*) FROM cases)",
    )
    .fetch_one(&pool)
    .await;
    pool.close().await;
    Ok(matches!(counts, Ok((objects, cases))
        if objects as u64 == size.objects() && cases as u64 == size.cases))
}

/// Migrates the (empty) database at `url` with the store's migrations and fills it to `size`.
pub async fn fill(url: &str, size: ScaleSize) -> Result<(), AnyError> {
    if size.options_per_property > 100 {
        return Err("at most 100 options per property".into());
    }
    let store = SqlStore::postgres(url, PoolSettings::default()).await?;
    store.close().await;
    let pool = sqlx::PgPool::connect(url).await?;
    let mut tx = pool.begin().await?;
    let objects = size.objects();
    let spaces = SPACES
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(",");
    let statements = [
        "INSERT INTO landlord_settings (id, ordering_enabled) VALUES (1, TRUE) ON CONFLICT DO NOTHING".to_owned(),
        "INSERT INTO terms (version, text_sv, text_en, published_at) \
         VALUES (1, 'Villkor', 'Terms', now()) ON CONFLICT DO NOTHING"
            .to_owned(),
        format!(
            "INSERT INTO properties (id, name) \
             SELECT 'fast-' || p, 'Fastighet ' || p FROM generate_series(0, {} - 1) p",
            size.properties
        ),
        "INSERT INTO catalogues (property_id, currency) SELECT id, 'SEK' FROM properties".to_owned(),
        "INSERT INTO categories (property_id, id, name, position) \
         SELECT p.id, 'kat-' || c, 'Kategori ' || c, c FROM properties p, generate_series(0, 9) c"
            .to_owned(),
        format!(
            "INSERT INTO options (property_id, id, category_id, space_id, name, description, \
               monthly_price, one_time_fee, currency, unit_kind, unit_max, position) \
             SELECT p.id, 'val-' || o, 'kat-' || (o % 10), (ARRAY[{spaces}])[o / 10 + 1], \
               'Tillval ' || o, 'Ett tillval att ha med i hyran.', 4900 + 100 * (o % 37), \
               CASE WHEN o % 2 = 0 THEN 50000 ELSE 0 END, 'SEK', \
               CASE WHEN o % 5 = 0 THEN 'piece' ELSE 'single' END, \
               CASE WHEN o % 5 = 0 THEN 6 ELSE 1 END, o % 13 \
             FROM properties p, generate_series(0, {} - 1) o",
            size.options_per_property
        ),
        "INSERT INTO option_pictures (property_id, option_id, seq, thumbnail, large, alt) \
         SELECT property_id, id, 0, '/bilder/' || id || '-liten.jpg', '/bilder/' || id || '.jpg', name \
         FROM options"
            .to_owned(),
        format!(
            "INSERT INTO rental_objects (id, property_id, address, building_year, rooms, area_sqm) \
             SELECT 'lgh-' || n, 'fast-' || (n / {}), 'Storgatan ' || n, 1960 + n % 60, 1 + n % 5, 30 + n % 90 \
             FROM generate_series(0, {objects} - 1) n",
            size.objects_per_property
        ),
        format!(
            "INSERT INTO spaces (rental_object_id, space_id, name, position) \
             SELECT 'lgh-' || n, s.id, initcap(s.id), s.position \
             FROM generate_series(0, {objects} - 1) n, \
               unnest(ARRAY[{spaces}]) WITH ORDINALITY AS s(id, position)"
        ),
        format!(
            "INSERT INTO tenants (id, name) SELECT 'hg-' || n, 'Hyresgäst ' || n \
             FROM generate_series(0, {objects} - 1) n"
        ),
        format!(
            "INSERT INTO leases (tenant_id, rental_object_id) SELECT 'hg-' || n, 'lgh-' || n \
             FROM generate_series(0, {objects} - 1) n"
        ),
        // Every household's cases spread over the last years, oldest first.
        format!(
            "INSERT INTO cases (number, tenant_id, rental_object_id, status, terms_version, \
               message, idempotency_key, created_at, updated_at) \
             SELECT 'TV-2025-' || lpad(i::text, 8, '0'), 'hg-' || (i % {objects}), 'lgh-' || (i % {objects}), \
               (ARRAY['INSTALLED', 'CANCELLED', 'REJECTED'])[i % 3 + 1], 1, '', 'scale-' || i, \
               now() - make_interval(secs => ({cases} - i) * 60), \
               now() - make_interval(secs => ({cases} - i) * 60) \
             FROM generate_series(0, {cases} - 1) i",
            cases = size.cases
        ),
        format!(
            "INSERT INTO case_lines (case_id, seq, option_id, option_name, category_id, space_id, \
               lock_keys, quantity, monthly_price, one_time_fee, currency) \
             SELECT c.id, 0, 'val-' || (c.id % {options}), 'Tillval ' || (c.id % {options}), \
               'kat-' || (c.id % {options} % 10), (ARRAY[{spaces}])[c.id % {options} / 10 + 1], \
               '[\"kat-' || (c.id % {options} % 10) || '/' || (ARRAY[{spaces}])[c.id % {options} / 10 + 1] || '\"]', \
               1, 4900, 0, 'SEK' \
             FROM cases c",
            options = size.options_per_property
        ),
        "INSERT INTO case_history (case_id, seq, status, actor, at) \
         SELECT id, 0, 'SUBMITTED', 'tenant', created_at FROM cases \
         UNION ALL SELECT id, 1, status, 'staff', updated_at FROM cases"
            .to_owned(),
    ];
    for statement in &statements {
        tx.execute(statement.as_str()).await?;
    }
    tx.commit().await?;
    pool.execute("ANALYZE").await?;
    pool.close().await;
    Ok(())
}
