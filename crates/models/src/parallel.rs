//! Data parallelism over fixed-size row chunks: results never depend on the thread count.
use ndarray::{ArrayView2, s};
use rayon::prelude::*;
use std::ops::Range;

/// Rows per chunk for inference over a whole data set.
pub(crate) const INFERENCE_CHUNK_ROWS: usize = 1024;

/// `f` of each consecutive range of `chunk_rows` rows out of `rows` (the last may be shorter),
/// computed in parallel and returned in order.
pub(crate) fn map_row_ranges<T, F>(rows: usize, chunk_rows: usize, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(Range<usize>) -> T + Sync + Send,
{
    let chunks = rows.div_ceil(chunk_rows);
    (0..chunks)
        .into_par_iter()
        .map(|chunk| f(chunk * chunk_rows..((chunk + 1) * chunk_rows).min(rows)))
        .collect()
}

/// `f` of each consecutive `chunk_rows`-row chunk of `x`, in parallel, in order.
pub(crate) fn map_row_chunks<T, F>(x: ArrayView2<f32>, chunk_rows: usize, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(ArrayView2<f32>) -> T + Sync + Send,
{
    map_row_ranges(x.nrows(), chunk_rows, |range| f(x.slice(s![range, ..])))
}
