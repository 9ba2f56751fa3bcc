//! The data the page reads, as serialisable records: one per layer (the MLP's hidden layer and
//! each SAE) with one record per neuron, and the models' parameters at full precision so the
//! page can run any input through them. Test images are not repeated here: neurons list test
//! example indices and the page looks the pixels up once shipped.
use crate::input::{ExplorerInput, MLP_KEY};
use crate::links::{Linked, nearest_by_direction, nearest_by_overlap, strongest_entries};
use crate::map::embedding_map;
use crate::prepare::{
    ActivationProfile, ProfileSizes, activation_profile, centred, example_embeddings,
    latent_logit_effects, mlp_logit_effects, pixel_space_weights, quantise_i8, round_significant,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewD};
use ne_embed::{Cluster, cluster_separation, feature_clusters};
use ne_metrics::{MIN_ACTIVE_EXAMPLES, NeuronStats, TOP_EXAMPLES, UnitProxies, neuron_stats};
use ne_mnist::IMAGE_PIXELS;
use ne_models::Sae;
use ne_models::ops::transposed;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::{Value, json};

/// Feature clusters drawn per neuron before the page's "show all" (all of them are shipped).
pub const CLUSTERS_SHOWN: usize = 10;
/// Quantiles of the positive activations drawn as each neuron's cumulative distribution.
pub const CDF_POINTS: usize = 51;
/// Top-activating test examples of an SAE latent compared with another SAE's (Jaccard overlap).
pub const OVERLAP_EXAMPLES: usize = 100;
/// Latents of another SAE linked from a latent, by decoder direction and by shared examples.
pub const NEAREST_LINKED: usize = 3;
/// Units linked across the MLP-SAE boundary: the neurons a latent reads or writes most, the
/// latents that read or write a neuron most.
pub const WEIGHT_LINKED: usize = 5;
/// Bands of each neuron's activating test examples by rank, and examples shown from each.
pub const BANDS: usize = 5;
pub const BAND_EXAMPLES: usize = 8;
/// Bins of each neuron's histogram of positive activations.
pub const HISTOGRAM_BINS: usize = 24;
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
    pub overlap_examples: usize,
    /// Fewest activating test examples for a figure the page does not flag as from a small
    /// sample (Table 4's medians count only units with at least this many).
    pub min_figure_count: usize,
    /// Strongest examples that Table 4's top label purity and input coherence read.
    pub table4_top: usize,
    pub test_count: usize,
    /// Test labels, one byte each, base64.
    pub labels: String,
    /// Pixel normalisation of the MLP's input: normalised = (pixel / 255 - mean) / std.
    pub normalisation: Value,
    pub metrics: &'a Value,
    /// `ExplorerInput::models_label`.
    pub models_label: &'a str,
    pub paper: &'a Value,
    /// The MLP's parameters, for the page's own forward pass.
    pub mlp: MlpParameters,
    pub layers: Vec<LayerRecord>,
}

/// A tensor at full precision: its shape and its values in row-major order as little-endian
/// f32 bytes, base64.
#[derive(Debug, Serialize)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub f32le: String,
}

impl Tensor {
    fn of(values: ArrayViewD<f32>) -> Self {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        Self {
            shape: values.shape().to_vec(),
            f32le: BASE64.encode(bytes),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct MlpParameters {
    pub fc1_weight: Tensor,
    pub fc1_bias: Tensor,
    pub fc2_weight: Tensor,
    pub fc2_bias: Tensor,
}

#[derive(Debug, Serialize)]
pub struct SaeParameters {
    pub w_enc: Tensor,
    pub b_enc: Tensor,
    pub w_dec: Tensor,
    pub b_dec: Tensor,
}

impl SaeParameters {
    fn of(sae: &Sae) -> Self {
        Self {
            w_enc: Tensor::of(sae.w_enc.view().into_dyn()),
            b_enc: Tensor::of(sae.b_enc.view().into_dyn()),
            w_dec: Tensor::of(sae.w_dec.view().into_dyn()),
            b_dec: Tensor::of(sae.b_dec.view().into_dyn()),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct LayerRecord {
    pub key: String,
    pub title: String,
    /// Where an SAE came from; `None` for the MLP's layer.
    pub provenance: Option<String>,
    pub kind: LayerKind,
    /// Pixel-space input weights of every neuron, 784 signed bytes each, base64.
    pub weights: String,
    /// Per neuron: weight ≈ byte × scale.
    pub weight_scales: Vec<f32>,
    /// An SAE's parameters, for the page's own forward pass; `None` for the MLP's layer.
    pub sae: Option<SaeParameters>,
    pub neurons: Vec<NeuronRecord>,
}

#[derive(Debug, Serialize)]
pub struct NeuronRecord {
    /// Test examples that activate it (all of them).
    pub size: usize,
    /// Max and mean pairwise cosine distance of the embeddings of its first `distance_cap`
    /// activating test examples in test-set order (the paper's Table 3 figures).
    pub max_dist: Option<f32>,
    pub mean_dist: Option<f32>,
    /// Training examples that activate it; 0 means dead.
    pub train_firing: u64,
    /// Its Table 4 figures: label purity and top-100 label purity, input coherence (`None`
    /// where the unit fires too rarely to measure), encoder participation.
    pub label_purity: Option<f32>,
    pub top_label_purity: Option<f32>,
    pub input_coherence: Option<f32>,
    pub encoder_participation: f32,
    /// Change of each class logit per unit of activation.
    pub logits: Vec<f32>,
    /// Quantiles of the positive test activations, ascending: `CDF_POINTS` of them, or every
    /// positive activation when there are no more than that.
    pub quantiles: Vec<f32>,
    /// Bins of equal width from 0 to its largest test activation: how many positive test
    /// activations fall in each (empty if no test example activates it).
    pub histogram: Vec<u32>,
    /// Test examples from every range of its activations: its activating examples cut by rank
    /// into `BANDS` bands, strongest first, and `BAND_EXAMPLES` of each at evenly spaced ranks.
    pub bands: Vec<BandRecord>,
    /// The digit whose test images get the largest share of its summed activation (the one
    /// its label purity measures); `None` if no test example activates it.
    pub top_digit: Option<u8>,
    /// Top-activating test examples (at most `cluster_examples`), strongest first.
    pub top: Vec<usize>,
    /// Their activations, same order.
    pub top_activations: Vec<f32>,
    /// Feature clusters among `top`, largest first (all of them).
    pub clusters: Vec<ClusterRecord>,
    /// How many there are (the index sorts by it).
    pub cluster_count: usize,
    /// Mean cosine distance within its clusters (pairs pooled) and between their centroids.
    pub intra_dist: Option<f32>,
    pub inter_dist: Option<f32>,
    /// The embeddings of `top` on their first two principal components: x0, y0, x1, y1, …
    /// as signed bytes (value ≈ byte × `map_scale`), base64.
    pub map: String,
    pub map_scale: f32,
    /// Share of the variance along each of the two axes.
    pub map_explained: [f32; 2],
    /// Related units in the other layers.
    pub links: Vec<LinkGroup>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct BandRecord {
    /// Test examples, strongest first.
    pub examples: Vec<usize>,
    /// Their activations, same order.
    pub activations: Vec<f32>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct ClusterRecord {
    /// Positions in the neuron's `top` list, ascending (so strongest first).
    pub members: Vec<usize>,
    /// Position in `top` of the example most similar to the rest of the cluster.
    pub central: usize,
    /// Max and mean cosine distance between its members; left out for a lone example (most
    /// clusters of a polysemantic neuron), which has no pair.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_dist: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_dist: Option<f32>,
}

/// How the units of a `LinkGroup` relate to the neuron that lists them.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// Latents of another SAE, or the other latents of its own, whose decoder columns point
    /// most nearly the same way (cosine).
    DecoderCosine,
    /// Latents of another SAE sharing most of its top `OVERLAP_EXAMPLES` test examples (Jaccard).
    ExampleOverlap,
    /// MLP neurons its encoder row weighs most (signed weight).
    Reads,
    /// MLP neurons its decoder column writes most (signed weight).
    Writes,
    /// Latents of an SAE whose encoder weighs this neuron most.
    ReadBy,
    /// Latents of an SAE whose decoder writes this neuron most.
    WrittenBy,
}

#[derive(Debug, Serialize)]
pub struct LinkGroup {
    pub relation: Relation,
    /// Key of the layer the units belong to.
    pub layer: String,
    /// (unit, the number that ranks it), strongest first.
    pub units: Vec<Linked>,
}

/// One layer's neurons with everything needed to describe them.
struct LayerSource<'a> {
    key: &'a str,
    title: &'a str,
    provenance: Option<&'a str>,
    kind: LayerKind,
    sae: Option<&'a Sae>,
    /// neurons x 784.
    pixel_weights: Array2<f32>,
    /// neurons x classes.
    logit_effects: Array2<f32>,
    /// neurons x d: the weights that form neuron embeddings.
    embedding_weights: ArrayView2<'a, f32>,
    /// n x d: what the layer receives for each test example.
    embedding_inputs: ArrayView2<'a, f32>,
    /// n x neurons, stored neuron by neuron (column-major), so that each neuron's activations
    /// are contiguous for everything that reads them one neuron at a time.
    activations: Array2<f32>,
    train_firing: &'a [u64],
    proxies: &'a [UnitProxies],
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
        provenance: None,
        kind: LayerKind::Mlp,
        sae: None,
        pixel_weights: mlp.fc1.weight.clone(),
        logit_effects: mlp_logit_effects(mlp.fc2.weight.view()),
        embedding_weights: mlp.fc1.weight.view(),
        embedding_inputs: test.images.view(),
        activations: transposed(hidden.view()).reversed_axes(),
        train_firing: input.mlp_train_firing,
        proxies: input.mlp_proxies,
    }];
    for (s, centred) in input.saes.iter().zip(&centred_hidden) {
        sources.push(LayerSource {
            key: s.key,
            title: s.title,
            provenance: Some(s.provenance),
            kind: LayerKind::Sae,
            sae: Some(s.sae),
            pixel_weights: pixel_space_weights(s.sae.w_enc.view(), mlp.fc1.weight.view()),
            logit_effects: latent_logit_effects(mlp.fc2.weight.view(), s.sae.w_dec.view()),
            embedding_weights: s.sae.w_enc.view(),
            embedding_inputs: centred.view(),
            activations: s.sae.encode_transposed(centred.view()).reversed_axes(),
            train_firing: s.train_firing,
            proxies: s.proxies,
        });
    }

    let sizes = ProfileSizes {
        top: input.cluster_examples.max(OVERLAP_EXAMPLES),
        quantiles: CDF_POINTS,
        bands: BANDS,
        per_band: BAND_EXAMPLES,
        bins: HISTOGRAM_BINS,
    };
    let profiles: Vec<Vec<ActivationProfile>> = sources
        .iter()
        .map(|source| {
            let by_neuron = source.activations.t();
            (0..by_neuron.nrows())
                .into_par_iter()
                .map(|j| activation_profile(by_neuron.row(j), &sizes))
                .collect()
        })
        .collect();
    let links = link_groups(&sources, &profiles, test.labels.len());

    PageData {
        seed: input.seed,
        cluster_threshold: input.cluster_threshold,
        cluster_examples: input.cluster_examples,
        clusters_shown: CLUSTERS_SHOWN,
        distance_cap: input.distance_cap,
        overlap_examples: OVERLAP_EXAMPLES,
        min_figure_count: MIN_ACTIVE_EXAMPLES,
        table4_top: TOP_EXAMPLES,
        test_count: test.labels.len(),
        labels: BASE64.encode(test.labels.iter().copied().collect::<Vec<u8>>()),
        normalisation: json!({"mean": ne_mnist::PIXEL_MEAN, "std": ne_mnist::PIXEL_STD}),
        metrics: input.metrics,
        models_label: input.models_label,
        paper: input.paper,
        mlp: MlpParameters {
            fc1_weight: Tensor::of(mlp.fc1.weight.view().into_dyn()),
            fc1_bias: Tensor::of(mlp.fc1.bias.view().into_dyn()),
            fc2_weight: Tensor::of(mlp.fc2.weight.view().into_dyn()),
            fc2_bias: Tensor::of(mlp.fc2.bias.view().into_dyn()),
        },
        layers: sources
            .iter()
            .zip(profiles)
            .zip(links)
            .map(|((source, profiles), links)| build_layer(source, profiles, links, input))
            .collect(),
    }
}

/// Rounds each linked unit's number for the page.
fn rounded_links(units: &[Linked]) -> Vec<Linked> {
    units
        .iter()
        .map(|&(unit, value)| (unit, round_significant(value, DIGITS)))
        .collect()
}

/// Per layer, per neuron: its links to the other layers. An SAE latent links to its nearest
/// latents in every other SAE and to the MLP neurons it reads and writes; an MLP neuron to the
/// latents of every SAE that read and write it.
fn link_groups(
    sources: &[LayerSource],
    profiles: &[Vec<ActivationProfile>],
    test_count: usize,
) -> Vec<Vec<Vec<LinkGroup>>> {
    let overlap_sets: Vec<Vec<Vec<usize>>> = profiles
        .iter()
        .map(|layer| {
            layer
                .iter()
                .map(|p| p.top[..p.top.len().min(OVERLAP_EXAMPLES)].to_vec())
                .collect()
        })
        .collect();
    let mut links: Vec<Vec<Vec<LinkGroup>>> = sources
        .iter()
        .map(|s| (0..s.activations.ncols()).map(|_| Vec::new()).collect())
        .collect();
    let mut add = |layer: usize, relation, other: &LayerSource, per_unit: Vec<Vec<Linked>>| {
        for (unit_links, units) in links[layer].iter_mut().zip(per_unit) {
            unit_links.push(LinkGroup {
                relation,
                layer: other.key.to_owned(),
                units: rounded_links(&units),
            });
        }
    };
    let mlp = &sources[0];
    for (a, source) in sources.iter().enumerate() {
        let Some(sae) = source.sae else { continue };
        for (b, other) in sources.iter().enumerate() {
            let Some(other_sae) = other.sae else { continue };
            if a == b {
                // Its own nearest latent by direction is itself: ask for one more, drop it.
                let direction =
                    nearest_by_direction(sae.w_dec.view(), sae.w_dec.view(), NEAREST_LINKED + 1)
                        .into_iter()
                        .enumerate()
                        .map(|(j, units)| {
                            let others = units.into_iter().filter(|&(k, _)| k != j);
                            others.take(NEAREST_LINKED).collect()
                        })
                        .collect();
                add(a, Relation::DecoderCosine, other, direction);
                continue;
            }
            let direction =
                nearest_by_direction(sae.w_dec.view(), other_sae.w_dec.view(), NEAREST_LINKED);
            add(a, Relation::DecoderCosine, other, direction);
            let overlap = nearest_by_overlap(
                &overlap_sets[a],
                &overlap_sets[b],
                test_count,
                NEAREST_LINKED,
            );
            add(a, Relation::ExampleOverlap, other, overlap);
        }
        // What the latents read and write, seen from each latent and from each MLP neuron.
        for (layer, relation, other, weights) in [
            (a, Relation::Reads, mlp, sae.w_enc.view()),
            (a, Relation::Writes, mlp, sae.w_dec.t()),
            (0, Relation::ReadBy, source, sae.w_enc.t()),
            (0, Relation::WrittenBy, source, sae.w_dec.view()),
        ] {
            add(
                layer,
                relation,
                other,
                strongest_entries(weights, WEIGHT_LINKED),
            );
        }
    }
    links
}

/// The map of `top`'s embeddings, quantised: (bytes x0 y0 x1 y1 …, scale, explained shares).
fn quantised_map(embeddings: ArrayView2<f32>) -> (String, f32, [f32; 2]) {
    let map = embedding_map(embeddings);
    let flat: Vec<f32> = map.points.iter().flatten().copied().collect();
    let quantised = quantise_i8(ndarray::ArrayView1::from(&flat));
    let bytes: Vec<u8> = quantised.values.iter().map(|&v| v as u8).collect();
    (
        BASE64.encode(bytes),
        quantised.scale,
        map.explained.map(|e| round_significant(e, DIGITS)),
    )
}

/// One layer's record: every neuron's, and the layer's pixel-space weights quantised.
fn build_layer(
    source: &LayerSource,
    profiles: Vec<ActivationProfile>,
    links: Vec<Vec<LinkGroup>>,
    input: &ExplorerInput,
) -> LayerRecord {
    let stats = neuron_stats(
        source.embedding_weights,
        source.embedding_inputs,
        source.activations.view(),
        input.distance_cap,
    );
    let neurons: Vec<NeuronRecord> = profiles
        .into_par_iter()
        .zip(links)
        .zip(&stats)
        .enumerate()
        .map(|(j, ((profile, links), stats))| {
            neuron_record(source, j, profile, links, stats, input)
        })
        .collect();
    let (weights, weight_scales) = quantised_weights(source.pixel_weights.view());
    LayerRecord {
        key: source.key.to_owned(),
        title: source.title.to_owned(),
        provenance: source.provenance.map(str::to_owned),
        kind: source.kind,
        weights,
        weight_scales,
        sae: source.sae.map(SaeParameters::of),
        neurons,
    }
}

fn round(value: Option<f32>) -> Option<f32> {
    value.map(|v| round_significant(v, DIGITS))
}

fn rounded(values: &[f32]) -> Vec<f32> {
    values
        .iter()
        .map(|&v| round_significant(v, DIGITS))
        .collect()
}

/// Neuron `j` of `source`: its measured figures, and the clusters and map of the embeddings of
/// its top `cluster_examples` activating test examples.
fn neuron_record(
    source: &LayerSource,
    j: usize,
    mut profile: ActivationProfile,
    links: Vec<LinkGroup>,
    stats: &NeuronStats,
    input: &ExplorerInput,
) -> NeuronRecord {
    profile.top.truncate(input.cluster_examples);
    profile.top_activations.truncate(input.cluster_examples);
    let embeddings = example_embeddings(
        source.embedding_weights.row(j),
        source.embedding_inputs,
        &profile.top,
    );
    let clusters = feature_clusters(embeddings.view(), input.cluster_threshold);
    let separation = cluster_separation(embeddings.view(), &clusters);
    let (map, map_scale, map_explained) = quantised_map(embeddings.view());
    let proxies = &source.proxies[j];
    let proxy = |p: Option<f64>| round(p.map(|p| p as f32));
    NeuronRecord {
        size: stats.size,
        max_dist: round(stats.max_dist),
        mean_dist: round(stats.mean_dist),
        train_firing: source.train_firing[j],
        label_purity: proxy(proxies.label_purity),
        top_label_purity: proxy(proxies.top_label_purity),
        input_coherence: proxy(proxies.input_coherence),
        encoder_participation: round_significant(proxies.encoder_participation as f32, DIGITS),
        logits: rounded(&source.logit_effects.row(j).to_vec()),
        quantiles: rounded(&profile.quantiles),
        histogram: profile.histogram,
        bands: profile
            .bands
            .into_iter()
            .map(|band| BandRecord {
                examples: band.iter().map(|&(i, _)| i).collect(),
                activations: band
                    .iter()
                    .map(|&(_, a)| round_significant(a, DIGITS))
                    .collect(),
            })
            .collect(),
        top_digit: top_digit(source.activations.column(j), &input.test.labels),
        top_activations: rounded(&profile.top_activations),
        top: profile.top,
        cluster_count: clusters.len(),
        clusters: clusters.into_iter().map(cluster_record).collect(),
        intra_dist: round(separation.intra),
        inter_dist: round(separation.inter),
        map,
        map_scale,
        map_explained,
        links,
    }
}

/// A cluster as the page shows it; a lone example has no distances.
fn cluster_record(cluster: Cluster) -> ClusterRecord {
    let paired = |d: f32| (cluster.members.len() > 1).then(|| round_significant(d, DIGITS));
    ClusterRecord {
        max_dist: paired(cluster.max_dist),
        mean_dist: paired(cluster.mean_dist),
        members: cluster.members,
        central: cluster.central,
    }
}

/// Every neuron's pixel-space weights as signed bytes (784 per neuron, base64) and the scale
/// of each neuron's bytes.
fn quantised_weights(pixel_weights: ArrayView2<f32>) -> (String, Vec<f32>) {
    let quantised: Vec<_> = pixel_weights.rows().into_iter().map(quantise_i8).collect();
    let bytes: Vec<u8> = quantised
        .iter()
        .flat_map(|q| q.values.iter().map(|&v| v as u8))
        .collect();
    debug_assert_eq!(bytes.len(), pixel_weights.nrows() * IMAGE_PIXELS);
    (
        BASE64.encode(bytes),
        quantised.iter().map(|q| q.scale).collect(),
    )
}

/// The label whose examples get the largest share of `activations`' positive sum (the lowest
/// label on a tie); `None` when nothing is positive.
fn top_digit(activations: ArrayView1<f32>, labels: &Array1<u8>) -> Option<u8> {
    let mut sums = [0.0f64; 256];
    for (&a, &label) in activations.iter().zip(labels) {
        if a > 0.0 {
            sums[usize::from(label)] += f64::from(a);
        }
    }
    let (label, &sum) = sums
        .iter()
        .enumerate()
        .rev()
        .max_by(|a, b| a.1.total_cmp(b.1))?;
    (sum > 0.0).then_some(label as u8)
}
