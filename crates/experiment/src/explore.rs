//! The neuron explorer for one seed of a run.
use crate::MetricsFile;
use crate::finished::FinishedRun;
use crate::imported::imported_saes;
use crate::layers::{Provenance, SaeLayer};
use crate::outputs::Log;
use crate::pipeline::SeedOutcome;
use anyhow::Context;
use ne_explorer::{ExplorerInput, SaeInput, write_explorer};
use ne_metrics::SaeEvaluation;
use ne_mnist::Mnist;
use std::path::{Path, PathBuf};

/// Writes the explorer for `outcome`, with its SAE layers and then `more` (each measured
/// against the outcome's MLP), into `dir`; returns the path of its `index.html`.
pub fn write(
    data: &Mnist,
    outcome: &SeedOutcome,
    metrics: &MetricsFile,
    more: &[(SaeLayer, SaeEvaluation)],
    dir: &Path,
) -> anyhow::Result<PathBuf> {
    let eval = &outcome.evaluation;
    let firing = |counts: &ndarray::Array1<u64>| counts.to_vec();
    let own = outcome.models.saes.iter().map(|layer| {
        let evaluation = eval.saes.get(&layer.key);
        (
            layer,
            evaluation.expect("every layer of a seed is measured"),
        )
    });
    let shown: Vec<_> = own
        .chain(more.iter().map(|(layer, evaluation)| (layer, evaluation)))
        .map(|(layer, evaluation)| {
            let provenance = layer.provenance.describe();
            // Only a seed run for its explorer (`TrainScan::PerLatent`) counts every latent's
            // firing over the training set.
            let train = evaluation.per_latent.train.as_ref().with_context(|| {
                format!(
                    "SAE {}: measured without its per-latent firing counts",
                    layer.key
                )
            })?;
            anyhow::Ok((layer, provenance, firing(&train.firing), evaluation))
        })
        .collect::<anyhow::Result<_>>()?;
    // Released models are not a run's seeds: the page's tables say so.
    let released = |layer: &SaeLayer| matches!(layer.provenance, Provenance::Released { .. });
    let models_label = match outcome.models.saes.iter().all(released) {
        true => "released, measured here",
        false => "ours",
    };
    let saes: Vec<SaeInput> = shown
        .iter()
        .map(|(layer, provenance, train_firing, evaluation)| SaeInput {
            key: &layer.key,
            title: &layer.title,
            provenance,
            sae: &layer.sae,
            train_firing,
            proxies: &evaluation.proxies,
        })
        .collect();
    let mlp_firing = firing(&eval.mlp_train_firing);
    // Through JSON text, not `to_value`: that widens each f32 of the config to f64, and the page
    // would print 0.02 as 0.019999999552965164. The text holds each number's shortest form.
    let metrics_json: serde_json::Value = serde_json::from_str(&serde_json::to_string(metrics)?)?;
    let explorer = &metrics.config.explorer;
    let index = write_explorer(
        dir,
        &ExplorerInput {
            test: &data.test,
            mlp: &outcome.models.mlp,
            mlp_train_firing: &mlp_firing,
            mlp_proxies: &eval.mlp_proxies,
            saes: &saes,
            metrics: &metrics_json,
            paper: &crate::paper::explorer_figures(),
            seed: outcome.run.seed,
            cluster_threshold: explorer.cluster_threshold,
            cluster_examples: explorer.cluster_examples,
            distance_cap: metrics.config.eval.example_cap,
            models_label,
        },
    )?;
    for name in ne_explorer::file_names() {
        crate::outputs::record(&dir.join(name))?;
    }
    Ok(index)
}

/// Writes the explorer of the seed of `outcome` into the run's `explorer/`, with the SAEs
/// `evaluate` brought into the run (`dir`) for that seed.
pub fn write_run(
    dir: &Path,
    metrics: &MetricsFile,
    data: &Mnist,
    outcome: &SeedOutcome,
    log: Log,
) -> anyhow::Result<PathBuf> {
    let imported = imported_saes(dir, &metrics.config, data, outcome, log)?;
    write(data, outcome, metrics, &imported, &dir.join("explorer"))
}

/// Writes the explorer of a finished `reproduce` run from its folder: the config and seeds come
/// from its `metrics.json`, the models of `seed` (default: its first) from their files, which
/// must carry that config's stamp. Trains nothing and changes nothing but `explorer/`.
pub fn explore_from(results: &Path, seed: Option<u64>, log: Log) -> anyhow::Result<PathBuf> {
    let run = FinishedRun::open(results, log)?;
    let seed = run.seed(seed)?;
    let data = run.data()?;
    let outcome = run.outcome(&data, seed, log)?;
    write_run(&run.dir, &run.metrics, &data, &outcome, log)
}
