//! Which tools exist, what each is for, and the JSON schema of its arguments (derived from the
//! argument types in [`super::request`], so a schema cannot disagree with what is accepted).

use super::request::{
    CancelRefillArgs, CheckStockArgs, CountStockArgs, ExplainRefillArgs, GetForecastArgs,
    ListNotificationsArgs, ListProductsArgs, ListRefillsArgs, ProductTimelineArgs,
    PurchasePlanArgs, RankProductsArgs, ReceiveRefillArgs, ReceiveStockArgs, RecordSaleArgs,
    RefillStockArgs, SalesSummaryArgs, SetMinStockArgs, StockHistoryArgs, StockOutlookArgs,
};
use serde_json::Value;
use std::fmt;
use utoipa::PartialSchema;

/// Every tool, by name. Read tools never change anything; write tools run ordinary commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ToolName {
    ListProducts,
    CheckStock,
    StockHistory,
    GetForecast,
    ListRefills,
    ExplainRefill,
    ListNotifications,
    PurchasePlan,
    SalesSummary,
    RankProducts,
    StockOutlook,
    ProductTimeline,
    RefillStock,
    SetMinStock,
    ReceiveStock,
    RecordSale,
    CountStock,
    CancelRefill,
    ReceiveRefill,
}

impl ToolName {
    pub const ALL: [Self; 19] = [
        Self::ListProducts,
        Self::CheckStock,
        Self::StockHistory,
        Self::GetForecast,
        Self::ListRefills,
        Self::ExplainRefill,
        Self::ListNotifications,
        Self::PurchasePlan,
        Self::SalesSummary,
        Self::RankProducts,
        Self::StockOutlook,
        Self::ProductTimeline,
        Self::RefillStock,
        Self::SetMinStock,
        Self::ReceiveStock,
        Self::RecordSale,
        Self::CountStock,
        Self::CancelRefill,
        Self::ReceiveRefill,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ListProducts => "list_products",
            Self::CheckStock => "check_stock",
            Self::StockHistory => "stock_history",
            Self::GetForecast => "get_forecast",
            Self::ListRefills => "list_refills",
            Self::ExplainRefill => "explain_refill",
            Self::ListNotifications => "list_notifications",
            Self::PurchasePlan => "purchase_plan",
            Self::SalesSummary => "sales_summary",
            Self::RankProducts => "rank_products",
            Self::StockOutlook => "stock_outlook",
            Self::ProductTimeline => "product_timeline",
            Self::RefillStock => "refill_stock",
            Self::SetMinStock => "set_min_stock",
            Self::ReceiveStock => "receive_stock",
            Self::RecordSale => "record_sale",
            Self::CountStock => "count_stock",
            Self::CancelRefill => "cancel_refill",
            Self::ReceiveRefill => "receive_refill",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// Read tools change nothing and need no more than a viewer's token.
    pub const fn is_read_only(self) -> bool {
        !matches!(
            self,
            Self::RefillStock
                | Self::SetMinStock
                | Self::ReceiveStock
                | Self::RecordSale
                | Self::CountStock
                | Self::CancelRefill
                | Self::ReceiveRefill
        )
    }

    pub const fn description(self) -> &'static str {
        match self {
            Self::ListProducts => {
                "List the shop's products with stock, reserved, available, minimum and open \
                 refill. Filter by below_min, or by query (part of a name or sku)."
            }
            Self::CheckStock => {
                "Stock of one product (on hand, reserved, available, minimum and its source, \
                 open refill), by sku or by name."
            }
            Self::StockHistory => {
                "A product as it was at a past instant (as_of, RFC 3339; now when omitted) and \
                 the stock movements and events (each with its actor and causation) up to \
                 then, newest last."
            }
            Self::GetForecast => {
                "The latest demand forecast of a product: model, daily forecast with intervals, \
                 lead-time demand, safety stock and the reorder point (its minimum)."
            }
            Self::ListRefills => {
                "Purchase requests (refills), optionally by status: requested, received or \
                 cancelled; each says who decided it and why."
            }
            Self::ExplainRefill => {
                "Why a refill was made: the event that triggered it, the stock then, the minimum \
                 and where it came from, the decision (policy or LLM) and what it caused."
            }
            Self::ListNotifications => "Notifications the agent wrote for the store manager.",
            Self::PurchasePlan => {
                "When to buy a product: its supplier price history, a 14-day price forecast with \
                 intervals, the last day an order still arrives before stock runs short \
                 (order_by), the cheapest expected day up to then (best_day), the expected unit \
                 price and saving, and buy_now or wait with the reason."
            }
            Self::SalesSummary => {
                "Units sold per product over a period (from and to, YYYY-MM-DD, both \
                 inclusive): units, days, daily average and days out of stock, and the total. \
                 Counts sales, confirmed reservations and imported history. Every product \
                 when sku is omitted."
            }
            Self::RankProducts => {
                "Products ranked by units_sold over a period (the last 30 days when from/to \
                 are omitted) or by days_of_cover (available stock over forecast demand); \
                 top is largest first (best sellers), bottom smallest first."
            }
            Self::StockOutlook => {
                "Stock going forward on the demand forecast: available, daily forecast, days \
                 of cover, the day it runs out (null beyond the forecast horizon), the open \
                 refill and when it is expected, and whether it arrives in time."
            }
            Self::ProductTimeline => {
                "A product's events, newest first, each with who did it (user:<sub>, \
                 agent:<decider>, system:<job>) and a one-line summary: who changed the \
                 minimum, received stock, ordered a refill."
            }
            Self::RefillStock => {
                "Open a purchase request (refill) for a product: quantity and reason. Needs a \
                 manager. Refused when one is already open for the product."
            }
            Self::SetMinStock => {
                "Pin a product's minimum stock to a quantity, or give it back to the forecast \
                 with null. Needs a manager."
            }
            Self::ReceiveStock => {
                "Record units received into stock (a delivery outside any refill). Needs a \
                 manager."
            }
            Self::RecordSale => {
                "Record units sold. Needs a manager. Refused beyond what is available."
            }
            Self::CountStock => {
                "Record a stock count: on hand becomes the counted units, with the reason for \
                 the difference. Needs a manager."
            }
            Self::CancelRefill => {
                "Cancel a refill, by its id or as the open refill of a product (sku). Needs a \
                 manager."
            }
            Self::ReceiveRefill => {
                "Receive a refill, by its id or as the open refill of a product (sku), in full \
                 or a quantity. Needs a manager."
            }
        }
    }

    /// The JSON schema of the arguments (an object schema, unknown fields refused).
    pub fn input_schema(self) -> Value {
        let schema = match self {
            Self::ListProducts => ListProductsArgs::schema(),
            Self::CheckStock => CheckStockArgs::schema(),
            Self::StockHistory => StockHistoryArgs::schema(),
            Self::GetForecast => GetForecastArgs::schema(),
            Self::ListRefills => ListRefillsArgs::schema(),
            Self::ExplainRefill => ExplainRefillArgs::schema(),
            Self::ListNotifications => ListNotificationsArgs::schema(),
            Self::PurchasePlan => PurchasePlanArgs::schema(),
            Self::SalesSummary => SalesSummaryArgs::schema(),
            Self::RankProducts => RankProductsArgs::schema(),
            Self::StockOutlook => StockOutlookArgs::schema(),
            Self::ProductTimeline => ProductTimelineArgs::schema(),
            Self::RefillStock => RefillStockArgs::schema(),
            Self::SetMinStock => SetMinStockArgs::schema(),
            Self::ReceiveStock => ReceiveStockArgs::schema(),
            Self::RecordSale => RecordSaleArgs::schema(),
            Self::CountStock => CountStockArgs::schema(),
            Self::CancelRefill => CancelRefillArgs::schema(),
            Self::ReceiveRefill => ReceiveRefillArgs::schema(),
        };
        // A schema built from types serializes; an empty object would only hide a bug.
        serde_json::to_value(schema).unwrap_or_else(|_| serde_json::json!({ "type": "object" }))
    }
}

impl fmt::Display for ToolName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A tool as a front end lists it (MCP `tools/list`, the LLM's `tools`).
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    pub name: ToolName,
    pub description: &'static str,
    pub read_only: bool,
    pub input_schema: Value,
}

impl ToolSpec {
    pub fn of(name: ToolName) -> Self {
        Self {
            name,
            description: name.description(),
            read_only: name.is_read_only(),
            input_schema: name.input_schema(),
        }
    }

    /// In OpenAI's chat-completions `tools` format.
    pub fn openai_function(&self) -> Value {
        serde_json::json!({
            "type": "function",
            "function": {
                "name": self.name.as_str(),
                "description": self.description,
                "parameters": self.input_schema,
            }
        })
    }
}

/// The tools a caller may see: every read tool, and the write tools only when it may write.
pub fn catalog(may_write: bool) -> Vec<ToolSpec> {
    ToolName::ALL
        .into_iter()
        .filter(|t| may_write || t.is_read_only())
        .map(ToolSpec::of)
        .collect()
}
