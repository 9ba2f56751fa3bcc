//! Pure data preparation: the numbers behind every picture of the explorer, computed from the
//! models and the test split. Nothing here knows about HTML.
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use ne_embed::embeddings;

/// Input weights of SAE latents pulled back to pixel space: `w_enc` (m x d) times the MLP's
/// first-layer weights (d x 784), an m x 784 matrix. A linear pull-back: it ignores the MLP's
/// ReLU and biases, so it shows which pixels push a latent up, not an exact attribution.
pub fn pixel_space_weights(w_enc: ArrayView2<f32>, fc1_weight: ArrayView2<f32>) -> Array2<f32> {
    w_enc.dot(&fc1_weight)
}

/// How one unit of each SAE latent moves each class logit: the latent adds its decoder column
/// to the reconstructed hidden layer, which the MLP's second layer maps to logits. Returns
/// m x classes: row j is `fc2_weight` (classes x d) times column j of `w_dec` (d x m).
pub fn latent_logit_effects(fc2_weight: ArrayView2<f32>, w_dec: ArrayView2<f32>) -> Array2<f32> {
    fc2_weight
        .dot(&w_dec)
        .reversed_axes()
        .as_standard_layout()
        .into_owned()
}

/// How one unit of each MLP hidden neuron moves each class logit: row k is column k of
/// `fc2_weight` (classes x hidden), so the result is hidden x classes.
pub fn mlp_logit_effects(fc2_weight: ArrayView2<f32>) -> Array2<f32> {
    fc2_weight.t().as_standard_layout().into_owned()
}

/// A vector stored as signed bytes and one scale: value ≈ byte × scale.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantised {
    pub values: Vec<i8>,
    pub scale: f32,
}

/// Symmetric 8-bit quantisation: the largest magnitude maps to ±127, so every value comes back
/// within half a step (`scale / 2`). An all-zero vector gets scale 0.
pub fn quantise_i8(values: ArrayView1<f32>) -> Quantised {
    let largest = values.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let scale = largest / 127.0;
    let values = values
        .iter()
        .map(|&v| {
            if scale > 0.0 {
                (v / scale).round().clamp(-127.0, 127.0) as i8
            } else {
                0
            }
        })
        .collect();
    Quantised { values, scale }
}

/// The examples on which a neuron fires (activation > 0) as (index, activation), strongest
/// first; equal activations keep data-set order.
pub fn positive_by_activation(activations: ArrayView1<f32>) -> Vec<(usize, f32)> {
    let mut active: Vec<(usize, f32)> = activations
        .iter()
        .copied()
        .enumerate()
        .filter(|&(_, a)| a > 0.0)
        .collect();
    active.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    active
}

/// `count` evenly spaced quantiles (probabilities 0, 1/(count-1), …, 1) of `ascending` values,
/// interpolating linearly between neighbouring order statistics. Empty when there are no values.
pub fn quantiles(ascending: &[f32], count: usize) -> Vec<f32> {
    let Some(&last) = ascending.last() else {
        return Vec::new();
    };
    if count < 2 {
        return vec![last; count];
    }
    let top = (ascending.len() - 1) as f64;
    (0..count)
        .map(|i| {
            let position = top * i as f64 / (count - 1) as f64;
            let below = position.floor() as usize;
            let above = (below + 1).min(ascending.len() - 1);
            let weight = position - below as f64;
            let (lo, hi) = (f64::from(ascending[below]), f64::from(ascending[above]));
            (lo + weight * (hi - lo)) as f32
        })
        .collect()
}

/// How much of a neuron's activations the page gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileSizes {
    /// Strongest examples listed.
    pub top: usize,
    /// Quantiles of the positive activations.
    pub quantiles: usize,
    /// Bands of the activating examples by rank, and examples sampled from each.
    pub bands: usize,
    pub per_band: usize,
    /// Bins of the histogram of the positive activations.
    pub bins: usize,
}

/// One neuron's activations on the test set as the page shows them: its top examples, examples
/// from every range of its activations, and the distribution of its positive activations (the
/// page draws it as a cumulative distribution and a histogram; the examples at zero it counts
/// from the neuron's size).
#[derive(Debug, Clone, PartialEq)]
pub struct ActivationProfile {
    /// Test examples with a positive activation, strongest first, at most the requested number.
    pub top: Vec<usize>,
    /// Their activations, same order.
    pub top_activations: Vec<f32>,
    /// Quantiles of the positive activations, ascending (empty if the neuron never fires); when
    /// there are no more positive activations than quantiles asked for, all of them, so a small
    /// sample is drawn as its exact step function rather than interpolated.
    pub quantiles: Vec<f32>,
    /// The activating examples cut by rank into bands of equal count, strongest band first;
    /// from each, examples at evenly spaced ranks as (example, activation), strongest first.
    /// Empty when fewer examples activate the neuron than there are bands.
    pub bands: Vec<Vec<(usize, f32)>>,
    /// Counts of the positive activations in equal bins from 0 to the largest (empty if the
    /// neuron never fires).
    pub histogram: Vec<u32>,
}

/// Profiles one neuron from its activations on every test example.
pub fn activation_profile(activations: ArrayView1<f32>, sizes: &ProfileSizes) -> ActivationProfile {
    let active = positive_by_activation(activations);
    let ascending: Vec<f32> = active.iter().rev().map(|&(_, a)| a).collect();
    let bands = band_samples(&active, sizes.bands, sizes.per_band);
    let histogram = histogram(&ascending, sizes.bins);
    let (top, top_activations) = active.into_iter().take(sizes.top).unzip();
    ActivationProfile {
        top,
        top_activations,
        quantiles: if ascending.len() <= sizes.quantiles {
            ascending
        } else {
            quantiles(&ascending, sizes.quantiles)
        },
        bands,
        histogram,
    }
}

/// `bands` bands of equal count of `ranked` (strongest first), and from each `per_band` members
/// at evenly spaced ranks (all of them in a band that has no more).
pub fn band_samples(
    ranked: &[(usize, f32)],
    bands: usize,
    per_band: usize,
) -> Vec<Vec<(usize, f32)>> {
    let n = ranked.len();
    if bands == 0 || n < bands {
        return Vec::new();
    }
    (0..bands)
        .map(|b| {
            let band = &ranked[b * n / bands..(b + 1) * n / bands];
            let take = per_band.min(band.len());
            (0..take).map(|k| band[k * band.len() / take]).collect()
        })
        .collect()
}

/// Counts of `ascending` positive values in `bins` equal bins over (0, largest]; the largest
/// value falls in the last bin.
pub fn histogram(ascending: &[f32], bins: usize) -> Vec<u32> {
    let Some(&largest) = ascending.last() else {
        return Vec::new();
    };
    let mut counts = vec![0u32; bins];
    for &v in ascending {
        let bin = ((v / largest) * bins as f32).ceil() as usize;
        counts[bin.clamp(1, bins) - 1] += 1;
    }
    counts
}

/// One neuron's embeddings (`weights` ⊙ the example's row of `inputs`) of the given examples,
/// one row each, in that order.
pub fn example_embeddings(
    weights: ArrayView1<f32>,
    inputs: ArrayView2<f32>,
    examples: &[usize],
) -> Array2<f32> {
    embeddings(weights, inputs.select(Axis(0), examples).view())
}

/// `x` rounded to `digits` significant decimal digits, so the page's data stays short.
pub fn round_significant(x: f32, digits: i32) -> f32 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let magnitude = f64::from(x).abs().log10().floor() as i32;
    let factor = 10f64.powi(digits - 1 - magnitude);
    ((f64::from(x) * factor).round() / factor) as f32
}

/// Rows of `h` minus `b_dec`: what an SAE latent's encoder weights act on.
pub fn centred(h: ArrayView2<f32>, b_dec: &Array1<f32>) -> Array2<f32> {
    &h - b_dec
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn pixel_space_weights_multiply_encoder_rows_through_the_first_layer() {
        // Two latents over a 2-wide hidden layer; a 3-pixel "image".
        let w_enc = array![[1.0, 2.0], [0.0, -1.0]];
        let fc1 = array![[1.0, 0.0, 3.0], [0.5, 1.0, -1.0]];
        let pulled = pixel_space_weights(w_enc.view(), fc1.view());
        assert_eq!(pulled, array![[2.0, 2.0, 1.0], [-0.5, -1.0, 1.0]]);
    }

    #[test]
    fn logit_effects_follow_the_second_layer() {
        // Three classes over a 2-wide hidden layer.
        let fc2 = array![[1.0, 0.0], [0.0, 2.0], [-1.0, 1.0]];
        let mlp = mlp_logit_effects(fc2.view());
        assert_eq!(mlp, array![[1.0, 0.0, -1.0], [0.0, 2.0, 1.0]]);
        assert!(mlp.is_standard_layout());
        // Latent 0 decodes to (0.6, 0.8), latent 1 to (0, 1).
        let w_dec = array![[0.6, 0.0], [0.8, 1.0]];
        let latent = latent_logit_effects(fc2.view(), w_dec.view());
        let expected = array![[0.6, 1.6, 0.2], [0.0, 2.0, 1.0]];
        let worst = (&latent - &expected)
            .iter()
            .fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(worst < 1e-6, "{latent}");
        assert!(latent.is_standard_layout());
    }

    #[test]
    fn quantisation_round_trips_within_half_a_step() {
        let values = array![0.5, -1.27, 0.0, 0.01, 1.0, -0.333];
        let q = quantise_i8(values.view());
        assert!((q.scale - 0.01).abs() < 1e-7);
        assert_eq!(
            q.values[1], -127,
            "the largest magnitude takes the full range"
        );
        assert_eq!(q.values[0], 50);
        for (&byte, &v) in q.values.iter().zip(&values) {
            let back = f32::from(byte) * q.scale;
            assert!(
                (back - v).abs() <= q.scale / 2.0 + 1e-7,
                "{v} came back as {back}"
            );
        }
        let zero = quantise_i8(array![0.0f32, 0.0].view());
        assert_eq!((zero.values, zero.scale), (vec![0, 0], 0.0));
    }

    #[test]
    fn top_examples_are_positive_strongest_first_ties_in_order() {
        let acts = array![0.0, 3.0, -1.0, 5.0, 3.0, 0.5, 0.0];
        let active = positive_by_activation(acts.view());
        assert_eq!(active, vec![(3, 5.0), (1, 3.0), (4, 3.0), (5, 0.5)]);
        let sizes = |top, quantiles| ProfileSizes {
            top,
            quantiles,
            bands: 2,
            per_band: 1,
            bins: 2,
        };
        let profile = activation_profile(acts.view(), &sizes(2, 3));
        assert_eq!(profile.top, vec![3, 1]);
        assert_eq!(profile.top_activations, vec![5.0, 3.0]);
        assert_eq!(profile.quantiles, vec![0.5, 3.0, 5.0]);
        // No more activations than quantiles asked for: all of them, for an exact step plot.
        let exact = activation_profile(acts.view(), &sizes(2, 4));
        assert_eq!(exact.quantiles, vec![0.5, 3.0, 3.0, 5.0]);
        // Two bands of two by rank, the stronger first, one example each: its first.
        assert_eq!(profile.bands, vec![vec![(3, 5.0)], vec![(4, 3.0)]]);
        // Bins (0, 2.5] and (2.5, 5].
        assert_eq!(profile.histogram, vec![1, 3]);
    }

    #[test]
    fn bands_sample_evenly_spaced_ranks_of_each_band() {
        let ranked: Vec<(usize, f32)> = (0..10).map(|i| (i, 10.0 - i as f32)).collect();
        let bands = band_samples(&ranked, 2, 2);
        assert_eq!(
            bands,
            vec![vec![(0, 10.0), (2, 8.0)], vec![(5, 5.0), (7, 3.0)]]
        );
        assert_eq!(
            band_samples(&ranked, 3, 9)[0].len(),
            3,
            "a band of 3 gives 3"
        );
        assert!(
            band_samples(&ranked[..2], 3, 1).is_empty(),
            "fewer examples than bands"
        );
        assert_eq!(histogram(&[1.0, 2.0, 3.0, 4.0], 4), vec![1, 1, 1, 1]);
        assert_eq!(histogram(&[0.1, 4.0], 2), vec![1, 1]);
    }

    #[test]
    fn quantiles_interpolate_between_order_statistics() {
        let values = [1.0, 2.0, 4.0, 8.0, 16.0];
        // Probabilities 0, .25, .5, .75, 1 hit the order statistics exactly.
        assert_eq!(quantiles(&values, 5), vec![1.0, 2.0, 4.0, 8.0, 16.0]);
        // Probabilities 0, 1/3, 2/3, 1: positions 0, 4/3, 8/3, 4.
        let thirds = quantiles(&values, 4);
        let expected = [1.0, 2.0 + 2.0 / 3.0, 4.0 + 4.0 * 2.0 / 3.0, 16.0];
        for (got, want) in thirds.iter().zip(expected) {
            assert!((got - want).abs() < 1e-5, "{thirds:?}");
        }
        assert_eq!(quantiles(&[7.0], 3), vec![7.0; 3]);
        assert!(quantiles(&[], 5).is_empty());
    }

    #[test]
    fn a_neuron_that_never_fires_has_an_empty_profile() {
        let sizes = ProfileSizes {
            top: 10,
            quantiles: 5,
            bands: 3,
            per_band: 2,
            bins: 4,
        };
        let profile = activation_profile(array![0.0, -2.0].view(), &sizes);
        assert!(profile.top.is_empty() && profile.quantiles.is_empty());
        assert!(profile.bands.is_empty() && profile.histogram.is_empty());
    }

    #[test]
    fn embeddings_of_the_chosen_examples_in_the_order_given() {
        let weights = array![1.0, -2.0];
        let inputs = array![[1.0, 0.0], [0.0, 1.0], [2.0, 0.5]];
        let chosen = example_embeddings(weights.view(), inputs.view(), &[2, 0]);
        assert_eq!(chosen, array![[2.0, -1.0], [1.0, 0.0]]);
        assert_eq!(
            example_embeddings(weights.view(), inputs.view(), &[]).nrows(),
            0
        );
    }

    #[test]
    fn rounding_keeps_the_requested_significant_digits() {
        assert_eq!(round_significant(0.123_456, 4), 0.1235);
        assert_eq!(round_significant(-98_765.4, 3), -98_800.0);
        assert_eq!(round_significant(0.0, 4), 0.0);
        assert_eq!(round_significant(1.0, 4), 1.0);
    }

    #[test]
    fn centring_subtracts_the_decoder_bias_from_every_row() {
        let h = array![[1.0, 2.0], [3.0, 4.0]];
        let out = centred(h.view(), &array![1.0, -1.0]);
        assert_eq!(out, array![[0.0, 3.0], [2.0, 5.0]]);
    }
}
