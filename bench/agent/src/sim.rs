//! The simulated store, folded through the real aggregate and the real crossing rule.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use restock_application::agent::crossing::{is_crossing, needs_refill};
use restock_application::agent::decision::policy_calls;
use restock_application::agent::{AgentContext, ToolCall, TriggerRef};
use restock_domain::{Product, ProductCommand, ProductDetails, Quantity, RefillId, Sku};
use std::time::Instant;
use uuid::Uuid;

pub struct Outcome {
    pub movements: usize,
    pub sales: usize,
    pub receipts: usize,
    pub refills_received: usize,
    pub crossings: usize,
    pub naive: usize,
    pub lost_sales: usize,
    pub days: usize,
}

struct Item {
    product: Product,
    daily_mean: f64,
    lead_time: usize,
    /// Day the open refill arrives, and its id.
    arriving: Option<(usize, RefillId)>,
}

fn q(n: i64) -> Quantity {
    Quantity::new(n.clamp(0, i64::from(Quantity::MAX))).unwrap_or(Quantity::ZERO)
}

/// Knuth's method; fine for the small means of one product's daily sales.
fn poisson(rng: &mut StdRng, mean: f64) -> usize {
    let limit = (-mean).exp();
    let (mut k, mut p) = (0, 1.0);
    loop {
        p *= rng.gen::<f64>();
        if p <= limit {
            return k;
        }
        k += 1;
    }
}

fn context(tenant: &str, p: &Product) -> Option<AgentContext> {
    let trigger = TriggerRef {
        event_id: Uuid::nil(),
        event_type: "StockSold".into(),
        sequence: i64::try_from(p.version).unwrap_or(0),
        recorded_at: chrono::Utc::now(),
    };
    AgentContext::from_product(tenant, p, None, trigger)
}

struct Counters {
    crossings: usize,
    naive: usize,
    movements: usize,
}

/// Run a command; count movements, crossings and naive calls on the events it produced.
fn apply(item: &mut Item, command: ProductCommand, c: &mut Counters) -> bool {
    let Ok(events) = item.product.decide(command) else {
        return false;
    };
    let mut crossed = false;
    for event in &events {
        let before = needs_refill(&item.product);
        item.product.apply_event(event);
        if event.on_hand_delta().is_some()
            || matches!(event, restock_domain::ProductEvent::StockReserved { .. })
        {
            c.movements += 1;
            // The naive design asks on every stock event that leaves the product below minimum.
            if item.product.below_minimum() {
                c.naive += 1;
            }
        }
        if is_crossing(before, &item.product, event) {
            c.crossings += 1;
            crossed = true;
        }
    }
    crossed
}

pub fn run(products: usize, movements: usize, seed: u64) -> Outcome {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut items: Vec<Item> = (0..products)
        .map(|i| {
            let sku = Sku::parse(&format!("P{i:04}")).unwrap_or_else(|_| unreachable!());
            let daily_mean = rng.gen_range(0.3..25.0);
            let lead_time = rng.gen_range(2..=10usize);
            // A manual minimum of lead-time demand plus a safety margin, as a manager would set.
            let ltd = daily_mean * lead_time as f64;
            let minimum = (ltd + 1.65 * ltd.sqrt()).ceil() as i64;
            let mut details = ProductDetails::defaults_for(&sku);
            details.lead_time_days = lead_time as u16;
            let mut product = Product::default();
            for command in [
                ProductCommand::Register { sku, details },
                ProductCommand::Receive {
                    quantity: q(minimum * 2),
                    reference: None,
                },
                ProductCommand::SetMinimum {
                    quantity: Some(q(minimum)),
                },
            ] {
                if let Ok(events) = product.decide(command) {
                    events.iter().for_each(|e| product.apply_event(e));
                }
            }
            Item {
                product,
                daily_mean,
                lead_time,
                arriving: None,
            }
        })
        .collect();
    let mut c = Counters {
        crossings: 0,
        naive: 0,
        movements: 0,
    };
    let (mut sales, mut receipts, mut refills_received, mut lost, mut day) = (0, 0, 0, 0, 0);
    while c.movements < movements {
        day += 1;
        for item in items.iter_mut() {
            // Refills whose lead time is over arrive in the morning.
            if let Some((due, id)) = item.arriving {
                if due <= day {
                    item.arriving = None;
                    apply(
                        item,
                        ProductCommand::ReceiveRefill {
                            refill_id: id,
                            quantity: None,
                        },
                        &mut c,
                    );
                    refills_received += 1;
                }
            }
            // A weekly delivery for some products, outside the agent (a standing order).
            if day % 7 == 0 && rng.gen_bool(0.2) {
                let quantity = q((item.daily_mean * 3.0).ceil() as i64 + 1);
                apply(
                    item,
                    ProductCommand::Receive {
                        quantity,
                        reference: None,
                    },
                    &mut c,
                );
                receipts += 1;
            }
            for _ in 0..poisson(&mut rng, item.daily_mean / 2.0) {
                let quantity = q(rng.gen_range(1..=3));
                if quantity.get() > item.product.available() {
                    lost += 1;
                    continue;
                }
                sales += 1;
                if apply(
                    item,
                    ProductCommand::Sell {
                        quantity,
                        reference: None,
                    },
                    &mut c,
                ) {
                    // The agent (the policy) decides on the crossing and opens a refill.
                    if let Some(ctx) = context("bench", &item.product) {
                        for call in policy_calls(&ctx).0 {
                            if let ToolCall::RefillStock { quantity, .. } = call {
                                let id = RefillId(Uuid::now_v7());
                                let request = ProductCommand::RequestRefill {
                                    refill_id: id,
                                    quantity,
                                    reason: String::new(),
                                    decided_by: restock_domain::Decider::Policy,
                                    trigger_event_id: None,
                                    buy_on: None,
                                    expected_unit_price: None,
                                };
                                apply(item, request, &mut c);
                                item.arriving = Some((day + item.lead_time, id));
                            }
                        }
                    }
                }
            }
        }
    }
    Outcome {
        movements: c.movements,
        sales,
        receipts,
        refills_received,
        crossings: c.crossings,
        naive: c.naive,
        lost_sales: lost,
        days: day,
    }
}

/// Policy decision latency in microseconds: (p50, p99, n).
pub async fn policy_latency(n: usize) -> (f64, f64, usize) {
    let sku = Sku::parse("L").unwrap_or_else(|_| unreachable!());
    let mut product = Product::default();
    for command in [
        ProductCommand::Register {
            details: ProductDetails::defaults_for(&sku),
            sku,
        },
        ProductCommand::Receive {
            quantity: q(3),
            reference: None,
        },
        ProductCommand::SetMinimum {
            quantity: Some(q(10)),
        },
    ] {
        if let Ok(events) = product.decide(command) {
            events.iter().for_each(|e| product.apply_event(e));
        }
    }
    let Some(ctx) = context("bench", &product) else {
        return (0.0, 0.0, 0);
    };
    let agent = restock_application::agent::Agent::policy_only();
    let mut samples: Vec<f64> = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        let decision = agent.decide(&ctx, None).await;
        samples.push(started.elapsed().as_secs_f64() * 1e6);
        std::hint::black_box(decision);
    }
    samples.sort_by(f64::total_cmp);
    (percentile(&samples, 0.50), percentile(&samples, 0.99), n)
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}
