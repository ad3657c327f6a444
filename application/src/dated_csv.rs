//! What the `date,sku,<value>` files have in common (demand history, supplier prices): the
//! header, the columns, the date and the sku of each row, and the line an error names. Each
//! file's reader ([`crate::demand_csv`], [`crate::price_csv`]) parses only its value column, so
//! the two accept and refuse their files by the same rules.
//!
//! Rules; an error names the line of the file (1-based, blank lines counted):
//! - blank lines are skipped; the first other line is the header, and a file without one is
//!   empty;
//! - the header names the columns `date`, `sku` and the value column, exactly so, in any order
//!   and among others if need be; spaces around names and a UTF-8 byte order mark are ignored;
//! - every row has as many fields as the header; fields are split at each comma (no quoting)
//!   and trimmed; none of the three may be empty;
//! - `date` is `YYYY-MM-DD`, ten characters exactly, and not after `today`;
//! - `sku` is a valid sku (`[A-Za-z0-9._-]{1,64}`).

use chrono::NaiveDate;
use restock_domain::Sku;

/// Why a file was refused, before the reader names its own error type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RowError {
    Empty,
    BadRow { line: usize, message: String },
}

/// One data row: its line, date, sku and the raw value field (trimmed, not empty).
pub(crate) struct Row<'a> {
    pub line: usize,
    pub date: NaiveDate,
    pub sku: Sku,
    pub value: &'a str,
}

/// Reads the header, then calls `each` for every data row in file order. `each` may refuse a
/// row with a message; the error then names that row's line.
pub(crate) fn read_rows(
    text: &str,
    value_column: &'static str,
    today: NaiveDate,
    mut each: impl FnMut(Row<'_>) -> Result<(), String>,
) -> Result<(), RowError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty());
    let (header_line, header) = lines.next().ok_or(RowError::Empty)?;
    let columns = Columns::parse(header, value_column).map_err(|message| RowError::BadRow {
        line: header_line,
        message,
    })?;
    for (line, text) in lines {
        let bad = |message: String| RowError::BadRow { line, message };
        let (date, sku, value) = columns.parse_row(text, today).map_err(bad)?;
        each(Row {
            line,
            date,
            sku,
            value,
        })
        .map_err(bad)?;
    }
    Ok(())
}

/// Where the header put the three columns, and how many fields a row has.
struct Columns {
    count: usize,
    date: usize,
    sku: usize,
    value: usize,
    value_name: &'static str,
}

impl Columns {
    fn parse(header: &str, value_name: &'static str) -> Result<Self, String> {
        let names: Vec<&str> = header
            .trim_start_matches('\u{feff}')
            .split(',')
            .map(str::trim)
            .collect();
        let find = |column: &str| {
            names.iter().position(|n| *n == column).ok_or_else(|| {
                format!("header must contain date,sku,{value_name}; `{column}` is missing")
            })
        };
        Ok(Self {
            count: names.len(),
            date: find("date")?,
            sku: find("sku")?,
            value: find(value_name)?,
            value_name,
        })
    }

    /// One data row, or what is wrong with it.
    fn parse_row<'a>(
        &self,
        text: &'a str,
        today: NaiveDate,
    ) -> Result<(NaiveDate, Sku, &'a str), String> {
        let fields: Vec<&str> = text.split(',').map(str::trim).collect();
        if fields.len() != self.count {
            let count = format!("expected {} columns, found {}", self.count, fields.len());
            let cut_off = [
                ("date", self.date),
                ("sku", self.sku),
                (self.value_name, self.value),
            ]
            .into_iter()
            .find(|&(_, at)| at >= fields.len());
            return Err(match cut_off {
                Some((name, _)) => format!("missing column `{name}` ({count})"),
                None => count,
            });
        }
        let field = |index: usize, name: &str| {
            Some(fields[index])
                .filter(|f| !f.is_empty())
                .ok_or_else(|| format!("missing column `{name}`"))
        };
        let raw_date = field(self.date, "date")?;
        // Exactly ten characters: chrono would also take a sign or a longer year, and dates near
        // the end of its calendar would overflow when the backtest adds days.
        let date = Some(raw_date)
            .filter(|d| d.len() == 10)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .ok_or_else(|| format!("bad date `{raw_date}` (expected YYYY-MM-DD)"))?;
        if date > today {
            return Err(format!("date {date} is in the future"));
        }
        let sku = Sku::parse(field(self.sku, "sku")?).map_err(|e| e.to_string())?;
        let value = field(self.value, self.value_name)?;
        Ok((date, sku, value))
    }
}
