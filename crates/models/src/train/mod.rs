//! Training loops: the MLP with SGD, the SAE with Adam. Shared here: the per-epoch example order,
//! input checks and the divergence check.
use crate::error::TrainError;
use crate::rng::{self, Stream};
use ndarray::ArrayView2;
use rand_chacha::ChaCha8Rng;

pub mod mlp;
pub mod sae;

/// Steps between two progress reports (one more report comes at each epoch's end).
pub const PROGRESS_EVERY: usize = 50;

/// The order in which an epoch visits the examples: a fresh shuffle of the previous epoch's order
/// (itself uniformly random), from the run's shuffle stream.
#[derive(Debug, Clone)]
struct EpochOrder {
    rng: ChaCha8Rng,
    order: Vec<usize>,
}

impl EpochOrder {
    fn new(seed: u64, stream: Stream, examples: usize) -> Self {
        Self {
            rng: rng::stream_rng(seed, stream),
            order: (0..examples).collect(),
        }
    }

    fn next_epoch(&mut self) -> &[usize] {
        rng::shuffle(&mut self.rng, &mut self.order);
        &self.order
    }
}

/// A non-empty, finite data matrix.
fn check_inputs(x: ArrayView2<f32>) -> Result<(), TrainError> {
    if x.nrows() == 0 {
        return Err(TrainError::NoExamples);
    }
    if x.ncols() == 0 {
        return Err(TrainError::NoFeatures);
    }
    match crate::ops::first_non_finite(x) {
        Some((row, col)) => Err(TrainError::NonFiniteInput { row, col }),
        None => Ok(()),
    }
}

fn check_loss(loss: f32, epoch: usize, step: usize) -> Result<(), TrainError> {
    if loss.is_finite() {
        Ok(())
    } else {
        Err(TrainError::NonFiniteLoss { epoch, step, loss })
    }
}
