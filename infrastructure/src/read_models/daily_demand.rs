//! `daily_demand`: units demanded per product per day, the forecast's input.
//!
//! `sold` counts sales and confirmed reservations by the day they occurred; `imported` holds
//! demand history uploaded for days before Restock (the last upload for a day wins); `stockout`
//! marks days on which available stock ran out, so that day's sales are a lower bound on demand
//! (censored), not the demand itself.

use crate::{execute, fetch_all, Db, DbTx};
use chrono::NaiveDate;
use restock_application::ports::{DemandDay, DemandReader, DemandTotal, StoreError};
use restock_domain::{Sku, TenantId};
use std::collections::HashMap;

pub async fn add_sold(
    tx: &mut DbTx,
    tenant: &str,
    sku: &str,
    day: NaiveDate,
    quantity: i64,
) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        "INSERT INTO daily_demand (tenant_id, sku, day, sold) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant_id, sku, day) DO UPDATE SET sold = daily_demand.sold + excluded.sold",
        tenant,
        sku,
        day,
        quantity
    )?;
    Ok(())
}

/// Products per statement when reading windows: the skus go in one bound array.
const SKUS_PER_STATEMENT: usize = 1000;

/// Record imported demand for many days at once. Keys must be unique within a call.
pub async fn set_imported_all(
    tx: &mut DbTx,
    rows: &[(&str, &str, NaiveDate, i64)],
) -> Result<(), sqlx::Error> {
    super::daily_rows::upsert(tx, super::daily_rows::DailyColumn::ImportedDemand, rows).await
}

pub async fn mark_stockout(
    tx: &mut DbTx,
    tenant: &str,
    sku: &str,
    day: NaiveDate,
) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        "INSERT INTO daily_demand (tenant_id, sku, day, stockout) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant_id, sku, day) DO UPDATE SET stockout = excluded.stockout",
        tenant,
        sku,
        day,
        true
    )?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct SkuDay {
    sku: String,
    day: NaiveDate,
    /// The day's demand: imported history plus what was sold and reserved in Restock.
    /// Computed by the database: one column fewer to decode per row, and a
    /// recompute reads hundreds of rows per product.
    quantity: i64,
    stockout: bool,
}

/// Runs `SELECT ... WHERE tenant_id = ? AND sku IN (...) <before> ? <after>` on SQLite, with
/// `since` as the last parameter.
async fn for_skus<R>(
    conn: &mut sqlx::SqliteConnection,
    select: &str,
    (tenant, skus, since): (&str, &[&str], NaiveDate),
    (before, after): (&str, &str),
) -> Result<Vec<R>, sqlx::Error>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + Send + Unpin,
{
    let mut query = sqlx::QueryBuilder::<sqlx::Sqlite>::new(select);
    query.push(" WHERE tenant_id = ").push_bind(tenant);
    query.push(" AND sku IN (");
    let mut list = query.separated(", ");
    for sku in skus {
        list.push_bind(*sku);
    }
    query.push(")").push(before).push_bind(since).push(after);
    query.build_query_as::<R>().fetch_all(&mut *conn).await
}

/// The days of these products from `since` on, in no particular order.
async fn window(
    conn: &mut sqlx::SqliteConnection,
    products: (&str, &[&str], NaiveDate),
) -> Result<Vec<SkuDay>, sqlx::Error> {
    for_skus(
        conn,
        "SELECT sku, day, COALESCE(imported, 0) + sold AS quantity, stockout FROM daily_demand",
        products,
        // No ORDER BY: the caller sorts each product's few hundred days, which is cheaper than
        // a sort of the whole chunk's rows in the database.
        (" AND day >= ", ""),
    )
    .await
}

#[derive(sqlx::FromRow)]
struct SkuOnly {
    sku: String,
}

/// Which of these products have days before `since`: one index probe per product (EXISTS stops
/// at the first row), not a scan of its older history.
async fn with_days_before(
    conn: &mut sqlx::SqliteConnection,
    products: (&str, &[&str], NaiveDate),
) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<SkuOnly> = for_skus(
        conn,
        "SELECT p.sku FROM products p",
        products,
        (
            " AND EXISTS (SELECT 1 FROM daily_demand d WHERE d.tenant_id = p.tenant_id \
             AND d.sku = p.sku AND d.day < ",
            ")",
        ),
    )
    .await?;
    Ok(rows.into_iter().map(|r| r.sku).collect())
}

/// SQLite's read of [`DemandReader::demand`]: the days as rows, a chunk of products per
/// statement, in one read transaction.
async fn demand_as_rows(
    read: &sqlx::SqlitePool,
    tenant: &TenantId,
    skus: &[Sku],
    since: NaiveDate,
) -> Result<HashMap<Sku, Vec<DemandDay>>, sqlx::Error> {
    let by_name: HashMap<&str, &Sku> = skus.iter().map(|s| (s.as_str(), s)).collect();
    let names: Vec<&str> = by_name.keys().copied().collect();
    let mut tx = read.begin().await?;
    let mut out: HashMap<Sku, Vec<DemandDay>> = HashMap::new();
    let mut older = Vec::new();
    for chunk in names.chunks(SKUS_PER_STATEMENT) {
        let products = (tenant.as_str(), chunk, since);
        let rows = window(&mut tx, products).await?;
        older.extend(with_days_before(&mut tx, products).await?);
        for row in rows {
            if let Some(&sku) = by_name.get(row.sku.as_str()) {
                out.entry(sku.clone()).or_default().push(DemandDay {
                    date: row.day,
                    quantity: row.quantity,
                    censored: row.stockout,
                });
            }
        }
    }
    tx.commit().await?;
    for days in out.values_mut() {
        days.sort_by_key(|d| d.date);
    }
    for sku in older {
        let Some(&sku) = by_name.get(sku.as_str()) else {
            continue;
        };
        with_start_of_window(out.entry(sku.clone()).or_default(), true, since);
    }
    Ok(out)
}

/// Each product's window as one row of arrays, with whether it has older days.
#[derive(sqlx::FromRow)]
struct Window {
    sku: String,
    days: Option<Vec<NaiveDate>>,
    quantities: Option<Vec<i64>>,
    stockouts: Option<Vec<bool>>,
    older: bool,
}

/// PostgreSQL's read of [`DemandReader::demand`]: one row of arrays per product instead of a row
/// per day. A recompute reads a year of days for every product (3.6 million rows for 10,000
/// products), and per-row protocol overhead and decoding were most of the read's cost on both
/// sides of the connection. One statement whatever the number of products (`= ANY` of an array).
async fn demand_as_arrays(
    pool: &sqlx::PgPool,
    tenant: &TenantId,
    skus: &[Sku],
    since: NaiveDate,
) -> Result<HashMap<Sku, Vec<DemandDay>>, sqlx::Error> {
    let names: Vec<&str> = skus.iter().map(Sku::as_str).collect();
    let rows: Vec<Window> = sqlx::query_as(
        "SELECT s.sku, w.days, w.quantities, w.stockouts, \
             EXISTS (SELECT 1 FROM daily_demand o \
                     WHERE o.tenant_id = $1 AND o.sku = s.sku AND o.day < $3) AS older \
         FROM unnest($2::text[]) AS s(sku) \
         CROSS JOIN LATERAL ( \
             SELECT array_agg(day) AS days, array_agg(COALESCE(imported, 0) + sold) AS quantities, \
                    array_agg(stockout) AS stockouts \
             FROM daily_demand d WHERE d.tenant_id = $1 AND d.sku = s.sku AND d.day >= $3) AS w",
    )
    .bind(tenant.as_str())
    .bind(&names)
    .bind(since)
    .fetch_all(pool)
    .await?;
    let by_name: HashMap<&str, &Sku> = skus.iter().map(|s| (s.as_str(), s)).collect();
    let mut out = HashMap::with_capacity(rows.len());
    for row in rows {
        let Some(&sku) = by_name.get(row.sku.as_str()) else {
            continue;
        };
        let (days, quantities, stockouts) = (
            row.days.unwrap_or_default(),
            row.quantities.unwrap_or_default(),
            row.stockouts.unwrap_or_default(),
        );
        let mut window: Vec<DemandDay> = days
            .into_iter()
            .zip(quantities)
            .zip(stockouts)
            .map(|((date, quantity), censored)| DemandDay {
                date,
                quantity,
                censored,
            })
            .collect();
        // Aggregated in index order, which is day order in practice but not by contract.
        window.sort_by_key(|d| d.date);
        with_start_of_window(&mut window, row.older, since);
        if !window.is_empty() {
            out.insert(sku.clone(), window);
        }
    }
    Ok(out)
}

/// Older history: the series starts at `since`, with a zero day unless a row is there, so that
/// the days between `since` and the first recent demand count as zero demand.
fn with_start_of_window(days: &mut Vec<DemandDay>, older: bool, since: NaiveDate) {
    if older && days.first().is_none_or(|d| d.date != since) {
        days.insert(
            0,
            DemandDay {
                date: since,
                quantity: 0,
                censored: false,
            },
        );
    }
}

/// The forecast's view of demand (`application::ports::DemandReader`) over these tables.
pub struct SqlDemandReader {
    db: crate::Db,
}

impl SqlDemandReader {
    pub fn new(db: crate::Db) -> Self {
        Self { db }
    }
}

#[derive(sqlx::FromRow)]
struct Name {
    name: String,
}

#[async_trait::async_trait]
impl DemandReader for SqlDemandReader {
    async fn tenants(&self) -> Result<Vec<TenantId>, StoreError> {
        let mut tx = self.db.begin_read().await.map_err(StoreError::new)?;
        let rows = fetch_all!(
            &mut tx,
            Name,
            "SELECT DISTINCT tenant_id AS name FROM products ORDER BY tenant_id"
        )
        .map_err(StoreError::new)?;
        tx.commit().await.map_err(StoreError::new)?;
        Ok(rows
            .iter()
            .filter_map(|r| TenantId::parse(&r.name).ok())
            .collect())
    }

    async fn skus(&self, tenant: &TenantId) -> Result<Vec<Sku>, StoreError> {
        let mut tx = self.db.begin_read().await.map_err(StoreError::new)?;
        let rows = fetch_all!(
            &mut tx,
            Name,
            "SELECT sku AS name FROM products WHERE tenant_id = $1 ORDER BY sku",
            tenant.as_str()
        )
        .map_err(StoreError::new)?;
        tx.commit().await.map_err(StoreError::new)?;
        Ok(rows
            .iter()
            .filter_map(|r| Sku::parse(&r.name).ok())
            .collect())
    }

    async fn demand(
        &self,
        tenant: &TenantId,
        skus: &[Sku],
        since: NaiveDate,
    ) -> Result<HashMap<Sku, Vec<DemandDay>>, StoreError> {
        match &self.db {
            Db::Postgres(pool) => demand_as_arrays(pool, tenant, skus, since).await,
            Db::Sqlite { read, .. } => demand_as_rows(read, tenant, skus, since).await,
        }
        .map_err(StoreError::new)
    }

    async fn totals(
        &self,
        tenant: &TenantId,
        sku: Option<&Sku>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<HashMap<String, DemandTotal>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Total {
            sku: String,
            units: i64,
            stockouts: i64,
        }
        let mut tx = self
            .db
            .begin_tenant_read(tenant.as_str())
            .await
            .map_err(StoreError::new)?;
        const SUMS: &str =
            "SELECT sku, CAST(SUM(COALESCE(imported, 0) + sold) AS BIGINT) AS units, \
                    CAST(SUM(CASE WHEN stockout THEN 1 ELSE 0 END) AS BIGINT) AS stockouts \
             FROM daily_demand WHERE tenant_id = $1 AND day >= $2 AND day <= $3";
        // One product reads its own days by the primary key; every product, by day
        // (migration 0009).
        let rows = match sku {
            Some(sku) => fetch_all!(
                &mut tx,
                Total,
                &format!("{SUMS} AND sku = $4 GROUP BY sku"),
                tenant.as_str(),
                from,
                to,
                sku.as_str()
            ),
            None => fetch_all!(
                &mut tx,
                Total,
                &format!("{SUMS} GROUP BY sku"),
                tenant.as_str(),
                from,
                to
            ),
        }
        .map_err(StoreError::new)?;
        tx.commit().await.map_err(StoreError::new)?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let total = DemandTotal {
                    units: r.units,
                    stockout_days: r.stockouts,
                };
                (r.sku, total)
            })
            .collect())
    }
}
