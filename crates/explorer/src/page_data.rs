//! The data the page reads, as serialisable records: one per layer (the MLP's hidden layer and
//! each SAE) with one record per neuron. Test images are not repeated here: neurons list test
//! example indices and the page looks the pixels up once shipped.
use crate::input::{ExplorerInput, MLP_KEY};
use crate::prepare::{
    activation_profile, centred, example_clusters, latent_logit_effects, mlp_logit_effects,
    pixel_space_weights, quantise_i8, round_significant,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ndarray::{Array2, ArrayView2};
use ne_metrics::{PAPER_MLP_TEST_ACCURACY, PAPER_NE, PAPER_STANDARD, neuron_stats};
use ne_mnist::IMAGE_PIXELS;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::{Value, json};

/// Feature clusters shown per neuron (the count of all of them is shipped too).
pub const CLUSTERS_SHOWN: usize = 10;
/// Top-activating examples whose activations are shipped (the page shows them as thumbnails).
pub const TOP_SHOWN: usize = 12;
/// Quantiles of the positive activations drawn as each neuron's cumulative distribution.
pub const CDF_POINTS: usize = 51;
/// Significant digits kept for the numbers the page prints or plots.
const DIGITS: i32 = 4;

/// Which kind of layer a record describes; the page words its captions from it.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LayerKind {
    Mlp,
    Sae,
}

#[derive(Debug, Serialize)]
pub struct PageData<'a> {
    pub seed: u64,
    pub cluster_threshold: f32,
    pub cluster_examples: usize,
    pub clusters_shown: usize,
    pub distance_cap: usize,
    pub test_count: usize,
    /// Test labels, one byte each, base64.
    pub labels: String,
    /// Pixel normalisation of the MLP's input: normalised = (pixel / 255 - mean) / std.
    pub normalisation: Value,
    pub metrics: &'a Value,
    pub paper: Value,
    pub layers: Vec<LayerRecord>,
}

#[derive(Debug, Serialize)]
pub struct LayerRecord {
    pub key: String,
    pub title: String,
    pub kind: LayerKind,
    /// Pixel-space input weights of every neuron, 784 signed bytes each, base64.
    pub weights: String,
    /// Per neuron: weight ≈ byte × scale.
    pub weight_scales: Vec<f32>,
    pub neurons: Vec<NeuronRecord>,
}

#[derive(Debug, Serialize)]
pub struct NeuronRecord {
    /// Test examples that activate it (all of them).
    pub size: usize,
    /// Max and mean pairwise cosine distance of the embeddings of its first `distance_cap`
    /// activating test examples (the paper's Table 3 figures).
    pub max_dist: Option<f32>,
    pub mean_dist: Option<f32>,
    /// Training examples that activate it; 0 means dead.
    pub train_firing: u64,
    /// Change of each class logit per unit of activation.
    pub logits: Vec<f32>,
    /// Share of test examples with zero activation.
    pub zero_share: f32,
    /// `CDF_POINTS` quantiles of the positive test activations, ascending.
    pub quantiles: Vec<f32>,
    /// Top-activating test examples (at most `cluster_examples`), strongest first.
    pub top: Vec<usize>,
    /// Activations of the first `TOP_SHOWN` of them.
    pub top_activations: Vec<f32>,
    /// Feature clusters among `top`, all of them counted.
    pub cluster_count: usize,
    /// The largest `CLUSTERS_SHOWN` clusters.
    pub clusters: Vec<ClusterRecord>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct ClusterRecord {
    /// Positions in the neuron's `top` list, ascending (so strongest first).
    pub members: Vec<usize>,
    /// Position in `top` of the example most similar to the rest of the cluster.
    pub central: usize,
    pub max_dist: f32,
    pub mean_dist: f32,
}

/// One layer's neurons with everything needed to describe them.
struct LayerSource<'a> {
    key: &'a str,
    title: &'a str,
    kind: LayerKind,
    /// neurons x 784.
    pixel_weights: Array2<f32>,
    /// neurons x classes.
    logit_effects: Array2<f32>,
    /// neurons x d: the weights that form neuron embeddings.
    embedding_weights: ArrayView2<'a, f32>,
    /// n x d: what the layer receives for each test example.
    embedding_inputs: ArrayView2<'a, f32>,
    /// n x neurons.
    activations: Array2<f32>,
    train_firing: &'a [u64],
}

/// The paper's Tables 2 and 3 (one run each) and its MLP accuracy.
fn paper_tables() -> Value {
    json!({
        "standard": PAPER_STANDARD,
        "ne": PAPER_NE,
        "mlp_test_accuracy": PAPER_MLP_TEST_ACCURACY,
    })
}

/// Builds everything the page shows. `input` must have passed `validate`.
pub fn build<'a>(input: &ExplorerInput<'a>) -> PageData<'a> {
    let test = input.test;
    let mlp = input.mlp;
    let hidden = mlp.hidden(test.images.view());
    let centred_hidden: Vec<Array2<f32>> = input
        .saes
        .iter()
        .map(|s| centred(hidden.view(), &s.sae.b_dec))
        .collect();

    let mut sources = vec![LayerSource {
        key: MLP_KEY,
        title: "MLP hidden layer",
        kind: LayerKind::Mlp,
        pixel_weights: mlp.fc1.weight.clone(),
        logit_effects: mlp_logit_effects(mlp.fc2.weight.view()),
        embedding_weights: mlp.fc1.weight.view(),
        embedding_inputs: test.images.view(),
        activations: hidden.clone(),
        train_firing: input.mlp_train_firing,
    }];
    for (s, centred) in input.saes.iter().zip(&centred_hidden) {
        sources.push(LayerSource {
            key: s.key,
            title: s.title,
            kind: LayerKind::Sae,
            pixel_weights: pixel_space_weights(s.sae.w_enc.view(), mlp.fc1.weight.view()),
            logit_effects: latent_logit_effects(mlp.fc2.weight.view(), s.sae.w_dec.view()),
            embedding_weights: s.sae.w_enc.view(),
            embedding_inputs: centred.view(),
            activations: s.sae.encode(hidden.view()),
            train_firing: s.train_firing,
        });
    }

    PageData {
        seed: input.seed,
        cluster_threshold: input.cluster_threshold,
        cluster_examples: input.cluster_examples,
        clusters_shown: CLUSTERS_SHOWN,
        distance_cap: input.distance_cap,
        test_count: test.labels.len(),
        labels: BASE64.encode(test.labels.iter().copied().collect::<Vec<u8>>()),
        normalisation: json!({"mean": ne_mnist::PIXEL_MEAN, "std": ne_mnist::PIXEL_STD}),
        metrics: input.metrics,
        paper: paper_tables(),
        layers: sources
            .iter()
            .map(|source| build_layer(source, input))
            .collect(),
    }
}

fn build_layer(source: &LayerSource, input: &ExplorerInput) -> LayerRecord {
    let count = source.pixel_weights.nrows();
    let stats = neuron_stats(
        source.embedding_weights,
        source.embedding_inputs,
        source.activations.view(),
        input.distance_cap,
    );
    // Neuron-major copy so each neuron's activations are contiguous.
    let by_neuron = source.activations.t().as_standard_layout().into_owned();
    let neurons: Vec<NeuronRecord> = (0..count)
        .into_par_iter()
        .map(|j| {
            let profile = activation_profile(by_neuron.row(j), input.cluster_examples, CDF_POINTS);
            let clusters = example_clusters(
                source.embedding_weights.row(j),
                source.embedding_inputs,
                &profile.top,
                input.cluster_threshold,
            );
            let rounded = |values: &[f32]| -> Vec<f32> {
                values
                    .iter()
                    .map(|&v| round_significant(v, DIGITS))
                    .collect()
            };
            let shown = profile.top_activations.len().min(TOP_SHOWN);
            NeuronRecord {
                size: stats[j].size,
                max_dist: stats[j].max_dist.map(|d| round_significant(d, DIGITS)),
                mean_dist: stats[j].mean_dist.map(|d| round_significant(d, DIGITS)),
                train_firing: source.train_firing[j],
                logits: rounded(&source.logit_effects.row(j).to_vec()),
                zero_share: round_significant(profile.zero_share, DIGITS),
                quantiles: rounded(&profile.quantiles),
                top_activations: rounded(&profile.top_activations[..shown]),
                top: profile.top,
                cluster_count: clusters.len(),
                clusters: clusters
                    .into_iter()
                    .take(CLUSTERS_SHOWN)
                    .map(|c| ClusterRecord {
                        members: c.members,
                        central: c.central,
                        max_dist: round_significant(c.max_dist, DIGITS),
                        mean_dist: round_significant(c.mean_dist, DIGITS),
                    })
                    .collect(),
            }
        })
        .collect();

    let quantised: Vec<_> = source
        .pixel_weights
        .rows()
        .into_iter()
        .map(quantise_i8)
        .collect();
    let bytes: Vec<u8> = quantised
        .iter()
        .flat_map(|q| q.values.iter().map(|&v| v as u8))
        .collect();
    debug_assert_eq!(bytes.len(), count * IMAGE_PIXELS);
    LayerRecord {
        key: source.key.to_owned(),
        title: source.title.to_owned(),
        kind: source.kind,
        weights: BASE64.encode(bytes),
        weight_scales: quantised.iter().map(|q| q.scale).collect(),
        neurons,
    }
}
