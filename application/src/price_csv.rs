//! The one reader of `date,sku,unit_price` supplier price files: the import (`POST
//! /v1/imports/prices`, `restock import prices`) and `restock backtest-prices` both read their
//! file with [`parse_price_csv`], so they accept and refuse the same files.
//!
//! Rules: those of every `date,sku,<value>` file ([`crate::dated_csv`]), with `unit_price` as
//! the value:
//! - `unit_price` is a plain decimal number (`12`, `2.49`; no sign, exponent or thousands
//!   separator) above 0 and at most [`UnitPrice::MAX`];
//! - a sku has one price a day: a second row for the same sku and day is refused unless it
//!   repeats the same price (a price list has no stores to add up, unlike demand).
//!
//! The whole file is read before anything is used, so a bad row keeps nothing of it.

use crate::dated_csv::{read_rows, RowError};
use chrono::NaiveDate;
use restock_domain::{DailyPrice, Sku, UnitPrice};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PriceCsvError {
    #[error("line {line}: {message}")]
    BadRow { line: usize, message: String },
    #[error("the file is empty; expected a header `date,sku,unit_price`")]
    Empty,
}

/// Prices per sku, ready to record: each sku's days in date order, one price a day.
#[derive(Debug, Default, PartialEq)]
pub struct PriceHistory {
    /// Data rows read.
    pub rows: usize,
    pub by_sku: BTreeMap<Sku, Vec<DailyPrice>>,
}

/// Reads a `date,sku,unit_price` file; `today` is the last day a row may have.
pub fn parse_price_csv(text: &str, today: NaiveDate) -> Result<PriceHistory, PriceCsvError> {
    // The line each price came from, to name it when a later row contradicts it.
    let mut days: BTreeMap<Sku, BTreeMap<NaiveDate, (UnitPrice, usize)>> = BTreeMap::new();
    let mut rows = 0;
    read_rows(text, "unit_price", today, |row| {
        let price = parse_price(row.value)?;
        let per_day = days.entry(row.sku.clone()).or_default();
        if let Some((first, line)) = per_day.get(&row.date) {
            if *first != price {
                return Err(format!(
                    "a second price for {} on {} ({} on line {line}, {price} here)",
                    row.sku, row.date, first
                ));
            }
        } else {
            per_day.insert(row.date, (price, row.line));
        }
        rows += 1;
        Ok(())
    })
    .map_err(|e| match e {
        RowError::Empty => PriceCsvError::Empty,
        RowError::BadRow { line, message } => PriceCsvError::BadRow { line, message },
    })?;
    let by_sku = days
        .into_iter()
        .map(|(sku, days)| {
            let prices = days
                .into_iter()
                .map(|(date, (unit_price, _))| DailyPrice { date, unit_price })
                .collect();
            (sku, prices)
        })
        .collect();
    Ok(PriceHistory { rows, by_sku })
}

fn parse_price(raw: &str) -> Result<UnitPrice, String> {
    let plain = !raw.is_empty()
        && raw.chars().all(|c| c.is_ascii_digit() || c == '.')
        && raw.chars().filter(|&c| c == '.').count() <= 1
        && raw.chars().any(|c| c.is_ascii_digit());
    if !plain {
        return Err(if raw.starts_with('-') {
            format!("unit_price `{raw}` is negative")
        } else {
            format!("unit_price `{raw}` is not a plain decimal number")
        });
    }
    let value: f64 = raw
        .parse()
        .map_err(|_| format!("unit_price `{raw}` is not a plain decimal number"))?;
    UnitPrice::new(value).map_err(|_| {
        if value == 0.0 {
            format!("unit_price `{raw}` must be above 0")
        } else {
            format!("unit_price `{raw}` is more than {}", UnitPrice::MAX)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 1).unwrap_or_default()
    }

    #[test]
    fn reads_prices_per_sku_in_date_order() {
        let csv = "date,sku,unit_price\n2026-01-02,A,2.50\n2026-01-01,A,3\n2026-01-01,B,0.99\n2026-01-01,A,3.0\n";
        let h = parse_price_csv(csv, today()).expect("valid csv");
        assert_eq!(h.rows, 4);
        let a = &h.by_sku[&Sku::parse("A").expect("sku")];
        let got: Vec<(String, f64)> = a
            .iter()
            .map(|p| (p.date.to_string(), p.unit_price.get()))
            .collect();
        assert_eq!(
            got,
            [
                ("2026-01-01".to_owned(), 3.0),
                ("2026-01-02".to_owned(), 2.5)
            ]
        );
        assert_eq!(h.by_sku.len(), 2);
    }

    /// Each rule, with the exact message and the line it names (the shared rules are the
    /// demand reader's, tested there; these are the price column's and one shared one).
    #[test]
    fn each_rule_names_its_line() {
        let head = "date,sku,unit_price\n2026-01-01,a,1\n";
        let cases: [(String, usize, &str); 10] = [
            (
                "date,sku,price\n".into(),
                1,
                "header must contain date,sku,unit_price; `unit_price` is missing",
            ),
            (
                format!("{head}2026-01-02,a,0\n"),
                3,
                "unit_price `0` must be above 0",
            ),
            (
                format!("{head}2026-01-02,a,0.00\n"),
                3,
                "unit_price `0.00` must be above 0",
            ),
            (
                format!("{head}2026-01-02,a,-1.5\n"),
                3,
                "unit_price `-1.5` is negative",
            ),
            (
                format!("{head}2026-01-02,a,NaN\n"),
                3,
                "unit_price `NaN` is not a plain decimal number",
            ),
            (
                format!("{head}2026-01-02,a,inf\n"),
                3,
                "unit_price `inf` is not a plain decimal number",
            ),
            (
                format!("{head}2026-01-02,a,1e3\n"),
                3,
                "unit_price `1e3` is not a plain decimal number",
            ),
            (
                format!("{head}\n2026-01-02,a,1.2.3\n"),
                4,
                "unit_price `1.2.3` is not a plain decimal number",
            ),
            (
                format!("{head}2026-01-01,a,2\n"),
                3,
                "a second price for a on 2026-01-01 (1 on line 2, 2 here)",
            ),
            (
                format!("{head}2026-06-02,a,2\n"),
                3,
                "date 2026-06-02 is in the future",
            ),
        ];
        for (csv, line, message) in cases {
            assert_eq!(
                parse_price_csv(&csv, today()),
                Err(PriceCsvError::BadRow {
                    line,
                    message: message.to_owned()
                }),
                "{csv:?}"
            );
        }
        assert_eq!(parse_price_csv(" \n", today()), Err(PriceCsvError::Empty));
        let err = parse_price_csv(&format!("{head}2026-01-02,a,\n"), today()).unwrap_err();
        assert_eq!(err.to_string(), "line 3: missing column `unit_price`");
    }
}
