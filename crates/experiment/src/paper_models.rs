//! The paper's own models: the MLP and the two SAEs published with its explorer mechMNISTic
//! (shipped in `data/mechmnistic/`, PyTorch `torch.save` files), measured exactly as a run
//! measures its own: one more seed's models through `pipeline::evaluate_seed`.
use crate::layers::{Keyed, NE, Provenance, STANDARD, SaeLayer};
use crate::outputs::write_atomic;
use crate::paper::{PAPER_NE, PAPER_STANDARD};
use crate::pipeline::{
    Log, SeedModels, SeedOutcome, Yardstick, evaluate_seed, load_and_check, seed_run, test_images,
};
use crate::{Config, MetricsFile, SeedRun, report};
use anyhow::{Context, bail};
use ne_metrics::{SaeEvaluation, TrainScan, UnitImages, median};
use ne_mnist::{CLASSES, IMAGE_PIXELS, Mnist};
use ne_models::torch;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The shipped files and their SHA-256 (see `data/mechmnistic/NOTICE`).
pub const SHIPPED_SHA256: [(&str, &str); 3] = [
    (
        "model.pt",
        "3e3075d19a8ec5763bc346fcae45158642d52e4b76607d4c88cc16a101a281b3",
    ),
    (
        "sae-standard.pt",
        "ca4e0790d729b6587e29fabe2dd7b0bf845c1328bfcbb061f41ef070c902917a",
    ),
    (
        "sae-ne.pt",
        "9c9147a80938aa5dded9d44609b0ede75fa6e4403ce12dc5edfaa03f19cc659a",
    ),
];

/// Encoder participation at or below which a latent reads so few MLP neurons that its
/// activating examples' embeddings (the neurons' weights) are near-parallel by construction.
pub const FEW_NEURONS: f64 = 3.0;

/// Where the three `.pt` files are, and whether to check them against `SHIPPED_SHA256`.
#[derive(Debug, Clone)]
pub struct ModelFiles {
    pub mlp: PathBuf,
    pub standard: PathBuf,
    pub ne: PathBuf,
    pub verify: bool,
}

impl ModelFiles {
    /// The shipped, checksum-verified files.
    pub fn shipped() -> Self {
        let dir = ne_shipped::paper_models_dir();
        Self {
            mlp: dir.join(SHIPPED_SHA256[0].0),
            standard: dir.join(SHIPPED_SHA256[1].0),
            ne: dir.join(SHIPPED_SHA256[2].0),
            verify: true,
        }
    }
}

/// The state dict of `path`, after checking its SHA-256 against `expected` when given.
fn read_checked(path: &Path, expected: Option<&str>) -> anyhow::Result<torch::StateDict> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if let Some(expected) = expected {
        let actual = format!("{:x}", Sha256::digest(&bytes));
        if actual != expected {
            bail!(
                "{} has SHA-256 {actual}, not the {expected} of the shipped file; restore it \
                 (git checkout data/mechmnistic), or name your own files with --mlp, \
                 --sae-standard and --sae-ne",
                path.display()
            );
        }
    }
    torch::parse(&bytes).map_err(|problem| {
        anyhow::Error::new(torch::TorchError {
            path: path.to_owned(),
            problem,
        })
    })
}

/// Reads the MLP and both SAEs of `files` and checks that they fit MNIST and each other.
pub fn load(files: &ModelFiles) -> anyhow::Result<SeedModels> {
    let expected = |i: usize| files.verify.then_some(SHIPPED_SHA256[i].1);
    let in_file = |path: &Path| format!("{}", path.display());
    let mlp = torch::mlp(&read_checked(&files.mlp, expected(0))?).context(in_file(&files.mlp))?;
    if mlp.fc1.inputs() != IMAGE_PIXELS || mlp.fc2.outputs() != CLASSES {
        bail!(
            "{}: the MLP maps {} inputs to {} classes; MNIST needs {IMAGE_PIXELS} and {CLASSES}",
            files.mlp.display(),
            mlp.fc1.inputs(),
            mlp.fc2.outputs()
        );
    }
    let mut saes = Vec::new();
    let layers = [
        (
            STANDARD,
            "Paper's standard SAE (released)",
            &files.standard,
            1,
        ),
        (NE, "Paper's NE SAE (released)", &files.ne, 2),
    ];
    for (key, title, path, i) in layers {
        let sae = torch::sae(&read_checked(path, expected(i))?).context(in_file(path))?;
        if sae.inputs() != mlp.fc1.outputs() {
            bail!(
                "{}: the SAE reads {} values, but the MLP of {} has {} hidden units",
                path.display(),
                sae.inputs(),
                files.mlp.display(),
                mlp.fc1.outputs()
            );
        }
        saes.push(SaeLayer {
            key: key.to_owned(),
            title: title.to_owned(),
            provenance: Provenance::Released { file: path.clone() },
            sae,
            training: None,
        });
    }
    Ok(SeedModels { mlp, saes })
}

/// Measures `models` as a run measures a seed's models, without a training record (their
/// training is not published, so the training-time dead counts stay unmeasured), keeping as
/// much of the training set's per-latent activity as `scan` says; `images` are `data`'s test
/// images as input coherence reads them. The outcome's seed is 0.
pub fn measure(
    config: &Config,
    data: &Mnist,
    images: &UnitImages,
    models: SeedModels,
    scan: TrainScan,
    log: Log,
) -> anyhow::Result<SeedOutcome> {
    let start = Instant::now();
    let train_hidden = models.mlp.hidden(data.train.images.view());
    let test_hidden = models.mlp.hidden(data.test.images.view());
    let (train, test) = (train_hidden.view(), test_hidden.view());
    let yardstick = Yardstick::new(config, data, &models.mlp, train, test, images);
    let evaluation = evaluate_seed(&yardstick, &models.saes, scan)?;
    let secs = start.elapsed().as_secs_f64();
    log(&format!("paper's models: measured in {secs:.2} s"));
    let timing = BTreeMap::from([("eval".to_owned(), secs)]);
    let run = seed_run(0, &models, &evaluation, data, test_hidden.view(), timing)?;
    Ok(SeedOutcome {
        run,
        models,
        evaluation,
        curve: Vec::new(),
        train_hidden,
        test_hidden,
    })
}

/// The shipped models measured under `config` on `data`: the row reproduce adds to its tables
/// (which need only the dead counts of the training set); `images` as `measure`.
pub fn measure_shipped(
    config: &Config,
    data: &Mnist,
    images: &UnitImages,
    log: Log,
) -> anyhow::Result<SeedRun> {
    let models = load(&ModelFiles::shipped())?;
    Ok(measure(config, data, images, models, TrainScan::DeadCounts, log)?.run)
}

/// The τ values at which `dead_threshold_pct` reads the paper's printed dead % (to its one
/// printed decimal): `[low, high)`, from the latents' largest training activations.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TauRange {
    pub printed_pct: f64,
    /// None when no τ gives the printed figure.
    pub low: Option<f32>,
    pub high: Option<f32>,
}

/// Which τ give `printed_pct` dead latents (rounded to one decimal) given each latent's largest
/// activation `max`: a latent is dead by threshold when its max is at most τ.
pub fn tau_range(max: &[f32], printed_pct: f64) -> TauRange {
    let mut sorted = max.to_vec();
    sorted.sort_by(f32::total_cmp);
    let m = sorted.len();
    let reads =
        |k: usize| ((1000.0 * k as f64 / m as f64).round() / 10.0 - printed_pct).abs() < 1e-9;
    let ks: Vec<usize> = (0..=m).filter(|&k| reads(k)).collect();
    let (Some(&first), Some(&last)) = (ks.first(), ks.last()) else {
        return TauRange {
            printed_pct,
            low: None,
            high: None,
        };
    };
    // Exactly k latents are at most τ when sorted[k-1] <= τ < sorted[k].
    TauRange {
        printed_pct,
        low: Some(if first == 0 { 0.0 } else { sorted[first - 1] }),
        high: sorted.get(last).copied(),
    }
}

/// The shortcut on an SAE: latents that read at most `FEW_NEURONS` MLP neurons (encoder
/// participation) and their distances against the other latents'.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Shortcut {
    /// Latents with encoder participation at most `FEW_NEURONS`, and how many of them fire.
    pub few_neuron_latents: usize,
    pub few_neuron_alive: usize,
    /// Medians of max / mean dist over the few-neuron latents and over the other latents
    /// (those with a distance, i.e. >= 2 activating test examples); NaN when none.
    pub few_max_dist: f64,
    pub few_mean_dist: f64,
    pub other_max_dist: f64,
    pub other_mean_dist: f64,
}

impl Shortcut {
    /// # Panics
    /// If `evaluation` did not keep the training set's per-latent activity
    /// (`TrainScan::PerLatent`).
    pub fn of(evaluation: &SaeEvaluation) -> Self {
        let few = |j: usize| evaluation.proxies[j].encoder_participation <= FEW_NEURONS;
        let train = (evaluation.per_latent.train.as_ref()).expect("measured per latent");
        let m = evaluation.per_latent.stats.len();
        let med = |pick: fn(&ne_metrics::NeuronStats) -> Option<f32>, want: bool| {
            let v: Vec<f64> = (0..m)
                .filter(|&j| few(j) == want)
                .filter_map(|j| pick(&evaluation.per_latent.stats[j]).map(f64::from))
                .collect();
            median(&v).unwrap_or(f64::NAN)
        };
        Self {
            few_neuron_latents: (0..m).filter(|&j| few(j)).count(),
            few_neuron_alive: (0..m).filter(|&j| few(j) && train.firing[j] > 0).count(),
            few_max_dist: med(|s| s.max_dist, true),
            few_mean_dist: med(|s| s.mean_dist, true),
            other_max_dist: med(|s| s.max_dist, false),
            other_mean_dist: med(|s| s.mean_dist, false),
        }
    }
}

/// `metrics.json` of `paper-models`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaperModelsFile {
    /// The three files measured and whether their SHA-256 was checked.
    pub files: BTreeMap<String, String>,
    pub checksums_verified: bool,
    pub config: Config,
    pub mlp_test_accuracy: f64,
    pub mlp: ne_metrics::Table4,
    /// Each released SAE's figures under its key (`standard`, `ne`).
    #[serde(flatten)]
    pub saes: Keyed<ne_metrics::SaeMetrics>,
    /// Per SAE, the τ that give the paper's printed dead %.
    pub tau_for_printed_dead: BTreeMap<String, TauRange>,
    /// Per SAE, the few-neuron shortcut.
    pub shortcut: BTreeMap<String, Shortcut>,
    pub timing_s: BTreeMap<String, f64>,
}

/// What `paper-models` was asked to do.
#[derive(Debug, Clone)]
pub struct PaperModelsOptions {
    pub files: ModelFiles,
    pub out: PathBuf,
    /// A `reproduce` run whose tables go beside the paper's models in the report, if it exists.
    pub reproduction: PathBuf,
    pub explorer: bool,
}

/// What `paper-models` wrote.
#[derive(Debug, Clone)]
pub struct PaperModels {
    pub metrics: PaperModelsFile,
    pub metrics_path: PathBuf,
    pub report_path: PathBuf,
    pub explorer_path: Option<PathBuf>,
}

/// Measures the paper's models under `config` and writes `metrics.json`, `report.md` and (with
/// `options.explorer`) the explorer over them into `options.out`.
pub fn paper_models(
    config: &Config,
    options: &PaperModelsOptions,
    log: Log,
) -> anyhow::Result<PaperModels> {
    let start = Instant::now();
    let models = load(&options.files)?;
    let data = load_and_check(config, 1)?;
    let load_secs = start.elapsed().as_secs_f64();
    // Per latent in full: the τ ranges, the shortcut figures and the explorer read each
    // latent's firing count and largest activation over the training set.
    let images = test_images(&data);
    let outcome = measure(config, &data, &images, models, TrainScan::PerLatent, log)?;
    let eval = &outcome.evaluation;
    let printed_dead = |key: &str| match key {
        STANDARD => PAPER_STANDARD.dead_pct,
        _ => PAPER_NE.dead_pct,
    };
    let tau = eval
        .saes
        .iter()
        .map(|(key, e)| {
            let train = e.per_latent.train.as_ref().expect("measured per latent");
            let max = train.max.as_slice().expect("contiguous");
            (key.to_owned(), tau_range(max, printed_dead(key)))
        })
        .collect();
    let shortcut = eval
        .saes
        .iter()
        .map(|(key, e)| (key.to_owned(), Shortcut::of(e)))
        .collect();
    let files = &options.files;
    let mut timing_s = outcome.run.timing_s.clone();
    timing_s.insert("load".into(), load_secs);
    let file = PaperModelsFile {
        files: BTreeMap::from([
            ("mlp".to_owned(), files.mlp.display().to_string()),
            ("standard".to_owned(), files.standard.display().to_string()),
            ("ne".to_owned(), files.ne.display().to_string()),
        ]),
        checksums_verified: files.verify,
        config: config.clone(),
        mlp_test_accuracy: outcome.run.mlp_test_accuracy,
        mlp: outcome.run.mlp,
        saes: outcome.run.saes.clone(),
        tau_for_printed_dead: tau,
        shortcut,
        timing_s,
    };
    let out = &options.out;
    let metrics_path = out.join("metrics.json");
    write_atomic(&metrics_path, &serde_json::to_vec_pretty(&file)?)?;
    let reproduction = read_reproduction(&options.reproduction, log);
    let report_path = out.join("report.md");
    let text = report::paper_models(&file, reproduction.as_ref());
    write_atomic(&report_path, text.as_bytes())?;
    let explorer_path = if options.explorer {
        let metrics = MetricsFile::new(config.clone(), vec![outcome.run.clone()]);
        let dir = out.join("explorer");
        Some(crate::explore::write(&data, &outcome, &metrics, &[], &dir)?)
    } else {
        None
    };
    Ok(PaperModels {
        metrics: file,
        metrics_path,
        report_path,
        explorer_path,
    })
}

/// The `metrics.json` of a `reproduce` run in `dir`, if there is one that reads.
fn read_reproduction(dir: &Path, log: Log) -> Option<MetricsFile> {
    let path = dir.join("metrics.json");
    let text = std::fs::read(&path).ok()?;
    match MetricsFile::from_json(&text) {
        Ok(metrics) => Some(metrics),
        Err(e) => {
            log(&format!(
                "leaving our reproduction out of the report: {}: {e}",
                path.display()
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tau_range_brackets_the_count_that_reads_as_printed() {
        // 10 latents: 2 dead (max 0), then 0.1, 0.2, ... ; 30% dead needs 3 latents <= τ.
        let max = [0.0, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
        let r = tau_range(&max, 30.0);
        assert_eq!((r.low, r.high), (Some(0.1), Some(0.2)));
        let r = tau_range(&max, 20.0);
        assert_eq!((r.low, r.high), (Some(0.0), Some(0.1)));
        // 25% cannot be read from 10 latents.
        assert_eq!(tau_range(&max, 25.0).low, None);
    }
}
