//! `cargo xtask data [--dir DIR]`: load MNIST and say what is in it.
use ne_experiment::DataConfig;
use ne_experiment::pipeline::load_data;
use ne_mnist::Split;
use std::path::PathBuf;
use std::time::Instant;

/// Loads MNIST from `dir` (default: the shipped copy, checksums verified) and describes, per
/// split, the count, the label histogram and the mean raw pixel, then the load time.
pub fn summary(dir: Option<PathBuf>) -> anyhow::Result<String> {
    let data = DataConfig {
        dir: dir.unwrap_or_default(),
        train_limit: 0,
        test_limit: 0,
    };
    let start = Instant::now();
    let mnist = load_data(&data)?;
    let seconds = start.elapsed().as_secs_f64();

    let source = if data.dir.as_os_str().is_empty() {
        format!("{} (SHA-256 verified)", ne_shipped::mnist_dir().display())
    } else {
        format!("{} (checksums not checked)", data.dir.display())
    };
    let splits = [("train", &mnist.train), ("test", &mnist.test)];
    Ok(format!(
        "MNIST in {source}\n{}\nloaded, checked and normalised in {seconds:.2} s",
        table(&splits)
    ))
}

/// One row per split: count, examples per digit, mean raw pixel (0..255).
fn table(splits: &[(&str, &Split)]) -> String {
    let digits: String = (0..10).map(|d| format!("{d:>6}")).collect();
    let mut lines = vec![format!("{:<6}{:>7}{digits}  pixel mean", "split", "count")];
    for (name, split) in splits {
        let summary = split.summary();
        let counts: String = summary
            .label_counts
            .iter()
            .map(|c| format!("{c:>6}"))
            .collect();
        lines.push(format!(
            "{name:<6}{:>7}{counts}  {:>10.2}",
            summary.count, summary.pixel_mean
        ));
    }
    lines.join("\n")
}
