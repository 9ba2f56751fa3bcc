//! Table 4: measures of monosemanticity that the NE loss does not optimise.
//!
//! The NE loss lowers embedding distance directly, so Table 3 cannot tell a more monosemantic
//! latent from a shortcut (an encoder row that reads one or two inputs has parallel embeddings
//! by construction). These proxies look at what a unit responds to instead: which digits
//! (label purity), which images (input coherence), and how many inputs it reads (encoder
//! participation, the shortcut's signature).
use crate::median;
use crate::neuron::active_examples;
use ndarray::{ArrayView1, ArrayView2, Axis};
use ne_models::ops::transposed_cow;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// A unit enters the Table 4 medians when at least this many test examples activate it.
pub const MIN_ACTIVE_EXAMPLES: usize = 10;

/// How many of a unit's highest-activating examples feed top-100 purity and input coherence.
pub const TOP_EXAMPLES: usize = 100;

/// Distinct label values (labels are bytes), so any class count up to 256 is counted without
/// being told it.
const LABEL_VALUES: usize = 256;

/// The Table 4 figures of one unit (an MLP hidden neuron or an SAE latent).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct UnitProxies {
    /// Test examples with a positive activation.
    pub active: usize,
    /// max over digits c of (activation on digit c) / (total activation); `None` if inactive.
    pub label_purity: Option<f64>,
    /// Share of the most common digit among the top (up to 100) activating examples.
    pub top_label_purity: Option<f64>,
    /// Mean pairwise cosine similarity of the top examples' raw pixels (ordered pairs i != k);
    /// `None` with fewer than 2 activating examples.
    pub input_coherence: Option<f64>,
    /// (Σ w²)² / Σ w⁴ of the unit's input weights: how many inputs it effectively reads
    /// (0 for an all-zero row).
    pub encoder_participation: f64,
}

impl UnitProxies {
    /// Whether the unit fires often enough to enter the medians.
    pub fn counted(&self) -> bool {
        self.active >= MIN_ACTIVE_EXAMPLES
    }
}

/// Table 4 for one model: medians over the counted units, and how many units were counted.
/// A median is NaN (null in JSON) when no unit is counted.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Table4 {
    /// Median of [`UnitProxies::label_purity`].
    #[serde(deserialize_with = "crate::sae::nan_from_null")]
    pub label_purity: f64,
    /// Median of [`UnitProxies::top_label_purity`].
    #[serde(deserialize_with = "crate::sae::nan_from_null")]
    pub top_label_purity: f64,
    /// Median of [`UnitProxies::input_coherence`].
    #[serde(deserialize_with = "crate::sae::nan_from_null")]
    pub input_coherence: f64,
    /// Median of [`UnitProxies::encoder_participation`].
    #[serde(deserialize_with = "crate::sae::nan_from_null")]
    pub encoder_participation: f64,
    /// Units with at least `MIN_ACTIVE_EXAMPLES` activating test examples.
    pub table4_units: usize,
}

impl Table4 {
    /// No figures at all: what the paper reports for Table 4.
    pub const UNMEASURED: Table4 = Table4 {
        label_purity: f64::NAN,
        top_label_purity: f64::NAN,
        input_coherence: f64::NAN,
        encoder_participation: f64::NAN,
        table4_units: 0,
    };

    /// The medians over the counted `units`.
    pub fn of(units: &[UnitProxies]) -> Self {
        let counted: Vec<&UnitProxies> = units.iter().filter(|u| u.counted()).collect();
        let med = |pick: fn(&UnitProxies) -> Option<f64>| {
            let values: Vec<f64> = counted.iter().filter_map(|u| pick(u)).collect();
            median(&values).unwrap_or(f64::NAN)
        };
        Self {
            label_purity: med(|u| u.label_purity),
            top_label_purity: med(|u| u.top_label_purity),
            input_coherence: med(|u| u.input_coherence),
            encoder_participation: med(|u| Some(u.encoder_participation)),
            table4_units: counted.len(),
        }
    }
}

/// The Table 4 figures of every unit. `weights` (units x inputs) are the units' input weights,
/// `acts` (n x units) their activations on n examples with `labels` (digits 0-9) and `images`,
/// the examples' raw pixels as unit vectors. Parallel over units; each unit is computed alone,
/// so the result does not depend on the thread count.
pub fn unit_proxies(
    weights: ArrayView2<f32>,
    acts: ArrayView2<f32>,
    labels: ArrayView1<u8>,
    images: &UnitImages,
) -> Vec<UnitProxies> {
    assert_eq!(weights.nrows(), acts.ncols(), "one weight row per unit");
    assert_eq!(acts.nrows(), labels.len(), "one label per example");
    assert_eq!(acts.nrows(), images.len(), "one image per example");
    let by_unit = transposed_cow(acts);
    by_unit
        .outer_iter()
        .into_par_iter()
        .enumerate()
        .map(|(unit, acts)| {
            let acts = acts.to_slice().expect("standard layout");
            let mut active = active_examples(acts);
            let count = active.len();
            let label_purity = label_purity(acts, &active, labels);
            let top = strongest(&mut active, acts, TOP_EXAMPLES);
            UnitProxies {
                active: count,
                label_purity,
                top_label_purity: top_label_purity(top, labels),
                input_coherence: images.coherence(top),
                encoder_participation: participation(weights.row(unit)),
            }
        })
        .collect()
}

/// The `k` examples of `active` with the highest activation, highest first, ties in test-set
/// order (`active` is ascending): selects them, then sorts only those, reordering `active`.
fn strongest<'a>(active: &'a mut [usize], acts: &[f32], k: usize) -> &'a [usize] {
    let order = |&a: &usize, &b: &usize| acts[b].total_cmp(&acts[a]).then(a.cmp(&b));
    let k = k.min(active.len());
    if k < active.len() {
        active.select_nth_unstable_by(k, order);
    }
    let top = &mut active[..k];
    top.sort_unstable_by(order);
    top
}

/// max over digits of the activation-weighted share of that digit, over the `active` examples
/// (ascending); `None` if the unit is silent.
fn label_purity(acts: &[f32], active: &[usize], labels: ArrayView1<u8>) -> Option<f64> {
    let mut per_class = [0.0f64; LABEL_VALUES];
    for &i in active {
        per_class[usize::from(labels[i])] += f64::from(acts[i]);
    }
    let total: f64 = per_class.iter().sum();
    (total > 0.0).then(|| per_class.iter().copied().fold(0.0, f64::max) / total)
}

/// Share of the most common digit among `top`; `None` if it is empty.
fn top_label_purity(top: &[usize], labels: ArrayView1<u8>) -> Option<f64> {
    let mut counts = [0usize; LABEL_VALUES];
    for &i in top {
        counts[usize::from(labels[i])] += 1;
    }
    let most = counts.iter().copied().max().unwrap_or(0);
    (!top.is_empty()).then(|| most as f64 / top.len() as f64)
}

/// Every image of a set of examples as a unit vector, for input coherence, stored sparsely: its
/// non-zero pixels divided by its L2 norm (in f64). Built once per set of examples and reused by
/// every model measured on it. A zero pixel adds exactly nothing to a sum of non-negative terms,
/// so leaving it out changes no bit of the coherence.
#[derive(Debug, Clone)]
pub struct UnitImages {
    /// Image i's non-zero pixels, ascending, are `pixel[starts[i]..starts[i + 1]]`, with their
    /// values divided by the image's norm in `unit` at the same places; none for a blank image,
    /// which has no direction. One flat store, so that the images a unit picks are compact runs.
    starts: Vec<usize>,
    pixel: Vec<u32>,
    unit: Vec<f64>,
    pixels: usize,
}

impl UnitImages {
    /// The images `pixels` (n x pixels, raw 0-255), in parallel over blocks of images: each
    /// block builds its own flat store, and the stores are joined in order.
    pub fn of(pixels: ArrayView2<u8>) -> Self {
        const IMAGES_PER_BLOCK: usize = 256;
        let width = pixels.ncols();
        let blocks: Vec<(Vec<usize>, Vec<u32>, Vec<f64>)> = pixels
            .axis_chunks_iter(Axis(0), IMAGES_PER_BLOCK)
            .into_par_iter()
            .map(|images| {
                let mut lengths = Vec::with_capacity(images.nrows());
                let (mut pixel, mut unit) = (Vec::new(), Vec::new());
                let mut written = vec![(0u32, 0.0f64); width];
                for row in images.rows() {
                    // Every pixel is written, and the next one goes to the same place unless
                    // this one is not zero: the non-zero pixels in order, without a branch per
                    // pixel (a fifth of MNIST's pixels are not zero, in no pattern a branch
                    // predictor learns).
                    let mut kept = 0;
                    for (k, &p) in (0u32..).zip(row.iter()) {
                        written[kept] = (k, f64::from(p));
                        kept += usize::from(p != 0);
                    }
                    let kept = &written[..kept];
                    // The squares in pixel order, zeros aside: they change no positive sum, and a
                    // blank image (the only one they could change) keeps no entries.
                    let norm = kept.iter().map(|&(_, p)| p * p).sum::<f64>().sqrt();
                    pixel.extend(kept.iter().map(|&(k, _)| k));
                    unit.extend(kept.iter().map(|&(_, p)| p / norm));
                    lengths.push(kept.len());
                }
                (lengths, pixel, unit)
            })
            .collect();
        let mut starts = Vec::with_capacity(pixels.nrows() + 1);
        starts.push(0);
        let entries = blocks.iter().map(|(_, pixel, _)| pixel.len()).sum();
        let (mut pixel, mut unit) = (Vec::with_capacity(entries), Vec::with_capacity(entries));
        for (lengths, block_pixel, block_unit) in blocks {
            let mut end = pixel.len();
            for length in lengths {
                end += length;
                starts.push(end);
            }
            pixel.extend_from_slice(&block_pixel);
            unit.extend_from_slice(&block_unit);
        }
        Self {
            starts,
            pixel,
            unit,
            pixels: width,
        }
    }

    /// How many images there are.
    pub fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Mean cosine similarity over ordered pairs of distinct examples of `top`, from the sum s
    /// of their unit vectors: Σ_{i≠k} cos = ||s||² − (number of non-zero images). A blank image
    /// has cosine 0 with everything. `None` with fewer than 2 examples.
    fn coherence(&self, top: &[usize]) -> Option<f64> {
        let n = top.len();
        if n < 2 {
            return None;
        }
        let mut sum = vec![0.0f64; self.pixels];
        let mut nonzero = 0usize;
        for &i in top {
            let image = self.starts[i]..self.starts[i + 1];
            nonzero += usize::from(!image.is_empty());
            for (&k, &unit) in self.pixel[image.clone()].iter().zip(&self.unit[image]) {
                sum[k as usize] += unit;
            }
        }
        let squared: f64 = sum.iter().map(|s| s * s).sum();
        Some((squared - nonzero as f64) / (n * (n - 1)) as f64)
    }
}

/// (Σ w²)² / Σ w⁴: 1 for a one-hot row, d for a row of d equal magnitudes, 0 for a zero row.
fn participation(row: ArrayView1<f32>) -> f64 {
    let (mut sq, mut quad) = (0.0f64, 0.0f64);
    for &w in row {
        let w2 = f64::from(w) * f64::from(w);
        sq += w2;
        quad += w2 * w2;
    }
    if quad > 0.0 { sq * sq / quad } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2, array};

    /// `unit_proxies` of `pixels` as their unit images.
    fn proxies(
        weights: &Array2<f32>,
        acts: &Array2<f32>,
        labels: &Array1<u8>,
        pixels: &Array2<u8>,
    ) -> Vec<UnitProxies> {
        let images = UnitImages::of(pixels.view());
        unit_proxies(weights.view(), acts.view(), labels.view(), &images)
    }

    /// `n` examples, labels cycling 0..10, images with one bright pixel each (pixel i % 4).
    fn examples(n: usize) -> (Array1<u8>, Array2<u8>) {
        let labels = Array1::from_shape_fn(n, |i| (i % 10) as u8);
        let pixels = Array2::from_shape_fn((n, 4), |(i, p)| if i % 4 == p { 255 } else { 0 });
        (labels, pixels)
    }

    #[test]
    fn a_unit_firing_on_one_digit_only_is_pure() {
        let (labels, pixels) = examples(200);
        // Unit 0 fires on digit 3 only, with varying strength; unit 1 fires on everything alike.
        let acts = Array2::from_shape_fn((200, 2), |(i, u)| match u {
            0 => f32::from(u8::from(i % 10 == 3)) * (1.0 + i as f32),
            _ => 1.0,
        });
        let weights = array![[1.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]];
        let units = proxies(&weights, &acts, &labels, &pixels);
        assert_eq!(units[0].active, 20);
        assert_eq!(units[0].label_purity, Some(1.0));
        assert_eq!(units[0].top_label_purity, Some(1.0));
        // Uniform over the ten digits: no preference.
        assert!((units[1].label_purity.unwrap() - 0.1).abs() < 1e-12);
        assert!((units[1].top_label_purity.unwrap() - 0.1).abs() < 1e-12);
    }

    #[test]
    fn label_purity_weighs_by_activation() {
        let labels = array![0u8, 1, 1, 1];
        let pixels = Array2::<u8>::ones((4, 2));
        // Digit 0 gets activation 6, digit 1 gets 1 + 1 + 1 = 3: purity 6/9; the top 100 (all
        // four examples) are three 1s and one 0: top purity 3/4.
        let acts = array![[6.0], [1.0], [1.0], [1.0]];
        let weights = array![[1.0, 1.0]];
        let u = proxies(&weights, &acts, &labels, &pixels)[0];
        assert!((u.label_purity.unwrap() - 6.0 / 9.0).abs() < 1e-12);
        assert_eq!(u.top_label_purity, Some(0.75));
    }

    #[test]
    fn top_examples_are_the_strongest_with_ties_in_test_set_order() {
        // 150 examples: the first 120 fire at 1.0 on digit 0; examples 120..150 fire at 2.0 on
        // digit 5. The top 100 are the 30 strong ones and the first 70 weak ones.
        let n = 150;
        let labels = Array1::from_shape_fn(n, |i| if i < 120 { 0 } else { 5 });
        let acts = Array2::from_shape_fn((n, 1), |(i, _)| if i < 120 { 1.0 } else { 2.0 });
        let pixels = Array2::<u8>::ones((n, 3));
        let weights = array![[1.0, 0.0, 0.0]];
        let u = proxies(&weights, &acts, &labels, &pixels)[0];
        assert_eq!(u.top_label_purity, Some(0.7));
        assert_eq!(u.active, 150);
    }

    #[test]
    fn identical_images_are_coherent_and_orthogonal_ones_are_not() {
        let labels = Array1::<u8>::zeros(12);
        let same = Array2::from_shape_fn((12, 5), |(_, p)| (p * 40) as u8);
        let acts = Array2::<f32>::ones((12, 1));
        let weights = array![[1.0]];
        let u = proxies(&weights, &acts, &labels, &same)[0];
        assert!((u.input_coherence.unwrap() - 1.0).abs() < 1e-12);
        // Four one-pixel images, three copies each: a pair is similar (1) only within its
        // copies: 12 × 2 of the 12 × 11 ordered pairs.
        let (_, spread) = examples(12);
        let u = proxies(&weights, &acts, &labels, &spread)[0];
        assert!((u.input_coherence.unwrap() - 24.0 / 132.0).abs() < 1e-12);
    }

    #[test]
    fn sparse_unit_images_give_the_dense_sums_bits() {
        // The definition, pixel by pixel in f64 with every zero included.
        let dense = |top: &[usize], pixels: &Array2<u8>| {
            let mut sum = vec![0.0f64; pixels.ncols()];
            let mut nonzero = 0usize;
            for &i in top {
                let row = pixels.row(i);
                let norm = row
                    .iter()
                    .map(|&p| f64::from(p) * f64::from(p))
                    .sum::<f64>()
                    .sqrt();
                if norm > 0.0 {
                    nonzero += 1;
                    for (s, &p) in sum.iter_mut().zip(row) {
                        *s += f64::from(p) / norm;
                    }
                }
            }
            let squared: f64 = sum.iter().map(|s| s * s).sum();
            (squared - nonzero as f64) / (top.len() * (top.len() - 1)) as f64
        };
        // Mostly-blank images with scattered strokes, and wholly blank ones; enough of them
        // for three blocks of `UnitImages::of`.
        let pixels = Array2::from_shape_fn((600, 30), |(i, k)| {
            let v = (i * 31 + k * 17) % 23;
            if i % 13 == 5 || v > 6 {
                0
            } else {
                (v * 37 + 3) as u8
            }
        });
        let images = UnitImages::of(pixels.view());
        for top in [
            vec![3, 1, 5, 18, 39, 0],
            (0..40).rev().collect(),
            vec![5, 18],
            vec![599, 256, 255, 0, 300, 512],
        ] {
            let sparse = images.coherence(&top).unwrap();
            assert_eq!(sparse.to_bits(), dense(&top, &pixels).to_bits(), "{top:?}");
        }
        assert_eq!(images.coherence(&[7]), None);
        assert_eq!(images.len(), 600);
    }

    #[test]
    fn participation_counts_the_inputs_a_row_reads() {
        let labels = Array1::<u8>::zeros(1);
        let pixels = Array2::<u8>::ones((1, 1));
        let acts = Array2::<f32>::zeros((1, 4));
        let weights = array![
            [0.0, -3.0, 0.0, 0.0],
            [1.0, -1.0, 1.0, -1.0],
            [2.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 0.0, 0.0]
        ];
        let units = proxies(&weights, &acts, &labels, &pixels);
        let p: Vec<f64> = units.iter().map(|u| u.encoder_participation).collect();
        // One-hot: 1; four equal magnitudes: 4; (4 + 1)² / (16 + 1) = 25/17; zero row: 0.
        assert_eq!(p[..2], [1.0, 4.0]);
        assert!((p[2] - 25.0 / 17.0).abs() < 1e-12);
        assert_eq!(p[3], 0.0);
        // A silent unit has no activation-based figures.
        assert_eq!(units[0].active, 0);
        assert_eq!(
            (units[0].label_purity, units[0].input_coherence),
            (None, None)
        );
    }

    #[test]
    fn medians_use_only_units_with_ten_activating_examples() {
        let unit = |active: usize, purity: f64| UnitProxies {
            active,
            label_purity: Some(purity),
            top_label_purity: Some(purity),
            input_coherence: Some(purity),
            encoder_participation: purity * 10.0,
        };
        let table = Table4::of(&[unit(10, 0.2), unit(9, 0.9), unit(500, 0.4), unit(12, 0.3)]);
        assert_eq!(table.table4_units, 3);
        assert!((table.label_purity - 0.3).abs() < 1e-12);
        assert!((table.encoder_participation - 3.0).abs() < 1e-12);
        let none = Table4::of(&[unit(3, 0.5)]);
        assert_eq!(none.table4_units, 0);
        assert!(none.label_purity.is_nan());
    }
}
