//! How much arithmetic each stage does, and the machine's peak to hold it against, so the timing
//! table can say how close to the machine a run is.
//!
//! Counts are of multiply-adds (2 FLOPs each) in the matrix products and sparse loops that make
//! up nearly all of the work, from the sizes and what training recorded; element-wise work
//! (ReLU, Adam, renormalising) is left out, so a rate computed from them is a lower bound.
use ndarray::Array2;
use ne_models::{CLASSES, MlpConfig, SaeConfig, SaeVariant, TrainingFiring};
use std::time::Instant;

/// Training the MLP: per example and epoch, the forward pass through both layers, both layers'
/// weight gradients and the gradient reaching the hidden layer.
pub fn mlp_training(config: &MlpConfig, examples: usize, inputs: usize) -> f64 {
    let layers = (inputs * config.hidden + config.hidden * CLASSES) as f64;
    let hidden_gradient = (config.hidden * CLASSES) as f64;
    let per_example = 2.0 * layers + hidden_gradient;
    2.0 * (config.epochs * examples) as f64 * per_example
}

/// The MLP's first layer over `examples` images.
pub fn hidden(examples: usize, inputs: usize, hidden: usize) -> f64 {
    2.0 * (examples * inputs * hidden) as f64
}

/// Multiply-adds per active (example, latent) pair of an SAE step: the decoder's row into the
/// reconstruction, the decoder gradient's row, the latent's gradient (a dot product) and the
/// encoder gradient's row, each `inputs` long.
const SAE_PAIR_PASSES: f64 = 4.0;

/// Multiply-adds per active pair and input dimension of the NE loss: the embedding, its norm and
/// running sum in one pass; the projection and two running sums in the next (`ne_embed::ne_loss`).
const NE_PAIR_PASSES: f64 = 6.0;

/// Training one SAE on `inputs`-wide activations for the steps `firing` records: per step the
/// encoder's product over the batch, and per active pair the sparse passes (the NE loss's too on
/// the NE variant's steps from `config.ne_start_step`, its share of the pairs taken as its share
/// of the steps). `steps` are the steps this training ran itself (fewer than `firing.steps`
/// when it started from another SAE's state).
pub fn sae_training(
    config: &SaeConfig,
    variant: SaeVariant,
    inputs: usize,
    examples_per_epoch: usize,
    firing: &TrainingFiring,
    steps: usize,
) -> f64 {
    let total_steps = firing.steps.max(1) as f64;
    let share = steps as f64 / total_steps;
    let examples = (examples_per_epoch * config.epochs) as f64 * share;
    let pairs = firing.whole_run.iter().sum::<u64>() as f64 * share;
    let ne_steps = match variant {
        SaeVariant::Ne => firing.steps.saturating_sub(config.ne_start_step).min(steps),
        SaeVariant::Standard => 0,
    };
    let ne_pairs = pairs * ne_steps as f64 / steps.max(1) as f64;
    let d = inputs as f64;
    let multiply_adds = examples * d * config.latents as f64
        + pairs * SAE_PAIR_PASSES * d
        + ne_pairs * NE_PAIR_PASSES * d;
    2.0 * multiply_adds
}

/// Side of the square matrices of the peak measurement: large enough for the product's kernel
/// to run at full speed, small enough to stay in cache (3 × 256 KiB) and to take about a
/// millisecond, shorter than the time slice a busy machine gives a thread.
const PEAK_SIDE: usize = 256;

/// Repeats of the peak measurement; the fastest counts, so that on a shared machine a few
/// products that ran undisturbed are enough.
const PEAK_REPEATS: usize = 40;

/// The f32 FLOP rate of one core, measured as the fastest of a few dozen 256³ matrix products
/// on the calling thread (the same product kernel, with the machine's widest vector
/// instructions, that the dense products of training use): what one core can do on the
/// best-suited work. Takes about 0.1 s.
pub fn measured_peak_per_core() -> f64 {
    let a = Array2::from_shape_fn((PEAK_SIDE, PEAK_SIDE), |(i, k)| ((i * 7 + k) % 13) as f32);
    let b = Array2::from_shape_fn((PEAK_SIDE, PEAK_SIDE), |(k, j)| ((k * 5 + j) % 11) as f32);
    let flops = 2.0 * (PEAK_SIDE as f64).powi(3);
    (0..PEAK_REPEATS)
        .map(|_| {
            let start = Instant::now();
            let c = a.dot(&b);
            let secs = start.elapsed().as_secs_f64();
            std::hint::black_box(c);
            flops / secs
        })
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn firing(steps: usize, pairs_per_latent: u64, latents: usize) -> TrainingFiring {
        TrainingFiring {
            steps,
            late_steps: steps.div_ceil(10),
            whole_run: vec![pairs_per_latent; latents],
            last_tenth: vec![0; latents],
        }
    }

    #[test]
    fn mlp_counts_follow_the_layer_sizes() {
        let config = MlpConfig {
            hidden: 2,
            epochs: 3,
            batch_size: 1,
            learning_rate: 0.1,
        };
        // Per example: 2 × (5·2 + 2·10) + 2·10 = 80 multiply-adds; 3 epochs of 4 examples.
        assert_eq!(mlp_training(&config, 4, 5), 2.0 * 3.0 * 4.0 * 80.0);
        assert_eq!(hidden(10, 784, 64), 2.0 * 10.0 * 784.0 * 64.0);
    }

    #[test]
    fn sae_counts_add_the_sparse_pairs_and_the_ne_steps() {
        let config = SaeConfig {
            latents: 8,
            epochs: 1,
            batch_size: 10,
            ne_start_step: 6,
            ..SaeConfig::default()
        };
        // 100 examples in 10 steps; 8 latents × 25 = 200 active pairs; d = 4.
        let record = firing(10, 25, 8);
        let dense = 100.0 * 4.0 * 8.0;
        let sparse = 200.0 * 4.0 * 4.0;
        let standard = sae_training(&config, SaeVariant::Standard, 4, 100, &record, 10);
        assert_eq!(standard, 2.0 * (dense + sparse));
        // The NE loss is on for 4 of the 10 steps: 80 of the pairs.
        let ne = sae_training(&config, SaeVariant::Ne, 4, 100, &record, 10);
        assert_eq!(ne, standard + 2.0 * 80.0 * 6.0 * 4.0);
        // Started at step 6 from another SAE: 4 steps of it, all with the NE loss.
        let forked = sae_training(&config, SaeVariant::Ne, 4, 100, &record, 4);
        assert!((forked - 2.0 * 0.4 * (dense + sparse + 200.0 * 6.0 * 4.0)).abs() < 1e-6);
    }
}
