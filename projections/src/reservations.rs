//! The reservations projection: keeps `reservations` in step with the product streams.

use crate::projector::{ProjectionError, Projector, Replay};
use async_trait::async_trait;
use restock_application::ports::RecordedEvent;
use restock_application::product_state::decode;
use restock_domain::ProductEvent;
use restock_infrastructure::read_models::reservations;
use restock_infrastructure::DbTx;

pub const NAME: &str = "reservations";

#[derive(Debug, Default)]
pub struct Reservations;

#[async_trait]
impl Projector for Reservations {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &["reservations"]
    }

    async fn apply(
        &self,
        tx: &mut DbTx,
        events: &[RecordedEvent],
        _replay: Replay,
    ) -> Result<(), ProjectionError> {
        for recorded in events.iter().filter(|e| e.aggregate_type == "product") {
            let tenant = recorded.tenant_id.as_str();
            let (id, status) = match decode(recorded)? {
                ProductEvent::StockReserved {
                    reservation_id,
                    quantity,
                    expires_at,
                } => {
                    let id = reservation_id.to_string();
                    reservations::insert(
                        tx,
                        tenant,
                        &id,
                        &recorded.aggregate_id,
                        quantity.get(),
                        expires_at,
                        recorded.recorded_at,
                    )
                    .await?;
                    continue;
                }
                ProductEvent::ReservationConfirmed { reservation_id, .. } => {
                    (reservation_id, "confirmed")
                }
                ProductEvent::ReservationReleased { reservation_id, .. } => {
                    (reservation_id, "released")
                }
                ProductEvent::ReservationExpired { reservation_id, .. } => {
                    (reservation_id, "expired")
                }
                _ => continue,
            };
            reservations::set_status(tx, tenant, &id.to_string(), status).await?;
        }
        Ok(())
    }
}
