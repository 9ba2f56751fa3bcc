//! The MLP 784 -> 64 (ReLU) -> 10 of the paper.
use crate::Linear;
use ndarray::{Array2, ArrayView2};

#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    /// 784 -> hidden; PyTorch name `fc1`.
    pub fc1: Linear,
    /// hidden -> 10; PyTorch name `fc2`.
    pub fc2: Linear,
}

impl Mlp {
    /// Hidden activations ReLU(fc1(x)) for normalised images (n x 784).
    pub fn hidden(&self, images: ArrayView2<f32>) -> Array2<f32> {
        self.fc1.forward(images).mapv_into(|v| v.max(0.0))
    }

    /// Class logits from hidden activations (n x hidden -> n x 10).
    pub fn logits_from_hidden(&self, hidden: ArrayView2<f32>) -> Array2<f32> {
        self.fc2.forward(hidden)
    }
}
