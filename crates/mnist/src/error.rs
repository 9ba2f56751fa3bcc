use std::path::PathBuf;
use thiserror::Error;

/// Why an MNIST (IDX) file could not be loaded. Every variant names the file it is about.
#[derive(Debug, Error)]
pub enum MnistError {
    #[error("{gz}: not found (nor its uncompressed twin {plain})")]
    NotFound { gz: PathBuf, plain: PathBuf },

    // The I/O and gzip errors are part of the message, not a separate cause, so that a chain
    // of causes does not print them twice.
    #[error("{path}: cannot read: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },

    #[error("{path}: not a regular file (a folder, device or pipe?); refusing to read it")]
    NotAFile { path: PathBuf },

    #[error("{path}: not a valid gzip stream: {error}")]
    Gzip {
        path: PathBuf,
        error: std::io::Error,
    },

    #[error(
        "{path}: {extra} bytes after the end of the gzip data, and they are not another gzip \
         member"
    )]
    GzipTrailingData { path: PathBuf, extra: usize },

    #[error("{path}: holds more than {limit} bytes of IDX data; refusing to go on")]
    TooLarge { path: PathBuf, limit: u64 },

    #[error(
        "{path}: decompresses to more data than the {count} {what} its header announces; \
         refusing to go on"
    )]
    MoreThanDeclared {
        path: PathBuf,
        what: &'static str,
        count: u32,
    },

    #[error(
        "{path}: SHA-256 of the decompressed bytes is {actual}, expected {expected}; \
         this is not the shipped MNIST file"
    )]
    Checksum {
        path: PathBuf,
        expected: String,
        actual: String,
    },

    #[error("{path}: header ends after {actual} bytes, an IDX {what} header has {needed}")]
    HeaderTruncated {
        path: PathBuf,
        what: &'static str,
        needed: usize,
        actual: usize,
    },

    #[error(
        "{path}: magic number {found:#010x}, expected {expected:#010x} \
         (IDX {what} of unsigned bytes)"
    )]
    BadMagic {
        path: PathBuf,
        what: &'static str,
        found: u32,
        expected: u32,
    },

    #[error("{path}: {found} dimensions, an IDX {what} file has {expected}")]
    Dimensions {
        path: PathBuf,
        what: &'static str,
        found: u8,
        expected: u8,
    },

    #[error("{path}: images are {rows}x{cols} pixels, expected 28x28")]
    ImageSize { path: PathBuf, rows: u32, cols: u32 },

    #[error(
        "{path}: header claims {count} {what} ({needed} bytes) but only {available} bytes \
         follow the header (file truncated?)"
    )]
    DataTruncated {
        path: PathBuf,
        what: &'static str,
        count: u32,
        needed: u64,
        available: u64,
    },

    #[error("{path}: {extra} bytes after the {count} {what} the header announces")]
    TrailingBytes {
        path: PathBuf,
        what: &'static str,
        count: u32,
        extra: u64,
    },

    #[error("{path}: label {label} at index {index} is outside 0..=9")]
    LabelOutOfRange {
        path: PathBuf,
        index: usize,
        label: u8,
    },

    #[error("{images} holds {n_images} images but {labels} holds {n_labels} labels")]
    CountMismatch {
        images: PathBuf,
        labels: PathBuf,
        n_images: usize,
        n_labels: usize,
    },
}
