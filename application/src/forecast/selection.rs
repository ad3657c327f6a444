//! Choosing a model per series by its error on the most recent days (the holdout).
//!
//! 1. Classify the series: intermittent when the average demand interval (ADI: days per day
//!    with demand) exceeds 1.32, the Syntetos-Boylan cut-off.
//! 2. Fit every candidate on the days before the holdout and forecast the holdout days:
//!    regular series try MSTL+ETS, ETS and the seasonal naive baseline, scored by MAE;
//!    intermittent series try Croston, SBA and TSB, scored by MSE, because MAE rewards
//!    forecasting zero on a mostly-zero series (the median) while stock needs the mean.
//!    The seasonal naive baseline is always computed; on intermittent series it is reported
//!    but not eligible, for the same reason.
//! 3. Censored holdout days are not scored: their true demand is unknown.
//!
//! Two choices keep the cost at about two ETS fits per product (the fits are nearly all of it;
//! 10,000 products must recompute in 30 s on 2 cores), each measured on the store-item sample,
//! 82 series x 6 origins 60 days apart, 28-day holdouts:
//! - Plain ETS is not tried when the weekly pattern is strong ([`STRONG_SEASONALITY`]): a
//!   non-seasonal model cannot follow it. On the 327 of 493 holdouts with strength >= 0.5 it
//!   beat MSTL+ETS 19 times, and its mean MAE was 11.50 against 8.48. Below, it is tried.
//! - The optimised candidates are scored after fitting on the last [`SCORING_WINDOW_DAYS`]
//!   before the holdout, not the 182 days the final fit uses: about half the cost. MSTL+ETS's
//!   mean holdout MAE moves from 7.20 to 7.38 (seasonal naive: 8.72) and the choice between
//!   the two flips on 66 of 493 holdouts, all close calls. The chosen model is then refitted
//!   on the full window. Net effect of both on `restock backtest` over the sample: MASE 0.841
//!   -> 0.838, fill rate 0.9981 either way, average on hand 210.6 -> 210.1 units.

use super::models::{self, ModelKind, TrainingData, SEASON};
use super::series::DemandSeries;
use serde::Serialize;

/// Shortest history that goes through selection; below it the mean of what exists is used.
pub const MIN_MODEL_DAYS: usize = 14;
/// Syntetos-Boylan ADI cut-off between regular and intermittent demand.
pub const INTERMITTENT_ADI: f64 = 1.32;
const MAX_HOLDOUT_DAYS: usize = 28;
const MIN_HOLDOUT_DAYS: usize = 7;

/// Weekly seasonal strength ([`models::weekly_strength`]) from which plain ETS is not tried.
pub const STRONG_SEASONALITY: f64 = 0.5;
/// Days before the holdout the optimised candidates are fitted on to be scored (14 weeks).
pub const SCORING_WINDOW_DAYS: usize = 98;

const REGULAR_CANDIDATES: [ModelKind; 5] = [
    ModelKind::YearlyGlm,
    ModelKind::MstlEts,
    ModelKind::Ets,
    ModelKind::WeekdayYearly,
    ModelKind::SeasonalNaive,
];
const INTERMITTENT_CANDIDATES: [ModelKind; 3] =
    [ModelKind::Croston, ModelKind::Sba, ModelKind::Tsb];

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DemandProfile {
    /// Known days per day with demand; infinite when nothing ever sold.
    pub adi: f64,
    /// Share of known days with zero demand.
    pub zero_share: f64,
    pub intermittent: bool,
    /// Weekly seasonal strength of a regular series; `None` for intermittent ones.
    pub seasonal_strength: Option<f64>,
}

impl DemandProfile {
    /// Whether `model` is tried on this series.
    fn tries(&self, model: ModelKind) -> bool {
        match model {
            ModelKind::Ets => self
                .seasonal_strength
                .is_none_or(|s| s < STRONG_SEASONALITY),
            _ => true,
        }
    }
}

/// Holdout error of one candidate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CandidateScore {
    pub model: ModelKind,
    pub mae: f64,
    pub mse: f64,
    /// Signed errors (actual - forecast) on the scored holdout days.
    #[serde(skip)]
    pub errors: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    pub model: ModelKind,
    pub profile: DemandProfile,
    pub holdout_days: usize,
    /// Every eligible candidate that produced a forecast, in preference order.
    pub scores: Vec<CandidateScore>,
    /// The seasonal naive baseline, if it could be computed.
    pub baseline: Option<CandidateScore>,
    /// Holdout MAE of the chosen model over the in-sample seasonal naive MAE (lag 7).
    pub mase: Option<f64>,
}

impl Selection {
    /// The chosen model's holdout score.
    pub fn chosen(&self) -> Option<&CandidateScore> {
        self.scores.iter().find(|s| s.model == self.model)
    }
}

pub fn classify(observations: &[Option<f64>]) -> DemandProfile {
    let known: Vec<f64> = observations.iter().flatten().copied().collect();
    let demand_days = known.iter().filter(|&&y| y > 0.0).count();
    let adi = if demand_days == 0 {
        f64::INFINITY
    } else {
        known.len() as f64 / demand_days as f64
    };
    let zero_share = if known.is_empty() {
        0.0
    } else {
        1.0 - demand_days as f64 / known.len() as f64
    };
    DemandProfile {
        adi,
        zero_share,
        intermittent: adi > INTERMITTENT_ADI,
        seasonal_strength: None,
    }
}

/// [`classify`], plus the weekly seasonal strength of a regular series.
pub fn profile(train: TrainingData<'_>) -> DemandProfile {
    let profile = classify(train.observations);
    DemandProfile {
        seasonal_strength: if profile.intermittent {
            None
        } else {
            models::weekly_strength(train.imputed)
        },
        ..profile
    }
}

/// The last 28 days, or a quarter of a short series (at least 7).
pub fn holdout_days(len: usize) -> usize {
    (len / 4).clamp(MIN_HOLDOUT_DAYS, MAX_HOLDOUT_DAYS)
}

/// Picks the model with the lowest holdout error. `None` when the series is too short or no
/// candidate could be scored (every holdout day censored, every model failed): the caller
/// then falls back to the mean.
pub fn select(series: &DemandSeries, level: f64) -> Option<Selection> {
    if series.len() < MIN_MODEL_DAYS {
        return None;
    }
    let imputed = series.imputed();
    let observations = series.observations();
    let holdout = holdout_days(series.len());
    let split = series.len() - holdout;
    let train = TrainingData {
        imputed: &imputed[..split],
        observations: &observations[..split],
    };
    let actual = &observations[split..];
    let profile = profile(train);

    let forecast = |model| holdout_forecast(model, train, actual.len(), level);
    let score =
        |model, p: &Option<Vec<f64>>| p.as_ref().and_then(|p| score_forecast(model, p, actual));
    let naive = forecast(ModelKind::SeasonalNaive);
    let baseline = score(ModelKind::SeasonalNaive, &naive);
    let scores: Vec<CandidateScore> = if profile.intermittent {
        INTERMITTENT_CANDIDATES
            .iter()
            .filter_map(|&m| score(m, &forecast(m)))
            .collect()
    } else {
        let mut scores = Vec::new();
        let mut mstl = None;
        let mut yearly = None;
        for &m in REGULAR_CANDIDATES.iter().filter(|&&m| profile.tries(m)) {
            // The baseline is a candidate too: its forecast is reused, not made twice.
            let p = if m == ModelKind::SeasonalNaive {
                naive.clone()
            } else {
                forecast(m)
            };
            scores.extend(score(m, &p));
            match m {
                ModelKind::MstlEts => mstl = p,
                ModelKind::WeekdayYearly => yearly = p,
                _ => {}
            }
        }
        if let (Some(a), Some(b)) = (mstl, yearly) {
            let mean: Vec<f64> = a.iter().zip(&b).map(|(x, y)| 0.5 * (x + y)).collect();
            scores.extend(score(ModelKind::MstlEtsWeekdayYearly, &Some(mean)));
        }
        scores
    };
    let criterion = |s: &CandidateScore| if profile.intermittent { s.mse } else { s.mae };
    // `min_by` keeps the first of equal scores, so ties go to the earlier (preferred) model.
    let best = scores
        .iter()
        .min_by(|a, b| criterion(a).total_cmp(&criterion(b)))?;
    let mase = seasonal_scale(train.imputed).map(|scale| best.mae / scale);
    Some(Selection {
        model: best.model,
        profile,
        holdout_days: holdout,
        baseline,
        mase,
        scores: scores.clone(),
    })
}

/// Fits on `train` (its last [`SCORING_WINDOW_DAYS`] for an optimised model, all of it for the
/// weekday profile, which needs the year) and forecasts the `days` of the holdout. `None` if
/// the model failed.
fn holdout_forecast(
    model: ModelKind,
    train: TrainingData<'_>,
    days: usize,
    level: f64,
) -> Option<Vec<f64>> {
    let train = if model.is_fitted() {
        train.tail(SCORING_WINDOW_DAYS)
    } else {
        train
    };
    models::predict(model, train, days, level)
        .ok()
        .map(|p| p.mean)
}

/// Scores a holdout forecast on the known days. `None` if nothing could be scored.
fn score_forecast(
    model: ModelKind,
    forecast: &[f64],
    actual: &[Option<f64>],
) -> Option<CandidateScore> {
    let errors: Vec<f64> = actual
        .iter()
        .zip(forecast)
        .filter_map(|(a, f)| a.map(|a| a - f))
        .collect();
    if errors.is_empty() {
        return None;
    }
    let n = errors.len() as f64;
    Some(CandidateScore {
        model,
        mae: errors.iter().map(|e| e.abs()).sum::<f64>() / n,
        mse: errors.iter().map(|e| e * e).sum::<f64>() / n,
        errors,
    })
}

/// Mean absolute one-step error of the seasonal naive forecast in sample: the MASE scale.
fn seasonal_scale(values: &[f64]) -> Option<f64> {
    let diffs: Vec<f64> = values
        .windows(SEASON + 1)
        .map(|w| (w[SEASON] - w[0]).abs())
        .collect();
    let scale = diffs.iter().sum::<f64>() / diffs.len().max(1) as f64;
    (scale > 0.0).then_some(scale)
}

#[cfg(test)]
mod tests {
    use super::super::test_data::{from_values, intermittent_series, weekly_series, Lcg};
    use super::*;

    #[test]
    fn classification_uses_adi() {
        let regular: Vec<Option<f64>> = (0..20).map(|i| Some((i % 3 + 1) as f64)).collect();
        assert!(!classify(&regular).intermittent);
        let sparse: Vec<Option<f64>> = (0..20)
            .map(|i| Some(if i % 2 == 0 { 1.0 } else { 0.0 }))
            .collect();
        let p = classify(&sparse);
        assert!(p.intermittent && (p.adi - 2.0).abs() < 1e-9 && (p.zero_share - 0.5).abs() < 1e-9);
        assert!(classify(&[Some(0.0), None]).adi.is_infinite());
    }

    #[test]
    fn holdout_is_28_days_or_a_quarter() {
        assert_eq!(holdout_days(365), 28);
        assert_eq!(holdout_days(60), 15);
        assert_eq!(holdout_days(14), 7);
    }

    /// Plain ETS scored on the same split `select` used, though `select` skipped it.
    fn ets_holdout_mae(series: &DemandSeries) -> f64 {
        let (imputed, observations) = (series.imputed(), series.observations());
        let split = series.len() - holdout_days(series.len());
        let train = TrainingData {
            imputed: &imputed[..split],
            observations: &observations[..split],
        };
        let actual = &observations[split..];
        let forecast = holdout_forecast(ModelKind::Ets, train, actual.len(), 0.95).unwrap();
        score_forecast(ModelKind::Ets, &forecast, actual)
            .unwrap()
            .mae
    }

    #[test]
    fn weekly_series_picks_mstl_which_beats_plain_ets() {
        // Several seeds: on one 28-day holdout the seasonal naive can win by luck (seed 42
        // does), but a real weekly pattern should go to MSTL nearly always.
        for seed in 0..6 {
            let series = weekly_series(365, seed);
            let selection = select(&series, 0.95).unwrap();
            assert!(!selection.profile.intermittent);
            assert_eq!(
                selection.model,
                ModelKind::MstlEts,
                "seed {seed}: {:?}",
                selection.scores
            );
            // The week is found strong, so plain ETS is not even tried...
            let strength = selection.profile.seasonal_strength.unwrap();
            assert!(strength >= STRONG_SEASONALITY, "seed {seed}: {strength}");
            assert!(selection.scores.iter().all(|s| s.model != ModelKind::Ets));
            // ...and rightly: on the same holdout it does worse.
            let mstl = selection.chosen().unwrap().mae;
            assert!(mstl < ets_holdout_mae(&series), "seed {seed}");
            assert!(selection.baseline.is_some());
            assert!(
                selection.mase.is_some_and(|m| m < 1.0),
                "{:?}",
                selection.mase
            );
        }
    }

    #[test]
    fn without_a_weekly_pattern_plain_ets_is_a_candidate() {
        // A slow upward drift with noise and no weekday effect.
        let mut rng = Lcg::new(3);
        let values: Vec<f64> = (0..365)
            .map(|i| (30.0 + i as f64 * 0.05 + 3.0 * rng.normal()).round())
            .collect();
        let series = from_values(values);
        let selection = select(&series, 0.95).unwrap();
        let strength = selection.profile.seasonal_strength.unwrap();
        assert!(strength < STRONG_SEASONALITY, "{strength}");
        assert!(
            selection.scores.iter().any(|s| s.model == ModelKind::Ets),
            "{:?}",
            selection.scores
        );
    }

    #[test]
    fn intermittent_series_picks_a_croston_model() {
        let series = intermittent_series(365, 7);
        let selection = select(&series, 0.95).unwrap();
        assert!(selection.profile.intermittent);
        assert!(
            matches!(
                selection.model,
                ModelKind::Croston | ModelKind::Sba | ModelKind::Tsb
            ),
            "{:?}",
            selection.model
        );
        assert!(
            selection.baseline.is_some(),
            "the baseline is still computed"
        );
    }
}
