//! Weighted sums of rows, Σ_i c_i x_i, for the hand-written backward passes (the SAE step's
//! decoder and encoder gradients, the NE loss): the sums of a block of dimensions stay in
//! registers while the rows are read, and each sum takes its terms in the rows' order, so the
//! result has the bits of the plain loop over the rows.

/// Dimensions summed at a time: 32 running sums (four AVX2 vectors, eight with the squares)
/// stay in registers while the rows stream past.
const DIM_BLOCK: usize = 32;

/// Adds to `sum`, for each dimension k and each (row i, weight c_i) of `rows` in order,
/// c_i x_ik, and to `squares` (when given) (c_i x_ik) x_ik, where x_i is row i of the row-major
/// `inputs` (`sum.len()` values per row). Each running sum sees the same operations in the same
/// order as a loop over the rows that updates every dimension at once (`y += c * x`), so the
/// result has that loop's bits.
///
/// # Panics
/// If a row lies beyond `inputs`, or `squares` is shorter than `sum`.
#[inline(always)]
pub fn weighted_row_sums(
    inputs: &[f32],
    rows: &[(usize, f32)],
    sum: &mut [f32],
    mut squares: Option<&mut [f32]>,
) {
    let dim = sum.len();
    let mut start = 0;
    while start < dim {
        let left = dim - start;
        let sums = &mut sum[start..];
        let squares = squares.as_deref_mut().map(|s| &mut s[start..]);
        start += if left >= DIM_BLOCK {
            block_sums::<DIM_BLOCK>(inputs, dim, start, rows, sums, squares)
        } else if left >= 8 {
            block_sums::<8>(inputs, dim, start, rows, sums, squares)
        } else {
            block_sums::<1>(inputs, dim, start, rows, sums, squares)
        };
    }
}

/// `weighted_row_sums` for the `N` dimensions from `start`, whose sums begin `sum` (and `squares`).
/// Returns `N`.
#[inline(always)]
fn block_sums<const N: usize>(
    inputs: &[f32],
    dim: usize,
    start: usize,
    rows: &[(usize, f32)],
    sum: &mut [f32],
    squares: Option<&mut [f32]>,
) -> usize {
    let block = |i: usize| -> &[f32; N] {
        let from = i * dim + start;
        inputs[from..from + N]
            .try_into()
            .expect("a block of N values")
    };
    let sum: &mut [f32; N] = (&mut sum[..N]).try_into().expect("N sums");
    let mut acc = *sum;
    match squares {
        None => {
            for &(i, c) in rows {
                for (a, &x) in acc.iter_mut().zip(block(i)) {
                    *a += c * x;
                }
            }
        }
        Some(squares) => {
            let squares: &mut [f32; N] = (&mut squares[..N]).try_into().expect("N sums");
            let mut acc_sq = *squares;
            for &(i, c) in rows {
                for ((a, q), &x) in acc.iter_mut().zip(acc_sq.iter_mut()).zip(block(i)) {
                    let scaled = c * x;
                    *a += scaled;
                    *q += scaled * x;
                }
            }
            *squares = acc_sq;
        }
    }
    *sum = acc;
    N
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `weighted_row_sums` against the loop it replaces (every dimension's sums updated row by row), bit
    /// for bit: widths of whole blocks, blocks of 8 and single dimensions, rows repeated and out
    /// of order, weights of -0 and 0, and an infinite input (0 × inf is NaN).
    #[test]
    fn row_sums_give_the_bits_of_updating_every_dimension_per_row() {
        let wave = |i: usize| ((i * 37 % 101) as f32 / 50.0 - 1.0) * 1.3;
        for dim in [1, 7, 8, 31, 32, 64, 77] {
            let mut inputs: Vec<f32> = (0..12 * dim).map(|k| wave(k + dim)).collect();
            inputs[7 * dim + dim / 2] = f32::INFINITY;
            let rows: Vec<(usize, f32)> = [3, 0, 7, 11, 5, 3, 9]
                .iter()
                .enumerate()
                .map(|(n, &i)| (i, if n == 2 { -0.0 } else { wave(n * 13) }))
                .chain([(1, 0.0)])
                .collect();
            let (mut sum, mut squares) = (vec![0.0f32; dim], vec![0.0f32; dim]);
            weighted_row_sums(&inputs, &rows, &mut sum, Some(&mut squares));
            let mut plain = vec![0.0f32; dim];
            weighted_row_sums(&inputs, &rows, &mut plain, None);
            let (mut want, mut want_sq) = (vec![0.0f32; dim], vec![0.0f32; dim]);
            for &(i, c) in &rows {
                for k in 0..dim {
                    let scaled = c * inputs[i * dim + k];
                    want[k] += scaled;
                    want_sq[k] += scaled * inputs[i * dim + k];
                }
            }
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&sum), bits(&want), "dim {dim}");
            assert_eq!(bits(&plain), bits(&want), "dim {dim}");
            assert_eq!(bits(&squares), bits(&want_sq), "dim {dim}");
            assert!(want.iter().any(|v| v.is_nan()));
        }
    }
}
