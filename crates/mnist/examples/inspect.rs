//! Loads MNIST from a folder of IDX files (gzip or plain) and shows what is in it: each split's
//! shape and digit counts, and the first test image drawn in text. Run with
//! `cargo run -p ne-mnist --example inspect [DIR]`; without DIR it reads the repository's
//! `data/mnist` (`ne_shipped::mnist_dir`) and verifies the shipped files' SHA-256.
use ne_mnist::{Checksums, IMAGE_SIDE, MnistError, load};
use ne_shipped::mnist_dir;
use std::fmt::Write;
use std::path::{Path, PathBuf};

fn main() -> Result<(), MnistError> {
    let (dir, checksums) = match std::env::args_os().nth(1) {
        Some(dir) => (PathBuf::from(dir), Checksums::Skip),
        None => (mnist_dir(), Checksums::Verify),
    };
    print!("{}", describe(&dir, checksums)?);
    Ok(())
}

/// Shapes and digit counts of both splits, then the first test image with its label.
fn describe(dir: &Path, checksums: Checksums) -> Result<String, MnistError> {
    let mnist = load(dir, checksums)?;
    let mut text = format!("MNIST in {}\n", dir.display());
    for (name, split) in [("train", &mnist.train), ("test", &mnist.test)] {
        let summary = split.summary();
        let (rows, cols) = split.images.dim();
        writeln!(
            text,
            "{name:>5}: images {rows} x {cols} (normalised f32), per digit {:?}",
            summary.label_counts
        )
        .expect("writing to a String");
    }
    let test = &mnist.test;
    writeln!(text, "first test image, label {}:", test.labels[0]).expect("writing to a String");
    for row in test
        .pixels
        .row(0)
        .as_slice()
        .expect("rows are contiguous")
        .chunks(IMAGE_SIDE)
    {
        let line: String = row
            .iter()
            .map(|&p| match p {
                0..64 => ' ',
                64..160 => '+',
                _ => '#',
            })
            .collect();
        writeln!(text, "{}", line.trim_end()).expect("writing to a String");
    }
    Ok(text)
}

/// `cargo test` runs the example on the shipped files, so it cannot rot.
#[test]
fn describes_the_shipped_files() {
    let text = describe(&mnist_dir(), Checksums::Verify).unwrap();
    assert!(text.contains("train: images 60000 x 784"), "{text}");
    assert!(text.contains("test: images 10000 x 784"), "{text}");
    assert!(text.contains("first test image, label 7"), "{text}");
    // The 7 is drawn: some ink and some background.
    assert!(
        text.contains('#') && text.lines().count() > IMAGE_SIDE,
        "{text}"
    );
}
