//! NE loss at the SAE's training size (batch 128, d = 64, 512 latents).
use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::Array2;
use ne_embed::ne_loss;
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
        c.bench_function(
            &format!("ne_loss n128 d64 m512 {:.0}% active", density * 100.0),
            |b| {
                b.iter(|| {
                    ne_loss(
                        black_box(w_enc.view()),
                        black_box(centered.view()),
                        black_box(acts.view()),
                    )
                })
            },
        );
    }
}

criterion_group!(benches, bench_ne_loss);
criterion_main!(benches);
