//! The one reader of `date,sku,quantity` demand files: the import (`POST
//! /v1/imports/demand-history`, `restock import demand-history`) and `restock backtest` both
//! read their file with [`parse_demand_csv`], so they accept and refuse the same files.
//!
//! Rules: those of every `date,sku,<value>` file ([`crate::dated_csv`]), with `quantity` as
//! the value:
//! - `quantity` is a whole number from 0 to [`Quantity::MAX`] (no decimals, no minus sign);
//! - rows for the same sku and day are added together (a file may list several stores or
//!   channels separately), and the day's total stays within [`Quantity::MAX`].
//!
//! The whole file is read before anything is used, so a bad row keeps nothing of it.

use crate::dated_csv::{read_rows, RowError};
use chrono::NaiveDate;
use restock_domain::{DailyDemand, Quantity, Sku};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DemandCsvError {
    #[error("line {line}: {message}")]
    BadRow { line: usize, message: String },
    #[error("the file is empty; expected a header `date,sku,quantity`")]
    Empty,
}

/// Demand per sku per day, ready to record: each sku's days in date order, one entry a day.
#[derive(Debug, Default, PartialEq)]
pub struct DemandHistory {
    /// Data rows read (before rows for the same sku and day are added together).
    pub rows: usize,
    pub by_sku: BTreeMap<Sku, Vec<DailyDemand>>,
}

/// Reads a `date,sku,quantity` file; `today` is the last day a row may have.
pub fn parse_demand_csv(text: &str, today: NaiveDate) -> Result<DemandHistory, DemandCsvError> {
    let mut sums: BTreeMap<Sku, BTreeMap<NaiveDate, u64>> = BTreeMap::new();
    let mut rows = 0;
    read_rows(text, "quantity", today, |row| {
        let quantity = parse_quantity(row.value)?;
        let day = sums
            .entry(row.sku)
            .or_default()
            .entry(row.date)
            .or_default();
        // Both are at most `Quantity::MAX`, so the sum cannot overflow.
        *day += quantity;
        if *day > u64::from(Quantity::MAX) {
            return Err("the day's total exceeds the quantity bound".to_owned());
        }
        rows += 1;
        Ok(())
    })
    .map_err(|e| match e {
        RowError::Empty => DemandCsvError::Empty,
        RowError::BadRow { line, message } => DemandCsvError::BadRow { line, message },
    })?;
    let by_sku = sums
        .into_iter()
        .map(|(sku, days)| {
            let days = days
                .into_iter()
                .filter_map(|(date, q)| {
                    let quantity = Quantity::new(i64::try_from(q).ok()?).ok()?;
                    Some(DailyDemand { date, quantity })
                })
                .collect();
            (sku, days)
        })
        .collect();
    Ok(DemandHistory { rows, by_sku })
}

fn parse_quantity(raw: &str) -> Result<u64, String> {
    if let Ok(q) = raw.parse::<u64>() {
        return if q <= u64::from(Quantity::MAX) {
            Ok(q)
        } else {
            Err(format!("quantity {q} is more than {}", Quantity::MAX))
        };
    }
    // Not a plain non-negative integer: say which rule it breaks.
    Err(match raw.parse::<f64>() {
        Ok(v) if v < 0.0 => format!("quantity `{raw}` is negative"),
        Ok(_) => format!("quantity `{raw}` is not an integer"),
        Err(_) => format!("quantity `{raw}` is not a number"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::{run_backtest, BacktestError, BacktestOptions};
    use std::fmt::Write as _;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 1).unwrap_or_default()
    }

    fn bad_line(text: &str) -> (usize, String) {
        match parse_demand_csv(text, today()) {
            Err(DemandCsvError::BadRow { line, message }) => (line, message),
            other => panic!("expected a bad row, got {other:?}"),
        }
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
                Err(DemandCsvError::BadRow { line: l, message }) => {
                    assert_eq!(l, line, "{csv:?}");
                    assert!(message.contains(needle), "{message:?} lacks {needle:?}");
                }
                other => panic!("{csv:?} gave {other:?}"),
            }
        }
        assert_eq!(parse_demand_csv("\n", today()), Err(DemandCsvError::Empty));
    }

    #[test]
    fn csv_errors_name_the_line_and_the_problem() {
        let head = "date,sku,quantity\n2024-01-01,a,1\n";
        let (line, msg) = bad_line(&format!("{head}2024-01-02,a\n"));
        assert_eq!(line, 3);
        assert!(msg.contains("missing column `quantity`"), "{msg}");
        let (line, msg) = bad_line(&format!("{head}\n2024-13-01,a,1\n"));
        assert_eq!(line, 4, "blank lines still count");
        assert!(msg.contains("bad date `2024-13-01`"), "{msg}");
        assert!(bad_line(&format!("{head}+2024-01-02,a,1\n"))
            .1
            .contains("bad date"));
        assert!(bad_line(&format!("{head}2024-1-2,a,1\n"))
            .1
            .contains("bad date"));
        assert!(bad_line(&format!("{head}2024-01-02,a,-3\n"))
            .1
            .contains("negative"));
        assert!(bad_line(&format!("{head}2024-01-02,a,2.5\n"))
            .1
            .contains("not an integer"));
        assert!(bad_line(&format!("{head}2024-01-02,a,x\n"))
            .1
            .contains("not a number"));
        assert!(bad_line(&format!("{head}2024-01-02,,4\n"))
            .1
            .contains("missing column `sku`"));
        assert!(bad_line(&format!("{head}2024-01-02,a,4,9\n"))
            .1
            .contains("expected 3 columns"));
        assert_eq!(
            parse_demand_csv("date,item,quantity\n", today()),
            Err(DemandCsvError::BadRow {
                line: 1,
                message: "header must contain date,sku,quantity; `sku` is missing".to_owned()
            })
        );
        assert_eq!(
            parse_demand_csv("\n \n", today()),
            Err(DemandCsvError::Empty)
        );
        let err = parse_demand_csv(&format!("{head}2024-01-02,a,-3\n"), today()).unwrap_err();
        assert_eq!(err.to_string(), "line 3: quantity `-3` is negative");
    }

    /// Each rule, with the exact message and the line it names.
    #[test]
    fn each_rule_names_its_line() {
        let max = Quantity::MAX;
        let cases: [(String, usize, String); 20] = [
            // The header: on its own line, exact names.
            (
                "\n\ndate,item,quantity\n".into(),
                3,
                "header must contain date,sku,quantity; `sku` is missing".into(),
            ),
            (
                "Date,sku,quantity\n".into(),
                1,
                "header must contain date,sku,quantity; `date` is missing".into(),
            ),
            (
                "date,sku\n".into(),
                1,
                "header must contain date,sku,quantity; `quantity` is missing".into(),
            ),
            // As many fields as the header.
            (
                "date,sku,quantity,store\n2024-01-01,a,1\n".into(),
                2,
                "expected 4 columns, found 3".into(),
            ),
            (
                "date,sku,quantity\n2024-01-01\n".into(),
                2,
                "missing column `sku` (expected 3 columns, found 1)".into(),
            ),
            (
                "date,sku,quantity\n2024-01-01,a,1,\n".into(),
                2,
                "expected 3 columns, found 4".into(),
            ),
            // No empty field.
            (
                "date,sku,quantity\n,a,1\n".into(),
                2,
                "missing column `date`".into(),
            ),
            (
                "date,sku,quantity\n2024-01-01,a, \n".into(),
                2,
                "missing column `quantity`".into(),
            ),
            // Dates: YYYY-MM-DD exactly, not after today.
            (
                "date,sku,quantity\n2024-01-01,a,1\n2024-01-1,a,1\n".into(),
                3,
                "bad date `2024-01-1` (expected YYYY-MM-DD)".into(),
            ),
            (
                "date,sku,quantity\n02024-01-01,a,1\n".into(),
                2,
                "bad date `02024-01-01` (expected YYYY-MM-DD)".into(),
            ),
            (
                "date,sku,quantity\n2024/01/01,a,1\n".into(),
                2,
                "bad date `2024/01/01` (expected YYYY-MM-DD)".into(),
            ),
            (
                "date,sku,quantity\n2026-06-02,a,1\n".into(),
                2,
                "date 2026-06-02 is in the future".into(),
            ),
            // Skus.
            (
                "date,sku,quantity\n2024-01-01,a/b,1\n".into(),
                2,
                "sku: must match [A-Za-z0-9._-]{1,64}".into(),
            ),
            (
                format!("date,sku,quantity\n2024-01-01,{},1\n", "a".repeat(65)),
                2,
                "sku: must match [A-Za-z0-9._-]{1,64}".into(),
            ),
            // Quantities: whole, not negative, within the bound, also summed per day.
            (
                "date,sku,quantity\n2024-01-01,a,-0\n".into(),
                2,
                "quantity `-0` is not an integer".into(),
            ),
            (
                "date,sku,quantity\n2024-01-01,a,-2\n".into(),
                2,
                "quantity `-2` is negative".into(),
            ),
            (
                "date,sku,quantity\n2024-01-01,a,1e3\n".into(),
                2,
                "quantity `1e3` is not an integer".into(),
            ),
            (
                "date,sku,quantity\n2024-01-01,a,\"1\"\n".into(),
                2,
                "quantity `\"1\"` is not a number".into(),
            ),
            (
                format!("date,sku,quantity\n2024-01-01,a,{}\n", max + 1),
                2,
                format!("quantity {} is more than {max}", max + 1),
            ),
            (
                format!("date,sku,quantity\n2024-01-01,a,{max}\n2024-01-02,a,1\n2024-01-01,a,1\n"),
                4,
                "the day's total exceeds the quantity bound".into(),
            ),
        ];
        for (csv, line, message) in cases {
            assert_eq!(
                parse_demand_csv(&csv, today()),
                Err(DemandCsvError::BadRow { line, message }),
                "{csv:?}"
            );
        }
    }

    #[test]
    fn accepts_a_bom_spaces_any_column_order_extra_columns_and_crlf() {
        let text = "\u{feff} quantity , store,sku,date\r\n\r\n 2 ,north, a ,2024-01-02\r\n+3,south,a,2024-01-02\r\n0,north,b,2026-06-01\r\n";
        let h = parse_demand_csv(text, today()).expect("valid csv");
        assert_eq!(h.rows, 3);
        let day = |sku: &str| {
            let days = &h.by_sku[&Sku::parse(sku).expect("sku")];
            days.iter()
                .map(|d| (d.date.to_string(), d.quantity.get()))
                .collect::<Vec<_>>()
        };
        assert_eq!(day("a"), [("2024-01-02".to_owned(), 5)]);
        assert_eq!(
            day("b"),
            [("2026-06-01".to_owned(), 0)],
            "today is not the future"
        );
    }

    /// A file with `days` days of demand for sku `a`, each row written by `row(date, i)`.
    fn file(header: &str, days: u64, row: impl Fn(NaiveDate, u64) -> String) -> String {
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default();
        let mut text = format!("{header}\n");
        for i in 0..days {
            let _ = writeln!(text, "{}", row(start + chrono::Days::new(i), i));
        }
        text
    }

    /// Files one of the two former readers took and the other refused (the backtest's took
    /// any header case, short rows, `2024-1-2`-style dates under the import's rules, future
    /// dates, any sku text and day totals over the bound; the import's took `-0` and a byte
    /// order mark before any column): both now refuse each one, with the same error.
    #[test]
    fn the_backtest_and_the_import_refuse_the_same_files() {
        let long = |header: &str, bad: &'static str| {
            file(header, 120, move |d, i| {
                if i == 100 {
                    bad.to_owned()
                } else {
                    format!("{d},a,{}", i % 5)
                }
            })
        };
        let files = [
            file("DATE,SKU,QUANTITY", 120, |d, i| format!("{d},a,{}", i % 5)),
            file("date,sku,quantity,store", 120, |d, i| {
                format!("{d},a,{}", i % 5)
            }),
            long("date,sku,quantity", "2030-01-01,a,1"),
            long("date,sku,quantity", "2024-01-01,a b,1"),
            long("date,sku,quantity", "2024-01-01,a,-0"),
            long("date,sku,quantity", "2024-1-1,a,1"),
            long("date,sku,quantity", "2024-01-05,a,1000000000"),
            "date,\u{feff}sku,quantity\n2024-01-01,a,1\n".to_owned(),
        ];
        for text in files {
            let import = crate::demand_import::parse_demand_csv(&text, today())
                .expect_err("the import refuses it");
            assert!(import.to_string().starts_with("line "), "{import}");
            assert_eq!(
                run_backtest(&text, today(), BacktestOptions::default()),
                Err(BacktestError::Csv(import)),
                "{text:?}"
            );
        }
    }

    #[test]
    fn the_backtest_and_the_import_accept_the_same_files() {
        let files = [
            file("date,sku,quantity", 120, |d, i| format!("{d},a,{}", i % 5)),
            file("\u{feff}quantity,store,date,sku", 120, |d, i| {
                format!(" {} ,s1, {d} ,a\r\n{},s2,{d},a\n", i % 5, i % 3)
            }),
        ];
        for text in files {
            let history = crate::demand_import::parse_demand_csv(&text, today())
                .expect("the import accepts it");
            assert_eq!(history.by_sku.len(), 1);
            let report = run_backtest(&text, today(), BacktestOptions::default())
                .expect("the backtest accepts it");
            assert_eq!(report.series, 1);
        }
    }
}
