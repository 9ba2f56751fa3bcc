//! The neuron-embedding loss over a batch, computed over active (example, latent) pairs only.
//!
//! For latent j with active set A_j (n_j examples) and unit embeddings u_ij, the sum over ordered
//! pairs i != k of u_ij · u_kj equals ||s_j||² - Σ_i ||u_ij||² with s_j = Σ_i u_ij, and
//! ||u_ij||² is 1 (0 for a zero embedding, whose cosine is taken as 0). That identity
//! turns the O(n_j²) pairwise mean into one pass over the active pairs, so the whole loss and its
//! gradient cost O(active pairs × d) on top of one scan of the activations.
use crate::weighted_row_sums;
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
/// Blocks of latents run in parallel; each latent owns its gradient row and its share of the
/// b_dec gradient, and the shares are summed in latent order, so the result does not depend on the thread count.
///
/// # Panics
/// If the shapes disagree: `centered` must have as many columns as `w_enc`, and `acts` must be
/// `centered.nrows()` x `w_enc.nrows()`. The caller builds all three from one model and batch,
/// so a mismatch is a bug in the caller, not bad data.
pub fn ne_loss(w_enc: ArrayView2<f32>, centered: ArrayView2<f32>, acts: ArrayView2<f32>) -> NeLoss {
    ne_loss_reduced(w_enc, centered, acts, NeReduction::LatentMean)
}

/// How the per-latent mean pairwise distances are combined into one loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NeReduction {
    /// Mean over the latents counted (`ne_loss`).
    #[default]
    LatentMean,
    /// Sum over the latents counted.
    LatentSum,
    /// Each latent weighted by its active examples: a sum over active (example, latent) pairs
    /// of the example's mean distance to the latent's other active examples.
    PairSum,
}

/// `ne_loss` with the latents combined as `reduction` says (value and gradients alike).
///
/// # Panics
/// As `ne_loss`, when the shapes disagree.
pub fn ne_loss_reduced(
    w_enc: ArrayView2<f32>,
    centered: ArrayView2<f32>,
    acts: ArrayView2<f32>,
    reduction: NeReduction,
) -> NeLoss {
    let active = active_sets_of(w_enc, centered, acts);
    ne_loss_of_active(w_enc, centered, &active, reduction)
}

/// The active sets of `acts`, which must be one row per row of `centered` and one column per
/// row of `w_enc`.
fn active_sets_of(
    w_enc: ArrayView2<f32>,
    centered: ArrayView2<f32>,
    acts: ArrayView2<f32>,
) -> ActiveSets {
    let (latents, batch) = (w_enc.nrows(), centered.nrows());
    assert_eq!(
        acts.dim(),
        (batch, latents),
        "ne_loss: acts must be batch x latents = ({batch}, {latents})"
    );
    ActiveSets::of(acts.as_standard_layout().view())
}

/// Per latent, the examples of a batch where it is active (activation > 0), ascending: latent
/// j's are `examples[starts[j]..starts[j + 1]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveSets {
    starts: Vec<usize>,
    examples: Vec<usize>,
}

impl ActiveSets {
    /// The active sets of `acts` (examples x latents; fastest in standard layout). Blocks of
    /// latents in parallel; each block reads `acts` row by row (see `LATENT_BLOCK`).
    pub fn of(acts: ArrayView2<f32>) -> Self {
        let blocks: Vec<Vec<Vec<usize>>> = acts
            .axis_chunks_iter(Axis(1), LATENT_BLOCK)
            .into_par_iter()
            .map(|block| {
                let mut sets = Vec::new();
                find_active_sets(block, &mut sets);
                sets
            })
            .collect();
        Self::from_sets(blocks.into_iter().flatten())
    }

    /// The sets given latent by latent, each ascending.
    ///
    /// # Panics
    /// If a set is not ascending.
    pub fn from_sets<S: IntoIterator<Item = usize>>(sets: impl IntoIterator<Item = S>) -> Self {
        let mut starts = vec![0];
        let mut examples = Vec::new();
        for set in sets {
            let start = examples.len();
            examples.extend(set);
            assert!(
                examples[start..].is_sorted(),
                "an active set lists its examples in ascending order"
            );
            starts.push(examples.len());
        }
        Self { starts, examples }
    }

    /// Latents.
    pub fn latents(&self) -> usize {
        self.starts.len() - 1
    }

    /// Latent `j`'s active examples, ascending.
    pub fn of_latent(&self, j: usize) -> &[usize] {
        &self.examples[self.starts[j]..self.starts[j + 1]]
    }
}

/// `ne_loss_reduced` with the active sets given (found by the caller, who usually has them).
///
/// # Panics
/// If `centered` does not have as many columns as `w_enc`, or `active` is not one set per
/// latent (row of `w_enc`), or a set names an example beyond `centered`'s rows.
pub fn ne_loss_of_active(
    w_enc: ArrayView2<f32>,
    centered: ArrayView2<f32>,
    active: &ActiveSets,
    reduction: NeReduction,
) -> NeLoss {
    let (latents, dim) = w_enc.dim();
    assert_eq!(
        centered.ncols(),
        dim,
        "ne_loss: centered inputs have {} columns but w_enc has {dim}",
        centered.ncols()
    );
    assert_eq!(
        active.latents(),
        latents,
        "ne_loss: one active set per latent"
    );
    // Contiguous rows let the per-pair loops run over plain slices (and vectorise).
    let w_enc = w_enc.as_standard_layout();
    let centered = centered.as_standard_layout();

    let mut grad_w_enc = Array2::<f32>::zeros((latents, dim));
    // Row j: w_j ⊙ Σ_i de_ij, latent j's part of Σ_i d value / d centered[i, :]. Kept per latent
    // so that the sum over latents runs in a fixed order.
    let mut centered_grad_shares = Array2::<f32>::zeros((latents, dim));
    let block_losses: Vec<Vec<Option<f64>>> = grad_w_enc
        .axis_chunks_iter_mut(Axis(0), LATENT_BLOCK)
        .into_par_iter()
        .zip(centered_grad_shares.axis_chunks_iter_mut(Axis(0), LATENT_BLOCK))
        .zip(w_enc.axis_chunks_iter(Axis(0), LATENT_BLOCK))
        .enumerate()
        .map_init(
            LatentScratch::default,
            |scratch, (block, ((mut grad_w_block, mut share_block), w_block))| {
                grad_w_block
                    .rows_mut()
                    .into_iter()
                    .zip(share_block.rows_mut())
                    .zip(w_block.rows())
                    .enumerate()
                    .map(|(k, ((grad_w_row, share), weights))| {
                        let set = active.of_latent(block * LATENT_BLOCK + k);
                        latent_term(weights, centered.view(), set, grad_w_row, share, scratch)
                    })
                    .collect()
            },
        )
        .collect();
    let mut latent_losses: Vec<Option<f64>> = block_losses.into_iter().flatten().collect();

    let latents_counted = latent_losses.iter().flatten().count();
    if latents_counted == 0 {
        return NeLoss {
            value: 0.0,
            latents_counted,
            grad_w_enc,
            grad_b_dec: Array1::zeros(dim),
        };
    }
    if reduction == NeReduction::PairSum {
        let rows = grad_w_enc
            .rows_mut()
            .into_iter()
            .zip(centered_grad_shares.rows_mut());
        for (j, ((mut grad, mut share), loss)) in rows.zip(&mut latent_losses).enumerate() {
            let active = active.of_latent(j).len() as f32;
            grad *= active;
            share *= active;
            if let Some(loss) = loss {
                *loss *= f64::from(active);
            }
        }
    }
    // The mean's 1 / counted is applied once at the end, as a sum's 1.
    let inv_counted = match reduction {
        NeReduction::LatentMean => 1.0 / latents_counted as f64,
        NeReduction::LatentSum | NeReduction::PairSum => 1.0,
    };
    let value = latent_losses.iter().flatten().sum::<f64>() * inv_counted;
    grad_w_enc.mapv_inplace(|g| (f64::from(g) * inv_counted) as f32);
    let mut centered_grad_sum = vec![0.0f64; dim];
    // Over plain slices, so that the additions vectorise across dimensions (each dimension's
    // sum still runs over the latents in order).
    let shares = centered_grad_shares
        .as_slice()
        .expect("a fresh array is in standard layout");
    for share in shares.chunks_exact(dim.max(1)) {
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

/// The NE loss with its gradient for each input row: what a model that is not our SAE needs to
/// put the loss behind any transform before its encoder.
#[derive(Debug, Clone)]
pub struct NeLossInputs {
    /// As `NeLoss::value`.
    pub value: f32,
    /// As `NeLoss::latents_counted`.
    pub latents_counted: usize,
    /// d value / d W_enc (m x d).
    pub grad_w_enc: Array2<f32>,
    /// d value / d inputs (n x d): row i gathers the pull of every latent i is active for.
    pub grad_inputs: Array2<f32>,
}

/// The NE loss of encoder weights `w_enc` (m x d) on `inputs` (n x d, whatever the encoder
/// reads: centred, normalised or raw) with activations `acts` (n x m), and its gradients for the
/// weights and for the inputs. The value and `grad_w_enc` are `ne_loss`'s; each input row's
/// gradient is Σ_j w_j ⊙ de_ij / (latents counted), with de_ij as `latent_term` derives it,
/// added latent by latent in a fixed order (deterministic, serial over latents).
///
/// # Panics
/// As `ne_loss`, when the shapes disagree.
pub fn ne_loss_with_input_grads(
    inputs: ArrayView2<f32>,
    w_enc: ArrayView2<f32>,
    acts: ArrayView2<f32>,
) -> NeLossInputs {
    let active = active_sets_of(w_enc, inputs, acts);
    let loss = ne_loss_of_active(w_enc, inputs, &active, NeReduction::LatentMean);
    let mut grad_inputs = Array2::<f32>::zeros(inputs.raw_dim());
    if loss.latents_counted > 0 {
        let inv_counted = 1.0 / loss.latents_counted as f32;
        for (j, weights) in w_enc.rows().into_iter().enumerate() {
            let examples = active.of_latent(j);
            add_input_grads(weights, inputs, examples, inv_counted, &mut grad_inputs);
        }
    }
    NeLossInputs {
        value: loss.value,
        latents_counted: loss.latents_counted,
        grad_w_enc: loss.grad_w_enc,
        grad_inputs,
    }
}

/// Adds `scale` × one latent's d loss / d x_i to row i of `grad` for each of its `active`
/// examples: with e_i = w ⊙ x_i, u_i = e_i / ||e_i||, s = Σ_i u_i and c = -2 / (n (n - 1)),
/// d loss / d e_i = c (s - (u_i · s) u_i) / ||e_i||, and d loss / d x_i = w ⊙ that. Zero
/// embeddings pass nothing, as in `ne_loss`.
fn add_input_grads(
    weights: ArrayView1<f32>,
    inputs: ArrayView2<f32>,
    active: &[usize],
    scale: f32,
    grad: &mut Array2<f32>,
) {
    let count = active.len();
    if count < 2 {
        return;
    }
    let units: Vec<(usize, Array1<f32>, f32)> = active
        .iter()
        .filter_map(|&i| {
            let e = &weights * &inputs.row(i);
            let norm = e.dot(&e).sqrt();
            (norm > 0.0).then(|| (i, e / norm, norm))
        })
        .collect();
    let mut unit_sum = Array1::<f32>::zeros(weights.len());
    units.iter().for_each(|(_, u, _)| unit_sum += u);
    let coef = -2.0 / (count * (count - 1)) as f32;
    for (i, u, norm) in &units {
        let de = (&unit_sum - &(u * u.dot(&unit_sum))) * (coef / norm);
        grad.row_mut(*i).scaled_add(scale, &(&de * &weights));
    }
}

/// Latents handled together by one task. Their activations for one example share a cache line
/// (16 f32), so their active sets are found by reading `acts` row by row, rather than one latent's
/// column at a time, whose elements lie m floats apart and land in the same few L1 cache sets.
const LATENT_BLOCK: usize = 16;

/// Per-thread buffers reused across latents, so the parallel loop does not allocate per latent.
#[derive(Default)]
struct LatentScratch {
    /// ||e_i||², then 1 / ||e_i||, for each active example in order.
    norms: Vec<f32>,
    /// (example, 1 / ||e_i||) for each active example, in order (0 for a zero embedding).
    inv_norms: Vec<(usize, f32)>,
    /// Σ_i x_i / ||e_i||; the unit sum is s = w ⊙ this.
    scaled_input_sum: Vec<f32>,
    unit_sum: Vec<f32>,
    weighted_unit_sum: Vec<f32>,
    /// (example, b_i) for each active example with a nonzero embedding, in order.
    projections: Vec<(usize, f32)>,
    /// Σ_i b_i x_i ⊙ x_i and Σ_i b_i x_i for the gradient (see `latent_term`).
    input_sq_sum: Vec<f32>,
    projected_input_sum: Vec<f32>,
}

/// Fills `active_sets[k]` with the examples where column k of `acts_block` is positive. Each row
/// is first reduced to a bit mask (a branch-free loop the compiler vectorises), so the cost per
/// row is a few instructions plus one push per active pair.
fn find_active_sets(acts_block: ArrayView2<f32>, active_sets: &mut Vec<Vec<usize>>) {
    const _: () = assert!(LATENT_BLOCK <= u32::BITS as usize);
    active_sets.resize_with(acts_block.ncols(), Vec::new);
    for set in active_sets.iter_mut() {
        set.clear();
    }
    for (i, example_acts) in acts_block.rows().into_iter().enumerate() {
        let mut mask = example_acts
            .iter()
            .enumerate()
            .fold(0u32, |mask, (k, &a)| mask | (u32::from(a > 0.0) << k));
        while mask != 0 {
            active_sets[mask.trailing_zeros() as usize].push(i);
            mask &= mask - 1;
        }
    }
}

/// One latent's mean pairwise cosine distance over its `active` examples, or `None` when it has
/// fewer than two. Writes the gradient of that latent loss (not yet divided by the number of
/// counted latents) into `grad_w_row`, and `w ⊙ Σ_i de_i` into `share`; both stay zero for `None`.
///
/// With c = -2 / (n (n - 1)), the gradient reaching e_i = w ⊙ x_i is
/// de_i = c (s - (u_i · s) u_i) / ||e_i|| = a_i s - b_i (w ⊙ x_i), where a_i = c / ||e_i|| and
/// b_i = a_i (u_i · s) / ||e_i||. The sums over i then factor through w and s:
/// Σ_i de_i ⊙ x_i = s ⊙ Σ_i a_i x_i - w ⊙ Σ_i b_i x_i ⊙ x_i and
/// Σ_i de_i = s Σ_i a_i - w ⊙ Σ_i b_i x_i. Σ_i a_i x_i is c times the sum pass 1 builds for s,
/// so neither the unit vectors nor the per-example gradients are ever stored: two passes over
/// the active inputs, with one running sum in the first and two in the second.
///
/// Compiled twice: for the baseline x86-64 and for AVX2, taken where the CPU has it. Both do the
/// same IEEE operations on every element in the same order (AVX2 only widens the vectors: no
/// fused multiply-adds, and `lane_sum` fixes its lanes), so they give the same bits.
fn latent_term(
    weights: ArrayView1<f32>,
    centered: ArrayView2<f32>,
    active: &[usize],
    grad_w_row: ArrayViewMut1<f32>,
    share: ArrayViewMut1<f32>,
    scratch: &mut LatentScratch,
) -> Option<f64> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, all that `latent_term_avx2` needs.
        return unsafe { latent_term_avx2(weights, centered, active, grad_w_row, share, scratch) };
    }
    latent_term_any(weights, centered, active, grad_w_row, share, scratch)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn latent_term_avx2(
    weights: ArrayView1<f32>,
    centered: ArrayView2<f32>,
    active: &[usize],
    grad_w_row: ArrayViewMut1<f32>,
    share: ArrayViewMut1<f32>,
    scratch: &mut LatentScratch,
) -> Option<f64> {
    latent_term_any(weights, centered, active, grad_w_row, share, scratch)
}

/// `latent_term` for whichever instructions its caller is compiled for.
#[inline(always)]
fn latent_term_any(
    weights: ArrayView1<f32>,
    centered: ArrayView2<f32>,
    active: &[usize],
    mut grad_w_row: ArrayViewMut1<f32>,
    mut share: ArrayViewMut1<f32>,
    scratch: &mut LatentScratch,
) -> Option<f64> {
    let LatentScratch {
        norms,
        inv_norms,
        scaled_input_sum,
        unit_sum,
        weighted_unit_sum,
        projections,
        input_sq_sum,
        projected_input_sum,
    } = scratch;
    let count = active.len();
    if count < 2 {
        return None;
    }
    let dim = weights.len();
    let weights = weights
        .as_slice()
        .expect("rows of a standard-layout array are contiguous");
    let inputs = centered
        .as_slice()
        .expect("a standard-layout array is contiguous");
    let row = |i: usize| &inputs[i * dim..(i + 1) * dim];

    // Pass 1: norms, then the unit sum s = Σ_i e_i / ||e_i|| = w ⊙ Σ_i x_i / ||e_i||.
    // ||e_i||² = Σ_k (w_k x_ik)², without storing e_i; the square roots and divisions run in a
    // loop of their own, where they vectorise and no example waits on the one before.
    // (A plain loop: `extend` with a closure would be compiled outside this function's
    // instruction set.)
    norms.clear();
    for &i in active {
        norms.push(lane_sum(weights, row(i), |w, x| (w * x) * (w * x)));
    }
    let mut nonzero = 0usize;
    for norm in norms.iter_mut() {
        let root = norm.sqrt();
        nonzero += usize::from(root != 0.0);
        // A NaN norm (NaN input) must not pass for a zero embedding: let it propagate.
        *norm = if root == 0.0 { 0.0 } else { 1.0 / root };
    }
    inv_norms.clear();
    inv_norms.extend(active.iter().copied().zip(norms.iter().copied()));
    let inv_norm_sum = norms.iter().fold(0.0f32, |sum, &inv_norm| sum + inv_norm);
    scaled_input_sum.clear();
    scaled_input_sum.resize(dim, 0.0);
    weighted_row_sums(inputs, inv_norms, scaled_input_sum, None);
    unit_sum.clear();
    unit_sum.extend(
        weights
            .iter()
            .zip(scaled_input_sum.iter())
            .map(|(w, x)| w * x),
    );
    let ordered_pairs = (count * (count - 1)) as f64;
    let sum_sq = f64::from(lane_sum(unit_sum, unit_sum, |a, b| a * b));
    let loss = 1.0 - (sum_sq - nonzero as f64) / ordered_pairs;

    // Pass 2: d loss / d u_i = -2 (s - u_i) / pairs; the u_i part is along u_i and vanishes when
    // pulled back through u = e / ||e||, whose Jacobian is (I - u uᵀ) / ||e||.
    let coef = (-2.0 / ordered_pairs) as f32;
    weighted_unit_sum.clear();
    weighted_unit_sum.extend(weights.iter().zip(unit_sum.iter()).map(|(w, s)| w * s));
    projections.clear();
    for &(i, inv_norm) in inv_norms.iter() {
        if inv_norm == 0.0 {
            continue;
        }
        // u_i · s = (w ⊙ x_i) · s / ||e_i|| = x_i · (w ⊙ s) / ||e_i||.
        let along = inv_norm * lane_sum(row(i), weighted_unit_sum, |x, ws| x * ws);
        projections.push((i, coef * inv_norm * along * inv_norm));
    }
    for buffer in [&mut *input_sq_sum, &mut *projected_input_sum] {
        buffer.clear();
        buffer.resize(dim, 0.0);
    }
    weighted_row_sums(inputs, projections, projected_input_sum, Some(input_sq_sum));
    let a_sum = coef * inv_norm_sum;
    let grad_w_row = grad_w_row
        .as_slice_mut()
        .expect("rows of a fresh standard-layout array are contiguous");
    let share = share
        .as_slice_mut()
        .expect("rows of a fresh standard-layout array are contiguous");
    let per_dim = weights
        .iter()
        .zip(unit_sum.iter())
        .zip(scaled_input_sum.iter())
        .zip(input_sq_sum.iter().zip(projected_input_sum.iter()));
    for ((gw, sh), (((&w, &s), &x_sum), (&xx_sum, &x_proj))) in
        grad_w_row.iter_mut().zip(share.iter_mut()).zip(per_dim)
    {
        *gw = s * coef * x_sum - w * xx_sum;
        *sh = w * (s * a_sum - w * x_proj);
    }
    Some(loss)
}

/// Σ_k term(a_k, b_k) over eight interleaved partial sums: a single running sum is a chain of
/// dependent additions that the compiler may not reorder, so it cannot vectorise. The order is
/// fixed, so the result is deterministic.
#[inline(always)]
fn lane_sum(a: &[f32], b: &[f32], term: impl Fn(f32, f32) -> f32) -> f32 {
    const LANES: usize = 8;
    let mut partial = [0.0f32; LANES];
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(&x, &y)| term(x, y))
        .sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for ((p, &x), &y) in partial.iter_mut().zip(x).zip(y) {
            *p += term(x, y);
        }
    }
    partial.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sets found in the activations are the positive ones, column by column (zeros of
    /// either sign and NaN are not active), across several blocks of latents; the loss from
    /// sets given by a caller is the loss from the activations, bit for bit.
    #[test]
    fn active_sets_are_the_positive_activations_and_give_the_same_loss() {
        let wave = |i: usize| ((i * 37 % 101) as f32 / 50.0 - 1.0) * 1.3;
        let (batch, latents, dim) = (30, 40, 8);
        let mut acts = Array2::from_shape_fn((batch, latents), |(i, j)| wave(i * 7 + j * 3));
        acts[[0, 0]] = -0.0;
        acts[[1, 0]] = f32::NAN;
        let sets = ActiveSets::of(acts.view());
        assert_eq!(sets.latents(), latents);
        for j in 0..latents {
            let positive: Vec<usize> = (0..batch).filter(|&i| acts[[i, j]] > 0.0).collect();
            assert_eq!(sets.of_latent(j), positive, "latent {j}");
        }
        let w_enc = Array2::from_shape_fn((latents, dim), |(j, k)| wave(j * dim + k + 3));
        let centered = Array2::from_shape_fn((batch, dim), |(i, k)| wave(i * dim + k + 11));
        let given = ActiveSets::from_sets((0..latents).map(|j| sets.of_latent(j).to_vec()));
        for reduction in [NeReduction::LatentMean, NeReduction::PairSum] {
            let found = ne_loss_reduced(w_enc.view(), centered.view(), acts.view(), reduction);
            let from_sets = ne_loss_of_active(w_enc.view(), centered.view(), &given, reduction);
            let bits = |a: &Array2<f32>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert!(found.latents_counted > 0);
            assert_eq!(found.value.to_bits(), from_sets.value.to_bits());
            assert_eq!(bits(&found.grad_w_enc), bits(&from_sets.grad_w_enc));
            assert_eq!(found.grad_b_dec, from_sets.grad_b_dec);
        }
    }

    /// The AVX2 build of one latent's term against the baseline build, bit for bit, at the
    /// default width (d = 64) with 40 active examples, one of them a zero embedding.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_avx2_latent_term_gives_the_baseline_bits() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            eprintln!("skipped: this CPU has no AVX2");
            return;
        }
        let wave = |i: usize| ((i * 37 % 101) as f32 / 50.0 - 1.0) * 1.3;
        let weights = Array1::from_shape_fn(64, |k| wave(k + 7));
        let mut centered = Array2::from_shape_fn((50, 64), |(i, k)| wave(i * 64 + k));
        centered.row_mut(3).fill(0.0);
        let active: Vec<usize> = (0..50).filter(|i| i % 5 != 1).collect();
        let run = |wide: bool| {
            let (mut grad, mut share) = (Array1::zeros(64), Array1::zeros(64));
            let mut scratch = LatentScratch::default();
            let (w, x) = (weights.view(), centered.view());
            let (g, s) = (grad.view_mut(), share.view_mut());
            let loss = if wide {
                // SAFETY: the CPU has AVX2.
                unsafe { latent_term_avx2(w, x, &active, g, s, &mut scratch) }
            } else {
                latent_term_any(w, x, &active, g, s, &mut scratch)
            };
            let bits = |a: &Array1<f32>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            (loss.map(f64::to_bits), bits(&grad), bits(&share))
        };
        let base = run(false);
        assert!(base.0.is_some() && base.1.iter().any(|&b| b != 0));
        assert_eq!(base, run(true));
    }
}
