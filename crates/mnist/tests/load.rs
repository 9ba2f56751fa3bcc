//! Loading from files: the shipped MNIST, plain IDX, and the errors only files can cause.
use flate2::Compression;
use flate2::write::GzEncoder;
use ne_mnist::{Checksums, MnistError, SplitKind, load, load_split};
use ne_shipped::mnist_dir;
use std::io::Write;
use std::path::Path;

#[test]
fn shipped_files_load_with_checksums_verified() {
    let mnist = load(&mnist_dir(), Checksums::Verify).unwrap();
    let (train, test) = (mnist.train.summary(), mnist.test.summary());
    assert_eq!((train.count, test.count), (60_000, 10_000));
    assert_eq!(mnist.train.images.dim(), (60_000, 784));
    assert_eq!(mnist.test.pixels.dim(), (10_000, 784));
    assert_eq!(
        test.label_counts,
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );
    assert_eq!(
        train.label_counts,
        [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    );
    let labels = &mnist.test.labels;
    assert_eq!(labels.slice(ndarray::s![..5]).to_vec(), vec![7, 2, 1, 0, 4]);
    assert_eq!(
        labels.slice(ndarray::s![-5..]).to_vec(),
        vec![2, 3, 4, 5, 6]
    );
    assert_eq!(
        mnist.train.labels.slice(ndarray::s![..5]).to_vec(),
        vec![5, 0, 4, 1, 9]
    );
    assert!(
        (train.pixel_mean - 33.3184).abs() < 1e-3,
        "{}",
        train.pixel_mean
    );

    // The constants are the training set's own statistics, so the normalised set is standard.
    let n = mnist.train.images.len() as f64;
    let mean = mnist
        .train
        .images
        .iter()
        .map(|&x| f64::from(x))
        .sum::<f64>()
        / n;
    let var = mnist
        .train
        .images
        .iter()
        .map(|&x| (f64::from(x) - mean).powi(2))
        .sum::<f64>()
        / n;
    assert!(mean.abs() < 1e-3, "mean {mean}");
    assert!((var.sqrt() - 1.0).abs() < 1e-3, "std {}", var.sqrt());
}

/// Writes the test split as plain or gzip IDX into a fresh folder; `edit` changes the bytes.
fn write_test_split(gzip: bool, edit: impl Fn(&str, &mut Vec<u8>)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in [SplitKind::Test.images_file(), SplitKind::Test.labels_file()] {
        let shipped = std::fs::read(mnist_dir().join(format!("{name}.gz"))).unwrap();
        let mut bytes = ne_mnist::decompress(shipped, Path::new(name)).unwrap();
        edit(name, &mut bytes);
        if gzip {
            let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
            encoder.write_all(&bytes).unwrap();
            std::fs::write(
                dir.path().join(format!("{name}.gz")),
                encoder.finish().unwrap(),
            )
            .unwrap();
        } else {
            std::fs::write(dir.path().join(name), bytes).unwrap();
        }
    }
    dir
}

#[test]
fn plain_and_regzipped_files_load_the_same_and_pass_the_checksums() {
    let shipped = load_split(&mnist_dir(), SplitKind::Test, Checksums::Verify).unwrap();
    for gzip in [false, true] {
        let dir = write_test_split(gzip, |_, _| {});
        assert_eq!(
            load_split(dir.path(), SplitKind::Test, Checksums::Verify).unwrap(),
            shipped
        );
    }
}

#[test]
fn missing_file_names_both_candidates() {
    let dir = tempfile::tempdir().unwrap();
    match load_split(dir.path(), SplitKind::Train, Checksums::Skip) {
        Err(MnistError::NotFound { gz, plain }) => {
            assert!(
                gz.ends_with("train-images-idx3-ubyte.gz")
                    || gz.ends_with("train-labels-idx1-ubyte.gz")
            );
            assert_eq!(gz.with_extension(""), plain);
        }
        other => panic!("{other:?}"),
    }
}

/// The test split with its images file replaced by whatever `make` puts at the given path.
fn test_split_with_images(make: impl Fn(&Path)) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = write_test_split(false, |_, _| {});
    let images = dir.path().join(SplitKind::Test.images_file());
    std::fs::remove_file(&images).unwrap();
    make(&images);
    (dir, images)
}

fn load_error(dir: &Path) -> MnistError {
    load_split(dir, SplitKind::Test, Checksums::Skip).unwrap_err()
}

#[test]
fn a_folder_is_refused_as_not_a_file() {
    let (dir, images) = test_split_with_images(|path| std::fs::create_dir(path).unwrap());
    match load_error(dir.path()) {
        MnistError::NotAFile { path } => assert_eq!(path, images),
        other => panic!("{other:?}"),
    }
}

/// Devices and pipes are refused before they are opened: a link to /dev/null is not an empty
/// file, a link to /dev/zero would never end, and opening a pipe waits for a writer.
#[cfg(unix)]
#[test]
fn devices_and_pipes_are_refused_before_they_are_read() {
    for device in ["/dev/null", "/dev/zero"] {
        let link = |path: &Path| std::os::unix::fs::symlink(device, path).unwrap();
        let (dir, images) = test_split_with_images(link);
        match load_error(dir.path()) {
            MnistError::NotAFile { path } => assert_eq!(path, images),
            other => panic!("{device}: {other:?}"),
        }
    }
    let fifo = |path: &Path| {
        let made = std::process::Command::new("mkfifo").arg(path).status();
        assert!(made.unwrap().success(), "mkfifo {}", path.display());
    };
    let (dir, images) = test_split_with_images(fifo);
    let error = load_error(dir.path());
    assert!(matches!(&error, MnistError::NotAFile { path } if *path == images));
    assert!(
        error
            .to_string()
            .ends_with("not a regular file (a folder, device or pipe?); refusing to read it"),
        "{error}"
    );
}

/// A file's size is checked before its body is read: the files here are sparse, so they take
/// no disk space, and reading them whole would take gigabytes of memory.
#[test]
fn a_plain_file_longer_than_its_header_says_is_refused_unread() {
    let header_only = |path: &Path, len: u64| {
        let mut header = ne_mnist::IMAGES_MAGIC.to_be_bytes().to_vec();
        for size in [1u32, 28, 28] {
            header.extend(size.to_be_bytes());
        }
        std::fs::write(path, header).unwrap();
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_len(len)
            .unwrap();
    };
    let (dir, images) = test_split_with_images(|path| header_only(path, 100 << 20));
    match load_error(dir.path()) {
        MnistError::TrailingBytes {
            path,
            count: 1,
            extra,
            ..
        } => {
            assert_eq!(path, images);
            assert_eq!(extra, (100 << 20) - 16 - 784);
        }
        other => panic!("{other:?}"),
    }
    let (dir, images) = test_split_with_images(|path| header_only(path, 1 << 40));
    match load_error(dir.path()) {
        MnistError::TooLarge { path, limit } => {
            assert_eq!(path, images);
            assert_eq!(limit, ne_mnist::MAX_DECOMPRESSED_BYTES);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn changed_label_fails_the_checksum_but_loads_unverified() {
    let dir = write_test_split(true, |name, bytes| {
        if name.contains("labels") {
            bytes[8] = 1; // the first label, 7, becomes 1: still a valid file
        }
    });
    match load_split(dir.path(), SplitKind::Test, Checksums::Verify) {
        Err(MnistError::Checksum {
            path,
            expected,
            actual,
        }) => {
            assert!(path.ends_with("t10k-labels-idx1-ubyte.gz"));
            assert_eq!(
                expected,
                "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"
            );
            assert_ne!(actual, expected);
            assert_eq!(actual.len(), 64);
        }
        other => panic!("{other:?}"),
    }
    let split = load_split(dir.path(), SplitKind::Test, Checksums::Skip).unwrap();
    assert_eq!(split.labels[0], 1);
}

#[test]
fn image_and_label_counts_that_disagree() {
    let dir = write_test_split(false, |name, bytes| {
        if name.contains("labels") {
            bytes.pop();
            bytes[4..8].copy_from_slice(&9_999u32.to_be_bytes());
        }
    });
    match load_split(dir.path(), SplitKind::Test, Checksums::Skip) {
        Err(MnistError::CountMismatch {
            n_images: 10_000,
            n_labels: 9_999,
            images,
            labels,
        }) => {
            assert!(images.ends_with("t10k-images-idx3-ubyte"));
            assert!(labels.ends_with("t10k-labels-idx1-ubyte"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn parse_errors_carry_the_file_path() {
    let dir = write_test_split(false, |name, bytes| {
        if name.contains("images") {
            bytes.push(0);
        }
    });
    match load_split(dir.path(), SplitKind::Test, Checksums::Skip) {
        Err(MnistError::TrailingBytes {
            path,
            extra: 1,
            count: 10_000,
            ..
        }) => {
            assert_eq!(path, dir.path().join("t10k-images-idx3-ubyte"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_damaged_shipped_file_is_a_checksum_error_when_verifying() {
    let dir = write_test_split(true, |name, bytes| {
        if name.contains("images") {
            bytes.truncate(bytes.len() - 100);
        }
    });
    match load_split(dir.path(), SplitKind::Test, Checksums::Verify) {
        Err(MnistError::Checksum { path, .. }) => {
            assert!(path.ends_with("t10k-images-idx3-ubyte.gz"))
        }
        other => panic!("{other:?}"),
    }
    match load_split(dir.path(), SplitKind::Test, Checksums::Skip) {
        Err(MnistError::DataTruncated {
            count: 10_000,
            available,
            ..
        }) => {
            assert_eq!(available, 10_000 * 784 - 100)
        }
        other => panic!("{other:?}"),
    }
}
