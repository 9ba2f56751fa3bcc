//! The neuron-embedding loss over a batch, computed over active (example, latent) pairs only.
//!
//! For latent j with active set A_j (n_j examples) and unit embeddings u_ij, the sum over ordered
//! pairs i != k of u_ij · u_kj equals ||s_j||² - Σ_i ||u_ij||² with s_j = Σ_i u_ij. That identity
//! turns the O(n_j²) pairwise mean into one pass over the active pairs, so the whole loss and its
//! gradient cost O(active pairs × d) on top of one scan of the activations.
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, Axis};
use rayon::prelude::*;

/// The NE loss of one batch and its gradients.
#[derive(Debug, Clone)]
pub struct NeLoss {
    /// Mean over latents with at least two active examples of their mean pairwise cosine distance.
    pub value: f32,
    /// Latents that contributed (n_j >= 2).
    pub latents_counted: usize,
    /// d value / d W_enc (m x d).
    pub grad_w_enc: Array2<f32>,
    /// d value / d b_dec (d), through x = h - b_dec.
    pub grad_b_dec: Array1<f32>,
}

/// NE loss for encoder weights `w_enc` (m x d), centred inputs `centered` = h - b_dec (n x d) and
/// latent activations `acts` (n x m); example i is active for latent j when acts[i, j] > 0.
///
/// The active sets are constants of the differentiation (they are where ReLU is on, so moving
/// them is not differentiable anyway). An active example whose embedding is exactly zero has no
/// direction: its cosine with every other example is taken as 0 (as in the pairwise definition)
/// and it passes no gradient.
///
/// Latents run in parallel; each owns its gradient row and its share of the b_dec gradient, and
/// the shares are summed in latent order, so the result does not depend on the thread count.
///
/// # Panics
/// If the shapes disagree: `centered` must have as many columns as `w_enc`, and `acts` must be
/// `centered.nrows()` x `w_enc.nrows()`. The caller builds all three from one model and batch,
/// so a mismatch is a bug in the caller, not bad data.
pub fn ne_loss(w_enc: ArrayView2<f32>, centered: ArrayView2<f32>, acts: ArrayView2<f32>) -> NeLoss {
    let (latents, dim) = w_enc.dim();
    let batch = centered.nrows();
    assert_eq!(
        centered.ncols(),
        dim,
        "ne_loss: centered inputs have {} columns but w_enc has {dim}",
        centered.ncols()
    );
    assert_eq!(
        acts.dim(),
        (batch, latents),
        "ne_loss: acts must be batch x latents = ({batch}, {latents})"
    );
    // Contiguous rows let the per-pair loops run over plain slices (and vectorise).
    let w_enc = w_enc.as_standard_layout();
    let centered = centered.as_standard_layout();

    let mut grad_w_enc = Array2::<f32>::zeros((latents, dim));
    // Row j: w_j ⊙ Σ_i de_ij, latent j's part of Σ_i d value / d centered[i, :]. Kept per latent
    // so that the sum over latents runs in a fixed order.
    let mut centered_grad_shares = Array2::<f32>::zeros((latents, dim));
    let latent_losses: Vec<Option<f64>> = grad_w_enc
        .axis_iter_mut(Axis(0))
        .into_par_iter()
        .zip(centered_grad_shares.axis_iter_mut(Axis(0)))
        .zip(w_enc.axis_iter(Axis(0)))
        .zip(acts.axis_iter(Axis(1)))
        .map_init(
            LatentScratch::default,
            |scratch, (((grad_w_row, share), weights), latent_acts)| {
                latent_term(
                    weights,
                    centered.view(),
                    latent_acts,
                    grad_w_row,
                    share,
                    scratch,
                )
            },
        )
        .collect();

    let latents_counted = latent_losses.iter().flatten().count();
    if latents_counted == 0 {
        return NeLoss {
            value: 0.0,
            latents_counted,
            grad_w_enc,
            grad_b_dec: Array1::zeros(dim),
        };
    }
    let inv_counted = 1.0 / latents_counted as f64;
    let value = latent_losses.iter().flatten().sum::<f64>() * inv_counted;
    grad_w_enc.mapv_inplace(|g| (f64::from(g) * inv_counted) as f32);
    let mut centered_grad_sum = vec![0.0f64; dim];
    for share in centered_grad_shares.rows() {
        for (acc, &g) in centered_grad_sum.iter_mut().zip(share) {
            *acc += f64::from(g);
        }
    }
    // centered = h - b_dec, so b_dec's gradient is minus the summed gradient of the rows.
    let grad_b_dec = centered_grad_sum
        .iter()
        .map(|&g| (-g * inv_counted) as f32)
        .collect();
    NeLoss {
        value: value as f32,
        latents_counted,
        grad_w_enc,
        grad_b_dec,
    }
}

/// Per-thread buffers reused across latents, so the parallel loop does not allocate per latent.
#[derive(Default)]
struct LatentScratch {
    active: Vec<usize>,
    /// Unit embeddings of the active examples, one after another (n_j x d).
    units: Vec<f32>,
    inv_norms: Vec<f32>,
    unit_sum: Vec<f32>,
    de_sum: Vec<f32>,
}

/// One latent's mean pairwise cosine distance over its active examples, or `None` when it has
/// fewer than two. Writes the gradient of that latent loss (not yet divided by the number of
/// counted latents) into `grad_w_row`, and `w ⊙ Σ_i de_i` into `share`; both stay zero for `None`.
fn latent_term(
    weights: ArrayView1<f32>,
    centered: ArrayView2<f32>,
    latent_acts: ArrayView1<f32>,
    mut grad_w_row: ArrayViewMut1<f32>,
    mut share: ArrayViewMut1<f32>,
    scratch: &mut LatentScratch,
) -> Option<f64> {
    let LatentScratch {
        active,
        units,
        inv_norms,
        unit_sum,
        de_sum,
    } = scratch;
    active.clear();
    active.extend(
        latent_acts
            .iter()
            .enumerate()
            .filter(|&(_, &a)| a > 0.0)
            .map(|(i, _)| i),
    );
    let count = active.len();
    if count < 2 {
        return None;
    }
    let dim = weights.len();
    let weights = weights
        .as_slice()
        .expect("rows of a standard-layout array are contiguous");
    let row = |i: usize| {
        centered
            .row(i)
            .to_slice()
            .expect("rows of a standard-layout array are contiguous")
    };

    units.clear();
    units.resize(count * dim, 0.0);
    inv_norms.clear();
    unit_sum.clear();
    unit_sum.resize(dim, 0.0);
    let mut unit_norms_sq = 0.0f64;
    for (unit, &i) in units.chunks_exact_mut(dim).zip(active.iter()) {
        for ((u, &w), &x) in unit.iter_mut().zip(weights).zip(row(i)) {
            *u = w * x;
        }
        let norm = unit.iter().map(|u| u * u).sum::<f32>().sqrt();
        let inv_norm = if norm > 0.0 { 1.0 / norm } else { 0.0 };
        for (u, s) in unit.iter_mut().zip(unit_sum.iter_mut()) {
            *u *= inv_norm;
            *s += *u;
        }
        unit_norms_sq += unit
            .iter()
            .map(|&u| f64::from(u) * f64::from(u))
            .sum::<f64>();
        inv_norms.push(inv_norm);
    }
    let ordered_pairs = (count * (count - 1)) as f64;
    let sum_sq = unit_sum
        .iter()
        .map(|&s| f64::from(s) * f64::from(s))
        .sum::<f64>();
    let loss = 1.0 - (sum_sq - unit_norms_sq) / ordered_pairs;

    // d loss / d u_i = -2 (s - u_i) / pairs; the u_i part is along u_i and vanishes when pulled
    // back through u = e / ||e||, whose Jacobian is (I - u uᵀ) / ||e||.
    let coef = (-2.0 / ordered_pairs) as f32;
    de_sum.clear();
    de_sum.resize(dim, 0.0);
    let grad_w_row = grad_w_row
        .as_slice_mut()
        .expect("rows of a fresh standard-layout array are contiguous");
    for ((unit, &inv_norm), &i) in units
        .chunks_exact(dim)
        .zip(inv_norms.iter())
        .zip(active.iter())
    {
        if inv_norm == 0.0 {
            continue;
        }
        let along: f32 = unit.iter().zip(unit_sum.iter()).map(|(u, s)| u * s).sum();
        let scale = coef * inv_norm;
        for (((gw, ds), (&u, &s)), &x) in grad_w_row
            .iter_mut()
            .zip(de_sum.iter_mut())
            .zip(unit.iter().zip(unit_sum.iter()))
            .zip(row(i))
        {
            let de = scale * (s - along * u);
            *gw += de * x;
            *ds += de;
        }
    }
    for ((sh, &w), &ds) in share.iter_mut().zip(weights).zip(de_sum.iter()) {
        *sh = w * ds;
    }
    Some(loss)
}
