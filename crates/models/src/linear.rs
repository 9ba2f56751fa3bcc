//! A fully connected layer y = x W^T + b, stored like PyTorch's `nn.Linear`.
use ndarray::{Array1, Array2, ArrayView2};

#[derive(Debug, Clone, PartialEq)]
pub struct Linear {
    /// out x in, as PyTorch stores it.
    pub weight: Array2<f32>,
    /// out.
    pub bias: Array1<f32>,
}

impl Linear {
    /// Rows of `x` (n x in) to rows of outputs (n x out).
    pub fn forward(&self, x: ArrayView2<f32>) -> Array2<f32> {
        x.dot(&self.weight.t()) + &self.bias
    }
}
