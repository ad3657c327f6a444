//! `forecasts`: the latest forecast per product (see `application::thresholds`).

use crate::{fetch_optional, Db, DbTx};
use async_trait::async_trait;
use restock_application::ports::{ForecastPoint, ForecastRepository, StoreError, StoredForecast};
use restock_domain::{Sku, TenantId};
use sqlx::types::Json;
use std::collections::HashMap;

/// Rows per upsert: 4 parameters each, far below both databases' limits.
const FORECASTS_PER_STATEMENT: usize = 500;

pub struct SqlForecasts {
    db: Db,
}

impl SqlForecasts {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    body: Json<StoredForecast>,
}

#[derive(sqlx::FromRow)]
struct Days {
    sku: String,
    days: Json<Vec<ForecastPoint>>,
}

#[async_trait]
impl ForecastRepository for SqlForecasts {
    async fn save(
        &self,
        tenant: &TenantId,
        forecasts: &[StoredForecast],
    ) -> Result<(), StoreError> {
        macro_rules! upsert {
            ($conn:expr, $db:ty, $chunk:expr) => {{
                let mut query = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO forecasts (tenant_id, sku, computed_at, body) ",
                );
                query.push_values($chunk, |mut row, f: &StoredForecast| {
                    row.push_bind(tenant.as_str())
                        .push_bind(&f.sku)
                        .push_bind(f.computed_at)
                        .push_bind(Json(f));
                });
                query.push(
                    " ON CONFLICT (tenant_id, sku) DO UPDATE \
                     SET computed_at = excluded.computed_at, body = excluded.body",
                );
                query.build().execute(&mut **$conn).await.map(drop)
            }};
        }
        let mut tx = self.db.begin().await.map_err(StoreError::new)?;
        // A product appears once per statement: ON CONFLICT cannot update a row twice.
        for chunk in forecasts.chunks(FORECASTS_PER_STATEMENT) {
            match &mut tx {
                DbTx::Postgres(conn) => upsert!(conn, sqlx::Postgres, chunk),
                DbTx::Sqlite(conn) => upsert!(conn, sqlx::Sqlite, chunk),
            }
            .map_err(StoreError::new)?;
        }
        tx.commit().await.map_err(StoreError::new)
    }

    async fn get(
        &self,
        tenant: &TenantId,
        sku: &Sku,
    ) -> Result<Option<StoredForecast>, StoreError> {
        let mut tx = self
            .db
            .begin_tenant_read(tenant.as_str())
            .await
            .map_err(StoreError::new)?;
        let row = fetch_optional!(
            &mut tx,
            Row,
            "SELECT body FROM forecasts WHERE tenant_id = $1 AND sku = $2",
            tenant.as_str(),
            sku.as_str()
        )
        .map_err(StoreError::new)?;
        tx.commit().await.map_err(StoreError::new)?;
        Ok(row.map(|r| r.body.0))
    }

    async fn forecast_days(
        &self,
        tenant: &TenantId,
    ) -> Result<HashMap<String, Vec<ForecastPoint>>, StoreError> {
        let mut tx = self
            .db
            .begin_tenant_read(tenant.as_str())
            .await
            .map_err(StoreError::new)?;
        // Only the `forecast` member leaves the database: the history stays there.
        let rows: Vec<Days> = match &mut tx {
            DbTx::Postgres(t) => {
                sqlx::query_as(
                    "SELECT sku, body->'forecast' AS days FROM forecasts WHERE tenant_id = $1",
                )
                .bind(tenant.as_str())
                .fetch_all(&mut **t)
                .await
            }
            DbTx::Sqlite(t) => {
                sqlx::query_as(
                    "SELECT sku, json_extract(body, '$.forecast') AS days FROM forecasts \
                     WHERE tenant_id = $1",
                )
                .bind(tenant.as_str())
                .fetch_all(&mut **t)
                .await
            }
        }
        .map_err(StoreError::new)?;
        tx.commit().await.map_err(StoreError::new)?;
        Ok(rows.into_iter().map(|r| (r.sku, r.days.0)).collect())
    }
}
