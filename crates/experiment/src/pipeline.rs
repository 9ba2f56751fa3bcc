//! The experiment stage by stage for one seed: data, MLP, hidden activations, the SAEs and the
//! curve's, metrics, and the model files that record them. `reproduce` runs it over seeds.
use crate::curve::{CurveModel, curve_model, curve_model_stem};
use crate::layers::{Keyed, NE, Provenance, STANDARD, SaeLayer};
use crate::outputs::write_atomic;
use crate::store::{ModelSource, SeedStore, check_mlp, check_sae};
use crate::{Config, DataConfig, SeedRun, flops};
use anyhow::Context;
use ndarray::{Array1, Array2, ArrayView2};
use ne_metrics::{
    EvalOptions, EvalSet, NeuronStats, SaeEvaluation, SaeMetrics, Table4, TrainScan, UnitImages,
    UnitProxies, activity, evaluate_sae, mlp_unit_proxies,
};
use ne_mnist::{Checksums, Mnist, MnistError};
use ne_models::{Mlp, Sae, SaeTraining, SaeVariant, TrainingFiring};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

pub use crate::outputs::Log;

/// The most seeds one run may have.
pub const MAX_SEEDS: u64 = 1000;

/// Loads MNIST as `config.data` says and checks that the config fits it and `seeds` seeds fit
/// in memory (`Config::validate_for`), before anything trains.
pub fn load_and_check(config: &Config, seeds: usize) -> anyhow::Result<Mnist> {
    let data = load_data(&config.data)?;
    config
        .validate_for(data.train.len(), data.test.len(), seeds)
        .map_err(|problem| anyhow::anyhow!("the config does not fit this run: {problem}"))?;
    Ok(data)
}

/// Loads MNIST as the config says: the shipped, checksum-verified copy unless a folder is given,
/// cut to the configured limits.
pub fn load_data(config: &DataConfig) -> anyhow::Result<Mnist> {
    let (dir, checksums) = if config.dir.as_os_str().is_empty() {
        (ne_shipped::mnist_dir(), Checksums::Verify)
    } else {
        (config.dir.clone(), Checksums::Skip)
    };
    let Mnist { train, test } = ne_mnist::load(&dir, checksums).map_err(with_checksum_advice)?;
    // Every figure of the run is measured on the test images: without any, accuracy and the
    // other metrics would be numbers of nothing.
    if test.is_empty() {
        let images = ne_mnist::SplitKind::Test.images_file();
        anyhow::bail!(
            "{}: the test images ({images}, .gz or plain) hold no image; every metric of the \
             run is measured on them",
            dir.display()
        );
    }
    let limit = |n: usize| if n == 0 { usize::MAX } else { n };
    Ok(Mnist {
        train: train.head(limit(config.train_limit)),
        test: test.head(limit(config.test_limit)),
    })
}

/// A loading error; a failed checksum of the shipped files also says how to load other files.
fn with_checksum_advice(error: MnistError) -> anyhow::Error {
    let changed = matches!(error, MnistError::Checksum { .. });
    let error = anyhow::Error::new(error);
    if !changed {
        return error;
    }
    error.context(
        "the shipped MNIST has changed; restore it (git checkout data/mnist), or put other IDX \
         files in a folder of their own and name it in the config's [data] dir (or pass it to \
         `cargo xtask data --dir`), where checksums are not checked",
    )
}

/// One seed's MLP and the SAEs on its hidden layer (a run's own: `STANDARD` then `NE`).
#[derive(Debug, Clone)]
pub struct SeedModels {
    pub mlp: Mlp,
    pub saes: Vec<SaeLayer>,
}

impl SeedModels {
    /// The SAE under `key`, if the seed has one.
    pub fn sae(&self, key: &str) -> Option<&SaeLayer> {
        self.saes.iter().find(|layer| layer.key == key)
    }
}

/// Per-neuron figures kept for the explorer.
#[derive(Debug, Clone)]
pub struct SeedEvaluation {
    /// On how many training examples each MLP hidden neuron fires.
    pub mlp_train_firing: Array1<u64>,
    /// Per MLP hidden neuron, the Table 4 figures on the test set.
    pub mlp_proxies: Vec<UnitProxies>,
    /// Each SAE of `SeedModels::saes`, measured, under its key and in its order.
    pub saes: Keyed<SaeEvaluation>,
}

/// One finished seed.
#[derive(Debug, Clone)]
pub struct SeedOutcome {
    pub run: SeedRun,
    pub models: SeedModels,
    pub evaluation: SeedEvaluation,
    /// The λ_NE curve, (λ, metrics) in the config's order; empty when not asked for.
    pub curve: Vec<(f32, SaeMetrics)>,
    /// The MLP's hidden activations of the training and test images, kept so that later
    /// stages (activation export, imported SAEs) do not run the MLP again.
    pub train_hidden: Array2<f32>,
    pub test_hidden: Array2<f32>,
}

/// Where one seed's files live.
pub fn seed_dir(out: &Path, seed: u64) -> PathBuf {
    out.join(format!("seed-{seed}"))
}

/// The FLOPs the stage now running has done, added by the work as it happens (a training adds
/// its count only when it trains, not when a saved model is reused).
#[derive(Default)]
struct Work(Mutex<f64>);

impl Work {
    fn add(&self, flops: f64) {
        *self.0.lock().expect("no panic while counting") += flops;
    }

    fn take(&self) -> f64 {
        std::mem::take(&mut *self.0.lock().expect("no panic while counting"))
    }
}

/// Stage timer that also logs what finished and records the FLOPs counted in `work`.
struct Stages<'a> {
    seed: u64,
    log: Log<'a>,
    work: &'a Work,
    timing: BTreeMap<String, f64>,
    flops: BTreeMap<String, f64>,
}

impl Stages<'_> {
    fn run<T>(
        &mut self,
        name: &str,
        work: impl FnOnce() -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        self.work.take();
        let start = Instant::now();
        let value = work()?;
        let secs = start.elapsed().as_secs_f64();
        self.timing.insert(name.to_owned(), secs);
        self.flops.insert(name.to_owned(), self.work.take());
        (self.log)(&format!("seed {}: {name} done in {secs:.2} s", self.seed));
        Ok(value)
    }
}

/// What a seed computes besides its models and their metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedExtras {
    /// The NE SAEs of the λ_NE curve.
    pub curve: bool,
    /// How much of the training set's per-latent activity the evaluations of its SAEs keep:
    /// `PerLatent` for a seed whose explorer is written, which shows each latent's firing count.
    pub train_scan: TrainScan,
}

/// What every seed of a run reads: MNIST, and its test images as input coherence reads them
/// (`test_images`, built once per run).
#[derive(Clone, Copy)]
pub struct RunData<'a> {
    pub mnist: &'a Mnist,
    pub test_images: &'a UnitImages,
}

/// Trains (or reloads, as `source` says) and evaluates one seed, with what `extras` asks for.
/// Unless the models are only read (`ModelSource::Saved`), writes its models and `run.json` into
/// `seed_dir(out, seed)`.
pub fn run_seed(
    config: &Config,
    data: RunData,
    seed: u64,
    out: &Path,
    source: ModelSource,
    extras: SeedExtras,
    log: Log,
) -> anyhow::Result<SeedOutcome> {
    let RunData {
        mnist: data,
        test_images: images,
    } = data;
    let dir = seed_dir(out, seed);
    let store = SeedStore::new(dir.clone(), config, data, seed, source, log);

    let work = Work::default();
    let mut stages = Stages {
        seed,
        log,
        work: &work,
        timing: BTreeMap::new(),
        flops: BTreeMap::new(),
    };
    let mlp = stages.run("mlp", || {
        store.model(
            "mlp",
            |mlp, path| check_mlp(config, mlp, path),
            || {
                let (examples, inputs) = data.train.images.dim();
                let classes = ne_mnist::CLASSES;
                work.add(flops::mlp_training(&config.mlp, examples, inputs, classes));
                train_mlp(config, data, seed, log)
            },
        )
    })?;
    let (train_hidden, test_hidden) = stages.run("hidden", || {
        let examples = data.train.len() + data.test.len();
        work.add(flops::hidden(examples, mlp.fc1.inputs(), mlp.fc1.outputs()));
        Ok((
            mlp.hidden(data.train.images.view()),
            mlp.hidden(data.test.images.view()),
        ))
    })?;
    let train_view = train_hidden.view();
    let hidden_units = mlp.fc1.outputs();
    // The standard SAE and every NE SAE of this seed agree on their first `ne_start_step` steps
    // (same init, same batches, no NE loss yet): those are trained once, when the first SAE
    // that is not reused from disk needs them, and each SAE continues from a copy.
    let shared_start: Mutex<Option<Result<SaeTraining, String>>> = Mutex::new(None);
    let start = || {
        let mut shared = shared_start.lock().expect("no panic while training");
        let shared = shared.get_or_insert_with(|| {
            let mut training =
                SaeTraining::new(&config.sae, seed, train_view).map_err(|e| format!("{e:#}"))?;
            training
                .run_until(config.sae.ne_start_step, train_view, &mut |_| {})
                .map_err(|e| format!("{e:#}"))?;
            work.add(sae_flops(&config.sae, &training, None, false));
            Ok(training)
        });
        shared
            .clone()
            .map_err(|e| anyhow::anyhow!("seed {seed}: training the SAEs' shared steps: {e}"))
    };
    let trained_sae = |key: &str, stem: &str, variant: SaeVariant, lambda_ne: f32| {
        let mut config = config.clone();
        config.sae.lambda_ne = lambda_ne;
        let (sae, training) = store.model_with_record(
            stem,
            |sae, path| check_sae(&config, hidden_units, sae, path),
            || {
                let from = start()?;
                let training = continue_sae(&config, variant, seed, from.clone(), train_view, log)?;
                let ne = variant == SaeVariant::Ne;
                work.add(sae_flops(&config.sae, &training.0, Some(&from), ne));
                Ok((training.1, training.2))
            },
        )?;
        anyhow::Ok(SaeLayer {
            key: key.to_owned(),
            title: title_of(variant).to_owned(),
            provenance: Provenance::Trained { variant, lambda_ne },
            sae,
            training: Some(training),
        })
    };
    let classes = mlp.fc2.outputs();
    let eval_flops = |latents: &[NeuronStats], proxies: &[UnitProxies], train_encoded| {
        let (test_n, inputs) = test_hidden.dim();
        let sizes = flops::EvalSizes {
            test: test_n,
            inputs,
            classes,
            pixels: data.test.pixels.ncols(),
            cap: config.eval.example_cap,
        };
        work.add(flops::sae_evaluation(
            &sizes,
            latents,
            proxies,
            train_encoded,
        ));
    };
    let evaluation_flops = |evaluation: &SaeEvaluation| {
        let per_latent = &evaluation.per_latent;
        eval_flops(
            &per_latent.stats,
            &evaluation.proxies,
            per_latent.train_encoded,
        );
    };
    let lambda_ne = config.sae.lambda_ne;
    let standard = stages.run("sae_standard", || {
        trained_sae(STANDARD, "sae-standard", SaeVariant::Standard, lambda_ne)
    })?;
    let ne = stages.run("sae_ne", || {
        trained_sae(NE, "sae-ne", SaeVariant::Ne, lambda_ne)
    })?;

    let models = SeedModels {
        mlp,
        saes: vec![standard, ne],
    };
    let test = test_hidden.view();
    let yardstick = Yardstick::new(config, data, &models.mlp, train_view, test, images);
    let evaluation = stages.run("eval", || {
        let evaluation = evaluate_seed(&yardstick, &models.saes, extras.train_scan)?;
        for (_, sae) in evaluation.saes.iter() {
            evaluation_flops(sae);
        }
        Ok(evaluation)
    })?;
    let curve = if extras.curve {
        stages.run("curve", || {
            config
                .curve
                .lambda_ne
                .par_iter()
                .map(|&lambda| {
                    let metrics = match curve_model(lambda, config.sae.lambda_ne) {
                        CurveModel::Standard => evaluation.saes[STANDARD].metrics,
                        CurveModel::Ne => evaluation.saes[NE].metrics,
                        CurveModel::Extra => {
                            let stem = format!("curve/{}", curve_model_stem(lambda));
                            let layer = trained_sae(&stem, &stem, SaeVariant::Ne, lambda)?;
                            let measured = yardstick.evaluate(&layer, TrainScan::DeadCounts)?;
                            evaluation_flops(&measured);
                            measured.metrics
                        }
                    };
                    Ok((lambda, metrics))
                })
                .collect::<anyhow::Result<Vec<_>>>()
        })?
    } else {
        Vec::new()
    };
    let run = seed_run(
        seed,
        &models,
        &evaluation,
        data,
        test_hidden.view(),
        stages.timing,
    )?;
    let run = SeedRun {
        flops: stages.flops,
        ..run
    };
    if source != ModelSource::Saved {
        write_atomic(&dir.join("run.json"), &serde_json::to_vec_pretty(&run)?)?;
    }
    Ok(SeedOutcome {
        run,
        models,
        evaluation,
        curve,
        train_hidden,
        test_hidden,
    })
}

/// What every SAE layer of a seed is measured against: its MLP, the test split, the training
/// set's activations (for the dead counts) and the config's options. Every SAE a run shows (its
/// own, the curve's, imported, the paper's released) is measured by one of its two methods,
/// with what the layer's training recorded of which latents fired when that is known.
#[derive(Clone, Copy)]
pub struct Yardstick<'a> {
    pub mlp: &'a Mlp,
    pub test: EvalSet<'a>,
    pub train_hidden: ArrayView2<'a, f32>,
    pub options: EvalOptions,
}

impl<'a> Yardstick<'a> {
    /// The run's yardstick for `mlp`: its test split (`test_hidden` are the MLP's activations of
    /// it, `images` its images, from `test_images`), the training activations `train_hidden`
    /// and the config's options.
    pub fn new(
        config: &Config,
        data: &'a Mnist,
        mlp: &'a Mlp,
        train_hidden: ArrayView2<'a, f32>,
        test_hidden: ArrayView2<'a, f32>,
        images: &'a UnitImages,
    ) -> Self {
        Yardstick {
            mlp,
            test: EvalSet {
                hidden: test_hidden,
                labels: data.test.labels.view(),
                images,
            },
            train_hidden,
            options: config.eval.options(),
        }
    }

    /// Every figure of `layer`, with as much of the training set's per-latent activity as
    /// `scan` keeps: `PerLatent` where the explorer shows it, `DeadCounts` where only tables
    /// read the result (the same metrics, bit for bit, from a scan that stops reading a latent
    /// once it is known to be alive).
    pub fn evaluate(&self, layer: &SaeLayer, scan: TrainScan) -> anyhow::Result<SaeEvaluation> {
        let training = layer.training.as_ref();
        let (test, train, options) = (self.test, self.train_hidden, self.options);
        Ok(evaluate_sae(
            self.mlp, &layer.sae, test, train, training, options, scan,
        )?)
    }
}

/// The test images as input coherence reads them, built once per run for every model measured
/// on them.
pub fn test_images(data: &Mnist) -> UnitImages {
    UnitImages::of(data.test.pixels.view())
}

/// Measures a seed's SAE layers, in parallel, and its MLP's neurons against `yardstick`; `scan`
/// as `Yardstick::evaluate`.
pub fn evaluate_seed(
    yardstick: &Yardstick,
    saes: &[SaeLayer],
    scan: TrainScan,
) -> anyhow::Result<SeedEvaluation> {
    let evaluations = saes
        .par_iter()
        .map(|layer| Ok((layer.key.clone(), yardstick.evaluate(layer, scan)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // Row by row (a column-wise count strides through the whole matrix once per neuron).
    let hidden = yardstick.train_hidden;
    let mlp_train_firing = activity(hidden, hidden.ncols(), |rows| rows.to_owned()).firing;
    Ok(SeedEvaluation {
        mlp_train_firing,
        mlp_proxies: mlp_unit_proxies(yardstick.mlp, yardstick.test),
        saes: evaluations.into_iter().collect(),
    })
}

/// The figures of `metrics.json` for one seed's measured models.
pub fn seed_run(
    seed: u64,
    models: &SeedModels,
    evaluation: &SeedEvaluation,
    data: &Mnist,
    test_hidden: ArrayView2<f32>,
    timing_s: BTreeMap<String, f64>,
) -> anyhow::Result<SeedRun> {
    let accuracy = models
        .mlp
        .accuracy_from_hidden(test_hidden, data.test.labels.view())?;
    Ok(SeedRun {
        seed,
        mlp_test_accuracy: f64::from(accuracy),
        mlp: Table4::of(&evaluation.mlp_proxies),
        saes: evaluation.saes.map(|e| e.metrics),
        timing_s,
        flops: BTreeMap::new(),
    })
}

/// The explorer's heading of a run's own SAE.
pub fn title_of(variant: SaeVariant) -> &'static str {
    match variant {
        SaeVariant::Standard => "Standard SAE",
        SaeVariant::Ne => "SAE + NE loss",
    }
}

/// Trains the MLP of `seed`, logging one line per epoch.
pub fn train_mlp(config: &Config, data: &Mnist, seed: u64, log: Log) -> anyhow::Result<Mlp> {
    let trained = ne_models::train_mlp(
        &config.mlp,
        ne_mnist::CLASSES,
        seed,
        data.train.images.view(),
        data.train.labels.view(),
        &mut |p| {
            if let Some(epoch) = &p.epoch_end {
                log(&format!(
                    "seed {seed}: mlp epoch {}/{}: {epoch}",
                    p.epoch + 1,
                    p.epochs
                ));
            }
        },
    );
    let (mlp, _history) = trained.with_context(|| format!("seed {seed}: training the MLP"))?;
    Ok(mlp)
}

/// Trains one SAE variant of `seed` on `hidden`, logging its final loss parts; returns it with
/// what its training recorded of which latents fired.
pub fn train_sae(
    config: &Config,
    variant: SaeVariant,
    seed: u64,
    hidden: ArrayView2<f32>,
    log: Log,
) -> anyhow::Result<(Sae, TrainingFiring)> {
    let fresh = SaeTraining::new(&config.sae, seed, hidden)
        .with_context(|| format!("seed {seed}: training the {} SAE", variant.name()))?;
    let (_, sae, firing) = continue_sae(config, variant, seed, fresh, hidden, log)?;
    Ok((sae, firing))
}

/// `train_sae` from a run already started (`from`, with no NE step missed); also returns the
/// run at its end, before it became the SAE, for the FLOP count.
fn continue_sae(
    config: &Config,
    variant: SaeVariant,
    seed: u64,
    from: SaeTraining,
    hidden: ArrayView2<f32>,
    log: Log,
) -> anyhow::Result<(SaeTraining, Sae, TrainingFiring)> {
    let name = variant.name();
    let context = || format!("seed {seed}: training the {name} SAE");
    let mut training = from
        .continue_as(variant, hidden)
        .with_context(context)?
        .with_lambda_ne(config.sae.lambda_ne);
    training
        .run_until(usize::MAX, hidden, &mut |_| {})
        .with_context(context)?;
    let ended = training.clone();
    let (sae, history) = training.finish().with_context(context)?;
    if let Some(epoch) = history.epochs.last() {
        let lambda = config.sae.lambda_ne;
        let at = if variant == SaeVariant::Ne {
            format!(" (λ_NE {lambda})")
        } else {
            String::new()
        };
        log(&format!("seed {seed}: sae {name}{at}: {epoch}"));
    }
    Ok((ended, sae, history.firing))
}

/// FLOPs of the steps of `training` after those of `from` (all of them without), every one
/// with the NE loss on when `ne`.
fn sae_flops(
    config: &ne_models::SaeConfig,
    training: &SaeTraining,
    from: Option<&SaeTraining>,
    ne: bool,
) -> f64 {
    let pairs = |t: &SaeTraining| t.firing().whole_run.iter().sum::<u64>();
    let (examples_before, pairs_before) = from.map_or((0, 0), |f| (f.examples_seen(), pairs(f)));
    let examples = training.examples_seen() - examples_before;
    let new_pairs = pairs(training) - pairs_before;
    let inputs = training.inputs();
    flops::sae_training(
        config,
        inputs,
        examples,
        new_pairs,
        if ne { new_pairs } else { 0 },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder whose test files hold no example is refused, naming the folder and the file.
    #[test]
    fn an_empty_test_set_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let shipped = ne_shipped::mnist_dir();
        for entry in std::fs::read_dir(&shipped).unwrap() {
            let entry = entry.unwrap();
            if entry.file_name().to_string_lossy().starts_with("train-") {
                std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
            }
        }
        let empty = |magic: u32, dims: usize| {
            let mut bytes = magic.to_be_bytes().to_vec();
            bytes.extend([0u32, 28, 28][..dims].iter().flat_map(|n| n.to_be_bytes()));
            bytes
        };
        std::fs::write(
            dir.path().join("t10k-images-idx3-ubyte"),
            empty(ne_mnist::IMAGES_MAGIC, 3),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("t10k-labels-idx1-ubyte"),
            empty(ne_mnist::LABELS_MAGIC, 1),
        )
        .unwrap();
        let config = DataConfig {
            dir: dir.path().to_owned(),
            ..Config::paper().data
        };
        let error = format!("{:#}", load_data(&config).unwrap_err());
        assert!(
            error.contains("t10k-images-idx3-ubyte") && error.contains("hold no image"),
            "{error}"
        );
    }

    #[test]
    fn a_failed_checksum_says_how_to_load_other_files() {
        let checksum = MnistError::Checksum {
            path: PathBuf::from("data/mnist/t10k-labels-idx1-ubyte.gz"),
            expected: "ff".into(),
            actual: "00".into(),
        };
        let text = format!("{:#}", with_checksum_advice(checksum));
        assert!(
            text.contains("[data] dir") && text.contains("--dir"),
            "{text}"
        );
        assert!(!text.contains("Checksums::Skip"), "{text}");
        let missing = MnistError::NotFound {
            gz: PathBuf::from("x.gz"),
            plain: PathBuf::from("x"),
        };
        assert!(!format!("{:#}", with_checksum_advice(missing)).contains("[data] dir"));
    }
}
