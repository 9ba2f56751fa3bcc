use std::path::PathBuf;
use thiserror::Error;

/// Why an MNIST (IDX) file could not be loaded. Every variant names the file it is about.
#[derive(Debug, Error)]
pub enum MnistError {
    /// Neither the gzip file nor the plain one exists.
    #[error("{gz}: not found (nor its uncompressed twin {plain})")]
    NotFound {
        /// The `.gz` path looked for first.
        gz: PathBuf,
        /// The plain IDX path looked for next.
        plain: PathBuf,
    },

    // The I/O and gzip errors are part of the message, not a separate cause, so that a chain
    // of causes does not print them twice.
    /// The file exists but reading it failed.
    #[error("{path}: cannot read: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        error: std::io::Error,
    },

    /// The path names a folder, device or pipe, which could be endless or block.
    #[error("{path}: not a regular file (a folder, device or pipe?); refusing to read it")]
    NotAFile {
        /// The path.
        path: PathBuf,
    },

    /// A `.gz` file that does not decompress.
    #[error("{path}: not a valid gzip stream: {error}")]
    Gzip {
        /// The file.
        path: PathBuf,
        /// The decoder's complaint.
        error: std::io::Error,
    },

    /// Bytes after the gzip stream that are not a further gzip member.
    #[error(
        "{path}: {extra} bytes after the end of the gzip data, and they are not another gzip \
         member"
    )]
    GzipTrailingData {
        /// The file.
        path: PathBuf,
        /// How many bytes follow the gzip data.
        extra: usize,
    },

    /// More data than any MNIST file holds: a guard against decompression bombs.
    #[error("{path}: holds more than {limit} bytes of IDX data; refusing to go on")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The cap, in decompressed bytes.
        limit: u64,
    },

    /// Decompression went on past the size the header promises.
    #[error(
        "{path}: decompresses to more data than the {count} {what} its header announces; \
         refusing to go on"
    )]
    MoreThanDeclared {
        /// The file.
        path: PathBuf,
        /// "images" or "labels".
        what: &'static str,
        /// The item count the header announces.
        count: u32,
    },

    /// Asked to verify, and the bytes are not the shipped file's.
    #[error(
        "{path}: SHA-256 of the decompressed bytes is {actual}, expected {expected}; \
         this is not the shipped MNIST file"
    )]
    Checksum {
        /// The file.
        path: PathBuf,
        /// The shipped file's SHA-256, hex.
        expected: String,
        /// This file's SHA-256, hex.
        actual: String,
    },

    /// The file is shorter than its IDX header.
    #[error("{path}: header ends after {actual} bytes, an IDX {what} header has {needed}")]
    HeaderTruncated {
        /// The file.
        path: PathBuf,
        /// "images" or "labels".
        what: &'static str,
        /// The header's length in bytes.
        needed: usize,
        /// The bytes there are.
        actual: usize,
    },

    /// The first four bytes are not the IDX magic number of unsigned-byte images or labels.
    #[error(
        "{path}: magic number {found:#010x}, expected {expected:#010x} \
         (IDX {what} of unsigned bytes)"
    )]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// "images" or "labels".
        what: &'static str,
        /// The magic number the file starts with.
        found: u32,
        /// The one an IDX file of this kind starts with.
        expected: u32,
    },

    /// The header announces the wrong number of dimensions.
    #[error("{path}: {found} dimensions, an IDX {what} file has {expected}")]
    Dimensions {
        /// The file.
        path: PathBuf,
        /// "images" or "labels".
        what: &'static str,
        /// The count in the header.
        found: u8,
        /// 3 for images, 1 for labels.
        expected: u8,
    },

    /// Images that are not 28 × 28.
    #[error("{path}: images are {rows}x{cols} pixels, expected 28x28")]
    ImageSize {
        /// The file.
        path: PathBuf,
        /// Rows in the header.
        rows: u32,
        /// Columns in the header.
        cols: u32,
    },

    /// Fewer bytes follow the header than it announces.
    #[error(
        "{path}: header claims {count} {what} ({needed} bytes) but only {available} bytes \
         follow the header (file truncated?)"
    )]
    DataTruncated {
        /// The file.
        path: PathBuf,
        /// "images" or "labels".
        what: &'static str,
        /// The item count the header announces.
        count: u32,
        /// The bytes those items take.
        needed: u64,
        /// The bytes after the header.
        available: u64,
    },

    /// More bytes follow the header than it announces.
    #[error("{path}: {extra} bytes after the {count} {what} the header announces")]
    TrailingBytes {
        /// The file.
        path: PathBuf,
        /// "images" or "labels".
        what: &'static str,
        /// The item count the header announces.
        count: u32,
        /// The bytes beyond them.
        extra: u64,
    },

    /// A label that is not a digit.
    #[error("{path}: label {label} at index {index} is outside 0..=9")]
    LabelOutOfRange {
        /// The labels file.
        path: PathBuf,
        /// Position of the first such label.
        index: usize,
        /// Its value.
        label: u8,
    },

    /// A split's images and labels do not pair up.
    #[error("{images} holds {n_images} images but {labels} holds {n_labels} labels")]
    CountMismatch {
        /// The images file.
        images: PathBuf,
        /// The labels file.
        labels: PathBuf,
        /// Images it holds.
        n_images: usize,
        /// Labels it holds.
        n_labels: usize,
    },
}
