//! Interop with the field's Python tools. Every run writes each SAE in the layout SAELens 6.x
//! loads (`seed-N/saelens/<variant>/`), with a record of where it came from; on request, the
//! MLP's hidden activations and the labels as `.npy` (`seed-N/activations/`), to train SAEs in
//! Python; and `evaluate` measures an SAE in SAELens's layout against a run's MLP (the figures
//! of `evaluate_sae`) and shows it in the run's explorer beside ours.
use crate::finished::FinishedRun;
use crate::imported::measure;
pub use crate::imported::{EVALUATION_FILE, IMPORTED_DIR};
use crate::layers::{Keyed, Provenance, SaeLayer};
use crate::outputs::write_atomic;
use crate::pipeline::{Log, SeedOutcome, seed_dir};
use crate::{Config, explore};
use anyhow::{Context, bail};
use ndarray::{ArrayView, Dimension};
use ndarray_npy::WriteNpyExt;
use ne_metrics::SaeMetrics;
use ne_mnist::Mnist;
use ne_models::{Sae, SaeVariant, saelens};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

/// Sub-folder of a seed's folder with its SAEs in SAELens's layout, one folder per variant.
pub const SAELENS_DIR: &str = "saelens";
/// Sub-folder of a seed's folder with the hidden activations and labels as `.npy`.
pub const ACTIVATIONS_DIR: &str = "activations";
/// Our own record of where the files beside it came from.
pub const PROVENANCE_FILE: &str = "provenance.json";
/// `cfg.json` `metadata` key holding the same record as `provenance.json`.
pub const PROVENANCE_KEY: &str = "neuron_embeddings";
/// SAELens's `metadata.model_name` of our exports.
const MODEL_NAME: &str = "mnist-mlp";
/// SAELens's `metadata.hook_name` of our exports: the layer the SAEs read.
const HOOK_NAME: &str = "hidden";

/// Where a seed's SAE of `variant`, or with `None` its hidden activations, came from.
fn provenance(config: &Config, seed: u64, variant: Option<SaeVariant>) -> Value {
    let mut record = json!({
        "source": format!(
            "hidden layer (after ReLU, {} units) of the MNIST MLP 784-{}-10",
            config.mlp.hidden, config.mlp.hidden
        ),
        "mlp_file": format!("seed-{seed}/mlp.safetensors"),
        "seed": seed,
        "config_digest": config.digest(),
        "written_by": format!("neuron-embeddings {}", env!("CARGO_PKG_VERSION")),
    });
    if let Some(variant) = variant {
        let lambda_ne = match variant {
            SaeVariant::Standard => 0.0,
            SaeVariant::Ne => config.sae.lambda_ne,
        };
        record["variant"] = variant.name().into();
        record["lambda_l1"] = config.sae.lambda_l1.into();
        record["lambda_ne"] = lambda_ne.into();
    }
    record
}

fn pretty(value: &Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("plain JSON values");
    bytes.push(b'\n');
    bytes
}

/// Writes `sae` as a SAELens folder `dir` with `metadata` in its `cfg.json`.
pub(crate) fn write_saelens(
    dir: &Path,
    sae: &Sae,
    metadata: &Map<String, Value>,
) -> anyhow::Result<()> {
    let files = saelens::files(sae, metadata);
    write_atomic(&dir.join(saelens::WEIGHTS_FILE), &files.weights)?;
    write_atomic(&dir.join(saelens::CFG_FILE), &files.cfg_json)
}

/// Writes both SAEs of a finished seed in SAELens's layout under `seed-N/saelens/`, each with
/// its `provenance.json`; with `activations`, also the MLP's hidden activations and the labels
/// under `seed-N/activations/`. Returns the folders written.
pub fn export_seed(
    out: &Path,
    config: &Config,
    data: &Mnist,
    outcome: &SeedOutcome,
    activations: bool,
) -> anyhow::Result<Vec<PathBuf>> {
    let seed = outcome.run.seed;
    let dir = seed_dir(out, seed);
    let mut written = Vec::new();
    for layer in &outcome.models.saes {
        let Provenance::Trained { variant, .. } = layer.provenance else {
            continue;
        };
        let sae = &layer.sae;
        let folder = dir.join(SAELENS_DIR).join(variant.name());
        let record = provenance(config, seed, Some(variant));
        let metadata = Map::from_iter([
            ("model_name".to_owned(), json!(MODEL_NAME)),
            ("hook_name".to_owned(), json!(HOOK_NAME)),
            (PROVENANCE_KEY.to_owned(), record.clone()),
        ]);
        write_saelens(&folder, sae, &metadata)?;
        write_atomic(&folder.join(PROVENANCE_FILE), &pretty(&record))?;
        written.push(folder);
    }
    if activations {
        let folder = dir.join(ACTIVATIONS_DIR);
        write_activations(&folder, config, data, outcome)?;
        written.push(folder);
    }
    Ok(written)
}

/// `train_hidden.npy`, `test_hidden.npy` (float32, examples x hidden units, in MNIST file
/// order), `train_labels.npy`, `test_labels.npy` (uint8) and `provenance.json`.
fn write_activations(
    dir: &Path,
    config: &Config,
    data: &Mnist,
    outcome: &SeedOutcome,
) -> anyhow::Result<()> {
    let train_hidden = &outcome.train_hidden;
    write_npy(&dir.join("train_hidden.npy"), train_hidden.view())?;
    write_npy(&dir.join("test_hidden.npy"), outcome.test_hidden.view())?;
    write_npy(&dir.join("train_labels.npy"), data.train.labels.view())?;
    write_npy(&dir.join("test_labels.npy"), data.test.labels.view())?;
    let mut record = provenance(config, outcome.run.seed, None);
    let shape = |n: usize| format!("[{n}, {}]", train_hidden.ncols());
    record["arrays"] = json!({
        "train_hidden.npy": format!("float32 {}: the training images' activations", shape(data.train.len())),
        "test_hidden.npy": format!("float32 {}: the test images' activations", shape(data.test.len())),
        "train_labels.npy": format!("uint8 [{}]: the training images' digits", data.train.len()),
        "test_labels.npy": format!("uint8 [{}]: the test images' digits", data.test.len()),
    });
    write_atomic(&dir.join(PROVENANCE_FILE), &pretty(&record))
}

fn write_npy<A, D>(path: &Path, array: ArrayView<A, D>) -> anyhow::Result<()>
where
    A: ndarray_npy::WritableElement,
    D: Dimension,
{
    let mut bytes = Vec::new();
    array
        .write_npy(&mut bytes)
        .with_context(|| format!("cannot encode {}", path.display()))?;
    write_atomic(path, &bytes)
}

/// `export_seed` for every seed of the finished run in `results`, from its saved models (for
/// runs made before runs exported by themselves). Returns the folders written.
pub fn export_from(results: &Path, activations: bool, log: Log) -> anyhow::Result<Vec<PathBuf>> {
    let run = FinishedRun::open(results, log)?;
    let data = run.data()?;
    let mut written = Vec::new();
    for seed in run.seeds() {
        let outcome = run.outcome(&data, seed, log)?;
        written.extend(export_seed(
            results,
            &run.metrics.config,
            &data,
            &outcome,
            activations,
        )?);
    }
    Ok(written)
}

/// What `evaluate` was asked to do.
#[derive(Debug, Clone)]
pub struct EvaluateOptions {
    /// The finished run whose MLP the SAE is measured against.
    pub run: PathBuf,
    /// The SAE: a folder in SAELens's layout.
    pub sae: PathBuf,
    /// Its name in the explorer and under `imported/`; default: the folder's name.
    pub key: Option<String>,
    /// Which seed's MLP; default: the run's first seed.
    pub seed: Option<u64>,
}

/// The imported SAE's figures beside those of the run's own SAEs of the same seed.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub key: String,
    pub seed: u64,
    /// The seed's own SAEs' figures, then the imported one's under `key`.
    pub saes: Keyed<SaeMetrics>,
    /// `imported/<key>/` in the run's folder.
    pub saved: PathBuf,
    /// The explorer's `index.html`.
    pub explorer: PathBuf,
}

impl Evaluation {
    /// A Markdown table, one row per figure of `SaeMetrics` as `metrics.json` names it.
    pub fn table(&self) -> String {
        let columns: Vec<(String, &SaeMetrics)> = self
            .saes
            .iter()
            .map(|(key, metrics)| match key == self.key {
                true => (key.to_owned(), metrics),
                false => (format!("{key} (seed {})", self.seed), metrics),
            })
            .collect();
        let as_json = |m: &SaeMetrics| serde_json::to_value(m).expect("plain numbers");
        let values: Vec<Value> = columns.iter().map(|(_, m)| as_json(m)).collect();
        let headings: Vec<&str> = columns.iter().map(|(h, _)| h.as_str()).collect();
        let mut out = format!("| figure | {} |\n|---|", headings.join(" | "));
        out.push_str(&"---:|".repeat(columns.len()));
        out.push('\n');
        let names = values[0]
            .as_object()
            .expect("SaeMetrics is an object")
            .keys();
        for name in names {
            let cells: Vec<String> = values
                .iter()
                .map(|v| v[name].as_f64().map_or("n/a".into(), |x| format!("{x:.4}")))
                .collect();
            out.push_str(&format!("| {name} | {} |\n", cells.join(" | ")));
        }
        out
    }
}

/// The explorer key of an SAE folder: its name in lower case, other characters than letters,
/// digits, `_` and `-` turned into `-`.
fn key_of_folder(folder: &Path) -> String {
    let name = std::fs::canonicalize(folder)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let key: String = name
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    if key.is_empty() {
        "imported".into()
    } else {
        key
    }
}

/// Brings the SAE of `options.sae` into the run: checks that the run's MLP can feed it,
/// measures it, saves it (SAELens layout) with its figures under `imported/<key>/`, and
/// rewrites the run's explorer with it beside the run's own SAEs.
pub fn evaluate(options: &EvaluateOptions, log: Log) -> anyhow::Result<Evaluation> {
    let loaded = saelens::read(&options.sae)?;
    let key = match &options.key {
        Some(key) => key.clone(),
        None => key_of_folder(&options.sae),
    };
    ne_explorer::check_sae_key(&key).context("choose another name with --name")?;
    let run = FinishedRun::open(&options.run, log)?;
    if run.metrics.runs.iter().any(|r| r.saes.get(&key).is_some()) {
        bail!("the name {key:?} is taken by the run's own SAE; choose another with --name");
    }
    let seed = run.seed(options.seed)?;
    let config = &run.metrics.config;
    let sae = loaded.sae;
    if sae.inputs() != config.mlp.hidden {
        bail!(
            "{}: `d_in` is {}, but the MLP of {} has {} hidden units, the layer an SAE reads",
            options.sae.join(saelens::CFG_FILE).display(),
            sae.inputs(),
            options.run.display(),
            config.mlp.hidden
        );
    }
    let norms = sae.w_dec.map_axis(ndarray::Axis(0), |c| c.dot(&c).sqrt());
    let (low, high) = norms
        .iter()
        .fold((f32::INFINITY, 0f32), |(lo, hi), &n| (lo.min(n), hi.max(n)));
    if low < 0.999 || high > 1.001 {
        log(&format!(
            "note: its decoder columns have norms from {low:.3} to {high:.3} (ours are 1), so \
             its L1 is on another scale than ours"
        ));
    }

    let data = run.data()?;
    let outcome = run.outcome(&data, seed, log)?;
    let source = std::fs::canonicalize(&options.sae).unwrap_or_else(|_| options.sae.clone());
    let layer = SaeLayer {
        key: key.clone(),
        title: format!("{key} (imported)"),
        provenance: Provenance::Imported {
            source: source.clone(),
        },
        sae,
        training: None,
    };
    let evaluation = measure(config, &data, &outcome, std::slice::from_ref(&layer))?.remove(0);
    let sae = layer.sae;
    let m = &evaluation.metrics;
    if [
        m.mse,
        m.l1,
        m.l0_pct,
        m.acc_loss_pct,
        m.max_dist,
        m.mean_dist,
    ]
    .iter()
    .any(|x| !x.is_finite())
    {
        let largest = [&sae.w_enc, &sae.w_dec]
            .into_iter()
            .flat_map(|w| w.iter())
            .chain(sae.b_enc.iter().chain(sae.b_dec.iter()))
            .fold(0f32, |most, &w| most.max(w.abs()));
        log(&format!(
            "warning: {key}: some of its figures are not finite (n/a) and the others come from \
             overflowing arithmetic: its weights reach {largest:e}, too large for 32-bit floats \
             to multiply; check that {} holds the SAE you meant",
            options.sae.display()
        ));
    }
    let saved = run.dir.join(IMPORTED_DIR).join(&key);
    // Written in full in a folder of its own, then moved in place, so that an interrupted
    // `evaluate` never leaves `imported/<key>/` without its record.
    let staging = run.dir.join(IMPORTED_DIR).join(format!(".partial-{key}"));
    remove_dir_if_present(&staging)?;
    write_saelens(&staging, &sae, &loaded.metadata)?;
    let record = json!({
        "key": key,
        "title": layer.title,
        "source": source,
        "seed": seed,
        "config_digest": config.digest(),
        "metrics": evaluation.metrics,
    });
    write_atomic(&staging.join(EVALUATION_FILE), &pretty(&record))?;
    replace_dir(&staging, &saved)?;
    let explorer = explore::write_run(&run.dir, &run.metrics, &data, &outcome, log)?;
    let mut saes = outcome.run.saes.clone();
    saes.insert(key.clone(), evaluation.metrics);
    Ok(Evaluation {
        key,
        seed,
        saes,
        saved,
        explorer,
    })
}

fn remove_dir_if_present(dir: &Path) -> anyhow::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        removed => removed.with_context(|| format!("cannot remove {}", dir.display())),
    }
}

/// Moves the folder `new` to `target`, in place of the folder there if any. The old one is
/// moved aside before, and removed after, so that `target` is at every moment either the whole
/// old folder or the whole new one (or briefly absent).
fn replace_dir(new: &Path, target: &Path) -> anyhow::Result<()> {
    let name = target.file_name().expect("a folder with a name");
    let old = target.with_file_name(format!(".old-{}", name.to_string_lossy()));
    remove_dir_if_present(&old)?;
    match std::fs::rename(target, &old) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        moved => moved.with_context(|| format!("cannot move {} aside", target.display()))?,
    }
    std::fs::rename(new, target)
        .with_context(|| format!("cannot move {} to {}", new.display(), target.display()))?;
    remove_dir_if_present(&old)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_name_becomes_a_key_the_explorer_accepts() {
        let dir = tempfile::tempdir().unwrap();
        for (name, key) in [("My SAE.v2", "my-sae-v2"), ("topk_16", "topk_16")] {
            let folder = dir.path().join(name);
            std::fs::create_dir(&folder).unwrap();
            assert_eq!(key_of_folder(&folder), key);
            // A trailing separator or a `.` path names the same folder.
            assert_eq!(key_of_folder(&folder.join(".")), key);
            ne_explorer::check_sae_key(key).unwrap();
        }
    }
}
