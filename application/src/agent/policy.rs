//! The built-in deterministic policy: the default backend, the fallback for every LLM failure,
//! and the reference the audit re-runs. No network, no clock, no randomness: the same context
//! always gives the same calls.
//!
//! Order up to (minimum + lead-time demand) minus what is available, at least the supplier's
//! lot size; tell the manager when the shelf is empty or the minimum rests on a forecast that
//! is only an average.

use super::context::AgentContext;
use super::tools::{Severity, ToolCall};
use crate::purchase::Recommendation;
use restock_domain::Quantity;

pub struct PolicyDecision {
    pub calls: Vec<ToolCall>,
    pub rationale: String,
}

pub fn decide(ctx: &AgentContext) -> PolicyDecision {
    let ltd = ctx.lead_time_demand();
    let target = ctx.target();
    let shortfall = target - ctx.available;
    let lot = ctx.reorder_quantity.unwrap_or(1);
    let quantity = shortfall.max(lot).max(1).min(ctx.max_refill());
    let ltd_source = if ctx.forecast.is_some() {
        "forecast lead-time demand"
    } else {
        "no forecast: the minimum stands in for lead-time demand"
    };
    let mut rationale = format!(
        "available {} < minimum {} ({}); order up to {} = minimum {} + {} ({}); {} - {} = {}",
        ctx.available,
        ctx.minimum(),
        ctx.threshold.source,
        target,
        ctx.minimum(),
        ltd,
        ltd_source,
        target,
        ctx.available,
        shortfall,
    );
    if quantity != shortfall {
        rationale.push_str(&format!(
            "; ordering {quantity} (reorder quantity {})",
            ctx.reorder_quantity.unwrap_or(1)
        ));
    }
    rationale.push('.');
    // The plan's day never comes after its order_by, so following it never waits too long.
    let mut reason = format!(
        "{} below minimum {}: order up to {target}",
        ctx.available,
        ctx.minimum()
    );
    if let Some(plan) = &ctx.purchase_plan {
        let timing = match plan.recommendation {
            Recommendation::Wait => format!(
                "buy on {} at an expected {:.2} a unit ({:.1}% below today's {:.2}; order by {})",
                plan.best_day,
                plan.expected_unit_price,
                plan.expected_saving_pct,
                plan.unit_price_today,
                plan.order_by
            ),
            Recommendation::BuyNow => format!(
                "buy now at an expected {:.2} a unit (order by {})",
                plan.expected_unit_price, plan.order_by
            ),
        };
        rationale.push_str(&format!(" Purchase plan: {timing}: {}.", plan.reason));
        reason.push_str(&format!("; {timing}"));
    }
    let mut calls = vec![ToolCall::RefillStock {
        sku: ctx.sku.clone(),
        // In 1..=max_refill, which is itself at most Quantity::MAX.
        quantity: Quantity::clamped_positive(quantity),
        reason,
    }];
    if ctx.available <= 0 {
        rationale.push_str(" Out of stock: the manager is alerted.");
        calls.push(ToolCall::NotifyManager {
            sku: Some(ctx.sku.clone()),
            message: format!(
                "{} ({}) is out of stock (available {}); a refill of {quantity} was requested.",
                ctx.name, ctx.sku, ctx.available
            ),
            severity: Severity::Critical,
        });
    } else if ctx.forecast_unreliable() {
        rationale
            .push_str(" The minimum comes from a fallback average: the manager should review it.");
        calls.push(ToolCall::NotifyManager {
            sku: Some(ctx.sku.clone()),
            message: format!(
                "{} ({}): the minimum {} comes from a plain average of little history; please review it.",
                ctx.name,
                ctx.sku,
                ctx.minimum()
            ),
            severity: Severity::Warning,
        });
    }
    PolicyDecision { calls, rationale }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::context::{Threshold, TriggerRef};
    use crate::agent::tools::{validate, validate_set};
    use chrono::Utc;
    use restock_domain::Sku;
    use restock_domain::{Quantity, ReorderPoint};
    use uuid::Uuid;

    fn ctx(available: i64, minimum: i64) -> AgentContext {
        AgentContext {
            tenant: "t".into(),
            sku: Sku::parse("A").expect("sku"),
            name: "Apple".into(),
            on_hand: available,
            reserved: 0,
            available,
            threshold: Threshold {
                reorder_point: minimum,
                source: "manual".into(),
                model: None,
                computed_at: None,
            },
            forecast: None,
            lead_time_days: 7,
            reorder_quantity: None,
            unit: None,
            supplier: None,
            version: 3,
            trigger: TriggerRef {
                event_id: Uuid::nil(),
                event_type: "StockSold".into(),
                sequence: 3,
                recorded_at: Utc::now(),
            },
            purchase_plan: None,
        }
    }

    fn refill_quantity(d: &PolicyDecision) -> i64 {
        match d.calls.first() {
            Some(ToolCall::RefillStock { quantity, .. }) => quantity.get(),
            other => panic!("expected a refill first, got {other:?}"),
        }
    }

    #[test]
    fn orders_up_to_twice_a_manual_minimum_without_a_forecast() {
        let d = decide(&ctx(4, 5));
        assert_eq!(refill_quantity(&d), 6);
        assert_eq!(d.calls.len(), 1);
    }

    #[test]
    fn uses_the_forecast_lead_time_demand_and_the_lot_size() {
        let mut c = ctx(3, 10);
        c.forecast = Some(ReorderPoint {
            reorder_point: Quantity::new(10).expect("q"),
            lead_time_demand: 7.2,
            safety_stock: 2.8,
            model: "mean_fallback".into(),
            service_level: 0.95,
            lead_time_days: 7,
            computed_at: Utc::now(),
        });
        c.threshold.source = "forecast".into();
        c.threshold.model = Some("mean_fallback".into());
        let d = decide(&c);
        assert_eq!(refill_quantity(&d), 10 + 8 - 3);
        assert!(matches!(
            d.calls.get(1),
            Some(ToolCall::NotifyManager {
                severity: Severity::Warning,
                ..
            })
        ));
        c.reorder_quantity = Some(50);
        assert_eq!(refill_quantity(&decide(&c)), 50);
    }

    #[test]
    fn alerts_when_empty_and_stays_within_its_own_bounds() {
        for available in [-500, -1, 0, 1, 4] {
            let c = ctx(available, 5);
            let d = decide(&c);
            for call in &d.calls {
                validate(call.name(), &call.arguments(), &c).expect("policy calls validate");
            }
            validate_set(&d.calls).expect("policy set validates");
            assert_eq!(d.calls.len() == 2, available <= 0);
        }
    }

    #[test]
    fn is_deterministic() {
        let c = ctx(2, 9);
        let (a, b) = (decide(&c), decide(&c));
        assert_eq!(a.calls, b.calls);
        assert_eq!(a.rationale, b.rationale);
    }
}
