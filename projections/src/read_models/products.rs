//! `products`: the Product view of API.md, one row per (tenant, sku).

use restock_application::{ProductState, ProductView};
use restock_infrastructure::{execute, fetch_all, fetch_optional, DbTx};
use sqlx::types::Json;

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

#[derive(sqlx::FromRow)]
struct StateRow {
    state: Json<ProductState>,
}

/// The folded state stored with a row, to continue folding from.
pub async fn load_state(
    tx: &mut DbTx,
    tenant: &str,
    sku: &str,
) -> Result<Option<ProductState>, sqlx::Error> {
    let row = fetch_optional!(
        tx,
        StateRow,
        "SELECT state FROM products WHERE tenant_id = $1 AND sku = $2",
        tenant,
        sku
    )?;
    Ok(row.map(|r| r.state.0))
}

pub async fn upsert(tx: &mut DbTx, tenant: &str, state: &ProductState) -> Result<(), sqlx::Error> {
    let Some(updated_at) = state.updated_at else {
        return Ok(());
    };
    let Some(view) = ProductView::from_state(&state.product, updated_at) else {
        return Ok(());
    };
    execute!(
        tx,
        "INSERT INTO products (tenant_id, sku, name, on_hand, reserved, available, min_stock, \
             min_stock_source, lead_time_days, service_level, below_min, open_refill_id, unit, \
             supplier, reorder_quantity, version, updated_at, state) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
         ON CONFLICT (tenant_id, sku) DO UPDATE SET name = excluded.name, \
             on_hand = excluded.on_hand, reserved = excluded.reserved, \
             available = excluded.available, min_stock = excluded.min_stock, \
             min_stock_source = excluded.min_stock_source, \
             lead_time_days = excluded.lead_time_days, service_level = excluded.service_level, \
             below_min = excluded.below_min, open_refill_id = excluded.open_refill_id, \
             unit = excluded.unit, supplier = excluded.supplier, \
             reorder_quantity = excluded.reorder_quantity, version = excluded.version, \
             updated_at = excluded.updated_at, state = excluded.state",
        tenant,
        &view.sku,
        &view.name,
        view.on_hand,
        view.reserved,
        view.available,
        view.min_stock,
        &view.min_stock_source,
        view.lead_time_days,
        view.service_level,
        view.below_min,
        view.open_refill_id.map(|id| id.to_string()),
        &view.unit,
        &view.supplier,
        view.reorder_quantity,
        view.version,
        view.updated_at,
        Json(state),
    )?;
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

/// A page of products ordered by sku, after the `after` sku (the cursor).
pub async fn list(
    tx: &mut DbTx,
    tenant: &str,
    below_min: Option<bool>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<ProductView>, sqlx::Error> {
    let filter = match below_min {
        Some(true) => "AND below_min",
        Some(false) => "AND NOT below_min",
        None => "",
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM products WHERE tenant_id = $1 AND sku > $2 {filter} \
         ORDER BY sku LIMIT $3"
    );
    let rows = fetch_all!(tx, ProductRow, &sql, tenant, after.unwrap_or(""), limit)?;
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
