//! Neuron embeddings of a set of examples and the cosine geometry between them.
//!
//! Cosines are accumulated in f64: the distances of interest are small (mean distances near
//! 0.1), and 1 - cos loses most of f32's digits there.
use ndarray::{Array2, ArrayView1, ArrayView2};

/// Row i is `weights ⊙ inputs[i, :]`, the neuron's embedding of example i. A row sums to the
/// neuron's pre-activation minus its bias, so it shows which inputs the response is made of.
///
/// # Panics
/// If `weights.len() != inputs.ncols()` (weights and inputs of different layers: a caller bug).
pub fn embeddings(weights: ArrayView1<f32>, inputs: ArrayView2<f32>) -> Array2<f32> {
    assert_eq!(
        weights.len(),
        inputs.ncols(),
        "embeddings: {} weights but the inputs have {} columns",
        weights.len(),
        inputs.ncols()
    );
    &inputs * &weights
}

/// 1 - cos(a, b), with cos taken as 0 when either vector is zero (a zero embedding has no
/// direction, so it is neither like nor unlike anything). In [0, 2].
///
/// # Panics
/// If the lengths differ.
pub fn cosine_distance(a: ArrayView1<f32>, b: ArrayView1<f32>) -> f32 {
    assert_eq!(
        a.len(),
        b.len(),
        "cosine_distance: vectors of lengths {} and {}",
        a.len(),
        b.len()
    );
    let (mut dot, mut a_sq, mut b_sq) = (0.0f64, 0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(&b) {
        let (x, y) = (f64::from(x), f64::from(y));
        dot += x * y;
        a_sq += x * x;
        b_sq += y * y;
    }
    let cos = if a_sq == 0.0 || b_sq == 0.0 {
        0.0
    } else {
        // sqrt(a_sq * b_sq) rather than sqrt(a_sq) * sqrt(b_sq): for a == b it is exactly a_sq,
        // so identical vectors are at distance exactly 0.
        (dot / (a_sq * b_sq).sqrt()).clamp(-1.0, 1.0)
    };
    (1.0 - cos) as f32
}

/// k x k cosine similarities between the rows; a zero row has similarity 0 with every row,
/// itself included. Symmetric, with 1 on the diagonal for non-zero rows.
pub fn cosine_similarity_matrix(embeddings: ArrayView2<f32>) -> Array2<f32> {
    similarity_matrix(embeddings).mapv(|s| s as f32)
}

/// Largest and mean cosine distance between the rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DistanceStats {
    /// The largest distance over all pairs.
    pub max: f32,
    /// The mean distance over all pairs.
    pub mean: f32,
}

/// Max and mean cosine distance over unordered pairs i < k of rows; `None` with fewer than two
/// rows, where there is no pair.
pub fn pairwise_distance_stats(embeddings: ArrayView2<f32>) -> Option<DistanceStats> {
    let all: Vec<usize> = (0..embeddings.nrows()).collect();
    distance_stats_among(&similarity_matrix(embeddings), &all)
}

/// The similarity matrix in f64, for the computations that build on it. Built from the Gram
/// matrix as G[i,k] / sqrt(G[i,i] G[k,k]), the same formula as `cosine_distance`, so that
/// identical rows come out at similarity exactly 1.
pub(crate) fn similarity_matrix(embeddings: ArrayView2<f32>) -> Array2<f64> {
    let rows = embeddings.mapv(f64::from);
    let mut similarity = crate::gram(rows.view());
    cosines_of_gram(&mut similarity);
    crate::gram::mirror_upper(&mut similarity);
    similarity
}

/// Turns the upper triangle (diagonal included) of a standard-layout Gram matrix into cosine
/// similarities, 0 where either vector is zero. Only i <= k is computed, so that, once mirrored,
/// i ~ k and k ~ i always agree. Row by row over plain slices, so that the square roots and
/// divisions vectorise (each rounds as a scalar one does).
fn cosines_of_gram(gram: &mut Array2<f64>) {
    let norms_sq: Vec<f64> = gram.diag().to_vec();
    for (i, mut row) in gram.outer_iter_mut().enumerate() {
        let row = row
            .as_slice_mut()
            .expect("a Gram matrix in standard layout");
        let norm_i_sq = norms_sq[i];
        for (s, &norm_k_sq) in row[i..].iter_mut().zip(&norms_sq[i..]) {
            let cosine = (*s / (norm_i_sq * norm_k_sq).sqrt()).clamp(-1.0, 1.0);
            *s = if norm_i_sq == 0.0 || norm_k_sq == 0.0 {
                0.0
            } else {
                cosine
            };
        }
    }
}

/// Max and mean of 1 - similarity over unordered pairs of `members`, or `None` with fewer than
/// two members.
pub(crate) fn distance_stats_among(
    similarity: &Array2<f64>,
    members: &[usize],
) -> Option<DistanceStats> {
    if members.len() < 2 {
        return None;
    }
    let mut max = f64::NEG_INFINITY;
    let mut sum = 0.0;
    for (position, &i) in members.iter().enumerate() {
        for &k in &members[position + 1..] {
            let distance = 1.0 - similarity[[i, k]];
            max = max.max(distance);
            sum += distance;
        }
    }
    // f64::max skips NaN; a NaN distance (from a NaN embedding) already made the sum NaN, and
    // the max must not hide it.
    if sum.is_nan() {
        max = f64::NAN;
    }
    let pairs = members.len() * (members.len() - 1) / 2;
    Some(DistanceStats {
        max: max as f32,
        mean: (sum / pairs as f64) as f32,
    })
}
