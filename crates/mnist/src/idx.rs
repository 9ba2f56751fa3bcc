//! The IDX format on bytes: gzip detection, header checks, and the two MNIST file kinds.
//!
//! An IDX file is a 4-byte magic `00 00 <type> <ndims>`, `ndims` big-endian u32 sizes, then the
//! data. MNIST uses type 0x08 (unsigned byte): images have 3 dimensions (count, rows, columns),
//! labels 1 (count).
use crate::{IMAGE_PIXELS, IMAGE_SIDE, MnistError};
use ndarray::{Array1, Array2, ArrayView2, s};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Magic number of an IDX file of unsigned-byte images (3 dimensions).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned-byte labels (1 dimension).
pub const LABELS_MAGIC: u32 = 0x0000_0801;
/// The most IDX data a file may hold, plain or after decompression: MNIST's largest is 47 MB;
/// this leaves room for larger IDX datasets while refusing decompression bombs and runaway files.
pub const MAX_DECOMPRESSED_BYTES: u64 = 1 << 30;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Reads one IDX file of the given layout from disk and returns its IDX bytes. A gzip file (found
/// by its magic, whatever its name) is decompressed. A plain file's header is read first and the
/// length it declares is compared with the file's real size before the rest is read, so a wrong
/// or runaway file costs one header read. The caller has made sure `path` is a regular file.
pub(crate) fn read_file(path: &Path, layout: &Layout) -> Result<Vec<u8>, MnistError> {
    let read_error = |error| MnistError::Read {
        path: path.to_path_buf(),
        error,
    };
    let file = File::open(path).map_err(read_error)?;
    let size = file.metadata().map_err(read_error)?.len();
    if size > MAX_DECOMPRESSED_BYTES {
        // Compressed data is no larger than what it decompresses to, give or take a few bytes.
        return Err(too_large(path));
    }
    let mut input = BufReader::new(file);
    if input
        .fill_buf()
        .map_err(read_error)?
        .starts_with(&GZIP_MAGIC)
    {
        let mut raw = Vec::with_capacity(size as usize);
        input.read_to_end(&mut raw).map_err(read_error)?;
        return gunzip_as_declared(&raw, path, layout);
    }
    let mut idx = Vec::new();
    (&mut input)
        .take(layout.header_len() as u64)
        .read_to_end(&mut idx)
        .map_err(read_error)?;
    let count = layout.header(&idx, path)?;
    layout.check_length(size, count, path)?;
    idx.reserve_exact(size as usize - idx.len());
    input.read_to_end(&mut idx).map_err(read_error)?;
    Ok(idx)
}

fn too_large(path: &Path) -> MnistError {
    MnistError::TooLarge {
        path: path.to_path_buf(),
        limit: MAX_DECOMPRESSED_BYTES,
    }
}

/// Returns the IDX bytes of a file's contents: gunzipped when they start with the gzip magic
/// (whatever the file is called), else as they are. `file` only names it in errors.
///
/// # Errors
/// [`MnistError::Gzip`] for a broken gzip stream, [`MnistError::GzipTrailingData`] for bytes
/// after it that are not another member, [`MnistError::TooLarge`] past
/// [`MAX_DECOMPRESSED_BYTES`].
pub fn decompress(raw: Vec<u8>, file: &Path) -> Result<Vec<u8>, MnistError> {
    if raw.starts_with(&GZIP_MAGIC) {
        gunzip_capped(&raw, file, MAX_DECOMPRESSED_BYTES)
    } else {
        Ok(raw)
    }
}

/// Decompresses the gzip file `raw` of `layout`, never holding more than its header declares:
/// the header is decompressed and checked first, a declared size over the limit is refused
/// before anything is allocated, and decompression stops one byte past the declared size, so a
/// stream that goes on (a decompression bomb) is refused having cost only that.
fn gunzip_as_declared(raw: &[u8], file: &Path, layout: &Layout) -> Result<Vec<u8>, MnistError> {
    let gzip_error = |error| MnistError::Gzip {
        path: file.to_path_buf(),
        error,
    };
    let mut header = Vec::new();
    flate2::bufread::MultiGzDecoder::new(raw)
        .take(layout.header_len() as u64)
        .read_to_end(&mut header)
        .map_err(gzip_error)?;
    let count = layout.header(&header, file)?;
    let declared = layout.header_len() as u64 + u64::from(count) * layout.item_len as u64;
    if declared > MAX_DECOMPRESSED_BYTES {
        return Err(too_large(file));
    }
    gunzip_capped(raw, file, declared).map_err(|error| match error {
        MnistError::TooLarge { .. } => MnistError::MoreThanDeclared {
            path: file.to_path_buf(),
            what: layout.what,
            count,
        },
        other => other,
    })
}

/// Decompresses every gzip member of `raw` in turn (gzip allows several, concatenated). Bytes
/// after the last member must be another valid member; at most `limit` bytes come out.
fn gunzip_capped(raw: &[u8], file: &Path, limit: u64) -> Result<Vec<u8>, MnistError> {
    let mut rest = raw;
    // The limit is what is expected, or a bound that real files stay far below.
    let mut out = Vec::with_capacity(limit.min(1 << 26) as usize);
    loop {
        let budget = limit + 1 - out.len() as u64;
        flate2::bufread::GzDecoder::new(&mut rest)
            .take(budget)
            .read_to_end(&mut out)
            .map_err(|error| MnistError::Gzip {
                path: file.to_path_buf(),
                error,
            })?;
        if out.len() as u64 > limit {
            return Err(MnistError::TooLarge {
                path: file.to_path_buf(),
                limit,
            });
        }
        if rest.is_empty() {
            return Ok(out);
        }
        if !rest.starts_with(&GZIP_MAGIC) {
            return Err(MnistError::GzipTrailingData {
                path: file.to_path_buf(),
                extra: rest.len(),
            });
        }
    }
}

/// Parses an IDX images file (already decompressed) into an `n x 784` array of raw pixels.
///
/// # Errors
/// As [`images_view`].
pub fn parse_images(idx: Vec<u8>, file: &Path) -> Result<Array2<u8>, MnistError> {
    let count = images_view(&idx, file)?.nrows();
    // Start the array past the header in place, rather than shifting every pixel down.
    let pixels = Array1::from_vec(idx).slice_move(s![Layout::IMAGES.header_len()..]);
    Ok(pixels
        .into_shape_with_order((count, IMAGE_PIXELS))
        .expect("length checked"))
}

/// Checks an IDX images file (already decompressed) and views its pixels as `n x 784`, without
/// copying them.
///
/// # Errors
/// When the header is short, has the wrong magic number or dimensions, images are not 28 × 28,
/// or the data is shorter or longer than the header announces.
pub fn images_view<'a>(idx: &'a [u8], file: &Path) -> Result<ArrayView2<'a, u8>, MnistError> {
    let layout = &Layout::IMAGES;
    let count = layout.header(idx, file)?;
    let count = layout.check_length(idx.len() as u64, count, file)?;
    let body = &idx[layout.header_len()..];
    Ok(ArrayView2::from_shape((count, IMAGE_PIXELS), body).expect("length checked"))
}

/// Parses an IDX labels file (already decompressed); every label must be a digit 0..=9.
///
/// # Errors
/// When the header is short or wrong, the data's length is not the announced count, or a label
/// is not a digit ([`MnistError::LabelOutOfRange`]).
pub fn parse_labels(idx: Vec<u8>, file: &Path) -> Result<Array1<u8>, MnistError> {
    let layout = &Layout::LABELS;
    let count = layout.header(&idx, file)?;
    layout.check_length(idx.len() as u64, count, file)?;
    let mut labels = idx;
    labels.drain(..layout.header_len());
    if let Some((index, &label)) = labels.iter().enumerate().find(|&(_, &label)| label > 9) {
        return Err(MnistError::LabelOutOfRange {
            path: file.to_path_buf(),
            index,
            label,
        });
    }
    Ok(Array1::from_vec(labels))
}

/// What one kind of IDX file looks like.
pub(crate) struct Layout {
    what: &'static str,
    magic: u32,
    /// Bytes per item: one label, or one 28x28 image.
    item_len: usize,
}

impl Layout {
    pub(crate) const IMAGES: Layout = Layout {
        what: "images",
        magic: IMAGES_MAGIC,
        item_len: IMAGE_PIXELS,
    };
    pub(crate) const LABELS: Layout = Layout {
        what: "labels",
        magic: LABELS_MAGIC,
        item_len: 1,
    };

    fn dims(&self) -> u8 {
        self.magic.to_be_bytes()[3]
    }

    fn header_len(&self) -> usize {
        4 + 4 * usize::from(self.dims())
    }

    /// Checks the magic number, the dimensions and (for images) the image size in the header at
    /// the start of `idx`; returns the item count it declares.
    fn header(&self, idx: &[u8], file: &Path) -> Result<u32, MnistError> {
        let truncated = || MnistError::HeaderTruncated {
            path: file.to_path_buf(),
            what: self.what,
            needed: self.header_len(),
            actual: idx.len(),
        };
        let magic_bytes: [u8; 4] = idx
            .get(..4)
            .ok_or_else(truncated)?
            .try_into()
            .expect("4 bytes");
        let found = u32::from_be_bytes(magic_bytes);
        if found >> 8 != self.magic >> 8 {
            let (what, expected) = (self.what, self.magic);
            return Err(MnistError::BadMagic {
                path: file.to_path_buf(),
                what,
                found,
                expected,
            });
        }
        if magic_bytes[3] != self.dims() {
            let (what, expected) = (self.what, self.dims());
            return Err(MnistError::Dimensions {
                path: file.to_path_buf(),
                what,
                found: magic_bytes[3],
                expected,
            });
        }
        let sizes: Vec<u32> = idx
            .get(4..self.header_len())
            .ok_or_else(truncated)?
            .chunks_exact(4)
            .map(|b| u32::from_be_bytes(b.try_into().expect("4 bytes")))
            .collect();
        if let [_, rows, cols] = sizes[..]
            && (rows as usize != IMAGE_SIDE || cols as usize != IMAGE_SIDE)
        {
            return Err(MnistError::ImageSize {
                path: file.to_path_buf(),
                rows,
                cols,
            });
        }
        Ok(sizes[0])
    }

    /// Checks that a file of `total_len` bytes holds the header and exactly `count` items;
    /// returns `count`.
    fn check_length(&self, total_len: u64, count: u32, file: &Path) -> Result<usize, MnistError> {
        // u32 * 784 cannot overflow u64, and the claim is compared before anything is allocated.
        let needed = u64::from(count) * self.item_len as u64;
        let available = total_len - self.header_len() as u64;
        let (path, what) = (file.to_path_buf(), self.what);
        if available < needed {
            return Err(MnistError::DataTruncated {
                path,
                what,
                count,
                needed,
                available,
            });
        }
        if available > needed {
            return Err(MnistError::TrailingBytes {
                path,
                what,
                count,
                extra: available - needed,
            });
        }
        Ok(count as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn file() -> &'static Path {
        Path::new("test.idx")
    }

    fn images_idx(count: u32, rows: u32, cols: u32, body_len: usize) -> Vec<u8> {
        let mut bytes = IMAGES_MAGIC.to_be_bytes().to_vec();
        for size in [count, rows, cols] {
            bytes.extend(size.to_be_bytes());
        }
        bytes.extend((0..body_len).map(|i| (i % 251) as u8));
        bytes
    }

    fn labels_idx(labels: &[u8]) -> Vec<u8> {
        let mut bytes = LABELS_MAGIC.to_be_bytes().to_vec();
        bytes.extend((labels.len() as u32).to_be_bytes());
        bytes.extend(labels);
        bytes
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn parses_valid_images_row_by_row() {
        let pixels = parse_images(images_idx(3, 28, 28, 3 * 784), file()).unwrap();
        assert_eq!(pixels.dim(), (3, 784));
        // Body byte i is i % 251: row 1 starts at byte 784.
        assert_eq!(pixels[[0, 0]], 0);
        assert_eq!(pixels[[0, 250]], 250);
        assert_eq!(pixels[[1, 0]], (784 % 251) as u8);
        assert_eq!(pixels[[2, 783]], ((3 * 784 - 1) % 251) as u8);
    }

    #[test]
    fn parses_zero_images() {
        assert_eq!(
            parse_images(images_idx(0, 28, 28, 0), file())
                .unwrap()
                .dim(),
            (0, 784)
        );
    }

    #[test]
    fn parses_valid_labels() {
        let labels = parse_labels(labels_idx(&[7, 2, 1, 0, 9]), file()).unwrap();
        assert_eq!(labels.to_vec(), vec![7, 2, 1, 0, 9]);
    }

    #[test]
    fn gzip_is_detected_by_magic_not_name() {
        let plain = labels_idx(&[3, 1, 4]);
        assert_eq!(
            decompress(gzip(&plain), Path::new("plain-name")).unwrap(),
            plain
        );
        assert_eq!(
            decompress(plain.clone(), Path::new("named.gz")).unwrap(),
            plain
        );
    }

    #[test]
    fn gzip_with_several_members_is_concatenated() {
        let plain = labels_idx(&[3, 1, 4, 1, 5]);
        let mut two_members = gzip(&plain[..6]);
        two_members.extend(gzip(&plain[6..]));
        assert_eq!(decompress(two_members, file()).unwrap(), plain);
    }

    #[test]
    fn corrupt_gzip_is_a_gzip_error() {
        let mut bytes = gzip(&labels_idx(&[1; 100]));
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        bytes.truncate(bytes.len() - 3);
        assert!(matches!(
            decompress(bytes, file()),
            Err(MnistError::Gzip { .. })
        ));
    }

    #[test]
    fn gzip_garbage_after_the_stream_is_named_as_such() {
        let mut bytes = gzip(&labels_idx(&[1, 2]));
        bytes.extend([0, 0, 0, 0]);
        let error = decompress(bytes, file()).unwrap_err();
        assert!(
            matches!(error, MnistError::GzipTrailingData { extra: 4, .. }),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            "test.idx: 4 bytes after the end of the gzip data, and they are not another gzip \
             member"
        );
        // A truncated second member is a gzip error, not trailing data.
        let mut bytes = gzip(&labels_idx(&[1, 2]));
        bytes.extend(&gzip(&[3, 4])[..12]);
        assert!(matches!(
            decompress(bytes, file()),
            Err(MnistError::Gzip { .. })
        ));
    }

    #[test]
    fn decompression_stops_at_the_limit() {
        let bytes = gzip(&[0; 1000]);
        assert_eq!(gunzip_capped(&bytes, file(), 1000).unwrap().len(), 1000);
        match gunzip_capped(&bytes, file(), 999) {
            Err(MnistError::TooLarge { limit, .. }) => assert_eq!(limit, 999),
            other => panic!("expected TooLarge, got {other:?}"),
        }
    }

    /// A stream that goes on past what its header declares is refused once it has given one
    /// byte more, not after the whole stream (or the 1 GiB limit) has been decompressed.
    #[test]
    fn a_gzip_bomb_is_refused_at_the_size_its_header_declares() {
        let mut bomb = labels_idx(&[1, 2, 3]);
        bomb.resize(64 << 20, 0);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t10k-labels-idx1-ubyte.gz");
        std::fs::write(&path, gzip(&bomb)).unwrap();
        match read_file(&path, &Layout::LABELS) {
            Err(MnistError::MoreThanDeclared { count: 3, .. }) => {}
            other => panic!("{other:?}"),
        }
        // A header that declares more than the limit is refused before anything is read.
        let mut huge = images_idx(2_000_000, 28, 28, 0);
        huge.resize(1 << 20, 0);
        std::fs::write(&path, gzip(&huge)).unwrap();
        assert!(matches!(
            read_file(&path, &Layout::IMAGES),
            Err(MnistError::TooLarge { .. })
        ));
        // As declared, it is read whole.
        std::fs::write(&path, gzip(&labels_idx(&[1, 2, 3]))).unwrap();
        assert_eq!(
            read_file(&path, &Layout::LABELS).unwrap(),
            labels_idx(&[1, 2, 3])
        );
    }

    #[test]
    fn truncated_header_at_every_byte() {
        let images = images_idx(1, 28, 28, 784);
        for len in 0..16 {
            match parse_images(images[..len].to_vec(), file()) {
                Err(MnistError::HeaderTruncated {
                    needed: 16, actual, ..
                }) => assert_eq!(actual, len),
                other => panic!("images cut at {len}: {other:?}"),
            }
        }
        let labels = labels_idx(&[1]);
        for len in 0..8 {
            assert!(matches!(
                parse_labels(labels[..len].to_vec(), file()),
                Err(MnistError::HeaderTruncated { needed: 8, .. })
            ));
        }
    }

    #[test]
    fn truncated_data_at_every_byte() {
        let images = images_idx(2, 28, 28, 2 * 784);
        for len in 16..images.len() {
            match parse_images(images[..len].to_vec(), file()) {
                Err(MnistError::DataTruncated {
                    count: 2,
                    needed: 1568,
                    available,
                    ..
                }) => {
                    assert_eq!(available, len as u64 - 16)
                }
                other => panic!("images cut at {len}: {other:?}"),
            }
        }
        let labels = labels_idx(&[1, 2, 3]);
        for len in 8..labels.len() {
            assert!(matches!(
                parse_labels(labels[..len].to_vec(), file()),
                Err(MnistError::DataTruncated { count: 3, .. })
            ));
        }
    }

    #[test]
    fn header_claiming_more_than_the_file_holds() {
        // The largest possible claim must neither overflow nor allocate.
        for count in [4, 60_000, u32::MAX] {
            match parse_images(images_idx(count, 28, 28, 3 * 784), file()) {
                Err(MnistError::DataTruncated {
                    needed, available, ..
                }) => {
                    assert_eq!(needed, u64::from(count) * 784);
                    assert_eq!(available, 3 * 784);
                }
                other => panic!("count {count}: {other:?}"),
            }
        }
        let mut labels = labels_idx(&[1, 2]);
        labels[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            parse_labels(labels, file()),
            Err(MnistError::DataTruncated { .. })
        ));
    }

    #[test]
    fn trailing_bytes() {
        match parse_images(images_idx(1, 28, 28, 785), file()) {
            Err(MnistError::TrailingBytes {
                extra: 1, count: 1, ..
            }) => {}
            other => panic!("{other:?}"),
        }
        let mut labels = labels_idx(&[1, 2]);
        labels.extend([0, 0]);
        assert!(matches!(
            parse_labels(labels, file()),
            Err(MnistError::TrailingBytes { extra: 2, .. })
        ));
    }

    #[test]
    fn bad_magic() {
        let mut images = images_idx(1, 28, 28, 784);
        images[2] = 0x09; // signed byte instead of unsigned
        match parse_images(images, file()) {
            Err(MnistError::BadMagic {
                found: 0x0000_0903,
                expected: IMAGES_MAGIC,
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
        let mut labels = labels_idx(&[1]);
        labels[0] = 0x1f;
        assert!(matches!(
            parse_labels(labels, file()),
            Err(MnistError::BadMagic {
                expected: LABELS_MAGIC,
                ..
            })
        ));
    }

    #[test]
    fn a_labels_file_read_as_images_has_the_wrong_dimensions() {
        match parse_images(labels_idx(&[1, 2, 3]), file()) {
            Err(MnistError::Dimensions {
                found: 1,
                expected: 3,
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
        match parse_labels(images_idx(1, 28, 28, 784), file()) {
            Err(MnistError::Dimensions {
                found: 3,
                expected: 1,
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn image_size_other_than_28x28() {
        for (rows, cols) in [(28, 27), (14, 56), (0, 28), (u32::MAX, u32::MAX)] {
            match parse_images(images_idx(1, rows, cols, 784), file()) {
                Err(MnistError::ImageSize {
                    rows: r, cols: c, ..
                }) => assert_eq!((r, c), (rows, cols)),
                other => panic!("{rows}x{cols}: {other:?}"),
            }
        }
    }

    #[test]
    fn label_outside_0_to_9() {
        match parse_labels(labels_idx(&[0, 9, 10, 255]), file()) {
            Err(MnistError::LabelOutOfRange {
                index: 2,
                label: 10,
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_name_the_file() {
        let error =
            parse_labels(labels_idx(&[12]), Path::new("dir/t10k-labels-idx1-ubyte")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "dir/t10k-labels-idx1-ubyte: label 12 at index 0 is outside 0..=9"
        );
    }
}
