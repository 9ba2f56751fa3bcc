//! Synthetic data for the training tests, reproducible from a seed.
#![allow(dead_code)] // each test file uses part of this module

use ndarray::{Array1, Array2};
use ne_models::rng::{Stream, stream_rng, uniform_f32};

/// `examples` points in `inputs` dimensions around one random centre per class (labels cycle
/// through 0..10), noise uniform in ±`noise`.
pub fn blobs(examples: usize, inputs: usize, noise: f32, seed: u64) -> (Array2<f32>, Array1<u8>) {
    let mut rng = stream_rng(seed, Stream::MlpInit);
    let centres = Array2::from_shape_simple_fn((10, inputs), || uniform_f32(&mut rng, -1.0, 1.0));
    let labels = Array1::from_shape_fn(examples, |i| ((i * 7 + i / 3) % 10) as u8);
    let images = Array2::from_shape_fn((examples, inputs), |(i, k)| {
        centres[[usize::from(labels[i]), k]] + uniform_f32(&mut rng, -noise, noise)
    });
    (images, labels)
}

/// Non-negative activations like a ReLU layer's: a few random directions mixed with sparse
/// non-negative coefficients, plus a little noise, clipped at 0.
pub fn activations(examples: usize, dims: usize, seed: u64) -> Array2<f32> {
    let mut rng = stream_rng(seed, Stream::SaeInit);
    let directions =
        Array2::from_shape_simple_fn((3 * dims, dims), || uniform_f32(&mut rng, -0.5, 1.0));
    let mut h = Array2::zeros((examples, dims));
    for mut row in h.outer_iter_mut() {
        for direction in directions.outer_iter() {
            let coefficient = uniform_f32(&mut rng, -6.0, 1.0).max(0.0);
            row.scaled_add(coefficient, &direction);
        }
        row.mapv_inplace(|v| (v + uniform_f32(&mut rng, -0.05, 0.05)).max(0.0));
    }
    h
}

/// Runs `f` on a fresh rayon pool of `threads` threads.
pub fn with_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool")
        .install(f)
}
