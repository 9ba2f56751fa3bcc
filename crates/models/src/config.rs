//! Hyperparameters, read from the `[mlp]` and `[sae]` tables of a TOML config.
use serde::{Deserialize, Serialize};

/// The MLP 784 -> hidden -> 10 and how it is trained (plain SGD, no momentum).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpConfig {
    pub hidden: usize,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f32,
}

impl Default for MlpConfig {
    fn default() -> Self {
        Self { hidden: 64, epochs: 3, batch_size: 64, learning_rate: 0.02 }
    }
}

/// The sparse auto-encoder on the MLP's hidden layer and how it is trained (Adam).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaeConfig {
    pub latents: usize,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f32,
    pub lambda_l1: f32,
    /// Weight of the neuron-embedding loss in the NE variant.
    pub lambda_ne: f32,
    /// Step (0-based, counted over the whole run) from which the NE variant adds its loss.
    pub ne_start_step: usize,
}

impl Default for SaeConfig {
    fn default() -> Self {
        Self {
            latents: 512,
            epochs: 1,
            batch_size: 128,
            learning_rate: 1e-3,
            lambda_l1: 3.0,
            lambda_ne: 1000.0,
            ne_start_step: 200,
        }
    }
}

/// Which SAE to train: without or with the neuron-embedding loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SaeVariant {
    Standard,
    Ne,
}
