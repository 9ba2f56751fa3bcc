//! How much arithmetic each stage does, and the machine's peak to hold it against, so the timing
//! table can say how close to the machine a run is.
//!
//! Counts are of multiply-adds (2 FLOPs each) in the matrix products and sparse loops that make
//! up nearly all of the work, from the sizes and what training recorded; element-wise work
//! (ReLU, Adam, renormalising) is left out, so a rate computed from them is a lower bound.
use ndarray::Array2;
use ne_metrics::{NeuronStats, TOP_EXAMPLES, UnitProxies};
use ne_models::{MlpConfig, SaeConfig};
use std::time::Instant;

/// Training the MLP: per example and epoch, the forward pass through both layers, both layers'
/// weight gradients and the gradient reaching the hidden layer.
pub fn mlp_training(config: &MlpConfig, examples: usize, inputs: usize, classes: usize) -> f64 {
    let layers = (inputs * config.hidden + config.hidden * classes) as f64;
    let hidden_gradient = (config.hidden * classes) as f64;
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

/// Steps of one SAE's training that saw `examples` examples of `inputs` dimensions with
/// `pairs` active (example, latent) pairs, `ne_pairs` of them on steps with the NE loss on: per
/// example the encoder's product, per active pair the sparse passes (and the NE loss's).
pub fn sae_training(
    config: &SaeConfig,
    inputs: usize,
    examples: usize,
    pairs: u64,
    ne_pairs: u64,
) -> f64 {
    let d = inputs as f64;
    let multiply_adds = examples as f64 * d * config.latents as f64
        + pairs as f64 * SAE_PAIR_PASSES * d
        + ne_pairs as f64 * NE_PAIR_PASSES * d;
    2.0 * multiply_adds
}

/// The sizes an SAE's evaluation works on.
#[derive(Debug, Clone, Copy)]
pub struct EvalSizes {
    /// Test examples.
    pub test: usize,
    /// Width of the activations the SAE reads, and the MLP's classes that read them back.
    pub inputs: usize,
    pub classes: usize,
    /// Pixels per image.
    pub pixels: usize,
    /// Activating examples per latent behind its distances.
    pub cap: usize,
}

/// Evaluating one SAE (`ne_metrics::evaluate_sae`) with these per-latent
/// figures: encoding and decoding the test set, the MLP's last layer on both, the
/// `train_encoded` activations of the training set (its dead latents), each latent's Gram
/// matrix of up to `cap` embeddings, and the pixels of up to 100 top examples per latent.
pub fn sae_evaluation(
    sizes: &EvalSizes,
    latent_stats: &[NeuronStats],
    proxies: &[UnitProxies],
    train_encoded: usize,
) -> f64 {
    let latents = latent_stats.len() as f64;
    let d = sizes.inputs as f64;
    let grams: f64 = latent_stats
        .iter()
        .map(|s| (s.size.min(sizes.cap) as f64).powi(2) * d)
        .sum();
    let top_pixels: f64 = proxies
        .iter()
        .map(|p| (p.active.min(TOP_EXAMPLES) * sizes.pixels) as f64 * 2.0)
        .sum();
    let multiply_adds = 2.0 * sizes.test as f64 * d * latents
        + 2.0 * (sizes.test * sizes.inputs * sizes.classes) as f64
        + train_encoded as f64 * d
        + grams
        + top_pixels;
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

    #[test]
    fn mlp_counts_follow_the_layer_sizes() {
        let config = MlpConfig {
            hidden: 2,
            epochs: 3,
            batch_size: 1,
            learning_rate: 0.1,
        };
        // Per example: 2 × (5·2 + 2·10) + 2·10 = 80 multiply-adds; 3 epochs of 4 examples.
        assert_eq!(mlp_training(&config, 4, 5, 10), 2.0 * 3.0 * 4.0 * 80.0);
        assert_eq!(hidden(10, 784, 64), 2.0 * 10.0 * 784.0 * 64.0);
    }

    #[test]
    fn sae_counts_add_the_sparse_pairs_and_the_ne_pairs() {
        let config = SaeConfig {
            latents: 8,
            ..SaeConfig::default()
        };
        // 100 examples of d = 4 into 8 latents; 200 active pairs, 80 with the NE loss on.
        let dense = 100.0 * 4.0 * 8.0;
        let sparse = 200.0 * 4.0 * 4.0;
        assert_eq!(
            sae_training(&config, 4, 100, 200, 0),
            2.0 * (dense + sparse)
        );
        let ne = 80.0 * 6.0 * 4.0;
        assert_eq!(
            sae_training(&config, 4, 100, 200, 80),
            2.0 * (dense + sparse + ne)
        );
    }
}
