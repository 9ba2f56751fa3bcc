//! The NE loss on an SAE that is not `ne_models::Sae`: a plain struct with its own transform
//! before the encoder (a learned per-dimension input scale, x = h ⊙ g), trained by gradient
//! descent on the NE loss alone. `ne_loss_with_input_grads` gives the gradients for the encoder
//! and for x; the chain rule through x = h ⊙ g gives g's. Run with
//! `cargo run -p ne-embed --example foreign_sae`.
use ndarray::{Array1, Array2, Axis};
use ne_embed::ne_loss_with_input_grads;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Someone else's encoder: f = ReLU(W (h ⊙ g) + b).
struct OtherSae {
    gain: Array1<f32>,
    w: Array2<f32>,
    b: Array1<f32>,
}

impl OtherSae {
    fn inputs(&self, h: &Array2<f32>) -> Array2<f32> {
        h * &self.gain
    }

    fn encode(&self, x: &Array2<f32>) -> Array2<f32> {
        (x.dot(&self.w.t()) + &self.b).mapv(|v| v.max(0.0))
    }
}

fn main() {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let (n, d, m) = (256, 16, 32);
    let mut uniform = |shape: (usize, usize), bound: f32| {
        Array2::from_shape_simple_fn(shape, || rng.random_range(-bound..bound))
    };
    let h = uniform((n, d), 1.0);
    let mut sae = OtherSae {
        gain: Array1::ones(d),
        w: uniform((m, d), 0.5),
        b: Array1::from_elem(m, 0.1),
    };
    let learning_rate = 20.0;
    for step in 0..=50 {
        let x = sae.inputs(&h);
        let acts = sae.encode(&x);
        let ne = ne_loss_with_input_grads(x.view(), sae.w.view(), acts.view());
        if step % 10 == 0 {
            println!(
                "step {step:2}: NE loss {:.4} over {} latents",
                ne.value, ne.latents_counted
            );
        }
        // x = h ⊙ g, so d loss / d g = Σ_i d loss / d x_i ⊙ h_i.
        let grad_gain = (&ne.grad_inputs * &h).sum_axis(Axis(0));
        sae.w.scaled_add(-learning_rate, &ne.grad_w_enc);
        sae.gain.scaled_add(-learning_rate, &grad_gain);
    }
}

/// `cargo test` runs the example, so it cannot rot.
#[test]
fn runs() {
    main();
}
