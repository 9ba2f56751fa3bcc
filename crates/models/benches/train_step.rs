//! One training step of each model on real MNIST data, at the default batch sizes: the MLP
//! (SGD, batch 64), the standard SAE and the NE SAE (Adam, batch 128). The SAEs are first
//! trained for an epoch so that the step runs at the sparsity it has for most of training.
use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::{Array2, Axis, s};
use ne_models::rng::{Stream, stream_rng};
use ne_models::{
    Adam, Mlp, MlpConfig, SaeConfig, SaeVariant, Sgd, train_mlp, train_sae, weights_at,
};

fn train_step(c: &mut Criterion) {
    let data = ne_mnist::load(&ne_shipped::mnist_dir(), ne_mnist::Checksums::Verify)
        .expect("shipped MNIST");
    let (images, labels) = (data.train.images.view(), data.train.labels.view());

    let config = MlpConfig::default();
    let mut mlp = Mlp::init(
        784,
        config.hidden,
        ne_mnist::CLASSES,
        &mut stream_rng(0, Stream::MlpInit),
    );
    let mut sgd = Sgd::new(config.learning_rate);
    let (batch_x, batch_y) = (images.slice(s![..64, ..]), labels.slice(s![..64]));
    c.bench_function("mlp_step_batch64", |b| {
        b.iter(|| {
            mlp.train_step(&mut sgd, batch_x, batch_y)
                .expect("valid batch")
        })
    });

    let (trained, _) =
        train_mlp(&config, ne_mnist::CLASSES, 0, images, labels, &mut |_| {}).expect("MLP trains");
    let hidden: Array2<f32> = trained.hidden(images);
    let batch_h = hidden.slice_axis(Axis(0), (0..128).into());
    let sae_config = SaeConfig::default();
    for (name, variant) in [
        ("sae_step_standard", SaeVariant::Standard),
        ("sae_step_ne", SaeVariant::Ne),
    ] {
        let (mut sae, _) =
            train_sae(&sae_config, variant, 0, hidden.view(), &mut |_| {}).expect("SAE trains");
        // The last step's weights: every term of the variant on.
        let weights = weights_at(&sae_config.loss_terms(variant), usize::MAX);
        let mut adam = Adam::new(sae_config.learning_rate);
        c.bench_function(name, |b| {
            b.iter(|| {
                sae.train_step(&mut adam, batch_h, weights, sae_config.unit_norm_decoder)
                    .expect("valid batch")
            })
        });
    }
}

criterion_group!(benches, train_step);
criterion_main!(benches);
