//! When to ask the agent: once per crossing, not on every event below the minimum.
//!
//! A product *needs a refill* when it is registered, below its minimum, and has no open refill.
//! A crossing is the moment that becomes true: a sale, a count, a reservation, a raised
//! minimum, or a refill received that still left the shelf short. Later events below the
//! minimum change nothing (the refill is open, or the agent already chose not to open one),
//! so they never ask again. One exception: a refill a manager *cancelled* while stock was low
//! does not ask the agent again at once, or the agent would overrule the manager's decision;
//! the next crossing (after stock has been back above the minimum) does.

use restock_domain::{Product, ProductEvent};

pub fn needs_refill(product: &Product) -> bool {
    product.is_registered() && product.below_minimum() && product.open_refill().is_none()
}

/// `before` is `needs_refill` before `event`; `after` the product with `event` applied.
pub fn is_crossing(before: bool, after: &Product, event: &ProductEvent) -> bool {
    !before && needs_refill(after) && !matches!(event, ProductEvent::RefillCancelled { .. })
}

#[cfg(test)]
mod tests {
    use super::*;
    use restock_domain::{Decider, ProductCommand, ProductDetails, Quantity, RefillId, Sku};
    use uuid::Uuid;

    fn q(n: i64) -> Quantity {
        Quantity::new(n).expect("quantity")
    }

    /// Apply a command and report whether it crossed.
    fn run(p: &mut Product, command: ProductCommand) -> bool {
        let mut crossed = false;
        for event in p.decide(command).expect("accepted") {
            let before = needs_refill(p);
            p.apply_event(&event);
            crossed |= is_crossing(before, p, &event);
        }
        crossed
    }

    fn sell(n: i64) -> ProductCommand {
        ProductCommand::Sell {
            quantity: q(n),
            reference: None,
        }
    }

    #[test]
    fn once_per_crossing_and_again_after_a_refill_is_received() {
        let mut p = Product::default();
        let sku = Sku::parse("A").expect("sku");
        run(
            &mut p,
            ProductCommand::Register {
                details: ProductDetails::defaults_for(&sku),
                sku,
            },
        );
        run(
            &mut p,
            ProductCommand::Receive {
                quantity: q(100),
                reference: None,
            },
        );
        assert!(!run(
            &mut p,
            ProductCommand::SetMinimum {
                quantity: Some(q(10))
            }
        ));
        assert!(!run(&mut p, sell(90)), "at the minimum is not below it");
        assert!(run(&mut p, sell(1)), "the crossing");
        assert!(!run(&mut p, sell(1)), "still below: no second crossing");
        let refill = RefillId(Uuid::now_v7());
        run(
            &mut p,
            ProductCommand::RequestRefill {
                refill_id: refill,
                quantity: q(20),
                reason: "r".into(),
                decided_by: Decider::Policy,
                trigger_event_id: None,
                buy_on: None,
                expected_unit_price: None,
            },
        );
        for _ in 0..5 {
            assert!(!run(&mut p, sell(1)), "a refill is open");
        }
        run(
            &mut p,
            ProductCommand::ReceiveRefill {
                refill_id: refill,
                quantity: None,
            },
        );
        assert!(!needs_refill(&p));
        assert!(!run(&mut p, sell(13)));
        assert!(run(&mut p, sell(1)), "selling down again crosses again");
    }

    #[test]
    fn raising_the_minimum_crosses_and_a_cancel_does_not() {
        let mut p = Product::default();
        let sku = Sku::parse("A").expect("sku");
        run(
            &mut p,
            ProductCommand::Register {
                details: ProductDetails::defaults_for(&sku),
                sku,
            },
        );
        run(
            &mut p,
            ProductCommand::Receive {
                quantity: q(5),
                reference: None,
            },
        );
        assert!(run(
            &mut p,
            ProductCommand::SetMinimum {
                quantity: Some(q(6))
            }
        ));
        let refill = RefillId(Uuid::now_v7());
        run(
            &mut p,
            ProductCommand::RequestRefill {
                refill_id: refill,
                quantity: q(20),
                reason: "r".into(),
                decided_by: Decider::Policy,
                trigger_event_id: None,
                buy_on: None,
                expected_unit_price: None,
            },
        );
        assert!(!run(
            &mut p,
            ProductCommand::CancelRefill { refill_id: refill }
        ));
        assert!(needs_refill(&p));
    }
}
