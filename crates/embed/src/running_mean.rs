//! The NE loss's other form: each active example's embedding against its latent's running mean
//! embedding from earlier batches (one reading of the paper's "momentum 0.9"). The means are
//! constants of the differentiation, updated after each step with momentum.
use crate::ne_loss::{ActiveSets, NeLoss, NeReduction};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

/// Per latent, the running mean of its active examples' unit embeddings.
#[derive(Debug, Clone, PartialEq)]
pub struct RunningMeans {
    /// m x d; row j is meaningful once `seen[j]`.
    pub means: Array2<f32>,
    /// Whether latent j has been active in an earlier batch.
    pub seen: Vec<bool>,
    /// Weight of the old mean in each update.
    pub momentum: f32,
}

impl RunningMeans {
    /// No latent seen yet, for `latents` latents of `inputs` dimensions.
    pub fn new(latents: usize, inputs: usize, momentum: f32) -> Self {
        Self {
            means: Array2::zeros((latents, inputs)),
            seen: vec![false; latents],
            momentum,
        }
    }

    /// The loss of encoder weights `w_enc` (m x d) on `inputs` (n x d) with activations `acts`
    /// (n x m): for each seen latent with active examples, the mean over its active examples of
    /// 1 - cos(w_j ⊙ x_i, mean_j), combined over latents as `reduction` says; with its gradients
    /// for W_enc and (as `grad_b_dec`) for a bias subtracted from the inputs.
    ///
    /// # Panics
    /// If the shapes disagree with each other or with the means.
    pub fn loss(
        &self,
        w_enc: ArrayView2<f32>,
        inputs: ArrayView2<f32>,
        acts: ArrayView2<f32>,
        reduction: NeReduction,
    ) -> NeLoss {
        let latents = w_enc.nrows();
        assert_eq!(
            acts.dim(),
            (inputs.nrows(), latents),
            "running means: acts shape"
        );
        let active = ActiveSets::of(acts.as_standard_layout().view());
        self.loss_of_active(w_enc, inputs, &active, reduction)
    }

    /// `loss` with the active sets given (found by the caller, who usually has them).
    ///
    /// # Panics
    /// If the shapes disagree with each other or with the means, or a set names an example
    /// beyond `inputs`' rows.
    pub fn loss_of_active(
        &self,
        w_enc: ArrayView2<f32>,
        inputs: ArrayView2<f32>,
        active: &ActiveSets,
        reduction: NeReduction,
    ) -> NeLoss {
        self.pass(w_enc, inputs, active, Some(reduction), None)
            .expect("asked for the loss")
    }

    /// Moves each latent's mean towards the mean unit embedding of its active examples in this
    /// batch (the first batch a latent is active in sets it).
    pub fn update(
        &mut self,
        w_enc: ArrayView2<f32>,
        inputs: ArrayView2<f32>,
        acts: ArrayView2<f32>,
    ) {
        let active = ActiveSets::of(acts.as_standard_layout().view());
        self.update_of_active(w_enc, inputs, &active);
    }

    /// `update` with the active sets given.
    ///
    /// # Panics
    /// If the shapes disagree with each other or with the means, or a set names an example
    /// beyond `inputs`' rows.
    pub fn update_of_active(
        &mut self,
        w_enc: ArrayView2<f32>,
        inputs: ArrayView2<f32>,
        active: &ActiveSets,
    ) {
        self.step_of_active(w_enc, inputs, active, None);
    }

    /// A training step's use of the means: with `reduction`, `loss_of_active` against the means
    /// as they stand; then `update_of_active`. Each example's unit embedding is computed once
    /// for both (the same values: both divide the same embedding by the same norm).
    ///
    /// # Panics
    /// As `loss_of_active`.
    pub fn step_of_active(
        &mut self,
        w_enc: ArrayView2<f32>,
        inputs: ArrayView2<f32>,
        active: &ActiveSets,
        reduction: Option<NeReduction>,
    ) -> Option<NeLoss> {
        let mut batch = BatchSums {
            sums: Array2::zeros(self.means.raw_dim()),
            counts: vec![0; self.seen.len()],
        };
        let loss = self.pass(w_enc, inputs, active, reduction, Some(&mut batch));
        let momentum = self.momentum;
        let rows = self.means.outer_iter_mut().zip(batch.sums.outer_iter());
        for (((mut mean, sum), seen), &count) in rows.zip(&mut self.seen).zip(&batch.counts) {
            if count == 0 {
                continue;
            }
            let count = count as f32;
            if *seen {
                mean.zip_mut_with(&sum, |m, &s| {
                    *m = momentum * *m + (1.0 - momentum) * (s / count);
                });
            } else {
                mean.zip_mut_with(&sum, |m, &s| *m = s / count);
                *seen = true;
            }
        }
        loss
    }

    /// The loss (with `reduction`) against the means as they stand, and (into `batch`) each
    /// latent's sum of its examples' unit embeddings and their count, latent by latent. The
    /// means are not touched.
    fn pass(
        &self,
        w_enc: ArrayView2<f32>,
        inputs: ArrayView2<f32>,
        active: &ActiveSets,
        reduction: Option<NeReduction>,
        mut batch: Option<&mut BatchSums>,
    ) -> Option<NeLoss> {
        let (latents, dim) = w_enc.dim();
        assert_eq!(self.means.dim(), (latents, dim), "running means: shape");
        assert_eq!(
            active.latents(),
            latents,
            "running means: one set per latent"
        );
        assert_eq!(inputs.ncols(), dim, "running means: inputs shape");
        // Plain slices and reused buffers: every element gets the arithmetic of the array
        // expressions this replaces, and the dot products ndarray's order (see `dot`).
        let (w_enc, inputs) = (w_enc.as_standard_layout(), inputs.as_standard_layout());
        let mut grad_w_enc = Array2::<f32>::zeros((latents, dim));
        let mut grad_inputs_sum = vec![0.0f64; dim];
        let (mut value, mut counted) = (0.0f64, 0usize);
        let mut target = vec![0.0f32; dim];
        let mut unit = vec![0.0f32; dim];
        let mut grad_e_x = vec![0.0f32; dim];
        for j in 0..latents {
            let examples = active.of_latent(j);
            if examples.is_empty() {
                continue;
            }
            // The loss counts a latent seen before whose mean has a direction.
            let scale = reduction.filter(|_| self.seen[j]).and_then(|reduction| {
                let mean = slice_of(self.means.row(j));
                let mean_norm = dot(mean, mean).sqrt();
                (mean_norm != 0.0).then(|| {
                    target
                        .iter_mut()
                        .zip(mean)
                        .for_each(|(t, &m)| *t = m / mean_norm);
                    match reduction {
                        NeReduction::PairSum => 1.0,
                        NeReduction::LatentMean | NeReduction::LatentSum => {
                            1.0 / examples.len() as f32
                        }
                    }
                })
            });
            let sum = batch.as_deref_mut().map(|b| {
                b.sums
                    .row_mut(j)
                    .into_slice()
                    .expect("a fresh array is in standard layout")
            });
            if scale.is_none() && sum.is_none() {
                continue;
            }
            let pairs = Pairs {
                weights: slice_of(w_enc.row(j)),
                inputs: inputs.view(),
                examples,
            };
            let loss = scale.map(|scale| LatentLoss {
                target: &target,
                scale,
                grad_e_x: &mut grad_e_x,
                grad_inputs_sum: &mut grad_inputs_sum,
            });
            let (latent_value, count) = latent_pass(pairs, &mut unit, loss, sum);
            if let Some(batch) = batch.as_deref_mut() {
                batch.counts[j] = count;
            }
            if let Some(scale) = scale {
                grad_w_enc
                    .row_mut(j)
                    .as_slice_mut()
                    .expect("a fresh array is in standard layout")
                    .copy_from_slice(&grad_e_x);
                value += latent_value * f64::from(scale);
                counted += 1;
            }
        }
        let reduction = reduction?;
        if counted == 0 {
            return Some(NeLoss {
                value: 0.0,
                latents_counted: 0,
                grad_w_enc,
                grad_b_dec: Array1::zeros(dim),
            });
        }
        let over = match reduction {
            NeReduction::LatentMean => 1.0 / counted as f64,
            NeReduction::LatentSum | NeReduction::PairSum => 1.0,
        };
        grad_w_enc.mapv_inplace(|g| (f64::from(g) * over) as f32);
        Some(NeLoss {
            value: (value * over) as f32,
            latents_counted: counted,
            grad_w_enc,
            grad_b_dec: grad_inputs_sum
                .iter()
                .map(|&g| (-g * over) as f32)
                .collect(),
        })
    }
}

/// Per latent, the sum of this batch's unit embeddings (m x d) and how many there were.
struct BatchSums {
    sums: Array2<f32>,
    counts: Vec<usize>,
}

/// What one latent's share of the loss needs and where it goes.
struct LatentLoss<'a> {
    /// The latent's mean, of unit length.
    target: &'a [f32],
    /// The reduction's factor for this latent.
    scale: f32,
    /// Its gradient for W_enc (before the reduction's factor), overwritten.
    grad_e_x: &'a mut [f32],
    /// The inputs' gradient, added to.
    grad_inputs_sum: &'a mut [f64],
}

/// One latent's active examples: its encoder weights and the inputs of the examples.
#[derive(Clone, Copy)]
struct Pairs<'a> {
    weights: &'a [f32],
    inputs: ArrayView2<'a, f32>,
    examples: &'a [usize],
}

impl<'a> Pairs<'a> {
    /// Example i's input row.
    fn input(&self, i: usize) -> &'a [f32] {
        slice_of(self.inputs.index_axis_move(Axis(0), i))
    }
}

/// One latent's work: each example's unit embedding u_i = e_i / ||e_i||, e_i = w ⊙ x_i; with
/// `loss`, the gradient of Σ_i (1 - u_i · target) into it and that sum returned; with `sum`,
/// Σ u_i over the non-zero embeddings into it and their count returned. `unit` is scratch.
/// Compiled for the baseline x86-64 and for AVX2, taken where the CPU has it: the same IEEE
/// operations in the same order (no fused multiply-adds), so the same bits.
fn latent_pass(
    pairs: Pairs,
    unit: &mut [f32],
    loss: Option<LatentLoss>,
    sum: Option<&mut [f32]>,
) -> (f64, usize) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, all that the function needs.
        return unsafe { latent_pass_avx2(pairs, unit, loss, sum) };
    }
    latent_pass_any(pairs, unit, loss, sum)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn latent_pass_avx2(
    pairs: Pairs,
    unit: &mut [f32],
    loss: Option<LatentLoss>,
    sum: Option<&mut [f32]>,
) -> (f64, usize) {
    latent_pass_any(pairs, unit, loss, sum)
}

#[inline(always)]
fn latent_pass_any(
    pairs: Pairs,
    unit: &mut [f32],
    mut loss: Option<LatentLoss>,
    mut sum: Option<&mut [f32]>,
) -> (f64, usize) {
    let (mut latent_value, mut count) = (0.0f64, 0usize);
    if let Some(loss) = loss.as_mut() {
        loss.grad_e_x.fill(0.0);
    }
    if let Some(sum) = sum.as_deref_mut() {
        sum.fill(0.0);
    }
    for &i in pairs.examples {
        let x = pairs.input(i);
        // e = w ⊙ x, kept in `unit` until it is divided by its norm.
        unit.iter_mut()
            .zip(pairs.weights.iter().zip(x))
            .for_each(|(e, (&w, &x))| *e = w * x);
        let norm = dot(unit, unit).sqrt();
        if norm == 0.0 {
            continue;
        }
        unit.iter_mut().for_each(|u| *u /= norm);
        // A NaN norm reaches the loss (as NaN) but not the means.
        if let Some(sum) = sum.as_deref_mut()
            && norm > 0.0
        {
            sum.iter_mut().zip(unit.iter()).for_each(|(s, &u)| *s += u);
            count += 1;
        }
        let Some(loss) = loss.as_mut() else {
            continue;
        };
        let cos = dot(unit, loss.target);
        latent_value += f64::from(1.0 - cos);
        // d(1 - u·t)/de = -(t - (u·t) u) / ||e||.
        let factor = -loss.scale / norm;
        for ((((g, acc), &t), &u), (&x, &w)) in loss
            .grad_e_x
            .iter_mut()
            .zip(loss.grad_inputs_sum.iter_mut())
            .zip(loss.target)
            .zip(unit.iter())
            .zip(x.iter().zip(pairs.weights))
        {
            let grad_e = (t - u * cos) * factor;
            *g += grad_e * x;
            *acc += f64::from(grad_e * w);
        }
    }
    (latent_value, count)
}

/// A row of a standard-layout array as a slice.
fn slice_of(row: ArrayView1<'_, f32>) -> &[f32] {
    row.to_slice()
        .expect("rows of a standard-layout array are contiguous")
}

/// x · y added up as ndarray's `dot` of two contiguous vectors adds it (the form this loss was
/// first written in, whose bits it keeps): eight running sums over the elements at k mod 8,
/// combined as (((0 + (s0 + s4)) + (s1 + s5)) + (s2 + s6)) + (s3 + s7), then the products
/// after the last whole eight added one by one. Inlined, so that an AVX2 caller keeps the
/// eight sums in one register.
#[inline(always)]
fn dot(x: &[f32], y: &[f32]) -> f32 {
    let (x_eights, x_rest) = x.as_chunks::<8>();
    let (y_eights, y_rest) = y.as_chunks::<8>();
    let mut sums = [0.0f32; 8];
    for (xs, ys) in x_eights.iter().zip(y_eights) {
        for ((s, &x), &y) in sums.iter_mut().zip(xs).zip(ys) {
            *s += x * y;
        }
    }
    let mut total = 0.0f32;
    for l in 0..4 {
        total += sums[l] + sums[l + 4];
    }
    for (&x, &y) in x_rest.iter().zip(y_rest) {
        total += x * y;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dot product's order is ndarray's, bit for bit, at every tail length and with
    /// cancellation, in both builds.
    #[test]
    fn dot_adds_up_as_ndarray_does() {
        let wave = |i: usize| ((i * 2_654_435_761) % 1999) as f32 / 97.0 - 10.0;
        for len in (0..41).chain([64, 77, 200]) {
            let x: Vec<f32> = (0..len).map(|i| wave(i + 5)).collect();
            let y: Vec<f32> = (0..len).map(|i| wave(3 * i + 1) * 1e-3).collect();
            let theirs = ArrayView1::from(&x[..]).dot(&ArrayView1::from(&y[..]));
            assert_eq!(dot(&x, &y).to_bits(), theirs.to_bits(), "length {len}");
        }
    }

    /// The fused step gives the separate loss and update, bit for bit: the loss against the
    /// means as they stood, then the means moved.
    #[test]
    fn a_step_is_the_loss_then_the_update() {
        let wave = |i: usize| ((i * 37 % 101) as f32 / 50.0 - 1.0) * 1.3;
        let (batch, latents, dim) = (24, 10, 16);
        let w_enc = ndarray::Array2::from_shape_fn((latents, dim), |(j, k)| wave(j * dim + k));
        let inputs = ndarray::Array2::from_shape_fn((batch, dim), |(i, k)| wave(7 * i + k + 3));
        let acts = ndarray::Array2::from_shape_fn((batch, latents), |(i, j)| wave(i * 5 + j * 11));
        let active = ActiveSets::of(acts.view());
        let mut means = RunningMeans::new(latents, dim, 0.9);
        // Half the latents seen in an earlier batch.
        let earlier = acts.mapv(|a| a + 0.5);
        means.update(w_enc.view(), inputs.view(), earlier.view());
        let separate = means.clone();
        for reduction in [NeReduction::LatentMean, NeReduction::PairSum] {
            let loss = separate.loss_of_active(w_enc.view(), inputs.view(), &active, reduction);
            let mut fused = separate.clone();
            let step = fused
                .step_of_active(w_enc.view(), inputs.view(), &active, Some(reduction))
                .expect("asked for the loss");
            assert!(loss.latents_counted > 0);
            assert_eq!(step.value.to_bits(), loss.value.to_bits());
            assert_eq!(step.grad_w_enc, loss.grad_w_enc);
            assert_eq!(step.grad_b_dec, loss.grad_b_dec);
            let mut updated = separate.clone();
            updated.update_of_active(w_enc.view(), inputs.view(), &active);
            assert_eq!(fused, updated);
            assert_ne!(fused.means, separate.means);
        }
    }

    /// Both builds of the per-latent work give the same bits.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_avx2_builds_give_the_baseline_bits() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            eprintln!("skipped: this CPU has no AVX2");
            return;
        }
        let wave = |i: usize| ((i * 37 % 101) as f32 / 50.0 - 1.0) * 1.3;
        let dim = 64;
        let weights: Vec<f32> = (0..dim).map(|k| wave(k + 7)).collect();
        let mut inputs = ndarray::Array2::from_shape_fn((20, dim), |(i, k)| wave(i * dim + k));
        inputs.row_mut(3).fill(0.0);
        let examples: Vec<usize> = (0..20).filter(|i| i % 3 != 1).collect();
        let pairs = Pairs {
            weights: &weights,
            inputs: inputs.view(),
            examples: &examples,
        };
        let target: Vec<f32> = (0..dim).map(|k| wave(3 * k + 2) / 4.0).collect();
        let bits32 = |a: &[f32]| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        let run = |wide: bool| {
            let (mut unit, mut grad, mut inputs_sum) =
                (vec![0.0; dim], vec![0.0; dim], vec![0.0f64; dim]);
            let mut sum = vec![0.0; dim];
            let loss = LatentLoss {
                target: &target,
                scale: 0.3,
                grad_e_x: &mut grad,
                grad_inputs_sum: &mut inputs_sum,
            };
            let (value, count) = if wide {
                // SAFETY: the CPU has AVX2.
                unsafe { latent_pass_avx2(pairs, &mut unit, Some(loss), Some(&mut sum)) }
            } else {
                latent_pass_any(pairs, &mut unit, Some(loss), Some(&mut sum))
            };
            let inputs_bits: Vec<u64> = inputs_sum.iter().map(|v| v.to_bits()).collect();
            (
                value.to_bits(),
                bits32(&grad),
                inputs_bits,
                count,
                bits32(&sum),
            )
        };
        let base = run(false);
        assert!(base.3 == examples.len() - 1 && base.1.iter().any(|&b| b != 0));
        assert_eq!(base, run(true));
    }
}
