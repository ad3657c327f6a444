//! The read tools: each answers from a read-model port (or, for a past instant or an audit,
//! from the product's events), with the same API shapes the HTTP routes return.

use super::request::ProductRef;
use super::{ToolError, ToolRequest, Tools};
use crate::ports::{PageRequest, ProductFilter, StreamId};
use crate::refill_audit::{refill_audit, AuditError};
use crate::views::EventView;
use crate::{load_product_as_of, ProductView};
use restock_domain::{Sku, TenantId};
use serde_json::{json, Value};

/// Candidates shown when a name matches several products.
const NAME_CANDIDATES: i64 = 10;

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
        ToolRequest::RefillStock { .. } | ToolRequest::SetMinStock { .. } => Err(ToolError::Store(
            format!("{} is not a read tool", request.name()),
        )),
    }
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
