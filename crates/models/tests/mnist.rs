//! The default MLP on the shipped MNIST: test accuracy must land near the paper's 94.0%.
//! About 2 s in the (optimised) dev profile, so it runs with the default suite.
use ne_models::{MlpConfig, train_mlp};

#[test]
fn default_mlp_reaches_the_paper_accuracy() {
    let data = ne_mnist::load(&ne_shipped::mnist_dir(), ne_mnist::Checksums::Verify)
        .expect("the shipped MNIST");
    let (images, labels) = (data.train.images.view(), data.train.labels.view());
    let mut epoch_ends = Vec::new();
    let (mlp, history) = train_mlp(
        &MlpConfig::default(),
        ne_mnist::CLASSES,
        0,
        images,
        labels,
        &mut |p| epoch_ends.extend(p.epoch_end),
    )
    .expect("training succeeds");
    assert_eq!(epoch_ends, history.epochs);
    let accuracy = mlp
        .accuracy(data.test.images.view(), data.test.labels.view())
        .unwrap();
    assert!(
        (0.935..=0.955).contains(&accuracy),
        "test accuracy {accuracy}"
    );
    let loaded = ne_models::Mlp::from_safetensors(&mlp.to_safetensors()).unwrap();
    assert_eq!(
        loaded
            .accuracy(data.test.images.view(), data.test.labels.view())
            .unwrap(),
        accuracy
    );
}
