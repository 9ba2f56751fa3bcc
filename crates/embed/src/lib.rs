//! Neuron embeddings (Foote 2024): for a neuron with input weights w and an example whose input
//! is x, the embedding is w ⊙ x. Here: cosine distances between embeddings, the sparse NE loss
//! with its hand-written gradient, and feature clusters.

pub mod ne_loss;

pub use ne_loss::{NeLoss, ne_loss};
