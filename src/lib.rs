//! Neuron embeddings (Foote 2024) on MNIST: the workspace's crates under one name.
pub use ne_embed as embed;
pub use ne_experiment as experiment;
pub use ne_explorer as explorer;
pub use ne_figures as figures;
pub use ne_metrics as metrics;
pub use ne_mnist as mnist;
pub use ne_models as models;
