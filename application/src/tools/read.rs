//! The read tools: each answers from a read-model port (or, for a past instant or an audit,
//! from the product's events), with the same API shapes the HTTP routes return.

use super::insight::{
    self, Outlook, Outlooks, RankMetric, RankOrder, Ranking, SalesSummary, TimelineEntry,
};
use super::request::{self, ProductRef};
use super::{ToolCaller, ToolError, ToolRequest, Tools};
use crate::ports::{PageRequest, ProductFilter, StreamId};
use crate::product_view::ProductView as Product;
use crate::refill_audit::{refill_audit, AuditError};
use crate::views::EventView;
use crate::{load_product_as_of, ProductView};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use restock_domain::RefillStatus;
use restock_domain::{Sku, TenantId};
use serde_json::{json, Value};
use std::collections::HashMap;

/// Candidates shown when a name matches several products.
const NAME_CANDIDATES: i64 = 10;
/// The period of a `units_sold` ranking when the caller names none.
const DEFAULT_RANK_DAYS: i64 = 30;
/// The most events a timeline returns (newest first).
const TIMELINE_EVENTS: i64 = 500;

pub(super) async fn run(
    tools: &Tools,
    tenant: &TenantId,
    request: &ToolRequest,
) -> Result<Value, ToolError> {
    match request {
        ToolRequest::ListProducts {
            below_min,
            text,
            limit,
        } => {
            let filter = ProductFilter {
                below_min: *below_min,
                text: text.clone(),
            };
            let items = tools
                .read_models
                .products(tenant, &filter, &PageRequest::first(*limit))
                .await?;
            Ok(json!({ "items": items }))
        }
        ToolRequest::CheckStock(product) => {
            let view = match product {
                ProductRef::Sku(sku) => product_by_sku(tools, tenant, sku).await?,
                ProductRef::Name(name) => product_by_name(tools, tenant, name).await?,
            };
            Ok(json!(view))
        }
        ToolRequest::StockHistory { sku, as_of, limit } => {
            let product = match as_of {
                Some(at) => {
                    let stream = StreamId::product(tenant, sku);
                    let state = load_product_as_of(tools.store.as_ref(), &stream, *at).await?;
                    state
                        .updated_at
                        .and_then(|updated| ProductView::from_state(&state.product, updated))
                        .ok_or_else(|| {
                            ToolError::NotFound(format!("no product with sku {sku} at {at}"))
                        })?
                }
                None => product_by_sku(tools, tenant, sku).await?,
            };
            let movements = tools
                .read_models
                .movements_until(tenant, sku, product.version, *limit)
                .await?;
            let events = events_until(tools, tenant, sku, product.version, *limit).await?;
            Ok(json!({
                "as_of": as_of,
                "product": product,
                "movements": movements,
                "events": events,
            }))
        }
        ToolRequest::GetForecast { sku } => {
            let forecast = tools.forecasts.get(tenant, sku).await?.ok_or_else(|| {
                ToolError::NotFound(format!(
                    "no forecast for sku {sku} (unknown, or not computed yet)"
                ))
            })?;
            Ok(json!(forecast))
        }
        ToolRequest::ListRefills { status, limit } => {
            let items = tools
                .read_models
                .refills(tenant, *status, &PageRequest::first(*limit))
                .await?;
            Ok(json!({ "items": items }))
        }
        ToolRequest::ExplainRefill { refill_id } => {
            let audit = refill_audit(
                tools.ledger.as_ref(),
                tools.store.as_ref(),
                tenant,
                *refill_id,
            )
            .await
            .map_err(|e| match e {
                AuditError::Store(s) => ToolError::from(s),
                other => ToolError::Store(other.to_string()),
            })?
            .ok_or_else(|| ToolError::NotFound(format!("no refill with id {refill_id}")))?;
            Ok(json!(audit.view()))
        }
        ToolRequest::ListNotifications { limit } => {
            let items = tools
                .read_models
                .notifications(tenant, &PageRequest::first(*limit))
                .await?;
            Ok(json!({ "items": items }))
        }
        ToolRequest::PurchasePlan { sku } => {
            let now = tools.commands.clock().now();
            let plan = tools.plans.plan(tenant, sku, now).await?.ok_or_else(|| {
                ToolError::NotFound(format!(
                    "no purchase plan for sku {sku} (unknown, or no supplier prices)"
                ))
            })?;
            Ok(json!(plan))
        }
        ToolRequest::SalesSummary { sku, from, to } => Ok(json!(
            sales_summary(tools, tenant, sku.as_ref(), *from, *to).await?
        )),
        ToolRequest::RankProducts {
            metric,
            order,
            from,
            to,
            limit,
        } => Ok(json!(
            rank_products(tools, tenant, *metric, *order, *from, *to, *limit).await?
        )),
        ToolRequest::StockOutlook { sku } => {
            Ok(json!(stock_outlook(tools, tenant, sku.as_ref()).await?))
        }
        ToolRequest::ProductTimeline { sku, from, to } => {
            let product = product_by_sku(tools, tenant, sku).await?;
            let items = timeline(tools, tenant, sku, product.version, *from, *to).await?;
            Ok(json!({ "sku": sku.as_str(), "name": product.name, "items": items }))
        }
        _ => Err(ToolError::Store(format!(
            "{} is not a read tool",
            request.name()
        ))),
    }
}

/// The insight tools typed, for callers in Rust (the dashboard): the same validation and the
/// same execution as a call by name, which goes through these too.
impl Tools {
    /// `sales_summary`: units per product over `[from, to]`, both inclusive.
    pub async fn sales_summary(
        &self,
        caller: &ToolCaller,
        sku: Option<&Sku>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<SalesSummary, ToolError> {
        request::period(from, to)?;
        sales_summary(self, &caller.tenant, sku, from, to).await
    }

    /// `rank_products`: the first `limit` products by `metric` (for `units_sold`, over the
    /// period; the last 30 days when it is not given).
    pub async fn rank_products(
        &self,
        caller: &ToolCaller,
        metric: RankMetric,
        order: RankOrder,
        period: Option<(NaiveDate, NaiveDate)>,
        limit: Option<i64>,
    ) -> Result<Ranking, ToolError> {
        if let Some((from, to)) = period {
            request::period(from, to)?;
        }
        let limit = match limit {
            None => request::DEFAULT_RANK_LIMIT,
            some => request::limit(some)?,
        };
        let (from, to) = period.unzip();
        rank_products(self, &caller.tenant, metric, order, from, to, limit).await
    }

    /// `stock_outlook`: one product's stock going forward, or every product's.
    pub async fn stock_outlook(
        &self,
        caller: &ToolCaller,
        sku: Option<&Sku>,
    ) -> Result<Outlooks, ToolError> {
        stock_outlook(self, &caller.tenant, sku).await
    }
}

async fn sales_summary(
    tools: &Tools,
    tenant: &TenantId,
    sku: Option<&Sku>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<SalesSummary, ToolError> {
    let names = match sku {
        Some(sku) => {
            let p = product_by_sku(tools, tenant, sku).await?;
            vec![(p.sku, p.name)]
        }
        None => tools.read_models.product_names(tenant).await?,
    };
    sales(tools, tenant, &names, from, to).await
}

async fn rank_products(
    tools: &Tools,
    tenant: &TenantId,
    metric: RankMetric,
    order: RankOrder,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    limit: i64,
) -> Result<Ranking, ToolError> {
    let today = tools.commands.clock().now().date_naive();
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    Ok(match metric {
        RankMetric::UnitsSold => {
            let to = to.unwrap_or(today);
            let from = from.unwrap_or(to - Duration::days(DEFAULT_RANK_DAYS - 1));
            let names = tools.read_models.product_names(tenant).await?;
            let summary = sales(tools, tenant, &names, from, to).await?;
            let values = summary
                .products
                .into_iter()
                .map(|p| (p.sku, p.name, p.units as f64))
                .collect();
            insight::rank(metric, order, Some((from, to)), values, limit)
        }
        RankMetric::DaysOfCover => {
            let products = named_products(tools, tenant, None).await?;
            // A product that sells nothing has no cover to rank: it is left out.
            let values = outlooks(tools, tenant, &products, today)
                .await?
                .into_iter()
                .filter_map(|o| Some((o.sku, o.name, o.days_of_cover?)))
                .collect();
            insight::rank(metric, order, None, values, limit)
        }
    })
}

async fn stock_outlook(
    tools: &Tools,
    tenant: &TenantId,
    sku: Option<&Sku>,
) -> Result<Outlooks, ToolError> {
    let products = named_products(tools, tenant, sku).await?;
    let today = tools.commands.clock().now().date_naive();
    let items = outlooks(tools, tenant, &products, today).await?;
    Ok(Outlooks {
        as_of: today,
        items,
    })
}

async fn product_by_sku(
    tools: &Tools,
    tenant: &TenantId,
    sku: &Sku,
) -> Result<ProductView, ToolError> {
    tools
        .read_models
        .product(tenant, sku)
        .await?
        .ok_or_else(|| ToolError::NotFound(format!("no product with sku {sku}")))
}

/// One product whose name (or sku) contains `name`. Several: an exact name wins, else the
/// caller is told which products matched, so it can ask for one.
async fn product_by_name(
    tools: &Tools,
    tenant: &TenantId,
    name: &str,
) -> Result<ProductView, ToolError> {
    let filter = ProductFilter {
        below_min: None,
        text: Some(name.to_owned()),
    };
    let mut found = tools
        .read_models
        .products(tenant, &filter, &PageRequest::first(NAME_CANDIDATES))
        .await?;
    if let Some(i) = found
        .iter()
        .position(|p| p.name.eq_ignore_ascii_case(name) || p.sku.eq_ignore_ascii_case(name))
    {
        return Ok(found.swap_remove(i));
    }
    match found.len() {
        0 => Err(ToolError::NotFound(format!("no product named {name:?}"))),
        1 => Ok(found.remove(0)),
        _ => {
            let names: Vec<String> = found
                .iter()
                .map(|p| format!("{} ({})", p.sku, p.name))
                .collect();
            Err(ToolError::InvalidArguments(format!(
                "{name:?} matches several products: {}; give the sku",
                names.join(", ")
            )))
        }
    }
}

/// The last `limit` events of the product's stream at or before `version`, oldest first, with
/// who caused each (actor, causation): the timeline a person reads to see why stock moved.
async fn events_until(
    tools: &Tools,
    tenant: &TenantId,
    sku: &Sku,
    version: i64,
    limit: i64,
) -> Result<Vec<EventView>, ToolError> {
    let stream = StreamId::product(tenant, sku);
    // Versions are 1-based and dense, so the window is read directly, not paged through.
    let after = (version - limit).max(0);
    let events = tools
        .store
        .read_stream(&stream, after, version - after)
        .await?;
    Ok(events.iter().map(EventView::from).collect())
}

/// The product named by `sku`, or every product of the tenant (paged through by sku).
async fn named_products(
    tools: &Tools,
    tenant: &TenantId,
    sku: Option<&Sku>,
) -> Result<Vec<Product>, ToolError> {
    if let Some(sku) = sku {
        return Ok(vec![product_by_sku(tools, tenant, sku).await?]);
    }
    let mut all = Vec::new();
    let mut page = PageRequest::first(super::request::MAX_LIMIT);
    loop {
        let batch = tools
            .read_models
            .products(tenant, &ProductFilter::default(), &page)
            .await?;
        let full = batch.len() as i64 == page.limit;
        page.after = batch.last().map(|p| p.sku.clone());
        all.extend(batch);
        if !full {
            return Ok(all);
        }
    }
}

/// Units sold over `[from, to]` by the products `names` lists as (sku, name), summed by the
/// store (one row per product, not one per day).
async fn sales(
    tools: &Tools,
    tenant: &TenantId,
    names: &[(String, String)],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<SalesSummary, ToolError> {
    let one = match names {
        [(sku, _)] => Sku::parse(sku).ok(),
        _ => None,
    };
    let totals = tools.demand.totals(tenant, one.as_ref(), from, to).await?;
    Ok(insight::sales_summary(names, &totals, from, to))
}

async fn outlooks(
    tools: &Tools,
    tenant: &TenantId,
    products: &[Product],
    today: NaiveDate,
) -> Result<Vec<Outlook>, ToolError> {
    let open = tools
        .read_models
        .refills(
            tenant,
            Some(RefillStatus::Requested),
            &PageRequest::first(super::request::MAX_LIMIT),
        )
        .await?;
    let open: HashMap<&str, &crate::views::RefillView> =
        open.iter().map(|r| (r.sku.as_str(), r)).collect();
    // One product: its forecast; every product: the forecast days of all in one read.
    let days: HashMap<String, Vec<crate::ports::ForecastPoint>> = match products {
        [one] => match Sku::parse(&one.sku) {
            Ok(sku) => tools
                .forecasts
                .get(tenant, &sku)
                .await?
                .map(|f| (one.sku.clone(), f.forecast))
                .into_iter()
                .collect(),
            Err(_) => HashMap::new(),
        },
        _ => tools.forecasts.forecast_days(tenant).await?,
    };
    let one = products.len() == 1;
    Ok(products
        .iter()
        .map(|product| {
            let forecast = days.get(&product.sku).map(Vec::as_slice);
            let refill = open.get(product.sku.as_str()).copied();
            let mut outlook = insight::outlook(product, forecast, refill, today);
            // The day-by-day projection is a chart's, of one product; for a thousand it was
            // most of the answer's size (28 points each), stored with every chat turn.
            if !one {
                outlook.projection.clear();
            }
            outlook
        })
        .collect())
}

/// The product's events in `[from, to]`, newest first, at most [`TIMELINE_EVENTS`].
async fn timeline(
    tools: &Tools,
    tenant: &TenantId,
    sku: &Sku,
    version: i64,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<Vec<TimelineEntry>, ToolError> {
    let stream = StreamId::product(tenant, sku);
    let mut entries = Vec::new();
    let mut upto = version;
    // Read back from the newest in windows until the window is full or the stream begins.
    while upto > 0 && (entries.len() as i64) < TIMELINE_EVENTS {
        let after = (upto - TIMELINE_EVENTS).max(0);
        let events = tools
            .store
            .read_stream(&stream, after, upto - after)
            .await?;
        for recorded in events.iter().rev() {
            if to.is_some_and(|t| recorded.occurred_at > t) {
                continue;
            }
            if from.is_some_and(|f| recorded.occurred_at < f) {
                return Ok(entries);
            }
            let event = crate::product_state::decode(recorded)?;
            let actor = insight::actor_of(&event, &recorded.metadata.actor);
            entries.push(TimelineEntry {
                version: recorded.sequence,
                event_type: event.type_name().to_owned(),
                occurred_at: recorded.occurred_at,
                summary: insight::summary(&event, &actor),
                actor,
            });
            if entries.len() as i64 >= TIMELINE_EVENTS {
                return Ok(entries);
            }
        }
        upto = after;
    }
    Ok(entries)
}
