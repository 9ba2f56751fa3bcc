//! The command line as a user meets it: paths relative to the folder the command is typed in,
//! a reader that stops early, and bad input refused with a message (exit 1 or 2), never a panic.
use ndarray::{Array1, Array2};
use ne_models::{Linear, Mlp};
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn xtask(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("the xtask binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A folder with `work/run.toml`, a small config that reads MNIST from `work/mnist` (written
/// relative to the config file), and a copy of the shipped files there.
fn small_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let mnist = work.join("mnist");
    std::fs::create_dir_all(&mnist).unwrap();
    for entry in std::fs::read_dir(ne_shipped::mnist_dir()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), mnist.join(entry.file_name())).unwrap();
    }
    let paper = std::fs::read_to_string(ne_shipped::paper_config()).unwrap();
    let mut small = paper.replacen("dir = \"\"", "dir = \"mnist\"", 1);
    for (from, to) in [
        ("train_limit = 0", "train_limit = 1000"),
        ("test_limit = 0", "test_limit = 200"),
        ("epochs = 3", "epochs = 1"),
        ("ne_start_step = 200", "ne_start_step = 2"),
        ("cluster_examples = 200", "cluster_examples = 20"),
    ] {
        assert!(small.contains(from), "configs/paper.toml has {from}");
        small = small.replacen(from, to, 1);
    }
    std::fs::write(work.join("run.toml"), small).unwrap();
    dir
}

fn assert_success(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what}: {}\n{}",
        output.status,
        text(&output.stderr)
    );
}

#[test]
fn relative_paths_are_taken_from_the_folder_the_command_is_typed_in() {
    let project = small_project();
    let here = project.path();
    let data = xtask(here, &["data", "--dir", "work/mnist"]);
    assert_success(&data, "data");
    assert!(text(&data.stdout).starts_with("MNIST in work/mnist (checksums not checked)"));

    let args = ["reproduce", "--config", "work/run.toml", "--seeds", "1"];
    let reproduce = xtask(
        here,
        &[&args[..], &["--no-explorer", "--out", "out"]].concat(),
    );
    assert_success(&reproduce, "reproduce");
    assert!(here.join("out/metrics.json").is_file());
    assert!(here.join("out/seed-0/sae-ne.safetensors").is_file());

    let explore = xtask(here, &["explore", "--from", "out"]);
    assert_success(&explore, "explore");
    assert!(here.join("out/explorer/index.html").is_file());

    let train = xtask(
        here,
        &["train-mlp", "--config", "work/run.toml", "--out", "train"],
    );
    assert_success(&train, "train-mlp");
    assert!(here.join("train/mlp.safetensors").is_file());

    // From a folder further down, `..` works as a user expects.
    let below = here.join("work/mnist");
    let reproduce = xtask(
        &below,
        &[
            "reproduce",
            "--config",
            "../run.toml",
            "--seeds",
            "1",
            "--no-explorer",
            "--out",
            "../../again",
        ],
    );
    assert_success(&reproduce, "reproduce from below");
    assert!(here.join("again/metrics.json").is_file());
}

#[test]
fn a_bad_config_is_named_as_typed_and_its_error_told_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.toml"), "seed = \"zero\"\n").unwrap();
    let output = xtask(dir.path(), &["reproduce", "--config", "bad.toml"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("config bad.toml is not valid"), "{stderr}");
    assert!(
        !stderr.contains("Caused by"),
        "the TOML error once: {stderr}"
    );
}

#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("data")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Like `| head -0`: the reader is gone before the summary is printed.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{}: {stderr}", output.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn an_mlp_that_does_not_fit_the_data_is_refused_naming_file_tensor_and_shapes() {
    let project = small_project();
    let linear = |outputs, inputs| Linear {
        weight: Array2::zeros((outputs, inputs)),
        bias: Array1::zeros(outputs),
    };
    let mlp = Mlp {
        fc1: linear(64, 100),
        fc2: linear(10, 64),
    };
    std::fs::write(project.path().join("odd.safetensors"), mlp.to_safetensors()).unwrap();
    let output = xtask(
        project.path(),
        &[
            "train-sae",
            "--variant",
            "ne",
            "--config",
            "work/run.toml",
            "--mlp",
            "odd.safetensors",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "an error, not a panic");
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("odd.safetensors does not fit this run")
            && stderr.contains("tensor `fc1.weight` has shape [64, 100], expected [64, 784]"),
        "{stderr}"
    );
}

#[test]
fn a_seed_count_past_the_limit_is_refused_by_the_parser() {
    let dir = tempfile::tempdir().unwrap();
    let output = xtask(
        dir.path(),
        &["reproduce", "--seeds", "18446744073709551615"],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("1..=1000"), "{stderr}");
}

/// A user's mistake is told with its causes and no backtrace, even where `RUST_BACKTRACE` is
/// set; a number too large for the models' 32-bit floats is refused as typed.
#[test]
fn user_errors_carry_no_backtrace_and_numbers_are_refused_as_typed() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(dir.path())
        .env("RUST_BACKTRACE", "1")
        .args(["explore", "--from", "no-such-run"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("no-such-run"), "{stderr}");
    assert!(!stderr.contains("Stack backtrace"), "{stderr}");
    assert!(!stderr.contains("backtrace"), "{stderr}");

    // A damaged model: each cause is told once, though the library's errors repeat theirs.
    std::fs::write(
        dir.path().join("mlp.safetensors"),
        b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":1}garbage!!",
    )
    .unwrap();
    let output = xtask(
        dir.path(),
        &[
            "train-sae",
            "--variant",
            "ne",
            "--mlp",
            "mlp.safetensors",
            "--out",
            "o",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("cannot load mlp.safetensors"), "{stderr}");
    assert_eq!(
        stderr.matches("expected struct TensorInfo").count(),
        1,
        "{stderr}"
    );

    let output = xtask(dir.path(), &["sweep", "--l1", "1,1e40"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("1e40 is not a finite 32-bit number") && !stderr.contains("got inf"),
        "{stderr}"
    );
}

/// Ctrl-C during a run says what was kept and how to continue, and exits as interrupted.
#[cfg(unix)]
#[test]
fn an_interrupted_run_says_what_it_kept_and_how_to_resume() {
    use std::io::{BufRead, BufReader};
    let project = small_project();
    let work = project.path().join("work");
    let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(&work)
        .args([
            "reproduce",
            "--config",
            "run.toml",
            "--out",
            "out",
            "--seeds",
            "1",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    // The handler is in place before the data are loaded, which the first line reports.
    while stderr.read_line(&mut line).unwrap() > 0 && !line.contains("data:") {
        line.clear();
    }
    assert!(line.contains("data:"), "the run started: {line}");
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{rest}");
    assert!(
        rest.contains("interrupted: the models finished so far are saved in out")
            && rest.contains("--resume"),
        "{rest}"
    );
}

#[test]
fn bad_synthetic_options_are_refused_before_anything_trains() {
    let dir = tempfile::tempdir().unwrap();
    let refused = |args: &[&str], code: i32, expected: &str| {
        let output = xtask(dir.path(), args);
        assert_eq!(output.status.code(), Some(code), "{args:?}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    };
    refused(
        &["synthetic", "--magnitude", "gamma:2"],
        2,
        "unknown law gamma",
    );
    refused(&["synthetic", "--pairs", "nested:8"], 2, "KIND:COUNT:PROB");
    refused(
        &["synthetic", "--pairs", "nested:100:0.5"],
        1,
        "200 features",
    );
    refused(&["synthetic", "--zipf", "4", "--density", "0.5"], 1, "> 1");
    refused(&["synthetic", "--lambda-l1", "1,0.5"], 1, "increase");
    refused(&["synthetic", "--activations", "none.npy"], 1, "none.npy");
    refused(
        &[
            "synthetic",
            "--activations",
            "none.npy",
            "--lambda-l1",
            "1,2",
        ],
        1,
        "one --lambda-l1",
    );
    refused(
        &["synthetic", "--activations", "x.npy", "--features", "8"],
        2,
        "cannot be used with",
    );
    assert!(!dir.path().join("results").exists());
}
