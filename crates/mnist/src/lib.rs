#![warn(missing_docs, clippy::missing_errors_doc)]
//! MNIST in the classic IDX format: checked loading, normalisation, raw pixels.
//!
//! Loads the four files `train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`,
//! `t10k-images-idx3-ubyte.gz` and `t10k-labels-idx1-ubyte.gz` (gzip or plain IDX), checks every
//! header field against the actual length (nothing is ever sized from a header's claim), and
//! optionally verifies the SHA-256
//! of the shipped copies. Images come both normalised for training and as raw pixels for display.
//!
//! ```
//! use ne_mnist::{Checksums, load};
//! let mnist = load(&ne_shipped::mnist_dir(), Checksums::Verify)?;
//! assert_eq!((mnist.train.len(), mnist.test.len()), (60_000, 10_000));
//! assert_eq!(mnist.test.images.dim(), (10_000, ne_mnist::IMAGE_PIXELS));
//! assert_eq!(mnist.test.labels[0], 7);
//! # Ok::<(), ne_mnist::MnistError>(())
//! ```
mod error;
mod idx;

pub use error::MnistError;
pub use idx::{
    IMAGES_MAGIC, LABELS_MAGIC, MAX_DECOMPRESSED_BYTES, decompress, images_view, parse_images,
    parse_labels,
};

use idx::Layout;
use ndarray::{Array1, Array2, ArrayView2, s};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// Images are `IMAGE_SIDE x IMAGE_SIDE` pixels.
pub const IMAGE_SIDE: usize = 28;
/// Pixels per image, the width of [`Split::images`] and [`Split::pixels`].
pub const IMAGE_PIXELS: usize = IMAGE_SIDE * IMAGE_SIDE;
/// Digit classes, 0 to 9.
pub const CLASSES: usize = 10;
/// Mean of the training pixels on the [0, 1] scale (the usual MNIST constant).
pub const PIXEL_MEAN: f32 = 0.1307;
/// Standard deviation of the training pixels on the [0, 1] scale.
pub const PIXEL_STD: f32 = 0.3081;

/// SHA-256 of the decompressed shipped files, by file name without `.gz`.
pub const SHIPPED_SHA256: [(&str, &str); 4] = [
    (
        "train-images-idx3-ubyte",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ),
    (
        "train-labels-idx1-ubyte",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ),
    (
        "t10k-images-idx3-ubyte",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ),
    (
        "t10k-labels-idx1-ubyte",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
];

/// Which half of MNIST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitKind {
    /// 60,000 examples, files `train-*`.
    Train,
    /// 10,000 examples, files `t10k-*`.
    Test,
}

impl SplitKind {
    /// File name of the images, without `.gz`.
    pub fn images_file(self) -> &'static str {
        match self {
            SplitKind::Train => "train-images-idx3-ubyte",
            SplitKind::Test => "t10k-images-idx3-ubyte",
        }
    }

    /// File name of the labels, without `.gz`.
    pub fn labels_file(self) -> &'static str {
        match self {
            SplitKind::Train => "train-labels-idx1-ubyte",
            SplitKind::Test => "t10k-labels-idx1-ubyte",
        }
    }
}

/// Whether to check the files against [`SHIPPED_SHA256`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksums {
    /// The files must be the shipped MNIST, byte for byte (after decompression).
    Verify,
    /// Any well-formed IDX files with these names, e.g. another 28x28 digit dataset.
    Skip,
}

/// One split: normalised images for the models, raw pixels for display, labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// `n x 784`, each pixel `(p / 255 - PIXEL_MEAN) / PIXEL_STD`, rows in file order.
    pub images: Array2<f32>,
    /// `n x 784` raw pixels 0..=255, row-major 28x28 images.
    pub pixels: Array2<u8>,
    /// `n` digits 0..=9.
    pub labels: Array1<u8>,
}

/// Counts that say at a glance whether a split is what it should be.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitSummary {
    /// Examples in the split.
    pub count: usize,
    /// How many examples carry each digit.
    pub label_counts: [u64; 10],
    /// Mean raw pixel on the 0..=255 scale; NaN for an empty split.
    pub pixel_mean: f64,
}

impl Split {
    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the split holds no example.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The first `n` examples (all of them if there are fewer), for small test configs. Keeps
    /// the arrays' memory: nothing is copied.
    pub fn head(self, n: usize) -> Split {
        let n = n.min(self.len());
        Split {
            images: self.images.slice_move(s![..n, ..]),
            pixels: self.pixels.slice_move(s![..n, ..]),
            labels: self.labels.slice_move(s![..n]),
        }
    }

    /// Counts per digit and the mean raw pixel, computed in parallel.
    pub fn summary(&self) -> SplitSummary {
        let mut label_counts = [0u64; 10];
        for &label in &self.labels {
            label_counts[usize::from(label)] += 1;
        }
        // Integer sums, so the result does not depend on how rayon splits the work.
        let pixel_sum: u64 = self.pixels.as_slice().map_or_else(
            || self.pixels.iter().map(|&p| u64::from(p)).sum(),
            |pixels| {
                pixels
                    .par_chunks(1 << 16)
                    .map(|c| c.iter().map(|&p| u64::from(p)).sum::<u64>())
                    .sum()
            },
        );
        SplitSummary {
            count: self.len(),
            label_counts,
            pixel_mean: pixel_sum as f64 / self.pixels.len() as f64,
        }
    }
}

/// Both splits.
#[derive(Debug, Clone, PartialEq)]
pub struct Mnist {
    /// The training split (60,000 examples in MNIST).
    pub train: Split,
    /// The test split (10,000 examples in MNIST).
    pub test: Split,
}

/// Loads both splits from `dir`, in parallel.
///
/// # Errors
/// As [`load_split`], for either split.
pub fn load(dir: &Path, checksums: Checksums) -> Result<Mnist, MnistError> {
    let (train, test) = rayon::join(
        || load_split(dir, SplitKind::Train, checksums),
        || load_split(dir, SplitKind::Test, checksums),
    );
    Ok(Mnist {
        train: train?,
        test: test?,
    })
}

/// Loads one split from `dir`: `<name>.gz`, or the plain `<name>` when there is no `.gz`.
///
/// # Errors
/// When a file is missing or unreadable, is not well-formed IDX (gzip, header, length, a label
/// outside 0..=9), fails its SHA-256 check under [`Checksums::Verify`], or when the images and
/// labels counts differ: each [`MnistError`] names the file.
pub fn load_split(dir: &Path, kind: SplitKind, checksums: Checksums) -> Result<Split, MnistError> {
    let (images, labels) = rayon::join(
        || read_images(dir, kind.images_file(), checksums),
        || read_labels(dir, kind.labels_file(), checksums),
    );
    let ((images_path, pixels, images), (labels_path, labels)) = (images?, labels?);
    if pixels.nrows() != labels.len() {
        return Err(MnistError::CountMismatch {
            images: images_path,
            labels: labels_path,
            n_images: pixels.nrows(),
            n_labels: labels.len(),
        });
    }
    Ok(Split {
        images,
        pixels,
        labels,
    })
}

/// Reads an images file; returns its path, raw pixels and normalised images.
fn read_images(
    dir: &Path,
    name: &str,
    checksums: Checksums,
) -> Result<(PathBuf, Array2<u8>, Array2<f32>), MnistError> {
    let (path, idx) = read_idx(dir, name, &Layout::IMAGES)?;
    // Hashing and normalising only read the bytes: do them side by side. A wrong checksum is
    // reported before a malformed header, since it says more (this is not the shipped file).
    let (verified, images) = rayon::join(
        || verify(checksums, name, &idx, &path),
        || images_view(&idx, &path).map(normalise),
    );
    verified?;
    let images = images?;
    let pixels = parse_images(idx, &path)?;
    Ok((path, pixels, images))
}

/// Reads a labels file; returns its path and labels.
fn read_labels(
    dir: &Path,
    name: &str,
    checksums: Checksums,
) -> Result<(PathBuf, Array1<u8>), MnistError> {
    let (path, idx) = read_idx(dir, name, &Layout::LABELS)?;
    verify(checksums, name, &idx, &path)?;
    let labels = parse_labels(idx, &path)?;
    Ok((path, labels))
}

/// Reads one file as `layout` says: `<name>.gz`, else `<name>`; returns the path it read.
/// Only a regular file (or a link to one) is read: a folder, device or pipe is refused before it
/// is opened, since reading one could block forever or never end.
fn read_idx(dir: &Path, name: &str, layout: &Layout) -> Result<(PathBuf, Vec<u8>), MnistError> {
    let gz = dir.join(format!("{name}.gz"));
    let plain = dir.join(name);
    for path in [&gz, &plain] {
        match std::fs::metadata(path) {
            Err(error) if error.kind() == ErrorKind::NotFound => continue,
            Err(error) => {
                let path = path.clone();
                return Err(MnistError::Read { path, error });
            }
            Ok(meta) if !meta.is_file() => {
                let path = path.clone();
                return Err(MnistError::NotAFile { path });
            }
            Ok(_) => return Ok((path.clone(), idx::read_file(path, layout)?)),
        }
    }
    Err(MnistError::NotFound { gz, plain })
}

/// With [`Checksums::Verify`], checks the decompressed bytes of file `name` against
/// [`SHIPPED_SHA256`].
fn verify(checksums: Checksums, name: &str, idx: &[u8], path: &Path) -> Result<(), MnistError> {
    if checksums == Checksums::Skip {
        return Ok(());
    }
    let expected = SHIPPED_SHA256
        .iter()
        .find(|(file, _)| *file == name)
        .map(|(_, hash)| *hash);
    let expected = expected.expect("only the four MNIST names are ever read");
    let actual = format!("{:x}", Sha256::digest(idx));
    if actual != expected {
        let (path, expected) = (path.to_path_buf(), expected.to_string());
        return Err(MnistError::Checksum {
            path,
            expected,
            actual,
        });
    }
    Ok(())
}

/// A pixel 0..=255 as the models see it: scaled to [0, 1], then standardised.
pub fn normalise_pixel(pixel: u8) -> f32 {
    (f32::from(pixel) / 255.0 - PIXEL_MEAN) / PIXEL_STD
}

/// Normalises raw pixels with [`normalise_pixel`], through a 256-entry table, in parallel.
pub fn normalise(pixels: ArrayView2<u8>) -> Array2<f32> {
    let table: [f32; 256] = std::array::from_fn(|p| normalise_pixel(p as u8));
    let values: Vec<f32> = match pixels.as_slice() {
        Some(slice) => slice.par_iter().map(|&p| table[usize::from(p)]).collect(),
        None => pixels.iter().map(|&p| table[usize::from(p)]).collect(),
    };
    Array2::from_shape_vec(pixels.raw_dim(), values).expect("one value per pixel")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn normalise_maps_black_and_white_to_the_usual_values() {
        assert!((normalise_pixel(0) - (-0.4242129)).abs() < 1e-6);
        assert!((normalise_pixel(255) - 2.8214867).abs() < 1e-6);
        let images = normalise(array![[0u8, 255], [128, 1]].view());
        for (&value, &pixel) in images.iter().zip(&[0u8, 255, 128, 1]) {
            assert_eq!(value, normalise_pixel(pixel));
        }
    }

    #[test]
    fn normalise_of_a_non_contiguous_view_keeps_the_layout() {
        let pixels = array![[1u8, 2, 3], [4, 5, 6]];
        let images = normalise(pixels.t());
        assert_eq!(images.dim(), (3, 2));
        assert_eq!(images[[2, 1]], normalise_pixel(6));
        assert_eq!(images[[0, 1]], normalise_pixel(4));
    }

    fn split(labels: &[u8]) -> Split {
        let n = labels.len();
        let pixels = Array2::from_shape_fn((n, IMAGE_PIXELS), |(i, j)| ((i * 7 + j) % 256) as u8);
        Split {
            images: normalise(pixels.view()),
            pixels,
            labels: Array1::from_vec(labels.to_vec()),
        }
    }

    #[test]
    fn head_keeps_the_first_examples_of_all_three_arrays() {
        let full = split(&[3, 1, 4, 1, 5]);
        let head = full.clone().head(2);
        assert_eq!(head.len(), 2);
        assert_eq!(head.labels.to_vec(), vec![3, 1]);
        assert_eq!(head.pixels.row(1), full.pixels.row(1));
        assert_eq!(head.images.row(1), full.images.row(1));
        assert_eq!(full.clone().head(99), full);
        assert!(full.head(0).is_empty());
    }

    #[test]
    fn summary_counts_labels_and_averages_pixels() {
        let mut s = split(&[3, 1, 4, 1]);
        s.pixels.fill(10);
        s.pixels[[0, 0]] = 210;
        let summary = s.summary();
        assert_eq!(summary.count, 4);
        assert_eq!(summary.label_counts, [0, 2, 0, 1, 1, 0, 0, 0, 0, 0]);
        let expected = 10.0 + 200.0 / (4.0 * IMAGE_PIXELS as f64);
        assert!((summary.pixel_mean - expected).abs() < 1e-12);
        assert!(split(&[]).summary().pixel_mean.is_nan());
    }

    #[test]
    fn checksum_table_names_the_four_files() {
        for kind in [SplitKind::Train, SplitKind::Test] {
            for name in [kind.images_file(), kind.labels_file()] {
                assert_eq!(
                    SHIPPED_SHA256
                        .iter()
                        .filter(|(file, _)| *file == name)
                        .count(),
                    1
                );
            }
        }
    }
}
