//! The sparse auto-encoder d -> m -> d with a pre-encoder bias and unit-norm decoder columns.
use ndarray::{Array1, Array2, ArrayView2};

#[derive(Debug, Clone, PartialEq)]
pub struct Sae {
    /// m x d.
    pub w_enc: Array2<f32>,
    /// m.
    pub b_enc: Array1<f32>,
    /// d x m, each column of unit L2 norm.
    pub w_dec: Array2<f32>,
    /// d; subtracted before encoding, added after decoding.
    pub b_dec: Array1<f32>,
}

impl Sae {
    /// Latents f = ReLU(W_enc (h - b_dec) + b_enc) for rows of `h` (n x d -> n x m).
    pub fn encode(&self, h: ArrayView2<f32>) -> Array2<f32> {
        let centered = &h - &self.b_dec;
        (centered.dot(&self.w_enc.t()) + &self.b_enc).mapv_into(|v| v.max(0.0))
    }

    /// Reconstruction h_hat = W_dec f + b_dec for rows of `f` (n x m -> n x d).
    pub fn decode(&self, f: ArrayView2<f32>) -> Array2<f32> {
        f.dot(&self.w_dec.t()) + &self.b_dec
    }
}
