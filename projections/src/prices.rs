//! The prices projection: keeps `supplier_prices` in step with `SupplierPricesRecorded`.

use crate::projector::{ProjectionError, Projector, Replay};
use async_trait::async_trait;
use chrono::NaiveDate;
use restock_application::ports::RecordedEvent;
use restock_application::product_state::decode;
use restock_domain::ProductEvent;
use restock_infrastructure::read_models::prices;
use restock_infrastructure::DbTx;
use std::collections::BTreeMap;

pub const NAME: &str = "prices";

#[derive(Debug, Default)]
pub struct Prices;

#[async_trait]
impl Projector for Prices {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &["supplier_prices"]
    }

    async fn apply(
        &self,
        tx: &mut DbTx,
        events: &[RecordedEvent],
        _replay: Replay,
    ) -> Result<(), ProjectionError> {
        // The batch's last price per key wins, as if applied one by one; one upsert then
        // writes them all (a statement may not update the same row twice).
        let mut latest: BTreeMap<(&str, &str, NaiveDate), f64> = BTreeMap::new();
        let batch: Vec<(&RecordedEvent, ProductEvent)> = events
            .iter()
            .filter(|e| e.aggregate_type == "product" && e.event_type == "SupplierPricesRecorded")
            .map(|e| decode(e).map(|decoded| (e, decoded)))
            .collect::<Result<_, _>>()?;
        for (recorded, event) in &batch {
            if let ProductEvent::SupplierPricesRecorded { prices } = event {
                for p in prices {
                    latest.insert(
                        (
                            recorded.tenant_id.as_str(),
                            recorded.aggregate_id.as_str(),
                            p.date,
                        ),
                        p.unit_price.get(),
                    );
                }
            }
        }
        let rows: Vec<(&str, &str, NaiveDate, f64)> = latest
            .into_iter()
            .map(|((tenant, sku, day), price)| (tenant, sku, day, price))
            .collect();
        prices::set_all(tx, &rows).await?;
        Ok(())
    }
}
