//! Tables 2, 3 and 4 for one trained SAE, and Table 4 for the MLP it reads.
use crate::{
    Activity, NeuronStats, Table4, UnitImages, UnitProxies, activity, median, neuron_stats,
    unit_proxies,
};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, ShapeBuilder, Zip};
use ne_models::ops::{positive_positions, relu_value, transposed};
use ne_models::{Mlp, ModelError, Sae, TrainingFiring};
use serde::{Deserialize, Serialize};

/// The figures of Tables 2, 3 and 4, named as in `metrics.json`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SaeMetrics {
    /// Mean over test examples and the hidden dims of (h_hat - h)^2.
    pub mse: f64,
    /// Mean over test examples of the summed latent activations (per example, not per batch).
    pub l1: f64,
    /// Mean share of latents active per test example, in percent.
    pub l0_pct: f64,
    /// MLP test accuracy minus its accuracy with the hidden layer replaced by h_hat, in points.
    pub acc_loss_pct: f64,
    /// Median over latents (>= 2 activating test examples) of the max embedding distance;
    /// NaN (null in JSON) when no latent has two.
    #[serde(deserialize_with = "nan_from_null")]
    pub max_dist: f64,
    /// Median over the same latents of the mean embedding distance.
    #[serde(deserialize_with = "nan_from_null")]
    pub mean_dist: f64,
    /// Median over latents with any activating test example of how many there are.
    pub size: f64,
    /// Latents that fire on no training example, in percent.
    pub dead_pct: f64,
    /// Latents whose largest activation over the training examples is at most τ (the config's
    /// `eval.dead_threshold`), in percent; NaN (null) in files written before it existed.
    #[serde(default = "nan", deserialize_with = "nan_from_null")]
    pub dead_threshold_pct: f64,
    /// Latents that fired on no example during training, in percent; NaN (null) when the
    /// training record is not known (a model trained elsewhere).
    #[serde(deserialize_with = "nan_from_null")]
    pub dead_training_pct: f64,
    /// Latents that fired on no example during the last tenth of training steps, in percent;
    /// NaN (null) when unknown.
    #[serde(deserialize_with = "nan_from_null")]
    pub dead_late_pct: f64,
    /// Table 4, over the latents.
    #[serde(flatten)]
    pub table4: Table4,
}

fn nan() -> f64 {
    f64::NAN
}

/// JSON has no NaN: serde_json writes it as null, and this reads null back as NaN.
pub(crate) fn nan_from_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// The examples a model is measured on: the MLP's hidden activations, with the labels and raw
/// pixels (0-255) of the images they come from.
#[derive(Debug, Clone, Copy)]
pub struct EvalSet<'a> {
    /// n x d: what the SAE reads.
    pub hidden: ArrayView2<'a, f32>,
    /// n: the class of each example.
    pub labels: ArrayView1<'a, u8>,
    /// The n images as unit vectors, for Table 4's input coherence.
    pub images: &'a UnitImages,
}

/// Per latent, what an evaluation measured: the figures Tables 2 and 3 and the dead-latent
/// counts summarise.
#[derive(Debug, Clone)]
pub struct PerLatent {
    /// Its embedding distances and activating examples, on the test set.
    pub stats: Vec<NeuronStats>,
    /// On how many training examples it fires and its largest activation over them: kept by a
    /// [`TrainScan::PerLatent`] scan only.
    pub train: Option<Activity>,
    /// The (training example, latent) activations the scan computed.
    pub train_encoded: usize,
}

/// An SAE's metrics and the per-latent figures they summarise (on the training set, as far as
/// its [`TrainScan`] kept them).
#[derive(Debug, Clone)]
pub struct SaeEvaluation {
    /// Its row of Tables 2 to 4.
    pub metrics: SaeMetrics,
    /// What the rows of Tables 2 and 3 summarise.
    pub per_latent: PerLatent,
    /// Per latent, the Table 4 figures on the test set.
    pub proxies: Vec<UnitProxies>,
}

/// How an SAE is measured, as the config's `[eval]` says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvalOptions {
    /// Activating test examples of each latent behind its distances.
    pub example_cap: usize,
    /// τ of `dead_threshold_pct`.
    pub dead_threshold: f32,
}

/// Tables 2 and 3 without accuracy loss: the figures that need only the activations an SAE
/// reads, not the model they come from nor labels, so they apply to any model's activations.
/// [`SaeMetrics`] repeats these fields rather than embedding this struct: `metrics.json` has
/// `acc_loss_pct` between `l0_pct` and `max_dist`, an order a flattened struct cannot keep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ActivationMetrics {
    /// Mean over test examples and input dims of (x_hat - x)^2.
    pub mse: f64,
    /// Mean over test examples of the summed latent activations.
    pub l1: f64,
    /// Mean share of latents active per test example, in percent.
    pub l0_pct: f64,
    /// Median over latents (>= 2 activating test examples) of the max embedding distance;
    /// NaN (null in JSON) when no latent has two.
    #[serde(deserialize_with = "nan_from_null")]
    pub max_dist: f64,
    /// Median over the same latents of the mean embedding distance.
    #[serde(deserialize_with = "nan_from_null")]
    pub mean_dist: f64,
    /// Median over latents with any activating test example of how many there are.
    pub size: f64,
    /// Latents that fire on no training example, in percent.
    pub dead_pct: f64,
    /// Latents whose largest activation over the training examples is at most τ, in percent.
    pub dead_threshold_pct: f64,
    /// Latents that fired on no example during training, in percent; NaN (null) when unknown.
    #[serde(deserialize_with = "nan_from_null")]
    pub dead_training_pct: f64,
    /// Latents that fired on no example during the last tenth of training, in percent; NaN
    /// (null) when unknown.
    #[serde(deserialize_with = "nan_from_null")]
    pub dead_late_pct: f64,
}

/// [`ActivationMetrics`] with the per-latent figures and what they were computed from.
#[derive(Debug, Clone)]
pub struct ActivationEvaluation {
    /// Its row of Tables 2 and 3, accuracy loss aside.
    pub metrics: ActivationMetrics,
    /// What that row summarises.
    pub per_latent: PerLatent,
    /// The latents' activations on the test set (n × latents).
    pub test_acts: Array2<f32>,
    /// The SAE's reconstruction of the test set (n × inputs).
    pub test_recon: Array2<f32>,
}

/// Evaluates `sae` on activations of any model: `test` (n × d) for everything but dead latents,
/// which are counted on `train` and, when `training` (what the SAE's training recorded) is
/// known, during training too. Distances use the first `options.example_cap` activating test
/// examples of each latent; τ of the threshold count is `options.dead_threshold`. Panics if the widths disagree with the SAE's.
pub fn evaluate_activations(
    sae: &Sae,
    test: ArrayView2<f32>,
    train: ArrayView2<f32>,
    training: Option<&TrainingFiring>,
    options: EvalOptions,
) -> ActivationEvaluation {
    measure_activations(sae, test, train, training, options, TrainScan::PerLatent)
}

/// How much of the training set's activity an evaluation keeps. Both give the same metrics,
/// bit for bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrainScan {
    /// Each latent's firing count and largest activation (what the explorer shows): every
    /// (training example, latent) activation is computed.
    PerLatent,
    /// Only the two dead counts, from a scan that stops reading a latent once it is alive: for
    /// a live latent usually a small part of the training set.
    DeadCounts,
}

/// `ActivationEvaluation`, with the training set's per-latent figures only when `scan` keeps
/// them.
fn measure_activations(
    sae: &Sae,
    test: ArrayView2<f32>,
    train: ArrayView2<f32>,
    training: Option<&TrainingFiring>,
    options: EvalOptions,
    scan: TrainScan,
) -> ActivationEvaluation {
    let cap = options.example_cap;
    let latents_n = sae.w_enc.nrows();
    let Encoded {
        acts,
        recon,
        l1,
        active,
    } = encode_by_column(sae, test);
    let n = test.nrows() as f64;

    let squared_error: f64 = Zip::from(&recon)
        .and(&test)
        .fold(0.0, |acc, &r, &h| acc + f64::from(r - h).powi(2));
    let active = active as f64;

    let centered = &test - &sae.b_dec;
    let latents = neuron_stats(sae.w_enc.view(), centered.view(), acts.view(), cap);
    let dists = |pick: fn(&NeuronStats) -> Option<f32>| {
        let v: Vec<f64> = latents.iter().filter_map(pick).map(f64::from).collect();
        median(&v).unwrap_or(f64::NAN)
    };
    let sizes: Vec<f64> = latents
        .iter()
        .filter(|s| s.size > 0)
        .map(|s| s.size as f64)
        .collect();

    // A latent is dead when its largest training activation is 0 (it never fired: activations
    // are ReLU outputs, and a count of positive ones is zero exactly then), dead by threshold
    // when that largest activation is at most τ.
    let (train, train_max, train_encoded) = match scan {
        TrainScan::PerLatent => {
            let encoded = train.nrows() * latents_n;
            let train = activity(train, latents_n, |h| sae.encode(h));
            let max = train.max.clone();
            (Some(train), max, encoded)
        }
        TrainScan::DeadCounts => {
            let (max, encoded) = max_up_to(sae, train, options.dead_threshold.max(0.0));
            (None, max, encoded)
        }
    };
    let dead = train_max.iter().filter(|&&m| m <= 0.0).count();
    let below = train_max
        .iter()
        .filter(|&&m| m <= options.dead_threshold)
        .count();

    ActivationEvaluation {
        metrics: ActivationMetrics {
            mse: squared_error / (n * test.ncols() as f64),
            l1: l1 / n,
            l0_pct: 100.0 * active / (n * latents_n as f64),
            max_dist: dists(|s| s.max_dist),
            mean_dist: dists(|s| s.mean_dist),
            size: median(&sizes).unwrap_or(0.0),
            dead_pct: 100.0 * dead as f64 / latents_n as f64,
            dead_threshold_pct: 100.0 * below as f64 / latents_n as f64,
            dead_training_pct: training.map_or(f64::NAN, TrainingFiring::never_fired_pct),
            dead_late_pct: training.map_or(f64::NAN, TrainingFiring::silent_late_pct),
        },
        per_latent: PerLatent {
            stats: latents,
            train,
            train_encoded,
        },
        test_acts: acts,
        test_recon: recon,
    }
}

/// Rows per block of `max_up_to`'s scan.
const SCAN_ROWS: usize = 256;

/// Each latent's largest activation over the rows of `h` (0 when it never fires) where that is
/// at most `cap`, and otherwise some activation above `cap`; and how many activations that
/// took: the rows are read block by block,
/// in order, and a latent leaves the scan after the first block in which it exceeds `cap`, so
/// that only the latents still at or below it (the dead ones, at the end) are encoded for every
/// row. Each activation is the one `Sae::encode` computes: the same centring, the matrix
/// product's kernel computing each element the same way whichever latents it is given, the same
/// bias and ReLU.
fn max_up_to(sae: &Sae, h: ArrayView2<f32>, cap: f32) -> (Array1<f32>, usize) {
    let mut max = Array1::<f32>::zeros(sae.latents());
    let mut open: Vec<usize> = (0..sae.latents()).collect();
    let mut open_max = vec![0.0f32; open.len()];
    let (mut weights, mut bias) = (sae.w_enc.clone(), sae.b_enc.clone());
    let mut encoded = 0;
    for block in h.axis_chunks_iter(Axis(0), SCAN_ROWS) {
        let centered = &block - &sae.b_dec;
        let products = centered.dot(&weights.t());
        encoded += products.len();
        // Over plain slices, so that the loop vectorises: each activation is `Sae::encode`'s,
        // product + bias then ReLU, and its running maximum.
        let products = products.as_standard_layout();
        let rows = products.as_slice().expect("standard layout");
        let biases = bias.as_slice().expect("a fresh array is contiguous");
        for row in rows.chunks_exact(open.len()) {
            for ((top, &product), &b) in open_max.iter_mut().zip(row).zip(biases) {
                *top = top.max(relu_value(product + b));
            }
        }
        if open_max.iter().all(|&m| m <= cap) {
            continue;
        }
        let mut kept = 0;
        for k in 0..open.len() {
            max[open[k]] = open_max[k];
            if open_max[k] <= cap {
                open[kept] = open[k];
                open_max[kept] = open_max[k];
                kept += 1;
            }
        }
        open.truncate(kept);
        open_max.truncate(kept);
        if open.is_empty() {
            return (max, encoded);
        }
        weights = sae.w_enc.select(Axis(0), &open);
        bias = sae.b_enc.select(Axis(0), &open);
    }
    for (&j, &m) in open.iter().zip(&open_max) {
        max[j] = m;
    }
    (max, encoded)
}

/// Evaluates `sae` on the MLP's hidden activations: [`evaluate_activations`] on `test.hidden`
/// and `train_hidden`, with the MLP's accuracy loss and Table 4 besides. `scan` says how much of
/// the training set's per-latent activity to keep; the metrics are the same either way.
///
/// # Errors
/// [`ModelError`] when `test.hidden` is not as wide as the MLP's hidden layer or its rows and
/// `test.labels` differ in number.
///
/// # Panics
/// If the activations are not as wide as the SAE reads, as [`evaluate_activations`].
pub fn evaluate_sae(
    mlp: &Mlp,
    sae: &Sae,
    test: EvalSet,
    train_hidden: ArrayView2<f32>,
    training: Option<&TrainingFiring>,
    options: EvalOptions,
    scan: TrainScan,
) -> Result<SaeEvaluation, ModelError> {
    let ActivationEvaluation {
        metrics: m,
        per_latent,
        test_acts,
        test_recon,
    } = measure_activations(sae, test.hidden, train_hidden, training, options, scan);
    let acc_loss = mlp.accuracy_from_hidden(test.hidden, test.labels)?
        - mlp.accuracy_from_hidden(test_recon.view(), test.labels)?;
    let proxies = unit_proxies(sae.w_enc.view(), test_acts.view(), test.labels, test.images);
    Ok(SaeEvaluation {
        metrics: SaeMetrics {
            mse: m.mse,
            l1: m.l1,
            l0_pct: m.l0_pct,
            acc_loss_pct: 100.0 * f64::from(acc_loss),
            max_dist: m.max_dist,
            mean_dist: m.mean_dist,
            size: m.size,
            dead_pct: m.dead_pct,
            dead_threshold_pct: m.dead_threshold_pct,
            dead_training_pct: m.dead_training_pct,
            dead_late_pct: m.dead_late_pct,
            table4: Table4::of(&proxies),
        },
        per_latent,
        proxies,
    })
}

/// Table 4 for the MLP's hidden neurons (the baseline SAEs are meant to improve on): their
/// input weights are the rows of the first layer, reading pixels.
pub fn mlp_unit_proxies(mlp: &Mlp, test: EvalSet) -> Vec<UnitProxies> {
    unit_proxies(mlp.fc1.weight.view(), test.hidden, test.labels, test.images)
}

/// `sae.encode(h)` stored column by column, its decoding, and two of its sums.
struct Encoded {
    /// n x latents, column-major: each latent's activations lie in one contiguous row of the
    /// transpose (what the per-latent figures read).
    acts: Array2<f32>,
    /// `sae.decode` of the activations (n x inputs), from `Sae::decode_sparse`.
    recon: Array2<f32>,
    /// Σ f64(a) over the activations in row-major order: the bits of
    /// `acts.iter().map(f64::from).sum()`.
    l1: f64,
    /// Activations above 0.
    active: usize,
}

/// Rows encoded at a time by `encode_by_column`: a block's activations (64 × 512 latents:
/// 128 KiB) stay in a core's cache while they are summed and stored.
const ENCODE_ROWS: usize = 64;

/// `sae.encode(h)` block by block of rows. Each block is encoded exactly as `Sae::encode` does
/// (the matrix product's kernel computes each element the same way whichever rows it is given),
/// decoded, its activations summed row by row, and stored transposed into the column-major
/// result.
///
/// The sum skips the zeros, most of the activations: adding -0 leaves any sum as it is, and
/// adding +0 does too except to the empty sum -0, which it makes +0, so the +0 activations are
/// accounted for by one addition of +0 at the end; a NaN activation makes the sum NaN, as it
/// would in order.
fn encode_by_column(sae: &Sae, h: ArrayView2<f32>) -> Encoded {
    let mut acts = Array2::zeros((h.nrows(), sae.latents()).f());
    let mut recon = Array2::zeros((h.nrows(), sae.inputs()));
    let mut l1 = std::iter::empty::<f64>().sum::<f64>();
    let (mut active, mut positive_zero, mut nan) = (0, false, false);
    let mut positions = Vec::with_capacity(sae.latents());
    let decoder = sae.sparse_decoder();
    for ((rows, mut stored), mut decoded) in h
        .axis_chunks_iter(Axis(0), ENCODE_ROWS)
        .zip(acts.axis_chunks_iter_mut(Axis(0), ENCODE_ROWS))
        .zip(recon.axis_chunks_iter_mut(Axis(0), ENCODE_ROWS))
    {
        let block = sae.encode(rows);
        decoded.assign(&decoder.decode(block.view()));
        let values = block
            .as_slice()
            .expect("a fresh array is in standard layout");
        for row in values.chunks_exact(sae.latents().max(1)) {
            positions.clear();
            positive_positions(row, &mut positions);
            for &j in &positions {
                l1 += f64::from(row[j]);
            }
            active += positions.len();
            positive_zero |= row.iter().any(|a| a.to_bits() == 0);
            nan |= row.iter().any(|a| a.is_nan());
        }
        stored
            .view_mut()
            .reversed_axes()
            .assign(&transposed(block.view()));
    }
    if positive_zero {
        l1 += 0.0;
    }
    if nan {
        l1 = f64::NAN;
    }
    Encoded {
        acts,
        recon,
        l1,
        active,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, Axis, array};
    use ne_models::Linear;

    /// `hidden` with its labels and a blank 1-pixel image per example.
    fn measure(mlp: &Mlp, sae: &Sae, hidden: &Array2<f32>, labels: &Array1<u8>) -> SaeEvaluation {
        let pixels = Array2::<u8>::zeros((hidden.nrows(), 1));
        let test = EvalSet {
            hidden: hidden.view(),
            labels: labels.view(),
            images: &UnitImages::of(pixels.view()),
        };
        let training = TrainingFiring {
            steps: 10,
            late_steps: 1,
            whole_run: vec![5, 0, 0],
            last_tenth: vec![1, 0, 0],
        };
        let options = EvalOptions {
            example_cap: 100,
            dead_threshold: 0.6,
        };
        let scan = TrainScan::PerLatent;
        evaluate_sae(
            mlp,
            sae,
            test,
            hidden.view(),
            Some(&training),
            options,
            scan,
        )
        .unwrap()
    }

    fn row_sums(a: ArrayView2<f32>) -> Vec<f64> {
        a.axis_iter(Axis(0))
            .map(|r| r.iter().map(|&v| f64::from(v)).sum())
            .collect()
    }

    /// A 2-d hidden layer, 3 classes, and an SAE with 3 latents built by hand.
    fn fixture() -> (Mlp, Sae) {
        let mlp = Mlp {
            fc1: Linear {
                weight: Array2::zeros((2, 4)),
                bias: Array1::zeros(2),
            },
            // Class 0 <- dim 0, class 1 <- dim 1, class 2 never wins.
            fc2: Linear {
                weight: array![[1.0, 0.0], [0.0, 1.0], [-5.0, -5.0]],
                bias: Array1::zeros(3),
            },
        };
        let sae = Sae {
            // Latent 0 reads dim 0, latent 1 reads dim 1, latent 2 reads nothing (dead).
            w_enc: array![[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]],
            b_enc: array![0.0, -0.5, 0.0],
            w_dec: array![[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]],
            b_dec: Array1::zeros(2),
        };
        (mlp, sae)
    }

    #[test]
    fn latents_stored_by_column_are_the_encoded_ones_bit_for_bit() {
        let mut rng = ne_models::rng::stream_rng(3, ne_models::rng::Stream::SaeInit);
        let sae = Sae::init(8, 40, &mut rng);
        let h = Array2::from_shape_fn((300, 8), |(i, k)| ((i * 7 + k * 3) % 11) as f32 / 5.0 - 0.7);
        let bits = |a: &Array2<f32>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        let in_order = |a: &Array2<f32>| a.iter().map(|&v| f64::from(v)).sum::<f64>();
        // 300 rows: four blocks of 64 and a short one.
        let by_column = encode_by_column(&sae, h.view());
        assert!(by_column.acts.t().is_standard_layout());
        let encoded = sae.encode(h.view());
        assert!(encoded.iter().any(|&v| v > 0.0) && encoded.iter().any(|&v| v == 0.0));
        assert_eq!(bits(&by_column.acts), bits(&encoded));
        assert_eq!(bits(&by_column.recon), bits(&sae.decode(encoded.view())));
        assert_eq!(by_column.l1.to_bits(), in_order(&encoded).to_bits());
        assert_eq!(
            by_column.active,
            encoded.iter().filter(|&&v| v > 0.0).count()
        );

        // Every latent silent: the sum of +0s is +0, not the empty sum's -0.
        let mut silent = sae.clone();
        silent.b_enc.fill(-100.0);
        let none = encode_by_column(&silent, h.view());
        assert_eq!((none.active, none.l1.to_bits()), (0, 0.0f64.to_bits()));
        assert_eq!(
            none.l1.to_bits(),
            in_order(&silent.encode(h.view())).to_bits()
        );
        // No rows at all: the empty sum.
        let empty = encode_by_column(&sae, h.slice(ndarray::s![..0, ..]));
        assert_eq!(
            empty.l1.to_bits(),
            in_order(&Array2::zeros((0, 40))).to_bits()
        );
        // A NaN input makes the sum NaN, as in order.
        let mut broken = h.clone();
        broken[[150, 2]] = f32::NAN;
        assert!(encode_by_column(&sae, broken.view()).l1.is_nan());
        assert!(in_order(&sae.encode(broken.view())).is_nan());
    }

    #[test]
    fn the_early_stopping_dead_count_matches_the_full_scan() {
        // 40 latents over 1,000 rows (four scan blocks): a third of them pushed towards never
        // firing, some firing only a little, so each τ splits them differently.
        let mut rng = ne_models::rng::stream_rng(5, ne_models::rng::Stream::SaeInit);
        let mut sae = Sae::init(8, 40, &mut rng);
        sae.b_enc = Array1::from_shape_fn(40, |j| match j % 5 {
            0 => -3.0,
            1 => -0.3,
            _ => 0.0,
        });
        let h = Array2::from_shape_fn((1000, 8), |(i, k)| {
            ((i * 13 + k * 7) % 17) as f32 / 8.0 - 1.0
        });
        let full = activity(h.view(), 40, |rows| sae.encode(rows));
        let dead_full = full.firing.iter().filter(|&&c| c == 0).count();
        assert!(dead_full > 0 && dead_full < 40, "{dead_full}");
        let between =
            |low: f32, high: f32| full.max.iter().filter(|&&m| m > low && m <= high).count();
        assert!(between(0.0, 0.3) > 0 && between(0.3, 10.0) > 0);
        for tau in [0.0f32, 0.005, 0.05, 0.3, -0.1, 10.0] {
            let cap = tau.max(0.0);
            let (max, encoded) = max_up_to(&sae, h.view(), cap);
            if tau <= 0.0 {
                // Every row for the dead latents, the first block at most for the others.
                assert_eq!(encoded, 1000 * dead_full + SCAN_ROWS * (40 - dead_full));
            }
            for (j, (&m, &exact)) in max.iter().zip(&full.max).enumerate() {
                if exact <= cap {
                    assert_eq!(m.to_bits(), exact.to_bits(), "latent {j} at τ = {tau}");
                } else {
                    assert!(
                        m > cap && m <= exact,
                        "latent {j} at τ = {tau}: {m} vs {exact}"
                    );
                }
            }
            let dead = max.iter().filter(|&&m| m <= 0.0).count();
            assert_eq!(dead, dead_full);
        }
        // Through the public entry points, with everything else alike.
        let mlp = Mlp {
            fc1: Linear {
                weight: Array2::zeros((8, 4)),
                bias: Array1::zeros(8),
            },
            fc2: Linear {
                weight: Array2::from_shape_fn((3, 8), |(c, k)| ((c + k) % 3) as f32 - 1.0),
                bias: Array1::zeros(3),
            },
        };
        let labels = Array1::from_shape_fn(1000, |i| (i % 3) as u8);
        let pixels = Array2::<u8>::zeros((1000, 1));
        let test = EvalSet {
            hidden: h.view(),
            labels: labels.view(),
            images: &UnitImages::of(pixels.view()),
        };
        for dead_threshold in [0.0, 0.3] {
            let options = EvalOptions {
                example_cap: 100,
                dead_threshold,
            };
            let evaluate = |scan| evaluate_sae(&mlp, &sae, test, h.view(), None, options, scan);
            let whole = evaluate(TrainScan::PerLatent).unwrap();
            let counts = evaluate(TrainScan::DeadCounts).unwrap();
            // Debug prints each float's shortest exact form (and NaN, which `==` fails on).
            assert_eq!(
                format!("{:?}", counts.metrics),
                format!("{:?}", whole.metrics)
            );
            assert_eq!(
                format!("{:?}", counts.per_latent.stats),
                format!("{:?}", whole.per_latent.stats)
            );
            assert!(counts.per_latent.train.is_none() && whole.per_latent.train.is_some());
            assert!(counts.per_latent.train_encoded < whole.per_latent.train_encoded);
        }
    }

    #[test]
    fn figures_match_a_hand_computed_case() {
        let (mlp, sae) = fixture();
        let hidden = array![[2.0, 0.0], [0.0, 1.0], [1.0, 0.2], [0.0, 3.0]];
        let labels = array![0u8, 1, 1, 1];
        let eval = measure(&mlp, &sae, &hidden, &labels);
        let m = eval.metrics;
        // Latents: [2,0,0], [0,0.5,0], [1,0,0], [0,2.5,0]; reconstructions lose 0.5 on dim 1
        // wherever latent 1 fires, and all of 0.2 in example 2.
        assert_eq!(
            row_sums(sae.encode(hidden.view()).view()),
            vec![2.0, 0.5, 1.0, 2.5]
        );
        let expected_mse = (0.25 + 0.04 + 0.25) / 8.0;
        assert!((m.mse - expected_mse).abs() < 1e-6, "{}", m.mse);
        assert!((m.l1 - 6.0 / 4.0).abs() < 1e-6);
        assert!((m.l0_pct - 100.0 * 4.0 / 12.0).abs() < 1e-9);
        // Original: example 2 ([1, 0.2]) is predicted 0 but labelled 1 -> 3/4. The
        // reconstruction [1, 0] predicts 0 too -> also 3/4.
        assert!(m.acc_loss_pct.abs() < 1e-9);
        // Latent 0's embeddings (2,0) and (1,0) are parallel: distance 0; latent 1's are (0,1),
        // (0,3): distance 0 as well.
        assert_eq!((m.max_dist, m.mean_dist), (0.0, 0.0));
        assert_eq!(m.size, 2.0);
        assert!((m.dead_pct - 100.0 / 3.0).abs() < 1e-9);
        // Largest activations 2, 2.5, 0: at τ = 0.6 only the dead latent is below.
        let train = eval.per_latent.train.as_ref().expect("a per-latent scan");
        assert_eq!(train.max.to_vec(), vec![2.0, 2.5, 0.0]);
        assert!((m.dead_threshold_pct - 100.0 / 3.0).abs() < 1e-9);
        assert!((m.dead_training_pct - 200.0 / 3.0).abs() < 1e-9);
        assert!((m.dead_late_pct - 200.0 / 3.0).abs() < 1e-9);
        assert_eq!(train.firing.to_vec(), vec![2, 2, 0]);
    }

    #[test]
    fn a_lossy_reconstruction_costs_accuracy() {
        let (mlp, mut sae) = fixture();
        // Swap the decoder columns: latent 0 now writes dim 1 and vice versa.
        sae.w_dec = array![[0.0, 1.0, 0.0], [1.0, 0.0, 1.0]];
        let hidden = array![[2.0, 0.0], [0.0, 3.0]];
        let labels = array![0u8, 1];
        let eval = measure(&mlp, &sae, &hidden, &labels);
        assert!((eval.metrics.acc_loss_pct - 100.0).abs() < 1e-9);
    }
}
