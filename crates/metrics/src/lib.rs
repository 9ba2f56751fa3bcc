#![warn(missing_docs, clippy::missing_errors_doc)]
//! Evaluation metrics: the paper's Tables 2 and 3, and Table 4, measures of monosemanticity
//! that the NE loss does not optimise (definitions in the project's docs/method.md).
//!
//! Everything here is a pure function of trained models and data, parallel with rayon over
//! neurons and over evaluation chunks, and bit-identical whatever the thread count: every
//! reduction runs over fixed chunks combined in order.

pub mod ground_truth;
mod neuron;
mod proxies;
mod sae;
mod summary;

pub use neuron::{Activity, DEFAULT_EXAMPLE_CAP, NeuronStats, activity, neuron_stats};
pub use proxies::{
    MIN_ACTIVE_EXAMPLES, TOP_EXAMPLES, Table4, UnitImages, UnitProxies, unit_proxies,
};
pub use sae::{
    ActivationEvaluation, ActivationMetrics, EvalOptions, EvalSet, PerLatent, SaeEvaluation,
    SaeMetrics, TrainScan, evaluate_activations, evaluate_sae, mlp_unit_proxies,
};
pub use summary::{MeanStd, median};
