//! The models on the shipped MNIST with the default configs: MLP test accuracy and training
//! time, then both SAE variants on the MLP's hidden activations with their training figures.
//! Run: `cargo run --release -p ne-models --example mnist_quick_check [seed]`.
use ne_models::{MlpConfig, SaeConfig, SaeVariant, train_mlp, train_sae};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seed = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(0);
    let data = ne_mnist::load(&ne_mnist::shipped_dir(), ne_mnist::Checksums::Verify)?;
    let start = Instant::now();
    let (mlp, history) = train_mlp(
        &MlpConfig::default(),
        seed,
        data.train.images.view(),
        data.train.labels.view(),
        &mut |_| {},
    )?;
    let mlp_seconds = start.elapsed().as_secs_f64();
    let accuracy = mlp.accuracy(data.test.images.view(), data.test.labels.view())?;
    println!(
        "MLP: {mlp_seconds:.2} s for 3 epochs, test accuracy {:.2}%",
        100.0 * accuracy
    );
    for (epoch, summary) in history.epochs.iter().enumerate() {
        println!("  epoch {epoch}: {summary}");
    }

    let hidden = mlp.hidden(data.train.images.view());
    let test_hidden = mlp.hidden(data.test.images.view());
    let config = SaeConfig::default();
    for variant in [SaeVariant::Standard, SaeVariant::Ne] {
        let start = Instant::now();
        let (sae, history) = train_sae(&config, variant, seed, hidden.view(), &mut |_| {})?;
        let seconds = start.elapsed().as_secs_f64();
        let last = history.epochs.last().expect("one epoch");
        let f = sae.encode(test_hidden.view());
        let recon = sae.decode(f.view());
        let mse = (&recon - &test_hidden)
            .mapv(|r| r * r)
            .mean()
            .unwrap_or(f32::NAN);
        let l1 = f.sum() / f.nrows() as f32;
        let l0 = f.iter().filter(|&&v| v > 0.0).count() as f32 / f.len() as f32;
        let recon_accuracy = mlp.accuracy_from_hidden(recon.view(), data.test.labels.view())?;
        println!("SAE {variant:?}: {seconds:.2} s for one epoch");
        println!("  training epoch: {last}");
        println!(
            "  test: MSE {mse:.4}, L1 {l1:.2} per example, L0 {:.2}%, accuracy with reconstruction {:.2}% (loss {:.2} points)",
            100.0 * l0,
            100.0 * recon_accuracy,
            100.0 * (accuracy - recon_accuracy)
        );
    }
    Ok(())
}
