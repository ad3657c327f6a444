//! A daily demand series: one value per calendar day, from the first to the last known day.
//!
//! Days without a recorded sale inside the range are zero: no sale event means nothing was sold.
//!
//! **Censored days.** On a day the product was out of stock, what was sold is only a lower bound
//! on what customers wanted. Feeding those days to a model as ordinary values teaches it that
//! demand drops whenever stock runs out, which lowers the next minimum and makes the next
//! stockout more likely (a downward spiral). So censoring is kept explicitly, as a mask next to
//! the sold quantities, and models see it in one of two ways:
//! - [`DemandSeries::observations`]: `None` on censored days, for models that can simply skip
//!   unknown days (Croston, SBA, TSB) and for scoring a holdout (an unknown day is not scored);
//! - [`DemandSeries::imputed`]: censored days replaced by a linear interpolation between the
//!   nearest uncensored neighbours (at the edges: the mean of the nearest uncensored week),
//!   never below what was actually sold, for models that need a gap-free series (seasonal naive,
//!   ETS, MSTL).

use chrono::{Days, NaiveDate};
use restock_domain::DailyDemand;
use std::collections::BTreeMap;

/// Longest series accepted, in days (about 100 years): a typo in a year must not allocate
/// millions of days.
pub const MAX_SERIES_DAYS: usize = 36_600;

/// How many uncensored days around an edge gap are averaged to fill it.
const EDGE_FILL_DAYS: usize = 7;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SeriesError {
    #[error("quantity on {date} must be a finite number >= 0, got {value}")]
    BadQuantity { date: NaiveDate, value: f64 },
    #[error("the series would span more than {max} days", max = MAX_SERIES_DAYS)]
    TooLong,
    #[error("the sold and censored columns differ in length ({sold} vs {censored})")]
    LengthMismatch { sold: usize, censored: usize },
}

/// Daily units sold, with a mask of censored (stockout) days. See the module documentation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DemandSeries {
    /// Date of index 0; meaningless when the series is empty.
    start: NaiveDate,
    sold: Vec<f64>,
    censored: Vec<bool>,
}

impl DemandSeries {
    /// Builds a series from (date, quantity) points in any order. Several points on the same day
    /// are added together (several sales on one day); missing days in between are zero.
    pub fn from_points(
        points: impl IntoIterator<Item = (NaiveDate, f64)>,
    ) -> Result<Self, SeriesError> {
        let mut by_day: BTreeMap<NaiveDate, f64> = BTreeMap::new();
        for (date, value) in points {
            if !value.is_finite() || value < 0.0 {
                return Err(SeriesError::BadQuantity { date, value });
            }
            *by_day.entry(date).or_insert(0.0) += value;
        }
        let (Some((&first, _)), Some((&last, _))) =
            (by_day.first_key_value(), by_day.last_key_value())
        else {
            return Ok(Self::default());
        };
        let len = span_days(first, last)?;
        let mut sold = vec![0.0; len];
        for (date, value) in by_day {
            sold[offset(first, date)] = value;
        }
        Ok(Self {
            start: first,
            censored: vec![false; len],
            sold,
        })
    }

    /// Builds a series from the domain's imported demand history.
    pub fn from_daily_demand(days: &[DailyDemand]) -> Result<Self, SeriesError> {
        Self::from_points(days.iter().map(|d| (d.date, d.quantity.get() as f64)))
    }

    /// Builds a series from consecutive days starting at `start`.
    pub fn from_days(
        start: NaiveDate,
        sold: Vec<f64>,
        censored: Vec<bool>,
    ) -> Result<Self, SeriesError> {
        if sold.len() != censored.len() {
            return Err(SeriesError::LengthMismatch {
                sold: sold.len(),
                censored: censored.len(),
            });
        }
        if sold.len() > MAX_SERIES_DAYS {
            return Err(SeriesError::TooLong);
        }
        for (i, &value) in sold.iter().enumerate() {
            if !value.is_finite() || value < 0.0 {
                let date = start + Days::new(i as u64);
                return Err(SeriesError::BadQuantity { date, value });
            }
        }
        Ok(Self {
            start,
            sold,
            censored,
        })
    }

    /// Marks days as censored (out of stock). Days outside the range extend it, with zero sold:
    /// a product that has been out of stock since its last sale still has those days.
    pub fn with_censored(
        mut self,
        dates: impl IntoIterator<Item = NaiveDate>,
    ) -> Result<Self, SeriesError> {
        for date in dates {
            self = self.covering(date)?;
            let i = offset(self.start, date);
            self.censored[i] = true;
        }
        Ok(self)
    }

    /// Extends the range with zero-sold days through `last` (inclusive); no-op if already covered.
    pub fn extended_through(self, last: NaiveDate) -> Result<Self, SeriesError> {
        if self.is_empty() || last <= self.start {
            return Ok(self);
        }
        self.covering(last)
    }

    /// Keeps only the days before `date`.
    pub fn before(mut self, date: NaiveDate) -> Self {
        let keep = if date <= self.start {
            0
        } else {
            offset(self.start, date).min(self.sold.len())
        };
        self.sold.truncate(keep);
        self.censored.truncate(keep);
        self
    }

    /// The last `days` days (or all of them).
    pub fn tail(&self, days: usize) -> Self {
        let skip = self.len().saturating_sub(days);
        Self {
            start: self.start + Days::new(skip as u64),
            sold: self.sold[skip..].to_vec(),
            censored: self.censored[skip..].to_vec(),
        }
    }

    pub fn len(&self) -> usize {
        self.sold.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sold.is_empty()
    }

    pub fn first_date(&self) -> Option<NaiveDate> {
        (!self.is_empty()).then_some(self.start)
    }

    pub fn last_date(&self) -> Option<NaiveDate> {
        self.len()
            .checked_sub(1)
            .map(|last| self.start + Days::new(last as u64))
    }

    /// Units sold per day (a lower bound on demand where censored).
    pub fn sold(&self) -> &[f64] {
        &self.sold
    }

    pub fn censored(&self) -> &[bool] {
        &self.censored
    }

    /// Each day with its units sold and whether it was censored, for display.
    pub fn days(&self) -> impl Iterator<Item = (NaiveDate, f64, bool)> + '_ {
        (0..self.len()).map(|i| {
            (
                self.start + Days::new(i as u64),
                self.sold[i],
                self.censored[i],
            )
        })
    }

    /// Demand where known, `None` on censored days.
    pub fn observations(&self) -> Vec<Option<f64>> {
        self.sold
            .iter()
            .zip(&self.censored)
            .map(|(&v, &c)| (!c).then_some(v))
            .collect()
    }

    /// A gap-free estimate of demand: censored days interpolated, never below what was sold.
    /// If every day is censored, the sold quantities are all there is.
    pub fn imputed(&self) -> Vec<f64> {
        let known = self.observations();
        if known.iter().all(Option::is_none) {
            return self.sold.clone();
        }
        let mut filled = interpolate_gaps(&known);
        for (value, &sold) in filled.iter_mut().zip(&self.sold) {
            *value = value.max(sold);
        }
        filled
    }

    /// Grows the range (zero sold, not censored) so that it contains `date`.
    fn covering(mut self, date: NaiveDate) -> Result<Self, SeriesError> {
        if self.is_empty() {
            return Ok(Self {
                start: date,
                sold: vec![0.0],
                censored: vec![false],
            });
        }
        if date < self.start {
            let extra = span_days(date, self.start)? - 1;
            if self.len() + extra > MAX_SERIES_DAYS {
                return Err(SeriesError::TooLong);
            }
            self.sold.splice(0..0, std::iter::repeat_n(0.0, extra));
            self.censored
                .splice(0..0, std::iter::repeat_n(false, extra));
            self.start = date;
        } else {
            let len = span_days(self.start, date)?.max(self.len());
            self.sold.resize(len, 0.0);
            self.censored.resize(len, false);
        }
        Ok(self)
    }
}

/// Number of days from `first` to `last`, both included, within [`MAX_SERIES_DAYS`].
fn span_days(first: NaiveDate, last: NaiveDate) -> Result<usize, SeriesError> {
    let days = (last - first).num_days() + 1;
    usize::try_from(days)
        .ok()
        .filter(|&d| d <= MAX_SERIES_DAYS)
        .ok_or(SeriesError::TooLong)
}

/// Index of `date` in a series starting at `start` (callers ensure `date >= start`).
fn offset(start: NaiveDate, date: NaiveDate) -> usize {
    usize::try_from((date - start).num_days()).unwrap_or(0)
}

/// Fills `None`s: linearly between known neighbours; at either edge with the mean of the
/// nearest known days. Needs at least one known value.
fn interpolate_gaps(known: &[Option<f64>]) -> Vec<f64> {
    let present: Vec<(usize, f64)> = known
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i, v)))
        .collect();
    let mut out: Vec<f64> = known.iter().map(|v| v.unwrap_or(f64::NAN)).collect();
    for pair in present.windows(2) {
        let ((i0, v0), (i1, v1)) = (pair[0], pair[1]);
        for (i, slot) in out.iter_mut().enumerate().take(i1).skip(i0 + 1) {
            let t = (i - i0) as f64 / (i1 - i0) as f64;
            *slot = v0 + t * (v1 - v0);
        }
    }
    let edge_mean = |values: &[(usize, f64)]| {
        values.iter().map(|&(_, v)| v).sum::<f64>() / values.len().max(1) as f64
    };
    if let Some(&(first, _)) = present.first() {
        let head = edge_mean(&present[..present.len().min(EDGE_FILL_DAYS)]);
        out[..first].fill(head);
    }
    if let Some(&(last, _)) = present.last() {
        let tail = edge_mean(&present[present.len().saturating_sub(EDGE_FILL_DAYS)..]);
        out[last + 1..].fill(tail);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn zero_fills_missing_days_and_sums_same_day() {
        let s = DemandSeries::from_points([
            (d("2024-01-03"), 2.0),
            (d("2024-01-01"), 1.0),
            (d("2024-01-03"), 3.0),
        ])
        .unwrap();
        assert_eq!(s.sold(), &[1.0, 0.0, 5.0]);
        assert_eq!(s.first_date(), Some(d("2024-01-01")));
        assert_eq!(s.last_date(), Some(d("2024-01-03")));
    }

    #[test]
    fn rejects_negative_and_absurd_spans() {
        assert!(matches!(
            DemandSeries::from_points([(d("2024-01-01"), -1.0)]),
            Err(SeriesError::BadQuantity { .. })
        ));
        assert_eq!(
            DemandSeries::from_points([(d("1024-01-01"), 1.0), (d("2024-01-01"), 1.0)]),
            Err(SeriesError::TooLong)
        );
    }

    #[test]
    fn censored_days_extend_the_range_and_are_unknown() {
        let s = DemandSeries::from_points([(d("2024-01-02"), 4.0)])
            .unwrap()
            .with_censored([d("2024-01-04"), d("2024-01-01")])
            .unwrap();
        assert_eq!(s.first_date(), Some(d("2024-01-01")));
        assert_eq!(s.observations(), vec![None, Some(4.0), Some(0.0), None]);
    }

    #[test]
    fn imputation_interpolates_and_keeps_the_lower_bound() {
        let start = d("2024-01-01");
        let s = DemandSeries::from_days(
            start,
            vec![2.0, 1.0, 9.0, 6.0, 1.0],
            vec![false, true, true, false, true],
        )
        .unwrap();
        // Day 1: interpolated 3.33 > sold 1; day 2: sold 9 is more than the line says;
        // day 4: trailing edge, mean of the known days (2 and 6).
        let got = s.imputed();
        assert!((got[1] - 10.0 / 3.0).abs() < 1e-9, "{got:?}");
        assert_eq!(got[2], 9.0);
        assert_eq!(got[4], 4.0);
    }

    #[test]
    fn before_and_extended_through_cut_and_pad() {
        let s =
            DemandSeries::from_points([(d("2024-01-01"), 1.0), (d("2024-01-05"), 1.0)]).unwrap();
        let cut = s.clone().before(d("2024-01-03"));
        assert_eq!(cut.sold(), &[1.0, 0.0]);
        let padded = cut.extended_through(d("2024-01-04")).unwrap();
        assert_eq!(padded.sold(), &[1.0, 0.0, 0.0, 0.0]);
        assert!(s.before(d("2023-12-01")).is_empty());
    }
}
