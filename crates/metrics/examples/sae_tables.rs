//! Tables 2 and 3 (accuracy loss aside) for two small SAEs, trained without and with the
//! neuron-embedding loss on synthetic activations: non-negative mixtures of a few directions,
//! as a ReLU layer's would be. `evaluate_activations` needs only the activations, so it applies
//! to any model's. Run with `cargo run -p ne-metrics --example sae_tables`.
use ndarray::{Array2, s};
use ne_metrics::{ActivationMetrics, DEFAULT_EXAMPLE_CAP, EvalOptions, evaluate_activations};
use ne_models::rng::{Stream, stream_rng, uniform_f32};
use ne_models::{SaeConfig, SaeVariant, TrainError, train_sae};

fn main() -> Result<(), TrainError> {
    println!(
        "{:<9}{:>9}{:>8}{:>8}{:>10}{:>11}{:>6}{:>8}",
        "SAE", "MSE", "L1", "L0 %", "max dist", "mean dist", "size", "dead %"
    );
    for (name, m) in measure()? {
        println!(
            "{name:<9}{:>9.4}{:>8.2}{:>8.1}{:>10.2}{:>11.2}{:>6}{:>8.1}",
            m.mse, m.l1, m.l0_pct, m.max_dist, m.mean_dist, m.size, m.dead_pct
        );
    }
    Ok(())
}

/// Trains both SAEs on the first 4,096 of 5,120 synthetic examples and measures them on the
/// other 1,024 (dead latents on the training ones).
fn measure() -> Result<Vec<(&'static str, ActivationMetrics)>, TrainError> {
    let (examples, inputs, directions) = (5120, 16, 8);
    let mut rng = stream_rng(0, Stream::SaeShuffle);
    let basis =
        Array2::from_shape_simple_fn((directions, inputs), || uniform_f32(&mut rng, 0.0, 1.0));
    let mixes = Array2::from_shape_simple_fn((examples, directions), || {
        uniform_f32(&mut rng, -1.0, 1.0).max(0.0)
    });
    let activations = mixes.dot(&basis);
    let (train, test) = (
        activations.slice(s![..4096, ..]),
        activations.slice(s![4096.., ..]),
    );
    let config = SaeConfig {
        latents: 64,
        epochs: 3,
        lambda_l1: 1.0,
        lambda_ne: 10.0,
        ne_start_step: 32,
        ..SaeConfig::default()
    };
    let options = EvalOptions {
        example_cap: DEFAULT_EXAMPLE_CAP,
        dead_threshold: 0.0,
    };
    let mut rows = Vec::new();
    for (name, variant) in [("standard", SaeVariant::Standard), ("+ NE", SaeVariant::Ne)] {
        let (sae, history) = train_sae(&config, variant, 0, train, &mut |_| {})?;
        let evaluation = evaluate_activations(&sae, test, train, Some(&history.firing), options);
        rows.push((name, evaluation.metrics));
    }
    Ok(rows)
}

/// `cargo test` runs the example, so it cannot rot; its figures must be ones Tables 2 and 3
/// can hold.
#[test]
fn measures_both_saes() {
    let rows = measure().unwrap();
    assert_eq!(rows.len(), 2);
    for (name, m) in rows {
        assert!(m.mse.is_finite() && m.mse > 0.0, "{name}: {m:?}");
        assert!(m.l0_pct > 0.0 && m.l0_pct <= 100.0, "{name}: {m:?}");
        assert!(
            (0.0..=2.0).contains(&m.mean_dist) && m.mean_dist <= m.max_dist,
            "{name}: {m:?}"
        );
        assert!(
            m.size >= 1.0 && (0.0..100.0).contains(&m.dead_pct),
            "{name}: {m:?}"
        );
    }
}
