//! The synthetic benchmark: SAEs trained on activations built from a known dictionary, so that
//! whether the NE loss recovers the true features, and makes latents fire on one feature each,
//! is measured exactly rather than through MNIST's labels and pixels.
//!
//! Per seed: a data set (`generator`), standard SAEs over a λ_L1 grid (which chooses λ_L1 on
//! the validation split and is the reference at matched L0), and NE SAEs at the chosen λ_L1
//! over λ_NE. `report` turns the measurements into `report.md`, its verdict and the figure.

pub mod generator;
pub mod own;
mod report;

use crate::outputs::write_atomic;
use crate::pipeline::Log;
use anyhow::Context;
pub use generator::{GeneratorConfig, Magnitude, Pairs, Split, SyntheticData, generate};
use ndarray::ArrayView2;
use ne_metrics::ground_truth::{
    GroundTruth, dictionary_match, feature_cosines, latent_matches, summarise,
};
use ne_metrics::{ActivationMetrics, DEFAULT_EXAMPLE_CAP, EvalOptions, evaluate_activations};
use ne_models::{Sae, SaeConfig, SaeVariant, TrainingFiring};
use rayon::prelude::*;
pub use report::{Comparison, Finding, Verdict};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How synthetic SAEs are measured: distances over the first 100 activating examples as on
/// MNIST; τ = 0, so the threshold count equals the strict dead count (the MNIST τ was found on
/// the paper's MLP's activation scale and means nothing here).
pub(crate) const EVAL_OPTIONS: EvalOptions = EvalOptions {
    example_cap: DEFAULT_EXAMPLE_CAP,
    dead_threshold: 0.0,
};

/// The share of features the standard SAE must recover for the benchmark to judge anything.
pub const MIN_RECOVERED: f64 = 0.8;

/// What the benchmark runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyntheticConfig {
    pub data: GeneratorConfig,
    /// The SAE recipe; its `lambda_l1` is replaced by the one chosen from `lambda_l1_grid`, its
    /// `lambda_ne` by each of `lambda_ne`.
    pub sae: SaeConfig,
    /// λ_L1 candidates of the standard SAE, increasing.
    pub lambda_l1_grid: Vec<f32>,
    /// λ_NE values of the NE SAEs; 0 stands for the standard SAE.
    pub lambda_ne: Vec<f32>,
    pub seeds: Vec<u64>,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        Self {
            data: GeneratorConfig::default(),
            sae: SaeConfig::default(),
            lambda_l1_grid: vec![0.3, 0.5, 0.7, 1.0, 2.0],
            lambda_ne: vec![0.0, 10.0, 30.0, 100.0, 300.0, 1000.0],
            seeds: vec![0, 1, 2],
        }
    }
}

impl SyntheticConfig {
    /// Rejects a config that cannot run, naming the setting.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.data.validate().map_err(anyhow::Error::msg)?;
        self.sae.validate()?;
        self.sae.validate_for(self.data.train)?;
        check_lambdas("λ_L1", &self.lambda_l1_grid)?;
        check_lambdas("λ_NE", &self.lambda_ne)?;
        if self.lambda_l1_grid.windows(2).any(|w| w[0] >= w[1]) {
            anyhow::bail!("the λ_L1 grid must increase");
        }
        if self.seeds.is_empty() {
            anyhow::bail!("no seeds to run");
        }
        Ok(())
    }

    /// The λ_NE values that need an NE SAE of their own (all but 0, the standard SAE).
    fn ne_lambdas(&self) -> Vec<f32> {
        self.lambda_ne
            .iter()
            .copied()
            .filter(|&l| l > 0.0)
            .collect()
    }
}

/// Non-empty, each finite and ≥ 0, no repeats.
pub(crate) fn check_lambdas(name: &str, values: &[f32]) -> anyhow::Result<()> {
    if values.is_empty() {
        anyhow::bail!("no {name} values given");
    }
    for (i, &v) in values.iter().enumerate() {
        if !(v.is_finite() && v >= 0.0) {
            anyhow::bail!("{name} must be finite and >= 0, got {v}");
        }
        if values[..i].contains(&v) {
            anyhow::bail!("{name} {v} is listed twice");
        }
    }
    Ok(())
}

/// One trained SAE measured: the ground truth on the test split (and on the validation split,
/// which chooses λ_L1) and Tables 2-3 without accuracy loss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SaeResult {
    pub seed: u64,
    pub lambda_l1: f32,
    /// 0 for the standard SAE.
    pub lambda_ne: f32,
    #[serde(flatten)]
    pub truth: GroundTruth,
    #[serde(flatten)]
    pub metrics: ActivationMetrics,
    /// The ground truth on the validation split.
    pub validation: GroundTruth,
}

/// How λ_L1 was chosen, with every candidate's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct L1Choice {
    pub lambda_l1: f32,
    /// Whether the chosen standard SAE recovers at least `MIN_RECOVERED` of the features (mean
    /// over seeds); if not, the benchmark cannot judge the NE loss.
    pub reaches_min_recovered: bool,
    pub rule: String,
    pub candidates: Vec<L1Candidate>,
}

/// One λ_L1 of the grid, means over seeds on the validation split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct L1Candidate {
    pub lambda_l1: f32,
    pub recovered: f64,
    pub precision: f64,
    pub l0_pct: f64,
}

/// The NE SAE of one seed and λ_NE against the standard SAE of the same seed at the same L0,
/// interpolated along the λ_L1 sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchedL0 {
    pub seed: u64,
    pub lambda_ne: f32,
    /// The NE SAE's L0 on the test split.
    pub l0_pct: f64,
    /// Per metric key, the standard SAE's figure at that L0; absent when the L0 lies outside
    /// the sweep's range.
    pub standard: Option<BTreeMap<String, f64>>,
}

/// `synthetic.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyntheticFile {
    pub config: SyntheticConfig,
    pub choice: L1Choice,
    /// The standard SAEs over the λ_L1 grid, every seed.
    pub sweep: Vec<SaeResult>,
    /// At the chosen λ_L1, every seed and λ_NE (λ_NE = 0: the sweep's standard SAE).
    pub points: Vec<SaeResult>,
    pub matched_l0: Vec<MatchedL0>,
    pub verdict: Verdict,
}

/// A finished benchmark and where its files are.
#[derive(Debug, Clone)]
pub struct SyntheticRun {
    pub file: SyntheticFile,
    pub report_path: PathBuf,
    pub seconds: f64,
}

/// Runs the benchmark and writes `synthetic.json`, `report.md` and `synthetic.svg` into `out`.
pub fn run(config: &SyntheticConfig, out: &Path, log: Log) -> anyhow::Result<SyntheticRun> {
    let start = Instant::now();
    config
        .validate()
        .context("the synthetic benchmark's settings")?;
    let data: Vec<SyntheticData> = config
        .seeds
        .par_iter()
        .map(|&seed| generate(&config.data, seed))
        .collect();
    log(&format!(
        "drew {} data sets of {} features in R^{} in {:.2} s",
        data.len(),
        config.data.features,
        config.data.dim,
        start.elapsed().as_secs_f64()
    ));

    let sweep_jobs: Vec<(usize, f32)> = (0..data.len())
        .flat_map(|s| config.lambda_l1_grid.iter().map(move |&l1| (s, l1)))
        .collect();
    let sweep = sweep_jobs
        .par_iter()
        .map(|&(s, l1)| measured(config, &data[s], config.seeds[s], l1, 0.0, log))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let choice = choose_l1(config, &sweep);
    log(&format!("λ_L1 = {}: {}", choice.lambda_l1, choice.rule));

    let ne_jobs: Vec<(usize, f32)> = (0..data.len())
        .flat_map(|s| config.ne_lambdas().into_iter().map(move |ne| (s, ne)))
        .collect();
    let ne = ne_jobs
        .par_iter()
        .map(|&(s, ne)| measured(config, &data[s], config.seeds[s], choice.lambda_l1, ne, log))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut points: Vec<SaeResult> = sweep
        .iter()
        .filter(|r| r.lambda_l1 == choice.lambda_l1)
        .cloned()
        .chain(ne)
        .collect();
    points.sort_by(|a, b| {
        a.seed
            .cmp(&b.seed)
            .then(a.lambda_ne.total_cmp(&b.lambda_ne))
    });
    let matched_l0 = report::match_l0(&sweep, &points);
    let verdict = report::verdict(config, &choice, &points, &matched_l0);
    let file = SyntheticFile {
        config: config.clone(),
        choice,
        sweep,
        points,
        matched_l0,
        verdict,
    };
    let report_path = report::write(&file, out)?;
    Ok(SyntheticRun {
        file,
        report_path,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Trains one SAE and measures it against the seed's ground truth.
fn measured(
    config: &SyntheticConfig,
    data: &SyntheticData,
    seed: u64,
    lambda_l1: f32,
    lambda_ne: f32,
    log: Log,
) -> anyhow::Result<SaeResult> {
    let start = Instant::now();
    let sae_config = SaeConfig {
        lambda_l1,
        lambda_ne,
        ..config.sae.clone()
    };
    let (sae, firing) = train(&sae_config, seed, data.train.x.view())?;
    let trained_s = start.elapsed().as_secs_f64();
    let result = measure(&sae, &firing, data, seed, lambda_l1, lambda_ne);
    log(&format!(
        "seed {seed}: SAE with λ_L1 {lambda_l1}, λ_NE {lambda_ne}: recovered {:.1}%, median \
         precision {:.3}, L0 {:.2}% (trained in {trained_s:.2} s, measured in {:.2} s)",
        100.0 * result.truth.recovered,
        result.truth.precision,
        result.metrics.l0_pct,
        start.elapsed().as_secs_f64() - trained_s
    ));
    Ok(result)
}

/// The one place this module trains an SAE: standard when `config.lambda_ne` is 0, else with
/// the NE loss from `config.ne_start_step`.
pub(crate) fn train(
    config: &SaeConfig,
    seed: u64,
    x: ArrayView2<f32>,
) -> anyhow::Result<(Sae, TrainingFiring)> {
    let variant = if config.lambda_ne > 0.0 {
        SaeVariant::Ne
    } else {
        SaeVariant::Standard
    };
    let (sae, history) =
        ne_models::train_sae(config, variant, seed, x, &mut |_| {}).with_context(|| {
            format!(
                "seed {seed}: training the SAE with λ_L1 {}, λ_NE {}",
                config.lambda_l1, config.lambda_ne
            )
        })?;
    Ok((sae, history.firing))
}

fn measure(
    sae: &Sae,
    firing: &TrainingFiring,
    data: &SyntheticData,
    seed: u64,
    lambda_l1: f32,
    lambda_ne: f32,
) -> SaeResult {
    let test = evaluate_activations(
        sae,
        data.test.x.view(),
        data.train.x.view(),
        Some(firing),
        EVAL_OPTIONS,
    );
    // The decoder against the dictionary needs no data: matched once for both splits.
    let cosines = feature_cosines(data.features.view(), sae.w_dec.view());
    let dictionary = dictionary_match(cosines.view());
    let truth_on = |split: &Split, acts: ArrayView2<f32>| {
        let latents = latent_matches(cosines.view(), acts, split.coefficients.view());
        summarise(dictionary, &latents)
    };
    let validation_acts = sae.encode(data.validation.x.view());
    SaeResult {
        seed,
        lambda_l1,
        lambda_ne,
        truth: truth_on(&data.test, test.test_acts.view()),
        metrics: test.metrics,
        validation: truth_on(&data.validation, validation_acts.view()),
    }
}

/// Chooses λ_L1 from the standard SAEs of the sweep, on the validation split (the test split
/// is never looked at): among the candidates whose SAEs recover at least `MIN_RECOVERED` of the
/// features (mean over seeds), the one with the highest median validation precision (mean over
/// seeds), so that the NE loss is compared with the strongest standard SAE; if none recovers
/// that many, the one recovering the most.
fn choose_l1(config: &SyntheticConfig, sweep: &[SaeResult]) -> L1Choice {
    let mean = |values: Vec<f64>| values.iter().sum::<f64>() / values.len() as f64;
    let candidates: Vec<L1Candidate> = config
        .lambda_l1_grid
        .iter()
        .map(|&l1| {
            let runs: Vec<&SaeResult> = sweep.iter().filter(|r| r.lambda_l1 == l1).collect();
            L1Candidate {
                lambda_l1: l1,
                recovered: mean(runs.iter().map(|r| r.validation.recovered).collect()),
                precision: mean(runs.iter().map(|r| r.validation.precision).collect()),
                l0_pct: mean(runs.iter().map(|r| r.metrics.l0_pct).collect()),
            }
        })
        .collect();
    let good: Vec<&L1Candidate> = candidates
        .iter()
        .filter(|c| c.recovered >= MIN_RECOVERED)
        .collect();
    let (chosen, rule) = match good
        .iter()
        .max_by(|a, b| a.precision.total_cmp(&b.precision))
    {
        Some(best) => (
            best.lambda_l1,
            format!(
                "of the λ_L1 whose standard SAEs recover at least {:.0}% of the features (mean \
                 over seeds), the one with the highest median precision on the validation split",
                100.0 * MIN_RECOVERED
            ),
        ),
        None => (
            candidates
                .iter()
                .max_by(|a, b| a.recovered.total_cmp(&b.recovered))
                .expect("the grid is not empty")
                .lambda_l1,
            format!(
                "no λ_L1 of the grid lets the standard SAE recover {:.0}% of the features; the \
                 one recovering the most",
                100.0 * MIN_RECOVERED
            ),
        ),
    };
    L1Choice {
        lambda_l1: chosen,
        reaches_min_recovered: !good.is_empty(),
        rule,
        candidates,
    }
}

/// Writes `value` as pretty JSON at `path`.
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value)?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A benchmark small enough for a unit test: 12 features in R^8, 24 latents, 63 steps.
    pub(super) fn tiny_config() -> SyntheticConfig {
        SyntheticConfig {
            data: GeneratorConfig {
                dim: 8,
                features: 12,
                density: 2.0 / 12.0,
                train: 4000,
                validation: 500,
                test: 500,
                ..GeneratorConfig::default()
            },
            sae: SaeConfig {
                latents: 24,
                batch_size: 64,
                ne_start_step: 20,
                ..SaeConfig::default()
            },
            lambda_l1_grid: vec![0.1, 0.3],
            lambda_ne: vec![0.0, 100.0],
            seeds: vec![0, 1],
        }
    }

    fn run_in_pool(threads: usize, config: &SyntheticConfig) -> (tempfile::TempDir, SyntheticRun) {
        let dir = tempfile::tempdir().unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let done = pool.install(|| run(config, dir.path(), &|_| {})).unwrap();
        (dir, done)
    }

    #[test]
    fn the_benchmark_is_bit_identical_whatever_the_thread_count() {
        let config = tiny_config();
        let (one, _) = run_in_pool(1, &config);
        let (two, done) = run_in_pool(2, &config);
        for name in ["synthetic.json", "report.md", "synthetic.svg"] {
            let read = |dir: &tempfile::TempDir| std::fs::read(dir.path().join(name)).unwrap();
            assert!(
                read(&one) == read(&two),
                "{name} differs between 1 and 2 threads"
            );
        }
        // 2 seeds × (2 standard SAEs of the grid + 1 NE SAE).
        assert_eq!(done.file.sweep.len(), 4);
        assert_eq!(done.file.points.len(), 4);
        assert_eq!(done.file.matched_l0.len(), 2);
    }

    #[test]
    fn the_json_names_every_metric_beside_lambda_ne() {
        let (dir, done) = run_in_pool(2, &tiny_config());
        let text = std::fs::read_to_string(dir.path().join("synthetic.json")).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let points = json["points"].as_array().unwrap();
        for key in [
            "seed",
            "lambda_ne",
            "lambda_l1",
            "mmcs",
            "recovered",
            "mcc",
            "precision",
            "recall",
            "polysemantic_pct",
            "mse",
            "l0_pct",
            "dead_pct",
            "max_dist",
            "mean_dist",
        ] {
            assert!(points.iter().all(|p| p.get(key).is_some()), "{key} missing");
        }
        let back: SyntheticFile = serde_json::from_str(&text).unwrap();
        assert_eq!(back.points.len(), done.file.points.len());
        assert_eq!(back.choice.lambda_l1, done.file.choice.lambda_l1);
        // The figures are in range and λ_L1 is one of the grid's.
        for p in &done.file.points {
            assert!((0.0..=1.0).contains(&p.truth.recovered));
            assert!(p.truth.mmcs <= 1.0 && p.truth.mcc <= 1.0);
        }
        assert!(
            tiny_config()
                .lambda_l1_grid
                .contains(&done.file.choice.lambda_l1)
        );
        let report = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
        assert!(report.contains(&done.file.verdict.text));
    }

    #[test]
    fn bad_settings_are_named() {
        let mut config = tiny_config();
        config.lambda_l1_grid = vec![0.3, 0.1];
        assert!(format!("{:#}", config.validate().unwrap_err()).contains("increase"));
        config.lambda_l1_grid = vec![0.1];
        config.lambda_ne = vec![10.0, 10.0];
        assert!(format!("{:#}", config.validate().unwrap_err()).contains("twice"));
        config.lambda_ne = vec![10.0];
        config.sae.ne_start_step = 1000;
        assert!(
            config.validate().is_err(),
            "the NE loss would never switch on"
        );
    }
}
