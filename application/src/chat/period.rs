//! Periods of whole days named in a question, in English and Portuguese: today, yesterday,
//! this/last week (Monday to Sunday), this/last month (calendar), the last N days/weeks/months
//! (rolling, ending today), since a date, on a weekday (the latest one), the next N days, and
//! dates as `2026-12-03`, `03/12`, `03/12/2026`, `3 de dezembro`, `December 3`.
//!
//! Pure: today is an argument. Words are folded ([`super::text::fold`]).

use super::text::month;
use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// Both days inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl DateRange {
    pub fn day(d: NaiveDate) -> Self {
        Self { from: d, to: d }
    }

    /// The part of the range up to `today` (sales cannot be counted ahead); `None` when all of
    /// it is still to come.
    pub fn until(self, today: NaiveDate) -> Option<Self> {
        (self.from <= today).then(|| Self {
            from: self.from,
            to: self.to.min(today),
        })
    }

    pub fn days(self) -> i64 {
        (self.to - self.from).num_days() + 1
    }
}

const WEEKDAYS: &[(&[&str], Weekday)] = &[
    (&["monday", "segunda", "segunda-feira"], Weekday::Mon),
    (&["tuesday", "terca", "terca-feira"], Weekday::Tue),
    (&["wednesday", "quarta", "quarta-feira"], Weekday::Wed),
    (&["thursday", "quinta", "quinta-feira"], Weekday::Thu),
    (&["friday", "sexta", "sexta-feira"], Weekday::Fri),
    (&["saturday", "sabado"], Weekday::Sat),
    (&["sunday", "domingo"], Weekday::Sun),
];

fn weekday(word: &str) -> Option<Weekday> {
    WEEKDAYS
        .iter()
        .find(|(names, _)| names.contains(&word))
        .map(|&(_, d)| d)
}

/// The latest `day` before today ("on monday", "na segunda"): a week back when today is one.
fn latest(day: Weekday, today: NaiveDate) -> NaiveDate {
    let back = (7 + today.weekday().num_days_from_monday() - day.num_days_from_monday()) % 7;
    let back = if back == 0 { 7 } else { back };
    today - Duration::days(i64::from(back))
}

fn monday_of(d: NaiveDate) -> NaiveDate {
    d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn last_of_month(d: NaiveDate) -> NaiveDate {
    let first = first_of_month(d);
    let next = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
    };
    next.map_or(d, |n| n - Duration::days(1))
}

fn number_word(w: &str) -> Option<i64> {
    if let Ok(n) = w.parse::<i64>() {
        return Some(n);
    }
    let n = match w {
        "one" | "um" | "uma" => 1,
        "two" | "dois" | "duas" => 2,
        "three" | "tres" => 3,
        "four" | "quatro" => 4,
        "five" | "cinco" => 5,
        "six" | "seis" => 6,
        "seven" | "sete" => 7,
        "ten" | "dez" => 10,
        "fourteen" | "catorze" | "quatorze" => 14,
        "fifteen" | "quinze" => 15,
        "thirty" | "trinta" => 30,
        _ => return None,
    };
    Some(n)
}

enum Unit {
    Day,
    Week,
    Month,
}

fn unit(w: &str) -> Option<Unit> {
    match w {
        "day" | "days" | "dia" | "dias" => Some(Unit::Day),
        "week" | "weeks" | "semana" | "semanas" => Some(Unit::Week),
        "month" | "months" | "mes" | "meses" => Some(Unit::Month),
        _ => None,
    }
}

/// A date written in one word (`2026-12-03`, `03/12`, `03/12/2026`) or over a few
/// (`3 de dezembro [de 2026]`, `december 3[, 2026]`, `3 dec`), and how many words it took.
/// A date without a year is the latest such day not after today.
fn date_at(words: &[String], i: usize, today: NaiveDate) -> Option<(NaiveDate, usize)> {
    let w = words.get(i)?.as_str();
    if let Ok(d) = NaiveDate::parse_from_str(w, "%Y-%m-%d") {
        return Some((d, 1));
    }
    if let Ok(d) = NaiveDate::parse_from_str(w, "%d/%m/%Y") {
        return Some((d, 1));
    }
    let parts: Vec<&str> = w.split('/').collect();
    if let [dd, mm] = parts[..] {
        if let (Ok(dd), Ok(mm)) = (dd.parse::<u32>(), mm.parse::<u32>()) {
            return without_year(dd, mm, today).map(|d| (d, 1));
        }
    }
    let year_at = |j: usize| {
        let j = if words.get(j).map(String::as_str) == Some("de") {
            j + 1
        } else {
            j
        };
        words
            .get(j)
            .and_then(|y| y.parse::<i32>().ok())
            .filter(|y| (1900..=2999).contains(y))
            .map(|y| (y, j + 1))
    };
    let day_number = |s: &str| {
        let s = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        s.parse::<u32>().ok().filter(|d| (1..=31).contains(d))
    };
    // `3 de dezembro`, `3 december`, `3rd of december`.
    if let Some(dd) = day_number(w).filter(|_| w.chars().next().is_some_and(|c| c.is_ascii_digit()))
    {
        let mut j = i + 1;
        if matches!(words.get(j).map(String::as_str), Some("de" | "of")) {
            j += 1;
        }
        if let Some(mm) = words.get(j).and_then(|m| month(m)) {
            return Some(match year_at(j + 1) {
                Some((y, end)) => (NaiveDate::from_ymd_opt(y, mm, dd)?, end - i),
                None => (without_year(dd, mm, today)?, j + 1 - i),
            });
        }
    }
    // `december 3`, `dec 3rd, 2026`.
    if let Some(mm) = month(w) {
        if let Some(dd) = words.get(i + 1).and_then(|d| day_number(d)) {
            return Some(match year_at(i + 2) {
                Some((y, end)) => (NaiveDate::from_ymd_opt(y, mm, dd)?, end - i),
                None => (without_year(dd, mm, today)?, 2),
            });
        }
    }
    None
}

fn without_year(dd: u32, mm: u32, today: NaiveDate) -> Option<NaiveDate> {
    let this_year = NaiveDate::from_ymd_opt(today.year(), mm, dd);
    match this_year {
        Some(d) if d <= today => Some(d),
        _ => NaiveDate::from_ymd_opt(today.year() - 1, mm, dd),
    }
}

/// The period the words name, if any.
pub fn parse(words: &[String], today: NaiveDate) -> Option<DateRange> {
    let has = |w: &str| words.iter().any(|x| x == w);
    let at = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    let since_word = |w: &str| matches!(w, "since" | "desde" | "after");

    // Since a date or a weekday: from then to today.
    for (i, w) in words.iter().enumerate() {
        if since_word(w) {
            if let Some((d, _)) = date_at(words, i + 1, today) {
                return Some(DateRange { from: d, to: today });
            }
            let next = if matches!(at(i + 1), "a" | "o" | "last" | "ultima" | "ultimo") {
                at(i + 2)
            } else {
                at(i + 1)
            };
            if let Some(day) = weekday(next) {
                return Some(DateRange {
                    from: latest(day, today),
                    to: today,
                });
            }
        }
    }
    // "between 1 and 5 december", "de 1 a 5 de dezembro": the first day takes the second's month.
    for i in 0..words.len() {
        let Some(first) = words[i]
            .parse::<u32>()
            .ok()
            .filter(|d| (1..=31).contains(d))
        else {
            continue;
        };
        if !matches!(at(i + 1), "and" | "to" | "a" | "e" | "until" | "ate" | "-") {
            continue;
        }
        if let Some((end, _)) = date_at(words, i + 2, today) {
            if let Some(start) = end.with_day(first).filter(|s| *s <= end) {
                return Some(DateRange {
                    from: start,
                    to: end,
                });
            }
        }
    }
    // An explicit date.
    for i in 0..words.len() {
        if let Some((d, _)) = date_at(words, i, today) {
            // `from 1 to 5 december`: the second date closes the range.
            if let Some(j) =
                (i + 1..words.len()).find(|&j| matches!(at(j), "to" | "a" | "ate" | "until"))
            {
                if let Some((end, _)) = date_at(words, j + 1, today) {
                    if end >= d {
                        return Some(DateRange { from: d, to: end });
                    }
                }
            }
            return Some(DateRange::day(d));
        }
    }
    // The last / next N days, weeks, months ("ultimos 30 dias", "past 2 weeks", "next 7 days").
    for (i, w) in words.iter().enumerate() {
        let Some(u) = unit(w) else { continue };
        let n = i.checked_sub(1).and_then(|j| number_word(at(j)));
        let before = |k: usize| i.checked_sub(k).map(at).unwrap_or("");
        let ahead = matches!(before(2), "next" | "proximos" | "proximas" | "coming")
            || matches!(before(1), "next" | "proxima" | "proximo");
        let back = matches!(
            before(2),
            "last" | "past" | "ultimos" | "ultimas" | "previous"
        );
        let Some(n) = n.filter(|n| (1..=731).contains(n)) else {
            continue;
        };
        let days = match u {
            Unit::Day => n,
            Unit::Week => 7 * n,
            Unit::Month => 30 * n,
        };
        // "3 days ago", "2 dias atrás", "há 2 dias": one day.
        if matches!(at(i + 1), "ago" | "atras") || before(2) == "ha" {
            return Some(DateRange::day(today - Duration::days(days)));
        }
        if ahead {
            return Some(DateRange {
                from: today,
                to: today + Duration::days(days - 1),
            });
        }
        if back || matches!(before(2), "in" | "nos" | "nas" | "over" | "for") || n > 1 {
            return Some(DateRange {
                from: today - Duration::days(days - 1),
                to: today,
            });
        }
    }
    if has("yesterday") || has("ontem") {
        return Some(DateRange::day(today - Duration::days(1)));
    }
    if has("today") || has("hoje") {
        return Some(DateRange::day(today));
    }
    if has("tomorrow") || has("amanha") {
        return Some(DateRange::day(today + Duration::days(1)));
    }
    let last = [
        "last", "past", "previous", "passada", "passado", "anterior", "ultimo", "ultima",
    ]
    .iter()
    .any(|w| has(w));
    let next = ["next", "proxima", "proximo", "vem", "coming"]
        .iter()
        .any(|w| has(w));
    if has("week") || has("semana") {
        let monday = monday_of(today);
        return Some(if last {
            DateRange {
                from: monday - Duration::days(7),
                to: monday - Duration::days(1),
            }
        } else if next {
            DateRange {
                from: monday + Duration::days(7),
                to: monday + Duration::days(13),
            }
        } else {
            DateRange {
                from: monday,
                to: monday + Duration::days(6),
            }
        });
    }
    if has("month") || has("mes") {
        let first = first_of_month(today);
        return Some(if last {
            let prev = first - Duration::days(1);
            DateRange {
                from: first_of_month(prev),
                to: prev,
            }
        } else if next {
            let next_first = last_of_month(today) + Duration::days(1);
            DateRange {
                from: next_first,
                to: last_of_month(next_first),
            }
        } else {
            DateRange {
                from: first,
                to: last_of_month(today),
            }
        });
    }
    if has("year") || has("ano") {
        let jan1 = NaiveDate::from_ymd_opt(today.year(), 1, 1)?;
        return Some(if last {
            DateRange {
                from: NaiveDate::from_ymd_opt(today.year() - 1, 1, 1)?,
                to: jan1 - Duration::days(1),
            }
        } else {
            DateRange {
                from: jan1,
                to: NaiveDate::from_ymd_opt(today.year(), 12, 31)?,
            }
        });
    }
    for w in words {
        if let Some(day) = weekday(w) {
            return Some(DateRange::day(latest(day, today)));
        }
    }
    // A month by name alone ("in November", "em novembro"): the latest one not after today,
    // whole. Ambiguous short names (`mar`, `set`, `out`, `may`, `mai`) only in full.
    for w in words {
        if w.len() < 4 || matches!(w.as_str(), "sept") {
            continue;
        }
        if let Some(m) = month(w) {
            let year = if m <= today.month() {
                today.year()
            } else {
                today.year() - 1
            };
            let first = NaiveDate::from_ymd_opt(year, m, 1)?;
            return Some(DateRange {
                from: first,
                to: last_of_month(first),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::text::{fold, words};

    fn range(q: &str) -> Option<(String, String)> {
        // Monday 2026-12-07.
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).expect("a date");
        parse(&words(&fold(q)), today).map(|r| (r.from.to_string(), r.to.to_string()))
    }

    fn r(from: &str, to: &str) -> Option<(String, String)> {
        Some((from.into(), to.into()))
    }

    #[test]
    fn days_weeks_and_months_by_name() {
        assert_eq!(range("sales today"), r("2026-12-07", "2026-12-07"));
        assert_eq!(
            range("quanto vendemos ontem?"),
            r("2026-12-06", "2026-12-06")
        );
        assert_eq!(range("this week"), r("2026-12-07", "2026-12-13"));
        assert_eq!(range("last week"), r("2026-11-30", "2026-12-06"));
        assert_eq!(range("na semana passada"), r("2026-11-30", "2026-12-06"));
        assert_eq!(range("esta semana"), r("2026-12-07", "2026-12-13"));
        assert_eq!(range("last month"), r("2026-11-01", "2026-11-30"));
        assert_eq!(range("no mês passado"), r("2026-11-01", "2026-11-30"));
        assert_eq!(range("no último mês"), r("2026-11-01", "2026-11-30"));
        assert_eq!(range("this month"), r("2026-12-01", "2026-12-31"));
        assert_eq!(range("neste mes"), r("2026-12-01", "2026-12-31"));
        assert_eq!(range("next week"), r("2026-12-14", "2026-12-20"));
    }

    #[test]
    fn rolling_periods_end_today_or_start_today() {
        assert_eq!(range("in the last 7 days"), r("2026-12-01", "2026-12-07"));
        assert_eq!(range("nos últimos 30 dias"), r("2026-11-08", "2026-12-07"));
        assert_eq!(range("past 2 weeks"), r("2026-11-24", "2026-12-07"));
        assert_eq!(range("last three months"), r("2026-09-09", "2026-12-07"));
        assert_eq!(range("nos proximos 10 dias"), r("2026-12-07", "2026-12-16"));
        assert_eq!(range("next 7 days"), r("2026-12-07", "2026-12-13"));
        assert_eq!(range("3 days ago"), r("2026-12-04", "2026-12-04"));
        assert_eq!(range("há 2 dias"), None.or(range("2 dias atras")));
        assert_eq!(range("2 dias atras"), r("2026-12-05", "2026-12-05"));
    }

    #[test]
    fn dates_in_every_written_form() {
        assert_eq!(range("on 2026-12-03"), r("2026-12-03", "2026-12-03"));
        assert_eq!(range("em 03/12"), r("2026-12-03", "2026-12-03"));
        assert_eq!(range("em 03/12/2025"), r("2025-12-03", "2025-12-03"));
        assert_eq!(range("no dia 3 de dezembro"), r("2026-12-03", "2026-12-03"));
        assert_eq!(range("on December 3"), r("2026-12-03", "2026-12-03"));
        assert_eq!(range("on dec 3rd, 2025"), r("2025-12-03", "2025-12-03"));
        assert_eq!(
            range("on 25 de dezembro"),
            r("2025-12-25", "2025-12-25"),
            "a day ahead this year is last year's"
        );
        assert_eq!(range("since 1 de novembro"), r("2026-11-01", "2026-12-07"));
        assert_eq!(range("desde 2026-11-20"), r("2026-11-20", "2026-12-07"));
        assert_eq!(range("since monday"), r("2026-11-30", "2026-12-07"));
        assert_eq!(range("on friday"), r("2026-12-04", "2026-12-04"));
        assert_eq!(range("na sexta"), r("2026-12-04", "2026-12-04"));
        assert_eq!(
            range("from 2026-12-01 to 2026-12-05"),
            r("2026-12-01", "2026-12-05")
        );
        assert_eq!(
            range("between 1 and 5 december"),
            r("2026-12-01", "2026-12-05")
        );
        assert_eq!(range("de 2 a 6 de novembro"), r("2026-11-02", "2026-11-06"));
        assert_eq!(range("sold in november"), r("2026-11-01", "2026-11-30"));
        assert_eq!(range("em outubro"), r("2026-10-01", "2026-10-31"));
        assert_eq!(range("in march"), r("2026-03-01", "2026-03-31"));
        assert_eq!(range("em dezembro"), r("2026-12-01", "2026-12-31"));
        assert_eq!(range("31/02"), None);
        assert_eq!(range("how much milk do we have"), None);
    }
}
