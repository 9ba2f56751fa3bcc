//! NE loss at the SAE's training size (batch 128, d = 64, 512 latents), and the per-latent
//! distance statistics the metrics compute (first 100 activating examples, d = 64), and the
//! Gram matrices they are built from.
use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::Array2;
use ne_embed::{gram, ne_loss, pairwise_distance_stats};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;

fn uniform(rng: &mut ChaCha8Rng, shape: (usize, usize)) -> Array2<f32> {
    Array2::from_shape_simple_fn(shape, || rng.random_range(-1.0..1.0))
}

fn bench_ne_loss(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let (batch, dim, latents) = (128, 64, 512);
    let w_enc = uniform(&mut rng, (latents, dim));
    let centered = uniform(&mut rng, (batch, dim));
    for density in [0.05, 0.10] {
        let acts = Array2::from_shape_simple_fn((batch, latents), || {
            if rng.random_bool(density) {
                1.0f32
            } else {
                0.0
            }
        });
        let name = format!("ne_loss n128 d64 m512 {:.0}% active", density * 100.0);
        c.bench_function(&name, |b| {
            b.iter(|| {
                ne_loss(
                    black_box(w_enc.view()),
                    black_box(centered.view()),
                    black_box(acts.view()),
                )
            })
        });
    }
}

fn bench_pairwise_distance_stats(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let embeddings = uniform(&mut rng, (100, 64));
    c.bench_function("pairwise_distance_stats 100x64", |b| {
        b.iter(|| pairwise_distance_stats(black_box(embeddings.view())))
    });
}

/// The f64 Gram matrices behind the distances: a latent's 100 examples (d = 64) and an MLP
/// neuron's 200 explorer examples (784 pixels), against ndarray's full product.
fn bench_gram(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for (n, d) in [(100, 64), (200, 784)] {
        let rows = uniform(&mut rng, (n, d)).mapv(f64::from);
        c.bench_function(&format!("gram {n}x{d}"), |b| {
            b.iter(|| gram(black_box(rows.view())))
        });
        c.bench_function(&format!("gram {n}x{d} by ndarray's product"), |b| {
            b.iter(|| black_box(rows.view()).dot(&rows.t()))
        });
    }
}

criterion_group!(
    benches,
    bench_ne_loss,
    bench_pairwise_distance_stats,
    bench_gram
);
criterion_main!(benches);
