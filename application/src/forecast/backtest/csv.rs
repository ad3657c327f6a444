//! Reading the `date,sku,quantity` file into one series per sku.

use super::history::{densify, SkuSeries};
use super::BacktestError;
use chrono::NaiveDate;
use restock_domain::Quantity;
use std::collections::BTreeMap;

struct Columns {
    count: usize,
    date: usize,
    sku: usize,
    quantity: usize,
}

pub(super) fn parse_csv(text: &str) -> Result<Vec<SkuSeries>, BacktestError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty());
    let (header_line, header) = lines.next().ok_or(BacktestError::Empty)?;
    let columns = parse_header(header_line, header)?;
    let mut sums: BTreeMap<String, BTreeMap<NaiveDate, u64>> = BTreeMap::new();
    for (line, text) in lines {
        let (date, sku, quantity) =
            parse_row(&columns, text).map_err(|message| BacktestError::BadRow { line, message })?;
        let day = sums
            .entry(sku.to_owned())
            .or_default()
            .entry(date)
            .or_default();
        *day = day.saturating_add(quantity);
    }
    sums.into_iter()
        .map(|(sku, days)| densify(sku, days))
        .collect()
}

fn parse_header(line: usize, header: &str) -> Result<Columns, BacktestError> {
    let names: Vec<String> = header
        .trim_start_matches('\u{feff}')
        .split(',')
        .map(|c| c.trim().to_ascii_lowercase())
        .collect();
    let find = |column: &'static str| {
        names
            .iter()
            .position(|n| *n == column)
            .ok_or(BacktestError::MissingColumn { line, column })
    };
    Ok(Columns {
        count: names.len(),
        date: find("date")?,
        sku: find("sku")?,
        quantity: find("quantity")?,
    })
}

/// One data row, or what is wrong with it.
fn parse_row<'a>(columns: &Columns, text: &'a str) -> Result<(NaiveDate, &'a str, u64), String> {
    let fields: Vec<&str> = text.split(',').map(str::trim).collect();
    if fields.len() > columns.count {
        return Err(format!(
            "expected {} columns, found {}",
            columns.count,
            fields.len()
        ));
    }
    let field = |index: usize, name: &str| {
        fields
            .get(index)
            .copied()
            .filter(|f| !f.is_empty())
            .ok_or_else(|| format!("missing column `{name}`"))
    };
    let raw_date = field(columns.date, "date")?;
    // Exactly ten characters: chrono would also take a sign or a longer year, and dates near
    // the end of its calendar would overflow when the simulation adds days.
    let date = Some(raw_date)
        .filter(|d| d.len() == 10)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .ok_or_else(|| format!("bad date `{raw_date}` (expected YYYY-MM-DD)"))?;
    let sku = field(columns.sku, "sku")?;
    let quantity = parse_quantity(field(columns.quantity, "quantity")?)?;
    Ok((date, sku, quantity))
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
