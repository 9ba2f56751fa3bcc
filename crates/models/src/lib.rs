#![warn(missing_docs, clippy::missing_errors_doc)]
//! Hand-written forward and backward passes: linear layers, the MLP, the sparse auto-encoder,
//! optimisers. No autodiff: every gradient is derived by hand and checked by finite differences.

pub mod config;
pub mod error;
#[cfg(test)]
mod gradcheck;
pub mod linear;
pub mod loss_terms;
pub mod mlp;
pub mod ops;
pub mod optim;
mod parallel;
pub mod rng;
pub mod sae;
pub mod saelens;
pub mod torch;
pub mod train;
mod weights;

pub use config::{MlpConfig, NeForm, SaeConfig, SaeInit, SaeVariant};
pub use error::{ConfigError, ModelError, TrainError};
pub use linear::{Linear, LinearGradients};
pub use loss_terms::{BatchShape, LossKind, LossTerm, Reduction, weights_at, weights_for_batch};
pub use mlp::{Mlp, MlpStepStats};
pub use optim::{Adam, AdamW, Optimizer, OptimizerConfig, Sgd};
pub use sae::{
    NamedLoss, Sae, SaeBatch, SaeForward, SaeGradients, SaeLossWeights, SaeStepStats, SparseDecoder,
};
pub use train::mlp::{MlpEpoch, MlpHistory, MlpProgress, train_mlp};
pub use train::sae::{
    SaeEpoch, SaeHistory, SaeLossParts, SaeProgress, SaeTraining, TrainingFiring, train_sae,
};
