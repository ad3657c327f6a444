//! `restock serve --demo`: a tenant with a few products, stock, a year of demand history and 120
//! days of supplier prices, so a first-time user has something to query and every page of the
//! dashboard (stock, forecast, purchase plan) has something to show. Seeding twice changes
//! nothing.

use chrono::{Duration, Utc};
use restock_api::AppState;
use restock_application::demand_import::{record_demand_history, DemandHistory};
use restock_application::price_import::{record_prices, PriceHistory};
use restock_application::CommandContext;
use restock_domain::{
    DailyDemand, DailyPrice, ProductCommand, ProductDetails, Quantity, Sku, TenantId, UnitPrice,
};
use restock_infrastructure::tokens::Role;

pub const TENANT: &str = "demo";

/// (sku, name, weekday base demand, on hand, supplier price pattern)
const PRODUCTS: &[(&str, &str, f64, i64, Prices)] = &[
    (
        "COFFEE-1KG",
        "Coffee beans 1 kg",
        12.0,
        140,
        Prices::WeeklyPromotion(14.90),
    ),
    ("MILK-1L", "Whole milk 1 l", 30.0, 90, Prices::Rising(0.89)),
    (
        "FILTER-100",
        "Paper filters (100)",
        3.0,
        25,
        Prices::Flat(2.40),
    ),
    ("MUG-CLASSIC", "Classic mug", 0.6, 8, Prices::Flat(6.50)),
];

/// Days of supplier prices seeded, up to yesterday.
const PRICE_DAYS: i64 = 120;

/// The supplier price patterns the purchase plan tells apart: a weekly promotion worth waiting
/// for, a rising price to buy ahead of, and flat prices with nothing to gain from waiting.
#[derive(Debug, Clone, Copy)]
enum Prices {
    /// This list price, 15% off every Tuesday.
    WeeklyPromotion(f64),
    /// From this price, up 0.1% a day.
    Rising(f64),
    Flat(f64),
}

pub async fn seed(app: &AppState) -> anyhow::Result<String> {
    let tenant = TenantId::parse(TENANT)?;
    let ctx = CommandContext::new(tenant.clone(), "demo:seed");
    let ignore = |_: &restock_application::Executed| {
        (
            restock_application::ports::ReplyStatus::Done,
            serde_json::Value::Null,
        )
    };
    let today = Utc::now().date_naive();
    let mut history = DemandHistory::default();
    let mut prices = PriceHistory::default();
    for (i, (sku, name, base, on_hand, pattern)) in PRODUCTS.iter().enumerate() {
        let sku = Sku::parse(sku)?;
        let details = ProductDetails::new(
            (*name).to_owned(),
            Some(3 + i as i64 * 2),
            None,
            None,
            None,
            None,
        )?;
        let fresh = app
            .commands
            .execute(
                &ctx,
                &sku,
                ProductCommand::Register {
                    sku: sku.clone(),
                    details,
                },
                &ignore,
            )
            .await?;
        let created = matches!(fresh, restock_application::Outcome::Executed(ref e)
            if matches!(e.events.first(), Some(restock_domain::ProductEvent::ProductRegistered { .. })));
        if !created {
            continue;
        }
        let receive = ProductCommand::Receive {
            quantity: Quantity::new(*on_hand)?,
            reference: Some("opening stock".into()),
        };
        app.commands.execute(&ctx, &sku, receive, &ignore).await?;
        let days = (1..=365)
            .map(|back| {
                let date = today - Duration::days(back);
                let q = weekly_demand(*base, back, i);
                Ok(DailyDemand {
                    date,
                    quantity: Quantity::new(q)?,
                })
            })
            .collect::<Result<Vec<_>, restock_domain::ValueError>>()?;
        history.rows += days.len();
        history.by_sku.insert(sku.clone(), days);
        let days = (1..=PRICE_DAYS)
            .rev()
            .map(|back| {
                let date = today - Duration::days(back);
                Ok(DailyPrice {
                    date,
                    unit_price: UnitPrice::new(supplier_price(*pattern, date, back, i))?,
                })
            })
            .collect::<Result<Vec<_>, restock_domain::ValueError>>()?;
        prices.rows += days.len();
        prices.by_sku.insert(sku, days);
    }
    record_demand_history(&app.commands, &ctx, history).await?;
    record_prices(&app.commands, &ctx, prices).await?;
    // Forecast minimums right away (the scheduler would only get to it after an interval); the
    // forecast reads the projected demand, so let the projections catch up first.
    wait_for_projections(app).await?;
    let summary = app.thresholds.recompute_tenant(&tenant).await?;
    tracing::info!(
        products = summary.products,
        changed = summary.changed,
        "demo minimums computed"
    );
    // And once more, so the minimums are in the read models before the token is printed: a user
    // who asks at once sees them.
    wait_for_projections(app).await?;
    let token = app.tokens.issue(
        "demo-manager",
        &tenant,
        Role::Manager,
        Utc::now() + Duration::hours(24),
    )?;
    Ok(token)
}

async fn wait_for_projections(app: &AppState) -> anyhow::Result<()> {
    for _ in 0..200 {
        let mut behind = 0;
        for runner in app.runners.iter() {
            behind += runner.status().await?.events_behind;
        }
        if behind == 0 {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    anyhow::bail!("projections did not catch up within 10 s")
}

/// Deterministic weekly-seasonal demand: busier at weekends, with a little pseudo-random noise.
fn weekly_demand(base: f64, day: i64, salt: usize) -> i64 {
    let weekday_factor = [0.8, 0.9, 1.0, 1.0, 1.1, 1.5, 1.3][(day % 7) as usize];
    let noise = ((day as u64)
        .wrapping_mul(2_654_435_761)
        .wrapping_add(salt as u64 * 97)
        % 100) as f64
        / 100.0;
    (base * weekday_factor * (0.8 + 0.4 * noise)).round() as i64
}

/// A supplier's price on `date` (`back` days ago), rounded to cents, with a cent or two of
/// deterministic noise so the flat pattern is not a straight line.
fn supplier_price(pattern: Prices, date: chrono::NaiveDate, back: i64, salt: usize) -> f64 {
    use chrono::Datelike;
    let noise = ((back as u64)
        .wrapping_mul(40_503)
        .wrapping_add(salt as u64 * 31)
        % 3) as f64
        / 100.0;
    let price = match pattern {
        Prices::WeeklyPromotion(list) if date.weekday() == chrono::Weekday::Tue => list * 0.85,
        Prices::WeeklyPromotion(list) | Prices::Flat(list) => list,
        Prices::Rising(from) => from * 1.001_f64.powi((PRICE_DAYS - back) as i32),
    };
    ((price + noise) * 100.0).round() / 100.0
}
