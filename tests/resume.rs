//! Run folders under faults, end to end: a run interrupted at any point and resumed gives the
//! same metrics and byte-identical models as a clean run; models another config made are never
//! reused; a folder serves one run at a time; bad configs and misfit models are refused before
//! any work.
mod common;

use common::{copy_dir, small_config};
use ndarray::{Array1, Array2};
use neuron_embeddings::experiment::explore::explore_from;
use neuron_embeddings::experiment::outputs::MANIFEST_FILE;
use neuron_embeddings::experiment::store::{LOCK_FILE, RunFolder, Stamp};
use neuron_embeddings::experiment::{Config, ReproduceOptions, reproduce};
use neuron_embeddings::models::{Linear, Mlp, Sae};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The small end-to-end config, with a λ_NE curve that has one SAE of its own (λ_NE = 30).
fn config() -> Config {
    let mut config = small_config();
    config.curve.lambda_ne = vec![0.0, 30.0, config.sae.lambda_ne];
    config
}

const SEEDS: [u64; 2] = [0, 1];
/// Every model a run of `config()` writes per seed.
const MODELS: [&str; 4] = ["mlp", "sae-standard", "sae-ne", "curve/sae-ne-lambda-30"];

/// `metrics.json` without the timings, which are all that may differ between identical runs,
/// and the log.
fn run(config: &Config, out: &Path, resume: bool) -> anyhow::Result<(Value, Vec<String>)> {
    let lines = Mutex::new(Vec::new());
    let log = |line: &str| lines.lock().unwrap().push(line.to_owned());
    let options = ReproduceOptions {
        seeds: SEEDS.to_vec(),
        out: out.to_owned(),
        resume,
        explorer: true,
        export_activations: false,
        curve: true,
        force: false,
    };
    reproduce(config, &options, &log)?;
    let read = |file: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(out.join(file)).unwrap()).unwrap()
    };
    let mut metrics = read("metrics.json");
    // The work a run did (its timings and FLOP counts) differs when it reuses models; the
    // paper's released models are measured again by every run, resumed or not.
    let forget = |run: &mut Value| {
        let run = run.as_object_mut().unwrap();
        run.remove("timing_s");
        run.remove("flops");
    };
    metrics["runs"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .for_each(forget);
    if metrics["paper_models"].is_object() {
        forget(&mut metrics["paper_models"]);
    }
    let measured = serde_json::json!({"metrics": metrics, "curve": read("curve/curve.json")});
    Ok((measured, lines.into_inner().unwrap()))
}

fn model_path(out: &Path, seed: u64, model: &str) -> PathBuf {
    out.join(format!("seed-{seed}/{model}.safetensors"))
}

/// Every file under `dir`, relative to it.
fn files(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            found.extend(files(&path).into_iter().map(|f| format!("{name}/{f}")));
        } else {
            found.push(name);
        }
    }
    found.sort();
    found
}

/// Removes every file under `out` but those `keep` accepts (paths relative to `out`) and the
/// list of the files runs wrote, which a run keeps up to date whenever it is interrupted.
fn retain(out: &Path, keep: fn(&str) -> bool) {
    for file in files(out) {
        if !keep(&file) && file != MANIFEST_FILE {
            std::fs::remove_file(out.join(file)).unwrap();
        }
    }
}

fn remove(out: &Path, files: &[&str]) {
    for file in files {
        let path = out.join(file);
        if path.is_dir() {
            std::fs::remove_dir_all(path).unwrap();
        } else {
            std::fs::remove_file(path).unwrap();
        }
    }
}

#[test]
fn a_run_resumed_from_any_interruption_equals_a_clean_run() {
    let root = tempfile::tempdir().unwrap();
    let config = config();
    let clean = root.path().join("clean");
    let (expected, _) = run(&config, &clean, false).unwrap();
    let expected_models: Vec<Vec<u8>> = SEEDS
        .iter()
        .flat_map(|&seed| {
            MODELS.map(|model| std::fs::read(model_path(&clean, seed, model)).unwrap())
        })
        .collect();
    let mut other = config.clone();
    other.data.train_limit = 2000;
    let other_run = root.path().join("other");
    run(&other, &other_run, false).unwrap();

    // Each case: where its folder comes from, how the interruption left it, and which models
    // must have been reused.
    type Edit = fn(&Path, &Path);
    let cases: [(&str, &Path, Edit, &[&str]); 7] = [
        (
            "after the first model",
            &clean,
            |out, _| retain(out, |file| file == "seed-0/mlp.safetensors"),
            &["seed-0/mlp"],
        ),
        (
            "in the middle of the second seed",
            &clean,
            |out, _| {
                retain(out, |file| {
                    file.starts_with("seed-0/") || file == "seed-1/mlp.safetensors"
                })
            },
            &[
                "seed-0/mlp",
                "seed-0/sae-standard",
                "seed-0/sae-ne",
                "seed-0/curve/sae-ne-lambda-30",
                "seed-1/mlp",
            ],
        ),
        (
            "while writing a model and the explorer",
            &clean,
            |out, _| {
                remove(out, &["metrics.json", "report.md"]);
                let model = out.join("seed-1/sae-ne.safetensors");
                let bytes = std::fs::read(&model).unwrap();
                std::fs::write(&model, &bytes[..bytes.len() / 2]).unwrap();
                std::fs::write(out.join("seed-1/.partial-Ab12Cd"), &bytes[..100]).unwrap();
                std::fs::write(out.join("explorer/.pixels.js.99999.tmp"), "window.NE_PIX").unwrap();
            },
            &["seed-0/mlp", "seed-1/sae-standard"],
        ),
        (
            "after the models, before the summary",
            &clean,
            |out, _| retain(out, |file| file.starts_with("seed-")),
            &[
                "seed-0/sae-ne",
                "seed-1/sae-ne",
                "seed-1/curve/sae-ne-lambda-30",
            ],
        ),
        (
            "after another config's run wrote a training record",
            &clean,
            |out, _| {
                let record = "seed-1/sae-ne.training.json";
                std::fs::write(out.join(record), "{\"from\": \"another run\"}").unwrap();
            },
            &["seed-1/mlp", "seed-1/sae-standard"],
        ),
        (
            "a finished run of another config",
            &other_run,
            |_, _| {},
            &[],
        ),
        (
            "this config started over another config's run",
            &other_run,
            |out, clean| {
                std::fs::copy(model_path(clean, 0, "mlp"), model_path(out, 0, "mlp")).unwrap();
            },
            &["seed-0/mlp"],
        ),
    ];
    for (when, from, edit, reused) in cases {
        let out = root.path().join(when.replace(' ', "-"));
        copy_dir(from, &out);
        edit(&out, &clean);
        let (resumed, log) = run(&config, &out, true).unwrap_or_else(|e| panic!("{when}: {e:#}"));
        assert_eq!(resumed, expected, "{when}: metrics differ");
        let models: Vec<Vec<u8>> = SEEDS
            .iter()
            .flat_map(|&seed| {
                MODELS.map(|model| std::fs::read(model_path(&out, seed, model)).unwrap())
            })
            .collect();
        assert!(models == expected_models, "{when}: models differ");
        let loaded: Vec<&String> = log
            .iter()
            .filter(|l| l.contains("resuming: loaded"))
            .collect();
        for model in reused {
            assert!(
                loaded
                    .iter()
                    .any(|l| l.contains(&format!("{model}.safetensors"))),
                "{when}: {model} not reused: {log:#?}"
            );
        }
        if from == other_run.as_path() {
            assert!(
                log.iter().any(|l| l.contains("not by this run's config")),
                "{when}: {log:#?}"
            );
        }
        assert_eq!(
            files(&out),
            files(&clean),
            "{when}: leftovers or missing files"
        );
    }
}

#[test]
fn a_folder_serves_one_run_at_a_time_and_a_stale_lock_is_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let quiet = |_: &str| {};
    let held = RunFolder::open(&out, &quiet).unwrap();
    let error = run(&config(), &out, false).unwrap_err().to_string();
    let pid = std::process::id();
    assert!(
        error.contains("is in use by another run") && error.contains(&format!("process {pid}")),
        "{error}"
    );
    assert_eq!(files(&out), [LOCK_FILE], "the refused run wrote nothing");
    drop(held);
    assert!(files(&out).is_empty(), "the lock file goes with the lock");

    // A lock file whose process ended without removing it holds no lock: taken over, then gone.
    std::fs::write(out.join(LOCK_FILE), "4000000").unwrap();
    let (_, log) = run(&config(), &out, false).unwrap();
    assert!(
        log.iter()
            .any(|l| l.contains("the run of process 4000000 ended without releasing it")),
        "{log:#?}"
    );
    assert!(!out.join(LOCK_FILE).exists());
}

/// A model file whose stamp says it is this run's but whose shapes do not fit the data or the
/// other models: resuming trains it again, showing a saved run refuses it, naming the file, the
/// tensor and both shapes.
#[test]
fn misfit_models_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let config = config();
    run(&config, &out, false).unwrap();
    let clean_metrics = std::fs::read(out.join("metrics.json")).unwrap();
    let stamped = |model: &str, bytes: Vec<u8>| {
        let stamp = Stamp {
            config: config.digest(),
            data: "shipped".to_owned(),
            seed: 0,
            model: model.to_owned(),
            record: None,
            weights: format!("{:x}", Sha256::digest(&bytes)),
        };
        std::fs::write(model_path(&out, 0, model), stamp.apply(&bytes)).unwrap();
    };
    let linear = |outputs, inputs| Linear {
        weight: Array2::zeros((outputs, inputs)),
        bias: Array1::zeros(outputs),
    };
    let mlp = |inputs, hidden, classes| Mlp {
        fc1: linear(hidden, inputs),
        fc2: linear(classes, hidden),
    };
    let sae = |inputs, latents| Sae {
        w_enc: Array2::zeros((latents, inputs)),
        b_enc: Array1::zeros(latents),
        w_dec: Array2::zeros((inputs, latents)),
        b_dec: Array1::zeros(inputs),
    };
    let quiet = |_: &str| {};
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "mlp",
            mlp(100, 64, 10).to_safetensors(),
            "`fc1.weight` has shape [64, 100], expected [64, 784]",
        ),
        (
            "mlp",
            mlp(784, 32, 10).to_safetensors(),
            "`fc1.weight` has shape [32, 784], expected [64, 784]",
        ),
        (
            "mlp",
            mlp(784, 64, 5).to_safetensors(),
            "`fc2.weight` has shape [5, 64], expected [10, 64]",
        ),
        (
            "sae-ne",
            sae(32, 512).to_safetensors(),
            "`W_enc` has shape [512, 32], expected [512, 64]",
        ),
    ];
    for (model, bytes, shapes) in cases {
        let good = std::fs::read(model_path(&out, 0, model)).unwrap();
        stamped(model, bytes);
        let error = format!("{:#}", explore_from(&out, Some(0), &quiet).unwrap_err());
        let file = format!("seed-0/{model}.safetensors");
        assert!(error.contains(&file) && error.contains(shapes), "{error}");
        std::fs::write(model_path(&out, 0, model), good).unwrap();
    }

    // Resuming over the misfit MLP trains it again and gets the clean run's numbers; it says
    // so, and does not claim to have loaded it.
    stamped("mlp", mlp(100, 64, 10).to_safetensors());
    let (_, log) = run(&config, &out, true).unwrap();
    assert!(
        log.iter()
            .any(|l| l.contains("not reusing") && l.contains("[64, 100]")),
        "{log:#?}"
    );
    assert!(
        !log.iter()
            .any(|l| l.contains("resuming: loaded") && l.contains("seed-0/mlp")),
        "{log:#?}"
    );
    // Showing the run reads and resumes nothing, and refuses a config that is not valid.
    let lines = Mutex::new(Vec::new());
    let log = |line: &str| lines.lock().unwrap().push(line.to_owned());
    explore_from(&out, Some(1), &log).unwrap();
    assert!(
        lines
            .lock()
            .unwrap()
            .iter()
            .all(|l| !l.contains("resuming"))
    );
    let metrics = out.join("metrics.json");
    let text = std::fs::read_to_string(&metrics).unwrap();
    let cap = "\"example_cap\": 100";
    assert!(text.contains(cap));
    std::fs::write(&metrics, text.replace(cap, "\"example_cap\": 1")).unwrap();
    let error = format!("{:#}", explore_from(&out, Some(1), &quiet).unwrap_err());
    assert!(
        error.contains("its config is not valid") && error.contains("example_cap"),
        "{error}"
    );
    std::fs::write(&metrics, text).unwrap();

    let resumed: Value =
        serde_json::from_slice(&std::fs::read(out.join("metrics.json")).unwrap()).unwrap();
    let clean: Value = serde_json::from_slice(&clean_metrics).unwrap();
    assert_eq!(resumed["summary"], clean["summary"]);
}

/// Models trained on examples from a folder of the user's are tied to those examples: once a
/// training label changes, resuming trains every model again.
#[test]
fn models_of_changed_training_data_are_trained_again() {
    let dir = tempfile::tempdir().unwrap();
    let mnist = dir.path().join("mnist");
    std::fs::create_dir_all(&mnist).unwrap();
    let shipped = neuron_embeddings::shipped::mnist_dir();
    for entry in std::fs::read_dir(&shipped).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), mnist.join(entry.file_name())).unwrap();
    }
    let mut config = config();
    config.data.dir = mnist.clone();
    let out = dir.path().join("run");
    run(&config, &out, false).unwrap();
    let reused = |log: &[String]| {
        log.iter()
            .filter(|l| l.contains("resuming: loaded"))
            .count()
    };
    let (_, log) = run(&config, &out, true).unwrap();
    assert_eq!(reused(&log), SEEDS.len() * MODELS.len(), "{log:#?}");

    let labels = mnist.join("train-labels-idx1-ubyte.gz");
    let mut idx =
        neuron_embeddings::mnist::decompress(std::fs::read(&labels).unwrap(), &labels).unwrap();
    idx[8] = (idx[8] + 1) % 10;
    std::fs::remove_file(&labels).unwrap();
    std::fs::write(mnist.join("train-labels-idx1-ubyte"), idx).unwrap();
    let (_, log) = run(&config, &out, true).unwrap();
    assert_eq!(reused(&log), 0, "{log:#?}");
    assert!(
        log.iter()
            .any(|l| l.contains("not reusing") && l.contains("seed-0/mlp")),
        "{log:#?}"
    );
}

/// A run that diverges says which model of which seed did.
#[test]
fn a_diverging_run_names_the_model_and_the_seed() {
    let dir = tempfile::tempdir().unwrap();
    let quiet = |_: &str| {};
    let diverging = |edit: fn(&mut Config)| {
        let mut config = config();
        edit(&mut config);
        let options = ReproduceOptions {
            seeds: vec![1],
            out: dir.path().join("diverged"),
            resume: false,
            explorer: false,
            export_activations: false,
            curve: false,
            force: false,
        };
        format!("{:#}", reproduce(&config, &options, &quiet).unwrap_err())
    };
    let error = diverging(|c| c.mlp.learning_rate = 1e30);
    assert!(
        error.contains("seed 1: training the MLP: ") && error.contains("non-finite"),
        "{error}"
    );
    let error = diverging(|c| c.sae.learning_rate = 1e30);
    assert!(
        error.contains("seed 1: training the SAEs' shared steps: ") && error.contains("non-finite"),
        "{error}"
    );
}

/// Configs that cannot give the run they describe fail before anything trains or is written.
#[test]
fn impossible_configs_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never");
    let refused = |edit: fn(&mut Config)| {
        let mut config = config();
        edit(&mut config);
        let error = format!("{:#}", run(&config, &out, false).unwrap_err());
        assert!(!out.exists(), "nothing written: {error}");
        error
    };
    let error = refused(|c| c.curve.lambda_ne.clear());
    assert!(error.contains("[curve] lambda_ne is empty"), "{error}");
    // 3,000 examples in batches of 128 are 24 steps: an NE loss from step 24 never switches on.
    let error = refused(|c| c.sae.ne_start_step = 24);
    assert!(
        error.contains("sae.ne_start_step is 24") && error.contains("only 24 steps"),
        "{error}"
    );
    // The memory the machine has is known on Linux.
    if cfg!(target_os = "linux") {
        let error = refused(|c| c.sae.latents = 1_000_000_000);
        assert!(error.contains("GB of memory"), "{error}");
        let error = refused(|c| c.mlp.hidden = 30_000_000);
        assert!(error.contains("GB of memory"), "{error}");
    }
}

/// A folder never holds the outputs of two runs: a new run clears what the last one wrote and
/// it does not write (other seeds, the curve, the explorer, activations), before it trains, so
/// that an interrupted run leaves no old report beside its new models; files runs did not write
/// stay. A folder of outputs with no list of them is refused unless forced.
#[test]
fn a_new_run_leaves_no_outputs_of_the_last_beside_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let quiet = |_: &str| {};
    let options = |out: &Path, seeds: Vec<u64>, everything: bool, force: bool| ReproduceOptions {
        seeds,
        out: out.to_owned(),
        resume: false,
        explorer: everything,
        export_activations: everything,
        curve: everything,
        force,
    };
    reproduce(&config(), &options(&out, vec![0, 1], true, false), &quiet).unwrap();
    let users = [
        "notes.txt",
        "seed-1/my-notes.txt",
        "explorer/mine.html",
        "curve/draft.md",
        "seed-0/.partial-draft.txt",
    ];
    for file in users {
        std::fs::write(out.join(file), "mine").unwrap();
    }
    let mut smaller = config();
    smaller.sae.lambda_ne = 100.0;
    reproduce(&smaller, &options(&out, vec![0], false, false), &quiet).unwrap();
    let fresh = dir.path().join("fresh");
    reproduce(&smaller, &options(&fresh, vec![0], false, false), &quiet).unwrap();
    let mut expected = files(&fresh);
    expected.extend(users.iter().map(|f| f.to_string()));
    expected.sort();
    assert_eq!(files(&out), expected);

    // Interrupted after the MLP (here by a diverging SAE): no summary of the last run is left.
    let mut diverging = config();
    diverging.sae.learning_rate = 1e30;
    reproduce(&diverging, &options(&out, vec![0], true, false), &quiet).unwrap_err();
    let left = files(&out);
    for gone in [
        "metrics.json",
        "report.md",
        "seed-0/run.json",
        "seed-0/saelens/ne/cfg.json",
    ] {
        assert!(!left.contains(&gone.to_owned()), "{gone}: {left:#?}");
    }
    assert!(left.contains(&"seed-0/mlp.safetensors".to_owned()));
    for file in users {
        assert_eq!(std::fs::read_to_string(out.join(file)).unwrap(), "mine");
    }

    // Without the list, the outputs cannot be told from the user's files: refused, unless
    // forced, which clears the run's entries (the user's files beside them stay).
    std::fs::remove_file(out.join(MANIFEST_FILE)).unwrap();
    let error = format!(
        "{:#}",
        reproduce(&smaller, &options(&out, vec![0], false, false), &quiet).unwrap_err()
    );
    assert!(
        error.contains(MANIFEST_FILE) && error.contains("--force"),
        "{error}"
    );
    let unlisted: Vec<String> = left.into_iter().filter(|f| f != MANIFEST_FILE).collect();
    assert_eq!(files(&out), unlisted);
    reproduce(&smaller, &options(&out, vec![0], false, true), &quiet).unwrap();
    let mut expected = files(&fresh);
    expected.push("notes.txt".to_owned());
    expected.sort();
    assert_eq!(files(&out), expected);
}
