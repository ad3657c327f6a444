//! The figures check: which numbers, dates and times an answer states, and whether each one
//! is found in what this turn knows (the question, today and the tool results).
//!
//! Pure: no clock (today is an argument of [`Figures::add_date`]), no IO.
//!
//! A date is matched as a whole date, never as loose numbers. Splitting `2026-12-07` into
//! `2026`, `12` and `07` once made every number equal to today's year, month or day
//! "supported": in December a model could claim 12 of anything. So the scanner reads the date
//! forms the chat prints and people write (`2026-12-07`, `2026-12-07T10:00:00Z`,
//! `2026-12-07 10:00 UTC`, `07/12`, `07/12/2026`, `7 de dezembro`, `December 7`, `7 Dec 2026`)
//! as [`Stated::Date`], clock times (`10:30`) as [`Stated::Time`], and only what is left as
//! plain numbers, which are matched against plain figures only.

use chrono::{Datelike, NaiveDate};
use serde_json::Value;

/// One thing a text states.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Stated {
    /// A plain figure as written (`1,234.5`, `12,5`, `7`).
    Number(String),
    /// A calendar day; `year` is `None` when the text leaves it out (`7 de dezembro`, `07/12`).
    Date {
        year: Option<i32>,
        month: u32,
        day: u32,
        written: String,
    },
    /// A time of day (`10:30`, or the time of an RFC 3339 instant).
    Time {
        hour: u32,
        minute: u32,
        written: String,
    },
}

impl Stated {
    fn written(&self) -> &str {
        match self {
            Stated::Number(w) => w,
            Stated::Date { written, .. } | Stated::Time { written, .. } => written,
        }
    }
}

/// The figures an answer may state.
#[derive(Debug, Default)]
pub(crate) struct Figures {
    numbers: Vec<f64>,
    /// Whole dates known, and dates known without a year (matched by day and month).
    dates: Vec<NaiveDate>,
    days_of_year: Vec<(u32, u32)>,
    times: Vec<(u32, u32)>,
}

impl Figures {
    /// What a text holds (the question, a string in a tool result).
    pub(crate) fn add_text(&mut self, text: &str) {
        for stated in scan(text) {
            match stated {
                // Data is written with `.` decimals (JSON, RFC 3339, skus); read it that way only.
                Stated::Number(token) => {
                    if let Ok(v) = token.replace(',', "").parse::<f64>() {
                        self.numbers.push(v);
                    }
                }
                Stated::Date {
                    year: Some(year),
                    month,
                    day,
                    ..
                } => {
                    if let Some(d) = NaiveDate::from_ymd_opt(year, month, day) {
                        self.dates.push(d);
                    }
                }
                Stated::Date {
                    year: None,
                    month,
                    day,
                    ..
                } => self.days_of_year.push((month, day)),
                Stated::Time { hour, minute, .. } => self.times.push((hour, minute)),
            }
        }
    }

    /// A date known as a whole (today).
    pub(crate) fn add_date(&mut self, date: NaiveDate) {
        self.dates.push(date);
    }

    /// Everything a tool result holds: its numbers as figures, its strings read as text.
    pub(crate) fn add_value(&mut self, value: &Value) {
        match value {
            Value::Number(n) => {
                if let Some(v) = n.as_f64() {
                    self.numbers.push(v.abs());
                }
            }
            Value::String(s) => self.add_text(s),
            Value::Array(items) => items.iter().for_each(|v| self.add_value(v)),
            Value::Object(map) => map.values().for_each(|v| self.add_value(v)),
            Value::Bool(_) | Value::Null => {}
        }
    }

    /// The first thing `text` states that nothing known supports, as written.
    pub(crate) fn unsupported(&self, text: &str) -> Option<String> {
        scan(text)
            .into_iter()
            .find(|stated| !self.supports(stated))
            .map(|stated| stated.written().to_owned())
    }

    fn supports(&self, stated: &Stated) -> bool {
        match stated {
            Stated::Number(token) => self.supports_number(token),
            Stated::Date {
                year, month, day, ..
            } => {
                let same_day = |d: &NaiveDate| d.month() == *month && d.day() == *day;
                match year {
                    Some(y) => {
                        self.dates.iter().any(|d| same_day(d) && d.year() == *y)
                            || self.days_of_year.contains(&(*month, *day))
                    }
                    None => {
                        self.dates.iter().any(same_day)
                            || self.days_of_year.contains(&(*month, *day))
                    }
                }
            }
            Stated::Time { hour, minute, .. } => self.times.contains(&(*hour, *minute)),
        }
    }

    /// A figure may be written with `.` or `,` as the decimal mark (or as thousands'
    /// separators) and rounded to the decimals it shows; a whole number must be exact (a "4"
    /// is not a rounded 3.7).
    fn supports_number(&self, token: &str) -> bool {
        readings(token).iter().any(|&(value, decimals)| {
            let scale = 10f64.powi(decimals);
            self.numbers.iter().any(|&known| {
                if decimals == 0 {
                    known == value
                } else {
                    ((known * scale).round() - (value * scale).round()).abs() < 0.5
                }
            })
        })
    }
}

/// The values a written figure may mean, with the decimals it shows: `12,5` is 12.5 (Portuguese)
/// or 125 (English thousands); `1.000` is 1 or 1000.
fn readings(token: &str) -> Vec<(f64, i32)> {
    let mut out = Vec::new();
    for (thousands, decimal) in [(',', '.'), ('.', ',')] {
        let plain: String = token.chars().filter(|c| *c != thousands).collect();
        let decimals = plain
            .split_once(decimal)
            .map_or(0, |(_, frac)| frac.len() as i32);
        if let Ok(v) = plain.replace(decimal, ".").parse::<f64>() {
            out.push((v, decimals));
        }
    }
    out
}

/// `may`, `mar`, `set`, `out` and `mai` are also ordinary words ("12 out of 20", "we may"), so
/// they read as months only where the form leaves no doubt (see [`month_after_day`]).
const AMBIGUOUS_MONTHS: &[&str] = &["may", "mar", "set", "out", "mai"];

fn month_named(word: &str) -> Option<u32> {
    super::text::month(&deunicode::deunicode(word).to_lowercase())
}

/// The text as characters with a cursor: the scanner's only state.
struct Cursor<'a> {
    chars: &'a [char],
}

impl Cursor<'_> {
    fn at(&self, i: usize) -> Option<char> {
        self.chars.get(i).copied()
    }

    fn digit(&self, i: usize) -> bool {
        self.at(i).is_some_and(|c| c.is_ascii_digit())
    }

    fn letter(&self, i: usize) -> bool {
        self.at(i).is_some_and(char::is_alphabetic)
    }

    /// The run of digits from `i`: (value, end). At most 9 digits are read as a value.
    fn digits(&self, i: usize) -> Option<(u32, usize)> {
        let mut end = i;
        while self.digit(end) {
            end += 1;
        }
        if end == i || end - i > 9 {
            return None;
        }
        let s: String = self.chars[i..end].iter().collect();
        s.parse().ok().map(|v| (v, end))
    }

    /// Exactly `n` digits from `i`, not followed by another digit.
    fn fixed(&self, i: usize, n: usize) -> Option<u32> {
        match self.digits(i) {
            Some((v, end)) if end - i == n => Some(v),
            _ => None,
        }
    }

    /// The word of letters from `i`: (word, end).
    fn word(&self, i: usize) -> Option<(String, usize)> {
        let mut end = i;
        while self.letter(end) {
            end += 1;
        }
        (end > i).then(|| (self.chars[i..end].iter().collect(), end))
    }

    fn spaces(&self, mut i: usize) -> usize {
        while self.at(i).is_some_and(|c| c == ' ') {
            i += 1;
        }
        i
    }

    fn text(&self, from: usize, to: usize) -> String {
        self.chars[from..to].iter().collect()
    }
}

/// Everything `text` states, in order.
pub(crate) fn scan(text: &str) -> Vec<Stated> {
    let chars: Vec<char> = text.chars().collect();
    let cur = Cursor { chars: &chars };
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        // A digit glued to letters before it (`A4`, `MUG350`) is part of a code, read as a
        // number as before; only a digit that starts a token may start a date.
        if cur.digit(i) {
            let starts_token = i == 0 || !(cur.digit(i - 1) || cur.letter(i - 1));
            if starts_token {
                if let Some((stated, end)) = iso_date(&cur, i)
                    .or_else(|| slash_date(&cur, i))
                    .or_else(|| day_then_month(&cur, i))
                {
                    out.extend(stated);
                    i = end;
                    continue;
                }
                if let Some((stated, end)) = clock_time(&cur, i) {
                    out.push(stated);
                    i = end;
                    continue;
                }
            }
            let (token, end) = number(&cur, i);
            out.push(Stated::Number(token));
            i = end;
        } else if cur.letter(i) {
            if i == 0 || !cur.letter(i - 1) {
                if let Some((stated, end)) = month_then_day(&cur, i) {
                    out.push(stated);
                    i = end;
                    continue;
                }
            }
            i += 1;
        } else {
            i += 1;
        }
    }
    out
}

/// Digit runs joined by a single `.` or `,` between digits: `1,234.5`, `12,5`, `2026`.
fn number(cur: &Cursor<'_>, start: usize) -> (String, usize) {
    let mut i = start;
    while cur.digit(i) || (matches!(cur.at(i), Some('.' | ',')) && cur.digit(i + 1)) {
        i += 1;
    }
    (cur.text(start, i), i)
}

fn date(year: Option<i32>, month: u32, day: u32, written: String) -> Option<Stated> {
    // A day that no year has (31/02) is not a date; leap days are checked on 2024.
    NaiveDate::from_ymd_opt(year.unwrap_or(2024), month, day)?;
    Some(Stated::Date {
        year,
        month,
        day,
        written,
    })
}

/// `2026-12-07`, and the time after it when there is one: `T10:00:00Z`, `T10:00:00.123+01:00`,
/// ` 10:00 UTC`.
fn iso_date(cur: &Cursor<'_>, i: usize) -> Option<(Vec<Stated>, usize)> {
    let year = cur.fixed(i, 4)?;
    if cur.at(i + 4) != Some('-') {
        return None;
    }
    let month = cur.fixed(i + 5, 2)?;
    if cur.at(i + 7) != Some('-') {
        return None;
    }
    let day = cur.fixed(i + 8, 2)?;
    let end = i + 10;
    let d = date(Some(year as i32), month, day, cur.text(i, end))?;
    let mut out = vec![d];
    let mut end = end;
    if matches!(cur.at(end), Some('T' | 't' | ' ')) {
        if let Some((time, after)) = clock_time(cur, end + 1) {
            out.push(time);
            end = after;
            // The zone of an instant belongs to it: `Z`, `+01:00`, ` UTC`.
            if matches!(cur.at(end), Some('Z' | 'z')) {
                end += 1;
            } else if matches!(cur.at(end), Some('+' | '-'))
                && cur.fixed(end + 1, 2).is_some()
                && cur.at(end + 3) == Some(':')
                && cur.fixed(end + 4, 2).is_some()
            {
                end += 6;
            }
        }
    }
    Some((out, end))
}

/// `07/12` or `07/12/2026`: day first, as the chat prints it in both languages.
fn slash_date(cur: &Cursor<'_>, i: usize) -> Option<(Vec<Stated>, usize)> {
    let (day, end) = cur.digits(i)?;
    if end - i > 2 || cur.at(end) != Some('/') {
        return None;
    }
    let (month, mut end) = cur.digits(end + 1)?;
    let mut year = None;
    if cur.at(end) == Some('/') {
        let y = cur.fixed(end + 1, 4)?;
        year = Some(y as i32);
        end += 5;
    }
    Some((vec![date(year, month, day, cur.text(i, end))?], end))
}

/// An optional year after a day and month: `, 2026`, ` 2026`, ` de 2026`.
fn year_after(cur: &Cursor<'_>, end: usize) -> (Option<i32>, usize) {
    let mut j = end;
    if cur.at(j) == Some(',') {
        j += 1;
    }
    j = cur.spaces(j);
    if let Some((w, after)) = cur.word(j) {
        if w.eq_ignore_ascii_case("de") {
            j = cur.spaces(after);
        }
    }
    match cur.fixed(j, 4) {
        Some(y) if j > end => (Some(y as i32), j + 4),
        _ => (None, end),
    }
}

/// An ordinal suffix after a day: `7th`, `1st`, `7º`.
fn ordinal(cur: &Cursor<'_>, end: usize) -> usize {
    if let Some((w, after)) = cur.word(end) {
        let w = w.to_lowercase();
        if matches!(w.as_str(), "st" | "nd" | "rd" | "th" | "º" | "o") {
            return after;
        }
    }
    end
}

/// `7 de dezembro`, `7 December`, `7th of December`, `7 Dec 2026`.
fn day_then_month(cur: &Cursor<'_>, i: usize) -> Option<(Vec<Stated>, usize)> {
    let (day, end) = cur.digits(i)?;
    if end - i > 2 {
        return None;
    }
    let after_day = ordinal(cur, end);
    let mut j = cur.spaces(after_day);
    if j == after_day {
        return None;
    }
    let mut joined = false;
    if let Some((w, after)) = cur.word(j) {
        if w.eq_ignore_ascii_case("de") || w.eq_ignore_ascii_case("of") {
            j = cur.spaces(after);
            joined = true;
        }
    }
    let (name, end) = cur.word(j)?;
    let month = month_after_day(&name, joined)?;
    let (year, end) = year_after(cur, end);
    Some((vec![date(year, month, day, cur.text(i, end))?], end))
}

/// A month name after a day: `12 out of 20` is not October, but `12 de outubro` and
/// `12 de out` are.
fn month_after_day(name: &str, joined: bool) -> Option<u32> {
    let lower = deunicode::deunicode(name).to_lowercase();
    if !joined && AMBIGUOUS_MONTHS.contains(&lower.as_str()) {
        return None;
    }
    month_named(name)
}

/// `December 7`, `Dec 7th, 2026`, `May 3` (an ambiguous name only when capitalised).
fn month_then_day(cur: &Cursor<'_>, i: usize) -> Option<(Stated, usize)> {
    let (name, after) = cur.word(i)?;
    let month = month_named(&name)?;
    let lower = name.to_lowercase();
    if AMBIGUOUS_MONTHS.contains(&lower.as_str())
        && !name.chars().next().is_some_and(char::is_uppercase)
    {
        return None;
    }
    let mut j = after;
    if cur.at(j) == Some('.') {
        j += 1;
    }
    let j2 = cur.spaces(j);
    if j2 == j {
        return None;
    }
    let (day, end) = cur.digits(j2)?;
    if end - j2 > 2 {
        return None;
    }
    // `December 2026` names a month, not a day.
    let end = ordinal(cur, end);
    if cur.digit(end) {
        return None;
    }
    let (year, end) = year_after(cur, end);
    Some((date(year, month, day, cur.text(i, end))?, end))
}

/// `10:30` or `10:30:15`: a time of day.
fn clock_time(cur: &Cursor<'_>, i: usize) -> Option<(Stated, usize)> {
    let (hour, end) = cur.digits(i)?;
    if end - i > 2 || cur.at(end) != Some(':') {
        return None;
    }
    let minute = cur.fixed(end + 1, 2)?;
    let mut end = end + 3;
    if cur.at(end) == Some(':') && cur.fixed(end + 1, 2).is_some() {
        end += 3;
        // Fractions of a second.
        if cur.at(end) == Some('.') && cur.digit(end + 1) {
            end += 1;
            while cur.digit(end) {
                end += 1;
            }
        }
    }
    if hour > 23 || minute > 59 {
        return None;
    }
    let written = cur.text(i, end);
    let mut out_end = end;
    // ` UTC` as the chat prints it.
    let j = cur.spaces(end);
    if let Some((w, after)) = cur.word(j) {
        if w == "UTC" {
            out_end = after;
        }
    }
    Some((
        Stated::Time {
            hour,
            minute,
            written,
        },
        out_end,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn known(values: Value) -> Figures {
        let mut f = Figures::default();
        f.add_value(&values);
        f
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 7).expect("a date")
    }

    /// What the chat's LLM path knows before any tool call: the question and today.
    fn before_any_tool(question: &str) -> Figures {
        let mut f = Figures::default();
        f.add_text(question);
        f.add_date(today());
        f
    }

    #[test]
    fn todays_day_or_month_is_not_a_quantity() {
        let f = before_any_tool("how many mugs do we have?");
        assert_eq!(f.unsupported("We have 12 mugs."), Some("12".into()));
        assert_eq!(f.unsupported("We have 7 mugs."), Some("7".into()));
        assert_eq!(f.unsupported("We have 2026 mugs."), Some("2026".into()));
        assert_eq!(f.unsupported("Temos 07 canecas."), Some("07".into()));
    }

    #[test]
    fn today_as_a_whole_date_is_supported_in_every_printed_form() {
        let f = before_any_tool("how many mugs do we have?");
        for said in [
            "As of 2026-12-07 I cannot tell.",
            "Hoje, 07/12, não sei.",
            "Hoje, 07/12/2026, não sei.",
            "Hoje, 7 de dezembro, não sei.",
            "Hoje, 7 de dezembro de 2026, não sei.",
            "Today, December 7, I cannot tell.",
            "Today, December 7th, 2026, I cannot tell.",
            "Today, 7 Dec 2026, I cannot tell.",
            "Today, the 7th of December, I cannot tell.",
        ] {
            assert_eq!(f.unsupported(said), None, "{said}");
        }
        for said in [
            "As of 2026-12-08.",
            "As of 2025-12-07.",
            "Hoje, 08/12.",
            "Hoje, 12/07.",
            "December 12.",
            "8 de dezembro.",
        ] {
            assert!(f.unsupported(said).is_some(), "{said} is not today");
        }
    }

    #[test]
    fn a_tool_results_date_and_time_are_supported_whole() {
        let f = known(
            json!({ "on_hand": 40, "last_movement": "2026-11-29T10:30:00Z",
            "runs_out_on": "2026-12-15" }),
        );
        assert_eq!(
            f.unsupported("40 units, last moved 2026-11-29 10:30 UTC."),
            None
        );
        assert_eq!(f.unsupported("Acaba em 15/12 (15 de dezembro)."), None);
        assert_eq!(f.unsupported("Runs out on December 15, 2026."), None);
        assert_eq!(f.unsupported("Last moved at 10:30."), None);
        assert_eq!(f.unsupported("Last moved at 10:31."), Some("10:31".into()));
        // The parts of a date are no figures.
        assert_eq!(f.unsupported("We have 29 units."), Some("29".into()));
        assert_eq!(f.unsupported("We have 15 units."), Some("15".into()));
        assert_eq!(f.unsupported("We have 11 units."), Some("11".into()));
        assert_eq!(f.unsupported("We have 30 units."), Some("30".into()));
    }

    #[test]
    fn the_questions_dates_are_supported() {
        let f = before_any_tool("what did we sell since 3 de dezembro?");
        assert_eq!(f.unsupported("Desde 2026-12-03: nada."), None);
        assert_eq!(f.unsupported("Desde 03/12: nada."), None);
        assert_eq!(f.unsupported("Vendemos 3."), Some("3".into()));
    }

    #[test]
    fn figures_are_found_in_the_data_or_refused() {
        let f = known(json!({ "on_hand": 12, "available": 4, "daily": 3.4567,
            "at": "2026-11-29T10:00:00Z", "name": "Mug 350ml" }));
        assert_eq!(f.unsupported("You have 12 units, 4 available."), None);
        assert_eq!(f.unsupported("About 3.46 a day (3,5 por dia)."), None);
        assert_eq!(f.unsupported("As of 2026-11-29, Mug 350ml."), None);
        assert_eq!(f.unsupported("No figures at all."), None);
        assert_eq!(f.unsupported("You have 13 units."), Some("13".into()));
        assert_eq!(
            f.unsupported("About 3 a day."),
            Some("3".into()),
            "a whole number is not a rounding"
        );
        assert_eq!(f.unsupported("4.0 units"), None);
    }

    #[test]
    fn thousands_and_decimal_marks_read_both_ways() {
        let f = known(json!({ "on_hand": 1500, "rate": 12.5 }));
        assert_eq!(f.unsupported("1,500 units; 12,5 por dia"), None);
        assert_eq!(f.unsupported("1.500 unidades"), None);
        assert_eq!(f.unsupported("1,501"), Some("1,501".into()));
    }

    #[test]
    fn words_that_look_like_months_stay_words() {
        let f = known(json!({ "on_hand": 12, "of": 20 }));
        assert_eq!(f.unsupported("12 out of 20 are left."), None);
        assert_eq!(f.unsupported("12 may run out soon."), None);
        assert_eq!(
            f.unsupported("12 de out."),
            Some("12 de out".into()),
            "with `de` it is October"
        );
    }

    #[test]
    fn the_scanner_reads_each_form() {
        let d = |y: Option<i32>, m, d, w: &str| Stated::Date {
            year: y,
            month: m,
            day: d,
            written: w.into(),
        };
        assert_eq!(
            scan("at 10:30, 2026-11-29."),
            [
                Stated::Time {
                    hour: 10,
                    minute: 30,
                    written: "10:30".into()
                },
                d(Some(2026), 11, 29, "2026-11-29")
            ]
        );
        assert_eq!(
            scan("31/02"),
            [Stated::Number("31".into()), Stated::Number("02".into())]
        );
        assert_eq!(scan("MUG-350"), [Stated::Number("350".into())]);
        assert_eq!(scan("3 de março"), [d(None, 3, 3, "3 de março")]);
        assert_eq!(scan("December 2026"), [Stated::Number("2026".into())]);
        assert_eq!(
            scan("2026-12-07T10:00:00.5+01:00 then"),
            [
                d(Some(2026), 12, 7, "2026-12-07"),
                Stated::Time {
                    hour: 10,
                    minute: 0,
                    written: "10:00:00.5".into()
                }
            ]
        );
        assert_eq!(
            scan("99:99"),
            [Stated::Number("99".into()), Stated::Number("99".into())]
        );
    }
}
