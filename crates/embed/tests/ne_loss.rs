//! NE loss: hand-worked values, a dense O(n²) reference, finite differences and determinism.
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, array};
use ne_embed::{NeLoss, ne_loss, ne_loss_with_input_grads};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn cosine_f64(a: ArrayView1<f64>, b: ArrayView1<f64>) -> f64 {
    let (na, nb) = (a.dot(&a).sqrt(), b.dot(&b).sqrt());
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        a.dot(&b) / (na * nb)
    }
}

/// The loss straight from its definition, in f64: for each latent, 1 - cos averaged over all
/// ordered pairs of distinct active examples; then the mean over latents with two or more.
fn dense_loss(w_enc: &Array2<f64>, centered: &Array2<f64>, acts: ArrayView2<f32>) -> (f64, usize) {
    let mut total = 0.0;
    let mut counted = 0;
    for (j, latent_acts) in acts.axis_iter(Axis(1)).enumerate() {
        let embeddings: Vec<Array1<f64>> = latent_acts
            .iter()
            .zip(centered.rows())
            .filter(|&(&a, _)| a > 0.0)
            .map(|(_, x)| &w_enc.row(j) * &x)
            .collect();
        let count = embeddings.len();
        if count < 2 {
            continue;
        }
        let mut distance_sum = 0.0;
        for (a, ea) in embeddings.iter().enumerate() {
            for (b, eb) in embeddings.iter().enumerate() {
                if a != b {
                    distance_sum += 1.0 - cosine_f64(ea.view(), eb.view());
                }
            }
        }
        total += distance_sum / (count * (count - 1)) as f64;
        counted += 1;
    }
    let value = if counted == 0 {
        0.0
    } else {
        total / counted as f64
    };
    (value, counted)
}

fn to_f32(a: &Array2<f64>) -> Array2<f32> {
    a.mapv(|v| v as f32)
}

fn uniform(rng: &mut ChaCha8Rng, shape: (usize, usize)) -> Array2<f64> {
    Array2::from_shape_simple_fn(shape, || rng.random_range(-1.0..1.0))
}

/// Activations with each (example, latent) pair active with probability `density`.
fn random_acts(rng: &mut ChaCha8Rng, batch: usize, latents: usize, density: f64) -> Array2<f32> {
    Array2::from_shape_simple_fn((batch, latents), || {
        if rng.random_bool(density) {
            rng.random_range(0.1..2.0)
        } else {
            0.0
        }
    })
}

/// Latent 0 has no active example, latent 1 one, latent 2 two, latent 3 all; the rest random.
fn mixed_acts(rng: &mut ChaCha8Rng, batch: usize, latents: usize) -> Array2<f32> {
    let mut acts = random_acts(rng, batch, latents, 0.5);
    acts.column_mut(0).fill(0.0);
    acts.column_mut(1).fill(0.0);
    acts[[3, 1]] = 0.7;
    acts.column_mut(2).fill(0.0);
    acts[[1, 2]] = 0.2;
    acts[[batch - 1, 2]] = 1.5;
    acts.column_mut(3).fill(0.4);
    acts
}

fn loss_of(w_enc: Array2<f32>, centered: Array2<f32>, acts: Array2<f32>) -> NeLoss {
    ne_loss(w_enc.view(), centered.view(), acts.view())
}

#[test]
fn identical_orthogonal_and_opposite_pairs_give_0_1_and_2() {
    let w = array![[1.0f32, 2.0]];
    let both = array![[1.0f32], [1.0]];
    let identical = loss_of(w.clone(), array![[0.5, -1.0], [0.5, -1.0]], both.clone());
    let orthogonal = loss_of(w.clone(), array![[3.0, 0.0], [0.0, -2.0]], both.clone());
    let opposite = loss_of(w, array![[1.0, 1.0], [-2.0, -2.0]], both);
    assert!(identical.value.abs() < 1e-6, "{}", identical.value);
    assert!(
        (orthogonal.value - 1.0).abs() < 1e-6,
        "{}",
        orthogonal.value
    );
    assert!((opposite.value - 2.0).abs() < 1e-6, "{}", opposite.value);
    for loss in [identical, orthogonal, opposite] {
        assert_eq!(loss.latents_counted, 1);
    }
}

#[test]
fn three_examples_average_over_ordered_pairs() {
    // Embeddings (1,0), (0,1), (1,0): cosines 0, 1, 0 over the three unordered pairs, so the
    // mean similarity is 1/3 and the loss 2/3.
    let loss = loss_of(
        array![[1.0f32, 1.0]],
        array![[2.0, 0.0], [0.0, 1.0], [0.5, 0.0]],
        array![[1.0f32], [1.0], [1.0]],
    );
    assert!((loss.value - 2.0 / 3.0).abs() < 1e-6, "{}", loss.value);
}

#[test]
fn zero_embedding_counts_as_cosine_zero() {
    // The first embedding is zero, the other two identical: cosines 0, 0, 1, loss 2/3. Subtracting
    // n (rather than the number of non-zero embeddings) from ||s||² would give 5/6 here.
    let loss = loss_of(
        array![[1.0f32, 1.0]],
        array![[0.0, 0.0], [1.0, 2.0], [1.0, 2.0]],
        array![[1.0f32], [1.0], [1.0]],
    );
    assert!((loss.value - 2.0 / 3.0).abs() < 1e-6, "{}", loss.value);
    assert!(loss.grad_w_enc.iter().all(|g| g.is_finite()));
}

#[test]
fn latents_with_fewer_than_two_active_examples_contribute_nothing() {
    // Latent 0: one active example; latent 1: an orthogonal pair, (1, 0.5) and (0.5, -1), so
    // loss 1 and a gradient that is not zero; latent 2: none.
    let loss = loss_of(
        array![[1.0f32, -1.0], [1.0, 1.0], [2.0, 3.0]],
        array![[1.0, 0.5], [0.5, -1.0]],
        array![[0.5f32, 1.0, 0.0], [0.0, 1.0, -1.0]],
    );
    assert_eq!(loss.latents_counted, 1);
    assert!((loss.value - 1.0).abs() < 1e-6, "{}", loss.value);
    assert!(loss.grad_w_enc.row(0).iter().all(|&g| g == 0.0));
    assert!(loss.grad_w_enc.row(2).iter().all(|&g| g == 0.0));
    assert!(loss.grad_w_enc.row(1).iter().any(|&g| g != 0.0));
}

#[test]
fn no_latent_with_two_active_examples_gives_zero_loss_and_gradients() {
    let loss = loss_of(
        array![[1.0f32, -1.0], [1.0, 1.0]],
        array![[1.0, 0.5], [0.3, 1.0], [2.0, 2.0]],
        array![[0.5f32, 0.0], [0.0, 1.0], [0.0, 0.0]],
    );
    assert_eq!(loss.latents_counted, 0);
    assert_eq!(loss.value, 0.0);
    assert!(loss.grad_w_enc.iter().all(|&g| g == 0.0));
    assert!(loss.grad_b_dec.iter().all(|&g| g == 0.0));
}

#[test]
fn sparse_value_matches_dense_pairwise_reference() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for (batch, dim, latents, density) in [
        (10, 4, 7, 0.3),
        (32, 16, 40, 0.1),
        (20, 13, 10, 0.4),
        (64, 8, 20, 0.6),
    ] {
        let w_enc = uniform(&mut rng, (latents, dim));
        let centered = uniform(&mut rng, (batch, dim));
        let acts = random_acts(&mut rng, batch, latents, density);
        let (expected, expected_counted) = dense_loss(&w_enc, &centered, acts.view());
        let loss = ne_loss(to_f32(&w_enc).view(), to_f32(&centered).view(), acts.view());
        assert_eq!(loss.latents_counted, expected_counted);
        assert!(
            (f64::from(loss.value) - expected).abs() < 1e-5,
            "batch {batch}: sparse {} vs dense {expected}",
            loss.value
        );
    }
}

/// Largest |analytic - finite difference| over all entries, against the largest |finite
/// difference|, for a scalar f64 function of one parameter array.
fn finite_difference_error(
    params: &Array2<f64>,
    analytic: ArrayView2<f32>,
    loss: impl Fn(&Array2<f64>) -> f64,
) -> (f64, f64) {
    let step = 1e-6;
    let mut max_error = 0.0f64;
    let mut max_fd = 0.0f64;
    for (index, &g) in analytic.indexed_iter() {
        let mut plus = params.clone();
        plus[index] += step;
        let mut minus = params.clone();
        minus[index] -= step;
        let fd = (loss(&plus) - loss(&minus)) / (2.0 * step);
        max_error = max_error.max((f64::from(g) - fd).abs());
        max_fd = max_fd.max(fd.abs());
    }
    (max_error, max_fd)
}

#[test]
fn gradients_match_finite_differences_with_h_and_b_dec() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (batch, dim, latents) = (12, 5, 8);
    let w_enc = uniform(&mut rng, (latents, dim));
    let h = uniform(&mut rng, (batch, dim));
    let b_dec = uniform(&mut rng, (1, dim)) * 0.3;
    let acts = mixed_acts(&mut rng, batch, latents);
    let centered = |h: &Array2<f64>, b_dec: &Array2<f64>| h - &b_dec.row(0);

    let loss = ne_loss(
        to_f32(&w_enc).view(),
        to_f32(&centered(&h, &b_dec)).view(),
        acts.view(),
    );
    assert!(loss.grad_w_enc.row(0).iter().all(|&g| g == 0.0));
    assert!(loss.grad_w_enc.row(1).iter().all(|&g| g == 0.0));

    let (w_error, w_scale) = finite_difference_error(&w_enc, loss.grad_w_enc.view(), |w| {
        dense_loss(w, &centered(&h, &b_dec), acts.view()).0
    });
    assert!(
        w_scale > 1e-2,
        "W_enc gradient is trivially small: {w_scale}"
    );
    assert!(
        w_error < 1e-4 * w_scale,
        "W_enc: error {w_error}, scale {w_scale}"
    );

    let grad_b_dec = loss.grad_b_dec.view().insert_axis(Axis(0));
    let (b_error, b_scale) = finite_difference_error(&b_dec, grad_b_dec, |b| {
        dense_loss(&w_enc, &centered(&h, b), acts.view()).0
    });
    assert!(
        b_scale > 1e-2,
        "b_dec gradient is trivially small: {b_scale}"
    );
    assert!(
        b_error < 1e-4 * b_scale,
        "b_dec: error {b_error}, scale {b_scale}"
    );
}

/// The loss on any inputs: the input gradient against finite differences of the dense
/// reference, and summed over rows it is minus `ne_loss`'s b_dec gradient.
#[test]
fn input_gradients_match_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let (batch, dim, latents) = (12, 5, 8);
    let w_enc = uniform(&mut rng, (latents, dim));
    let inputs = uniform(&mut rng, (batch, dim));
    let acts = mixed_acts(&mut rng, batch, latents);
    let loss = ne_loss_with_input_grads(to_f32(&inputs).view(), to_f32(&w_enc).view(), acts.view());
    let plain = ne_loss(to_f32(&w_enc).view(), to_f32(&inputs).view(), acts.view());
    assert_eq!(loss.value, plain.value);
    assert_eq!(loss.grad_w_enc, plain.grad_w_enc);

    let (error, scale) = finite_difference_error(&inputs, loss.grad_inputs.view(), |x| {
        dense_loss(&w_enc, x, acts.view()).0
    });
    assert!(scale > 1e-2, "input gradient is trivially small: {scale}");
    assert!(error < 1e-4 * scale, "inputs: error {error}, scale {scale}");
    let summed = loss.grad_inputs.sum_axis(Axis(0));
    for (s, b) in summed.iter().zip(&plain.grad_b_dec) {
        assert!((s + b).abs() < 1e-5, "{s} vs -{b}");
    }
}

#[test]
fn output_is_bit_identical_across_thread_counts() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let (batch, dim, latents) = (128, 64, 512);
    let w_enc = to_f32(&uniform(&mut rng, (latents, dim)));
    let centered = to_f32(&uniform(&mut rng, (batch, dim)));
    let acts = random_acts(&mut rng, batch, latents, 0.1);
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| ne_loss(w_enc.view(), centered.view(), acts.view()))
    };
    let bits = |loss: &NeLoss| {
        let grads: Vec<u32> = loss
            .grad_w_enc
            .iter()
            .chain(loss.grad_b_dec.iter())
            .map(|g| g.to_bits())
            .collect();
        (loss.value.to_bits(), loss.latents_counted, grads)
    };
    let single = bits(&run(1));
    assert_eq!(single, bits(&run(2)));
    assert_eq!(single, bits(&run(3)));
}

#[test]
fn nan_input_gives_nan_loss_rather_than_a_zero_embedding() {
    let loss = loss_of(
        array![[1.0f32, 1.0]],
        array![[f32::NAN, 0.0], [1.0, 2.0], [1.0, 2.0]],
        array![[1.0f32], [1.0], [1.0]],
    );
    assert!(loss.value.is_nan(), "{}", loss.value);
}
