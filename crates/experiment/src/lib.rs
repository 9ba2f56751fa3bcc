//! The MNIST experiment end to end: config, training stages, results and report.
