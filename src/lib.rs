//! Neuron embeddings (Foote 2024) on MNIST: the workspace's crates under one name, and the
//! paper's config as the command line runs it.
pub use ne_embed as embed;
pub use ne_experiment as experiment;
pub use ne_explorer as explorer;
pub use ne_figures as figures;
pub use ne_metrics as metrics;
pub use ne_mnist as mnist;
pub use ne_models as models;
pub use ne_shipped as shipped;

/// The paper's experiment as it describes it, `configs/paper.toml` (the studies' base config;
/// `cargo xtask reproduce` runs `configs/paper-recipe.toml` by default).
///
/// # Errors
/// When the file cannot be read or is not a valid config (a clone missing its `configs/`).
pub fn paper_config() -> Result<experiment::Config, experiment::ConfigError> {
    experiment::Config::from_file(&shipped::paper_config())
}
