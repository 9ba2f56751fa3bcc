//! SAE training from its pieces, as a researcher composes their own recipe: an untied PyTorch
//! `nn.Linear` pair initialisation, AdamW, a loss-term list with a late-starting NE term, and
//! no unit-norm decoder, on synthetic activations. Run with
//! `cargo run -p ne-models --example compose_training`.
use ndarray::{Array2, Axis};
use ne_models::rng::{Stream, stream_rng, uniform_f32};
use ne_models::{LossKind, LossTerm, OptimizerConfig, Sae, SaeInit, weights_at};

fn main() -> Result<(), ne_models::ModelError> {
    let (examples, inputs, latents, batch) = (2048, 16, 64, 128);
    let mut rng = stream_rng(0, Stream::SaeShuffle);
    // Non-negative activations that mix a few directions, as a ReLU layer's would.
    let directions = Array2::from_shape_simple_fn((8, inputs), || uniform_f32(&mut rng, 0.0, 1.0));
    let mixes =
        Array2::from_shape_simple_fn((examples, 8), || uniform_f32(&mut rng, -1.0, 1.0).max(0.0));
    let hidden = mixes.dot(&directions);

    let mut sae = Sae::new(
        SaeInit::PytorchLinearPair,
        inputs,
        latents,
        &mut stream_rng(0, Stream::SaeInit),
    );
    let mut optimizer = OptimizerConfig::AdamW { weight_decay: 0.01 }.build(1e-3);
    let terms = [
        LossTerm::new(LossKind::Mse, 1.0),
        LossTerm::new(LossKind::L1, 0.05),
        LossTerm::new(LossKind::Ne, 0.5).from_step(40),
    ];
    let steps_per_epoch = examples / batch;
    for step in 0..5 * steps_per_epoch {
        let rows = (step % steps_per_epoch) * batch..(step % steps_per_epoch + 1) * batch;
        let h = hidden.slice_axis(Axis(0), rows.into());
        // A step is two calls: the gradients (forward and backward pass), then the update.
        let batch = sae.gradients(h, weights_at(&terms, step))?;
        if step % steps_per_epoch == 0 {
            let named: Vec<String> = batch
                .stats
                .losses
                .iter()
                .map(|l| format!("{} {:.4} (×{})", l.name, l.value, l.weight))
                .collect();
            println!("step {step:3}: {}", named.join(", "));
        }
        sae.update(&mut *optimizer, batch.grads, false);
    }
    let forward = sae.forward(hidden.view());
    let mse = (&forward.reconstruction - &hidden)
        .mapv(|r| r * r)
        .mean()
        .unwrap_or(f32::NAN);
    println!("after training: MSE per element {mse:.5}");
    Ok(())
}

/// `cargo test` runs the example, so it cannot rot.
#[test]
fn runs() {
    main().unwrap();
}
