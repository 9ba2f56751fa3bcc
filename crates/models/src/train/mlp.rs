//! Training the MLP: softmax cross-entropy, plain SGD, shuffled mini-batches.
use super::{EpochOrder, PROGRESS_EVERY, check_inputs, check_loss};
use crate::error::TrainError;
use crate::ops::gather_rows;
use crate::optim::Sgd;
use crate::rng::{self, Stream};
use crate::{Mlp, MlpConfig};
use ndarray::{Array2, ArrayView1, ArrayView2, Axis};
use std::fmt;

/// Training loss and accuracy over one epoch, measured on each batch before its update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MlpEpoch {
    /// Mean cross-entropy over the epoch's examples.
    pub loss: f32,
    /// Share of the epoch's examples classified correctly, in [0, 1].
    pub accuracy: f32,
}

impl fmt::Display for MlpEpoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "training loss {:.4}, training accuracy {:.2}%",
            self.loss,
            100.0 * self.accuracy
        )
    }
}

/// What training measured, one entry per epoch.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MlpHistory {
    /// In training order.
    pub epochs: Vec<MlpEpoch>,
}

/// A progress report, sent every `PROGRESS_EVERY` steps and at each epoch's end.
#[derive(Debug, Clone, PartialEq)]
pub struct MlpProgress {
    /// Current epoch, counted from 0.
    pub epoch: usize,
    /// Epochs of the run.
    pub epochs: usize,
    /// Steps completed in the whole run, 1..=steps_total.
    pub step: usize,
    /// Steps of the whole run.
    pub steps_total: usize,
    /// Mean batch loss over the steps since the previous report.
    pub running_loss: f32,
    /// Set on the report at an epoch's end.
    pub epoch_end: Option<MlpEpoch>,
}

/// Trains a fresh MLP (images' width -> `config.hidden` -> 10) on normalised `images` (n x 784)
/// and `labels` (n, each < `classes`, the MLP's outputs). Deterministic for a given seed whatever the rayon thread count:
/// initialisation uses stream `MlpInit` and the per-epoch shuffle stream `MlpShuffle` of the
/// seed's ChaCha8Rng; every epoch visits all examples in ceil(n / batch) steps, the last batch
/// possibly smaller.
///
/// # Errors
/// Before any step: [`TrainError::Config`] for a config [`MlpConfig::validate`] refuses,
/// [`TrainError::NoExamples`], [`TrainError::NoFeatures`], [`TrainError::NonFiniteInput`],
/// [`TrainError::LabelCount`] or [`TrainError::LabelOutOfRange`] for data it cannot train on.
/// During training: [`TrainError::NonFiniteLoss`] when it diverges.
pub fn train_mlp(
    config: &MlpConfig,
    classes: usize,
    seed: u64,
    images: ArrayView2<f32>,
    labels: ArrayView1<u8>,
    progress: &mut dyn FnMut(&MlpProgress),
) -> Result<(Mlp, MlpHistory), TrainError> {
    config.validate()?;
    check_inputs(images)?;
    check_labels(images.nrows(), labels, classes)?;
    let examples = images.nrows();
    let mut init_rng = rng::stream_rng(seed, Stream::MlpInit);
    let mut model = Mlp::init(images.ncols(), config.hidden, classes, &mut init_rng);
    let mut order = EpochOrder::new(seed, Stream::MlpShuffle, examples);
    let mut sgd = Sgd::new(config.learning_rate);
    let steps_per_epoch = examples.div_ceil(config.batch_size);
    let steps_total = steps_per_epoch * config.epochs;
    let mut history = MlpHistory::default();
    let mut batch = Array2::zeros((config.batch_size, images.ncols()));
    let mut step = 0;
    for epoch in 0..config.epochs {
        let (mut epoch_loss, mut epoch_correct) = (0.0f64, 0usize);
        let (mut window_loss, mut window_steps) = (0.0f64, 0usize);
        for rows in order.next_epoch().chunks(config.batch_size) {
            let x = gather_rows(images, rows, &mut batch);
            let y = labels.select(Axis(0), rows);
            let stats = model
                .train_step(&mut sgd, x, y.view())
                .expect("batches are non-empty rows of checked data");
            check_loss(stats.loss, epoch, step)?;
            step += 1;
            epoch_loss += f64::from(stats.loss) * rows.len() as f64;
            epoch_correct += stats.correct;
            window_loss += f64::from(stats.loss);
            window_steps += 1;
            let epoch_done = step % steps_per_epoch == 0;
            let epoch_end = epoch_done.then(|| MlpEpoch {
                loss: (epoch_loss / examples as f64) as f32,
                accuracy: epoch_correct as f32 / examples as f32,
            });
            if step % PROGRESS_EVERY == 0 || epoch_done {
                progress(&MlpProgress {
                    epoch,
                    epochs: config.epochs,
                    step,
                    steps_total,
                    running_loss: (window_loss / window_steps as f64) as f32,
                    epoch_end,
                });
                (window_loss, window_steps) = (0.0, 0);
            }
            history.epochs.extend(epoch_end);
        }
    }
    if !model.all_finite() {
        return Err(TrainError::NonFiniteWeights { step: step - 1 });
    }
    Ok((model, history))
}

fn check_labels(examples: usize, labels: ArrayView1<u8>, classes: usize) -> Result<(), TrainError> {
    if labels.len() != examples {
        return Err(TrainError::LabelCount {
            examples,
            labels: labels.len(),
        });
    }
    match labels.iter().position(|&l| usize::from(l) >= classes) {
        Some(index) => Err(TrainError::LabelOutOfRange {
            index,
            label: labels[index],
            classes,
        }),
        None => Ok(()),
    }
}
