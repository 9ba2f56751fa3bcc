//! Loading all 70,000 images: decompress, verify checksums, parse, normalise.
use criterion::{Criterion, criterion_group, criterion_main};
use ne_mnist::{Checksums, SplitKind, load, load_split, normalise};
use ne_shipped::mnist_dir;
use std::hint::black_box;

fn bench_load(c: &mut Criterion) {
    let dir = mnist_dir();
    let mut group = c.benchmark_group("mnist");
    group.sample_size(10);
    group.bench_function("load_verified", |b| {
        b.iter(|| load(black_box(&dir), Checksums::Verify).unwrap())
    });
    group.bench_function("load_unverified", |b| {
        b.iter(|| load(black_box(&dir), Checksums::Skip).unwrap())
    });
    let train = load_split(&dir, SplitKind::Train, Checksums::Skip).unwrap();
    group.bench_function("normalise_train", |b| {
        b.iter(|| normalise(black_box(train.pixels.view())))
    });
    group.finish();
}

criterion_group!(benches, bench_load);
criterion_main!(benches);
