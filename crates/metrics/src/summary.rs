//! Summaries over latents (medians) and over seeds (mean and standard deviation).
use serde::{Deserialize, Serialize};

/// Median of `values` as NumPy computes it (mean of the middle two for an even count);
/// `None` for no values.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// A figure over several runs: mean and sample standard deviation (0 for a single run).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanStd {
    /// The mean over runs.
    pub mean: f64,
    /// Their sample standard deviation (n - 1 in the denominator).
    pub std: f64,
}

impl MeanStd {
    /// Non-finite values (a figure a run could not measure, e.g. a distance with no latent to
    /// measure it on) are left out; `None` when no value is left.
    pub fn of(values: &[f64]) -> Option<Self> {
        let values: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let std = if n > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        Some(Self { mean, std })
    }
}

impl MeanStd {
    /// `mean ± std` with `decimals` decimals, or more where a non-zero spread would otherwise
    /// show as zero.
    pub fn format(&self, decimals: usize) -> String {
        let mut d = decimals;
        while self.std > 0.0 && self.std < 0.5 * 10f64.powi(-(d as i32)) && d < 8 {
            d += 1;
        }
        format!("{:.*} ± {:.*}", d, self.mean, d, self.std)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spread_too_small_for_the_decimals_gets_more_of_them() {
        let tiny = MeanStd {
            mean: 0.5,
            std: 0.0004,
        };
        assert_eq!(tiny.format(3), "0.5000 ± 0.0004");
        let zero = MeanStd {
            mean: 0.5,
            std: 0.0,
        };
        assert_eq!(zero.format(3), "0.500 ± 0.000");
    }

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn mean_and_sample_std() {
        let s = MeanStd::of(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(s.mean, 2.5);
        assert!((s.std - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(
            MeanStd::of(&[7.0]),
            Some(MeanStd {
                mean: 7.0,
                std: 0.0
            })
        );
        assert_eq!(MeanStd::of(&[]), None);
        assert_eq!(
            MeanStd::of(&[1.0, f64::NAN, 3.0, f64::INFINITY])
                .unwrap()
                .mean,
            2.0
        );
        assert_eq!(MeanStd::of(&[f64::NAN]), None);
    }
}
