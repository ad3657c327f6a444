//! The refills projection: keeps `refills` in step with the refill events of product streams.

use crate::projector::{ProjectionError, Projector, Replay};
use async_trait::async_trait;
use restock_application::ports::RecordedEvent;
use restock_application::product_state::decode;
use restock_domain::ProductEvent;
use restock_infrastructure::read_models::refills::{self, NewRefill};
use restock_infrastructure::DbTx;

pub const NAME: &str = "refills";

#[derive(Debug, Default)]
pub struct Refills;

#[async_trait]
impl Projector for Refills {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &["refills"]
    }

    async fn apply(
        &self,
        tx: &mut DbTx,
        events: &[RecordedEvent],
        _replay: Replay,
    ) -> Result<(), ProjectionError> {
        let refill_events = events
            .iter()
            .filter(|e| e.aggregate_type == "product" && e.event_type.starts_with("Refill"));
        for recorded in refill_events {
            let tenant = recorded.tenant_id.as_str();
            match decode(recorded)? {
                ProductEvent::RefillRequested {
                    refill_id,
                    quantity,
                    reason,
                    decided_by,
                    trigger_event_id,
                    buy_on,
                    expected_unit_price,
                } => {
                    let id = refill_id.to_string();
                    let row = NewRefill {
                        tenant,
                        id: &id,
                        sku: &recorded.aggregate_id,
                        quantity: quantity.get(),
                        decided_by: &decided_by,
                        reason: &reason,
                        trigger_event_id: trigger_event_id.map(|t| t.to_string()),
                        created_at: recorded.recorded_at,
                        buy_on,
                        expected_unit_price: expected_unit_price.map(|p| p.get()),
                    };
                    refills::insert(tx, &row).await?;
                }
                ProductEvent::RefillReceived {
                    refill_id,
                    quantity,
                } => {
                    let id = refill_id.to_string();
                    refills::set_received(tx, tenant, &id, quantity.get(), recorded.recorded_at)
                        .await?;
                }
                ProductEvent::RefillCancelled { refill_id } => {
                    let id = refill_id.to_string();
                    refills::set_cancelled(tx, tenant, &id, recorded.recorded_at).await?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}
