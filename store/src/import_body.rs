// The import (issue 15), a second part of the store's body: included beside `body.rs` in each
// dialect's module, so it shares its `Db`, `D`, `Conn` and helpers. One batch is one write
// transaction: each record's version is compared with the one stored (and stored when newer),
// what a newer record refers to is looked up (the batch's own records are written first, by
// kind), and only a batch without a problem commits.

use tillval_services::imported::{
    Fact, ImportCounts, ImportItem, ImportOutcome, ImportProblem, ImportedFee, ProblemCode,
};

/// How a record's version compares with the one stored.
enum Newness {
    Newer,
    Same,
    Older,
}

/// What one batch found on its way through the transaction.
#[derive(Default)]
struct ImportRun {
    counts: ImportCounts,
    problems: Vec<ImportProblem>,
    /// `kind:id` of what is known to exist (a reference looked up once per batch).
    known: std::collections::HashSet<String>,
    /// Catalogue currencies by property, as looked up.
    currencies: HashMap<String, Option<String>>,
    /// Properties whose catalogue changed, with the last line that changed it.
    catalogues: HashMap<PropertyId, u64>,
    /// Imported fees whose paid sum must be brought up to date, with the line to blame.
    fees: HashMap<String, u64>,
}

impl ImportRun {
    fn problem(&mut self, line: u64, field: &str, code: ProblemCode, detail: String) {
        self.problems
            .push(ImportProblem::new(line, Some(field), code, detail));
    }
}

const EXISTS_PROPERTY: &str = "SELECT 1 FROM properties WHERE id = $1";
const EXISTS_TENANT: &str = "SELECT 1 FROM tenants WHERE id = $1";
const EXISTS_RENTAL_OBJECT: &str = "SELECT 1 FROM rental_objects WHERE id = $1";

impl Body {
    pub(crate) async fn import(
        &self,
        items: &[ImportItem],
        at: DateTime<Utc>,
    ) -> Result<ImportOutcome, SqlError> {
        let mut tx = D::begin_write(&self.pool).await?;
        let mut run = ImportRun::default();
        for item in items {
            match import_version(&mut tx, item, at).await? {
                Newness::Same => run.counts.unchanged += 1,
                Newness::Older => run.counts.stale += 1,
                Newness::Newer => {
                    run.counts.applied += 1;
                    import_fact(&mut tx, item, at, &mut run).await?;
                }
            }
        }
        settle_fees(&mut tx, &mut run).await?;
        catalogue_sizes(&mut tx, &mut run).await?;
        if !run.problems.is_empty() {
            tx.rollback().await?;
            run.problems.sort_by_key(|p| p.line);
            return Ok(ImportOutcome::Refused(run.problems));
        }
        for property in run.catalogues.keys() {
            self.dialect
                .notify(
                    &mut tx,
                    &StoreChange::Catalogue {
                        property: property.clone(),
                    },
                )
                .await?;
        }
        tx.commit().await?;
        Ok(ImportOutcome::Applied(run.counts))
    }
}

/// Stores the record's version if it is newer than the one stored (or the first), in one
/// statement; says how it compared.
async fn import_version(
    conn: &mut Conn,
    item: &ImportItem,
    at: DateTime<Utc>,
) -> Result<Newness, SqlError> {
    let written = sqlx::query(
        "INSERT INTO import_versions (kind, source_id, version, imported_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (kind, source_id) DO UPDATE SET version = excluded.version, imported_at = excluded.imported_at \
         WHERE import_versions.version < excluded.version",
    )
    .bind(item.kind.as_str())
    .bind(&item.source_id)
    .bind(item.version)
    .bind(at)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if written > 0 {
        return Ok(Newness::Newer);
    }
    let stored: i64 = sqlx::query_scalar(
        "SELECT version FROM import_versions WHERE kind = $1 AND source_id = $2",
    )
    .bind(item.kind.as_str())
    .bind(&item.source_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(if stored == item.version {
        Newness::Same
    } else {
        Newness::Older
    })
}

/// Whether a row answers `sql` (one `$1`), asked once per batch for each key.
async fn exists(
    conn: &mut Conn,
    run: &mut ImportRun,
    sql: &'static str,
    key: &str,
) -> Result<bool, SqlError> {
    let cache_key = format!("{sql}\u{0}{key}");
    if run.known.contains(&cache_key) {
        return Ok(true);
    }
    let found = sqlx::query_scalar::<_, i32>(sql)
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?
        .is_some();
    if found {
        run.known.insert(cache_key);
    }
    Ok(found)
}

/// The currency of the property's catalogue; `None` for a property without one.
async fn catalogue_currency(
    conn: &mut Conn,
    run: &mut ImportRun,
    property: &PropertyId,
) -> Result<Option<String>, SqlError> {
    if let Some(currency) = run.currencies.get(property.as_str()) {
        return Ok(currency.clone());
    }
    let currency: Option<String> =
        sqlx::query_scalar("SELECT currency FROM catalogues WHERE property_id = $1")
            .bind(property.as_str())
            .fetch_optional(&mut *conn)
            .await?;
    run.currencies
        .insert(property.as_str().to_owned(), currency.clone());
    Ok(currency)
}

async fn import_fact(
    conn: &mut Conn,
    item: &ImportItem,
    at: DateTime<Utc>,
    run: &mut ImportRun,
) -> Result<(), SqlError> {
    let line = item.line;
    match &item.fact {
        Fact::Landlord { ordering_enabled } => {
            sqlx::query("UPDATE landlord_settings SET ordering_enabled = $1 WHERE id = 1")
                .bind(*ordering_enabled)
                .execute(&mut *conn)
                .await?;
        }
        Fact::Property {
            id,
            name,
            currency,
            ordering_enabled,
        } => {
            let others: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM options WHERE property_id = $1 AND currency <> $2",
            )
            .bind(id.as_str())
            .bind(currency.code())
            .fetch_one(&mut *conn)
            .await?;
            if others > 0 {
                run.problem(
                    line,
                    "currency",
                    ProblemCode::CurrencyMismatch,
                    format!("{others} options of the catalogue are priced in another currency than {currency}"),
                );
                return Ok(());
            }
            sqlx::query(
                "INSERT INTO properties (id, name, ordering_enabled) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET \
                 name = excluded.name, ordering_enabled = excluded.ordering_enabled",
            )
            .bind(id.as_str())
            .bind(name)
            .bind(*ordering_enabled)
            .execute(&mut *conn)
            .await?;
            sqlx::query(
                "INSERT INTO catalogues (property_id, currency) VALUES ($1, $2) \
                 ON CONFLICT (property_id) DO UPDATE SET currency = excluded.currency",
            )
            .bind(id.as_str())
            .bind(currency.code())
            .execute(&mut *conn)
            .await?;
            run.currencies
                .insert(id.as_str().to_owned(), Some(currency.code().to_owned()));
            run.catalogues.insert(id.clone(), line);
        }
        Fact::Category { property, category } => {
            if catalogue_currency(conn, run, property).await?.is_none() {
                run.problem(
                    line,
                    "property",
                    ProblemCode::UnknownReference,
                    format!("the catalogue of property {property}"),
                );
                return Ok(());
            }
            sqlx::query(
                "INSERT INTO categories (property_id, id, name, position) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (property_id, id) DO UPDATE SET name = excluded.name, position = excluded.position",
            )
            .bind(property.as_str())
            .bind(category.id.as_str())
            .bind(&category.name)
            .bind(i64::from(category.position))
            .execute(&mut *conn)
            .await?;
            run.catalogues.insert(property.clone(), line);
        }
        Fact::Option { property, option } => {
            let Some(currency) = catalogue_currency(conn, run, property).await? else {
                run.problem(
                    line,
                    "property",
                    ProblemCode::UnknownReference,
                    format!("the catalogue of property {property}"),
                );
                return Ok(());
            };
            if currency != option.currency().code() {
                run.problem(
                    line,
                    "currency",
                    ProblemCode::CurrencyMismatch,
                    format!("the catalogue of property {property} is in {currency}"),
                );
                return Ok(());
            }
            let category: Option<i32> =
                sqlx::query_scalar("SELECT 1 FROM categories WHERE property_id = $1 AND id = $2")
                    .bind(property.as_str())
                    .bind(option.category().as_str())
                    .fetch_optional(&mut *conn)
                    .await?;
            if category.is_none() {
                run.problem(
                    line,
                    "category",
                    ProblemCode::UnknownReference,
                    format!("category {} of property {property}", option.category()),
                );
                return Ok(());
            }
            sqlx::query("DELETE FROM options WHERE property_id = $1 AND id = $2")
                .bind(property.as_str())
                .bind(option.id().as_str())
                .execute(&mut *conn)
                .await?;
            insert_option(conn, property.as_str(), option).await?;
            run.catalogues.insert(property.clone(), line);
        }
        Fact::RentalObject(object) => {
            if !exists(conn, run, EXISTS_PROPERTY, object.property().as_str()).await? {
                run.problem(
                    line,
                    "property",
                    ProblemCode::UnknownReference,
                    format!("property {}", object.property()),
                );
                return Ok(());
            }
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
            .execute(&mut *conn)
            .await?;
            sqlx::query("DELETE FROM spaces WHERE rental_object_id = $1")
                .bind(object.id().as_str())
                .execute(&mut *conn)
                .await?;
            for (position, space) in object.spaces().iter().enumerate() {
                sqlx::query("INSERT INTO spaces (rental_object_id, space_id, name, position) VALUES ($1, $2, $3, $4)")
                    .bind(object.id().as_str())
                    .bind(space.id.as_str())
                    .bind(&space.name)
                    .bind(position as i64)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        Fact::Tenant {
            id,
            name,
            ordering_enabled,
        } => {
            sqlx::query(
                "INSERT INTO tenants (id, name, ordering_enabled) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET \
                 name = excluded.name, ordering_enabled = excluded.ordering_enabled",
            )
            .bind(id.as_str())
            .bind(name)
            .bind(*ordering_enabled)
            .execute(&mut *conn)
            .await?;
        }
        Fact::Tenancy {
            rental_object,
            tenants,
            ended,
        } => {
            let mut missing = false;
            if !exists(conn, run, EXISTS_RENTAL_OBJECT, rental_object.as_str()).await? {
                run.problem(
                    line,
                    "rental_object",
                    ProblemCode::UnknownReference,
                    format!("rental object {rental_object}"),
                );
                missing = true;
            }
            for tenant in tenants {
                if !exists(conn, run, EXISTS_TENANT, tenant.as_str()).await? {
                    run.problem(
                        line,
                        "tenants",
                        ProblemCode::UnknownReference,
                        format!("tenant {tenant}"),
                    );
                    missing = true;
                }
            }
            if missing {
                return Ok(());
            }
            sqlx::query("DELETE FROM leases WHERE tenancy_id = $1")
                .bind(&item.source_id)
                .execute(&mut *conn)
                .await?;
            if !*ended {
                for tenant in tenants {
                    sqlx::query(
                        "INSERT INTO leases (tenant_id, rental_object_id, tenancy_id) VALUES ($1, $2, $3) \
                         ON CONFLICT (tenant_id, rental_object_id) DO UPDATE SET tenancy_id = excluded.tenancy_id",
                    )
                    .bind(tenant.as_str())
                    .bind(rental_object.as_str())
                    .bind(&item.source_id)
                    .execute(&mut *conn)
                    .await?;
                }
            }
        }
        Fact::Debt { tenant, amount } => {
            if !exists(conn, run, EXISTS_TENANT, tenant.as_str()).await? {
                run.problem(
                    line,
                    "id",
                    ProblemCode::UnknownReference,
                    format!("tenant {tenant}"),
                );
                return Ok(());
            }
            sqlx::query(
                "INSERT INTO ledger_debts (tenant_id, amount, currency, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (tenant_id) DO UPDATE SET amount = excluded.amount, currency = excluded.currency, \
                 updated_at = excluded.updated_at",
            )
            .bind(tenant.as_str())
            .bind(amount.minor())
            .bind(amount.currency().code())
            .bind(at)
            .execute(&mut *conn)
            .await?;
        }
        Fact::Fee(fee) => import_fee(conn, item, fee, run).await?,
        Fact::Payment {
            fee,
            amount,
            paid_at,
        } => {
            let currency: Option<String> =
                sqlx::query_scalar("SELECT currency FROM imported_fees WHERE source_id = $1")
                    .bind(fee)
                    .fetch_optional(&mut *conn)
                    .await?;
            let Some(currency) = currency else {
                run.problem(
                    line,
                    "fee",
                    ProblemCode::UnknownReference,
                    format!("fee {fee}"),
                );
                return Ok(());
            };
            if currency != amount.currency().code() {
                run.problem(
                    line,
                    "currency",
                    ProblemCode::CurrencyMismatch,
                    format!("fee {fee} is in {currency}"),
                );
                return Ok(());
            }
            // A newer version may move the payment to another fee: both are settled again.
            let earlier: Option<String> =
                sqlx::query_scalar("SELECT fee_id FROM imported_payments WHERE source_id = $1")
                    .bind(&item.source_id)
                    .fetch_optional(&mut *conn)
                    .await?;
            if let Some(earlier) = earlier {
                run.fees.insert(earlier, line);
            }
            sqlx::query(
                "INSERT INTO imported_payments (source_id, fee_id, amount, paid_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (source_id) DO UPDATE SET fee_id = excluded.fee_id, amount = excluded.amount, \
                 paid_at = excluded.paid_at",
            )
            .bind(&item.source_id)
            .bind(fee)
            .bind(amount.minor())
            .bind(*paid_at)
            .execute(&mut *conn)
            .await?;
            run.fees.insert(fee.clone(), line);
        }
    }
    Ok(())
}

async fn import_fee(
    conn: &mut Conn,
    item: &ImportItem,
    fee: &ImportedFee,
    run: &mut ImportRun,
) -> Result<(), SqlError> {
    let line = item.line;
    let mut missing = false;
    if !exists(conn, run, EXISTS_TENANT, fee.tenant.as_str()).await? {
        run.problem(
            line,
            "tenant",
            ProblemCode::UnknownReference,
            format!("tenant {}", fee.tenant),
        );
        missing = true;
    }
    if !exists(conn, run, EXISTS_RENTAL_OBJECT, fee.rental_object.as_str()).await? {
        run.problem(
            line,
            "rental_object",
            ProblemCode::UnknownReference,
            format!("rental object {}", fee.rental_object),
        );
        missing = true;
    }
    if missing {
        return Ok(());
    }
    let keys: Vec<&str> = fee.lock_keys.iter().map(LockKey::as_str).collect();
    let keys = serde_json::to_string(&keys)
        .map_err(|e| SqlError::corrupt(format!("lock keys as JSON: {e}")))?;
    sqlx::query(
        "INSERT INTO imported_fees (source_id, tenant_id, rental_object_id, option_id, lock_keys, amount, currency, booked_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (source_id) DO UPDATE SET tenant_id = excluded.tenant_id, \
         rental_object_id = excluded.rental_object_id, option_id = excluded.option_id, lock_keys = excluded.lock_keys, \
         amount = excluded.amount, currency = excluded.currency, booked_at = excluded.booked_at",
    )
    .bind(&item.source_id)
    .bind(fee.tenant.as_str())
    .bind(fee.rental_object.as_str())
    .bind(fee.option.as_str())
    .bind(keys)
    .bind(fee.amount.minor())
    .bind(fee.amount.currency().code())
    .bind(fee.booked_at)
    .execute(&mut *conn)
    .await?;
    run.fees.insert(item.source_id.clone(), line);
    Ok(())
}

/// Brings each touched fee's paid sum up to date; payments over the fee are a problem at the
/// line that made them so.
async fn settle_fees(conn: &mut Conn, run: &mut ImportRun) -> Result<(), SqlError> {
    let fees: Vec<(String, u64)> = run.fees.drain().collect();
    for (fee, line) in fees {
        let paid: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM imported_payments WHERE fee_id = $1",
        )
        .bind(&fee)
        .fetch_one(&mut *conn)
        .await?;
        let amount: i64 =
            sqlx::query_scalar("SELECT amount FROM imported_fees WHERE source_id = $1")
                .bind(&fee)
                .fetch_one(&mut *conn)
                .await?;
        if paid > amount {
            run.problem(
                line,
                "amount",
                ProblemCode::Overpaid,
                format!("fee {fee}: {paid} paid of {amount}"),
            );
            continue;
        }
        sqlx::query("UPDATE imported_fees SET paid = $1 WHERE source_id = $2")
            .bind(paid)
            .bind(&fee)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// A catalogue the import made larger than one property may hold would fail every request
/// for it: a problem at the last line that added to it.
async fn catalogue_sizes(conn: &mut Conn, run: &mut ImportRun) -> Result<(), SqlError> {
    let catalogues: Vec<(PropertyId, u64)> = run
        .catalogues
        .iter()
        .map(|(p, l)| (p.clone(), *l))
        .collect();
    for (property, line) in catalogues {
        let options: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM options WHERE property_id = $1")
                .bind(property.as_str())
                .fetch_one(&mut *conn)
                .await?;
        if options > tillval_engine::model::MAX_OPTIONS as i64 {
            run.problem(
                line,
                "property",
                ProblemCode::TooLarge,
                format!(
                    "property {property} would have {options} options, at most {}",
                    tillval_engine::model::MAX_OPTIONS
                ),
            );
        }
    }
    Ok(())
}
