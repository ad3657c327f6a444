//! The Product aggregate: one stream per (tenant, sku) holding everything that changes its
//! stock, its minimum, its reservations and its refills.
//!
//! Reservations and refills live on the product's stream on purpose: the invariants that matter
//! ("never oversell", "no second refill while one is open") span them and the stock, and a single
//! stream gives them one consistency boundary with plain optimistic concurrency.

pub mod command;
pub mod error;
pub mod event;

use crate::ids::{RefillId, ReservationId, Sku};
use crate::quantity::Quantity;
use chrono::{DateTime, Utc};
use command::{ProductCommand, ProductDetails};
use error::ProductError;
use event::{ProductEvent, ReorderPoint};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// How many closed (confirmed, released, expired) reservations a product remembers. Without a
/// bound the state grew with every reservation ever made: after a 600 s soak one product held
/// ~694 of them, 88.8 KB of state JSON that the stock and agent-state projections load and
/// rewrite on every batch (heaptrack: 14 of a 20 MB peak). 64 covers a client retrying a
/// confirm or release it just sent; older ones are answered from the reservations read model.
pub const CLOSED_RESERVATIONS_KEPT: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReservationStatus {
    Active,
    Confirmed,
    Released,
    Expired,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reservation {
    pub quantity: Quantity,
    pub expires_at: DateTime<Utc>,
    pub status: ReservationStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefillStatus {
    Requested,
    Received,
    Cancelled,
}

impl RefillStatus {
    pub const ALL: [Self; 3] = [Self::Requested, Self::Received, Self::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Received => "received",
            Self::Cancelled => "cancelled",
        }
    }

    /// `requested`, `received` or `cancelled`; anything else is `None`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }
}

/// What a database row decodes through.
impl TryFrom<String> for RefillStatus {
    type Error = crate::ValueError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s).ok_or_else(|| {
            crate::ValueError::new("status", "must be requested, received or cancelled")
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refill {
    pub quantity: Quantity,
    pub status: RefillStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MinimumSource {
    Manual,
    Forecast,
    None,
}

impl MinimumSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Forecast => "forecast",
            Self::None => "none",
        }
    }
}

/// State folded from a product's events. `Default` is "not registered yet".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub sku: Option<Sku>,
    pub details: Option<ProductDetails>,
    pub on_hand: i64,
    pub reserved: i64,
    pub manual_minimum: Option<Quantity>,
    pub forecast_minimum: Option<ReorderPoint>,
    /// Every active reservation and the last [`CLOSED_RESERVATIONS_KEPT`] closed ones.
    pub reservations: BTreeMap<ReservationId, Reservation>,
    /// Closed reservations still in `reservations`, oldest close first: the eviction order.
    /// Default so that snapshots written before it existed still load.
    #[serde(default)]
    pub closed_reservations: VecDeque<ReservationId>,
    pub refills: BTreeMap<RefillId, Refill>,
    /// Number of events applied: the stream's last sequence number.
    pub version: u64,
}

impl Product {
    pub fn is_registered(&self) -> bool {
        self.details.is_some()
    }

    /// Units that can still be sold or reserved. Negative only after a physical count found
    /// fewer units than are reserved: the shop has promised more than it holds.
    pub fn available(&self) -> i64 {
        self.on_hand - self.reserved
    }

    pub fn minimum(&self) -> Option<Quantity> {
        self.manual_minimum
            .or_else(|| self.forecast_minimum.as_ref().map(|p| p.reorder_point))
    }

    pub fn minimum_source(&self) -> MinimumSource {
        match (self.manual_minimum, &self.forecast_minimum) {
            (Some(_), _) => MinimumSource::Manual,
            (None, Some(_)) => MinimumSource::Forecast,
            (None, None) => MinimumSource::None,
        }
    }

    pub fn below_minimum(&self) -> bool {
        self.minimum().is_some_and(|m| self.available() < m.get())
    }

    pub fn open_refill(&self) -> Option<(RefillId, &Refill)> {
        self.refills
            .iter()
            .find(|(_, r)| r.status == RefillStatus::Requested)
            .map(|(id, r)| (*id, r))
    }

    /// Reservations that are still holding stock, with their deadlines.
    pub fn active_reservations(&self) -> impl Iterator<Item = (ReservationId, &Reservation)> {
        self.reservations
            .iter()
            .filter(|(_, r)| r.status == ReservationStatus::Active)
            .map(|(id, r)| (*id, r))
    }

    /// Decide which events a command produces, without changing anything.
    pub fn decide(&self, command: ProductCommand) -> Result<Vec<ProductEvent>, ProductError> {
        use ProductCommand as C;
        use ProductEvent as E;
        if let C::Register { sku, details } = command {
            return Ok(match &self.details {
                None => vec![E::ProductRegistered { sku, details }],
                Some(current) if *current == details => vec![],
                Some(_) => vec![E::ProductDetailsChanged { details }],
            });
        }
        if let C::ImportDemand { sku, days } = command {
            let mut events = Vec::with_capacity(2);
            if !self.is_registered() {
                let details = ProductDetails::defaults_for(&sku);
                events.push(E::ProductRegistered { sku, details });
            }
            if !days.is_empty() {
                events.push(E::DemandHistoryImported { days });
            }
            return Ok(events);
        }
        if let C::RecordPrices { sku, prices } = command {
            let mut events = Vec::with_capacity(2);
            if !self.is_registered() {
                let details = ProductDetails::defaults_for(&sku);
                events.push(E::ProductRegistered { sku, details });
            }
            if !prices.is_empty() {
                events.push(E::SupplierPricesRecorded { prices });
            }
            return Ok(events);
        }
        if !self.is_registered() {
            return Err(ProductError::NotRegistered);
        }
        match command {
            C::Register { .. } | C::ImportDemand { .. } | C::RecordPrices { .. } => {
                unreachable!("handled above")
            }
            C::Receive {
                quantity,
                reference,
            } => Ok(vec![E::StockReceived {
                quantity,
                reference,
            }]),
            C::Sell {
                quantity,
                reference,
            } => {
                self.ensure_available(quantity)?;
                Ok(vec![E::StockSold {
                    quantity,
                    reference,
                }])
            }
            C::Count { counted, reason } => Ok(vec![E::StockCounted {
                counted,
                previous_on_hand: self.on_hand,
                reason,
            }]),
            C::SetMinimum { quantity } => Ok(match (quantity, self.manual_minimum) {
                (Some(q), Some(current)) if q == current => vec![],
                (Some(quantity), _) => vec![E::MinimumSet { quantity }],
                (None, None) => vec![],
                (None, Some(_)) => vec![E::MinimumCleared],
            }),
            C::Reserve {
                reservation_id,
                quantity,
                expires_at,
            } => {
                if self.reservations.contains_key(&reservation_id) {
                    return Ok(vec![]);
                }
                self.ensure_available(quantity)?;
                Ok(vec![E::StockReserved {
                    reservation_id,
                    quantity,
                    expires_at,
                }])
            }
            C::ConfirmReservation {
                reservation_id,
                now,
            } => {
                let r = self.reservation(reservation_id)?;
                match r.status {
                    ReservationStatus::Confirmed => Ok(vec![]),
                    ReservationStatus::Expired => Err(ProductError::ReservationExpired),
                    ReservationStatus::Released => Err(ProductError::ReservationReleased),
                    // Past its deadline but not yet swept: it is expired all the same.
                    ReservationStatus::Active if now >= r.expires_at => {
                        Err(ProductError::ReservationExpired)
                    }
                    ReservationStatus::Active => Ok(vec![E::ReservationConfirmed {
                        reservation_id,
                        quantity: r.quantity,
                    }]),
                }
            }
            C::ReleaseReservation { reservation_id } => {
                let r = self.reservation(reservation_id)?;
                match r.status {
                    ReservationStatus::Active => Ok(vec![E::ReservationReleased {
                        reservation_id,
                        quantity: r.quantity,
                    }]),
                    ReservationStatus::Confirmed => Err(ProductError::ReservationConfirmed),
                    ReservationStatus::Released | ReservationStatus::Expired => Ok(vec![]),
                }
            }
            C::ExpireReservation {
                reservation_id,
                now,
            } => {
                let r = self.reservation(reservation_id)?;
                Ok(
                    if r.status == ReservationStatus::Active && now >= r.expires_at {
                        vec![E::ReservationExpired {
                            reservation_id,
                            quantity: r.quantity,
                        }]
                    } else {
                        vec![]
                    },
                )
            }
            C::RecalculateReorderPoint { point } => {
                let unchanged = self
                    .forecast_minimum
                    .as_ref()
                    .is_some_and(|current| current.reorder_point == point.reorder_point);
                Ok(if unchanged {
                    vec![]
                } else {
                    vec![E::ReorderPointRecalculated { point }]
                })
            }
            C::RequestRefill {
                refill_id,
                quantity,
                reason,
                decided_by,
                trigger_event_id,
                buy_on,
                expected_unit_price,
            } => {
                if self.refills.contains_key(&refill_id) {
                    return Ok(vec![]);
                }
                if self.open_refill().is_some() {
                    return Err(ProductError::RefillAlreadyOpen);
                }
                Ok(vec![E::RefillRequested {
                    refill_id,
                    quantity,
                    reason,
                    decided_by,
                    trigger_event_id,
                    buy_on,
                    expected_unit_price,
                }])
            }
            C::ReceiveRefill {
                refill_id,
                quantity,
            } => {
                let refill = self
                    .refills
                    .get(&refill_id)
                    .ok_or(ProductError::RefillNotFound)?;
                match refill.status {
                    RefillStatus::Requested => Ok(vec![E::RefillReceived {
                        refill_id,
                        quantity: quantity.unwrap_or(refill.quantity),
                    }]),
                    other => Err(ProductError::RefillClosed(other.as_str())),
                }
            }
            C::CancelRefill { refill_id } => {
                let refill = self
                    .refills
                    .get(&refill_id)
                    .ok_or(ProductError::RefillNotFound)?;
                match refill.status {
                    RefillStatus::Requested => Ok(vec![E::RefillCancelled { refill_id }]),
                    RefillStatus::Cancelled => Ok(vec![]),
                    RefillStatus::Received => Err(ProductError::RefillClosed("received")),
                }
            }
        }
    }

    /// Fold one event into the state. Infallible: events are facts already accepted.
    pub fn apply_event(&mut self, event: &ProductEvent) {
        use ProductEvent as E;
        self.version += 1;
        match event {
            E::ProductRegistered { sku, details } => {
                self.sku = Some(sku.clone());
                self.details = Some(details.clone());
            }
            E::ProductDetailsChanged { details } => self.details = Some(details.clone()),
            E::StockReceived { quantity, .. } => self.on_hand += quantity.get(),
            E::StockSold { quantity, .. } => self.on_hand -= quantity.get(),
            E::StockCounted { counted, .. } => self.on_hand = counted.get(),
            E::MinimumSet { quantity } => self.manual_minimum = Some(*quantity),
            E::MinimumCleared => self.manual_minimum = None,
            E::DemandHistoryImported { .. } | E::SupplierPricesRecorded { .. } => {}
            E::StockReserved {
                reservation_id,
                quantity,
                expires_at,
            } => {
                self.reserved += quantity.get();
                self.reservations.insert(
                    *reservation_id,
                    Reservation {
                        quantity: *quantity,
                        expires_at: *expires_at,
                        status: ReservationStatus::Active,
                    },
                );
            }
            E::ReservationConfirmed {
                reservation_id,
                quantity,
            } => {
                self.reserved -= quantity.get();
                self.on_hand -= quantity.get();
                self.close_reservation(*reservation_id, ReservationStatus::Confirmed);
            }
            E::ReservationReleased {
                reservation_id,
                quantity,
            } => {
                self.reserved -= quantity.get();
                self.close_reservation(*reservation_id, ReservationStatus::Released);
            }
            E::ReservationExpired {
                reservation_id,
                quantity,
            } => {
                self.reserved -= quantity.get();
                self.close_reservation(*reservation_id, ReservationStatus::Expired);
            }
            E::ReorderPointRecalculated { point } => self.forecast_minimum = Some(point.clone()),
            E::RefillRequested {
                refill_id,
                quantity,
                ..
            } => {
                self.refills.insert(
                    *refill_id,
                    Refill {
                        quantity: *quantity,
                        status: RefillStatus::Requested,
                    },
                );
            }
            E::RefillReceived {
                refill_id,
                quantity,
            } => {
                self.on_hand += quantity.get();
                self.set_refill_status(*refill_id, RefillStatus::Received);
            }
            E::RefillCancelled { refill_id } => {
                self.set_refill_status(*refill_id, RefillStatus::Cancelled)
            }
        }
    }

    fn ensure_available(&self, requested: Quantity) -> Result<(), ProductError> {
        if requested.get() > self.available() {
            Err(ProductError::InsufficientStock {
                requested,
                available: self.available(),
            })
        } else {
            Ok(())
        }
    }

    fn reservation(&self, id: ReservationId) -> Result<&Reservation, ProductError> {
        self.reservations
            .get(&id)
            .ok_or(ProductError::ReservationNotFound)
    }

    /// Close an active reservation, then forget the oldest closed ones beyond the bound.
    fn close_reservation(&mut self, id: ReservationId, status: ReservationStatus) {
        match self.reservations.get_mut(&id) {
            Some(r) if r.status == ReservationStatus::Active => {
                r.status = status;
                self.closed_reservations.push_back(id);
            }
            Some(r) => r.status = status,
            None => return,
        }
        self.evict_closed_reservations();
    }

    fn evict_closed_reservations(&mut self) {
        let closed = self
            .reservations
            .values()
            .filter(|r| r.status != ReservationStatus::Active)
            .count();
        let mut excess = closed.saturating_sub(CLOSED_RESERVATIONS_KEPT);
        if excess == 0 {
            return;
        }
        // A snapshot from before the queue existed holds closed reservations it does not list:
        // they closed before every listed one, so they go first, in id order.
        if closed > self.closed_reservations.len() {
            let queued: BTreeSet<_> = self.closed_reservations.iter().copied().collect();
            let unlisted: Vec<_> = self
                .reservations
                .iter()
                .filter(|(id, r)| r.status != ReservationStatus::Active && !queued.contains(id))
                .map(|(id, _)| *id)
                .take(excess)
                .collect();
            excess -= unlisted.len();
            for id in unlisted {
                self.reservations.remove(&id);
            }
        }
        while excess > 0 {
            let Some(id) = self.closed_reservations.pop_front() else {
                break;
            };
            self.reservations.remove(&id);
            excess -= 1;
        }
    }

    fn set_refill_status(&mut self, id: RefillId, status: RefillStatus) {
        if let Some(r) = self.refills.get_mut(&id) {
            r.status = status;
        }
    }
}

/// cqrs-es integration: the framework's `handle` is `decide` followed by `apply`, so domain
/// tests can use its `TestFramework` while our own executor calls `decide` directly.
impl cqrs_es::Aggregate for Product {
    const TYPE: &'static str = "product";
    type Command = ProductCommand;
    type Event = ProductEvent;
    type Error = ProductError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &cqrs_es::event_sink::EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        self.apply_event(&event);
    }
}

#[cfg(test)]
mod tests;
