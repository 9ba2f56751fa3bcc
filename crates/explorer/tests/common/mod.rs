//! Small but meaningful models on real MNIST test images, shared by the integration tests.
//!
//! The MLP's hidden neurons are random weights plus a digit template (class mean minus overall
//! mean), so their weight maps and logit effects look like what a trained MLP shows; each fires
//! on its strongest 30% of images. The SAEs start from `Sae::init` with encoder biases that let
//! each latent fire on its strongest 25%; latent 0 of each is switched off, so it is dead.
#![allow(dead_code)] // each test binary uses its own part of this module

use ndarray::{Array1, Array2, ArrayView1, Axis};
use ne_explorer::{ExplorerInput, SaeInput};
use ne_metrics::{UnitImages, UnitProxies, unit_proxies};
use ne_mnist::{Checksums, Split, SplitKind, load_split};
use ne_models::rng::{Stream, stream_rng};
use ne_models::{Mlp, Sae};
use ne_shipped::mnist_dir;
use serde_json::{Value, json};

pub const TEST_IMAGES: usize = 400;
pub const HIDDEN: usize = 32;
pub const LATENTS: usize = 64;
pub const CLUSTER_EXAMPLES: usize = 60;
/// Not the default 100, so the page must use the cap it is given.
pub const DISTANCE_CAP: usize = 25;

pub struct Fixture {
    pub test: Split,
    pub mlp: Mlp,
    pub standard: Sae,
    pub ne: Sae,
    pub mlp_firing: Vec<u64>,
    pub standard_firing: Vec<u64>,
    pub ne_firing: Vec<u64>,
    pub mlp_proxies: Vec<UnitProxies>,
    pub standard_proxies: Vec<UnitProxies>,
    pub ne_proxies: Vec<UnitProxies>,
    pub metrics: Value,
    /// Published figures to print beside the run's.
    pub paper: Value,
}

/// The value below which `1 - share` of `values` lie.
fn upper_quantile(values: ArrayView1<f32>, share: f64) -> f32 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f32::total_cmp);
    sorted[((1.0 - share) * (sorted.len() - 1) as f64).round() as usize]
}

fn firing(acts: &Array2<f32>) -> Vec<u64> {
    acts.columns()
        .into_iter()
        .map(|c| c.iter().filter(|&&a| a > 0.0).count() as u64)
        .collect()
}

fn template_mlp(test: &Split) -> Mlp {
    let mut mlp = Mlp::init(784, HIDDEN, 10, &mut stream_rng(7, Stream::MlpInit));
    let overall = test.images.mean_axis(Axis(0)).expect("images");
    for k in 0..HIDDEN {
        let class = (k % 10) as u8;
        let rows: Vec<usize> = (0..test.len())
            .filter(|&i| test.labels[i] == class)
            .collect();
        let class_mean = test
            .images
            .select(Axis(0), &rows)
            .mean_axis(Axis(0))
            .expect("rows");
        let mut row = mlp.fc1.weight.row_mut(k);
        row += &((&class_mean - &overall) * 0.05);
    }
    let pre = test.images.dot(&mlp.fc1.weight.t());
    for k in 0..HIDDEN {
        mlp.fc1.bias[k] = -upper_quantile(pre.column(k), 0.3);
    }
    mlp.fc2.weight =
        Array2::from_shape_fn((10, HIDDEN), |(c, k)| if k % 10 == c { 1.0 } else { -0.2 });
    // Small and different per class, so a page that mixes up bias and logit shows it.
    mlp.fc2.bias = Array1::from_shape_fn(10, |c| 0.01 * c as f32 - 0.03);
    mlp
}

fn sparse_sae(hidden: &Array2<f32>, seed: u64) -> Sae {
    let mut sae = Sae::init(HIDDEN, LATENTS, &mut stream_rng(seed, Stream::SaeInit));
    sae.b_dec = hidden.mean_axis(Axis(0)).expect("rows");
    let pre = (hidden - &sae.b_dec).dot(&sae.w_enc.t());
    for j in 0..LATENTS {
        sae.b_enc[j] = -upper_quantile(pre.column(j), 0.25);
    }
    sae.b_enc[0] = -1e6;
    sae
}

/// Mean and a spread of a tenth of it, rounded so that it survives a trip through JSON text.
fn summary(mean: f64) -> Value {
    json!({"mean": mean, "std": (mean * 1e5).round() / 1e6})
}

/// Published figures in the shape the page reads (its start page's "paper" rows).
fn paper() -> Value {
    json!({
        "standard": {"mse": 0.33, "l1": 2600.0, "l0_pct": 2.4, "acc_loss_pct": 1.5,
                     "max_dist": 0.45, "mean_dist": 0.21, "size": 7.0, "dead_pct": 23.8},
        "ne": {"mse": 0.55, "l1": 3300.0, "l0_pct": 9.1, "acc_loss_pct": 4.6,
               "max_dist": 0.28, "mean_dist": 0.08, "size": 32.0, "dead_pct": 3.7},
        "mlp_test_accuracy": 0.94,
    })
}

fn metrics() -> Value {
    let keys = [
        "mse",
        "l1",
        "l0_pct",
        "acc_loss_pct",
        "max_dist",
        "mean_dist",
        "size",
        "dead_pct",
    ];
    let standard = [0.31, 21.5, 2.6, 1.2, 0.47, 0.22, 8.0, 21.0];
    let ne = [0.52, 27.0, 8.8, 4.1, 0.3, 0.09, 30.0, 4.5];
    let per_key = |values: [f64; 8], f: &dyn Fn(f64) -> Value| -> Value {
        keys.iter()
            .zip(values)
            .map(|(k, v)| (k.to_string(), f(v)))
            .collect()
    };
    let run = |seed: u64, accuracy: f64| {
        json!({"seed": seed, "mlp_test_accuracy": accuracy,
               "standard": per_key(standard, &|v| json!(v)), "ne": per_key(ne, &|v| json!(v)),
               "timing_s": {"mlp": 1.0}})
    };
    let table4 = |purity: f64, top_purity: f64, units: f64| {
        json!({"label_purity": summary(purity), "top_label_purity": summary(top_purity),
               "input_coherence": summary(0.55), "encoder_participation": summary(40.0),
               "table4_units": {"mean": units, "std": 0.0}})
    };
    let mut summaries = json!({
        "mlp": table4(0.31, 0.41, 64.0),
        "standard": per_key(standard, &summary),
        "ne": per_key(ne, &summary),
    });
    for (variant, purity, top_purity) in [("standard", 0.62, 0.72), ("ne", 0.48, 0.58)] {
        let extra = table4(purity, top_purity, 300.0);
        for (key, value) in extra.as_object().unwrap() {
            summaries[variant][key] = value.clone();
        }
    }
    json!({
        "config": {"seeds": [0, 1], "explorer": {"cluster_threshold": 0.9}},
        "runs": [run(0, 0.941), run(1, 0.938)],
        "summary": summaries
    })
}

impl Fixture {
    pub fn new() -> Self {
        let test = load_split(&mnist_dir(), SplitKind::Test, Checksums::Skip)
            .expect("the shipped MNIST test split loads")
            .head(TEST_IMAGES);
        let mlp = template_mlp(&test);
        let hidden = mlp.hidden(test.images.view());
        let standard = sparse_sae(&hidden, 0);
        let ne = sparse_sae(&hidden, 1);
        let images = UnitImages::of(test.pixels.view());
        let proxies = |weights: &Array2<f32>, acts: &Array2<f32>| {
            unit_proxies(weights.view(), acts.view(), test.labels.view(), &images)
        };
        let (standard_acts, ne_acts) = (standard.encode(hidden.view()), ne.encode(hidden.view()));
        Self {
            mlp_firing: firing(&hidden),
            standard_firing: firing(&standard_acts),
            ne_firing: firing(&ne_acts),
            mlp_proxies: proxies(&mlp.fc1.weight, &hidden),
            standard_proxies: proxies(&standard.w_enc, &standard_acts),
            ne_proxies: proxies(&ne.w_enc, &ne_acts),
            test,
            mlp,
            standard,
            ne,
            metrics: metrics(),
            paper: paper(),
        }
    }

    /// Runs `f` on the explorer input for these models.
    pub fn with_input<R>(&self, f: impl FnOnce(&ExplorerInput) -> R) -> R {
        let saes = [
            SaeInput {
                key: "standard",
                title: "Standard SAE",
                provenance: "trained here",
                sae: &self.standard,
                train_firing: &self.standard_firing,
                proxies: &self.standard_proxies,
            },
            SaeInput {
                key: "ne",
                title: "SAE + NE loss",
                provenance: "trained here, λ_NE 1000",
                sae: &self.ne,
                train_firing: &self.ne_firing,
                proxies: &self.ne_proxies,
            },
        ];
        f(&ExplorerInput {
            test: &self.test,
            mlp: &self.mlp,
            mlp_train_firing: &self.mlp_firing,
            mlp_proxies: &self.mlp_proxies,
            saes: &saes,
            metrics: &self.metrics,
            paper: &self.paper,
            seed: 0,
            cluster_threshold: 0.9,
            cluster_examples: CLUSTER_EXAMPLES,
            distance_cap: DISTANCE_CAP,
            models_label: "ours",
        })
    }
}

/// The page's data as written in `data.js`.
pub fn read_page_data(dir: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(dir.join("data.js")).expect("data.js is written");
    let json = text
        .strip_prefix("window.NE_DATA = ")
        .and_then(|t| t.strip_suffix(";\n"))
        .expect("data.js assigns one JSON value");
    serde_json::from_str(json).expect("data.js holds valid JSON")
}
