//! Synthetic activations with known features: x = Σ_g c_g f_g, G unit directions f_g drawn
//! uniformly on the sphere of R^d, each feature active (c_g > 0) independently with its own
//! probability, its magnitude from a chosen law. The field's standard test of SAEs: the true
//! features are known, so whether a latent is monosemantic is measured, not guessed.
use ndarray::{Array2, Axis};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::fmt;

/// ChaCha stream numbers of the generator, far from the training streams (`ne_models::rng`),
/// so that data drawn with a seed never repeats the numbers an SAE of the same seed draws.
const STREAM_BASE: u64 = 0x5359_4e00;

/// How a data set is drawn. The defaults: G = 128 features in R^64 (the MLP's width), each
/// active with probability 3/128, magnitudes uniform on (0, 3], 60,000 training, 10,000
/// validation and 10,000 test examples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneratorConfig {
    /// d: the activations' width.
    pub dim: usize,
    /// G: how many true features.
    pub features: usize,
    /// The mean over features of the probability that a feature is active in an example
    /// (before any pair adds firings), in (0, 1].
    pub density: f64,
    /// How large an active feature's coefficient is.
    pub magnitude: Magnitude,
    /// Zipf-like firing frequencies: feature g's probability is proportional to (g + 1)^-s,
    /// scaled so that their mean is `density`; 0 makes all features equally frequent.
    pub zipf_exponent: f64,
    /// Feature pairs that fire together.
    pub pairs: Pairs,
    /// Examples per split.
    pub train: usize,
    pub validation: usize,
    pub test: usize,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        Self {
            dim: 64,
            features: 128,
            density: 3.0 / 128.0,
            magnitude: Magnitude::Uniform { max: 3.0 },
            zipf_exponent: 0.0,
            pairs: Pairs::None,
            train: 60_000,
            validation: 10_000,
            test: 10_000,
        }
    }
}

/// The law of an active feature's coefficient.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "law")]
pub enum Magnitude {
    /// Uniform on (0, max].
    Uniform { max: f64 },
    /// Exponential with this mean (a heavy tail of strong activations).
    Exponential { mean: f64 },
    /// Always this value (on/off features).
    Constant { value: f64 },
}

/// Features 2k and 2k + 1 (k < count) as pairs that fire together.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Pairs {
    /// Every feature fires on its own.
    None,
    /// Where the first of a pair fires, the second fires too with probability `prob`, besides
    /// firing on its own.
    Correlated { count: usize, prob: f64 },
    /// The second of a pair fires only where the first fires, with probability `prob` there: a
    /// sub-feature (e.g. "loop at the top" within "digit with a loop").
    Nested { count: usize, prob: f64 },
}

impl fmt::Display for Magnitude {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Magnitude::Uniform { max } => write!(f, "uniform on (0, {max}]"),
            Magnitude::Exponential { mean } => write!(f, "exponential with mean {mean}"),
            Magnitude::Constant { value } => write!(f, "always {value}"),
        }
    }
}

impl fmt::Display for Pairs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pairs::None => write!(f, "none"),
            Pairs::Correlated { count, prob } => {
                write!(f, "{count} correlated (second also fires with p = {prob})")
            }
            Pairs::Nested { count, prob } => {
                write!(
                    f,
                    "{count} nested (second only within the first, p = {prob})"
                )
            }
        }
    }
}

impl GeneratorConfig {
    /// Rejects settings that draw no data or impossible probabilities, naming the option.
    pub fn validate(&self) -> Result<(), String> {
        for (name, value) in [
            ("dim", self.dim),
            ("features", self.features),
            ("train", self.train),
            ("validation", self.validation),
            ("test", self.test),
        ] {
            if value == 0 {
                return Err(format!("{name} must be at least 1"));
            }
        }
        if !(self.density > 0.0 && self.density <= 1.0) {
            return Err(format!("density must be in (0, 1], got {}", self.density));
        }
        let positive = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(format!("{name} must be finite and > 0, got {v}"))
            }
        };
        match self.magnitude {
            Magnitude::Uniform { max } => positive("the magnitude's max", max)?,
            Magnitude::Exponential { mean } => positive("the magnitude's mean", mean)?,
            Magnitude::Constant { value } => positive("the magnitude", value)?,
        }
        if !(self.zipf_exponent.is_finite() && self.zipf_exponent >= 0.0) {
            return Err(format!(
                "the Zipf exponent must be finite and >= 0, got {}",
                self.zipf_exponent
            ));
        }
        if let Pairs::Correlated { count, prob } | Pairs::Nested { count, prob } = self.pairs {
            if count == 0 || 2 * count > self.features {
                return Err(format!(
                    "{count} pairs need {} features, but there are {}",
                    2 * count,
                    self.features
                ));
            }
            if !(0.0..=1.0).contains(&prob) {
                return Err(format!(
                    "a pair's probability must be in [0, 1], got {prob}"
                ));
            }
        }
        let top = self.probabilities()[0];
        if top > 1.0 {
            return Err(format!(
                "with Zipf exponent {} and density {}, the most frequent feature would fire \
                 with probability {top:.3} > 1; lower one of them",
                self.zipf_exponent, self.density
            ));
        }
        Ok(())
    }

    /// Each feature's probability of firing on its own: `density` scaled by the Zipf weights.
    pub fn probabilities(&self) -> Vec<f64> {
        let weights: Vec<f64> = (0..self.features)
            .map(|g| ((g + 1) as f64).powf(-self.zipf_exponent))
            .collect();
        let mean = weights.iter().sum::<f64>() / self.features as f64;
        weights.iter().map(|w| self.density * w / mean).collect()
    }
}

/// One split: the activations and the true coefficients they are made of.
#[derive(Debug, Clone)]
pub struct Split {
    /// n × d: x = coefficients · features.
    pub x: Array2<f32>,
    /// n × G: c_g ≥ 0, feature g active where c_g > 0.
    pub coefficients: Array2<f32>,
}

/// A drawn data set: the features and the three splits.
#[derive(Debug, Clone)]
pub struct SyntheticData {
    /// G × d, unit rows.
    pub features: Array2<f32>,
    pub train: Split,
    pub validation: Split,
    pub test: Split,
}

/// Draws the features and the splits of `seed`. Each part has its own ChaCha stream of the
/// seed and is drawn in order on one thread, so the data are the same whatever the thread
/// count. Call `config.validate()` first.
pub fn generate(config: &GeneratorConfig, seed: u64) -> SyntheticData {
    let rng = |part: u64| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(STREAM_BASE + part);
        rng
    };
    let features = unit_directions(config.features, config.dim, &mut rng(0));
    let split = |part, n| {
        let coefficients = draw_coefficients(config, n, &mut rng(part));
        let x = coefficients.dot(&features);
        Split { x, coefficients }
    };
    SyntheticData {
        train: split(1, config.train),
        validation: split(2, config.validation),
        test: split(3, config.test),
        features,
    }
}

/// `count` directions uniform on the unit sphere of R^dim: normalised Gaussian vectors.
fn unit_directions(count: usize, dim: usize, rng: &mut ChaCha8Rng) -> Array2<f32> {
    let mut directions = Array2::<f32>::zeros((count, dim));
    for mut row in directions.axis_iter_mut(Axis(0)) {
        let draws: Vec<f64> = (0..dim).map(|_| standard_normal(rng)).collect();
        let norm = draws.iter().map(|v| v * v).sum::<f64>().sqrt();
        for (out, v) in row.iter_mut().zip(&draws) {
            *out = (v / norm) as f32;
        }
    }
    directions
}

/// n × G coefficients: each feature on with its probability, pairs as configured, each active
/// one's magnitude from the law.
fn draw_coefficients(config: &GeneratorConfig, n: usize, rng: &mut ChaCha8Rng) -> Array2<f32> {
    let probabilities = config.probabilities();
    let mut coefficients = Array2::<f32>::zeros((n, config.features));
    let mut on = vec![false; config.features];
    for mut row in coefficients.axis_iter_mut(Axis(0)) {
        for (active, &p) in on.iter_mut().zip(&probabilities) {
            *active = unit(rng) < p;
        }
        match config.pairs {
            Pairs::None => {}
            Pairs::Correlated { count, prob } => {
                for k in 0..count {
                    let joins = unit(rng) < prob;
                    on[2 * k + 1] |= on[2 * k] && joins;
                }
            }
            Pairs::Nested { count, prob } => {
                for k in 0..count {
                    let joins = unit(rng) < prob;
                    on[2 * k + 1] = on[2 * k] && joins;
                }
            }
        }
        for (c, &active) in row.iter_mut().zip(&on) {
            if active {
                *c = magnitude(config.magnitude, rng) as f32;
            }
        }
    }
    coefficients
}

/// A coefficient from the law; positive except with probability 2^-53 (exponential).
fn magnitude(law: Magnitude, rng: &mut ChaCha8Rng) -> f64 {
    match law {
        Magnitude::Uniform { max } => max * (1.0 - unit(rng)),
        Magnitude::Exponential { mean } => -mean * (1.0 - unit(rng)).ln(),
        Magnitude::Constant { value } => value,
    }
}

/// Uniform in [0, 1) from the top 53 bits of one `next_u64` (no `rand` distribution, whose
/// algorithm may change between versions).
fn unit(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// One standard normal draw (Box–Muller, cosine branch).
fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    let radius = (-2.0 * (1.0 - unit(rng)).ln()).sqrt();
    radius * (std::f64::consts::TAU * unit(rng)).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(edit: impl FnOnce(&mut GeneratorConfig)) -> GeneratorConfig {
        let mut config = GeneratorConfig {
            train: 20_000,
            validation: 10,
            test: 10,
            ..GeneratorConfig::default()
        };
        edit(&mut config);
        config.validate().unwrap();
        config
    }

    fn active_share(split: &Split) -> Vec<f64> {
        let n = split.coefficients.nrows() as f64;
        split
            .coefficients
            .columns()
            .into_iter()
            .map(|c| c.iter().filter(|&&v| v > 0.0).count() as f64 / n)
            .collect()
    }

    #[test]
    fn directions_are_unit_and_spread_over_the_sphere() {
        let data = generate(&small(|_| {}), 0);
        assert_eq!(data.features.dim(), (128, 64));
        for row in data.features.rows() {
            assert!((row.dot(&row) - 1.0).abs() < 1e-5);
        }
        // Uniform on the sphere: each coordinate has mean 0 and variance 1/d.
        let coords: Vec<f64> = data.features.iter().map(|&v| f64::from(v)).collect();
        let mean = coords.iter().sum::<f64>() / coords.len() as f64;
        let var = coords.iter().map(|v| v * v).sum::<f64>() / coords.len() as f64;
        assert!(mean.abs() < 0.01, "{mean}");
        assert!((var * 64.0 - 1.0).abs() < 0.05, "{var}");
    }

    #[test]
    fn density_and_magnitudes_follow_the_config() {
        let data = generate(&small(|_| {}), 1);
        let shares = active_share(&data.train);
        let mean = shares.iter().sum::<f64>() / shares.len() as f64;
        // 20,000 × 128 Bernoulli(3/128) draws: the mean is within a few standard errors.
        assert!((mean - 3.0 / 128.0).abs() < 0.0005, "{mean}");
        let active: Vec<f64> = data
            .train
            .coefficients
            .iter()
            .filter(|&&c| c > 0.0)
            .map(|&c| f64::from(c))
            .collect();
        assert!(active.iter().all(|&c| c <= 3.0));
        let mean_c = active.iter().sum::<f64>() / active.len() as f64;
        assert!((mean_c - 1.5).abs() < 0.02, "{mean_c}");
        let below_one = active.iter().filter(|&&c| c < 1.0).count() as f64 / active.len() as f64;
        assert!((below_one - 1.0 / 3.0).abs() < 0.01, "{below_one}");
        // x is the sum of the active features.
        let i = (0..data.train.x.nrows())
            .find(|&i| {
                data.train
                    .coefficients
                    .row(i)
                    .iter()
                    .filter(|&&c| c > 0.0)
                    .count()
                    >= 2
            })
            .unwrap();
        let expected = data.train.coefficients.row(i).dot(&data.features);
        for (a, b) in data.train.x.row(i).iter().zip(&expected) {
            assert!((a - b).abs() < 1e-5);
        }
    }

    #[test]
    fn other_magnitude_laws() {
        let exponential = generate(
            &small(|c| c.magnitude = Magnitude::Exponential { mean: 2.0 }),
            2,
        );
        let active: Vec<f64> = exponential
            .train
            .coefficients
            .iter()
            .filter(|&&c| c > 0.0)
            .map(|&c| f64::from(c))
            .collect();
        let mean = active.iter().sum::<f64>() / active.len() as f64;
        assert!((mean - 2.0).abs() < 0.05, "{mean}");
        assert!(active.iter().any(|&c| c > 8.0), "an exponential tail");
        let constant = generate(
            &small(|c| c.magnitude = Magnitude::Constant { value: 0.5 }),
            2,
        );
        assert!(
            constant
                .train
                .coefficients
                .iter()
                .all(|&c| c == 0.0 || c == 0.5)
        );
    }

    #[test]
    fn zipf_frequencies_fall_with_rank_and_keep_the_mean() {
        let config = small(|c| c.zipf_exponent = 1.0);
        let p = config.probabilities();
        assert!((p.iter().sum::<f64>() / 128.0 - 3.0 / 128.0).abs() < 1e-12);
        assert!((p[0] / p[9] - 10.0).abs() < 1e-9);
        let shares = active_share(&generate(&config, 3).train);
        assert!((shares[0] - p[0]).abs() < 0.01, "{} vs {}", shares[0], p[0]);
        assert!(shares[0] > 5.0 * shares[127]);
        let steep = GeneratorConfig {
            zipf_exponent: 3.0,
            density: 0.5,
            ..GeneratorConfig::default()
        };
        assert!(steep.validate().unwrap_err().contains("> 1"));
    }

    #[test]
    fn correlated_and_nested_pairs() {
        let pairs = |pairs| {
            let data = generate(&small(|c| c.pairs = pairs), 4);
            let c = &data.train.coefficients;
            let both = (0..c.nrows())
                .filter(|&i| c[[i, 0]] > 0.0 && c[[i, 1]] > 0.0)
                .count();
            let second = (0..c.nrows()).filter(|&i| c[[i, 1]] > 0.0).count();
            let first = (0..c.nrows()).filter(|&i| c[[i, 0]] > 0.0).count();
            (first as f64, second as f64, both as f64)
        };
        let (first, _, both) = pairs(Pairs::Correlated {
            count: 4,
            prob: 0.8,
        });
        // P(second | first) = 0.8 + 0.2 × 3/128.
        assert!((both / first - 0.8).abs() < 0.05, "{}", both / first);
        let (first, second, both) = pairs(Pairs::Nested {
            count: 4,
            prob: 0.5,
        });
        assert_eq!(second, both, "a nested feature never fires alone");
        assert!((both / first - 0.5).abs() < 0.06, "{}", both / first);
        let bad = GeneratorConfig {
            pairs: Pairs::Nested {
                count: 65,
                prob: 0.5,
            },
            ..GeneratorConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("130 features"));
    }

    #[test]
    fn a_seed_gives_the_same_data_and_another_seed_other_data() {
        let config = small(|c| c.train = 100);
        let a = generate(&config, 5);
        let b = generate(&config, 5);
        let c = generate(&config, 6);
        assert_eq!(a.train.x, b.train.x);
        assert_eq!(a.test.coefficients, b.test.coefficients);
        assert_ne!(a.features, c.features);
        assert_ne!(a.validation.coefficients, a.test.coefficients);
    }
}
