//! The NE loss's other form: each active example's embedding against its latent's running mean
//! embedding from earlier batches (one reading of the paper's "momentum 0.9"). The means are
//! constants of the differentiation, updated after each step with momentum.
use crate::ne_loss::{NeLoss, NeReduction};
use ndarray::{Array1, Array2, ArrayView2, Axis};

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
        let (latents, dim) = w_enc.dim();
        assert_eq!(self.means.dim(), (latents, dim), "running means: shape");
        assert_eq!(
            acts.dim(),
            (inputs.nrows(), latents),
            "running means: acts shape"
        );
        let mut grad_w_enc = Array2::<f32>::zeros((latents, dim));
        let mut grad_inputs_sum = Array1::<f64>::zeros(dim);
        let (mut value, mut counted) = (0.0f64, 0usize);
        for j in (0..latents).filter(|&j| self.seen[j]) {
            let mean = self.means.row(j);
            let mean_norm = mean.dot(&mean).sqrt();
            let active: Vec<usize> = (0..inputs.nrows())
                .filter(|&i| acts[[i, j]] > 0.0)
                .collect();
            if active.is_empty() || mean_norm == 0.0 {
                continue;
            }
            let target = &mean / mean_norm;
            let weights = w_enc.row(j);
            let scale = match reduction {
                NeReduction::PairSum => 1.0,
                NeReduction::LatentMean | NeReduction::LatentSum => 1.0 / active.len() as f32,
            };
            let mut latent_value = 0.0f64;
            let mut grad_e_x = Array1::<f32>::zeros(dim);
            for &i in &active {
                let x = inputs.row(i);
                let e = &weights * &x;
                let norm = e.dot(&e).sqrt();
                if norm == 0.0 {
                    continue;
                }
                let u = &e / norm;
                let cos = u.dot(&target);
                latent_value += f64::from(1.0 - cos);
                // d(1 - u·t)/de = -(t - (u·t) u) / ||e||.
                let grad_e = (&target - &(&u * cos)) * (-scale / norm);
                grad_e_x += &(&grad_e * &x);
                let grad_x = &grad_e * &weights;
                grad_inputs_sum.zip_mut_with(&grad_x, |acc, &g| *acc += f64::from(g));
            }
            grad_w_enc.row_mut(j).assign(&grad_e_x);
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
            grad_b_dec: grad_inputs_sum.mapv(|g| (-g * over) as f32),
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
        for (j, latent_acts) in acts.axis_iter(Axis(1)).enumerate() {
            let mut sum = Array1::<f32>::zeros(inputs.ncols());
            let mut count = 0usize;
            for (i, _) in latent_acts.iter().enumerate().filter(|(_, a)| **a > 0.0) {
                let e = &w_enc.row(j) * &inputs.row(i);
                let norm = e.dot(&e).sqrt();
                if norm > 0.0 {
                    sum += &(e / norm);
                    count += 1;
                }
            }
            if count == 0 {
                continue;
            }
            let batch_mean = sum / count as f32;
            let momentum = self.momentum;
            let mut mean = self.means.row_mut(j);
            if self.seen[j] {
                mean.zip_mut_with(&batch_mean, |m, &b| {
                    *m = momentum * *m + (1.0 - momentum) * b
                });
            } else {
                mean.assign(&batch_mean);
                self.seen[j] = true;
            }
        }
    }
}
