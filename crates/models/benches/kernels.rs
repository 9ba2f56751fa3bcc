//! The small kernels of the sparse loops and of evaluation (`ne_models::ops`), at the SAE's
//! sizes: d = 64 inputs, m = 512 latents, 64-row chunks, a 10,000-example test set; and the
//! decoding of that test set's latents.
use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::Array2;
use ne_embed::weighted_row_sums;
use ne_models::Sae;
use ne_models::ops::{dot, positive_positions, transposed};
use ne_models::rng::{Stream, stream_rng};
use std::hint::black_box;

const D: usize = 64;
const M: usize = 512;
const ROWS: usize = 64;

/// Deterministic values in [-1, 1).
fn values(n: usize, seed: u32) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let h = (i as u32 ^ seed)
                .wrapping_mul(2_654_435_761)
                .rotate_left(13);
            (h % 2000) as f32 / 1000.0 - 1.0
        })
        .collect()
}

fn kernels(c: &mut Criterion) {
    let acts = values(ROWS * M, 1)
        .iter()
        .map(|v| v - 0.8)
        .collect::<Vec<f32>>();
    c.bench_function("positive_positions_64x512", |b| {
        let mut out = Vec::with_capacity(ROWS * M);
        b.iter(|| {
            out.clear();
            for row in acts.chunks(M) {
                positive_positions(black_box(row), &mut out);
            }
            out.len()
        })
    });
    let big = Array2::from_shape_vec((10_000, M), values(10_000 * M, 2)).expect("sizes");
    c.bench_function("transposed_10000x512", |b| {
        b.iter(|| transposed(black_box(big.view())))
    });
    // The decoder (d x m), transposed to rows and back at every SAE step.
    let decoder = Array2::from_shape_vec((D, M), values(D * M, 7)).expect("sizes");
    c.bench_function("transposed_64x512", |b| {
        b.iter(|| transposed(black_box(decoder.view())))
    });

    // One row of the decoder per active pair: the sparse loops' unit of work, d long.
    let (decoder, g, scales) = (values(M * D, 3), values(D, 4), values(M, 6));
    let rows: Vec<(usize, f32)> = scales.iter().copied().enumerate().collect();
    let mut sum = vec![0.0; D];
    c.bench_function("weighted_row_sums_512_rows_of_64", |b| {
        b.iter(|| weighted_row_sums(black_box(&decoder), &rows, &mut sum, None))
    });
    c.bench_function("dot_512_rows_of_64", |b| {
        b.iter(|| {
            decoder
                .chunks_exact(D)
                .map(|row| dot(black_box(row), &g))
                .sum::<f32>()
        })
    });
}

/// Decoding a 10,000-example test set's latents at about 10% active, by ndarray's product and
/// by `Sae::decode_sparse` (same bits).
fn decoding(c: &mut Criterion) {
    let sae = Sae::init(D, M, &mut stream_rng(0, Stream::SaeInit));
    let latents = Array2::from_shape_vec((10_000, M), values(10_000 * M, 7))
        .expect("sizes")
        .mapv(|v| (v - 0.8).max(0.0));
    c.bench_function("decode_10000x512", |b| {
        b.iter(|| sae.decode(black_box(latents.view())))
    });
    c.bench_function("decode_sparse_10000x512", |b| {
        b.iter(|| sae.decode_sparse(black_box(latents.view())))
    });
}

criterion_group!(benches, kernels, decoding);
criterion_main!(benches);
