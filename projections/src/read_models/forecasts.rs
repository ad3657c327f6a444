//! `forecasts`: the latest forecast per product (see `application::thresholds`).

use async_trait::async_trait;
use restock_application::ports::{ForecastRepository, StoreError, StoredForecast};
use restock_domain::{Sku, TenantId};
use restock_infrastructure::{execute, fetch_optional, Db};
use sqlx::types::Json;

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

#[async_trait]
impl ForecastRepository for SqlForecasts {
    async fn save(&self, tenant: &TenantId, forecast: &StoredForecast) -> Result<(), StoreError> {
        let mut tx = self.db.begin().await.map_err(StoreError::new)?;
        execute!(
            &mut tx,
            "INSERT INTO forecasts (tenant_id, sku, computed_at, body) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, sku) DO UPDATE SET computed_at = excluded.computed_at, body = excluded.body",
            tenant.as_str(),
            &forecast.sku,
            forecast.computed_at,
            Json(forecast)
        )
        .map_err(StoreError::new)?;
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
}
