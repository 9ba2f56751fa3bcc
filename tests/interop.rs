//! Interop end to end: a small run's SAEs in SAELens's layout and its activations as `.npy`,
//! read back by `evaluate`, by `export --from`, and (when `NE_PYTHON` names a Python with numpy
//! and safetensors, as `.ci/run` sets it) by Python.
mod common;

use common::{copy_dir, small_config};
use ndarray::s;
use ndarray_npy::read_npy;
use neuron_embeddings::experiment::explore::explore_from;
use neuron_embeddings::experiment::interop::{self, EvaluateOptions};
use neuron_embeddings::experiment::pipeline::load_data;
use neuron_embeddings::experiment::{ReproduceOptions, reproduce};
use neuron_embeddings::models::{Mlp, Sae, saelens};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock};

/// The Python the check runs with; `.ci/run` points it at a virtual environment.
const PYTHON_VAR: &str = "NE_PYTHON";
/// Test images whose latents Python reproduces.
const PYTHON_ROWS: usize = 100;

/// One run with activations, shared by the tests of this file (made once, on first use).
fn run_dir() -> &'static Path {
    static RUN: OnceLock<PathBuf> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("interop-run");
        let _ = std::fs::remove_dir_all(&dir);
        let options = ReproduceOptions {
            seeds: vec![0, 1],
            out: dir.clone(),
            resume: false,
            explorer: false,
            export_activations: true,
            curve: false,
            force: false,
        };
        reproduce(&small_config(), &options, &|_: &str| {}).expect("the pipeline runs");
        dir
    })
}

/// `evaluate` and `explore` lock the run's folder while they write into it, and refuse a folder
/// that is in use, as from two shells at once; the tests that run them on the shared run take
/// turns.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&text).unwrap()
}

fn our_sae(seed: u64, variant: &str) -> Sae {
    let path = run_dir().join(format!("seed-{seed}/sae-{variant}.safetensors"));
    Sae::from_safetensors(&std::fs::read(path).unwrap()).unwrap()
}

fn our_mlp(seed: u64) -> Mlp {
    let path = run_dir().join(format!("seed-{seed}/mlp.safetensors"));
    Mlp::from_safetensors(&std::fs::read(path).unwrap()).unwrap()
}

fn quiet(_: &str) {}

#[test]
fn exported_saes_are_in_saelens_layout_with_their_provenance() {
    let config = small_config();
    for seed in [0u64, 1] {
        for (variant, lambda_ne) in [("standard", 0.0), ("ne", 1000.0)] {
            let folder = run_dir().join(format!("seed-{seed}/saelens/{variant}"));
            let cfg = read_json(&folder.join("cfg.json"));
            assert_eq!(cfg["architecture"], "standard");
            assert_eq!(
                (cfg["d_in"].as_u64(), cfg["d_sae"].as_u64()),
                (Some(64), Some(512))
            );
            assert_eq!(cfg["dtype"], "float32");
            assert_eq!(cfg["apply_b_dec_to_input"], true);
            assert_eq!(cfg["normalize_activations"], "none");
            assert_eq!(cfg["metadata"]["sae_lens_version"], saelens::LAYOUT_VERSION);
            let record = &cfg["metadata"][interop::PROVENANCE_KEY];
            assert_eq!(record["seed"], seed);
            assert_eq!(record["variant"], variant);
            assert_eq!(record["lambda_l1"], 3.0);
            assert_eq!(record["lambda_ne"], lambda_ne);
            assert_eq!(record["config_digest"], config.digest());
            assert_eq!(*record, read_json(&folder.join("provenance.json")));
            // Export then import gives back exactly the SAE the run saved in our own format.
            assert_eq!(saelens::read(&folder).unwrap().sae, our_sae(seed, variant));
        }
    }

    let data = load_data(&config.data).unwrap();
    let activations = run_dir().join("seed-1/activations");
    let test_hidden: ndarray::Array2<f32> = read_npy(activations.join("test_hidden.npy")).unwrap();
    let train_hidden: ndarray::Array2<f32> =
        read_npy(activations.join("train_hidden.npy")).unwrap();
    let mlp = our_mlp(1);
    assert_eq!(test_hidden.dim(), (1000, 64));
    assert_eq!(test_hidden, mlp.hidden(data.test.images.view()));
    assert_eq!(train_hidden, mlp.hidden(data.train.images.view()));
    let labels: ndarray::Array1<u8> = read_npy(activations.join("test_labels.npy")).unwrap();
    assert_eq!(labels, data.test.labels);
    let labels: ndarray::Array1<u8> = read_npy(activations.join("train_labels.npy")).unwrap();
    assert_eq!(labels, data.train.labels);
    let record = read_json(&activations.join("provenance.json"));
    assert_eq!(record["seed"], 1);
    assert!(
        record["arrays"]["train_hidden.npy"]
            .as_str()
            .unwrap()
            .contains("[3000, 64]")
    );
}

/// `export --from` on a copy of the run holding only what a run made before exports had.
#[test]
fn export_from_writes_what_the_run_wrote() {
    let old = tempfile::tempdir().unwrap();
    std::fs::copy(
        run_dir().join("metrics.json"),
        old.path().join("metrics.json"),
    )
    .unwrap();
    for seed in ["seed-0", "seed-1"] {
        std::fs::create_dir(old.path().join(seed)).unwrap();
        for file in [
            "run.json",
            "mlp.safetensors",
            "sae-standard.safetensors",
            "sae-standard.training.json",
            "sae-ne.safetensors",
            "sae-ne.training.json",
        ] {
            let (from, to) = (run_dir().join(seed), old.path().join(seed));
            std::fs::copy(from.join(file), to.join(file)).unwrap();
        }
    }
    let written = interop::export_from(old.path(), true, &quiet).unwrap();
    assert_eq!(written.len(), 6, "{written:?}");
    for folder in written {
        let relative = folder.strip_prefix(old.path()).unwrap();
        let count = |dir: &Path| std::fs::read_dir(dir).unwrap().count();
        assert_eq!(count(&folder), count(&run_dir().join(relative)));
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            let original = run_dir().join(relative).join(path.file_name().unwrap());
            assert_eq!(
                std::fs::read(&path).unwrap(),
                std::fs::read(&original).unwrap(),
                "{}",
                path.display()
            );
        }
    }
}

/// The explorer's data file of the run.
fn explorer_data() -> String {
    std::fs::read_to_string(run_dir().join("explorer/data.js")).unwrap()
}

#[test]
fn evaluate_measures_an_exported_sae_as_the_run_did_and_shows_it() {
    let _turn = one_at_a_time();
    let options = EvaluateOptions {
        run: run_dir().to_owned(),
        sae: run_dir().join("seed-1/saelens/ne"),
        key: Some("ne-copy".into()),
        seed: Some(1),
    };
    let done = interop::evaluate(&options, &quiet).unwrap();
    let metrics = read_json(&run_dir().join("metrics.json"));
    let seed_1 = &metrics["runs"][1];
    let as_json = |m| serde_json::to_value(m).unwrap();
    // Every figure the run gave its NE SAE, except those only its training record can tell.
    let mut expected = seed_1["ne"].clone();
    for training_only in ["dead_training_pct", "dead_late_pct"] {
        assert!(expected[training_only].is_number(), "{training_only}");
        expected[training_only] = Value::Null;
    }
    let keys: Vec<&str> = done.saes.keys().collect();
    assert_eq!(keys, ["standard", "ne", "ne-copy"]);
    assert_eq!(as_json(done.saes["ne-copy"]), expected);
    assert_eq!(as_json(done.saes["standard"]), seed_1["standard"]);
    assert_ne!(done.saes["ne-copy"], done.saes["standard"]);
    let record = read_json(&done.saved.join(interop::EVALUATION_FILE));
    assert_eq!(
        (&record["key"], &record["seed"]),
        (&"ne-copy".into(), &1.into())
    );
    assert_eq!(record["metrics"], expected);
    let table = done.table();
    assert!(
        table.contains("| ne-copy |") && table.contains("| mse |"),
        "{table}"
    );
    assert!(explorer_data().contains("\"key\":\"ne-copy\""));

    let mut files: Vec<_> = std::fs::read_dir(&done.saved)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            saelens::CFG_FILE,
            interop::EVALUATION_FILE,
            saelens::WEIGHTS_FILE
        ]
    );
    let imported = run_dir().join(interop::IMPORTED_DIR);
    let mut folders: Vec<_> = std::fs::read_dir(&imported)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    assert_eq!(folders, ["ne-copy"], "no unfinished folders left");

    // The explorer of the same seed keeps it, and leaves out with a word what is not an
    // imported SAE: a folder of the user's, one with only the weights, an unfinished one.
    std::fs::create_dir_all(imported.join("notes")).unwrap();
    std::fs::create_dir_all(imported.join("half")).unwrap();
    std::fs::copy(
        done.saved.join(saelens::WEIGHTS_FILE),
        imported.join("half").join(saelens::WEIGHTS_FILE),
    )
    .unwrap();
    std::fs::create_dir_all(imported.join(".partial-other")).unwrap();
    let lines = std::sync::Mutex::new(Vec::new());
    let log = |line: &str| lines.lock().unwrap().push(line.to_owned());
    explore_from(run_dir(), Some(1), &log).unwrap();
    assert!(explorer_data().contains("\"title\":\"ne-copy (imported)\""));
    let lines = lines.into_inner().unwrap();
    for skipped in ["imported/notes", "imported/half"] {
        assert!(
            lines
                .iter()
                .any(|l| l.contains(skipped) && l.contains("not an SAE `evaluate` brought in")),
            "{lines:?}"
        );
    }
    for folder in ["notes", "half", ".partial-other"] {
        std::fs::remove_dir_all(imported.join(folder)).unwrap();
    }
    let lines = std::sync::Mutex::new(Vec::new());
    let log = |line: &str| lines.lock().unwrap().push(line.to_owned());
    explore_from(run_dir(), Some(0), &log).unwrap();
    assert!(!explorer_data().contains("ne-copy"));
    assert!(
        lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("leaving out")),
        "{lines:?}"
    );
}

/// `reproduce --resume` over a run with an imported SAE keeps it in the explorer when it was
/// measured against the seed shown, and says so when it leaves one out.
#[test]
fn a_resumed_run_keeps_its_imported_saes_in_the_explorer() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    {
        let _turn = one_at_a_time();
        copy_dir(run_dir(), &out);
    }
    for (seed, key) in [(0, "kept"), (1, "other-seed")] {
        let options = EvaluateOptions {
            run: out.clone(),
            sae: out.join(format!("seed-{seed}/saelens/ne")),
            key: Some(key.into()),
            seed: Some(seed),
        };
        interop::evaluate(&options, &quiet).unwrap();
    }
    let lines = Mutex::new(Vec::new());
    let log = |line: &str| lines.lock().unwrap().push(line.to_owned());
    let options = ReproduceOptions {
        seeds: vec![0, 1],
        out: out.clone(),
        resume: true,
        explorer: true,
        export_activations: true,
        curve: false,
        force: false,
    };
    reproduce(&small_config(), &options, &log).unwrap();
    let data = std::fs::read_to_string(out.join("explorer/data.js")).unwrap();
    assert!(data.contains("\"key\":\"kept\""));
    assert!(!data.contains("other-seed"));
    let lines = lines.into_inner().unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("leaving out") && l.contains("imported/other-seed")),
        "{lines:?}"
    );
}

#[test]
fn evaluate_refuses_what_it_cannot_measure_before_any_work() {
    let _turn = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let evaluate = |sae: &Path, key: Option<&str>| {
        let options = EvaluateOptions {
            run: run_dir().to_owned(),
            sae: sae.to_owned(),
            key: key.map(str::to_owned),
            seed: None,
        };
        format!("{:#}", interop::evaluate(&options, &quiet).unwrap_err())
    };
    let exported = run_dir().join("seed-0/saelens/standard");
    let taken = evaluate(&exported, None);
    assert!(taken.contains("\"standard\" is taken"), "{taken}");
    let reserved = evaluate(&exported, Some("mlp"));
    assert!(reserved.contains("reserved for the MLP"), "{reserved}");

    let narrow = dir.path().join("narrow");
    let sae = Sae {
        w_enc: ndarray::Array2::ones((8, 32)),
        b_enc: ndarray::Array1::zeros(8),
        w_dec: ndarray::Array2::ones((32, 8)),
        b_dec: ndarray::Array1::zeros(32),
    };
    let files = saelens::files(&sae, &serde_json::Map::new());
    std::fs::create_dir_all(&narrow).unwrap();
    std::fs::write(narrow.join(saelens::CFG_FILE), &files.cfg_json).unwrap();
    std::fs::write(narrow.join(saelens::WEIGHTS_FILE), &files.weights).unwrap();
    let message = evaluate(&narrow, None);
    assert!(
        message.contains("`d_in` is 32") && message.contains("64 hidden units"),
        "{message}"
    );

    let mut cfg: Value = serde_json::from_slice(&files.cfg_json).unwrap();
    cfg["architecture"] = "jumprelu".into();
    std::fs::write(narrow.join(saelens::CFG_FILE), cfg.to_string()).unwrap();
    let message = evaluate(&narrow, None);
    assert!(
        message.contains("narrow/cfg.json: `architecture` is \"jumprelu\""),
        "{message}"
    );
    assert!(!run_dir().join("imported/narrow").exists());

    // Weights so large that the arithmetic overflows are measured, with a warning.
    let huge = dir.path().join("huge");
    let mut sae = our_sae(0, "standard");
    sae.w_enc.mapv_inplace(|w| w.signum() * 3e38);
    let files = saelens::files(&sae, &serde_json::Map::new());
    std::fs::create_dir_all(&huge).unwrap();
    std::fs::write(huge.join(saelens::CFG_FILE), &files.cfg_json).unwrap();
    std::fs::write(huge.join(saelens::WEIGHTS_FILE), &files.weights).unwrap();
    let lines = Mutex::new(Vec::new());
    let log = |line: &str| lines.lock().unwrap().push(line.to_owned());
    let options = EvaluateOptions {
        run: run_dir().to_owned(),
        sae: huge,
        key: None,
        seed: Some(0),
    };
    interop::evaluate(&options, &log).unwrap();
    std::fs::remove_dir_all(run_dir().join("imported/huge")).unwrap();
    let lines = lines.into_inner().unwrap();
    assert!(
        lines.iter().any(
            |l| l.contains("warning: huge: some of its figures are not finite")
                && l.contains("3e38")
        ),
        "{lines:?}"
    );
}

/// The Python named by `NE_PYTHON`, or `None` after saying the test is skipped (a failure when
/// `CI=true`).
fn python() -> Option<PathBuf> {
    let found = std::env::var_os(PYTHON_VAR).map(PathBuf::from);
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{PYTHON_VAR} is not set, and CI=true requires the Python check: point it at a \
             Python with numpy and safetensors (.ci/run does)"
        );
        println!("SKIPPED: {PYTHON_VAR} is not set (a Python with numpy and safetensors)");
    }
    found
}

#[test]
fn python_reproduces_our_latents_from_the_exported_files() {
    let Some(python) = python() else { return };
    let seed = 0;
    let data = load_data(&small_config().data).unwrap();
    let hidden = our_mlp(seed).hidden(data.test.images.slice(s![..PYTHON_ROWS, ..]));
    let expected = tempfile::tempdir().unwrap();
    for variant in ["standard", "ne"] {
        let latents = our_sae(seed, variant).encode(hidden.view());
        ndarray_npy::write_npy(expected.path().join(format!("{variant}.npy")), &latents).unwrap();
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/check_saelens_export.py");
    let output = Command::new(&python)
        .arg(&script)
        .arg(run_dir())
        .arg(seed.to_string())
        .arg(expected.path())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "{} failed:\n{stdout}\n{stderr}",
        script.display()
    );
    assert!(
        stdout.contains("ne (numpy): 100 examples x 512 latents"),
        "{stdout}"
    );
}
