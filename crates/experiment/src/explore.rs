//! The neuron explorer for one seed of a run.
use crate::MetricsFile;
use crate::finished::FinishedRun;
use crate::interop::{ImportedSae, imported_saes};
use crate::pipeline::{Log, SeedOutcome};
use ne_explorer::{ExplorerInput, SaeInput, write_explorer};
use ne_metrics::firing_counts;
use ne_mnist::Mnist;
use std::path::{Path, PathBuf};

/// Writes the explorer for `outcome`, with its two SAEs and then `imported`, into `dir`;
/// returns the path of its `index.html`.
pub fn write(
    data: &Mnist,
    outcome: &SeedOutcome,
    metrics: &MetricsFile,
    imported: &[ImportedSae],
    dir: &Path,
) -> anyhow::Result<PathBuf> {
    let eval = &outcome.evaluation;
    let train_hidden = outcome.train_hidden.view();
    let firing = |counts: &ndarray::Array1<u64>| counts.to_vec();
    let own = [
        (
            "standard",
            "Standard SAE",
            &outcome.models.standard,
            &eval.standard,
        ),
        ("ne", "SAE + NE loss", &outcome.models.ne, &eval.ne),
    ];
    let shown: Vec<_> = own
        .into_iter()
        .chain(
            imported
                .iter()
                .map(|i| (i.key.as_str(), i.title.as_str(), &i.sae, &i.evaluation)),
        )
        .map(|(key, title, sae, evaluation)| {
            let train_firing = firing_counts(train_hidden, sae.latents(), |h| sae.encode(h));
            (key, title, sae, firing(&train_firing), &evaluation.proxies)
        })
        .collect();
    let saes: Vec<SaeInput> = shown
        .iter()
        .map(|(key, title, sae, train_firing, proxies)| SaeInput {
            key,
            title,
            sae,
            train_firing,
            proxies,
        })
        .collect();
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

/// Writes the explorer of a finished run's seed into the run's `explorer/`, with the SAEs
/// `evaluate` brought in for that seed.
pub fn write_run(
    run: &FinishedRun,
    data: &Mnist,
    outcome: &SeedOutcome,
    log: Log,
) -> anyhow::Result<PathBuf> {
    let imported = imported_saes(run, data, outcome, log)?;
    write(
        data,
        outcome,
        &run.metrics,
        &imported,
        &run.dir.join("explorer"),
    )
}

/// Writes the explorer of a finished `reproduce` run from its folder: the config and seeds come
/// from its `metrics.json`, the models of `seed` (default: its first) from their files, which
/// must carry that config's stamp. Trains nothing and changes nothing but `explorer/`.
pub fn explore_from(results: &Path, seed: Option<u64>, log: Log) -> anyhow::Result<PathBuf> {
    let run = FinishedRun::open(results, log)?;
    let seed = run.seed(seed)?;
    let data = run.data()?;
    let outcome = run.outcome(&data, seed, log)?;
    write_run(&run, &data, &outcome, log)
}
