//! Parameter-free pieces of the models: ReLU and softmax cross-entropy, forward and backward,
//! and the small kernels the sparse loops share.
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, CowArray, Ix2, Zip, s};
use std::mem::MaybeUninit;

/// ReLU of one pre-activation: 0 below 0, z itself otherwise. NaN stays NaN (as in PyTorch)
/// rather than becoming 0, as `f32::max` would make it, so that bad values surface in the loss.
/// Every encoder (and every scan that recomputes one) applies this, so they agree bit for bit.
#[inline(always)]
pub fn relu_value(z: f32) -> f32 {
    if z < 0.0 { 0.0 } else { z }
}

/// `relu_value` element-wise, in place.
pub(crate) fn relu(pre: Array2<f32>) -> Array2<f32> {
    pre.mapv_into(relu_value)
}

/// `relu(products + bias)`, the bias added to every row, in one pass over the rows (over plain
/// slices where `products` is in standard layout, so that the loop vectorises): the same two
/// operations on each element, so the same values.
///
/// # Panics
/// If `bias` is not as long as a row of `products`.
pub(crate) fn bias_relu(mut products: Array2<f32>, bias: &Array1<f32>) -> Array2<f32> {
    let width = bias.len();
    assert_eq!(products.ncols(), width, "bias_relu: one bias per column");
    match (products.as_slice_mut(), bias.as_slice()) {
        (Some(values), Some(bias)) if width > 0 => {
            for row in values.chunks_exact_mut(width) {
                for (v, &b) in row.iter_mut().zip(bias) {
                    *v = relu_value(*v + b);
                }
            }
            products
        }
        _ => relu(products + bias),
    }
}

/// d loss / d z from d loss / d relu(z): passed where z > 0, zero elsewhere (also at z = 0, as
/// PyTorch does).
pub(crate) fn relu_backward(mut grad_out: Array2<f32>, pre: ArrayView2<f32>) -> Array2<f32> {
    // A select rather than a store under a branch, so that the loop vectorises.
    let mask = |g: &mut f32, z: f32| *g = if z <= 0.0 { 0.0 } else { *g };
    match (grad_out.as_slice_mut(), pre.as_slice()) {
        (Some(grads), Some(pre)) if grads.len() == pre.len() => {
            for (g, &z) in grads.iter_mut().zip(pre) {
                mask(g, z);
            }
        }
        _ => Zip::from(&mut grad_out)
            .and(pre)
            .for_each(|g, &z| mask(g, z)),
    }
    grad_out
}

/// (row, column) of the first entry of `x`, in row-major order, that is NaN or infinite. Checks
/// whole blocks without a branch per value first (inputs are checked in full before training),
/// and looks for the entry only in a block that has one.
pub fn first_non_finite(x: ArrayView2<f32>) -> Option<(usize, usize)> {
    const BLOCK: usize = 4096;
    let Some(values) = x.as_slice() else {
        return x
            .indexed_iter()
            .find(|(_, v)| !v.is_finite())
            .map(|(at, _)| at);
    };
    let (block, values) = values
        .chunks(BLOCK)
        .enumerate()
        .find(|(_, values)| !values.iter().fold(true, |all, v| all & v.is_finite()))?;
    let offset = values.iter().position(|v| !v.is_finite())?;
    let index = block * BLOCK + offset;
    Some((index / x.ncols(), index % x.ncols()))
}

/// Softmax cross-entropy of some rows of a batch.
#[derive(Debug, Clone)]
pub(crate) struct CrossEntropy {
    /// Sum over these rows of -log softmax(logits)[label].
    pub loss_sum: f32,
    /// Rows whose largest logit (first one on ties) is at the label.
    pub correct: usize,
    /// d (mean loss over `mean_over` examples) / d logits, for these rows.
    pub grad_logits: Array2<f32>,
}

/// Cross-entropy of `logits` (n x classes) against `labels` (each < classes), as part of a mean
/// over `mean_over` examples (the whole batch when these rows are one chunk of it). Stable: works
/// with logits shifted by their row maximum, so large logits cannot overflow `exp`.
pub(crate) fn softmax_cross_entropy(
    logits: ArrayView2<f32>,
    labels: ArrayView1<u8>,
    mean_over: usize,
) -> CrossEntropy {
    let scale = 1.0 / mean_over as f32;
    let mut grad_logits = Array2::zeros(logits.raw_dim());
    let mut loss_sum = 0.0;
    let mut correct = 0;
    for ((row, &label), mut grad) in logits
        .outer_iter()
        .zip(labels)
        .zip(grad_logits.axis_iter_mut(Axis(0)))
    {
        let label = usize::from(label);
        let best = argmax(row);
        correct += usize::from(best == label);
        let max = row[best];
        Zip::from(&mut grad)
            .and(row)
            .for_each(|g, &v| *g = (v - max).exp());
        let total: f32 = grad.sum();
        loss_sum += total.ln() - (row[label] - max);
        grad.mapv_inplace(|e| e / total * scale);
        grad[label] -= scale;
    }
    CrossEntropy {
        loss_sum,
        correct,
        grad_logits,
    }
}

/// Position of the largest value, the first one on ties (0 for an empty or all-NaN row).
pub(crate) fn argmax(row: ArrayView1<f32>) -> usize {
    row.iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (k, &v)| {
            if v > best.1 { (k, v) } else { best }
        })
        .0
}

/// Appends to `out` the positions of the positive values of `values` (NaN is not positive),
/// ascending.
pub fn positive_positions(values: &[f32], out: &mut Vec<usize>) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        use std::arch::x86_64::_CMP_GT_OQ;
        // SAFETY: the CPU has AVX2. GT_OQ is `>`: false when either side is NaN.
        return unsafe { positions_avx2::<_CMP_GT_OQ>(values, out, |v| v > 0.0) };
    }
    positions_where(values, out, |v| v > 0.0);
}

/// Appends to `out` the positions of the values of `values` that are not zero (NaN included),
/// ascending.
pub fn nonzero_positions(values: &[f32], out: &mut Vec<usize>) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        use std::arch::x86_64::_CMP_NEQ_UQ;
        // SAFETY: the CPU has AVX2. NEQ_UQ is `!=`: true when either side is NaN.
        return unsafe { positions_avx2::<_CMP_NEQ_UQ>(values, out, |v| v != 0.0) };
    }
    positions_where(values, out, |v| v != 0.0);
}

/// The positions where `keep` holds, ascending. Each block of 32 values is first reduced to a
/// bit mask by a branch-free loop, so the cost is a few instructions per block plus one push
/// per position kept, whatever the pattern (a branch per value mispredicts on sparse
/// activations).
#[inline(always)]
fn positions_where(values: &[f32], out: &mut Vec<usize>, keep: impl Fn(f32) -> bool) {
    for (block, chunk) in values.chunks(32).enumerate() {
        // `k & 31` is k (a block has 32 values), and lets the shift compile without a check.
        let mask = chunk.iter().enumerate().fold(0u32, |mask, (k, &v)| {
            mask | (u32::from(keep(v)) << (k & 31))
        });
        push_set_bits(mask, block * 32, out);
    }
}

/// `positions_where` with eight values compared at once and reduced to eight bits by one
/// instruction (`movemask`), four of those to a block's mask; `PREDICATE` is `keep` as an AVX
/// comparison against 0, which the tail (under 32 values) uses.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn positions_avx2<const PREDICATE: i32>(
    values: &[f32],
    out: &mut Vec<usize>,
    keep: impl Fn(f32) -> bool,
) {
    use std::arch::x86_64::{
        _mm256_cmp_ps, _mm256_loadu_ps, _mm256_movemask_ps, _mm256_setzero_ps,
    };
    let (blocks, tail) = values.as_chunks::<32>();
    for (block, values) in blocks.iter().enumerate() {
        let mut mask = 0u32;
        for (quarter, eight) in values.as_chunks::<8>().0.iter().enumerate() {
            // SAFETY: `eight` is 8 f32, one unaligned load.
            let bits = unsafe {
                let eight = _mm256_loadu_ps(eight.as_ptr());
                _mm256_movemask_ps(_mm256_cmp_ps::<PREDICATE>(eight, _mm256_setzero_ps()))
            };
            mask |= (bits as u32) << (8 * quarter);
        }
        push_set_bits(mask, block * 32, out);
    }
    let start = blocks.len() * 32;
    out.extend((start..values.len()).filter(|&k| keep(tail[k - start])));
}

/// Pushes `offset + k` for each set bit k of `mask`, ascending.
#[inline(always)]
fn push_set_bits(mut mask: u32, offset: usize, out: &mut Vec<usize>) {
    while mask != 0 {
        out.push(offset + mask.trailing_zeros() as usize);
        mask &= mask - 1;
    }
}

/// The transpose of `a` in standard (row-major) layout. Where the CPU has AVX2, tiles of 8 x 8
/// values are transposed in registers (eight row loads, eight shuffled stores); elsewhere, and
/// for the edges, eight rows of `a` at a time: for each column, their eight values go to one
/// contiguous stretch of the output row, so the reads run along eight rows and each write fills
/// a 32-byte stretch (a plain copy of `a.t()` touches one cache line per element once `a` has
/// more than a few rows). Only values move, so every path gives the same bits.
pub fn transposed(a: ArrayView2<f32>) -> Array2<f32> {
    let a = a.as_standard_layout();
    let (rows, cols) = a.dim();
    let source = a.as_slice().expect("standard layout");
    // Every element is written exactly once below, so the output is not zeroed first.
    let mut values = Vec::with_capacity(rows * cols);
    let target = &mut values.spare_capacity_mut()[..rows * cols];
    let mut tiled_cols = 0;
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, all that `transpose_tiles_avx2` needs.
        unsafe { transpose_tiles_avx2(source, rows, cols, target) };
        tiled_cols = cols - cols % TILE;
    }
    transpose_by_row_blocks(source, rows, cols, tiled_cols, target);
    // SAFETY: the tiles wrote every element in their rows below the last multiple of 8 and
    // columns below `tiled_cols`, and the row blocks all the others.
    unsafe { values.set_len(rows * cols) };
    Array2::from_shape_vec((cols, rows), values).expect("one value per element")
}

/// Rows and columns of the square tiles `transposed` moves at once.
const TILE: usize = 8;

/// `target` (cols x rows) = the transpose of `source` (rows x cols), both row-major, except the
/// tiles of whole blocks of 8 rows left of `first_col` (already in place).
fn transpose_by_row_blocks(
    source: &[f32],
    rows: usize,
    cols: usize,
    first_col: usize,
    target: &mut [MaybeUninit<f32>],
) {
    let full = rows - rows % TILE;
    for start in (0..full).step_by(TILE) {
        let block: [&[f32]; TILE] =
            std::array::from_fn(|k| &source[(start + k) * cols..(start + k + 1) * cols]);
        for c in first_col..cols {
            let to = &mut target[c * rows + start..c * rows + start + TILE];
            for (t, row) in to.iter_mut().zip(&block) {
                t.write(row[c]);
            }
        }
    }
    for r in full..rows {
        for c in 0..cols {
            target[c * rows + r].write(source[r * cols + c]);
        }
    }
}

/// The full 8 x 8 tiles of `transposed` (rows and columns below the last multiple of 8), each
/// loaded as eight rows, transposed by unpacks and shuffles, and stored as eight rows.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn transpose_tiles_avx2(source: &[f32], rows: usize, cols: usize, target: &mut [MaybeUninit<f32>]) {
    use std::arch::x86_64::{
        _mm256_loadu_ps, _mm256_permute2f128_ps, _mm256_shuffle_ps, _mm256_storeu_ps,
        _mm256_unpackhi_ps, _mm256_unpacklo_ps,
    };
    assert!(source.len() >= rows * cols && target.len() >= rows * cols);
    for r0 in (0..rows - rows % TILE).step_by(TILE) {
        for c0 in (0..cols - cols % TILE).step_by(TILE) {
            // SAFETY: rows r0..r0 + 8 and columns c0..c0 + 8 lie within `source` (rows x cols),
            // and columns c0..c0 + 8, rows r0..r0 + 8 of the transpose within `target`.
            unsafe {
                let row = |k: usize| _mm256_loadu_ps(source.as_ptr().add((r0 + k) * cols + c0));
                let (a0, a1, a2, a3) = (row(0), row(1), row(2), row(3));
                let (a4, a5, a6, a7) = (row(4), row(5), row(6), row(7));
                // Pairs of rows interleaved, then pairs of pairs: each 128-bit half of b_k
                // holds a column of four rows.
                let (t0, t1) = (_mm256_unpacklo_ps(a0, a1), _mm256_unpackhi_ps(a0, a1));
                let (t2, t3) = (_mm256_unpacklo_ps(a2, a3), _mm256_unpackhi_ps(a2, a3));
                let (t4, t5) = (_mm256_unpacklo_ps(a4, a5), _mm256_unpackhi_ps(a4, a5));
                let (t6, t7) = (_mm256_unpacklo_ps(a6, a7), _mm256_unpackhi_ps(a6, a7));
                let b0 = _mm256_shuffle_ps::<0x44>(t0, t2);
                let b1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
                let b2 = _mm256_shuffle_ps::<0x44>(t1, t3);
                let b3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
                let b4 = _mm256_shuffle_ps::<0x44>(t4, t6);
                let b5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
                let b6 = _mm256_shuffle_ps::<0x44>(t5, t7);
                let b7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
                let base = target.as_mut_ptr().cast::<f32>();
                let out = |k: usize| base.add((c0 + k) * rows + r0);
                _mm256_storeu_ps(out(0), _mm256_permute2f128_ps::<0x20>(b0, b4));
                _mm256_storeu_ps(out(1), _mm256_permute2f128_ps::<0x20>(b1, b5));
                _mm256_storeu_ps(out(2), _mm256_permute2f128_ps::<0x20>(b2, b6));
                _mm256_storeu_ps(out(3), _mm256_permute2f128_ps::<0x20>(b3, b7));
                _mm256_storeu_ps(out(4), _mm256_permute2f128_ps::<0x31>(b0, b4));
                _mm256_storeu_ps(out(5), _mm256_permute2f128_ps::<0x31>(b1, b5));
                _mm256_storeu_ps(out(6), _mm256_permute2f128_ps::<0x31>(b2, b6));
                _mm256_storeu_ps(out(7), _mm256_permute2f128_ps::<0x31>(b3, b7));
            }
        }
    }
}

/// The transpose of `a` in standard layout: `a` itself, seen transposed, when it is stored
/// column by column; otherwise a copy made by `transposed`.
pub fn transposed_cow(a: ArrayView2<'_, f32>) -> CowArray<'_, f32, Ix2> {
    let t = a.reversed_axes();
    if t.is_standard_layout() {
        CowArray::from(t)
    } else {
        CowArray::from(transposed(a))
    }
}

/// The rows `rows` of `source`, in that order, copied into the first rows of `buffer` (which
/// grows when it has too few; its width must be `source`'s): a batch gathered without a fresh
/// allocation per step.
pub(crate) fn gather_rows<'a>(
    source: ArrayView2<f32>,
    rows: &[usize],
    buffer: &'a mut Array2<f32>,
) -> ArrayView2<'a, f32> {
    if buffer.nrows() < rows.len() || buffer.ncols() != source.ncols() {
        *buffer = Array2::zeros((rows.len(), source.ncols()));
    }
    for (mut to, &from) in buffer.outer_iter_mut().zip(rows) {
        // A plain copy where both rows are contiguous (ndarray's `assign` goes element by
        // element).
        match (to.as_slice_mut(), source.row(from).to_slice()) {
            (Some(to), Some(from)) => to.copy_from_slice(from),
            _ => to.assign(&source.row(from)),
        }
    }
    buffer.slice(s![..rows.len(), ..])
}

/// aᵀ v, with the bits of ndarray's `a.t().dot(&v)`: each entry sums its terms over a's rows in
/// order, from +0. ndarray reads each column of `a` with a stride, one scalar term at a time;
/// here a's rows stream past while a block of the sums stays in registers.
///
/// # Panics
/// If `v` has not one value per row of `a`.
pub(crate) fn transpose_times(a: ArrayView2<f32>, v: ArrayView1<f32>) -> Array1<f32> {
    assert_eq!(a.nrows(), v.len(), "transpose_times: one value per row");
    let a = a.as_standard_layout();
    let rows: Vec<(usize, f32)> = v.iter().copied().enumerate().collect();
    let mut sums = vec![0.0; a.ncols()];
    let values = a.as_slice().expect("standard layout");
    ne_embed::weighted_row_sums(values, &rows, &mut sums, None);
    Array1::from(sums)
}

/// x · y with eight running sums (lane k takes the elements at k mod 8, so the sums fill one
/// vector register), combined in a fixed order: the same result at any vector width.
#[inline(always)]
pub fn dot(x: &[f32], y: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (x_main, _) = x.as_chunks::<8>();
    let (y_main, _) = y.as_chunks::<8>();
    for (xs, ys) in x_main.iter().zip(y_main) {
        for k in 0..8 {
            lanes[k] += xs[k] * ys[k];
        }
    }
    combine_lanes(lanes, x, y)
}

/// `dot` with its eight lanes in one AVX register, for callers compiled for AVX2 (the
/// compiler splits `dot`'s lanes into pairs). The same multiplications and additions in each
/// lane, so the same result.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
pub(crate) fn dot_avx2(x: &[f32], y: &[f32]) -> f32 {
    use std::arch::x86_64::{__m256, _mm256_add_ps, _mm256_mul_ps, _mm256_setzero_ps};
    let (x_main, _) = x.as_chunks::<8>();
    let (y_main, _) = y.as_chunks::<8>();
    let mut sums = _mm256_setzero_ps();
    for (&xs, &ys) in x_main.iter().zip(y_main) {
        // SAFETY: [f32; 8] and __m256 have the same size, and every bit pattern is valid in
        // both. (A value transmute, not `_mm256_loadu_ps`: with debug assertions on, that
        // checks its pointers on every call.)
        let (xs, ys) = unsafe {
            (
                std::mem::transmute::<[f32; 8], __m256>(xs),
                std::mem::transmute::<[f32; 8], __m256>(ys),
            )
        };
        sums = _mm256_add_ps(sums, _mm256_mul_ps(xs, ys));
    }
    // SAFETY: as above.
    let lanes = unsafe { std::mem::transmute::<__m256, [f32; 8]>(sums) };
    combine_lanes(lanes, x, y)
}

/// `dot`'s lanes and the elements past the last full eight, summed in a fixed order.
#[inline(always)]
fn combine_lanes(lanes: [f32; 8], x: &[f32], y: &[f32]) -> f32 {
    let tail_start = x.len() - x.len() % 8;
    let tail: f32 = x[tail_start..]
        .iter()
        .zip(&y[tail_start..])
        .map(|(a, b)| a * b)
        .sum();
    let halves = [
        lanes[0] + lanes[4],
        lanes[1] + lanes[5],
        lanes[2] + lanes[6],
        lanes[3] + lanes[7],
    ];
    (halves[0] + halves[2]) + (halves[1] + halves[3]) + tail
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{assert_gradient_close, numeric_gradient, random_array, to_f64};
    use ndarray::{arr1, arr2};

    /// Mean-style cross-entropy in f64: sum over rows of -log softmax[label], divided by mean_over.
    fn reference_cross_entropy(
        logits: &[f64],
        classes: usize,
        labels: &[u8],
        mean_over: usize,
    ) -> f64 {
        let total: f64 = logits
            .chunks(classes)
            .zip(labels)
            .map(|(row, &label)| {
                let log_sum_exp = row.iter().map(|v| v.exp()).sum::<f64>().ln();
                log_sum_exp - row[usize::from(label)]
            })
            .sum();
        total / mean_over as f64
    }

    #[test]
    fn positive_and_nonzero_positions_find_every_such_value_in_order() {
        // 70 values (two full blocks and a tail): positive at multiples of 3 and 7, also across
        // the block edges; zero, negative zero, NaN and negatives are not positive.
        let values: Vec<f32> = (0..70)
            .map(|i| match i {
                _ if i % 3 == 0 || i % 7 == 0 => 0.5 + i as f32,
                1 => 0.0,
                2 => -0.0,
                4 => f32::NAN,
                _ => -1.0,
            })
            .collect();
        let mut found = vec![99];
        positive_positions(&values, &mut found);
        let expected: Vec<usize> = std::iter::once(99)
            .chain((0..70).filter(|i| i % 3 == 0 || i % 7 == 0))
            .collect();
        assert_eq!(found, expected, "appended after what was there");
        found.clear();
        positive_positions(&[], &mut found);
        assert!(found.is_empty());

        // Not zero: the positives, the negatives and the NaN; both builds alike.
        let mut nonzero = Vec::new();
        nonzero_positions(&values, &mut nonzero);
        let expected: Vec<usize> = (0..70).filter(|&i| i != 1 && i != 2).collect();
        assert_eq!(nonzero, expected);
        let mut baseline = Vec::new();
        positions_where(&values, &mut baseline, |v| v != 0.0);
        assert_eq!(baseline, expected);
        let (mut positive, mut baseline) = (Vec::new(), Vec::new());
        positive_positions(&values, &mut positive);
        positions_where(&values, &mut baseline, |v| v > 0.0);
        assert_eq!(baseline, positive);
    }

    #[test]
    fn transposed_matches_the_transposed_view() {
        // Sizes that are not multiples of the tile, and a strided input.
        let a = random_array(24, (45, 70), -1.0, 1.0);
        assert_eq!(transposed(a.view()), a.t());
        // Whole tiles, tiles with edges on either side, and fewer than a tile each way; the
        // values' bits (a NaN's payload and -0 included) are moved, not computed.
        for (rows, cols) in [(64, 512), (512, 64), (16, 13), (13, 16), (7, 5), (1, 9)] {
            let mut a = random_array(rows as u64 + 100 * cols as u64, (rows, cols), -1.0, 1.0);
            a[[0, 0]] = -0.0;
            a[[rows - 1, cols - 1]] = f32::from_bits(0x7fc0_1234);
            let bits =
                |x: ndarray::ArrayView2<f32>| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(transposed(a.view()).view()),
                bits(a.t()),
                "{rows} x {cols}"
            );
            // The path for CPUs without AVX2 too.
            let source = a.as_slice().expect("standard layout");
            let mut target = vec![MaybeUninit::new(f32::NAN); rows * cols];
            transpose_by_row_blocks(source, rows, cols, 0, &mut target);
            // SAFETY: every element was initialised (to NaN, then to its value).
            let target = target.iter().map(|v| unsafe { v.assume_init() }).collect();
            let by_rows = Array2::from_shape_vec((cols, rows), target).expect("sizes");
            assert_eq!(
                bits(by_rows.view()),
                bits(a.t()),
                "{rows} x {cols} by row blocks"
            );
        }
        let strided = a.slice(ndarray::s![..;2, 1..]);
        assert_eq!(transposed(strided), strided.t());
        assert_eq!(transposed(Array2::zeros((0, 3)).view()).dim(), (3, 0));
        // Stored column by column, the transpose is a view of the same memory.
        let by_column = a.t().as_standard_layout().into_owned().reversed_axes();
        let cow = transposed_cow(by_column.view());
        assert!(cow.is_view() && cow == a.t());
        assert!(transposed_cow(a.view()).is_owned());
    }

    #[test]
    fn gathered_rows_match_select_and_reuse_the_buffer() {
        let source = random_array(25, (9, 5), -1.0, 1.0);
        let mut buffer = Array2::zeros((0, 5));
        for rows in [&[3usize, 0, 8, 3][..], &[7, 1], &[]] {
            let gathered = gather_rows(source.view(), rows, &mut buffer);
            assert_eq!(gathered, source.select(Axis(0), rows));
        }
        assert_eq!(buffer.dim(), (4, 5), "grown once, then reused");
    }

    #[test]
    fn dot_sums_in_a_fixed_order_at_every_vector_width() {
        for len in [0, 3, 8, 64, 67] {
            let x = random_array(26, len, -1.0, 1.0);
            let y = random_array(27, len, -1.0, 1.0);
            let (x, y) = (x.as_slice().unwrap(), y.as_slice().unwrap());
            let exact: f64 = x
                .iter()
                .zip(y)
                .map(|(a, b)| f64::from(*a) * f64::from(*b))
                .sum();
            assert!((f64::from(dot(x, y)) - exact).abs() < 1e-5, "length {len}");
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2.
                let wide = unsafe { dot_avx2(x, y) };
                assert_eq!(wide.to_bits(), dot(x, y).to_bits(), "length {len}");
            }
        }
    }

    /// `bias_relu` against `relu` of the sum, bit for bit: NaN, -0 and sums at 0 in standard
    /// layout, and a column-major input (the fallback).
    #[test]
    fn bias_relu_gives_the_bits_of_relu_of_the_sum() {
        let mut products = random_array(23, (5, 7), -1.0, 1.0);
        products[[0, 0]] = f32::NAN;
        products[[1, 1]] = -0.0;
        let mut bias = random_array(24, 7, -1.0, 1.0);
        bias[1] = -0.0;
        bias[2] = -products[[2, 2]];
        let bits = |a: &Array2<f32>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        let want = relu(&products + &bias);
        assert_eq!(bits(&bias_relu(products.clone(), &bias)), bits(&want));
        let by_column = products
            .t()
            .as_standard_layout()
            .into_owned()
            .reversed_axes();
        assert_eq!(bits(&bias_relu(by_column, &bias)), bits(&want));
        assert!(want[[0, 0]].is_nan() && want.iter().any(|&v| v == 0.0));
    }

    #[test]
    fn first_non_finite_finds_the_first_bad_entry_in_row_major_order() {
        let scan = |x: ArrayView2<f32>| {
            x.indexed_iter()
                .find(|(_, v)| !v.is_finite())
                .map(|(at, _)| at)
        };
        // 3 x 5000 spans several blocks; bad values at a block's edges, in one row and across.
        let clean = random_array(31, (3, 5000), -1.0, 1.0);
        assert_eq!(first_non_finite(clean.view()), None);
        for bad in [[(0, 0)], [(0, 4095)], [(0, 4096)], [(1, 3191)], [(2, 4999)]] {
            for value in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                let mut x = clean.clone();
                x[bad[0]] = value;
                // A second bad value later must not be the one reported.
                x[[2, 4999]] = f32::NAN;
                assert_eq!(first_non_finite(x.view()), Some(bad[0]), "{bad:?} {value}");
                assert_eq!(first_non_finite(x.view()), scan(x.view()));
                // A transposed view has no row-major slice: the plain scan, in its own order.
                let t = x.t();
                assert_eq!(first_non_finite(t), scan(t));
            }
        }
        assert_eq!(first_non_finite(Array2::<f32>::zeros((0, 4)).view()), None);
        assert_eq!(first_non_finite(Array2::<f32>::zeros((4, 0)).view()), None);
    }

    #[test]
    fn transpose_times_has_the_bits_of_ndarrays_product() {
        for (rows, cols) in [(512, 64), (7, 45), (1, 1), (3, 0), (0, 5)] {
            let mut a = random_array(41, (rows, cols), -1.0, 1.0);
            let mut v = random_array(42, (rows, 1), -1.0, 1.0).remove_axis(Axis(1));
            // Signed zeros and a product that is exactly -0 (-0 · x): the sums still start at +0.
            if rows > 2 && cols > 2 {
                a[[0, 0]] = -0.0;
                v[1] = -0.0;
                a[[2, 2]] = 0.0;
            }
            let expected = a.t().dot(&v);
            let got = transpose_times(a.view(), v.view());
            let bits = |x: &Array1<f32>| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&got), bits(&expected), "{rows} x {cols}");
            // From a column-major copy too.
            let by_columns = a.t().as_standard_layout().reversed_axes().into_owned();
            assert_eq!(
                bits(&transpose_times(by_columns.view(), v.view())),
                bits(&expected)
            );
        }
    }

    #[test]
    fn relu_backward_matches_finite_differences() {
        // Inputs kept at least 0.1 away from the kink so a step of 1e-6 never crosses it.
        let pre = random_array(21, (4, 6), -1.0, 1.0).mapv(|v: f32| v + 0.1f32.copysign(v));
        let c = random_array(22, (4, 6), -1.0, 1.0);
        let grad = relu_backward(c.clone(), relu(pre.clone()).view());
        let c64 = to_f64(&c);
        let loss = |z: &[f64]| z.iter().zip(&c64).map(|(z, c)| z.max(0.0) * c).sum::<f64>();
        assert_gradient_close("relu", &grad, &numeric_gradient(&to_f64(&pre), 1e-6, loss));
        // Zero at z = 0 and below (-0 too); a NaN z passes the gradient, as z <= 0 is false.
        let pre = arr2(&[[0.0, 2.0], [-0.0, f32::NAN], [-3.0, 1e-30]]);
        let grad_out = arr2(&[[1.0, 1.0], [4.0, 5.0], [6.0, -7.0]]);
        let expected = arr2(&[[0.0, 1.0], [0.0, 5.0], [0.0, -7.0]]);
        assert_eq!(relu_backward(grad_out.clone(), pre.view()), expected);
        // Views without a row-major slice take the element-wise path, with the same result.
        let by_columns = relu_backward(grad_out.t().to_owned(), pre.t());
        assert_eq!(by_columns, expected.t());
        assert_eq!(
            relu_backward(arr2(&[[1.0, 1.0]]), arr2(&[[0.0, 2.0]]).view()),
            arr2(&[[0.0, 1.0]])
        );
    }

    #[test]
    fn cross_entropy_matches_finite_differences() {
        let logits = random_array(23, (5, 4), -3.0, 3.0);
        let labels = arr1(&[0u8, 3, 1, 1, 2]);
        // As one chunk of a batch of 8: the loss and gradient are these rows' share of the mean.
        for mean_over in [5, 8] {
            let ce = softmax_cross_entropy(logits.view(), labels.view(), mean_over);
            let labels = labels.as_slice().unwrap();
            let value = reference_cross_entropy(&to_f64(&logits), 4, labels, mean_over);
            assert!((f64::from(ce.loss_sum) / mean_over as f64 - value).abs() < 1e-5);
            let numeric = numeric_gradient(&to_f64(&logits), 1e-6, |z| {
                reference_cross_entropy(z, 4, labels, mean_over)
            });
            assert_gradient_close("logits", &ce.grad_logits, &numeric);
        }
    }

    #[test]
    fn cross_entropy_is_stable_for_huge_logits_and_counts_correct_rows() {
        let logits = arr2(&[[1000.0f32, 0.0, -1000.0], [5000.0, 5001.0, 4999.0]]);
        let ce = softmax_cross_entropy(logits.view(), arr1(&[0u8, 0]).view(), 2);
        let second = reference_cross_entropy(&[0.0, 1.0, -1.0], 3, &[0], 1);
        assert!(
            (f64::from(ce.loss_sum) - second).abs() < 1e-5,
            "{}",
            ce.loss_sum
        );
        assert!(ce.grad_logits.iter().all(|g| g.is_finite()));
        assert_eq!(ce.correct, 1);
        assert_eq!(argmax(arr1(&[1.0, 3.0, 3.0]).view()), 1);
    }
}
