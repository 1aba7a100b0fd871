// The store's body, written once for both databases. `sqlite.rs` and `postgres.rs` each include
// it in a module of their own after naming `Db` (sqlx's database) and `D` (the dialect: how a
// write transaction begins, row locks, case numbers, notifications), so it is compiled once
// per database with every type concrete. Why not generic code over `sqlx::Database`: the
// bounds (executors for `&mut Connection`, encode and decode for every column type, `Send`
// futures) would outweigh the body; sqlx's `Any` driver has no chrono types and no LISTEN.
//
// The SQL is written once: `$1`-style parameters (both databases read them), `CAST` where a
// type must be named, and nothing else of one database's own but what `D` supplies.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::SqlError;
use crate::dialect::Dialect;
use crate::rows::*;
use tillval_engine::model::{
    AddOnOption, Cart, CartLine, Catalogue, CatalogueRecord, Currency, LockKey, Money, OptionId,
    Picture, PropertyId, Quantity, RentalObject, RentalObjectId, TenantId, Unit,
};
use tillval_services::Entity;
use tillval_services::case::{Actor, Case, CaseNumber, CasePage, CaseStatus};
use tillval_services::events::{
    self, DeadLetter, LeasedDelivery, OutboxDepth, OutboxEvent, WebhookEndpoint,
};
use tillval_services::order::{CheckoutDetails, IdempotencyKey, Terms};
use tillval_services::store::{
    DecisionFilter, DecisionRecord, Fee, HouseholdEntry, PropertyRecord, Snapshot, StoreChange,
    StoreError, StoredCart, StoredRuleSet, SubmitOutcome, SubmitPlan, TenantRecord,
};

type Conn = <Db as sqlx::Database>::Connection;

/// The store on one database.
#[derive(Debug, Clone)]
pub(crate) struct Body {
    pub(crate) pool: sqlx::Pool<Db>,
    pub(crate) dialect: D,
    /// [`LEASED_OBJECT_SQL`] then [`SNAPSHOT_SQL`], joined once.
    leased_snapshot_sql: Arc<str>,
}

/// Everything one decision reads, as rows of (kind, three texts, three numbers): one
/// statement, so one consistent snapshot without a transaction, and one round trip instead of
/// a dozen (that hop, not the SQL, is the cost). $1 is the tenant, $2 the rental object. The
/// first SELECT names and types the columns for the whole union.
const SNAPSHOT_SQL: &str = "SELECT 'enabled' AS kind, CAST(NULL AS TEXT) AS t1, CAST(NULL AS TEXT) AS t2, \
        CAST(NULL AS TEXT) AS t3, \
        (SELECT CAST(CASE WHEN s.ordering_enabled AND t.ordering_enabled AND p.ordering_enabled \
         THEN 1 ELSE 0 END AS BIGINT) \
         FROM landlord_settings s, tenants t, rental_objects o, properties p \
         WHERE s.id = 1 AND t.id = $1 AND o.id = $2 AND p.id = o.property_id) AS n1, \
        CAST(NULL AS BIGINT) AS n2, CAST(NULL AS BIGINT) AS n3 \
 UNION ALL SELECT 'currency', c.currency, NULL, NULL, NULL, NULL, NULL FROM catalogues c \
        JOIN rental_objects o ON o.property_id = c.property_id WHERE o.id = $2 \
 UNION ALL SELECT 'debt', currency, NULL, NULL, amount, NULL, NULL FROM ledger_debts WHERE tenant_id = $1 \
 UNION ALL SELECT 'ongoing', l.lock_key, c.number, NULL, NULL, NULL, NULL FROM order_locks l \
        JOIN cases c ON c.id = l.case_id WHERE l.rental_object_id = $2 \
 UNION ALL SELECT 'unpaid', currency, lock_keys, NULL, amount - paid, NULL, NULL FROM ledger_fees \
        WHERE rental_object_id = $2 AND tenant_id = $1 AND paid < amount \
 UNION ALL SELECT 'unpaid', currency, lock_keys, NULL, amount - paid, NULL, NULL FROM imported_fees \
        WHERE rental_object_id = $2 AND tenant_id = $1 AND paid < amount \
 UNION ALL SELECT 'active', l.currency, NULL, NULL, l.monthly_price, l.quantity, NULL FROM case_lines l \
        JOIN cases c ON c.id = l.case_id \
        WHERE c.rental_object_id = $2 AND c.status NOT IN ('REJECTED', 'CANCELLED') \
 UNION ALL SELECT 'co_tenant', tenant_id, NULL, NULL, NULL, NULL, NULL FROM leases \
        WHERE rental_object_id = $2 AND tenant_id <> $1 \
 UNION ALL SELECT 'line', option_id, NULL, NULL, quantity, seq, NULL FROM cart_lines \
        WHERE tenant_id = $1 AND rental_object_id = $2 \
 UNION ALL SELECT 'details', contact_phone, CAST(preferred_date AS TEXT), message, NULL, NULL, NULL \
        FROM carts WHERE tenant_id = $1 AND rental_object_id = $2";

/// The apartment and its spaces, only if the tenant leases it; goes before [`SNAPSHOT_SQL`].
const LEASED_OBJECT_SQL: &str = "SELECT 'object' AS kind, o.id AS t1, o.property_id AS t2, o.address AS t3, \
        CAST(o.building_year AS BIGINT) AS n1, o.rooms AS n2, o.area_sqm AS n3 \
        FROM leases l JOIN rental_objects o ON o.id = l.rental_object_id \
        WHERE l.tenant_id = $1 AND l.rental_object_id = $2 \
 UNION ALL SELECT 'space', s.space_id, s.name, NULL, s.position, NULL, NULL \
        FROM leases l JOIN spaces s ON s.rental_object_id = l.rental_object_id \
        WHERE l.tenant_id = $1 AND l.rental_object_id = $2";

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

impl Body {
    pub(crate) fn new(pool: sqlx::Pool<Db>, dialect: D) -> Body {
        Body {
            pool,
            dialect,
            leased_snapshot_sql: format!("{LEASED_OBJECT_SQL} UNION ALL {SNAPSHOT_SQL}").into(),
        }
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }

    async fn load_rental_object(
        conn: &mut Conn,
        id: &str,
    ) -> Result<Option<RentalObject>, SqlError> {
        let Some(row) = sqlx::query_as::<_, RentalObjectRow>(
            "SELECT id, property_id, address, building_year, rooms, area_sqm FROM rental_objects WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        else {
            return Ok(None);
        };
        let spaces = sqlx::query_as::<_, SpaceRow>(
            "SELECT space_id, name FROM spaces WHERE rental_object_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(space_from)
        .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Some(rental_object_from(row, spaces)?))
    }

    /// Locks the cart row (if there is one) until the transaction ends: every write to a cart
    /// and every submit of it takes this lock first, so they run one at a time per cart.
    async fn lock_cart(
        conn: &mut Conn,
        tenant: &TenantId,
        object: &RentalObjectId,
    ) -> Result<(), SqlError> {
        sqlx::query(&format!(
            "SELECT 1 FROM carts WHERE tenant_id = $1 AND rental_object_id = $2{}",
            D::FOR_UPDATE
        ))
        .bind(tenant.as_str())
        .bind(object.as_str())
        .fetch_optional(&mut *conn)
        .await?;
        Ok(())
    }

    async fn load_cart(
        conn: &mut Conn,
        tenant: &TenantId,
        object: &RentalObjectId,
    ) -> Result<StoredCart, SqlError> {
        let lines = sqlx::query_as::<_, CartLineRow>(
            "SELECT option_id, quantity FROM cart_lines WHERE tenant_id = $1 AND rental_object_id = $2 ORDER BY seq",
        )
        .bind(tenant.as_str())
        .bind(object.as_str())
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(cart_line_from)
        .collect::<Result<Vec<_>, StoreError>>()?;
        let details = sqlx::query_as::<_, DetailsRow>(
            "SELECT contact_phone, preferred_date, message FROM carts WHERE tenant_id = $1 AND rental_object_id = $2",
        )
        .bind(tenant.as_str())
        .bind(object.as_str())
        .fetch_optional(&mut *conn)
        .await?
        .map(details_row)
        .transpose()?
        .unwrap_or_default();
        Ok(StoredCart {
            cart: Cart::with_lines(tenant.clone(), object.clone(), lines)?,
            details,
        })
    }

    async fn load_case(conn: &mut Conn, id: i64) -> Result<Option<Case>, SqlError> {
        let Some(row) = sqlx::query_as::<_, CaseRow>(
            "SELECT id, number, tenant_id, rental_object_id, status, terms_version, contact_phone, preferred_date, \
             message, created_at, updated_at, decision_receipt FROM cases WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        else {
            return Ok(None);
        };
        let lines = sqlx::query_as::<_, CaseLineRow>(
            "SELECT option_id, option_name, category_id, space_id, lock_keys, quantity, monthly_price, one_time_fee, \
             currency FROM case_lines WHERE case_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(case_line_from)
        .collect::<Result<Vec<_>, StoreError>>()?;
        let history = sqlx::query_as::<_, HistoryRow>(
            "SELECT status, actor, at FROM case_history WHERE case_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(history_from)
        .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Some(case_from(row, lines, history)?))
    }

    async fn load_fee(conn: &mut Conn, id: i64) -> Result<Option<Fee>, SqlError> {
        let row = sqlx::query_as::<_, FeeRow>(
            "SELECT f.id, f.tenant_id, f.rental_object_id, c.number, f.option_id, f.lock_keys, f.amount, f.paid, \
             f.currency FROM ledger_fees f JOIN cases c ON c.id = f.case_id WHERE f.id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(row.map(fee_from).transpose()?)
    }
}

async fn insert_option(
    conn: &mut Conn,
    property: &str,
    option: &AddOnOption,
) -> Result<(), SqlError> {
    let (kind, max) = match option.unit() {
        Unit::Piece { max } => ("piece", max.get()),
        Unit::Single => ("single", 1),
    };
    sqlx::query(
        "INSERT INTO options (property_id, id, category_id, space_id, name, description, monthly_price, \
         one_time_fee, currency, unit_kind, unit_max, position) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
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
            "INSERT INTO option_pictures (property_id, option_id, seq, thumbnail, large, alt) VALUES ($1, $2, $3, $4, $5, $6)",
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
    conn: &mut Conn,
    version: i64,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), SqlError> {
    sqlx::query(
        "INSERT INTO active_rule_set (id, version, activated_by, activated_at) VALUES (1, $1, $2, $3) \
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

async fn stored_rule_set(conn: &mut Conn, version: i64) -> Result<Option<StoredRuleSet>, SqlError> {
    let row = sqlx::query_as::<_, StoredRuleSetRow>(
        "SELECT r.version, r.name, r.manifest_version, r.published_by, r.published_at, \
         (SELECT a.version FROM active_rule_set a WHERE a.id = 1) = r.version AS active \
         FROM rule_sets r WHERE r.version = $1",
    )
    .bind(version)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(stored_rule_set_from).transpose()?)
}

impl Body {
    pub(crate) async fn set_debt(
        &self,
        tenant: &TenantId,
        debt: Money,
        at: DateTime<Utc>,
    ) -> Result<(), SqlError> {
        sqlx::query(
            "INSERT INTO ledger_debts (tenant_id, amount, currency, updated_at) VALUES ($1, $2, $3, $4) \
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

    pub(crate) async fn debt(&self, tenant: &TenantId) -> Result<Option<Money>, SqlError> {
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT amount, currency FROM ledger_debts WHERE tenant_id = $1")
                .bind(tenant.as_str())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row
            .map(|(amount, currency)| money(amount, &currency))
            .transpose()?)
    }

    pub(crate) async fn fees(&self, tenant: &TenantId) -> Result<Vec<Fee>, SqlError> {
        Ok(sqlx::query_as::<_, FeeRow>(
            "SELECT f.id, f.tenant_id, f.rental_object_id, c.number, f.option_id, f.lock_keys, f.amount, f.paid, \
             f.currency FROM ledger_fees f JOIN cases c ON c.id = f.case_id WHERE f.tenant_id = $1 ORDER BY f.id",
        )
        .bind(tenant.as_str())
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(fee_from)
        .collect::<Result<_, _>>()?)
    }

    pub(crate) async fn record_payment(
        &self,
        fee: i64,
        amount: Money,
        at: DateTime<Utc>,
    ) -> Result<Fee, SqlError> {
        let mut tx = D::begin_write(&self.pool).await?;
        // The fee row stays locked until commit, so two payments cannot both fit in what remains.
        sqlx::query(&format!(
            "SELECT id FROM ledger_fees WHERE id = $1{}",
            D::FOR_UPDATE
        ))
        .bind(fee)
        .fetch_optional(&mut *tx)
        .await?;
        let current = Self::load_fee(&mut tx, fee)
            .await?
            .ok_or(StoreError::NotFound(Entity::Fee))?;
        let remaining = current.remaining();
        if amount.currency() != remaining.currency() || amount.minor() > remaining.minor() {
            return Err(SqlError::Store(StoreError::Overpayment {
                paid: amount,
                remaining,
            }));
        }
        sqlx::query("UPDATE ledger_fees SET paid = paid + $1 WHERE id = $2")
            .bind(amount.minor())
            .bind(fee)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO ledger_payments (fee_id, amount, at) VALUES ($1, $2, $3)")
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

impl Body {
    pub(crate) async fn tenant(&self, tenant: &TenantId) -> Result<Option<TenantRecord>, SqlError> {
        let row = sqlx::query_as::<_, TenantRow>(
            "SELECT id, name, ordering_enabled FROM tenants WHERE id = $1",
        )
        .bind(tenant.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(tenant_from).transpose()?)
    }

    pub(crate) async fn rental_objects(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<RentalObject>, SqlError> {
        let mut conn = self.pool.acquire().await?;
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT rental_object_id FROM leases WHERE tenant_id = $1 ORDER BY rental_object_id",
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

    pub(crate) async fn leased_rental_object(
        &self,
        tenant: &TenantId,
        rental_object: &RentalObjectId,
    ) -> Result<Option<Arc<RentalObject>>, SqlError> {
        // The lease, the apartment and its spaces in one statement (one row per space).
        let rows = sqlx::query_as::<_, LeasedObjectRow>(
            "SELECT o.id, o.property_id, o.address, o.building_year, o.rooms, o.area_sqm, \
             s.space_id, s.name AS space_name \
             FROM leases l JOIN rental_objects o ON o.id = l.rental_object_id \
             LEFT JOIN spaces s ON s.rental_object_id = o.id \
             WHERE l.tenant_id = $1 AND l.rental_object_id = $2 ORDER BY s.position",
        )
        .bind(tenant.as_str())
        .bind(rental_object.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(leased_object_from(rows)?.map(Arc::new))
    }

    pub(crate) async fn leased_snapshot(
        &self,
        tenant: &TenantId,
        object: &RentalObjectId,
        today: NaiveDate,
    ) -> Result<Option<Snapshot>, SqlError> {
        let rows = sqlx::query_as::<_, SnapshotRow>(&self.leased_snapshot_sql)
            .bind(tenant.as_str())
            .bind(object.as_str())
            .fetch_all(&self.pool)
            .await?;
        Ok(assemble_leased_snapshot(rows, tenant, today)?)
    }

    pub(crate) async fn snapshot(
        &self,
        tenant: &TenantId,
        object: Arc<RentalObject>,
        today: NaiveDate,
    ) -> Result<Snapshot, SqlError> {
        let rows = sqlx::query_as::<_, SnapshotRow>(SNAPSHOT_SQL)
            .bind(tenant.as_str())
            .bind(object.id().as_str())
            .fetch_all(&self.pool)
            .await?;
        Ok(assemble_snapshot(rows, tenant, object, today)?)
    }

    pub(crate) async fn catalogue(
        &self,
        property: &PropertyId,
    ) -> Result<Option<Catalogue>, SqlError> {
        let mut tx = self.pool.begin().await?;
        let Some(currency) = sqlx::query_scalar::<_, String>(
            "SELECT currency FROM catalogues WHERE property_id = $1",
        )
        .bind(property.as_str())
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let categories = sqlx::query_as::<_, CategoryRow>(
            "SELECT id, name, position FROM categories WHERE property_id = $1",
        )
        .bind(property.as_str())
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(category_from)
        .collect::<Result<Vec<_>, StoreError>>()?;
        let mut pictures: HashMap<String, Vec<Picture>> = HashMap::new();
        for r in sqlx::query_as::<_, PictureRow>(
            "SELECT option_id, thumbnail, large, alt FROM option_pictures WHERE property_id = $1 ORDER BY option_id, seq",
        )
        .bind(property.as_str())
        .fetch_all(&mut *tx)
        .await?
        {
            let (option, picture) = picture_from(r)?;
            pictures.entry(option).or_default().push(picture);
        }
        let options = sqlx::query_as::<_, OptionRow>(
            "SELECT id, category_id, space_id, name, description, monthly_price, one_time_fee, currency, unit_kind, \
             unit_max, position FROM options WHERE property_id = $1",
        )
        .bind(property.as_str())
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
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

    pub(crate) async fn cart_add_line(
        &self,
        tenant: &TenantId,
        object: &RentalObjectId,
        line: &CartLine,
        keys: &[LockKey],
        at: DateTime<Utc>,
    ) -> Result<(), SqlError> {
        let mut tx = D::begin_write(&self.pool).await?;
        sqlx::query(
            "INSERT INTO carts (tenant_id, rental_object_id, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (tenant_id, rental_object_id) DO UPDATE SET updated_at = excluded.updated_at",
        )
        .bind(tenant.as_str())
        .bind(object.as_str())
        .bind(at)
        .execute(&mut *tx)
        .await?;
        let inserted = sqlx::query(
            "INSERT INTO cart_lines (tenant_id, rental_object_id, option_id, quantity, seq) VALUES ($1, $2, $3, $4, \
             (SELECT COALESCE(MAX(seq), 0) + 1 FROM cart_lines WHERE tenant_id = $5 AND rental_object_id = $6))",
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
                return Err(SqlError::Store(StoreError::CartKeyTaken {
                    key,
                    holder: line.option.clone(),
                }));
            }
            other => other?,
        };
        // The upsert above locked the cart row, so no other write to this cart runs until
        // commit: the holder of a key is asked before inserting (a failed insert would end the
        // transaction); the primary key stays the guarantee.
        for key in keys {
            let holder: Option<String> = sqlx::query_scalar(
                "SELECT option_id FROM cart_line_keys WHERE tenant_id = $1 AND rental_object_id = $2 AND lock_key = $3",
            )
            .bind(tenant.as_str())
            .bind(object.as_str())
            .bind(key.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(holder) = holder {
                return Err(SqlError::Store(StoreError::CartKeyTaken {
                    key: key.clone(),
                    holder: OptionId::parse(holder)?,
                }));
            }
            sqlx::query(
                "INSERT INTO cart_line_keys (tenant_id, rental_object_id, lock_key, option_id) VALUES ($1, $2, $3, $4)",
            )
            .bind(tenant.as_str())
            .bind(object.as_str())
            .bind(key.as_str())
            .bind(line.option.as_str())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn cart_set_quantity(
        &self,
        tenant: &TenantId,
        object: &RentalObjectId,
        option: &OptionId,
        quantity: Quantity,
        at: DateTime<Utc>,
    ) -> Result<(), SqlError> {
        let mut tx = D::begin_write(&self.pool).await?;
        Self::lock_cart(&mut tx, tenant, object).await?;
        let updated = sqlx::query(
            "UPDATE cart_lines SET quantity = $1 WHERE tenant_id = $2 AND rental_object_id = $3 AND option_id = $4",
        )
        .bind(i64::from(quantity.get()))
        .bind(tenant.as_str())
        .bind(object.as_str())
        .bind(option.as_str())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(SqlError::Store(StoreError::NotFound(Entity::CartLine)));
        }
        sqlx::query(
            "UPDATE carts SET updated_at = $1 WHERE tenant_id = $2 AND rental_object_id = $3",
        )
        .bind(at)
        .bind(tenant.as_str())
        .bind(object.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn cart_remove_line(
        &self,
        tenant: &TenantId,
        object: &RentalObjectId,
        option: &OptionId,
    ) -> Result<(), SqlError> {
        let mut tx = D::begin_write(&self.pool).await?;
        Self::lock_cart(&mut tx, tenant, object).await?;
        let removed = sqlx::query(
            "DELETE FROM cart_lines WHERE tenant_id = $1 AND rental_object_id = $2 AND option_id = $3",
        )
        .bind(tenant.as_str())
        .bind(object.as_str())
        .bind(option.as_str())
        .execute(&mut *tx)
        .await?;
        if removed.rows_affected() == 0 {
            return Err(SqlError::Store(StoreError::NotFound(Entity::CartLine)));
        }
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn cart_clear(
        &self,
        tenant: &TenantId,
        object: &RentalObjectId,
    ) -> Result<(), SqlError> {
        let mut tx = D::begin_write(&self.pool).await?;
        Self::lock_cart(&mut tx, tenant, object).await?;
        sqlx::query("DELETE FROM cart_lines WHERE tenant_id = $1 AND rental_object_id = $2")
            .bind(tenant.as_str())
            .bind(object.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn cart_set_details(
        &self,
        tenant: &TenantId,
        object: &RentalObjectId,
        details: &CheckoutDetails,
        at: DateTime<Utc>,
    ) -> Result<(), SqlError> {
        sqlx::query(
            "INSERT INTO carts (tenant_id, rental_object_id, contact_phone, preferred_date, message, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, rental_object_id) DO UPDATE SET \
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

    pub(crate) async fn current_terms(&self) -> Result<Option<Terms>, SqlError> {
        let row = sqlx::query_as::<_, TermsRow>("SELECT version, text_sv, text_en, published_at FROM terms ORDER BY version DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(terms_from).transpose()?)
    }

    pub(crate) async fn submit(&self, plan: &SubmitPlan) -> Result<SubmitOutcome, SqlError> {
        let mut tx = D::begin_write(&self.pool).await?;
        // First the cart's lock: a second submit of the same cart (another node, the same
        // idempotency key) waits here, then sees the first one's case below.
        Self::lock_cart(&mut tx, &plan.tenant, &plan.rental_object).await?;
        let existing: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM cases WHERE tenant_id = $1 AND idempotency_key = $2",
        )
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
            return Err(SqlError::Store(StoreError::CartChanged));
        }
        let year = plan.at.year();
        let number = CaseNumber::new(year, D::next_case_number(&mut tx, year).await?);
        let receipt =
            serde_json::to_string(&plan.receipt).map_err(|e| SqlError::corrupt(e.to_string()))?;
        let inserted: Result<i64, sqlx::Error> = sqlx::query_scalar(
            "INSERT INTO cases (number, tenant_id, rental_object_id, status, terms_version, contact_phone, \
             preferred_date, message, idempotency_key, created_at, updated_at, decision_receipt) \
             VALUES ($1, $2, $3, 'SUBMITTED', $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
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
        .bind(receipt)
        .fetch_one(&mut *tx)
        .await;
        let id = match inserted {
            Ok(id) => id,
            // The same key committed on another connection after the check above.
            Err(e) if is_unique_violation(&e) => {
                tx.rollback().await?;
                let mut conn = self.pool.acquire().await?;
                let id: i64 = sqlx::query_scalar(
                    "SELECT id FROM cases WHERE tenant_id = $1 AND idempotency_key = $2",
                )
                .bind(plan.tenant.as_str())
                .bind(plan.idempotency_key.as_str())
                .fetch_optional(&mut *conn)
                .await?
                .ok_or(StoreError::CartChanged)?;
                let case = Self::load_case(&mut conn, id)
                    .await?
                    .ok_or(StoreError::NotFound(Entity::Case))?;
                return Ok(SubmitOutcome::Replayed(case));
            }
            Err(e) => return Err(e.into()),
        };
        for (seq, line) in plan.lines.iter().enumerate() {
            let keys = serde_json::to_string(&line.keys)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            sqlx::query(
                "INSERT INTO case_lines (case_id, seq, option_id, option_name, category_id, space_id, lock_keys, \
                 quantity, monthly_price, one_time_fee, currency) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
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
                let locked = sqlx::query("INSERT INTO order_locks (rental_object_id, lock_key, case_id) VALUES ($1, $2, $3)")
                    .bind(plan.rental_object.as_str())
                    .bind(key.as_str())
                    .bind(id)
                    .execute(&mut *tx)
                    .await;
                match locked {
                    // Dropping the transaction rolls everything above back.
                    Err(e) if is_unique_violation(&e) => {
                        return Err(SqlError::Store(StoreError::LockTaken { key: key.clone() }));
                    }
                    other => other?,
                };
            }
        }
        sqlx::query("INSERT INTO case_history (case_id, seq, status, actor, at) VALUES ($1, 1, 'SUBMITTED', 'tenant', $2)")
            .bind(id)
            .bind(plan.at)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM carts WHERE tenant_id = $1 AND rental_object_id = $2")
            .bind(plan.tenant.as_str())
            .bind(plan.rental_object.as_str())
            .execute(&mut *tx)
            .await?;
        let case = Self::load_case(&mut tx, id)
            .await?
            .ok_or(StoreError::NotFound(Entity::Case))?;
        Self::write_event(&mut tx, &events::case_created(&case)).await?;
        tx.commit().await?;
        Ok(SubmitOutcome::Created(case))
    }

    pub(crate) async fn case_by_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &IdempotencyKey,
    ) -> Result<Option<Case>, SqlError> {
        let mut conn = self.pool.acquire().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM cases WHERE tenant_id = $1 AND idempotency_key = $2",
        )
        .bind(tenant.as_str())
        .bind(key.as_str())
        .fetch_optional(&mut *conn)
        .await?;
        match id {
            Some(id) => Self::load_case(&mut conn, id).await,
            None => Ok(None),
        }
    }

    pub(crate) async fn case(&self, number: &CaseNumber) -> Result<Option<Case>, SqlError> {
        let mut conn = self.pool.acquire().await?;
        let id: Option<i64> = sqlx::query_scalar("SELECT id FROM cases WHERE number = $1")
            .bind(number.as_str())
            .fetch_optional(&mut *conn)
            .await?;
        match id {
            Some(id) => Self::load_case(&mut conn, id).await,
            None => Ok(None),
        }
    }

    pub(crate) async fn cases(
        &self,
        tenant: &TenantId,
        status: Option<CaseStatus>,
        after: Option<i64>,
        first: u32,
    ) -> Result<CasePage, SqlError> {
        self.case_page(Some(tenant), status, after, first).await
    }

    pub(crate) async fn case_queue(
        &self,
        status: Option<CaseStatus>,
        after: Option<i64>,
        first: u32,
    ) -> Result<CasePage, SqlError> {
        self.case_page(None, status, after, first).await
    }

    /// One tenant's cases, or everyone's, newest first.
    async fn case_page(
        &self,
        tenant: Option<&TenantId>,
        status: Option<CaseStatus>,
        after: Option<i64>,
        first: u32,
    ) -> Result<CasePage, SqlError> {
        // Only the filters given, so that the planner sees a plain `tenant_id = $1 ORDER BY id
        // DESC` and walks `cases_by_tenant` (a catch-all `$1 IS NULL OR …` plan, once generic,
        // reads the whole table on PostgreSQL).
        let mut sql = String::from("SELECT id FROM cases WHERE TRUE");
        let mut placeholder = 0;
        let mut next = || {
            placeholder += 1;
            placeholder
        };
        if tenant.is_some() {
            sql.push_str(&format!(" AND tenant_id = ${}", next()));
        }
        if status.is_some() {
            sql.push_str(&format!(" AND status = ${}", next()));
        }
        if after.is_some() {
            sql.push_str(&format!(" AND id < ${}", next()));
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", next()));
        let mut query = sqlx::query_scalar::<_, i64>(&sql);
        if let Some(tenant) = tenant {
            query = query.bind(tenant.as_str());
        }
        if let Some(status) = status {
            query = query.bind(status.as_str());
        }
        if let Some(after) = after {
            query = query.bind(after);
        }
        let mut tx = self.pool.begin().await?;
        let mut ids = query.bind(i64::from(first) + 1).fetch_all(&mut *tx).await?;
        let has_next_page = ids.len() > first as usize;
        ids.truncate(first as usize);
        let cases = Self::load_cases(&mut tx, &ids).await?;
        tx.commit().await?;
        Ok(CasePage {
            cases,
            has_next_page,
        })
    }

    /// The cases `ids` (at most a page), in that order, in three queries whatever their number:
    /// the cases, their lines, their histories.
    async fn load_cases(conn: &mut Conn, ids: &[i64]) -> Result<Vec<Case>, SqlError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = (1..=ids.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let rows_sql = format!(
            "SELECT id, number, tenant_id, rental_object_id, status, terms_version, contact_phone, preferred_date, \
             message, created_at, updated_at, decision_receipt FROM cases WHERE id IN ({list})"
        );
        let lines_sql = format!(
            "SELECT case_id, option_id, option_name, category_id, space_id, lock_keys, quantity, monthly_price, \
             one_time_fee, currency FROM case_lines WHERE case_id IN ({list}) ORDER BY case_id, seq"
        );
        let history_sql = format!(
            "SELECT case_id, status, actor, at FROM case_history WHERE case_id IN ({list}) ORDER BY case_id, seq"
        );
        let mut rows = sqlx::query_as::<_, CaseRow>(&rows_sql);
        let mut lines = sqlx::query_as::<_, PageLineRow>(&lines_sql);
        let mut history = sqlx::query_as::<_, PageHistoryRow>(&history_sql);
        for &id in ids {
            rows = rows.bind(id);
            lines = lines.bind(id);
            history = history.bind(id);
        }
        let rows = rows.fetch_all(&mut *conn).await?;
        let mut lines_of: HashMap<i64, Vec<tillval_services::case::CaseLine>> = HashMap::new();
        for row in lines.fetch_all(&mut *conn).await? {
            lines_of
                .entry(row.case_id)
                .or_default()
                .push(case_line_from(row.line)?);
        }
        let mut history_of: HashMap<i64, Vec<tillval_services::case::HistoryEntry>> =
            HashMap::new();
        for row in history.fetch_all(&mut *conn).await? {
            history_of
                .entry(row.case_id)
                .or_default()
                .push(history_from(row.entry)?);
        }
        let mut by_id: HashMap<i64, CaseRow> = rows.into_iter().map(|row| (row.id, row)).collect();
        let mut cases = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(row) = by_id.remove(id) {
                let lines = lines_of.remove(id).unwrap_or_default();
                let history = history_of.remove(id).unwrap_or_default();
                cases.push(case_from(row, lines, history)?);
            }
        }
        Ok(cases)
    }

    pub(crate) async fn transition(
        &self,
        number: &CaseNumber,
        from: CaseStatus,
        to: CaseStatus,
        actor: Actor,
        at: DateTime<Utc>,
    ) -> Result<Case, SqlError> {
        let mut tx = D::begin_write(&self.pool).await?;
        let row: (i64, String) = sqlx::query_as(&format!(
            "SELECT id, status FROM cases WHERE number = $1{}",
            D::FOR_UPDATE
        ))
        .bind(number.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound(Entity::Case))?;
        let (id, status) = row;
        if status != from.as_str() {
            return Err(SqlError::Store(StoreError::StatusChanged {
                number: number.clone(),
                expected: from,
            }));
        }
        sqlx::query("UPDATE cases SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(to.as_str())
            .bind(at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO case_history (case_id, seq, status, actor, at) \
             VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM case_history WHERE case_id = $2), $3, $4, $5)",
        )
        .bind(id)
        .bind(id)
        .bind(to.as_str())
        .bind(actor_text(actor))
        .bind(at)
        .execute(&mut *tx)
        .await?;
        if !to.holds_locks() {
            sqlx::query("DELETE FROM order_locks WHERE case_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let case = Self::load_case(&mut tx, id)
            .await?
            .ok_or(StoreError::NotFound(Entity::Case))?;
        let mut fees = Vec::new();
        if to == CaseStatus::Installed {
            for line in &case.lines {
                let fee = line.one_time_total();
                if fee.is_zero() {
                    continue;
                }
                let keys = serde_json::to_string(&line.keys)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let fee_id: i64 = sqlx::query_scalar(
                    "INSERT INTO ledger_fees (tenant_id, rental_object_id, case_id, option_id, lock_keys, amount, paid, \
                     currency, created_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8) RETURNING id",
                )
                .bind(case.tenant.as_str())
                .bind(case.rental_object.as_str())
                .bind(id)
                .bind(line.option.as_str())
                .bind(keys)
                .bind(fee.minor())
                .bind(fee.currency().code())
                .bind(at)
                .fetch_one(&mut *tx)
                .await?;
                fees.push(events::fee_booked(
                    &case,
                    fee_id,
                    line.option.as_str(),
                    fee,
                    at,
                ));
            }
        }
        // The move first, then the fees it booked: in that order to the endpoints.
        Self::write_event(&mut tx, &events::case_moved(&case, from, actor, at)).await?;
        for fee in &fees {
            Self::write_event(&mut tx, fee).await?;
        }
        self.dialect
            .notify(
                &mut tx,
                &StoreChange::CaseStatus {
                    tenant: case.tenant.clone(),
                    number: case.number.clone(),
                    status: to,
                    at,
                },
            )
            .await?;
        tx.commit().await?;
        Ok(case)
    }

    pub(crate) async fn put_tenant(&self, tenant: &TenantRecord) -> Result<(), SqlError> {
        sqlx::query(
            "INSERT INTO tenants (id, name, ordering_enabled) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET \
             name = excluded.name, ordering_enabled = excluded.ordering_enabled",
        )
        .bind(tenant.id.as_str())
        .bind(&tenant.name)
        .bind(tenant.ordering_enabled)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(crate) async fn put_rental_object(
        &self,
        object: &RentalObject,
        property_name: &str,
    ) -> Result<(), SqlError> {
        let mut tx = D::begin_write(&self.pool).await?;
        sqlx::query("INSERT INTO properties (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = excluded.name")
            .bind(object.property().as_str())
            .bind(property_name)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO rental_objects (id, property_id, address, building_year, rooms, area_sqm) VALUES ($1, $2, $3, $4, $5, $6) \
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
        sqlx::query("DELETE FROM spaces WHERE rental_object_id = $1")
            .bind(object.id().as_str())
            .execute(&mut *tx)
            .await?;
        for (position, space) in object.spaces().iter().enumerate() {
            sqlx::query("INSERT INTO spaces (rental_object_id, space_id, name, position) VALUES ($1, $2, $3, $4)")
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

    pub(crate) async fn put_lease(
        &self,
        tenant: &TenantId,
        object: &RentalObjectId,
    ) -> Result<(), SqlError> {
        sqlx::query(
            "INSERT INTO leases (tenant_id, rental_object_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(tenant.as_str())
        .bind(object.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(crate) async fn put_catalogue(&self, catalogue: &Catalogue) -> Result<(), SqlError> {
        let property = catalogue.property().as_str();
        let mut tx = D::begin_write(&self.pool).await?;
        sqlx::query(
            "INSERT INTO catalogues (property_id, currency) VALUES ($1, $2) \
             ON CONFLICT (property_id) DO UPDATE SET currency = excluded.currency",
        )
        .bind(property)
        .bind(catalogue.currency().code())
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM option_pictures WHERE property_id = $1")
            .bind(property)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM options WHERE property_id = $1")
            .bind(property)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM categories WHERE property_id = $1")
            .bind(property)
            .execute(&mut *tx)
            .await?;
        for category in catalogue.categories() {
            sqlx::query(
                "INSERT INTO categories (property_id, id, name, position) VALUES ($1, $2, $3, $4)",
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
        self.dialect
            .notify(
                &mut tx,
                &StoreChange::Catalogue {
                    property: catalogue.property().clone(),
                },
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn put_option(
        &self,
        property: &PropertyId,
        option: &AddOnOption,
    ) -> Result<(), SqlError> {
        let mut tx = D::begin_write(&self.pool).await?;
        sqlx::query("DELETE FROM options WHERE property_id = $1 AND id = $2")
            .bind(property.as_str())
            .bind(option.id().as_str())
            .execute(&mut *tx)
            .await?;
        insert_option(&mut tx, property.as_str(), option).await?;
        self.dialect
            .notify(
                &mut tx,
                &StoreChange::Catalogue {
                    property: property.clone(),
                },
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn put_terms(&self, terms: &Terms) -> Result<(), SqlError> {
        sqlx::query(
            "INSERT INTO terms (version, text_sv, text_en, published_at) VALUES ($1, $2, $3, $4) ON CONFLICT (version) \
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

    pub(crate) async fn set_ordering_enabled(&self, enabled: bool) -> Result<(), SqlError> {
        sqlx::query("UPDATE landlord_settings SET ordering_enabled = $1 WHERE id = 1")
            .bind(enabled)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(crate) async fn publish_rule_set(
        &self,
        source: &tillval_engine::rules::RuleSetSource,
        name: &str,
        manifest_version: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<StoredRuleSet, SqlError> {
        let json = serde_json::to_string(source).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = D::begin_write(&self.pool).await?;
        let version: i64 = sqlx::query_scalar(
            "INSERT INTO rule_sets (name, manifest_version, source, published_by, published_at) VALUES ($1, $2, $3, $4, $5) \
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
        self.dialect.notify(&mut tx, &StoreChange::RuleSet).await?;
        tx.commit().await?;
        Ok(stored)
    }

    pub(crate) async fn activate_rule_set(
        &self,
        version: i64,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<StoredRuleSet, SqlError> {
        let mut tx = D::begin_write(&self.pool).await?;
        if stored_rule_set(&mut tx, version).await?.is_none() {
            return Err(SqlError::Store(StoreError::NotFound(Entity::RuleSet)));
        }
        activate(&mut tx, version, by, at).await?;
        let stored = stored_rule_set(&mut tx, version)
            .await?
            .ok_or(StoreError::NotFound(Entity::RuleSet))?;
        self.dialect.notify(&mut tx, &StoreChange::RuleSet).await?;
        tx.commit().await?;
        Ok(stored)
    }

    pub(crate) async fn rule_sets(&self) -> Result<Vec<StoredRuleSet>, SqlError> {
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

    pub(crate) async fn rule_set_source(
        &self,
        version: i64,
    ) -> Result<Option<tillval_engine::rules::RuleSetSource>, SqlError> {
        let json: Option<String> =
            sqlx::query_scalar("SELECT source FROM rule_sets WHERE version = $1")
                .bind(version)
                .fetch_optional(&self.pool)
                .await?;
        Ok(json
            .map(|j| serde_json::from_str(&j).map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()?)
    }

    pub(crate) async fn active_rule_set(
        &self,
    ) -> Result<Option<(i64, tillval_engine::rules::RuleSetSource)>, SqlError> {
        let row: Option<(i64, String)> = sqlx::query_as(
            "SELECT r.version, r.source FROM active_rule_set a \
             JOIN rule_sets r ON r.version = a.version WHERE a.id = 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        let Some((version, source)) = row else {
            return Ok(None);
        };
        let source = serde_json::from_str(&source).map_err(|e| SqlError::corrupt(e.to_string()))?;
        Ok(Some((version, source)))
    }

    pub(crate) async fn record_decision(&self, record: &DecisionRecord) -> Result<(), SqlError> {
        let codes = serde_json::to_string(&record.reason_codes)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(
            "INSERT INTO decisions (tenant_id, rental_object_id, action, option_id, rule_set, reason_codes, figures, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
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

    pub(crate) async fn decisions(
        &self,
        tenant: &TenantId,
        filter: &DecisionFilter,
        after: Option<i64>,
        first: u32,
    ) -> Result<(Vec<DecisionRecord>, bool), SqlError> {
        // The codes are stored as a JSON array of strings, so one code is `"CODE"` in its
        // text; `\` escapes LIKE's wildcards in the code itself.
        let code_pattern = filter.reason_code.as_ref().map(|code| {
            let escaped = code
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            format!("%\"{escaped}\"%")
        });
        let rows = sqlx::query_as::<_, DecisionRow>(
            "SELECT id, tenant_id, rental_object_id, action, option_id, rule_set, reason_codes, figures, at FROM decisions \
             WHERE tenant_id = $1 AND (CAST($2 AS BIGINT) IS NULL OR id < $3) \
             AND (CAST($5 AS TEXT) IS NULL OR action = $5) \
             AND (CAST($6 AS TEXT) IS NULL OR rental_object_id = $6) \
             AND (CAST($7 AS TEXT) IS NULL OR reason_codes LIKE $7 ESCAPE '\\') \
             ORDER BY id DESC LIMIT $4",
        )
        .bind(tenant.as_str())
        .bind(after)
        .bind(after)
        .bind(i64::from(first) + 1)
        .bind(filter.action.as_deref())
        .bind(filter.rental_object.as_ref().map(RentalObjectId::as_str))
        .bind(code_pattern)
        .fetch_all(&self.pool)
        .await?;
        let has_next = rows.len() > first as usize;
        let records = rows
            .into_iter()
            .take(first as usize)
            .map(decision_from)
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok((records, has_next))
    }

    pub(crate) async fn prune_decisions(&self, before: DateTime<Utc>) -> Result<u64, SqlError> {
        let done = sqlx::query("DELETE FROM decisions WHERE at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    pub(crate) async fn households(
        &self,
        after: Option<&(TenantId, RentalObjectId)>,
        limit: u32,
    ) -> Result<Vec<(TenantId, RentalObjectId)>, SqlError> {
        let (tenant, object) = after
            .map(|(t, o)| (t.as_str().to_owned(), o.as_str().to_owned()))
            .unwrap_or_default();
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT tenant_id, rental_object_id FROM leases \
             WHERE (tenant_id, rental_object_id) > ($1, $2) \
             ORDER BY tenant_id, rental_object_id LIMIT $3",
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

    pub(crate) async fn household_directory(
        &self,
        after: Option<&(TenantId, RentalObjectId)>,
        limit: u32,
    ) -> Result<Vec<HouseholdEntry>, SqlError> {
        let (tenant, object) = after
            .map(|(t, o)| (t.as_str().to_owned(), o.as_str().to_owned()))
            .unwrap_or_default();
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT l.tenant_id, t.name, l.rental_object_id, o.address FROM leases l \
             JOIN tenants t ON t.id = l.tenant_id JOIN rental_objects o ON o.id = l.rental_object_id \
             WHERE (l.tenant_id, l.rental_object_id) > ($1, $2) \
             ORDER BY l.tenant_id, l.rental_object_id LIMIT $3",
        )
        .bind(tenant)
        .bind(object)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(t, tenant_name, o, address)| {
                Ok(HouseholdEntry {
                    tenant: TenantId::parse(&t)?,
                    tenant_name,
                    rental_object: RentalObjectId::parse(&o)?,
                    address,
                })
            })
            .collect()
    }

    pub(crate) async fn properties(&self) -> Result<Vec<PropertyRecord>, SqlError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT id, name FROM properties ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(id, name)| {
                Ok(PropertyRecord {
                    id: PropertyId::parse(&id)?,
                    name,
                })
            })
            .collect()
    }

    /// Writes `event` in the transaction of its change, with a delivery for each endpoint
    /// enabled now.
    async fn write_event(conn: &mut Conn, event: &OutboxEvent) -> Result<(), SqlError> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO outbox_events (webhook_id, event_type, ordering_key, payload, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(&event.webhook_id)
        .bind(event.event_type.as_str())
        .bind(&event.ordering_key)
        .bind(event.payload.to_string())
        .bind(event.at)
        .fetch_one(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO webhook_deliveries (event_id, endpoint_id, ordering_key, status, attempts, next_attempt_at) \
             SELECT $1, id, $2, 'pending', 0, $3 FROM webhook_endpoints WHERE enabled",
        )
        .bind(id)
        .bind(&event.ordering_key)
        .bind(event.at)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    pub(crate) async fn webhook_endpoint_add(
        &self,
        url: &str,
        secret: &str,
        description: &str,
        at: DateTime<Utc>,
    ) -> Result<WebhookEndpoint, SqlError> {
        let row = sqlx::query_as::<_, EndpointRow>(
            "INSERT INTO webhook_endpoints (url, secret, description, enabled, created_at) \
             VALUES ($1, $2, $3, TRUE, $4) RETURNING id, url, secret, description, enabled, created_at",
        )
        .bind(url)
        .bind(secret)
        .bind(description)
        .bind(at)
        .fetch_one(&self.pool)
        .await?;
        Ok(endpoint_from(row))
    }

    pub(crate) async fn webhook_endpoints(&self) -> Result<Vec<WebhookEndpoint>, SqlError> {
        let rows = sqlx::query_as::<_, EndpointRow>(
            "SELECT id, url, secret, description, enabled, created_at FROM webhook_endpoints ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(endpoint_from).collect())
    }

    pub(crate) async fn webhook_endpoint_set_enabled(
        &self,
        endpoint: i64,
        enabled: bool,
    ) -> Result<WebhookEndpoint, SqlError> {
        let row = sqlx::query_as::<_, EndpointRow>(
            "UPDATE webhook_endpoints SET enabled = $1 WHERE id = $2 \
             RETURNING id, url, secret, description, enabled, created_at",
        )
        .bind(enabled)
        .bind(endpoint)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound(Entity::WebhookEndpoint))?;
        Ok(endpoint_from(row))
    }

    pub(crate) async fn deliveries_lease(
        &self,
        lease: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<LeasedDelivery>, SqlError> {
        let mut tx = D::begin_write(&self.pool).await?;
        let due: Vec<(i64, i64)> = sqlx::query_as(&format!(
            "SELECT d.event_id, d.endpoint_id FROM webhook_deliveries d \
             WHERE d.status = 'pending' AND d.next_attempt_at <= $1 \
             AND (d.leased_until IS NULL OR d.leased_until < $2) \
             AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.endpoint_id = d.endpoint_id \
                 AND e.ordering_key = d.ordering_key AND e.event_id < d.event_id AND e.status = 'pending') \
             ORDER BY d.event_id LIMIT $3{}",
            D::SKIP_LOCKED
        ))
        .bind(now)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        let mut leased = Vec::with_capacity(due.len());
        for (event, endpoint) in due {
            sqlx::query(
                "UPDATE webhook_deliveries SET leased_by = $1, leased_until = $2 \
                 WHERE event_id = $3 AND endpoint_id = $4",
            )
            .bind(lease)
            .bind(until)
            .bind(event)
            .bind(endpoint)
            .execute(&mut *tx)
            .await?;
            let row = sqlx::query_as::<_, LeasedRow>(
                "SELECT d.event_id, d.endpoint_id, o.webhook_id, o.event_type, o.payload, w.url, w.secret, d.attempts \
                 FROM webhook_deliveries d JOIN outbox_events o ON o.id = d.event_id \
                 JOIN webhook_endpoints w ON w.id = d.endpoint_id WHERE d.event_id = $1 AND d.endpoint_id = $2",
            )
            .bind(event)
            .bind(endpoint)
            .fetch_one(&mut *tx)
            .await?;
            leased.push(leased_from(row, lease)?);
        }
        tx.commit().await?;
        Ok(leased)
    }

    pub(crate) async fn delivery_succeeded(
        &self,
        delivery: &LeasedDelivery,
        at: DateTime<Utc>,
    ) -> Result<(), SqlError> {
        sqlx::query(
            "UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1, delivered_at = $1, \
             leased_by = NULL, leased_until = NULL, last_error = NULL \
             WHERE event_id = $2 AND endpoint_id = $3 AND leased_by = $4 AND status = 'pending'",
        )
        .bind(at)
        .bind(delivery.event)
        .bind(delivery.endpoint)
        .bind(&delivery.lease)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(crate) async fn delivery_failed(
        &self,
        delivery: &LeasedDelivery,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), SqlError> {
        let error: String = error.chars().take(500).collect();
        sqlx::query(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = $1, \
             status = CASE WHEN CAST($2 AS TEXT) IS NULL THEN 'dead' ELSE 'pending' END, \
             next_attempt_at = COALESCE($3, next_attempt_at), leased_by = NULL, leased_until = NULL \
             WHERE event_id = $4 AND endpoint_id = $5 AND leased_by = $6 AND status = 'pending'",
        )
        .bind(error)
        .bind(retry_at.map(|at| at.to_rfc3339()))
        .bind(retry_at)
        .bind(delivery.event)
        .bind(delivery.endpoint)
        .bind(&delivery.lease)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(crate) async fn dead_letters(
        &self,
        endpoint: i64,
        limit: u32,
    ) -> Result<Vec<DeadLetter>, SqlError> {
        let rows = sqlx::query_as::<_, DeadLetterRow>(
            "SELECT d.event_id, d.endpoint_id, o.webhook_id, o.event_type, d.attempts, d.last_error, o.created_at \
             FROM webhook_deliveries d JOIN outbox_events o ON o.id = d.event_id \
             WHERE d.endpoint_id = $1 AND d.status = 'dead' ORDER BY d.event_id LIMIT $2",
        )
        .bind(endpoint)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(dead_letter_from).collect())
    }

    pub(crate) async fn dead_letters_replay(
        &self,
        endpoint: i64,
        event: Option<i64>,
        at: DateTime<Utc>,
    ) -> Result<u64, SqlError> {
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $1, \
             leased_by = NULL, leased_until = NULL \
             WHERE endpoint_id = $2 AND status = 'dead' AND (CAST($3 AS BIGINT) IS NULL OR event_id = $4)",
        )
        .bind(at)
        .bind(endpoint)
        .bind(event)
        .bind(event)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    pub(crate) async fn outbox_depth(&self) -> Result<OutboxDepth, SqlError> {
        let row = sqlx::query_as::<_, DepthRow>(
            "SELECT (SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending') AS pending, \
             (SELECT MIN(o.created_at) FROM webhook_deliveries d JOIN outbox_events o ON o.id = d.event_id \
              WHERE d.status = 'pending') AS oldest_pending, \
             (SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'dead') AS dead",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(depth_from(row))
    }
}
