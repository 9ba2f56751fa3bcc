//! Training the MLP end to end on synthetic data: learning, determinism, progress, errors.
mod common;

use common::{blobs, with_threads};
use ndarray::s;
use ne_models::{ConfigError, MlpConfig, MlpProgress, TrainError, train_mlp};

/// The classes of `blobs`.
const CLASSES: usize = 10;

fn config(batch_size: usize, epochs: usize, learning_rate: f32) -> MlpConfig {
    MlpConfig {
        hidden: 16,
        epochs,
        batch_size,
        learning_rate,
    }
}

#[test]
fn learns_separable_blobs() {
    let (all_images, all_labels) = blobs(1500, 20, 0.8, 1);
    let (images, labels) = (
        all_images.slice(s![..1000, ..]),
        all_labels.slice(s![..1000]),
    );
    let (mlp, history) =
        train_mlp(&config(64, 3, 0.3), CLASSES, 7, images, labels, &mut |_| {}).unwrap();
    assert_eq!(history.epochs.len(), 3);
    let losses: Vec<f32> = history.epochs.iter().map(|e| e.loss).collect();
    assert!(
        losses.windows(2).all(|w| w[1] < w[0]),
        "training loss should fall: {losses:?}"
    );
    let held_out = (
        all_images.slice(s![1000.., ..]),
        all_labels.slice(s![1000..]),
    );
    let accuracy = mlp.accuracy(held_out.0, held_out.1).unwrap();
    assert!(accuracy > 0.95, "held-out accuracy {accuracy}");
    assert!(history.epochs[2].accuracy > 0.9);
}

/// Batches of 64 (one gradient chunk) and 150 (three chunks reduced in order), each with a last
/// partial batch: the weights must not depend on how many threads rayon has.
#[test]
fn bit_identical_with_one_and_two_threads() {
    let (images, labels) = blobs(1000, 20, 0.8, 3);
    for batch_size in [64, 150] {
        let cfg = config(batch_size, 2, 0.05);
        let train = |threads| {
            with_threads(threads, || {
                train_mlp(&cfg, CLASSES, 11, images.view(), labels.view(), &mut |_| {}).unwrap()
            })
        };
        let (one, one_history) = train(1);
        let (two, two_history) = train(2);
        assert_eq!(
            one.to_safetensors(),
            two.to_safetensors(),
            "batch {batch_size}"
        );
        assert_eq!(one_history, two_history);
    }
    let other_seed = train_mlp(
        &config(64, 2, 0.05),
        CLASSES,
        12,
        images.view(),
        labels.view(),
        &mut |_| {},
    )
    .unwrap();
    let same_seed = train_mlp(
        &config(64, 2, 0.05),
        CLASSES,
        11,
        images.view(),
        labels.view(),
        &mut |_| {},
    )
    .unwrap();
    assert_ne!(other_seed.0, same_seed.0, "the seed must matter");
}

#[test]
fn progress_every_50_steps_and_at_epoch_ends() {
    // 1000 examples at batch 64: 16 steps per epoch, the last with 40 examples.
    let (images, labels) = blobs(1000, 20, 0.8, 4);
    let mut reports: Vec<MlpProgress> = Vec::new();
    let (_, history) = train_mlp(
        &config(64, 4, 0.05),
        CLASSES,
        5,
        images.view(),
        labels.view(),
        &mut |p| reports.push(p.clone()),
    )
    .unwrap();
    let steps: Vec<usize> = reports.iter().map(|p| p.step).collect();
    assert_eq!(steps, [16, 32, 48, 50, 64]);
    assert!(reports.iter().all(|p| p.steps_total == 64 && p.epochs == 4));
    assert_eq!(
        reports.iter().map(|p| p.epoch).collect::<Vec<_>>(),
        [0, 1, 2, 3, 3]
    );
    let ends: Vec<_> = reports.iter().filter_map(|p| p.epoch_end).collect();
    assert_eq!(ends, history.epochs);
    assert!(reports[3].epoch_end.is_none());
    assert!(
        reports
            .iter()
            .all(|p| p.running_loss.is_finite() && p.running_loss > 0.0)
    );
}

#[test]
fn absurd_learning_rate_stops_with_an_error_naming_the_step() {
    let (images, labels) = blobs(1000, 20, 0.8, 5);
    let err = train_mlp(
        &config(64, 3, 1e6),
        CLASSES,
        1,
        images.view(),
        labels.view(),
        &mut |_| {},
    )
    .unwrap_err();
    match err {
        TrainError::NonFiniteLoss { epoch, step, loss } => {
            assert_eq!(epoch, 0);
            assert!(step > 0 && step < 16, "diverged at step {step}");
            assert!(!loss.is_finite());
            let message = err.to_string();
            assert!(message.contains(&format!("step {step}")), "{message}");
        }
        other => panic!("expected a non-finite loss, got {other:?}"),
    }
}

#[test]
fn bad_config_or_data_is_rejected_before_training() {
    let (images, labels) = blobs(100, 20, 0.8, 6);
    let mut called = false;
    let mut run = |cfg: &MlpConfig, images: ndarray::ArrayView2<f32>, labels| {
        train_mlp(cfg, CLASSES, 0, images, labels, &mut |_| called = true).unwrap_err()
    };
    let good = config(64, 1, 0.05);
    assert_eq!(
        run(
            &MlpConfig {
                batch_size: 0,
                ..good.clone()
            },
            images.view(),
            labels.view()
        ),
        TrainError::Config(ConfigError::Zero {
            field: "mlp.batch_size"
        })
    );
    assert!(matches!(
        run(
            &MlpConfig {
                learning_rate: f32::NAN,
                ..good.clone()
            },
            images.view(),
            labels.view()
        ),
        TrainError::Config(ConfigError::NotPositive {
            field: "mlp.learning_rate",
            ..
        })
    ));
    assert_eq!(
        run(&good, images.view(), labels.slice(s![..99])),
        TrainError::LabelCount {
            examples: 100,
            labels: 99
        }
    );
    let mut bad_labels = labels.clone();
    bad_labels[42] = 10;
    assert_eq!(
        run(&good, images.view(), bad_labels.view()),
        TrainError::LabelOutOfRange {
            index: 42,
            label: 10,
            classes: 10
        }
    );
    let mut bad_images = images.clone();
    bad_images[[7, 3]] = f32::INFINITY;
    assert_eq!(
        run(&good, bad_images.view(), labels.view()),
        TrainError::NonFiniteInput { row: 7, col: 3 }
    );
    assert_eq!(
        run(&good, images.slice(s![..0, ..]), labels.slice(s![..0])),
        TrainError::NoExamples
    );
    assert!(!called, "nothing may train on rejected input");
}
