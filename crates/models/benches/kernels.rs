//! The small kernels of the sparse loops (`ne_models::ops`), at the SAE's sizes: d = 64 inputs,
//! m = 512 latents, a 64-row chunk with about 50 active latents per row.
use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::Array2;
use ne_models::ops::{axpy, dot, positive_positions, transposed};
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

/// The SAE chunk's sparse passes: per active pair, the decoder row into the reconstruction's
/// gradient row, the dot product with the decoder row, and the encoder gradient's row.
#[inline(always)]
fn sparse_passes(
    pairs: &[(usize, usize, f32)],
    decoder: &[f32],
    g: &[f32],
    x: &[f32],
    grad_dec: &mut [f32],
    grad_enc: &mut [f32],
) {
    for &(i, j, v) in pairs {
        let latent = j * D..(j + 1) * D;
        let (gi, xi) = (&g[i * D..(i + 1) * D], &x[i * D..(i + 1) * D]);
        axpy(&mut grad_dec[latent.clone()], v, gi);
        let grad_pre = dot(gi, &decoder[latent.clone()]);
        axpy(&mut grad_enc[latent], grad_pre, xi);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn sparse_passes_avx2(
    pairs: &[(usize, usize, f32)],
    decoder: &[f32],
    g: &[f32],
    x: &[f32],
    grad_dec: &mut [f32],
    grad_enc: &mut [f32],
) {
    sparse_passes(pairs, decoder, g, x, grad_dec, grad_enc)
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

    let mut pairs = Vec::new();
    for (i, row) in acts.chunks(M).enumerate() {
        let mut active = Vec::new();
        positive_positions(row, &mut active);
        pairs.extend(active.into_iter().map(|j| (i, j, row[j])));
    }
    let decoder = values(M * D, 3);
    let (g, x) = (values(ROWS * D, 4), values(ROWS * D, 5));
    let mut grad_dec = vec![0.0; M * D];
    let mut grad_enc = vec![0.0; M * D];
    c.bench_function("sparse_passes_chunk", |b| {
        b.iter(|| sparse_passes(&pairs, &decoder, &g, &x, &mut grad_dec, &mut grad_enc))
    });
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        c.bench_function("sparse_passes_chunk_avx2", |b| {
            b.iter(|| unsafe {
                sparse_passes_avx2(&pairs, &decoder, &g, &x, &mut grad_dec, &mut grad_enc)
            })
        });
    }
    println!("{} pairs", pairs.len());
}

criterion_group!(benches, kernels);
criterion_main!(benches);
