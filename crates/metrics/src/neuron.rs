//! Per-neuron figures: how many examples activate a neuron and how far apart their embeddings lie.
use ndarray::{Array1, ArrayView2, Axis, s};
use ne_embed::{embeddings, pairwise_distance_stats};
use ne_models::ops::{positive_positions, transposed_cow};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// How many activating examples feed the distance figures (the paper: "up to 100").
pub const DEFAULT_EXAMPLE_CAP: usize = 100;

/// Rows per chunk when scanning a data set; fixed so results never depend on the thread count.
/// Small enough that a chunk's activations (256 × 512 latents: 512 KiB) stay in a core's cache
/// between the passes that compute and count them.
const CHUNK_ROWS: usize = 256;

/// One neuron (or SAE latent) measured on a data set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeuronStats {
    /// Examples with a positive activation (all of them, not capped).
    pub size: usize,
    /// Max pairwise cosine distance of the first `cap` activating examples' embeddings.
    pub max_dist: Option<f32>,
    /// Mean pairwise cosine distance of the same embeddings.
    pub mean_dist: Option<f32>,
}

/// Measures every neuron. `weights` (neurons x d) are the neurons' input weights, `inputs`
/// (n x d) what each example hands them, `acts` (n x neurons) their activations. Distances use
/// the first `cap` activating examples in data-set order.
pub fn neuron_stats(
    weights: ArrayView2<f32>,
    inputs: ArrayView2<f32>,
    acts: ArrayView2<f32>,
    cap: usize,
) -> Vec<NeuronStats> {
    assert_eq!(weights.nrows(), acts.ncols(), "one weight row per neuron");
    assert_eq!(inputs.nrows(), acts.nrows(), "one input row per example");
    assert_eq!(
        weights.ncols(),
        inputs.ncols(),
        "weights and inputs share their width"
    );
    let by_neuron = transposed_cow(acts);
    by_neuron
        .outer_iter()
        .into_par_iter()
        .enumerate()
        .map(|(j, acts)| {
            let active = active_examples(acts.as_slice().expect("standard layout"));
            let sample = &active[..active.len().min(cap)];
            let chosen = inputs.select(Axis(0), sample);
            let stats = pairwise_distance_stats(embeddings(weights.row(j), chosen.view()).view());
            NeuronStats {
                size: active.len(),
                max_dist: stats.as_ref().map(|s| s.max),
                mean_dist: stats.as_ref().map(|s| s.mean),
            }
        })
        .collect()
}

/// The examples (positions in `acts`) with a positive activation, ascending.
pub(crate) fn active_examples(acts: &[f32]) -> Vec<usize> {
    let mut active = Vec::new();
    positive_positions(acts, &mut active);
    active
}

/// What the neurons did over a set of inputs: on how many rows each fired, and its largest
/// activation (0 for a neuron that never fired, as activations are ReLU outputs).
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    /// Per neuron, the rows with a positive activation.
    pub firing: Array1<u64>,
    /// Per neuron, its largest activation.
    pub max: Array1<f32>,
}

/// Each neuron's `Activity` over the rows of `inputs`, with activations computed chunk by chunk
/// by `activate` (rows -> rows x neurons) so the full n x neurons matrix never exists.
pub fn activity<F>(inputs: ArrayView2<f32>, neurons: usize, activate: F) -> Activity
where
    F: Fn(ArrayView2<f32>) -> ndarray::Array2<f32> + Sync,
{
    let starts: Vec<usize> = (0..inputs.nrows()).step_by(CHUNK_ROWS).collect();
    let partial: Vec<Activity> = starts
        .par_iter()
        .map(|&start| {
            let end = (start + CHUNK_ROWS).min(inputs.nrows());
            let acts = activate(inputs.slice(s![start..end, ..]));
            let acts = acts.as_standard_layout();
            let mut firing = vec![0u64; neurons];
            let mut max = vec![0.0f32; neurons];
            assert_eq!(
                acts.ncols(),
                neurons,
                "activate returns one column per neuron"
            );
            // Plain slices, so that the loop vectorises.
            let rows = acts.as_slice().expect("standard layout");
            for row in rows.chunks_exact(neurons.max(1)) {
                for ((count, top), &a) in firing.iter_mut().zip(max.iter_mut()).zip(row) {
                    *count += u64::from(a > 0.0);
                    *top = top.max(a);
                }
            }
            Activity {
                firing: Array1::from(firing),
                max: Array1::from(max),
            }
        })
        .collect();
    let empty = Activity {
        firing: Array1::zeros(neurons),
        max: Array1::zeros(neurons),
    };
    partial.into_iter().fold(empty, |acc, chunk| Activity {
        firing: acc.firing + chunk.firing,
        max: ndarray::Zip::from(&acc.max)
            .and(&chunk.max)
            .map_collect(|&a, &b| a.max(b)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn stats_count_every_activation_but_measure_only_the_first_cap() {
        // Neuron 0 fires on examples 0, 1, 3; neuron 1 on example 2 only; neuron 2 never.
        let weights = array![[1.0, 1.0], [1.0, 0.0], [0.0, 1.0]];
        let inputs = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.0]];
        let acts = array![
            [1.0, 0.0, 0.0],
            [2.0, 0.0, 0.0],
            [0.0, 5.0, 0.0],
            [0.5, 0.0, 0.0]
        ];
        let all = neuron_stats(weights.view(), inputs.view(), acts.view(), 10);
        assert_eq!(all[0].size, 3);
        // Embeddings (1,0), (0,1), (-1,0): distances 1, 2, 1.
        assert!((all[0].max_dist.unwrap() - 2.0).abs() < 1e-6);
        assert!((all[0].mean_dist.unwrap() - 4.0 / 3.0).abs() < 1e-6);
        assert_eq!((all[1].size, all[1].max_dist), (1, None));
        assert_eq!((all[2].size, all[2].mean_dist), (0, None));

        let capped = neuron_stats(weights.view(), inputs.view(), acts.view(), 2);
        assert_eq!(capped[0].size, 3, "size is never capped");
        // Only (1,0) and (0,1) are measured: distance 1.
        assert!((capped[0].max_dist.unwrap() - 1.0).abs() < 1e-6);
        assert!((capped[0].mean_dist.unwrap() - 1.0).abs() < 1e-6);
    }

    #[test]
    fn activity_adds_up_over_chunks() {
        let n = CHUNK_ROWS * 2 + 7;
        let inputs = ndarray::Array2::from_shape_fn((n, 1), |(i, _)| i as f32);
        // Neuron 0 fires on odd rows with its row number, neuron 1 on rows >= 100 with 1,
        // neuron 2 never.
        let seen = activity(inputs.view(), 3, |x| {
            ndarray::Array2::from_shape_fn((x.nrows(), 3), |(i, j)| {
                let v = x[[i, 0]] as usize;
                match j {
                    0 if v % 2 == 1 => v as f32,
                    1 if v >= 100 => 1.0,
                    _ => 0.0,
                }
            })
        });
        assert_eq!(
            seen.firing.to_vec(),
            vec![(n / 2) as u64, (n - 100) as u64, 0]
        );
        let last_odd = (0..n).rev().find(|v| v % 2 == 1).unwrap();
        assert_eq!(seen.max.to_vec(), vec![last_odd as f32, 1.0, 0.0]);
    }
}
