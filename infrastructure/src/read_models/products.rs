//! `products`: the Product view of docs/api.md, one row per (tenant, sku).

use crate::{fetch_all, fetch_optional, DbTx};
use restock_application::{ProductState, ProductView};
use sqlx::types::Json;
use std::collections::HashMap;

const COLUMNS: &str = "sku, name, on_hand, reserved, available, min_stock, min_stock_source, \
    lead_time_days, service_level, below_min, open_refill_id, unit, supplier, reorder_quantity, \
    version, updated_at";

#[derive(Debug, sqlx::FromRow)]
struct ProductRow {
    sku: String,
    name: String,
    on_hand: i64,
    reserved: i64,
    available: i64,
    min_stock: Option<i64>,
    min_stock_source: String,
    lead_time_days: i64,
    service_level: f64,
    below_min: bool,
    open_refill_id: Option<String>,
    unit: Option<String>,
    supplier: Option<String>,
    reorder_quantity: Option<i64>,
    version: i64,
    updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<ProductRow> for ProductView {
    fn from(r: ProductRow) -> Self {
        ProductView {
            sku: r.sku,
            name: r.name,
            on_hand: r.on_hand,
            reserved: r.reserved,
            available: r.available,
            min_stock: r.min_stock,
            min_stock_source: r.min_stock_source,
            lead_time_days: r.lead_time_days,
            service_level: r.service_level,
            below_min: r.below_min,
            open_refill_id: r.open_refill_id.and_then(|s| s.parse().ok()),
            unit: r.unit,
            supplier: r.supplier,
            reorder_quantity: r.reorder_quantity,
            version: r.version,
            updated_at: r.updated_at,
        }
    }
}

/// The folded states stored with these products' rows, by (tenant, sku); products without a
/// row are absent.
pub async fn load_states(
    tx: &mut DbTx,
    keys: &[(&str, &str)],
) -> Result<HashMap<(String, String), ProductState>, sqlx::Error> {
    tx.fetch_states("products", keys).await
}

/// Rows per upsert: 18 parameters each, well inside both databases' limits.
const ROWS_PER_UPSERT: usize = 500;

/// Write the rows of these states, one multi-row upsert per 500. Each (tenant, sku) at most
/// once: a statement cannot update the same row twice.
pub async fn upsert_all(
    tx: &mut DbTx,
    states: &[(&str, &ProductState)],
) -> Result<(), sqlx::Error> {
    let rows: Vec<(&str, ProductView, &ProductState)> = states
        .iter()
        .filter_map(|&(tenant, state)| {
            let view = ProductView::from_state(&state.product, state.updated_at?)?;
            Some((tenant, view, state))
        })
        .collect();
    macro_rules! upsert_chunk {
        ($conn:expr, $db:ty, $chunk:expr) => {{
            let mut query = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO products (tenant_id, sku, name, on_hand, reserved, available, \
                 min_stock, min_stock_source, lead_time_days, service_level, below_min, \
                 open_refill_id, unit, supplier, reorder_quantity, version, updated_at, state) ",
            );
            query.push_values($chunk, |mut row, (tenant, view, state)| {
                row.push_bind(*tenant)
                    .push_bind(&view.sku)
                    .push_bind(&view.name)
                    .push_bind(view.on_hand)
                    .push_bind(view.reserved)
                    .push_bind(view.available)
                    .push_bind(view.min_stock)
                    .push_bind(&view.min_stock_source)
                    .push_bind(view.lead_time_days)
                    .push_bind(view.service_level)
                    .push_bind(view.below_min)
                    .push_bind(view.open_refill_id.map(|id| id.to_string()))
                    .push_bind(&view.unit)
                    .push_bind(&view.supplier)
                    .push_bind(view.reorder_quantity)
                    .push_bind(view.version)
                    .push_bind(view.updated_at)
                    .push_bind(Json(*state));
            });
            query.push(
                " ON CONFLICT (tenant_id, sku) DO UPDATE SET name = excluded.name, \
                 on_hand = excluded.on_hand, reserved = excluded.reserved, \
                 available = excluded.available, min_stock = excluded.min_stock, \
                 min_stock_source = excluded.min_stock_source, \
                 lead_time_days = excluded.lead_time_days, service_level = excluded.service_level, \
                 below_min = excluded.below_min, open_refill_id = excluded.open_refill_id, \
                 unit = excluded.unit, supplier = excluded.supplier, \
                 reorder_quantity = excluded.reorder_quantity, version = excluded.version, \
                 updated_at = excluded.updated_at, state = excluded.state",
            );
            query.build().execute(&mut **$conn).await.map(drop)
        }};
    }
    for chunk in rows.chunks(ROWS_PER_UPSERT) {
        match &mut *tx {
            DbTx::Postgres(conn) => upsert_chunk!(conn, sqlx::Postgres, chunk)?,
            DbTx::Sqlite(conn) => upsert_chunk!(conn, sqlx::Sqlite, chunk)?,
        }
    }
    Ok(())
}

pub async fn get(
    tx: &mut DbTx,
    tenant: &str,
    sku: &str,
) -> Result<Option<ProductView>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM products WHERE tenant_id = $1 AND sku = $2");
    let row = fetch_optional!(tx, ProductRow, &sql, tenant, sku)?;
    Ok(row.map(ProductView::from))
}

/// A page of products ordered by sku, after the `after` sku (the cursor), optionally only those
/// below (or not below) their minimum and those whose name or sku contains `text` (any case).
/// Every product's (sku, name) of the tenant, by sku.
pub async fn names(tx: &mut DbTx, tenant: &str) -> Result<Vec<(String, String)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Name {
        sku: String,
        name: String,
    }
    let rows: Vec<Name> = crate::fetch_all!(
        tx,
        Name,
        "SELECT sku, name FROM products WHERE tenant_id = $1 ORDER BY sku",
        tenant
    )?;
    Ok(rows.into_iter().map(|r| (r.sku, r.name)).collect())
}

pub async fn list(
    tx: &mut DbTx,
    tenant: &str,
    below_min: Option<bool>,
    text: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<ProductView>, sqlx::Error> {
    let filter = match below_min {
        Some(true) => "AND below_min",
        Some(false) => "AND NOT below_min",
        None => "",
    };
    // LIKE's own wildcards in the text are matched literally.
    let pattern = text.map(|t| {
        let escaped = t
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    });
    let text_filter = if pattern.is_some() {
        "AND (lower(name) LIKE $4 ESCAPE '\\' OR lower(sku) LIKE $4 ESCAPE '\\')"
    } else {
        ""
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM products WHERE tenant_id = $1 AND sku > $2 {filter} {text_filter} \
         ORDER BY sku LIMIT $3"
    );
    let after = after.unwrap_or("");
    let rows = match &pattern {
        Some(p) => fetch_all!(tx, ProductRow, &sql, tenant, after, limit, p)?,
        None => fetch_all!(tx, ProductRow, &sql, tenant, after, limit)?,
    };
    Ok(rows.into_iter().map(ProductView::from).collect())
}

#[derive(sqlx::FromRow)]
struct TenantSku {
    tenant_id: String,
    sku: String,
}

/// Every (tenant, sku), for jobs that visit all products.
pub async fn all_keys(tx: &mut DbTx) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = fetch_all!(
        tx,
        TenantSku,
        "SELECT tenant_id, sku FROM products ORDER BY tenant_id, sku"
    )?;
    Ok(rows.into_iter().map(|r| (r.tenant_id, r.sku)).collect())
}
