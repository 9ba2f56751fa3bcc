//! The SAEs `interop::evaluate` brought into a run (`run/imported/`), read back and measured
//! again for the explorer. Apart from `interop`, so that the explorer can read them without
//! depending on the module that writes them (which itself writes the explorer).
use crate::Config;
use crate::layers::{Provenance, SaeLayer};
use crate::outputs::Log;
use crate::pipeline::{SeedOutcome, Yardstick, test_images};
use anyhow::Context;
use ne_metrics::{SaeEvaluation, TrainScan};
use ne_mnist::Mnist;
use ne_models::saelens;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Folder of a run holding the SAEs `evaluate` brought in, one folder per key.
pub const IMPORTED_DIR: &str = "imported";
/// What `evaluate` measured for an imported SAE, in that SAE's folder.
pub const EVALUATION_FILE: &str = "evaluation.json";

/// The part of `evaluation.json` needed to show an imported SAE again.
#[derive(Deserialize)]
struct ImportRecord {
    key: String,
    title: String,
    seed: u64,
    config_digest: String,
    /// Where `evaluate` read it from; absent in records of older runs.
    #[serde(default)]
    source: PathBuf,
}

/// Measures `layers` as the run measured its own SAEs (against one yardstick), on the outcome's
/// MLP and the run's data; an imported SAE has no training record, so the dead counts during
/// training stay unmeasured.
pub(crate) fn measure(
    config: &Config,
    data: &Mnist,
    outcome: &SeedOutcome,
    layers: &[SaeLayer],
) -> anyhow::Result<Vec<SaeEvaluation>> {
    let images = test_images(data);
    let (train, test) = (outcome.train_hidden.view(), outcome.test_hidden.view());
    let yardstick = Yardstick::new(config, data, &outcome.models.mlp, train, test, &images);
    layers
        .iter()
        .map(|layer| yardstick.evaluate(layer, TrainScan::PerLatent))
        .collect()
}

/// The SAEs in `<run>/imported/` that were measured against the seed of `outcome` and against
/// `config`, the run's, measured again (in key order); those of other seeds or configs are left
/// out with a log line.
pub fn imported_saes(
    run: &Path,
    config: &Config,
    data: &Mnist,
    outcome: &SeedOutcome,
    log: Log,
) -> anyhow::Result<Vec<(SaeLayer, SaeEvaluation)>> {
    let root = run.join(IMPORTED_DIR);
    let entries = match std::fs::read_dir(&root) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        entries => entries.with_context(|| format!("cannot list {}", root.display()))?,
    };
    let mut folders = entries
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("cannot list {}", root.display()))?;
    // Folders whose names start with a dot are `evaluate`'s unfinished ones.
    folders.retain(|path| {
        path.is_dir()
            && !path
                .file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with('.'))
    });
    folders.sort();
    let digest = config.digest();
    let mut layers = Vec::new();
    for folder in folders {
        let path = folder.join(EVALUATION_FILE);
        let record = std::fs::read(&path)
            .with_context(|| format!("cannot read {}", path.display()))
            .and_then(|text| {
                serde_json::from_slice::<ImportRecord>(&text)
                    .with_context(|| format!("{} is not an evaluation record", path.display()))
            });
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                log(&format!(
                    "explorer: leaving out {}: not an SAE `evaluate` brought in ({error:#})",
                    folder.display()
                ));
                continue;
            }
        };
        if record.seed != outcome.run.seed || record.config_digest != digest {
            let config = if record.config_digest == digest {
                "this"
            } else {
                "another"
            };
            log(&format!(
                "explorer: leaving out {}: it was measured against seed {} of {config} config",
                folder.display(),
                record.seed
            ));
            continue;
        }
        let layer = SaeLayer {
            key: record.key,
            title: record.title,
            provenance: Provenance::Imported {
                source: record.source,
            },
            sae: saelens::read(&folder)?.sae,
            training: None,
        };
        layers.push(layer);
    }
    let evaluations = measure(config, data, outcome, &layers)?;
    Ok(layers.into_iter().zip(evaluations).collect())
}
