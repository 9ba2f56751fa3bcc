//! The neuron explorer for one seed of a run.
use crate::pipeline::{Log, ModelSource, SeedOutcome, run_seed};
use crate::{MetricsFile, pipeline::load_data};
use anyhow::Context;
use ne_explorer::{ExplorerInput, SaeInput, write_explorer};
use ne_mnist::Mnist;
use std::path::{Path, PathBuf};

/// Writes the explorer for `outcome` into `dir`; returns the path of its `index.html`.
pub fn write(
    data: &Mnist,
    outcome: &SeedOutcome,
    metrics: &MetricsFile,
    dir: &Path,
) -> anyhow::Result<PathBuf> {
    let eval = &outcome.evaluation;
    let firing = |counts: &ndarray::Array1<u64>| counts.to_vec();
    let (standard_firing, ne_firing) = (
        firing(&eval.standard.train_firing),
        firing(&eval.ne.train_firing),
    );
    let saes = [
        SaeInput {
            key: "standard",
            title: "Standard SAE",
            sae: &outcome.models.standard,
            train_firing: &standard_firing,
            proxies: &eval.standard.proxies,
        },
        SaeInput {
            key: "ne",
            title: "SAE + NE loss",
            sae: &outcome.models.ne,
            train_firing: &ne_firing,
            proxies: &eval.ne.proxies,
        },
    ];
    let mlp_firing = firing(&eval.mlp_train_firing);
    // Through JSON text, not `to_value`: that widens each f32 of the config to f64, and the page
    // would print 0.02 as 0.019999999552965164. The text holds each number's shortest form.
    let metrics_json: serde_json::Value = serde_json::from_str(&serde_json::to_string(metrics)?)?;
    let explorer = &metrics.config.explorer;
    write_explorer(
        dir,
        &ExplorerInput {
            test: &data.test,
            mlp: &outcome.models.mlp,
            mlp_train_firing: &mlp_firing,
            mlp_proxies: &eval.mlp_proxies,
            saes: &saes,
            metrics: &metrics_json,
            seed: outcome.run.seed,
            cluster_threshold: explorer.cluster_threshold,
            cluster_examples: explorer.cluster_examples,
            distance_cap: metrics.config.eval.example_cap,
        },
    )
}

/// Writes the explorer of a finished `reproduce` run from its folder: the config and seeds come
/// from its `metrics.json`, the models of `seed` (default: its first) from their files. Trains
/// nothing and changes nothing but `explorer/`.
pub fn explore_from(results: &Path, seed: Option<u64>, log: Log) -> anyhow::Result<PathBuf> {
    let path = results.join("metrics.json");
    let text = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let metrics: MetricsFile = serde_json::from_slice(&text)
        .with_context(|| format!("{} is not a metrics file of this project", path.display()))?;
    let seeds: Vec<u64> = metrics.runs.iter().map(|r| r.seed).collect();
    let seed = seed
        .or(seeds.first().copied())
        .context("the run has no seeds")?;
    anyhow::ensure!(
        seeds.contains(&seed),
        "seed {seed} is not in {} (its seeds: {seeds:?})",
        path.display()
    );
    let data = load_data(&metrics.config.data)?;
    let outcome = run_seed(
        &metrics.config,
        &data,
        seed,
        results,
        ModelSource::Saved,
        false,
        log,
    )?;
    write(&data, &outcome, &metrics, &results.join("explorer"))
}
