//! Typed errors: bad hyperparameters, bad training data, diverged training, bad weight files.
use thiserror::Error;

/// A hyperparameter that cannot give a meaningful run; `field` is its TOML path.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ConfigError {
    /// A count (epochs, batch size, width) that is 0.
    #[error("{field} must be at least 1, got 0")]
    Zero {
        /// The setting.
        field: &'static str,
    },
    /// A rate or scale that is 0, negative, NaN or infinite.
    #[error("{field} must be a finite number greater than 0, got {value}")]
    NotPositive {
        /// The setting.
        field: &'static str,
        /// The value given.
        value: f32,
    },
    /// A weight or decay that is negative, NaN or infinite.
    #[error("{field} must be a finite number of at least 0, got {value}")]
    Negative {
        /// The setting.
        field: &'static str,
        /// The value given.
        value: f32,
    },
    /// A count above what the run can hold.
    #[error("{field} must be at most {max}, got {value}")]
    TooLarge {
        /// The setting.
        field: &'static str,
        /// The value given.
        value: usize,
        /// The largest allowed.
        max: usize,
    },
    /// The NE loss would switch on after the last step, so the NE SAE would be the standard one.
    #[error(
        "sae.ne_start_step is {start} but the SAE trains for only {steps} steps ({epochs} \
         epoch(s) of {examples} examples in batches of {batch_size}): the NE loss would never \
         switch on and the NE SAE would be the standard one; lower sae.ne_start_step or train \
         on more examples"
    )]
    NeNeverOn {
        /// `sae.ne_start_step`.
        start: usize,
        /// The steps the SAE trains for.
        steps: usize,
        /// Its epochs.
        epochs: usize,
        /// Training examples per epoch.
        examples: usize,
        /// Examples per step.
        batch_size: usize,
    },
    /// A momentum or β outside [0, 1).
    #[error("{field} must lie in [0, 1), got {value}")]
    NotAFraction {
        /// The setting.
        field: &'static str,
        /// The value given.
        value: f32,
    },
    /// A loss term given a reduction it has no meaning for.
    #[error("{field} = \"{reduction}\" does not apply to the {kind} term")]
    Reduction {
        /// The setting.
        field: &'static str,
        /// The reduction asked for.
        reduction: &'static str,
        /// The loss term's kind.
        kind: &'static str,
    },
}

/// Why a training run stopped without a model.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum TrainError {
    /// The hyperparameters were refused before any step.
    #[error("invalid config: {0}")]
    Config(#[from] ConfigError),
    /// The training set is empty.
    #[error("no training examples")]
    NoExamples,
    /// The training examples have zero width.
    #[error("training examples have no features (0 columns)")]
    NoFeatures,
    /// Examples and labels do not pair up.
    #[error("{examples} training examples but {labels} labels")]
    LabelCount {
        /// Rows of the inputs.
        examples: usize,
        /// Labels given.
        labels: usize,
    },
    /// A label the model has no output for.
    #[error("label {label} of training example {index} is not a class below {classes}")]
    LabelOutOfRange {
        /// Its example.
        index: usize,
        /// The label.
        label: u8,
        /// The model's class count.
        classes: usize,
    },
    /// A NaN or infinity in the inputs, which would poison every weight.
    #[error("training input is not finite at example {row}, feature {col}")]
    NonFiniteInput {
        /// Its example.
        row: usize,
        /// Its feature.
        col: usize,
    },
    /// Training diverged; `epoch` and `step` are 0-based, `step` counts over the whole run.
    #[error("loss became non-finite ({loss}) at step {step} (epoch {epoch}; both counted from 0)")]
    NonFiniteLoss {
        /// The epoch of the step.
        epoch: usize,
        /// The step.
        step: usize,
        /// The loss it gave.
        loss: f32,
    },
    /// The loss of the last step was finite but its update was not.
    #[error("weights became non-finite in the update of the last step ({step}, counted from 0)")]
    NonFiniteWeights {
        /// The last step.
        step: usize,
    },
}

/// Bad input to a trained model, or a weight file that does not describe one.
#[derive(Debug, Error)]
pub enum ModelError {
    /// Inputs of another width than the model reads.
    #[error("input has {found} features per example, the model expects {expected}")]
    InputWidth {
        /// The model's input width.
        expected: usize,
        /// The inputs' width.
        found: usize,
    },
    /// Examples and labels do not pair up.
    #[error("{examples} examples but {labels} labels")]
    LabelCount {
        /// Rows of the inputs.
        examples: usize,
        /// Labels given.
        labels: usize,
    },
    /// A label the model has no output for.
    #[error("label {label} of example {index} is not a class below {classes}")]
    LabelOutOfRange {
        /// Its example.
        index: usize,
        /// The label.
        label: u8,
        /// The model's class count.
        classes: usize,
    },
    /// A step given no example, whose mean gradient would be 0 / 0.
    #[error("a training step needs at least one example")]
    EmptyBatch,
    /// The bytes are not a safetensors file.
    #[error("not a valid safetensors file: {0}")]
    Safetensors(#[from] safetensors::SafeTensorError),
    /// A tensor the model needs is not in the file.
    #[error("tensor `{name}` is missing")]
    MissingTensor {
        /// Its name in the file.
        name: &'static str,
    },
    /// The file holds a tensor the model does not have, so it describes another model.
    #[error("unexpected tensor `{name}`")]
    UnexpectedTensor {
        /// Its name in the file.
        name: String,
    },
    /// A tensor stored as another type than f32.
    #[error("tensor `{name}` has dtype {found}, expected F32")]
    Dtype {
        /// Its name in the file.
        name: &'static str,
        /// The type it has.
        found: String,
    },
    /// A tensor of the wrong shape, or shapes that do not fit together.
    #[error("tensor `{name}` has shape {found:?}, expected {expected}")]
    Shape {
        /// Its name in the file.
        name: &'static str,
        /// Its shape.
        found: Vec<usize>,
        /// The shape it should have.
        expected: String,
    },
    /// A NaN or infinity among the weights.
    #[error("tensor `{name}` contains a non-finite value")]
    NonFinite {
        /// Its name in the file.
        name: &'static str,
    },
}
