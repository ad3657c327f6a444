//! Tool arguments: the JSON a caller sends, checked against the schema's types (unknown fields
//! refused) and parsed into domain types once, so that the code running a tool only ever sees
//! a valid [`ToolRequest`].

use super::catalog::ToolName;
use super::insight::{RankMetric, RankOrder};
use super::ToolError;
use chrono::{DateTime, NaiveDate, Utc};
use restock_domain::{Quantity, RefillStatus, Sku};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

/// Rows a list tool returns when the caller does not say (and the API's default page).
pub const DEFAULT_LIMIT: i64 = 50;
/// The most rows one call returns (the API's largest page).
pub const MAX_LIMIT: i64 = 500;
const MAX_REASON_CHARS: usize = 500;
const MAX_TEXT_CHARS: usize = 200;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListProductsArgs {
    /// Only products below (true) or not below (false) their minimum.
    below_min: Option<bool>,
    /// Part of a product's name or sku, any case.
    #[schema(max_length = 200)]
    query: Option<String>,
    /// 1-500, default 50.
    #[schema(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckStockArgs {
    /// The product's sku. Give this or `name`.
    sku: Option<String>,
    /// The product's name, or a part of it that names one product.
    #[schema(max_length = 200)]
    name: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockHistoryArgs {
    sku: String,
    /// RFC 3339; the product as the system knew it then. Now when omitted.
    as_of: Option<DateTime<Utc>>,
    /// The most recent movements to return, 1-500, default 50.
    #[schema(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GetForecastArgs {
    sku: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PurchasePlanArgs {
    sku: String,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum StatusArg {
    Requested,
    Received,
    Cancelled,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListRefillsArgs {
    /// Inlined: a tool's schema travels alone (MCP, LLM tools), with no components to refer to.
    #[schema(inline)]
    status: Option<StatusArg>,
    /// 1-500, default 50.
    #[schema(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExplainRefillArgs {
    refill_id: Uuid,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListNotificationsArgs {
    /// 1-500, default 50.
    #[schema(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefillStockArgs {
    sku: String,
    /// Units to order.
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    quantity: i64,
    /// Why, in a sentence; recorded with the refill.
    #[schema(min_length = 1, max_length = 500)]
    reason: String,
    /// The day to buy on (YYYY-MM-DD), when it matters; recorded with the refill. Without it,
    /// the purchase plan's day when the product has supplier prices.
    buy_on: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetMinStockArgs {
    sku: String,
    /// A number pins the minimum; null hands it back to the forecast. Required.
    #[serde(deserialize_with = "present")]
    #[schema(required = true, minimum = 0, maximum = 1_000_000_000)]
    quantity: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SalesSummaryArgs {
    /// One product; every product when omitted.
    sku: Option<String>,
    /// First day (YYYY-MM-DD), inclusive.
    from: NaiveDate,
    /// Last day (YYYY-MM-DD), inclusive.
    to: NaiveDate,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RankProductsArgs {
    #[schema(inline)]
    metric: RankMetric,
    /// `top`: largest first (best sellers, most cover); `bottom`: smallest first.
    #[schema(inline)]
    order: RankOrder,
    /// The period of `units_sold` (YYYY-MM-DD, inclusive); the last 30 days when omitted.
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    /// 1-500, default 5.
    #[schema(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockOutlookArgs {
    /// One product; every product when omitted.
    sku: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductTimelineArgs {
    sku: String,
    /// RFC 3339; events from then on.
    from: Option<DateTime<Utc>>,
    /// RFC 3339; events up to then.
    to: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveStockArgs {
    sku: String,
    /// Units received.
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    quantity: i64,
    /// A delivery note or invoice number.
    #[schema(max_length = 200)]
    reference: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordSaleArgs {
    sku: String,
    /// Units sold.
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    quantity: i64,
    /// A receipt or order number.
    #[schema(max_length = 200)]
    reference: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CountStockArgs {
    sku: String,
    /// Units counted on the shelf: on hand becomes this.
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    counted: i64,
    /// Why the count differs, in a sentence; recorded with it.
    #[schema(min_length = 1, max_length = 500)]
    reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRefillArgs {
    /// The refill. Give this or `sku` (its open refill).
    refill_id: Option<Uuid>,
    sku: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveRefillArgs {
    /// The refill. Give this or `sku` (its open refill).
    refill_id: Option<Uuid>,
    sku: Option<String>,
    /// Units received; the quantity requested when omitted.
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    quantity: Option<i64>,
}

/// A refill named by its id, or as the open refill of a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefillRef {
    Id(Uuid),
    OpenOf(Sku),
}

fn refill_ref(
    tool: ToolName,
    id: Option<Uuid>,
    raw_sku: Option<String>,
) -> Result<RefillRef, ToolError> {
    match (id, raw_sku) {
        (Some(id), None) => Ok(RefillRef::Id(id)),
        (None, Some(s)) => Ok(RefillRef::OpenOf(sku(&s)?)),
        _ => Err(invalid(format!(
            "{tool} needs exactly one of refill_id or sku"
        ))),
    }
}

fn positive(raw: i64) -> Result<Quantity, ToolError> {
    Quantity::positive(raw).map_err(|e| invalid(e.to_string()))
}

/// The longest period a sales question may span: two years of days.
pub const MAX_PERIOD_DAYS: i64 = 731;
/// Rows `rank_products` returns when not told.
pub const DEFAULT_RANK_LIMIT: i64 = 5;

/// A field that must be present but may be null (serde otherwise reads a missing `Option` as
/// null, and "clear the minimum" must be said, not implied). Also the HTTP body's rule
/// (`PUT /v1/products/{sku}/min-stock`).
pub fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Option::<i64>::deserialize(d)
}

/// A product named by sku, or by (part of) its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductRef {
    Sku(Sku),
    Name(String),
}

/// A validated tool call.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolRequest {
    ListProducts {
        below_min: Option<bool>,
        text: Option<String>,
        limit: i64,
    },
    CheckStock(ProductRef),
    StockHistory {
        sku: Sku,
        as_of: Option<DateTime<Utc>>,
        limit: i64,
    },
    GetForecast {
        sku: Sku,
    },
    ListRefills {
        status: Option<RefillStatus>,
        limit: i64,
    },
    ExplainRefill {
        refill_id: Uuid,
    },
    ListNotifications {
        limit: i64,
    },
    PurchasePlan {
        sku: Sku,
    },
    RefillStock {
        sku: Sku,
        quantity: Quantity,
        reason: String,
        buy_on: Option<NaiveDate>,
    },
    SetMinStock {
        sku: Sku,
        quantity: Option<Quantity>,
    },
    ReceiveStock {
        sku: Sku,
        quantity: Quantity,
        reference: Option<String>,
    },
    RecordSale {
        sku: Sku,
        quantity: Quantity,
        reference: Option<String>,
    },
    CountStock {
        sku: Sku,
        counted: Quantity,
        reason: String,
    },
    CancelRefill(RefillRef),
    ReceiveRefill {
        refill: RefillRef,
        quantity: Option<Quantity>,
    },
    SalesSummary {
        sku: Option<Sku>,
        from: NaiveDate,
        to: NaiveDate,
    },
    RankProducts {
        metric: RankMetric,
        order: RankOrder,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        limit: i64,
    },
    StockOutlook {
        sku: Option<Sku>,
    },
    ProductTimeline {
        sku: Sku,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    },
}

fn invalid(detail: impl Into<String>) -> ToolError {
    ToolError::InvalidArguments(detail.into())
}

fn args<T: DeserializeOwned>(tool: ToolName, arguments: &Value) -> Result<T, ToolError> {
    // A call without arguments may arrive as null; that is an empty object.
    let arguments = if arguments.is_null() {
        &Value::Object(Default::default())
    } else {
        arguments
    };
    // The path names the argument that is wrong (`quantity: invalid type ...`); serde alone
    // says only what it expected.
    serde_path_to_error::deserialize(arguments.clone()).map_err(|e| {
        let path = e.path().to_string();
        match path.as_str() {
            "." | "" => invalid(format!("{tool}: {}", e.inner())),
            _ => invalid(format!("{tool}: {path}: {}", e.inner())),
        }
    })
}

fn sku(raw: &str) -> Result<Sku, ToolError> {
    Sku::parse(raw).map_err(|e| invalid(e.to_string()))
}

pub(super) fn limit(raw: Option<i64>) -> Result<i64, ToolError> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(invalid(format!("limit must be 1 to {MAX_LIMIT}, got {n}"))),
    }
}

fn text(field: &str, raw: Option<String>, max: usize) -> Result<Option<String>, ToolError> {
    match raw.map(|t| t.trim().to_owned()) {
        Some(t) if t.is_empty() => Ok(None),
        Some(t) if t.chars().count() > max => {
            Err(invalid(format!("{field} must be at most {max} characters")))
        }
        // PostgreSQL cannot store U+0000 in text: refused here, it would fail at the store.
        Some(t) if t.contains('\0') => Err(invalid(format!(
            "{field} may not contain the NUL character (U+0000)"
        ))),
        other => Ok(other),
    }
}

/// A period of whole days: `from` not after `to`, at most [`MAX_PERIOD_DAYS`] long.
pub(super) fn period(from: NaiveDate, to: NaiveDate) -> Result<(), ToolError> {
    if from > to {
        return Err(invalid(format!(
            "from ({from}) must not be after to ({to})"
        )));
    }
    let days = (to - from).num_days() + 1;
    if days > MAX_PERIOD_DAYS {
        return Err(invalid(format!(
            "a period may span at most {MAX_PERIOD_DAYS} days, got {days}"
        )));
    }
    Ok(())
}

impl ToolRequest {
    /// Parse a call by tool name and JSON arguments.
    pub fn parse(name: &str, arguments: &Value) -> Result<Self, ToolError> {
        let tool = ToolName::parse(name).ok_or_else(|| ToolError::UnknownTool(name.to_owned()))?;
        Ok(match tool {
            ToolName::ListProducts => {
                let a: ListProductsArgs = args(tool, arguments)?;
                Self::ListProducts {
                    below_min: a.below_min,
                    text: text("query", a.query, MAX_TEXT_CHARS)?,
                    limit: limit(a.limit)?,
                }
            }
            ToolName::CheckStock => {
                let a: CheckStockArgs = args(tool, arguments)?;
                let name = text("name", a.name, MAX_TEXT_CHARS)?;
                match (a.sku, name) {
                    (Some(s), None) => Self::CheckStock(ProductRef::Sku(sku(&s)?)),
                    (None, Some(n)) => Self::CheckStock(ProductRef::Name(n)),
                    _ => return Err(invalid("check_stock needs exactly one of sku or name")),
                }
            }
            ToolName::StockHistory => {
                let a: StockHistoryArgs = args(tool, arguments)?;
                Self::StockHistory {
                    sku: sku(&a.sku)?,
                    as_of: a.as_of,
                    limit: limit(a.limit)?,
                }
            }
            ToolName::GetForecast => {
                let a: GetForecastArgs = args(tool, arguments)?;
                Self::GetForecast { sku: sku(&a.sku)? }
            }
            ToolName::ListRefills => {
                let a: ListRefillsArgs = args(tool, arguments)?;
                Self::ListRefills {
                    status: a.status.map(|s| match s {
                        StatusArg::Requested => RefillStatus::Requested,
                        StatusArg::Received => RefillStatus::Received,
                        StatusArg::Cancelled => RefillStatus::Cancelled,
                    }),
                    limit: limit(a.limit)?,
                }
            }
            ToolName::ExplainRefill => {
                let a: ExplainRefillArgs = args(tool, arguments)?;
                Self::ExplainRefill {
                    refill_id: a.refill_id,
                }
            }
            ToolName::ListNotifications => {
                let a: ListNotificationsArgs = args(tool, arguments)?;
                Self::ListNotifications {
                    limit: limit(a.limit)?,
                }
            }
            ToolName::PurchasePlan => {
                let a: PurchasePlanArgs = args(tool, arguments)?;
                Self::PurchasePlan { sku: sku(&a.sku)? }
            }
            ToolName::RefillStock => {
                let a: RefillStockArgs = args(tool, arguments)?;
                let reason = text("reason", Some(a.reason), MAX_REASON_CHARS)?
                    .ok_or_else(|| invalid("reason must not be empty"))?;
                Self::RefillStock {
                    sku: sku(&a.sku)?,
                    quantity: Quantity::positive(a.quantity).map_err(|e| invalid(e.to_string()))?,
                    reason,
                    buy_on: a.buy_on,
                }
            }
            ToolName::ReceiveStock => {
                let a: ReceiveStockArgs = args(tool, arguments)?;
                Self::ReceiveStock {
                    sku: sku(&a.sku)?,
                    quantity: positive(a.quantity)?,
                    reference: text("reference", a.reference, MAX_TEXT_CHARS)?,
                }
            }
            ToolName::RecordSale => {
                let a: RecordSaleArgs = args(tool, arguments)?;
                Self::RecordSale {
                    sku: sku(&a.sku)?,
                    quantity: positive(a.quantity)?,
                    reference: text("reference", a.reference, MAX_TEXT_CHARS)?,
                }
            }
            ToolName::CountStock => {
                let a: CountStockArgs = args(tool, arguments)?;
                Self::CountStock {
                    sku: sku(&a.sku)?,
                    counted: Quantity::new(a.counted).map_err(|e| invalid(e.to_string()))?,
                    reason: text("reason", Some(a.reason), MAX_REASON_CHARS)?
                        .ok_or_else(|| invalid("reason must not be empty"))?,
                }
            }
            ToolName::CancelRefill => {
                let a: CancelRefillArgs = args(tool, arguments)?;
                Self::CancelRefill(refill_ref(tool, a.refill_id, a.sku)?)
            }
            ToolName::ReceiveRefill => {
                let a: ReceiveRefillArgs = args(tool, arguments)?;
                Self::ReceiveRefill {
                    refill: refill_ref(tool, a.refill_id, a.sku)?,
                    quantity: a.quantity.map(positive).transpose()?,
                }
            }
            ToolName::SalesSummary => {
                let a: SalesSummaryArgs = args(tool, arguments)?;
                period(a.from, a.to)?;
                Self::SalesSummary {
                    sku: a.sku.as_deref().map(sku).transpose()?,
                    from: a.from,
                    to: a.to,
                }
            }
            ToolName::RankProducts => {
                let a: RankProductsArgs = args(tool, arguments)?;
                if let (Some(from), Some(to)) = (a.from, a.to) {
                    period(from, to)?;
                }
                Self::RankProducts {
                    metric: a.metric,
                    order: a.order,
                    from: a.from,
                    to: a.to,
                    limit: match a.limit {
                        None => DEFAULT_RANK_LIMIT,
                        some => limit(some)?,
                    },
                }
            }
            ToolName::StockOutlook => {
                let a: StockOutlookArgs = args(tool, arguments)?;
                Self::StockOutlook {
                    sku: a.sku.as_deref().map(sku).transpose()?,
                }
            }
            ToolName::ProductTimeline => {
                let a: ProductTimelineArgs = args(tool, arguments)?;
                if let (Some(from), Some(to)) = (a.from, a.to) {
                    if from > to {
                        return Err(invalid("from must not be after to"));
                    }
                }
                Self::ProductTimeline {
                    sku: sku(&a.sku)?,
                    from: a.from,
                    to: a.to,
                }
            }
            ToolName::SetMinStock => {
                let a: SetMinStockArgs = args(tool, arguments)?;
                Self::SetMinStock {
                    sku: sku(&a.sku)?,
                    quantity: a
                        .quantity
                        .map(Quantity::new)
                        .transpose()
                        .map_err(|e| invalid(e.to_string()))?,
                }
            }
        })
    }

    pub fn name(&self) -> ToolName {
        match self {
            Self::SalesSummary { .. } => ToolName::SalesSummary,
            Self::ReceiveStock { .. } => ToolName::ReceiveStock,
            Self::RecordSale { .. } => ToolName::RecordSale,
            Self::CountStock { .. } => ToolName::CountStock,
            Self::CancelRefill(_) => ToolName::CancelRefill,
            Self::ReceiveRefill { .. } => ToolName::ReceiveRefill,
            Self::RankProducts { .. } => ToolName::RankProducts,
            Self::StockOutlook { .. } => ToolName::StockOutlook,
            Self::ProductTimeline { .. } => ToolName::ProductTimeline,
            Self::ListProducts { .. } => ToolName::ListProducts,
            Self::CheckStock(_) => ToolName::CheckStock,
            Self::StockHistory { .. } => ToolName::StockHistory,
            Self::GetForecast { .. } => ToolName::GetForecast,
            Self::ListRefills { .. } => ToolName::ListRefills,
            Self::ExplainRefill { .. } => ToolName::ExplainRefill,
            Self::ListNotifications { .. } => ToolName::ListNotifications,
            Self::PurchasePlan { .. } => ToolName::PurchasePlan,
            Self::RefillStock { .. } => ToolName::RefillStock,
            Self::SetMinStock { .. } => ToolName::SetMinStock,
        }
    }
}
