//! The MNIST experiment end to end: the TOML config, every stage from data to metrics, the files
//! a run leaves (`metrics.json`, `report.md`, models, the explorer), and the report.

mod config;
pub mod curve;
pub mod dead_latents;
pub mod explore;
pub mod finished;
pub mod flops;
pub mod imported;
pub mod interop;
pub mod layers;
pub mod outputs;
pub mod paper;
pub mod paper_models;
pub mod pipeline;
pub mod recipe;
pub mod report;
mod reproduce;
mod results;
pub mod store;
pub mod sweep;
pub mod synthetic;

pub use config::{Config, ConfigError, CurveConfig, DataConfig, EvalConfig, ExplorerConfig};
pub use pipeline::{RunData, SeedExtras, run_seed};
pub use reproduce::{Peak, ReproduceOptions, Reproduction, reproduce};
pub use results::{MetricsFile, SeedRun, Summary};
pub use store::ModelSource;
