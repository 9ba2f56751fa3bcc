//! The paper's own figures (Foote 2024, Tables 2 and 3; one run each; the paper has no Table 4):
//! one copy for the report, the curve, the explorer and anything else that compares against them.
use ne_metrics::{SaeMetrics, Table4};
use serde_json::{Value, json};

/// The standard SAE's row.
pub const PAPER_STANDARD: SaeMetrics = SaeMetrics {
    mse: 0.33,
    l1: 2600.0,
    l0_pct: 2.4,
    acc_loss_pct: 1.5,
    max_dist: 0.45,
    mean_dist: 0.21,
    size: 7.0,
    dead_pct: 23.8,
    dead_threshold_pct: f64::NAN,
    dead_training_pct: f64::NAN,
    dead_late_pct: f64::NAN,
    table4: Table4::UNMEASURED,
};

/// The row of the SAE trained with the neuron-embedding loss.
pub const PAPER_NE: SaeMetrics = SaeMetrics {
    mse: 0.55,
    l1: 3300.0,
    l0_pct: 9.1,
    acc_loss_pct: 4.6,
    max_dist: 0.28,
    mean_dist: 0.08,
    size: 32.0,
    dead_pct: 3.7,
    dead_threshold_pct: f64::NAN,
    dead_training_pct: f64::NAN,
    dead_late_pct: f64::NAN,
    table4: Table4::UNMEASURED,
};

/// The MLP's test accuracy, in [0, 1].
pub const PAPER_MLP_TEST_ACCURACY: f64 = 0.94;

/// The paper's Tables 2 and 3 and its MLP accuracy, in the shape the explorer's start page prints
/// beside the run's figures (`ExplorerInput::paper`).
pub fn explorer_figures() -> Value {
    json!({
        "standard": PAPER_STANDARD,
        "ne": PAPER_NE,
        "mlp_test_accuracy": PAPER_MLP_TEST_ACCURACY,
    })
}
