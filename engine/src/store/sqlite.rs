//! The store on SQLite: one file, WAL, foreign keys on, `synchronous = FULL` (a committed
//! order survives a power cut), a busy timeout, and `BEGIN IMMEDIATE` for every write so that
//! two writers never deadlock upgrading a read lock.

use crate::model::Entity;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqliteConnection, SqlitePool};

use super::rows::{
    SnapshotRow, StoreRow, actor_text, assemble_leased_snapshot, assemble_snapshot, cart_line_from,
    case_from, case_line_from, category_from, decision_from, details_row, fee_from, history_from,
    option_from, picture_from, rental_object_from, space_from, stored_rule_set_from, tenant_from,
    terms_from,
};
use super::{
    Fee, PoolSettings, Snapshot, Store, StoreError, StoredCart, SubmitOutcome, SubmitPlan,
    TenantRecord,
};
use crate::cases::{Actor, Case, CaseNumber, CasePage, CaseStatus};
use crate::checkout::{CheckoutDetails, IdempotencyKey, Terms};
use crate::model::{
    AddOnOption, Cart, CartLine, Catalogue, CatalogueRecord, Currency, LockKey, Money, OptionId,
    Picture, PropertyId, Quantity, RentalObject, RentalObjectId, TenantId, Unit,
};

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// Everything one decision reads, as rows of (kind, three texts, three numbers): one
/// statement, so one consistent snapshot without a transaction, and one round trip to sqlx's
/// connection thread instead of a dozen (that hop, not the SQL, is the cost). ?1 is the
/// tenant, ?2 the rental object.
const SNAPSHOT_SQL: &str = "SELECT 'enabled' AS kind, NULL AS t1, NULL AS t2, NULL AS t3, \
        (SELECT s.ordering_enabled AND t.ordering_enabled FROM landlord_settings s, tenants t \
         WHERE s.id = 1 AND t.id = ?1) AS n1, NULL AS n2, NULL AS n3 \
 UNION ALL SELECT 'currency', c.currency, NULL, NULL, NULL, NULL, NULL FROM catalogues c \
        JOIN rental_objects o ON o.property_id = c.property_id WHERE o.id = ?2 \
 UNION ALL SELECT 'debt', currency, NULL, NULL, amount, NULL, NULL FROM ledger_debts WHERE tenant_id = ?1 \
 UNION ALL SELECT 'ongoing', l.lock_key, c.number, NULL, NULL, NULL, NULL FROM order_locks l \
        JOIN cases c ON c.id = l.case_id WHERE l.rental_object_id = ?2 \
 UNION ALL SELECT 'unpaid', currency, lock_keys, NULL, amount - paid, NULL, NULL FROM ledger_fees \
        WHERE rental_object_id = ?2 AND tenant_id = ?1 AND paid < amount \
 UNION ALL SELECT 'active', l.currency, NULL, NULL, l.monthly_price, l.quantity, NULL FROM case_lines l \
        JOIN cases c ON c.id = l.case_id \
        WHERE c.rental_object_id = ?2 AND c.status NOT IN ('REJECTED', 'CANCELLED') \
 UNION ALL SELECT 'co_tenant', tenant_id, NULL, NULL, NULL, NULL, NULL FROM leases \
        WHERE rental_object_id = ?2 AND tenant_id != ?1 \
 UNION ALL SELECT 'line', option_id, NULL, NULL, quantity, seq, NULL FROM cart_lines \
        WHERE tenant_id = ?1 AND rental_object_id = ?2 \
 UNION ALL SELECT 'details', contact_phone, preferred_date, message, NULL, NULL, NULL FROM carts \
        WHERE tenant_id = ?1 AND rental_object_id = ?2";

/// The apartment and its spaces, only if the tenant leases it; goes before [`SNAPSHOT_SQL`].
const LEASED_OBJECT_SQL: &str = "SELECT 'object', o.id, o.property_id, o.address, o.building_year, o.rooms, o.area_sqm \
        FROM leases l JOIN rental_objects o ON o.id = l.rental_object_id \
        WHERE l.tenant_id = ?1 AND l.rental_object_id = ?2 \
 UNION ALL SELECT 'space', s.space_id, s.name, NULL, s.position, NULL, NULL \
        FROM leases l JOIN spaces s ON s.rental_object_id = l.rental_object_id \
        WHERE l.tenant_id = ?1 AND l.rental_object_id = ?2";

impl SqliteStore {
    /// Opens (creating if need be) the database at `url` (`sqlite://tillval.db`, or a path) and
    /// brings its schema up to date.
    pub async fn open(url: &str) -> Result<SqliteStore, StoreError> {
        SqliteStore::open_with(url, PoolSettings::default()).await
    }

    /// [`SqliteStore::open`] with the pool's size and wait.
    pub async fn open_with(url: &str, settings: PoolSettings) -> Result<SqliteStore, StoreError> {
        let options = if url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(url)?
        } else {
            SqliteConnectOptions::new().filename(url)
        };
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Database(e.to_string()))?;
        Ok(SqliteStore { pool })
    }

    /// A private in-memory database, for tests: one connection, gone when closed.
    pub async fn in_memory() -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")?.foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Database(e.to_string()))?;
        Ok(SqliteStore { pool })
    }

    async fn snapshot_rows(
        &self,
        sql: &str,
        tenant: &TenantId,
        object: &RentalObjectId,
    ) -> Result<Vec<SnapshotRow>, StoreError> {
        sqlx::query(sql)
            .bind(tenant.as_str())
            .bind(object.as_str())
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(SnapshotRow {
                    kind: row.try_get(0)?,
                    t1: row.try_get(1)?,
                    t2: row.try_get(2)?,
                    t3: row.try_get(3)?,
                    n1: row.try_get(4)?,
                    n2: row.try_get(5)?,
                    n3: row.try_get(6)?,
                })
            })
            .collect()
    }

    /// Closes every connection; waits for them to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn load_rental_object(
        conn: &mut SqliteConnection,
        id: &str,
    ) -> Result<Option<RentalObject>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT id, property_id, address, building_year, rooms, area_sqm FROM rental_objects WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        else {
            return Ok(None);
        };
        let spaces = sqlx::query(
            "SELECT space_id, name FROM spaces WHERE rental_object_id = ? ORDER BY position",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|s| space_from(s, 0))
        .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Some(rental_object_from(&row, spaces)?))
    }

    async fn load_cart(
        conn: &mut SqliteConnection,
        tenant: &TenantId,
        object: &RentalObjectId,
    ) -> Result<StoredCart, StoreError> {
        let lines = sqlx::query(
            "SELECT option_id, quantity FROM cart_lines WHERE tenant_id = ? AND rental_object_id = ? ORDER BY seq",
        )
        .bind(tenant.as_str())
        .bind(object.as_str())
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(cart_line_from)
        .collect::<Result<Vec<_>, StoreError>>()?;
        let details = sqlx::query(
            "SELECT contact_phone, preferred_date, message FROM carts WHERE tenant_id = ? AND rental_object_id = ?",
        )
        .bind(tenant.as_str())
        .bind(object.as_str())
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| details_row(&r))
        .transpose()?
        .unwrap_or_default();
        Ok(StoredCart {
            cart: Cart::with_lines(tenant.clone(), object.clone(), lines)?,
            details,
        })
    }

    async fn load_case(conn: &mut SqliteConnection, id: i64) -> Result<Option<Case>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT id, number, tenant_id, rental_object_id, status, terms_version, contact_phone, preferred_date, \
             message, created_at, updated_at FROM cases WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        else {
            return Ok(None);
        };
        let lines = sqlx::query(
            "SELECT option_id, option_name, category_id, space_id, lock_keys, quantity, monthly_price, one_time_fee, \
             currency FROM case_lines WHERE case_id = ? ORDER BY seq",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(case_line_from)
        .collect::<Result<Vec<_>, StoreError>>()?;
        let history = sqlx::query(
            "SELECT status, actor, at FROM case_history WHERE case_id = ? ORDER BY seq",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(history_from)
        .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Some(case_from(&row, lines, history)?))
    }

    async fn load_fee(conn: &mut SqliteConnection, id: i64) -> Result<Option<Fee>, StoreError> {
        let row = sqlx::query(
            "SELECT f.id, f.tenant_id, f.rental_object_id, c.number, f.option_id, f.lock_keys, f.amount, f.paid, \
             f.currency FROM ledger_fees f JOIN cases c ON c.id = f.case_id WHERE f.id = ?",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        row.map(|r| fee_from(&r)).transpose()
    }
}

async fn insert_option(
    conn: &mut SqliteConnection,
    property: &str,
    option: &AddOnOption,
) -> Result<(), StoreError> {
    let (kind, max) = match option.unit() {
        Unit::Piece { max } => ("piece", max.get()),
        Unit::Single => ("single", 1),
    };
    sqlx::query(
        "INSERT INTO options (property_id, id, category_id, space_id, name, description, monthly_price, \
         one_time_fee, currency, unit_kind, unit_max, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(property)
    .bind(option.id().as_str())
    .bind(option.category().as_str())
    .bind(option.space().as_str())
    .bind(option.name())
    .bind(option.description())
    .bind(option.monthly_price().minor())
    .bind(option.one_time_fee().minor())
    .bind(option.currency().code())
    .bind(kind)
    .bind(i64::from(max))
    .bind(i64::from(option.position()))
    .execute(&mut *conn)
    .await?;
    for (seq, picture) in option.pictures().iter().enumerate() {
        sqlx::query(
            "INSERT INTO option_pictures (property_id, option_id, seq, thumbnail, large, alt) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(property)
        .bind(option.id().as_str())
        .bind(seq as i64)
        .bind(&picture.thumbnail)
        .bind(&picture.large)
        .bind(&picture.alt)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn activate(
    conn: &mut SqliteConnection,
    version: i64,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO active_rule_set (id, version, activated_by, activated_at) VALUES (1, ?, ?, ?) \
         ON CONFLICT (id) DO UPDATE SET version = excluded.version, activated_by = excluded.activated_by, \
         activated_at = excluded.activated_at",
    )
    .bind(version)
    .bind(by)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn stored_rule_set(
    conn: &mut SqliteConnection,
    version: i64,
) -> Result<Option<super::StoredRuleSet>, StoreError> {
    let row = sqlx::query(
        "SELECT r.version, r.name, r.manifest_version, r.published_by, r.published_at, \
         (SELECT a.version FROM active_rule_set a WHERE a.id = 1) = r.version FROM rule_sets r WHERE r.version = ?",
    )
    .bind(version)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| stored_rule_set_from(&r)).transpose()
}

impl super::Ledger for SqliteStore {
    async fn set_debt(
        &self,
        tenant: &TenantId,
        debt: Money,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO ledger_debts (tenant_id, amount, currency, updated_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (tenant_id) DO UPDATE SET amount = excluded.amount, currency = excluded.currency, \
             updated_at = excluded.updated_at",
        )
        .bind(tenant.as_str())
        .bind(debt.minor())
        .bind(debt.currency().code())
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn fees(&self, tenant: &TenantId) -> Result<Vec<Fee>, StoreError> {
        sqlx::query(
            "SELECT f.id, f.tenant_id, f.rental_object_id, c.number, f.option_id, f.lock_keys, f.amount, f.paid, \
             f.currency FROM ledger_fees f JOIN cases c ON c.id = f.case_id WHERE f.tenant_id = ? ORDER BY f.id",
        )
        .bind(tenant.as_str())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(fee_from)
        .collect()
    }

    async fn record_payment(
        &self,
        fee: i64,
        amount: Money,
        at: DateTime<Utc>,
    ) -> Result<Fee, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let current = Self::load_fee(&mut tx, fee)
            .await?
            .ok_or(StoreError::NotFound(Entity::Fee))?;
        let remaining = current.remaining();
        if amount.currency() != remaining.currency() || amount.minor() > remaining.minor() {
            return Err(StoreError::Overpayment {
                paid: amount,
                remaining,
            });
        }
        sqlx::query("UPDATE ledger_fees SET paid = paid + ? WHERE id = ?")
            .bind(amount.minor())
            .bind(fee)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO ledger_payments (fee_id, amount, at) VALUES (?, ?, ?)")
            .bind(fee)
            .bind(amount.minor())
            .bind(at)
            .execute(&mut *tx)
            .await?;
        let updated = Self::load_fee(&mut tx, fee)
            .await?
            .ok_or(StoreError::NotFound(Entity::Fee))?;
        tx.commit().await?;
        Ok(updated)
    }
}

impl Store for SqliteStore {
    async fn tenant(&self, tenant: &TenantId) -> Result<Option<TenantRecord>, StoreError> {
        let row = sqlx::query("SELECT id, name, ordering_enabled FROM tenants WHERE id = ?")
            .bind(tenant.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| tenant_from(&r)).transpose()
    }

    async fn rental_objects(&self, tenant: &TenantId) -> Result<Vec<RentalObject>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT rental_object_id FROM leases WHERE tenant_id = ? ORDER BY rental_object_id",
        )
        .bind(tenant.as_str())
        .fetch_all(&mut *conn)
        .await?;
        let mut objects = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(object) = Self::load_rental_object(&mut conn, &id).await? {
                objects.push(object);
            }
        }
        Ok(objects)
    }

    async fn leased_rental_object(
        &self,
        tenant: &TenantId,
        rental_object: &RentalObjectId,
    ) -> Result<Option<Arc<RentalObject>>, StoreError> {
        // The lease, the apartment and its spaces in one statement (one row per space).
        let rows = sqlx::query(
            "SELECT o.id, o.property_id, o.address, o.building_year, o.rooms, o.area_sqm, s.space_id, s.name \
             FROM leases l JOIN rental_objects o ON o.id = l.rental_object_id \
             LEFT JOIN spaces s ON s.rental_object_id = o.id \
             WHERE l.tenant_id = ? AND l.rental_object_id = ? ORDER BY s.position",
        )
        .bind(tenant.as_str())
        .bind(rental_object.as_str())
        .fetch_all(&self.pool)
        .await?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let mut spaces = Vec::with_capacity(rows.len());
        for row in &rows {
            // Without spaces, the LEFT JOIN gives one row of NULLs.
            if row.text_opt(6)?.is_some() {
                spaces.push(space_from(row, 6)?);
            }
        }
        Ok(Some(Arc::new(rental_object_from(first, spaces)?)))
    }

    async fn leased_snapshot(
        &self,
        tenant: &TenantId,
        object: &RentalObjectId,
        today: NaiveDate,
    ) -> Result<Option<Snapshot>, StoreError> {
        let sql = format!("{LEASED_OBJECT_SQL} UNION ALL {SNAPSHOT_SQL}");
        let rows = self.snapshot_rows(&sql, tenant, object).await?;
        assemble_leased_snapshot(rows, tenant, today)
    }

    async fn snapshot(
        &self,
        tenant: &TenantId,
        object: Arc<RentalObject>,
        today: NaiveDate,
    ) -> Result<Snapshot, StoreError> {
        let rows = self
            .snapshot_rows(SNAPSHOT_SQL, tenant, object.id())
            .await?;
        assemble_snapshot(rows, tenant, object, today)
    }

    async fn catalogue(&self, property: &PropertyId) -> Result<Option<Catalogue>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let Some(currency) = sqlx::query_scalar::<_, String>(
            "SELECT currency FROM catalogues WHERE property_id = ?",
        )
        .bind(property.as_str())
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let categories =
            sqlx::query("SELECT id, name, position FROM categories WHERE property_id = ?")
                .bind(property.as_str())
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(category_from)
                .collect::<Result<Vec<_>, StoreError>>()?;
        let mut pictures: HashMap<String, Vec<Picture>> = HashMap::new();
        for r in sqlx::query(
            "SELECT option_id, thumbnail, large, alt FROM option_pictures WHERE property_id = ? ORDER BY option_id, seq",
        )
        .bind(property.as_str())
        .fetch_all(&mut *tx)
        .await?
        {
            let (option, picture) = picture_from(&r)?;
            pictures.entry(option).or_default().push(picture);
        }
        let options = sqlx::query(
            "SELECT id, category_id, space_id, name, description, monthly_price, one_time_fee, currency, unit_kind, \
             unit_max, position FROM options WHERE property_id = ?",
        )
        .bind(property.as_str())
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| option_from(r, &mut pictures))
        .collect::<Result<Vec<_>, StoreError>>()?;
        tx.commit().await?;
        let record = CatalogueRecord {
            property: property.clone(),
            currency: Currency::parse(&currency)?,
            categories,
            options,
        };
        Ok(Some(Catalogue::try_from(record)?))
    }

    async fn cart_add_line(
        &self,
        tenant: &TenantId,
        object: &RentalObjectId,
        line: &CartLine,
        keys: &[LockKey],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(
            "INSERT INTO carts (tenant_id, rental_object_id, updated_at) VALUES (?, ?, ?) \
             ON CONFLICT (tenant_id, rental_object_id) DO UPDATE SET updated_at = excluded.updated_at",
        )
        .bind(tenant.as_str())
        .bind(object.as_str())
        .bind(at)
        .execute(&mut *tx)
        .await?;
        let inserted = sqlx::query(
            "INSERT INTO cart_lines (tenant_id, rental_object_id, option_id, quantity, seq) VALUES (?, ?, ?, ?, \
             (SELECT COALESCE(MAX(seq), 0) + 1 FROM cart_lines WHERE tenant_id = ? AND rental_object_id = ?))",
        )
        .bind(tenant.as_str())
        .bind(object.as_str())
        .bind(line.option.as_str())
        .bind(i64::from(line.quantity.get()))
        .bind(tenant.as_str())
        .bind(object.as_str())
        .execute(&mut *tx)
        .await;
        match inserted {
            Err(e) if is_unique_violation(&e) => {
                let key = keys
                    .first()
                    .cloned()
                    .ok_or(StoreError::NotFound(Entity::LockKey))?;
                return Err(StoreError::CartKeyTaken {
                    key,
                    holder: line.option.clone(),
                });
            }
            other => other?,
        };
        for key in keys {
            let inserted = sqlx::query(
                "INSERT INTO cart_line_keys (tenant_id, rental_object_id, lock_key, option_id) VALUES (?, ?, ?, ?)",
            )
            .bind(tenant.as_str())
            .bind(object.as_str())
            .bind(key.as_str())
            .bind(line.option.as_str())
            .execute(&mut *tx)
            .await;
            if let Err(e) = &inserted
                && is_unique_violation(e)
            {
                let holder: String = sqlx::query_scalar(
                    "SELECT option_id FROM cart_line_keys WHERE tenant_id = ? AND rental_object_id = ? AND lock_key = ?",
                )
                .bind(tenant.as_str())
                .bind(object.as_str())
                .bind(key.as_str())
                .fetch_one(&mut *tx)
                .await?;
                return Err(StoreError::CartKeyTaken {
                    key: key.clone(),
                    holder: OptionId::parse(holder)?,
                });
            }
            inserted?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn cart_set_quantity(
        &self,
        tenant: &TenantId,
        object: &RentalObjectId,
        option: &OptionId,
        quantity: Quantity,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let updated = sqlx::query(
            "UPDATE cart_lines SET quantity = ? WHERE tenant_id = ? AND rental_object_id = ? AND option_id = ?",
        )
        .bind(i64::from(quantity.get()))
        .bind(tenant.as_str())
        .bind(object.as_str())
        .bind(option.as_str())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound(Entity::CartLine));
        }
        sqlx::query("UPDATE carts SET updated_at = ? WHERE tenant_id = ? AND rental_object_id = ?")
            .bind(at)
            .bind(tenant.as_str())
            .bind(object.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn cart_remove_line(
        &self,
        tenant: &TenantId,
        object: &RentalObjectId,
        option: &OptionId,
    ) -> Result<(), StoreError> {
        let removed = sqlx::query(
            "DELETE FROM cart_lines WHERE tenant_id = ? AND rental_object_id = ? AND option_id = ?",
        )
        .bind(tenant.as_str())
        .bind(object.as_str())
        .bind(option.as_str())
        .execute(&self.pool)
        .await?;
        if removed.rows_affected() == 0 {
            return Err(StoreError::NotFound(Entity::CartLine));
        }
        Ok(())
    }

    async fn cart_clear(
        &self,
        tenant: &TenantId,
        object: &RentalObjectId,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM cart_lines WHERE tenant_id = ? AND rental_object_id = ?")
            .bind(tenant.as_str())
            .bind(object.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn cart_set_details(
        &self,
        tenant: &TenantId,
        object: &RentalObjectId,
        details: &CheckoutDetails,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO carts (tenant_id, rental_object_id, contact_phone, preferred_date, message, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, rental_object_id) DO UPDATE SET \
             contact_phone = excluded.contact_phone, preferred_date = excluded.preferred_date, \
             message = excluded.message, updated_at = excluded.updated_at",
        )
        .bind(tenant.as_str())
        .bind(object.as_str())
        .bind(details.contact_phone.as_ref().map(|p| p.as_str().to_owned()))
        .bind(details.preferred_date)
        .bind(&details.message)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn current_terms(&self) -> Result<Option<Terms>, StoreError> {
        let row = sqlx::query("SELECT version, text_sv, text_en, published_at FROM terms ORDER BY version DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| terms_from(&r)).transpose()
    }

    async fn submit(&self, plan: &SubmitPlan) -> Result<SubmitOutcome, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let existing: Option<i64> =
            sqlx::query_scalar("SELECT id FROM cases WHERE tenant_id = ? AND idempotency_key = ?")
                .bind(plan.tenant.as_str())
                .bind(plan.idempotency_key.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(id) = existing {
            let case = Self::load_case(&mut tx, id)
                .await?
                .ok_or(StoreError::NotFound(Entity::Case))?;
            tx.commit().await?;
            return Ok(SubmitOutcome::Replayed(case));
        }
        let current = Self::load_cart(&mut tx, &plan.tenant, &plan.rental_object).await?;
        let mut now: Vec<(&OptionId, Quantity)> = current
            .cart
            .lines()
            .iter()
            .map(|l| (&l.option, l.quantity))
            .collect();
        let mut decided: Vec<(&OptionId, Quantity)> = plan
            .cart_lines
            .iter()
            .map(|l| (&l.option, l.quantity))
            .collect();
        now.sort();
        decided.sort();
        if now != decided {
            return Err(StoreError::CartChanged);
        }
        let year = plan.at.year();
        let sequence: i64 = sqlx::query_scalar(
            "INSERT INTO case_numbers (year, last) VALUES (?, 1) \
             ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last",
        )
        .bind(year)
        .fetch_one(&mut *tx)
        .await?;
        let number = CaseNumber::new(year, sequence);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO cases (number, tenant_id, rental_object_id, status, terms_version, contact_phone, \
             preferred_date, message, idempotency_key, created_at, updated_at) \
             VALUES (?, ?, ?, 'SUBMITTED', ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(number.as_str())
        .bind(plan.tenant.as_str())
        .bind(plan.rental_object.as_str())
        .bind(plan.terms_version)
        .bind(plan.details.contact_phone.as_ref().map(|p| p.as_str().to_owned()))
        .bind(plan.details.preferred_date)
        .bind(&plan.details.message)
        .bind(plan.idempotency_key.as_str())
        .bind(plan.at)
        .bind(plan.at)
        .fetch_one(&mut *tx)
        .await?;
        for (seq, line) in plan.lines.iter().enumerate() {
            let keys = serde_json::to_string(&line.keys)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            sqlx::query(
                "INSERT INTO case_lines (case_id, seq, option_id, option_name, category_id, space_id, lock_keys, \
                 quantity, monthly_price, one_time_fee, currency) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(id)
            .bind(seq as i64)
            .bind(line.option.as_str())
            .bind(&line.option_name)
            .bind(line.category.as_str())
            .bind(line.space.as_str())
            .bind(keys)
            .bind(i64::from(line.quantity.get()))
            .bind(line.monthly_price.minor())
            .bind(line.one_time_fee.minor())
            .bind(line.monthly_price.currency().code())
            .execute(&mut *tx)
            .await?;
            for key in &line.keys {
                let locked = sqlx::query("INSERT INTO order_locks (rental_object_id, lock_key, case_id) VALUES (?, ?, ?)")
                    .bind(plan.rental_object.as_str())
                    .bind(key.as_str())
                    .bind(id)
                    .execute(&mut *tx)
                    .await;
                match locked {
                    // Dropping the transaction rolls everything above back.
                    Err(e) if is_unique_violation(&e) => {
                        return Err(StoreError::LockTaken { key: key.clone() });
                    }
                    other => other?,
                };
            }
        }
        sqlx::query("INSERT INTO case_history (case_id, seq, status, actor, at) VALUES (?, 1, 'SUBMITTED', 'tenant', ?)")
            .bind(id)
            .bind(plan.at)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM carts WHERE tenant_id = ? AND rental_object_id = ?")
            .bind(plan.tenant.as_str())
            .bind(plan.rental_object.as_str())
            .execute(&mut *tx)
            .await?;
        let case = Self::load_case(&mut tx, id)
            .await?
            .ok_or(StoreError::NotFound(Entity::Case))?;
        tx.commit().await?;
        Ok(SubmitOutcome::Created(case))
    }

    async fn case_by_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &IdempotencyKey,
    ) -> Result<Option<Case>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let id: Option<i64> =
            sqlx::query_scalar("SELECT id FROM cases WHERE tenant_id = ? AND idempotency_key = ?")
                .bind(tenant.as_str())
                .bind(key.as_str())
                .fetch_optional(&mut *conn)
                .await?;
        match id {
            Some(id) => Self::load_case(&mut conn, id).await,
            None => Ok(None),
        }
    }

    async fn case(&self, number: &CaseNumber) -> Result<Option<Case>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let id: Option<i64> = sqlx::query_scalar("SELECT id FROM cases WHERE number = ?")
            .bind(number.as_str())
            .fetch_optional(&mut *conn)
            .await?;
        match id {
            Some(id) => Self::load_case(&mut conn, id).await,
            None => Ok(None),
        }
    }

    async fn cases(
        &self,
        tenant: &TenantId,
        status: Option<CaseStatus>,
        after: Option<i64>,
        first: u32,
    ) -> Result<CasePage, StoreError> {
        let mut tx = self.pool.begin().await?;
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM cases WHERE tenant_id = ? AND (? IS NULL OR status = ?) AND (? IS NULL OR id < ?) \
             ORDER BY id DESC LIMIT ?",
        )
        .bind(tenant.as_str())
        .bind(status.map(CaseStatus::as_str))
        .bind(status.map(CaseStatus::as_str))
        .bind(after)
        .bind(after)
        .bind(i64::from(first) + 1)
        .fetch_all(&mut *tx)
        .await?;
        let has_next_page = ids.len() > first as usize;
        let mut cases = Vec::with_capacity(ids.len());
        for id in ids.into_iter().take(first as usize) {
            if let Some(case) = Self::load_case(&mut tx, id).await? {
                cases.push(case);
            }
        }
        tx.commit().await?;
        Ok(CasePage {
            cases,
            has_next_page,
        })
    }

    async fn transition(
        &self,
        number: &CaseNumber,
        from: CaseStatus,
        to: CaseStatus,
        actor: Actor,
        at: DateTime<Utc>,
    ) -> Result<Case, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let row = sqlx::query("SELECT id, status FROM cases WHERE number = ?")
            .bind(number.as_str())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound(Entity::Case))?;
        let id: i64 = row.try_get(0)?;
        if row.try_get::<String, _>(1)? != from.as_str() {
            return Err(StoreError::StatusChanged {
                number: number.clone(),
                expected: from,
            });
        }
        sqlx::query("UPDATE cases SET status = ?, updated_at = ? WHERE id = ?")
            .bind(to.as_str())
            .bind(at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO case_history (case_id, seq, status, actor, at) \
             VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM case_history WHERE case_id = ?), ?, ?, ?)",
        )
        .bind(id)
        .bind(id)
        .bind(to.as_str())
        .bind(actor_text(actor))
        .bind(at)
        .execute(&mut *tx)
        .await?;
        if !to.holds_locks() {
            sqlx::query("DELETE FROM order_locks WHERE case_id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let case = Self::load_case(&mut tx, id)
            .await?
            .ok_or(StoreError::NotFound(Entity::Case))?;
        if to == CaseStatus::Installed {
            for line in &case.lines {
                let fee = line.one_time_total();
                if fee.is_zero() {
                    continue;
                }
                let keys = serde_json::to_string(&line.keys)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                sqlx::query(
                    "INSERT INTO ledger_fees (tenant_id, rental_object_id, case_id, option_id, lock_keys, amount, paid, \
                     currency, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)",
                )
                .bind(case.tenant.as_str())
                .bind(case.rental_object.as_str())
                .bind(id)
                .bind(line.option.as_str())
                .bind(keys)
                .bind(fee.minor())
                .bind(fee.currency().code())
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(case)
    }

    async fn put_tenant(&self, tenant: &TenantRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO tenants (id, name, ordering_enabled) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET \
             name = excluded.name, ordering_enabled = excluded.ordering_enabled",
        )
        .bind(tenant.id.as_str())
        .bind(&tenant.name)
        .bind(tenant.ordering_enabled)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn put_rental_object(
        &self,
        object: &RentalObject,
        property_name: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("INSERT INTO properties (id, name) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name")
            .bind(object.property().as_str())
            .bind(property_name)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO rental_objects (id, property_id, address, building_year, rooms, area_sqm) VALUES (?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET property_id = excluded.property_id, address = excluded.address, \
             building_year = excluded.building_year, rooms = excluded.rooms, area_sqm = excluded.area_sqm",
        )
        .bind(object.id().as_str())
        .bind(object.property().as_str())
        .bind(object.address())
        .bind(object.building_year())
        .bind(i64::from(object.rooms()))
        .bind(i64::from(object.area_sqm()))
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM spaces WHERE rental_object_id = ?")
            .bind(object.id().as_str())
            .execute(&mut *tx)
            .await?;
        for (position, space) in object.spaces().iter().enumerate() {
            sqlx::query("INSERT INTO spaces (rental_object_id, space_id, name, position) VALUES (?, ?, ?, ?)")
                .bind(object.id().as_str())
                .bind(space.id.as_str())
                .bind(&space.name)
                .bind(position as i64)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn put_lease(
        &self,
        tenant: &TenantId,
        object: &RentalObjectId,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO leases (tenant_id, rental_object_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(tenant.as_str())
        .bind(object.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn put_catalogue(&self, catalogue: &Catalogue) -> Result<(), StoreError> {
        let property = catalogue.property().as_str();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(
            "INSERT INTO catalogues (property_id, currency) VALUES (?, ?) \
             ON CONFLICT (property_id) DO UPDATE SET currency = excluded.currency",
        )
        .bind(property)
        .bind(catalogue.currency().code())
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM option_pictures WHERE property_id = ?")
            .bind(property)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM options WHERE property_id = ?")
            .bind(property)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM categories WHERE property_id = ?")
            .bind(property)
            .execute(&mut *tx)
            .await?;
        for category in catalogue.categories() {
            sqlx::query(
                "INSERT INTO categories (property_id, id, name, position) VALUES (?, ?, ?, ?)",
            )
            .bind(property)
            .bind(category.id.as_str())
            .bind(&category.name)
            .bind(i64::from(category.position))
            .execute(&mut *tx)
            .await?;
        }
        for option in catalogue.options() {
            insert_option(&mut tx, property, option).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn put_option(
        &self,
        property: &PropertyId,
        option: &AddOnOption,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("DELETE FROM options WHERE property_id = ? AND id = ?")
            .bind(property.as_str())
            .bind(option.id().as_str())
            .execute(&mut *tx)
            .await?;
        insert_option(&mut tx, property.as_str(), option).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn put_terms(&self, terms: &Terms) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO terms (version, text_sv, text_en, published_at) VALUES (?, ?, ?, ?) ON CONFLICT (version) \
             DO UPDATE SET text_sv = excluded.text_sv, text_en = excluded.text_en",
        )
        .bind(terms.version)
        .bind(&terms.text_sv)
        .bind(&terms.text_en)
        .bind(terms.published_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn set_ordering_enabled(&self, enabled: bool) -> Result<(), StoreError> {
        sqlx::query("UPDATE landlord_settings SET ordering_enabled = ? WHERE id = 1")
            .bind(enabled)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn publish_rule_set(
        &self,
        source: &crate::rules::RuleSetSource,
        name: &str,
        manifest_version: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<super::StoredRuleSet, StoreError> {
        let json = serde_json::to_string(source).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let version: i64 = sqlx::query_scalar(
            "INSERT INTO rule_sets (name, manifest_version, source, published_by, published_at) VALUES (?, ?, ?, ?, ?) \
             RETURNING version",
        )
        .bind(name)
        .bind(manifest_version)
        .bind(json)
        .bind(by)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        activate(&mut tx, version, by, at).await?;
        let stored = stored_rule_set(&mut tx, version)
            .await?
            .ok_or(StoreError::NotFound(Entity::RuleSet))?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn activate_rule_set(
        &self,
        version: i64,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<super::StoredRuleSet, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        if stored_rule_set(&mut tx, version).await?.is_none() {
            return Err(StoreError::NotFound(Entity::RuleSet));
        }
        activate(&mut tx, version, by, at).await?;
        let stored = stored_rule_set(&mut tx, version)
            .await?
            .ok_or(StoreError::NotFound(Entity::RuleSet))?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn rule_sets(&self) -> Result<Vec<super::StoredRuleSet>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let versions: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM rule_sets ORDER BY version DESC")
                .fetch_all(&mut *conn)
                .await?;
        let mut out = Vec::with_capacity(versions.len());
        for version in versions {
            if let Some(stored) = stored_rule_set(&mut conn, version).await? {
                out.push(stored);
            }
        }
        Ok(out)
    }

    async fn rule_set_source(
        &self,
        version: i64,
    ) -> Result<Option<crate::rules::RuleSetSource>, StoreError> {
        let json: Option<String> =
            sqlx::query_scalar("SELECT source FROM rule_sets WHERE version = ?")
                .bind(version)
                .fetch_optional(&self.pool)
                .await?;
        json.map(|j| serde_json::from_str(&j).map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()
    }

    async fn active_rule_set(
        &self,
    ) -> Result<Option<(i64, crate::rules::RuleSetSource)>, StoreError> {
        let row = sqlx::query("SELECT r.version, r.source FROM active_rule_set a JOIN rule_sets r ON r.version = a.version WHERE a.id = 1")
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            let source = serde_json::from_str(&r.try_get::<String, _>(1)?)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            Ok((r.try_get(0)?, source))
        })
        .transpose()
    }

    async fn record_decision(&self, record: &super::DecisionRecord) -> Result<(), StoreError> {
        let codes = serde_json::to_string(&record.reason_codes)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(
            "INSERT INTO decisions (tenant_id, rental_object_id, action, option_id, rule_set, reason_codes, figures, at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(record.tenant.as_str())
        .bind(record.rental_object.as_str())
        .bind(&record.action)
        .bind(record.option.as_ref().map(|o| o.as_str().to_owned()))
        .bind(&record.rule_set)
        .bind(codes)
        .bind(record.figures.to_string())
        .bind(record.at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn decisions(
        &self,
        tenant: &TenantId,
        after: Option<i64>,
        first: u32,
    ) -> Result<(Vec<super::DecisionRecord>, bool), StoreError> {
        let rows = sqlx::query(
            "SELECT id, tenant_id, rental_object_id, action, option_id, rule_set, reason_codes, figures, at FROM decisions \
             WHERE tenant_id = ? AND (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?",
        )
        .bind(tenant.as_str())
        .bind(after)
        .bind(after)
        .bind(i64::from(first) + 1)
        .fetch_all(&self.pool)
        .await?;
        let has_next = rows.len() > first as usize;
        let records = rows
            .iter()
            .take(first as usize)
            .map(decision_from)
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok((records, has_next))
    }

    async fn prune_decisions(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM decisions WHERE at < ?")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn households(
        &self,
        after: Option<&(TenantId, RentalObjectId)>,
        limit: u32,
    ) -> Result<Vec<(TenantId, RentalObjectId)>, StoreError> {
        let (tenant, object) = after
            .map(|(t, o)| (t.as_str().to_owned(), o.as_str().to_owned()))
            .unwrap_or_default();
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT tenant_id, rental_object_id FROM leases \
             WHERE (tenant_id, rental_object_id) > (?, ?) \
             ORDER BY tenant_id, rental_object_id LIMIT ?",
        )
        .bind(tenant)
        .bind(object)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(t, o)| Ok((TenantId::parse(&t)?, RentalObjectId::parse(&o)?)))
            .collect()
    }
}
