//! How long `write_explorer` takes at the paper's size: the 10,000 MNIST test images, the MLP's
//! 64 hidden neurons and two SAEs of 512 latents, randomly initialised, 200 examples clustered
//! per neuron. Also prints the size of the folder it writes.
use criterion::{Criterion, criterion_group, criterion_main};
use ne_explorer::{ExplorerInput, SaeInput, write_explorer};
use ne_metrics::{UnitImages, unit_proxies};
use ne_mnist::{Checksums, SplitKind, load_split};
use ne_models::rng::{Stream, stream_rng};
use ne_models::{Mlp, Sae};
use ne_shipped::mnist_dir;

fn folder_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .expect("the explorer folder exists")
        .map(|entry| {
            entry
                .expect("readable entry")
                .metadata()
                .expect("metadata")
                .len()
        })
        .sum()
}

fn full_size(c: &mut Criterion) {
    let test = load_split(&mnist_dir(), SplitKind::Test, Checksums::Skip).expect("shipped MNIST");
    let mlp = Mlp::init(784, 64, 10, &mut stream_rng(0, Stream::MlpInit));
    let standard = Sae::init(64, 512, &mut stream_rng(0, Stream::SaeInit));
    let ne = Sae::init(64, 512, &mut stream_rng(1, Stream::SaeInit));
    let (mlp_firing, sae_firing) = (vec![1u64; 64], vec![1u64; 512]);
    let hidden = mlp.hidden(test.images.view());
    let images = UnitImages::of(test.pixels.view());
    let proxies = |weights: &ndarray::Array2<f32>, acts: &ndarray::Array2<f32>| {
        unit_proxies(weights.view(), acts.view(), test.labels.view(), &images)
    };
    let mlp_proxies = proxies(&mlp.fc1.weight, &hidden);
    let standard_proxies = proxies(&standard.w_enc, &standard.encode(hidden.view()));
    let ne_proxies = proxies(&ne.w_enc, &ne.encode(hidden.view()));
    let saes = [
        SaeInput {
            key: "standard",
            title: "Standard SAE",
            provenance: "randomly initialised",
            sae: &standard,
            train_firing: &sae_firing,
            proxies: &standard_proxies,
        },
        SaeInput {
            key: "ne",
            title: "SAE + NE loss",
            provenance: "randomly initialised",
            sae: &ne,
            train_firing: &sae_firing,
            proxies: &ne_proxies,
        },
    ];
    let metrics = serde_json::json!({"config": {}, "runs": [], "summary": {}});
    let paper = serde_json::json!({"standard": {}, "ne": {}, "mlp_test_accuracy": 0.94});
    let input = ExplorerInput {
        test: &test,
        mlp: &mlp,
        mlp_train_firing: &mlp_firing,
        mlp_proxies: &mlp_proxies,
        saes: &saes,
        metrics: &metrics,
        paper: &paper,
        seed: 0,
        cluster_threshold: 0.9,
        cluster_examples: 200,
        distance_cap: ne_metrics::DEFAULT_EXAMPLE_CAP,
        models_label: "ours",
    };
    let dir = tempfile::tempdir().expect("a temporary folder");

    let mut group = c.benchmark_group("write_explorer");
    group.sample_size(10);
    group.bench_function("mnist_test_64_plus_2x512", |b| {
        b.iter(|| write_explorer(dir.path(), &input).expect("the explorer is written"));
    });
    group.finish();
    println!(
        "explorer folder: {:.1} MB",
        folder_bytes(dir.path()) as f64 / 1e6
    );
}

criterion_group!(benches, full_size);
criterion_main!(benches);
