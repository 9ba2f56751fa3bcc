//! Typed errors: bad hyperparameters, bad training data, diverged training, bad weight files.
use thiserror::Error;

/// A hyperparameter that cannot give a meaningful run; `field` is its TOML path.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ConfigError {
    #[error("{field} must be at least 1, got 0")]
    Zero { field: &'static str },
    #[error("{field} must be a finite number greater than 0, got {value}")]
    NotPositive { field: &'static str, value: f32 },
    #[error("{field} must be a finite number of at least 0, got {value}")]
    Negative { field: &'static str, value: f32 },
    #[error("{field} must be at most {max}, got {value}")]
    TooLarge {
        field: &'static str,
        value: usize,
        max: usize,
    },
    #[error(
        "sae.ne_start_step is {start} but the SAE trains for only {steps} steps ({epochs} \
         epoch(s) of {examples} examples in batches of {batch_size}): the NE loss would never \
         switch on and the NE SAE would be the standard one; lower sae.ne_start_step or train \
         on more examples"
    )]
    NeNeverOn {
        start: usize,
        steps: usize,
        epochs: usize,
        examples: usize,
        batch_size: usize,
    },
    #[error("{field} must lie in [0, 1), got {value}")]
    NotAFraction { field: &'static str, value: f32 },
    #[error("{field} = \"{reduction}\" does not apply to the {kind} term")]
    Reduction {
        field: &'static str,
        reduction: &'static str,
        kind: &'static str,
    },
}

/// Why a training run stopped without a model.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum TrainError {
    #[error("invalid config: {0}")]
    Config(#[from] ConfigError),
    #[error("no training examples")]
    NoExamples,
    #[error("training examples have no features (0 columns)")]
    NoFeatures,
    #[error("{examples} training examples but {labels} labels")]
    LabelCount { examples: usize, labels: usize },
    #[error("label {label} of training example {index} is not a class below {classes}")]
    LabelOutOfRange {
        index: usize,
        label: u8,
        classes: usize,
    },
    #[error("training input is not finite at example {row}, feature {col}")]
    NonFiniteInput { row: usize, col: usize },
    /// Training diverged; `epoch` and `step` are 0-based, `step` counts over the whole run.
    #[error("loss became non-finite ({loss}) at step {step} (epoch {epoch}; both counted from 0)")]
    NonFiniteLoss {
        epoch: usize,
        step: usize,
        loss: f32,
    },
    /// The loss of the last step was finite but its update was not.
    #[error("weights became non-finite in the update of the last step ({step}, counted from 0)")]
    NonFiniteWeights { step: usize },
}

/// Bad input to a trained model, or a weight file that does not describe one.
#[derive(Debug, Error)]
pub enum ModelError {
    #[error("input has {found} features per example, the model expects {expected}")]
    InputWidth { expected: usize, found: usize },
    #[error("{examples} examples but {labels} labels")]
    LabelCount { examples: usize, labels: usize },
    #[error("label {label} of example {index} is not a class below {classes}")]
    LabelOutOfRange {
        index: usize,
        label: u8,
        classes: usize,
    },
    #[error("a training step needs at least one example")]
    EmptyBatch,
    #[error("not a valid safetensors file: {0}")]
    Safetensors(#[from] safetensors::SafeTensorError),
    #[error("tensor `{name}` is missing")]
    MissingTensor { name: &'static str },
    #[error("unexpected tensor `{name}`")]
    UnexpectedTensor { name: String },
    #[error("tensor `{name}` has dtype {found}, expected F32")]
    Dtype { name: &'static str, found: String },
    #[error("tensor `{name}` has shape {found:?}, expected {expected}")]
    Shape {
        name: &'static str,
        found: Vec<usize>,
        expected: String,
    },
    #[error("tensor `{name}` contains a non-finite value")]
    NonFinite { name: &'static str },
}
