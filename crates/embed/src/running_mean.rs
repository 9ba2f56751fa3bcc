//! The NE loss's other form: each active example's embedding against its latent's running mean
//! embedding from earlier batches (one reading of the paper's "momentum 0.9"). The means are
//! constants of the differentiation, updated after each step with momentum.
use crate::ne_loss::{ActiveSets, NeLoss, NeReduction};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rayon::prelude::*;

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
        let (latents, dim) = w_enc.dim();
        assert_eq!(self.means.dim(), (latents, dim), "running means: shape");
        assert_eq!(
            active.latents(),
            latents,
            "running means: one set per latent"
        );
        assert_eq!(inputs.ncols(), dim, "running means: inputs shape");
        // Plain slices and reused buffers: every element gets the arithmetic of the array
        // expressions this replaces, and the dot products are ndarray's own.
        let (w_enc, inputs) = (w_enc.as_standard_layout(), inputs.as_standard_layout());
        let mut grad_w_enc = Array2::<f32>::zeros((latents, dim));
        let mut grad_inputs_sum = vec![0.0f64; dim];
        let (mut value, mut counted) = (0.0f64, 0usize);
        let mut target = vec![0.0f32; dim];
        let mut unit = vec![0.0f32; dim];
        let mut grad_e_x = vec![0.0f32; dim];
        for j in (0..latents).filter(|&j| self.seen[j]) {
            let mean = slice_of(self.means.row(j));
            let mean_norm = dot(mean, mean).sqrt();
            let examples = active.of_latent(j);
            if examples.is_empty() || mean_norm == 0.0 {
                continue;
            }
            target
                .iter_mut()
                .zip(mean)
                .for_each(|(t, &m)| *t = m / mean_norm);
            let weights = slice_of(w_enc.row(j));
            let scale = match reduction {
                NeReduction::PairSum => 1.0,
                NeReduction::LatentMean | NeReduction::LatentSum => 1.0 / examples.len() as f32,
            };
            let mut latent_value = 0.0f64;
            grad_e_x.fill(0.0);
            for &i in examples {
                let x = slice_of(inputs.row(i));
                // e = w ⊙ x, kept in `unit` until it is divided by its norm.
                unit.iter_mut()
                    .zip(weights.iter().zip(x))
                    .for_each(|(e, (&w, &x))| *e = w * x);
                let norm = dot(&unit, &unit).sqrt();
                if norm == 0.0 {
                    continue;
                }
                unit.iter_mut().for_each(|u| *u /= norm);
                let cos = dot(&unit, &target);
                latent_value += f64::from(1.0 - cos);
                // d(1 - u·t)/de = -(t - (u·t) u) / ||e||.
                let factor = -scale / norm;
                for ((((g, acc), &t), &u), (&x, &w)) in grad_e_x
                    .iter_mut()
                    .zip(grad_inputs_sum.iter_mut())
                    .zip(&target)
                    .zip(&unit)
                    .zip(x.iter().zip(weights))
                {
                    let grad_e = (t - u * cos) * factor;
                    *g += grad_e * x;
                    *acc += f64::from(grad_e * w);
                }
            }
            grad_w_enc
                .row_mut(j)
                .as_slice_mut()
                .expect("a fresh array is in standard layout")
                .copy_from_slice(&grad_e_x);
            value += latent_value * f64::from(scale);
            counted += 1;
        }
        if counted == 0 {
            return NeLoss {
                value: 0.0,
                latents_counted: 0,
                grad_w_enc,
                grad_b_dec: Array1::zeros(dim),
            };
        }
        let over = match reduction {
            NeReduction::LatentMean => 1.0 / counted as f64,
            NeReduction::LatentSum | NeReduction::PairSum => 1.0,
        };
        grad_w_enc.mapv_inplace(|g| (f64::from(g) * over) as f32);
        NeLoss {
            value: (value * over) as f32,
            latents_counted: counted,
            grad_w_enc,
            grad_b_dec: grad_inputs_sum
                .iter()
                .map(|&g| (-g * over) as f32)
                .collect(),
        }
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

    /// `update` with the active sets given. Latents in parallel, each alone: the result does
    /// not depend on the thread count.
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
        let (latents, dim) = w_enc.dim();
        assert_eq!(self.means.dim(), (latents, dim), "running means: shape");
        assert_eq!(
            active.latents(),
            latents,
            "running means: one set per latent"
        );
        let (w_enc, inputs) = (w_enc.as_standard_layout(), inputs.as_standard_layout());
        let momentum = self.momentum;
        self.means
            .axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(self.seen.par_iter_mut())
            .enumerate()
            .for_each_init(
                || (vec![0.0f32; dim], vec![0.0f32; dim]),
                |(sum, embedding), (j, (mut mean, seen))| {
                    let weights = slice_of(w_enc.row(j));
                    sum.fill(0.0);
                    let mut count = 0usize;
                    for &i in active.of_latent(j) {
                        embedding
                            .iter_mut()
                            .zip(weights.iter().zip(slice_of(inputs.row(i))))
                            .for_each(|(e, (&w, &x))| *e = w * x);
                        let norm = dot(embedding, embedding).sqrt();
                        if norm > 0.0 {
                            sum.iter_mut()
                                .zip(embedding.iter())
                                .for_each(|(s, &e)| *s += e / norm);
                            count += 1;
                        }
                    }
                    if count == 0 {
                        return;
                    }
                    let count = count as f32;
                    if *seen {
                        mean.iter_mut().zip(sum.iter()).for_each(|(m, &s)| {
                            *m = momentum * *m + (1.0 - momentum) * (s / count);
                        });
                    } else {
                        mean.iter_mut()
                            .zip(sum.iter())
                            .for_each(|(m, &s)| *m = s / count);
                        *seen = true;
                    }
                },
            );
    }
}

/// A row of a standard-layout array as a slice.
fn slice_of<'a>(row: ArrayView1<'a, f32>) -> &'a [f32] {
    row.to_slice()
        .expect("rows of a standard-layout array are contiguous")
}

/// ndarray's dot product of two slices (the function the array expressions called, so the
/// same bits).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    ArrayView1::from(a).dot(&ArrayView1::from(b))
}
