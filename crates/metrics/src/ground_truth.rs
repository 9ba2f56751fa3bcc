//! Ground truth: how well an SAE trained on synthetic activations x = Σ_g c_g f_g (known unit
//! feature directions f_g, coefficients c_g ≥ 0, feature g active where c_g > 0) recovers the
//! features, by its decoder directions (MMCS, the share recovered, MCC) and by when its latents
//! fire (precision, recall, the polysemantic share). Definitions in the project's docs/method.md.
//!
//! Unlike Table 4's proxies these need no labels or pixels: a monosemantic latent is one that
//! fires on one true feature, and here the true features are known.
use crate::{MIN_ACTIVE_EXAMPLES, median};
use ndarray::{Array2, ArrayView1, ArrayView2};
use pathfinding::kuhn_munkres::kuhn_munkres;
use pathfinding::matrix::Matrix;
use serde::{Deserialize, Serialize};

/// A feature counts as recovered when some decoder direction has at least this cosine with it.
pub const RECOVERED_COSINE: f64 = 0.9;

/// A latent counts as polysemantic when less than this share of its activation mass falls on
/// examples where its best-matched feature is active.
pub const POLYSEMANTIC_PRECISION: f64 = 0.5;

/// The optimal matching works on integers: |cos| in [0, 1] scaled by this, so that even 10⁶
/// matched pairs cannot overflow an i64 while ties closer than 10⁻⁹ are all that is lost.
const MATCHING_SCALE: f64 = 1e9;

/// How the decoder's directions match the true features.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DictionaryMatch {
    /// Mean over features of the best cosine with any decoder direction.
    pub mmcs: f64,
    /// Share of features (in [0, 1]) whose best cosine is at least [`RECOVERED_COSINE`].
    pub recovered: f64,
    /// Mean over features of |cos| with the latent a one-to-one assignment maximising the total
    /// |cos| gives it (0 for a feature left without a latent when features outnumber latents).
    pub mcc: f64,
}

/// One latent measured against the true features on a data set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatentMatch {
    /// g*: the feature whose direction has the highest cosine with the latent's decoder column.
    pub feature: usize,
    /// That cosine.
    pub cosine: f64,
    /// Examples on which the latent fires (activation > 0).
    pub fires: usize,
    /// Share of the latent's activation mass on examples where g* is active; `None` when the
    /// latent never fires.
    pub precision: Option<f64>,
    /// Share of g*'s occurrences on which the latent fires; `None` when g* never occurs.
    pub recall: Option<f64>,
}

impl LatentMatch {
    /// Whether the latent enters the medians: it fires on at least [`MIN_ACTIVE_EXAMPLES`]
    /// examples.
    pub fn counted(&self) -> bool {
        self.fires >= MIN_ACTIVE_EXAMPLES
    }
}

/// The ground-truth figures of one SAE, as `synthetic.json` names them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GroundTruth {
    /// Mean max cosine similarity: see [`DictionaryMatch::mmcs`].
    pub mmcs: f64,
    /// Share of features recovered, in [0, 1]: see [`DictionaryMatch::recovered`].
    pub recovered: f64,
    /// Mean |cos| after optimal one-to-one matching: see [`DictionaryMatch::mcc`].
    pub mcc: f64,
    /// Median precision over counted latents (NaN, null in JSON, when none is counted).
    #[serde(deserialize_with = "crate::sae::nan_from_null")]
    pub precision: f64,
    /// Median recall over counted latents whose g* occurs (NaN when there are none).
    #[serde(deserialize_with = "crate::sae::nan_from_null")]
    pub recall: f64,
    /// Counted latents with precision below [`POLYSEMANTIC_PRECISION`], in percent of the
    /// counted latents (NaN when none is counted).
    #[serde(deserialize_with = "crate::sae::nan_from_null")]
    pub polysemantic_pct: f64,
    /// Latents firing on at least [`MIN_ACTIVE_EXAMPLES`] examples.
    pub counted_latents: usize,
}

/// Cosine similarity of every feature (a row of `features`, G × d) with every decoder direction
/// (a column of `decoder`, d × m), as a G × m matrix in f64. Neither needs unit norm; a zero
/// vector has cosine 0 with everything.
pub fn feature_cosines(features: ArrayView2<f32>, decoder: ArrayView2<f32>) -> Array2<f64> {
    assert_eq!(
        features.ncols(),
        decoder.nrows(),
        "features and decoder directions share their width"
    );
    let unit_rows = |m: ArrayView2<f32>| {
        let mut m = m.mapv(f64::from);
        for mut row in m.rows_mut() {
            let norm = row.dot(&row).sqrt();
            if norm > 0.0 {
                row /= norm;
            }
        }
        m
    };
    unit_rows(features).dot(&unit_rows(decoder.t()).t())
}

/// MMCS, the share recovered and MCC from the G × m cosines of [`feature_cosines`].
pub fn dictionary_match(cosines: ArrayView2<f64>) -> DictionaryMatch {
    let features = cosines.nrows();
    let best: Vec<f64> = cosines
        .rows()
        .into_iter()
        .map(|row| row.iter().copied().fold(f64::NEG_INFINITY, f64::max))
        .collect();
    let recovered = best.iter().filter(|&&c| c >= RECOVERED_COSINE).count();
    DictionaryMatch {
        mmcs: best.iter().sum::<f64>() / features as f64,
        recovered: recovered as f64 / features as f64,
        mcc: matched_abs_cosine(cosines) / features as f64,
    }
}

/// The largest total |cos| of a one-to-one assignment between features and latents (the
/// Hungarian method on the smaller side), summed in f64 over the assigned pairs.
fn matched_abs_cosine(cosines: ArrayView2<f64>) -> f64 {
    let abs = cosines.mapv(f64::abs);
    // Rows must be the smaller side.
    let abs = if abs.nrows() <= abs.ncols() {
        abs
    } else {
        abs.reversed_axes()
    };
    let weights = Matrix::from_fn(abs.nrows(), abs.ncols(), |(r, c)| {
        (abs[[r, c]] * MATCHING_SCALE).round() as i64
    });
    let (_, assignment) = kuhn_munkres(&weights);
    assignment
        .iter()
        .enumerate()
        .map(|(r, &c)| abs[[r, c]])
        .sum()
}

/// Each latent against the features: its best-matched feature g* (from the G × m `cosines`),
/// and on a data set with latent activations `acts` (n × m) and true coefficients
/// `coefficients` (n × G, feature g active where > 0), its precision and recall.
pub fn latent_matches(
    cosines: ArrayView2<f64>,
    acts: ArrayView2<f32>,
    coefficients: ArrayView2<f32>,
) -> Vec<LatentMatch> {
    assert_eq!(
        cosines.ncols(),
        acts.ncols(),
        "one cosine column per latent"
    );
    assert_eq!(
        cosines.nrows(),
        coefficients.ncols(),
        "one cosine row per feature"
    );
    assert_eq!(acts.nrows(), coefficients.nrows(), "one row per example");
    let best: Vec<(usize, f64)> = cosines.columns().into_iter().map(best_feature).collect();
    let latents = acts.ncols();
    // One pass over the examples in order, row by row (contiguous memory, a fixed order of
    // summation whatever the thread count).
    let mut fires = vec![0usize; latents];
    let mut caught = vec![0usize; latents];
    let mut mass = vec![0.0f64; latents];
    let mut mass_on_feature = vec![0.0f64; latents];
    let mut occurrences = vec![0usize; coefficients.ncols()];
    for (a_row, c_row) in acts.rows().into_iter().zip(coefficients.rows()) {
        for (count, &c) in occurrences.iter_mut().zip(c_row) {
            *count += usize::from(c > 0.0);
        }
        for (j, &a) in a_row.iter().enumerate() {
            if a > 0.0 {
                fires[j] += 1;
                mass[j] += f64::from(a);
                if c_row[best[j].0] > 0.0 {
                    caught[j] += 1;
                    mass_on_feature[j] += f64::from(a);
                }
            }
        }
    }
    best.iter()
        .enumerate()
        .map(|(j, &(feature, cosine))| LatentMatch {
            feature,
            cosine,
            fires: fires[j],
            precision: (mass[j] > 0.0).then(|| mass_on_feature[j] / mass[j]),
            recall: (occurrences[feature] > 0)
                .then(|| caught[j] as f64 / occurrences[feature] as f64),
        })
        .collect()
}

/// The feature with the highest cosine (the first of ties) and that cosine.
fn best_feature(column: ArrayView1<f64>) -> (usize, f64) {
    column
        .iter()
        .copied()
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |best, (g, c)| {
            if c > best.1 { (g, c) } else { best }
        })
}

/// Everything at once: the decoder (d × m columns) against `features` (G × d rows), and the
/// latents' activations `acts` (n × m) against the true `coefficients` (n × G) of the same
/// examples.
pub fn ground_truth(
    features: ArrayView2<f32>,
    decoder: ArrayView2<f32>,
    acts: ArrayView2<f32>,
    coefficients: ArrayView2<f32>,
) -> GroundTruth {
    let cosines = feature_cosines(features, decoder);
    let dictionary = dictionary_match(cosines.view());
    let latents = latent_matches(cosines.view(), acts, coefficients);
    summarise(dictionary, &latents)
}

/// The medians over counted latents beside the dictionary's figures.
pub fn summarise(dictionary: DictionaryMatch, latents: &[LatentMatch]) -> GroundTruth {
    let counted: Vec<&LatentMatch> = latents.iter().filter(|l| l.counted()).collect();
    let precisions: Vec<f64> = counted.iter().filter_map(|l| l.precision).collect();
    let recalls: Vec<f64> = counted.iter().filter_map(|l| l.recall).collect();
    let polysemantic = precisions
        .iter()
        .filter(|&&p| p < POLYSEMANTIC_PRECISION)
        .count();
    GroundTruth {
        mmcs: dictionary.mmcs,
        recovered: dictionary.recovered,
        mcc: dictionary.mcc,
        precision: median(&precisions).unwrap_or(f64::NAN),
        recall: median(&recalls).unwrap_or(f64::NAN),
        polysemantic_pct: if counted.is_empty() {
            f64::NAN
        } else {
            100.0 * polysemantic as f64 / counted.len() as f64
        },
        counted_latents: counted.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, array};

    /// Four orthonormal features in R^4 and, for n examples, feature (i mod 4) active with
    /// coefficient 1 + i/n.
    fn one_hot_data(n: usize) -> (Array2<f32>, Array2<f32>) {
        let features = Array2::eye(4);
        let coefficients = Array2::from_shape_fn((n, 4), |(i, g)| {
            if i % 4 == g {
                1.0 + i as f32 / n as f32
            } else {
                0.0
            }
        });
        (features, coefficients)
    }

    #[test]
    fn a_perfect_dictionary_scores_one_everywhere() {
        let (features, coefficients) = one_hot_data(40);
        // Latents = features, in another order, and one extra latent that never fires.
        let order = [2usize, 0, 3, 1];
        let mut decoder = Array2::<f32>::zeros((4, 5));
        for (j, &g) in order.iter().enumerate() {
            decoder[[g, j]] = 3.0; // not unit: the comparison normalises
        }
        decoder[[0, 4]] = 1.0;
        let mut acts = Array2::<f32>::zeros((40, 5));
        for (j, &g) in order.iter().enumerate() {
            acts.column_mut(j).assign(&coefficients.column(g));
        }
        let truth = ground_truth(
            features.view(),
            decoder.view(),
            acts.view(),
            coefficients.view(),
        );
        assert_eq!(truth.mmcs, 1.0);
        assert_eq!(truth.recovered, 1.0);
        assert!((truth.mcc - 1.0).abs() < 1e-12, "{}", truth.mcc);
        assert_eq!((truth.precision, truth.recall), (1.0, 1.0));
        assert_eq!(truth.polysemantic_pct, 0.0);
        assert_eq!(truth.counted_latents, 4, "the silent latent is not counted");
    }

    #[test]
    fn a_latent_firing_for_two_features_has_precision_about_one_half() {
        let (features, coefficients) = one_hot_data(400);
        // One latent whose direction leans to feature 0 but fires equally on features 0 and 1.
        let decoder = array![[0.8f32], [0.6], [0.0], [0.0]];
        let acts = Array2::from_shape_fn((400, 1), |(i, _)| {
            f32::from(u8::from(i % 4 == 0 || i % 4 == 1))
        });
        let latents = latent_matches(
            feature_cosines(features.view(), decoder.view()).view(),
            acts.view(),
            coefficients.view(),
        );
        assert_eq!(latents[0].feature, 0);
        assert!((latents[0].cosine - 0.8).abs() < 1e-7);
        assert_eq!(latents[0].fires, 200);
        assert_eq!(latents[0].precision, Some(0.5));
        assert_eq!(latents[0].recall, Some(1.0));
        let truth = summarise(
            dictionary_match(feature_cosines(features.view(), decoder.view()).view()),
            &latents,
        );
        assert_eq!(truth.polysemantic_pct, 0.0, "0.5 is not below 0.5");
        // 0.8 for feature 0, 0.6 for feature 1, 0 for the others; nothing reaches 0.9.
        assert!((truth.mmcs - 1.4 / 4.0).abs() < 1e-7);
        assert_eq!(truth.recovered, 0.0);
        // One latent can serve one feature only: the best is feature 0 at 0.8.
        assert!((truth.mcc - 0.8 / 4.0).abs() < 1e-7);
    }

    #[test]
    fn precision_weighs_activation_mass_and_recall_counts_occurrences() {
        let features = Array2::<f32>::eye(2);
        // Feature 0 active on examples 0-3, feature 1 on 4-7.
        let coefficients =
            Array2::from_shape_fn((8, 2), |(i, g)| f32::from(u8::from((i < 4) == (g == 0))));
        let decoder = array![[1.0f32], [0.0]];
        // Fires 3.0 on examples 0 and 1 (feature 0) and 1.0 on example 5 (feature 1).
        let mut acts = Array2::<f32>::zeros((8, 1));
        acts[[0, 0]] = 3.0;
        acts[[1, 0]] = 3.0;
        acts[[5, 0]] = 1.0;
        let cosines = feature_cosines(features.view(), decoder.view());
        let latent = latent_matches(cosines.view(), acts.view(), coefficients.view())[0];
        assert_eq!(latent.precision, Some(6.0 / 7.0));
        assert_eq!(latent.recall, Some(0.5));
        assert!(!latent.counted(), "3 firings are fewer than 10");
        let truth = summarise(dictionary_match(cosines.view()), &[latent]);
        assert!(truth.precision.is_nan() && truth.polysemantic_pct.is_nan());
        assert_eq!(truth.counted_latents, 0);
    }

    #[test]
    fn matching_is_one_to_one_and_optimal_not_greedy() {
        // Greedy (feature 0 takes its best, latent 0 at 0.9) leaves feature 1 with 0.1: total
        // 1.0. The optimum gives feature 0 latent 1 (0.8) and feature 1 latent 0 (0.85): 1.65.
        let cosines = array![[0.9, 0.8], [-0.85, 0.1]];
        let m = dictionary_match(cosines.view());
        assert!((m.mcc - 1.65 / 2.0).abs() < 1e-9, "{}", m.mcc);
        assert!(
            (m.mmcs - (0.9 + 0.1) / 2.0).abs() < 1e-12,
            "MMCS takes the signed cosine"
        );
        assert_eq!(m.recovered, 0.5);
        // More features than latents: the unmatched feature counts 0.
        let wide = array![[1.0], [0.5], [0.2]];
        assert!((dictionary_match(wide.view()).mcc - 1.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn zero_vectors_have_cosine_zero() {
        let features = array![[1.0f32, 0.0], [0.0, 0.0]];
        let decoder = array![[0.0f32, 2.0], [0.0, 2.0]];
        let cos = feature_cosines(features.view(), decoder.view());
        assert_eq!(cos[[0, 0]], 0.0);
        assert!((cos[[0, 1]] - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-12);
        assert_eq!(cos.row(1).to_vec(), vec![0.0, 0.0]);
    }
}
