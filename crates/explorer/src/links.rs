//! Links between units of different layers and models: which SAE latents resemble each other,
//! and which MLP neurons a latent reads and writes.
use ndarray::{Array2, ArrayView2, Axis};

/// A linked unit and the number that ranks it (a weight, a cosine, an overlap).
pub type Linked = (usize, f32);

/// The `count` indices of `scores` with the largest `key(score)`, largest first; ties go to
/// the lower index. Entries whose key is NaN are left out.
fn top_by(scores: impl Iterator<Item = f32>, count: usize, key: fn(f32) -> f32) -> Vec<Linked> {
    let mut ranked: Vec<Linked> = scores
        .enumerate()
        .filter(|&(_, s)| !key(s).is_nan())
        .collect();
    ranked.sort_by(|a, b| key(b.1).total_cmp(&key(a.1)).then(a.0.cmp(&b.0)));
    ranked.truncate(count);
    ranked
}

/// For each row of `matrix`, its `count` entries of largest magnitude as (column, signed value).
/// Rows of `W_enc` (latents x hidden) give the neurons each latent reads most; rows of `W_dec`
/// (hidden x latents) the latents that write each neuron most; and so on with the transposes.
pub fn strongest_entries(matrix: ArrayView2<f32>, count: usize) -> Vec<Vec<Linked>> {
    matrix
        .rows()
        .into_iter()
        .map(|row| top_by(row.iter().copied(), count, f32::abs))
        .collect()
}

/// Columns scaled to unit length; a zero column stays zero.
fn unit_columns(matrix: ArrayView2<f32>) -> Array2<f32> {
    let mut unit = matrix.to_owned();
    for mut column in unit.axis_iter_mut(Axis(1)) {
        let norm = column.dot(&column).sqrt();
        if norm > 0.0 {
            column /= norm;
        }
    }
    unit
}

/// For each decoder column of `from` (d x m), the `count` columns of `to` (d x m') with the
/// largest cosine similarity, as (column, cosine). A zero column has cosine 0 with everything.
pub fn nearest_by_direction(
    from: ArrayView2<f32>,
    to: ArrayView2<f32>,
    count: usize,
) -> Vec<Vec<Linked>> {
    let cosines = unit_columns(from).t().dot(&unit_columns(to));
    cosines
        .rows()
        .into_iter()
        .map(|row| top_by(row.iter().copied(), count, |c| c))
        .collect()
}

/// Jaccard overlap |A ∩ B| / |A ∪ B| between each example set of `from` and each of `to`; for
/// each set of `from`, the `count` sets of `to` that share at least one example, by overlap, as
/// (set, overlap). Sets hold distinct example indices below `examples`.
pub fn nearest_by_overlap(
    from: &[Vec<usize>],
    to: &[Vec<usize>],
    examples: usize,
    count: usize,
) -> Vec<Vec<Linked>> {
    // Which sets of `to` hold each example, so only sets that share something are visited.
    let mut holders: Vec<Vec<usize>> = vec![Vec::new(); examples];
    for (set, members) in to.iter().enumerate() {
        for &example in members {
            holders[example].push(set);
        }
    }
    from.iter()
        .map(|members| {
            let mut shared = vec![0usize; to.len()];
            for &example in members {
                for &set in &holders[example] {
                    shared[set] += 1;
                }
            }
            let overlap = shared.iter().zip(to).map(|(&both, other)| {
                if both == 0 {
                    f32::NAN
                } else {
                    both as f32 / (members.len() + other.len() - both) as f32
                }
            });
            top_by(overlap, count, |o| o)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn strongest_entries_rank_by_magnitude_and_keep_the_sign() {
        let w = array![[0.1, -0.9, 0.5, 0.9], [0.0, 0.0, 0.0, 0.0]];
        let strongest = strongest_entries(w.view(), 3);
        // -0.9 and 0.9 tie on magnitude: the lower column first.
        assert_eq!(strongest[0], vec![(1, -0.9), (3, 0.9), (2, 0.5)]);
        assert_eq!(strongest[1], vec![(0, 0.0), (1, 0.0), (2, 0.0)]);
    }

    #[test]
    fn nearest_directions_are_cosines_of_decoder_columns() {
        // Columns of `from`: x, and (1, 1) at length 2; columns of `to`: y, -x, (3, 3), 0.
        let from = array![[1.0, 2.0], [0.0, 2.0]];
        let to = array![[0.0, -1.0, 3.0, 0.0], [1.0, 0.0, 3.0, 0.0]];
        let nearest = nearest_by_direction(from.view(), to.view(), 2);
        let half = std::f32::consts::FRAC_1_SQRT_2;
        assert_eq!(nearest[0].iter().map(|l| l.0).collect::<Vec<_>>(), [2, 0]);
        assert!((nearest[0][0].1 - half).abs() < 1e-6);
        // y and (3, 3) are the two nearest to (1, 1), cosines 1 and 1/sqrt(2).
        assert_eq!(nearest[1].iter().map(|l| l.0).collect::<Vec<_>>(), [2, 0]);
        assert!((nearest[1][0].1 - 1.0).abs() < 1e-6 && (nearest[1][1].1 - half).abs() < 1e-6);
    }

    #[test]
    fn overlap_is_jaccard_and_skips_disjoint_sets() {
        let from = vec![vec![0, 1, 2, 3], vec![], vec![9]];
        let to = vec![vec![2, 3, 4], vec![0, 1, 2, 3], vec![5, 6], vec![3]];
        let nearest = nearest_by_overlap(&from, &to, 10, 3);
        // {0,1,2,3} vs {2,3,4}: 2 / 5; vs itself: 1; vs {3}: 1 / 4; {5,6} shares nothing.
        assert_eq!(nearest[0], vec![(1, 1.0), (0, 0.4), (3, 0.25)]);
        assert!(nearest[1].is_empty(), "an empty set overlaps nothing");
        assert!(nearest[2].is_empty(), "nothing else holds example 9");
    }
}
