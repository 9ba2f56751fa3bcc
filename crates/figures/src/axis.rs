//! The λ_NE axis: logarithmic, with λ = 0 set apart at its left end.

use crate::layout::format_number;
use plotters::coord::ranged1d::{
    KeyPointHint, KeyPointWeight, NoDefaultFormatting, ValueFormatter,
};
use plotters::prelude::Ranged;
use std::ops::Range;

/// Decades between λ = 0 and the smallest positive λ, wider than one step of the usual 1-3-10
/// grid (log10 3 ≈ 0.48) so the break reads as a break.
const ZERO_GAP_DECADES: f64 = 0.6;
/// Room left at each end so end markers and their bands are not cut.
const END_PADDING_DECADES: f64 = 0.2;

/// A `plotters` axis over λ_NE ≥ 0: positive λ at log10 λ, λ = 0 one gap left of the smallest
/// positive λ, and one tick (formatted as given, "0", "10", "30", …) at every λ in the data.
pub(crate) struct LambdaAxis {
    ticks: Vec<f64>,
    zero_position: f64,
    positions: Range<f64>,
}

impl LambdaAxis {
    /// The axis through these λs (all finite and ≥ 0, in any order, repeats allowed).
    pub(crate) fn new(lambdas: impl IntoIterator<Item = f64>) -> Self {
        let mut ticks: Vec<f64> = lambdas.into_iter().collect();
        ticks.sort_by(f64::total_cmp);
        ticks.dedup();
        let first_positive = ticks.iter().copied().find(|&lambda| lambda > 0.0);
        let zero_position = first_positive.map_or(0.0, f64::log10) - ZERO_GAP_DECADES;
        let mut axis = LambdaAxis {
            ticks,
            zero_position,
            positions: 0.0..0.0,
        };
        let (low, high) = match (axis.ticks.first(), axis.ticks.last()) {
            (Some(&low), Some(&high)) => (axis.position(low), axis.position(high)),
            _ => (zero_position, zero_position),
        };
        axis.positions = low - END_PADDING_DECADES..high + END_PADDING_DECADES;
        axis
    }

    /// Where `lambda` sits, in decades.
    fn position(&self, lambda: f64) -> f64 {
        if lambda > 0.0 {
            lambda.log10()
        } else {
            self.zero_position
        }
    }

    /// A λ halfway between 0 and the smallest positive λ, where the axis is broken; `None`
    /// when the data has no λ = 0 or no positive λ.
    pub(crate) fn break_lambda(&self) -> Option<f64> {
        let first_positive = self.ticks.iter().copied().find(|&lambda| lambda > 0.0)?;
        (self.ticks.first() == Some(&0.0))
            .then(|| first_positive * 10f64.powf(-ZERO_GAP_DECADES / 2.0))
    }
}

impl Ranged for LambdaAxis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, lambda: &f64, limit: (i32, i32)) -> i32 {
        let fraction = (self.position(*lambda) - self.positions.start)
            / (self.positions.end - self.positions.start);
        (f64::from(limit.0) + fraction * f64::from(limit.1 - limit.0)).round() as i32
    }

    /// The data's λs as the (bold) grid; no light grid lines between them.
    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        match hint.weight() {
            KeyPointWeight::Bold => self.ticks.clone(),
            KeyPointWeight::Any => Vec::new(),
        }
    }

    fn range(&self) -> Range<f64> {
        0.0..self.ticks.last().copied().unwrap_or(0.0)
    }
}

impl ValueFormatter<f64> for LambdaAxis {
    fn format(lambda: &f64) -> String {
        format_number(*lambda)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: (i32, i32) = (0, 1000);

    #[test]
    fn zero_sits_left_of_the_log_spaced_positive_lambdas() {
        let axis = LambdaAxis::new([300.0, 0.0, 10.0, 30.0, 100.0, 1000.0, 3000.0, 10.0]);
        assert_eq!(
            axis.key_points(plotters::coord::ranged1d::BoldPoints(10))
                .len(),
            7
        );
        let x = |lambda| axis.map(&lambda, LIMIT);
        // One decade, 10 → 100, is as long as 100 → 1000.
        assert!((x(100.0) - x(10.0) - (x(1000.0) - x(100.0))).abs() <= 1);
        // 0 comes first, 0.6 decades before 10.
        let decade = f64::from(x(100.0) - x(10.0));
        let gap = f64::from(x(10.0) - x(0.0));
        assert!(
            (gap / decade - ZERO_GAP_DECADES).abs() < 0.01,
            "gap {gap}, decade {decade}"
        );
        // The padded ends stay inside the limit.
        assert!(x(0.0) > 0 && x(3000.0) < 1000);
        let middle = axis.break_lambda().expect("there is a break");
        assert!(x(0.0) < x(middle) && x(middle) < x(10.0));
    }

    #[test]
    fn only_positive_or_only_zero_lambdas_still_make_an_axis() {
        let positive = LambdaAxis::new([1.0, 10.0]);
        assert_eq!(positive.break_lambda(), None);
        assert!(positive.map(&1.0, LIMIT) < positive.map(&10.0, LIMIT));
        let zero = LambdaAxis::new([0.0]);
        assert_eq!(zero.break_lambda(), None);
        assert_eq!(zero.map(&0.0, LIMIT), 500);
    }

    #[test]
    fn ticks_read_as_given() {
        let labels: Vec<String> = [0.0, 10.0, 3000.0, 0.5]
            .iter()
            .map(<LambdaAxis as ValueFormatter<f64>>::format)
            .collect();
        assert_eq!(labels, ["0", "10", "3000", "0.5"]);
    }
}
