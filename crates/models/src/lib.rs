//! Hand-written forward and backward passes: linear layers, the MLP, the sparse auto-encoder,
//! optimisers. No autodiff: every gradient is derived by hand and checked by finite differences.

pub mod config;
pub mod linear;
pub mod mlp;
pub mod sae;

pub use config::{MlpConfig, SaeConfig, SaeVariant};
pub use linear::Linear;
pub use mlp::Mlp;
pub use sae::Sae;
