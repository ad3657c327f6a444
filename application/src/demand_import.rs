//! Importing past demand (`date,sku,quantity` CSV) for the forecast.
//!
//! The whole file is parsed and validated before anything is written, so a bad row keeps
//! nothing of the upload. Rows for the same sku and day are added together (a file may list
//! several stores or channels separately).

use crate::product_commands::{CommandContext, CommandError, IdempotencyRequest, ProductCommands};
use chrono::NaiveDate;
use restock_domain::{DailyDemand, ProductCommand, Quantity, Sku};
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ImportError {
    #[error("line {line}: {message}")]
    BadRow { line: usize, message: String },
    #[error("the file is empty; expected a header `date,sku,quantity`")]
    Empty,
}

/// Demand per sku per day, ready to record.
#[derive(Debug, Default, PartialEq)]
pub struct DemandHistory {
    pub rows: usize,
    pub by_sku: BTreeMap<Sku, Vec<DailyDemand>>,
}

pub fn parse_demand_csv(text: &str, today: NaiveDate) -> Result<DemandHistory, ImportError> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or(ImportError::Empty)?;
    let columns: Vec<&str> = header
        .split(',')
        .map(|c| c.trim().trim_start_matches('\u{feff}'))
        .collect();
    let index = |name: &str| {
        columns
            .iter()
            .position(|c| *c == name)
            .ok_or(ImportError::BadRow {
                line: 1,
                message: format!("header must contain date,sku,quantity; `{name}` is missing"),
            })
    };
    let (date_at, sku_at, qty_at) = (index("date")?, index("sku")?, index("quantity")?);
    let mut sums: BTreeMap<Sku, BTreeMap<NaiveDate, i64>> = BTreeMap::new();
    let mut rows = 0;
    for (i, line) in lines {
        let line_no = i + 1;
        let bad = |message: String| ImportError::BadRow {
            line: line_no,
            message,
        };
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != columns.len() {
            return Err(bad(format!(
                "expected {} columns, found {}",
                columns.len(),
                fields.len()
            )));
        }
        let date = NaiveDate::parse_from_str(fields[date_at], "%Y-%m-%d")
            .map_err(|_| bad(format!("date {:?} is not YYYY-MM-DD", fields[date_at])))?;
        if date > today {
            return Err(bad(format!("date {date} is in the future")));
        }
        let sku = Sku::parse(fields[sku_at]).map_err(|e| bad(e.to_string()))?;
        let quantity = fields[qty_at]
            .parse::<i64>()
            .ok()
            .and_then(|q| Quantity::new(q).ok())
            .ok_or_else(|| {
                bad(format!(
                    "quantity {:?} must be an integer between 0 and {}",
                    fields[qty_at],
                    Quantity::MAX
                ))
            })?;
        let day = sums.entry(sku).or_default().entry(date).or_default();
        *day += quantity.get();
        if *day > i64::from(Quantity::MAX) {
            return Err(bad("the day's total exceeds the quantity bound".to_owned()));
        }
        rows += 1;
    }
    let by_sku = sums
        .into_iter()
        .map(|(sku, days)| {
            let days = days
                .into_iter()
                .filter_map(|(date, q)| {
                    Quantity::new(q)
                        .ok()
                        .map(|quantity| DailyDemand { date, quantity })
                })
                .collect();
            (sku, days)
        })
        .collect();
    Ok(DemandHistory { rows, by_sku })
}

/// Record the parsed history: one `DemandHistoryImported` per sku (registering unknown skus).
///
/// An upload spans several streams, so an `Idempotency-Key` is applied per sku (`KEY/sku`): a
/// retried upload appends nothing for the skus already recorded, and a reused key with another
/// file is still refused.
pub async fn record_demand_history(
    commands: &ProductCommands,
    ctx: &CommandContext,
    history: DemandHistory,
) -> Result<(), CommandError> {
    let no_render = |_: &crate::Executed| (201u16, serde_json::Value::Null);
    for (sku, days) in history.by_sku {
        let per_sku = CommandContext {
            idempotency: ctx.idempotency.as_ref().map(|req| IdempotencyRequest {
                key: format!("{}/{}", req.key, sku),
                request_hash: req.request_hash.clone(),
            }),
            ..ctx.clone()
        };
        let command = ProductCommand::ImportDemand {
            sku: sku.clone(),
            days,
        };
        commands
            .execute(&per_sku, &sku, command, &no_render)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 1).unwrap_or_default()
    }

    #[test]
    fn parses_and_sums_rows_per_sku_and_day() {
        let csv = "date,sku,quantity\n2026-01-01,A,3\n2026-01-01,A,2\n2026-01-02,B,0\n";
        let h = parse_demand_csv(csv, today()).expect("valid csv");
        assert_eq!(h.rows, 3);
        assert_eq!(h.by_sku.len(), 2);
        let a = &h.by_sku[&Sku::parse("A").expect("sku")];
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].quantity.get(), 5);
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            ("date,quantity\n2026-01-01,1\n", 1, "sku"),
            (
                "date,sku,quantity\n2026-01-01,A,1\n2026-13-01,A,1\n",
                3,
                "YYYY-MM-DD",
            ),
            ("date,sku,quantity\n2026-01-01,A,-1\n", 2, "quantity"),
            ("date,sku,quantity\n2026-01-01,A,1.5\n", 2, "quantity"),
            ("date,sku,quantity\n2026-01-01,A\n", 2, "columns"),
            ("date,sku,quantity\n2030-01-01,A,1\n", 2, "future"),
            ("date,sku,quantity\n2026-01-01,a b,1\n", 2, "sku"),
        ];
        for (csv, line, needle) in cases {
            match parse_demand_csv(csv, today()) {
                Err(ImportError::BadRow { line: l, message }) => {
                    assert_eq!(l, line, "{csv:?}");
                    assert!(message.contains(needle), "{message:?} lacks {needle:?}");
                }
                other => panic!("{csv:?} gave {other:?}"),
            }
        }
        assert_eq!(parse_demand_csv("\n", today()), Err(ImportError::Empty));
    }
}
