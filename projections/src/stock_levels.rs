//! The stock projection: folds product events into `products`, `movements` and `daily_demand`.
//!
//! It folds with the domain's own `Product::apply_event`, so the read model cannot drift from
//! the aggregate's rules. A batch loads the states it touches in one query, keeps them in memory
//! and writes each product row once in one upsert: its cost in round trips does not grow with
//! the number of products, which is what makes both a rebuild and a busy live batch cheap.

use crate::projector::{ProjectionError, Projector, Replay};
use async_trait::async_trait;
use chrono::NaiveDate;
use restock_application::ports::RecordedEvent;
use restock_application::product_state::decode;
use restock_application::ProductState;
use restock_domain::ProductEvent;
use restock_infrastructure::read_models::movements::{Movement, NewMovement};
use restock_infrastructure::read_models::{daily_demand, movements, products};
use restock_infrastructure::DbTx;
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub const NAME: &str = "stock_levels";

#[derive(Debug, Default)]
pub struct StockLevels;

type Key = (String, String);

#[async_trait]
impl Projector for StockLevels {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &["products", "movements", "daily_demand"]
    }

    async fn apply(
        &self,
        tx: &mut DbTx,
        events: &[RecordedEvent],
        _replay: Replay,
    ) -> Result<(), ProjectionError> {
        let product_events = || events.iter().filter(|e| e.aggregate_type == "product");
        let keys: BTreeSet<(&str, &str)> = product_events()
            .map(|e| (e.tenant_id.as_str(), e.aggregate_id.as_str()))
            .collect();
        let keys: Vec<(&str, &str)> = keys.into_iter().collect();
        let mut states: HashMap<Key, ProductState> = products::load_states(tx, &keys).await?;
        let mut rows = SideRows::default();
        for recorded in product_events() {
            let key = (recorded.tenant_id.clone(), recorded.aggregate_id.clone());
            let state = states.entry(key.clone()).or_default();
            let event = decode(recorded)?;
            state.apply(&event, recorded.recorded_at);
            rows.collect(&key, recorded, &event, state);
        }
        movements::insert_all(tx, &rows.movements).await?;
        for ((tenant, sku, day), sold) in &rows.sold {
            daily_demand::add_sold(tx, tenant, sku, *day, *sold).await?;
        }
        for (tenant, sku, day) in &rows.stockouts {
            daily_demand::mark_stockout(tx, tenant, sku, *day).await?;
        }
        let imported: Vec<_> = rows
            .imported
            .iter()
            .map(|((tenant, sku, day), quantity)| (tenant.as_str(), sku.as_str(), *day, *quantity))
            .collect();
        daily_demand::set_imported_all(tx, &imported).await?;
        let touched: Vec<(&str, &ProductState)> = states
            .iter()
            .map(|((tenant, _), state)| (tenant.as_str(), state))
            .collect();
        products::upsert_all(tx, &touched).await?;
        Ok(())
    }
}

type DayKey = (String, String, NaiveDate);

/// The ledger and demand rows a batch produces, gathered so each is written once per batch.
#[derive(Default)]
struct SideRows {
    movements: Vec<NewMovement>,
    sold: BTreeMap<DayKey, i64>,
    stockouts: BTreeSet<DayKey>,
    imported: BTreeMap<DayKey, i64>,
}

impl SideRows {
    /// The rows for one event, given the state right after it.
    fn collect(
        &mut self,
        (tenant, sku): &Key,
        recorded: &RecordedEvent,
        event: &ProductEvent,
        after: &ProductState,
    ) {
        if let Some(delta) = event.on_hand_delta() {
            self.movements.push(NewMovement {
                tenant: tenant.clone(),
                sku: sku.clone(),
                movement: Movement {
                    version: recorded.sequence,
                    kind: recorded.event_type.clone(),
                    delta_on_hand: delta,
                    on_hand_after: after.product.on_hand,
                    reference: reference_of(event),
                    occurred_at: recorded.occurred_at,
                },
            });
        }
        let day = (
            tenant.clone(),
            sku.clone(),
            recorded.occurred_at.date_naive(),
        );
        if let Some(quantity) = event.demand() {
            if after.product.available() <= 0 {
                self.stockouts.insert(day.clone());
            }
            *self.sold.entry(day).or_default() += quantity.get();
        }
        if let ProductEvent::DemandHistoryImported { days } = event {
            for d in days {
                self.imported
                    .insert((tenant.clone(), sku.clone(), d.date), d.quantity.get());
            }
        }
    }
}

fn reference_of(event: &ProductEvent) -> Option<String> {
    match event {
        ProductEvent::StockReceived { reference, .. }
        | ProductEvent::StockSold { reference, .. } => reference.clone(),
        ProductEvent::StockCounted { reason, .. } => Some(reason.clone()),
        ProductEvent::ReservationConfirmed { reservation_id, .. } => {
            Some(format!("reservation {reservation_id}"))
        }
        ProductEvent::RefillReceived { refill_id, .. } => Some(format!("refill {refill_id}")),
        _ => None,
    }
}
