//! Evaluation metrics of the paper's Tables 2 and 3 (definitions in SPEC.md, "Metrics").
//!
//! Everything here is a pure function of trained models and data, parallel with rayon over
//! neurons and over evaluation chunks, and bit-identical whatever the thread count: every
//! reduction runs over fixed chunks combined in order.

mod neuron;
mod paper;
mod sae;
mod summary;

pub use neuron::{DEFAULT_EXAMPLE_CAP, NeuronStats, firing_counts, neuron_stats};
pub use paper::{PAPER_MLP_TEST_ACCURACY, PAPER_NE, PAPER_STANDARD};
pub use sae::{SaeEvaluation, SaeMetrics, evaluate_sae};
pub use summary::{MeanStd, median};
