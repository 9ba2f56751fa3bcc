//! `cargo xtask data [--dir DIR]`: load MNIST and print what is in it.
use anyhow::Context;
use ne_mnist::{Checksums, Split, shipped_dir};
use std::path::Path;
use std::time::Instant;

/// Loads MNIST from `dir` (default: the shipped copy, checksums verified) and prints, per split,
/// the count, the label histogram and the mean raw pixel, then the load time.
pub fn run(dir: Option<&Path>) -> anyhow::Result<()> {
    let (dir, checksums) = match dir {
        Some(dir) => (dir.to_path_buf(), Checksums::Skip),
        None => (shipped_dir(), Checksums::Verify),
    };
    let start = Instant::now();
    let mnist = ne_mnist::load(&dir, checksums)
        .with_context(|| format!("cannot load MNIST from {}", dir.display()))?;
    let seconds = start.elapsed().as_secs_f64();

    let verified = match checksums {
        Checksums::Verify => "SHA-256 verified",
        Checksums::Skip => "checksums not checked",
    };
    println!("MNIST in {} ({verified})", dir.display());
    let splits = [("train", &mnist.train), ("test", &mnist.test)];
    println!("{}", table(&splits));
    println!("loaded, checked and normalised in {seconds:.2} s");
    Ok(())
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
