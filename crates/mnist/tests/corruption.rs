//! Random corruptions of small valid IDX files, plain and gzip: an error or a result, never a
//! panic, and never a result from a file that lost bytes.
use flate2::Compression;
use flate2::write::GzEncoder;
use ne_mnist::{IMAGES_MAGIC, LABELS_MAGIC, decompress, parse_images, parse_labels};
use proptest::prelude::*;
use std::io::Write;
use std::path::Path;

fn images_idx(count: u32) -> Vec<u8> {
    let mut bytes = IMAGES_MAGIC.to_be_bytes().to_vec();
    for size in [count, 28, 28] {
        bytes.extend(size.to_be_bytes());
    }
    bytes.extend((0..count as usize * 784).map(|i| (i * 31 % 256) as u8));
    bytes
}

fn labels_idx(count: u32) -> Vec<u8> {
    let mut bytes = LABELS_MAGIC.to_be_bytes().to_vec();
    bytes.extend(count.to_be_bytes());
    bytes.extend((0..count as usize).map(|i| (i % 10) as u8));
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[derive(Debug, Clone)]
enum Corruption {
    FlipBit {
        at: usize,
        bit: u8,
    },
    Truncate {
        at: usize,
    },
    Insert {
        at: usize,
        byte: u8,
    },
    /// Overwrites the big-endian u32 at header word `word` (0 = magic, 1 = count, ...).
    RewriteHeader {
        word: usize,
        value: u32,
    },
}

fn corruption() -> impl Strategy<Value = Corruption> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Corruption::FlipBit { at, bit }),
        any::<usize>().prop_map(|at| Corruption::Truncate { at }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Corruption::Insert { at, byte }),
        (0usize..4, prop_oneof![any::<u32>(), 0u32..64])
            .prop_map(|(word, value)| Corruption::RewriteHeader { word, value }),
    ]
}

/// Applies the corruption (positions wrap around the length); says whether it dropped bytes.
fn apply(bytes: &mut Vec<u8>, corruption: &Corruption) -> bool {
    let len = bytes.len();
    match *corruption {
        Corruption::FlipBit { at, bit } => bytes[at % len] ^= 1 << bit,
        Corruption::Truncate { at } => {
            bytes.truncate(at % len);
            return true;
        }
        Corruption::Insert { at, byte } => bytes.insert(at % (len + 1), byte),
        Corruption::RewriteHeader { word, value } => {
            let at = 4 * word;
            if at + 4 <= len {
                bytes[at..at + 4].copy_from_slice(&value.to_be_bytes());
            }
        }
    }
    false
}

/// Decompresses and parses both ways; only a clean `Ok` or `Err` may come back.
fn parse_both(bytes: Vec<u8>) -> (bool, bool) {
    let file = Path::new("corrupt");
    let Ok(idx) = decompress(bytes, file) else {
        return (false, false);
    };
    let images = parse_images(idx.clone(), file);
    if let Ok(pixels) = &images {
        assert_eq!(pixels.len() + 16, idx.len());
    }
    let labels = parse_labels(idx.clone(), file);
    if let Ok(labels) = &labels {
        assert_eq!(labels.len() + 8, idx.len());
        assert!(labels.iter().all(|&l| l <= 9));
    }
    (images.is_ok(), labels.is_ok())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn corrupted_plain_files(count in 0u32..4, images in any::<bool>(), corruption in corruption()) {
        let mut bytes = if images { images_idx(count) } else { labels_idx(count) };
        let dropped = apply(&mut bytes, &corruption);
        let (images_ok, labels_ok) = parse_both(bytes);
        if dropped {
            // A strict prefix of a valid file is never a valid file of the same kind.
            let parsed_as_its_kind = if images { images_ok } else { labels_ok };
            prop_assert!(!parsed_as_its_kind);
        }
    }

    #[test]
    fn corrupted_gzip_streams(count in 0u32..4, images in any::<bool>(), corruption in corruption()) {
        let mut bytes = gzip(&if images { images_idx(count) } else { labels_idx(count) });
        apply(&mut bytes, &corruption);
        parse_both(bytes);
    }

    #[test]
    fn gzip_of_corrupted_files(count in 0u32..4, images in any::<bool>(), corruption in corruption()) {
        let mut bytes = if images { images_idx(count) } else { labels_idx(count) };
        apply(&mut bytes, &corruption);
        parse_both(gzip(&bytes));
    }

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        parse_both(bytes);
    }
}
