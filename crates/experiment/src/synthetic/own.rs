//! The NE loss on a user's own activations (a `.npy` file, float32, n × d, any d): standard and
//! NE SAEs trained on them and measured by what needs no ground truth (Tables 2-3 without
//! accuracy loss: MSE, L1, L0, distances, size, dead latents), each saved as a SAELens folder.
use super::EVAL_OPTIONS;
use super::report::{AtLambda, Metric, NE_BAND, band, metric, metric_table, with_standard};
use super::{check_lambdas, train, write_json};
use crate::interop::write_saelens;
use crate::outputs::write_atomic;
use crate::pipeline::Log;
use anyhow::Context;
use ndarray::Array2;
use ne_figures::{Panel, curve_figure};
use ne_metrics::{ActivationMetrics, evaluate_activations};
use ne_models::SaeConfig;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Map, json};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The share of examples held out for measuring, the last rows of the file (as MNIST's 10,000
/// test images beside its 60,000 training images).
pub const TEST_SHARE: f64 = 1.0 / 7.0;

/// What to train on the user's activations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnConfig {
    /// The SAE recipe; its `lambda_ne` is replaced by each of `lambda_ne`.
    pub sae: SaeConfig,
    /// λ_NE values; 0 is the standard SAE.
    pub lambda_ne: Vec<f32>,
    pub seeds: Vec<u64>,
}

/// One SAE trained on the user's activations, measured on the held-out rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnResult {
    pub seed: u64,
    pub lambda_ne: f32,
    #[serde(flatten)]
    pub metrics: ActivationMetrics,
    /// Its SAELens folder, relative to the output folder.
    pub saelens: PathBuf,
}

impl AtLambda for OwnResult {
    fn lambda_ne(&self) -> f32 {
        self.lambda_ne
    }
}

/// `activations.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnFile {
    /// The `.npy` file as given.
    pub source: PathBuf,
    pub dim: usize,
    pub train_examples: usize,
    pub test_examples: usize,
    pub config: OwnConfig,
    pub results: Vec<OwnResult>,
}

/// The figures reported: Tables 2-3 without accuracy loss.
const METRICS: [Metric<OwnResult>; 8] = [
    metric("mse", "MSE", "per input dim", |r| r.metrics.mse),
    metric("l1", "L1", "per example", |r| r.metrics.l1),
    metric("l0_pct", "L0", "latents active (%)", |r| r.metrics.l0_pct),
    metric(
        "max_dist",
        "Max embedding distance",
        "median over latents",
        |r| r.metrics.max_dist,
    ),
    metric(
        "mean_dist",
        "Mean embedding distance",
        "median over latents",
        |r| r.metrics.mean_dist,
    ),
    metric("size", "Size", "activating test examples", |r| {
        r.metrics.size
    }),
    metric("dead_pct", "Dead latents", "no training example (%)", |r| {
        r.metrics.dead_pct
    }),
    metric(
        "dead_late_pct",
        "Silent late in training",
        "last tenth of steps (%)",
        |r| r.metrics.dead_late_pct,
    ),
];

/// Reads `path` as a float32 n × d array, naming the file in any error.
pub fn read_activations(path: &Path) -> anyhow::Result<Array2<f32>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let x: Array2<f32> = ndarray_npy::ReadNpyExt::read_npy(std::io::BufReader::new(file))
        .with_context(|| {
            format!(
                "{} is not a float32 .npy array of two dimensions (examples × width)",
                path.display()
            )
        })?;
    if let Some((row, col)) = ne_models::ops::first_non_finite(x.view()) {
        let v = x[[row, col]];
        anyhow::bail!(
            "{}: row {row}, column {col} is {v}, not a finite number",
            path.display()
        );
    }
    Ok(x)
}

/// Trains a standard SAE and an NE SAE per λ_NE > 0 for every seed on the first rows of the
/// activations in `path`, measures each on the last `TEST_SHARE` of the rows, and writes
/// `activations.json`, `report.md`, `activations.svg` and `seed-N/saelens/<name>/` into `out`.
pub fn run_on_activations(
    path: &Path,
    config: &OwnConfig,
    out: &Path,
    log: Log,
) -> anyhow::Result<(OwnFile, PathBuf)> {
    check_lambdas("λ_NE", &config.lambda_ne)?;
    config.sae.validate()?;
    if config.seeds.is_empty() {
        anyhow::bail!("no seeds to run");
    }
    let x = read_activations(path)?;
    let n = x.nrows();
    let test_n = ((n as f64 * TEST_SHARE).round() as usize).max(1);
    if n < 2 * test_n || x.ncols() == 0 {
        anyhow::bail!(
            "{}: {n} examples of width {} are too few to train and measure an SAE",
            path.display(),
            x.ncols()
        );
    }
    let (train_x, test_x) = x.view().split_at(ndarray::Axis(0), n - test_n);
    config
        .sae
        .validate_for(train_x.nrows())
        .with_context(|| format!("{}: {} training rows", path.display(), train_x.nrows()))?;
    log(&format!(
        "{}: {n} examples of width {}; training on the first {}, measuring on the last {test_n}",
        path.display(),
        x.ncols(),
        train_x.nrows()
    ));
    let lambdas = with_standard(&config.lambda_ne);
    let jobs: Vec<(u64, f32)> = config
        .seeds
        .iter()
        .flat_map(|&seed| lambdas.iter().map(move |&l| (seed, l)))
        .collect();
    let results = jobs
        .par_iter()
        .map(|&(seed, lambda_ne)| {
            let start = Instant::now();
            let sae_config = SaeConfig {
                lambda_ne,
                ..config.sae.clone()
            };
            let (sae, firing) = train(&sae_config, seed, train_x)?;
            let eval = evaluate_activations(&sae, test_x, train_x, Some(&firing), EVAL_OPTIONS);
            let name = if lambda_ne == 0.0 {
                "standard".to_owned()
            } else {
                format!("ne-{lambda_ne}")
            };
            let folder = Path::new(&format!("seed-{seed}"))
                .join("saelens")
                .join(name);
            let metadata = Map::from_iter([
                ("model_name".to_owned(), json!(path.display().to_string())),
                (
                    "neuron_embeddings_training".to_owned(),
                    json!({
                        "activations": path.display().to_string(),
                        "train_rows": train_x.nrows(),
                        "seed": seed,
                        "sae": sae_config,
                    }),
                ),
            ]);
            write_saelens(&out.join(&folder), &sae, &metadata)?;
            log(&format!(
                "seed {seed}: SAE with λ_NE {lambda_ne}: MSE {:.4}, L0 {:.2}%, mean distance \
                 {:.3} ({:.2} s)",
                eval.metrics.mse,
                eval.metrics.l0_pct,
                eval.metrics.mean_dist,
                start.elapsed().as_secs_f64()
            ));
            Ok(OwnResult {
                seed,
                lambda_ne,
                metrics: eval.metrics,
                saelens: folder,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let file = OwnFile {
        source: path.to_owned(),
        dim: x.ncols(),
        train_examples: train_x.nrows(),
        test_examples: test_n,
        config: config.clone(),
        results,
    };
    write_json(&out.join("activations.json"), &file)?;
    let panels: Vec<Panel> = METRICS
        .iter()
        .map(|m| Panel {
            title: m.title.to_owned(),
            y_label: m.y_label.to_owned(),
            bands: vec![band(NE_BAND, &file.results, &lambdas, m.get)],
            references: Vec::new(),
        })
        .collect();
    let figure = curve_figure(
        &panels,
        "λ_NE (log scale)",
        &format!(
            "SAEs on {} ({} seeds)",
            path.file_name().map_or_else(
                || path.display().to_string(),
                |f| f.to_string_lossy().into_owned()
            ),
            config.seeds.len()
        ),
    )?;
    write_atomic(&out.join("activations.svg"), figure.as_bytes())?;
    let report = format!(
        "# SAEs with and without the NE loss on {}\n\n{} examples of width {}: SAEs ({} latents, \
         λ_L1 = {}, NE loss from step {}) trained on the first {}, measured on the last {}. \
         Mean ± std over {} seeds; λ_NE = 0 is the standard SAE. No ground truth is known for \
         these activations, so this reports Tables 2-3 without accuracy loss (definitions in \
         docs/method.md); each SAE is saved for SAELens under seed-N/saelens/.\n\n{}",
        path.display(),
        n,
        x.ncols(),
        config.sae.latents,
        config.sae.lambda_l1,
        config.sae.ne_start_step,
        train_x.nrows(),
        test_n,
        config.seeds.len(),
        metric_table(&METRICS, &file.results, &lambdas)
    );
    let report_path = out.join("report.md");
    write_atomic(&report_path, report.as_bytes())?;
    Ok((file, report_path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use ndarray_npy::WriteNpyExt;

    fn write_npy<A: ndarray_npy::WritableElement>(path: &Path, array: &Array2<A>) {
        let mut bytes = Vec::new();
        array.write_npy(&mut bytes).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    #[test]
    fn trains_and_measures_any_width_and_writes_saelens_folders() {
        let dir = tempfile::tempdir().unwrap();
        let npy = dir.path().join("acts.npy");
        // 3,500 examples of width 5: sparse non-negative mixtures, deterministic.
        let x = Array2::from_shape_fn((3500, 5), |(i, j)| {
            let v = ((i * 7 + j * 13) % 11) as f32 / 11.0;
            if (i + j) % 3 == 0 { v } else { 0.0 }
        });
        write_npy(&npy, &x);
        let config = OwnConfig {
            sae: SaeConfig {
                latents: 16,
                batch_size: 64,
                ne_start_step: 10,
                lambda_l1: 0.1,
                ..SaeConfig::default()
            },
            lambda_ne: vec![0.0, 30.0],
            seeds: vec![3],
        };
        let out = dir.path().join("out");
        let (file, report) = run_on_activations(&npy, &config, &out, &|_| {}).unwrap();
        assert_eq!(
            (file.dim, file.test_examples, file.train_examples),
            (5, 500, 3000)
        );
        assert_eq!(file.results.len(), 2);
        for r in &file.results {
            let sae = ne_models::saelens::read(&out.join(&r.saelens)).unwrap();
            assert_eq!(sae.sae.w_enc.dim(), (16, 5));
            assert!(r.metrics.mse.is_finite() && r.metrics.l0_pct > 0.0);
        }
        assert!(out.join("seed-3/saelens/ne-30").is_dir());
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("activations.json")).unwrap()).unwrap();
        assert!(
            json["results"][1]["lambda_ne"] == 30.0 && json["results"][1]["dead_pct"].is_number()
        );
        assert!(
            std::fs::read_to_string(report)
                .unwrap()
                .contains("| l0_pct |")
        );
        assert!(out.join("activations.svg").is_file());
    }

    #[test]
    fn a_file_that_is_not_float32_by_two_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let wide = dir.path().join("f64.npy");
        write_npy(&wide, &Array2::<f64>::zeros((4, 2)));
        let err = format!("{:#}", read_activations(&wide).unwrap_err());
        assert!(err.contains("f64.npy") && err.contains("float32"), "{err}");
        let bad = dir.path().join("nan.npy");
        let mut x = Array2::<f32>::zeros((4, 2));
        x[[2, 1]] = f32::NAN;
        write_npy(&bad, &x);
        let err = format!("{:#}", read_activations(&bad).unwrap_err());
        assert!(
            err.contains("nan.npy") && err.contains("row 2, column 1"),
            "{err}"
        );
        let missing = format!(
            "{:#}",
            read_activations(&dir.path().join("none.npy")).unwrap_err()
        );
        assert!(missing.contains("none.npy"), "{missing}");
    }
}
