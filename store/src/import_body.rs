// The import (issue 15), a second part of the store's body: included beside `body.rs` in each
// dialect's module, so it shares its `Db`, `D`, `Conn` and helpers. One batch is one write
// transaction. The records come sorted by kind; each kind is taken in chunks: the chunk's
// stored versions are read in one statement, the newer records' versions written in one,
// what they refer to looked up in one per table, and the records written a few hundred rows
// to a statement (a statement costs far more than a row: sqlx hands each one to a worker).
// Only a batch without a problem commits.

use sqlx::QueryBuilder;
use tillval_services::imported::{
    Fact, FactKind, ImportCounts, ImportItem, ImportOutcome, ImportProblem, ProblemCode,
};

/// Records per chunk: the versions of a chunk are read and written in one statement each.
const CHUNK: usize = 500;
/// Rows per multi-row statement: well under SQLite's 32,766 and PostgreSQL's 65,535 binds.
const ROWS_PER_STATEMENT: usize = 500;

/// What one batch found on its way through the transaction.
#[derive(Default)]
struct ImportRun {
    counts: ImportCounts,
    problems: Vec<ImportProblem>,
    /// `table\0id` of what is known to exist (looked up once per batch).
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

impl Body {
    pub(crate) async fn import(
        &self,
        items: &[ImportItem],
        at: DateTime<Utc>,
    ) -> Result<ImportOutcome, SqlError> {
        let mut tx = D::begin_write(&self.pool).await?;
        if !D::PLAN_WITH_VALUES.is_empty() {
            sqlx::query(D::PLAN_WITH_VALUES).execute(&mut *tx).await?;
        }
        let mut run = ImportRun::default();
        for same_kind in items.chunk_by(|a, b| a.kind == b.kind) {
            for chunk in same_kind.chunks(CHUNK) {
                let newer = newer_versions(&mut tx, chunk, at, &mut run).await?;
                if !newer.is_empty() {
                    import_chunk(&mut tx, &newer, at, &mut run).await?;
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

/// `(…, …)` of `ids`, bound, after `head`.
fn in_list<'a>(
    head: &str,
    ids: impl IntoIterator<Item = &'a str>,
    tail: &str,
) -> QueryBuilder<'static, Db> {
    let mut query = QueryBuilder::new(head);
    query.push(" (");
    let mut separated = query.separated(", ");
    for id in ids {
        separated.push_bind(id.to_owned());
    }
    query.push(")");
    query.push(tail);
    query
}

/// Statements inserting `rows` a few hundred at a time: `head` names the table and columns,
/// `push` binds one row's values, `tail` says what a conflict does. Built apart from their
/// execution, so no closure lives across an await.
fn insert_statements<T>(
    head: &str,
    rows: &[T],
    tail: &str,
    mut push: impl FnMut(&mut sqlx::query_builder::Separated<'_, 'static, Db, &'static str>, &T),
) -> Vec<QueryBuilder<'static, Db>> {
    rows.chunks(ROWS_PER_STATEMENT)
        .map(|part| {
            let mut query: QueryBuilder<'static, Db> = QueryBuilder::new(head);
            query.push_values(part, |mut row, value| push(&mut row, value));
            query.push(tail);
            query
        })
        .collect()
}

async fn execute_all(
    conn: &mut Conn,
    statements: Vec<QueryBuilder<'static, Db>>,
) -> Result<(), SqlError> {
    for mut statement in statements {
        statement.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// The chunk's records whose version is newer than the one stored (or new), their versions
/// stored; the rest counted as unchanged or older.
async fn newer_versions<'i>(
    conn: &mut Conn,
    chunk: &'i [ImportItem],
    at: DateTime<Utc>,
    run: &mut ImportRun,
) -> Result<Vec<&'i ImportItem>, SqlError> {
    let Some(kind) = chunk.first().map(|i| i.kind.as_str()) else {
        return Ok(Vec::new());
    };
    let mut query: QueryBuilder<'static, Db> =
        QueryBuilder::new("SELECT source_id, version FROM import_versions WHERE kind = ");
    query.push_bind(kind.to_owned());
    query.push(" AND source_id IN (");
    let mut separated = query.separated(", ");
    for item in chunk {
        separated.push_bind(item.source_id.clone());
    }
    query.push(")");
    let stored: HashMap<String, i64> = query
        .build_query_as::<(String, i64)>()
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect();
    let mut newer = Vec::new();
    for item in chunk {
        match stored.get(&item.source_id) {
            Some(&version) if version == item.version => run.counts.unchanged += 1,
            Some(&version) if version > item.version => run.counts.stale += 1,
            _ => {
                run.counts.applied += 1;
                newer.push(item);
            }
        }
    }
    let statements = insert_statements(
        "INSERT INTO import_versions (kind, source_id, version, imported_at) ",
        &newer,
        " ON CONFLICT (kind, source_id) DO UPDATE SET version = excluded.version, \
         imported_at = excluded.imported_at",
        |row, item| {
            row.push_bind(item.kind.as_str())
                .push_bind(item.source_id.clone())
                .push_bind(item.version)
                .push_bind(at);
        },
    );
    execute_all(conn, statements).await?;
    Ok(newer)
}

/// Which of `ids` the table's `id_column` does not hold (each asked of the database once per
/// batch).
async fn missing(
    conn: &mut Conn,
    run: &mut ImportRun,
    table: &'static str,
    id_column: &'static str,
    ids: Vec<String>,
) -> Result<std::collections::HashSet<String>, SqlError> {
    let mut unknown: Vec<String> = ids
        .into_iter()
        .filter(|id| !run.known.contains(&format!("{table}\u{0}{id}")))
        .collect();
    unknown.sort();
    unknown.dedup();
    let mut missing: std::collections::HashSet<String> = unknown.iter().cloned().collect();
    for part in unknown.chunks(ROWS_PER_STATEMENT) {
        let found: Vec<String> = in_list(
            &format!("SELECT {id_column} FROM {table} WHERE {id_column} IN"),
            part.iter().map(String::as_str),
            "",
        )
        .build_query_scalar()
        .fetch_all(&mut *conn)
        .await?;
        for id in found {
            run.known.insert(format!("{table}\u{0}{id}"));
            missing.remove(&id);
        }
    }
    Ok(missing)
}

/// The catalogue currency of `property`; `None` for a property without a catalogue.
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

/// Writes a chunk of newer records of one kind.
async fn import_chunk(
    conn: &mut Conn,
    items: &[&ImportItem],
    at: DateTime<Utc>,
    run: &mut ImportRun,
) -> Result<(), SqlError> {
    let Some(kind) = items.first().map(|i| i.kind) else {
        return Ok(());
    };
    match kind {
        FactKind::Landlord | FactKind::Property | FactKind::Category | FactKind::Option => {
            for item in items {
                import_catalogue_fact(conn, item, run).await?;
            }
        }
        FactKind::RentalObject => import_rental_objects(conn, items, run).await?,
        FactKind::Tenant => import_tenants(conn, items).await?,
        FactKind::Tenancy => import_tenancies(conn, items, run).await?,
        FactKind::Debt => import_debts(conn, items, at, run).await?,
        FactKind::Fee => import_fees(conn, items, run).await?,
        FactKind::Payment => import_payments(conn, items, run).await?,
    }
    Ok(())
}

/// One record of the catalogue (a landlord's few hundred): statement by statement.
async fn import_catalogue_fact(
    conn: &mut Conn,
    item: &ImportItem,
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
        _ => {}
    }
    Ok(())
}

async fn import_rental_objects(
    conn: &mut Conn,
    items: &[&ImportItem],
    run: &mut ImportRun,
) -> Result<(), SqlError> {
    let objects: Vec<(u64, &RentalObject)> = items
        .iter()
        .filter_map(|i| match &i.fact {
            Fact::RentalObject(object) => Some((i.line, object)),
            _ => None,
        })
        .collect();
    let missing = missing(
        conn,
        run,
        "properties",
        "id",
        objects
            .iter()
            .map(|(_, o)| o.property().as_str().to_owned())
            .collect(),
    )
    .await?;
    let mut ok = Vec::with_capacity(objects.len());
    for (line, object) in objects {
        if missing.contains(object.property().as_str()) {
            run.problem(
                line,
                "property",
                ProblemCode::UnknownReference,
                format!("property {}", object.property()),
            );
        } else {
            ok.push(object);
        }
    }
    let statements = insert_statements(
        "INSERT INTO rental_objects (id, property_id, address, building_year, rooms, area_sqm) ",
        &ok,
        " ON CONFLICT (id) DO UPDATE SET property_id = excluded.property_id, address = excluded.address, \
         building_year = excluded.building_year, rooms = excluded.rooms, area_sqm = excluded.area_sqm",
        |row, o| {
            row.push_bind(o.id().as_str().to_owned())
                .push_bind(o.property().as_str().to_owned())
                .push_bind(o.address().to_owned())
                .push_bind(o.building_year())
                .push_bind(i64::from(o.rooms()))
                .push_bind(i64::from(o.area_sqm()));
        },
    );
    execute_all(conn, statements).await?;
    for part in ok.chunks(ROWS_PER_STATEMENT) {
        in_list(
            "DELETE FROM spaces WHERE rental_object_id IN",
            part.iter().map(|o| o.id().as_str()),
            "",
        )
        .build()
        .execute(&mut *conn)
        .await?;
    }
    let spaces: Vec<(String, String, String, i64)> = ok
        .iter()
        .flat_map(|o| {
            o.spaces().iter().enumerate().map(|(position, space)| {
                (
                    o.id().as_str().to_owned(),
                    space.id.as_str().to_owned(),
                    space.name.clone(),
                    position as i64,
                )
            })
        })
        .collect();
    let statements = insert_statements(
        "INSERT INTO spaces (rental_object_id, space_id, name, position) ",
        &spaces,
        "",
        |row, (object, space, name, position)| {
            row.push_bind(object.clone())
                .push_bind(space.clone())
                .push_bind(name.clone())
                .push_bind(*position);
        },
    );
    execute_all(conn, statements).await
}

async fn import_tenants(conn: &mut Conn, items: &[&ImportItem]) -> Result<(), SqlError> {
    let tenants: Vec<(String, String, bool)> = items
        .iter()
        .filter_map(|i| match &i.fact {
            Fact::Tenant {
                id,
                name,
                ordering_enabled,
            } => Some((id.as_str().to_owned(), name.clone(), *ordering_enabled)),
            _ => None,
        })
        .collect();
    let statements = insert_statements(
        "INSERT INTO tenants (id, name, ordering_enabled) ",
        &tenants,
        " ON CONFLICT (id) DO UPDATE SET name = excluded.name, ordering_enabled = excluded.ordering_enabled",
        |row, (id, name, enabled)| {
            row.push_bind(id.clone())
                .push_bind(name.clone())
                .push_bind(*enabled);
        },
    );
    execute_all(conn, statements).await
}

async fn import_tenancies(
    conn: &mut Conn,
    items: &[&ImportItem],
    run: &mut ImportRun,
) -> Result<(), SqlError> {
    let tenancies: Vec<(&ImportItem, &RentalObjectId, &Vec<TenantId>, bool)> = items
        .iter()
        .filter_map(|i| match &i.fact {
            Fact::Tenancy {
                rental_object,
                tenants,
                ended,
            } => Some((*i, rental_object, tenants, *ended)),
            _ => None,
        })
        .collect();
    let missing_objects = missing(
        conn,
        run,
        "rental_objects",
        "id",
        tenancies.iter().map(|t| t.1.as_str().to_owned()).collect(),
    )
    .await?;
    let missing_tenants = missing(
        conn,
        run,
        "tenants",
        "id",
        tenancies
            .iter()
            .flat_map(|t| t.2.iter().map(|id| id.as_str().to_owned()))
            .collect(),
    )
    .await?;
    let mut ok = Vec::with_capacity(tenancies.len());
    for (item, object, tenants, ended) in tenancies {
        let mut refused = false;
        if missing_objects.contains(object.as_str()) {
            run.problem(
                item.line,
                "rental_object",
                ProblemCode::UnknownReference,
                format!("rental object {object}"),
            );
            refused = true;
        }
        for tenant in tenants
            .iter()
            .filter(|t| missing_tenants.contains(t.as_str()))
        {
            run.problem(
                item.line,
                "tenants",
                ProblemCode::UnknownReference,
                format!("tenant {tenant}"),
            );
            refused = true;
        }
        if !refused {
            ok.push((item, object, tenants, ended));
        }
    }
    for part in ok.chunks(ROWS_PER_STATEMENT) {
        in_list(
            "DELETE FROM leases WHERE tenancy_id IN",
            part.iter().map(|t| t.0.source_id.as_str()),
            "",
        )
        .build()
        .execute(&mut *conn)
        .await?;
    }
    // One row per lease: a later tenancy in the file that names the same tenant and apartment
    // holds it (one statement may not touch a row twice).
    let mut leases: HashMap<(String, String), String> = HashMap::new();
    for (item, object, tenants, ended) in &ok {
        if !*ended {
            for tenant in tenants.iter() {
                leases.insert(
                    (tenant.as_str().to_owned(), object.as_str().to_owned()),
                    item.source_id.clone(),
                );
            }
        }
    }
    let leases: Vec<((String, String), String)> = leases.into_iter().collect();
    let statements = insert_statements(
        "INSERT INTO leases (tenant_id, rental_object_id, tenancy_id) ",
        &leases,
        " ON CONFLICT (tenant_id, rental_object_id) DO UPDATE SET tenancy_id = excluded.tenancy_id",
        |row, ((tenant, object), tenancy)| {
            row.push_bind(tenant.clone())
                .push_bind(object.clone())
                .push_bind(tenancy.clone());
        },
    );
    execute_all(conn, statements).await
}

async fn import_debts(
    conn: &mut Conn,
    items: &[&ImportItem],
    at: DateTime<Utc>,
    run: &mut ImportRun,
) -> Result<(), SqlError> {
    let debts: Vec<(u64, &TenantId, Money)> = items
        .iter()
        .filter_map(|i| match &i.fact {
            Fact::Debt { tenant, amount } => Some((i.line, tenant, *amount)),
            _ => None,
        })
        .collect();
    let missing = missing(
        conn,
        run,
        "tenants",
        "id",
        debts.iter().map(|d| d.1.as_str().to_owned()).collect(),
    )
    .await?;
    let mut ok = Vec::with_capacity(debts.len());
    for (line, tenant, amount) in debts {
        if missing.contains(tenant.as_str()) {
            run.problem(
                line,
                "id",
                ProblemCode::UnknownReference,
                format!("tenant {tenant}"),
            );
        } else {
            ok.push((tenant, amount));
        }
    }
    let statements = insert_statements(
        "INSERT INTO ledger_debts (tenant_id, amount, currency, updated_at) ",
        &ok,
        " ON CONFLICT (tenant_id) DO UPDATE SET amount = excluded.amount, currency = excluded.currency, \
         updated_at = excluded.updated_at",
        |row, (tenant, amount)| {
            row.push_bind(tenant.as_str().to_owned())
                .push_bind(amount.minor())
                .push_bind(amount.currency().code())
                .push_bind(at);
        },
    );
    execute_all(conn, statements).await
}

async fn import_fees(
    conn: &mut Conn,
    items: &[&ImportItem],
    run: &mut ImportRun,
) -> Result<(), SqlError> {
    let fees: Vec<(&ImportItem, &tillval_services::imported::ImportedFee)> = items
        .iter()
        .filter_map(|i| match &i.fact {
            Fact::Fee(fee) => Some((*i, fee)),
            _ => None,
        })
        .collect();
    let missing_tenants = missing(
        conn,
        run,
        "tenants",
        "id",
        fees.iter()
            .map(|f| f.1.tenant.as_str().to_owned())
            .collect(),
    )
    .await?;
    let missing_objects = missing(
        conn,
        run,
        "rental_objects",
        "id",
        fees.iter()
            .map(|f| f.1.rental_object.as_str().to_owned())
            .collect(),
    )
    .await?;
    let mut ok = Vec::with_capacity(fees.len());
    for (item, fee) in fees {
        let mut refused = false;
        if missing_tenants.contains(fee.tenant.as_str()) {
            run.problem(
                item.line,
                "tenant",
                ProblemCode::UnknownReference,
                format!("tenant {}", fee.tenant),
            );
            refused = true;
        }
        if missing_objects.contains(fee.rental_object.as_str()) {
            run.problem(
                item.line,
                "rental_object",
                ProblemCode::UnknownReference,
                format!("rental object {}", fee.rental_object),
            );
            refused = true;
        }
        if refused {
            continue;
        }
        let keys: Vec<&str> = fee.lock_keys.iter().map(LockKey::as_str).collect();
        let keys = serde_json::to_string(&keys)
            .map_err(|e| SqlError::corrupt(format!("lock keys as JSON: {e}")))?;
        run.fees.insert(item.source_id.clone(), item.line);
        ok.push((item, fee, keys));
    }
    let statements = insert_statements(
        "INSERT INTO imported_fees (source_id, tenant_id, rental_object_id, option_id, lock_keys, amount, currency, booked_at) ",
        &ok,
        " ON CONFLICT (source_id) DO UPDATE SET tenant_id = excluded.tenant_id, \
         rental_object_id = excluded.rental_object_id, option_id = excluded.option_id, lock_keys = excluded.lock_keys, \
         amount = excluded.amount, currency = excluded.currency, booked_at = excluded.booked_at",
        |row, (item, fee, keys)| {
            row.push_bind(item.source_id.clone())
                .push_bind(fee.tenant.as_str().to_owned())
                .push_bind(fee.rental_object.as_str().to_owned())
                .push_bind(fee.option.as_str().to_owned())
                .push_bind(keys.clone())
                .push_bind(fee.amount.minor())
                .push_bind(fee.amount.currency().code())
                .push_bind(fee.booked_at);
        },
    );
    execute_all(conn, statements).await
}

async fn import_payments(
    conn: &mut Conn,
    items: &[&ImportItem],
    run: &mut ImportRun,
) -> Result<(), SqlError> {
    let payments: Vec<(&ImportItem, &String, Money, DateTime<Utc>)> = items
        .iter()
        .filter_map(|i| match &i.fact {
            Fact::Payment {
                fee,
                amount,
                paid_at,
            } => Some((*i, fee, *amount, *paid_at)),
            _ => None,
        })
        .collect();
    let mut currencies: HashMap<String, String> = HashMap::new();
    let mut fee_ids: Vec<&str> = payments.iter().map(|p| p.1.as_str()).collect();
    fee_ids.sort_unstable();
    fee_ids.dedup();
    for part in fee_ids.chunks(ROWS_PER_STATEMENT) {
        let found: Vec<(String, String)> = in_list(
            "SELECT source_id, currency FROM imported_fees WHERE source_id IN",
            part.iter().copied(),
            "",
        )
        .build_query_as()
        .fetch_all(&mut *conn)
        .await?;
        currencies.extend(found);
    }
    // A newer version may move a payment to another fee: that fee is settled again too.
    for part in payments.chunks(ROWS_PER_STATEMENT) {
        let earlier: Vec<(String, String)> = in_list(
            "SELECT source_id, fee_id FROM imported_payments WHERE source_id IN",
            part.iter().map(|p| p.0.source_id.as_str()),
            "",
        )
        .build_query_as()
        .fetch_all(&mut *conn)
        .await?;
        for (payment, fee) in earlier {
            let line = part
                .iter()
                .find(|p| p.0.source_id == payment)
                .map_or(0, |p| p.0.line);
            run.fees.insert(fee, line);
        }
    }
    let mut ok = Vec::with_capacity(payments.len());
    for (item, fee, amount, paid_at) in payments {
        match currencies.get(fee.as_str()) {
            None => run.problem(
                item.line,
                "fee",
                ProblemCode::UnknownReference,
                format!("fee {fee}"),
            ),
            Some(currency) if currency != amount.currency().code() => run.problem(
                item.line,
                "currency",
                ProblemCode::CurrencyMismatch,
                format!("fee {fee} is in {currency}"),
            ),
            Some(_) => {
                run.fees.insert(fee.clone(), item.line);
                ok.push((item, fee, amount, paid_at));
            }
        }
    }
    let statements = insert_statements(
        "INSERT INTO imported_payments (source_id, fee_id, amount, paid_at) ",
        &ok,
        " ON CONFLICT (source_id) DO UPDATE SET fee_id = excluded.fee_id, amount = excluded.amount, \
         paid_at = excluded.paid_at",
        |row, (item, fee, amount, paid_at)| {
            row.push_bind(item.source_id.clone())
                .push_bind((*fee).clone())
                .push_bind(amount.minor())
                .push_bind(*paid_at);
        },
    );
    execute_all(conn, statements).await
}

/// Brings each touched fee's paid sum up to date; payments over the fee are a problem at the
/// line that made them so.
async fn settle_fees(conn: &mut Conn, run: &mut ImportRun) -> Result<(), SqlError> {
    let fees: Vec<(String, u64)> = run.fees.drain().collect();
    for part in fees.chunks(ROWS_PER_STATEMENT) {
        in_list(
            "UPDATE imported_fees SET paid = CAST(COALESCE((SELECT SUM(p.amount) FROM imported_payments p \
             WHERE p.fee_id = imported_fees.source_id), 0) AS BIGINT) WHERE source_id IN",
            part.iter().map(|f| f.0.as_str()),
            "",
        )
        .build()
        .execute(&mut *conn)
        .await?;
        let over: Vec<(String, i64, i64)> = in_list(
            "SELECT source_id, paid, amount FROM imported_fees WHERE source_id IN",
            part.iter().map(|f| f.0.as_str()),
            " AND paid > amount",
        )
        .build_query_as()
        .fetch_all(&mut *conn)
        .await?;
        for (fee, paid, amount) in over {
            let line = part.iter().find(|f| f.0 == fee).map_or(0, |f| f.1);
            run.problem(
                line,
                "amount",
                ProblemCode::Overpaid,
                format!("fee {fee}: {paid} paid of {amount}"),
            );
        }
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
