//! Per-neuron figures: how many examples activate a neuron and how far apart their embeddings lie.
use ndarray::{Array1, ArrayView2, Axis, s};
use ne_embed::{embeddings, pairwise_distance_stats};
use ne_models::ops::{positive_positions, transposed_cow};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// How many activating examples feed the distance figures (the paper: "up to 100").
pub const DEFAULT_EXAMPLE_CAP: usize = 100;

/// Rows per chunk when scanning a data set; fixed so results never depend on the thread count.
const CHUNK_ROWS: usize = 2048;

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

/// For each neuron, on how many rows of `inputs` it fires, with activations computed chunk by
/// chunk by `activate` (rows -> rows x neurons) so the full n x neurons matrix never exists.
pub fn firing_counts<F>(inputs: ArrayView2<f32>, neurons: usize, activate: F) -> Array1<u64>
where
    F: Fn(ArrayView2<f32>) -> ndarray::Array2<f32> + Sync,
{
    let starts: Vec<usize> = (0..inputs.nrows()).step_by(CHUNK_ROWS).collect();
    let partial: Vec<Array1<u64>> = starts
        .par_iter()
        .map(|&start| {
            let end = (start + CHUNK_ROWS).min(inputs.nrows());
            let acts = activate(inputs.slice(s![start..end, ..]));
            let mut counts = Array1::<u64>::zeros(neurons);
            for row in acts.rows() {
                for (count, &a) in counts.iter_mut().zip(row) {
                    *count += u64::from(a > 0.0);
                }
            }
            counts
        })
        .collect();
    partial
        .into_iter()
        .fold(Array1::zeros(neurons), |acc, c| acc + c)
}

/// Rows of `inputs` that `silent_neurons` scans per round before it drops the neurons that fired.
const SCAN_ROUND_ROWS: usize = 2 * CHUNK_ROWS;

/// Which neurons fire on no row of a data set, and the work it took to find out.
#[derive(Debug, Clone, PartialEq)]
pub struct SilentScan {
    /// Per neuron, whether it fired nowhere.
    pub silent: Vec<bool>,
    /// The (row, neuron) pre-activations computed.
    pub computed: u64,
}

/// For each neuron, whether it fires on no row of `inputs`. `pre_activations(rows, neurons)`
/// gives the pre-activations (rows x those neurons) of some of the neurons, in the order given;
/// a neuron fires where its pre-activation is positive. The rows are scanned in rounds, and a
/// neuron that fired is left out of every later round, so most neurons cost a few thousand rows
/// instead of the whole set.
pub fn silent_neurons<F>(inputs: ArrayView2<f32>, neurons: usize, pre_activations: F) -> SilentScan
where
    F: Fn(ArrayView2<f32>, &[usize]) -> ndarray::Array2<f32> + Sync,
{
    let rows = inputs.nrows();
    let mut silent = vec![true; neurons];
    let mut candidates: Vec<usize> = (0..neurons).collect();
    let mut computed = 0;
    let mut round_start = 0;
    while round_start < rows && !candidates.is_empty() {
        let round_end = (round_start + SCAN_ROUND_ROWS).min(rows);
        computed += ((round_end - round_start) * candidates.len()) as u64;
        let starts: Vec<usize> = (round_start..round_end).step_by(CHUNK_ROWS).collect();
        let fired: Vec<Vec<bool>> = starts
            .par_iter()
            .map(|&start| {
                let end = (start + CHUNK_ROWS).min(round_end);
                let pre = pre_activations(inputs.slice(s![start..end, ..]), &candidates);
                let mut fired = vec![false; candidates.len()];
                for row in pre.rows() {
                    for (fired, &z) in fired.iter_mut().zip(row) {
                        *fired |= z > 0.0;
                    }
                }
                fired
            })
            .collect();
        let fired_any = |k: usize| fired.iter().any(|chunk| chunk[k]);
        let mut still = Vec::with_capacity(candidates.len());
        for (k, &neuron) in candidates.iter().enumerate() {
            if fired_any(k) {
                silent[neuron] = false;
            } else {
                still.push(neuron);
            }
        }
        candidates = still;
        round_start = round_end;
    }
    SilentScan { silent, computed }
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
    fn silent_neurons_are_those_that_never_fire() {
        // Over several rounds: neuron 0 fires on the first row only, neuron 1 on the last row
        // only, neuron 2 never (its pre-activation is 0 or negative), neuron 3 everywhere.
        let n = SCAN_ROUND_ROWS * 2 + 5;
        let inputs = ndarray::Array2::from_shape_fn((n, 1), |(i, _)| i as f32);
        let asked = std::sync::Mutex::new(Vec::new());
        let silent = silent_neurons(inputs.view(), 4, |x, neurons| {
            asked
                .lock()
                .unwrap()
                .push((x[[0, 0]] as usize, neurons.to_vec()));
            ndarray::Array2::from_shape_fn((x.nrows(), neurons.len()), |(i, k)| {
                let row = x[[i, 0]] as usize;
                let fires = match neurons[k] {
                    0 => row == 0,
                    1 => row == n - 1,
                    2 => false,
                    _ => true,
                };
                if fires { 1.0 } else { -(row as f32) }
            })
        });
        assert_eq!(silent.silent, vec![false, false, true, false]);
        assert_eq!(
            silent.computed,
            (SCAN_ROUND_ROWS * 4 + (n - SCAN_ROUND_ROWS) * 2) as u64
        );
        // After the first round only neurons 1 and 2 are computed.
        let asked = asked.into_inner().unwrap();
        assert!(asked.iter().any(|(row, _)| *row >= SCAN_ROUND_ROWS));
        for (row, neurons) in asked {
            let expected: &[usize] = if row < SCAN_ROUND_ROWS {
                &[0, 1, 2, 3]
            } else {
                &[1, 2]
            };
            assert_eq!(neurons, expected, "chunk starting at row {row}");
        }
    }

    #[test]
    fn firing_counts_add_up_over_chunks() {
        let n = CHUNK_ROWS * 2 + 7;
        let inputs = ndarray::Array2::from_shape_fn((n, 1), |(i, _)| i as f32);
        // Neuron 0 fires on odd rows, neuron 1 on rows >= 100.
        let counts = firing_counts(inputs.view(), 2, |x| {
            ndarray::Array2::from_shape_fn((x.nrows(), 2), |(i, j)| {
                let v = x[[i, 0]] as usize;
                f32::from(u8::from(if j == 0 { v % 2 == 1 } else { v >= 100 }))
            })
        });
        assert_eq!(counts.to_vec(), vec![(n / 2) as u64, (n - 100) as u64]);
    }
}
