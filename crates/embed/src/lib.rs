#![warn(missing_docs, clippy::missing_errors_doc)]
//! Neuron embeddings (Foote 2024): for a neuron with input weights w and an example whose input
//! is x, the embedding is w ⊙ x. Here: cosine distances between embeddings, the sparse NE loss
//! with its hand-written gradient, and feature clusters.

pub mod clusters;
pub mod distance;
pub mod gram;
pub mod ne_loss;
pub mod product_zeros;
pub mod row_sums;
pub mod running_mean;

pub use clusters::{Cluster, ClusterSeparation, cluster_separation, feature_clusters};
pub use distance::{
    DistanceStats, cosine_distance, cosine_similarity_matrix, embeddings, pairwise_distance_stats,
};
pub use gram::gram;
pub use ne_loss::{
    ActiveSets, NeLoss, NeLossInputs, NeReduction, ne_loss, ne_loss_of_active, ne_loss_reduced,
    ne_loss_with_input_grads,
};
pub use product_zeros::{f32_product_keeps_negative_zero, f64_product_keeps_negative_zero};
pub use row_sums::weighted_row_sums;
pub use running_mean::RunningMeans;
