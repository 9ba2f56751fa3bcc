//! The neuron-embedding loss over a batch, computed over active (example, latent) pairs only.
use ndarray::{Array1, Array2, ArrayView2};

/// The NE loss of one batch and its gradients.
#[derive(Debug, Clone)]
pub struct NeLoss {
    /// Mean over latents with at least two active examples of their mean pairwise cosine distance.
    pub value: f32,
    /// Latents that contributed (n_j >= 2).
    pub latents_counted: usize,
    /// d value / d W_enc (m x d).
    pub grad_w_enc: Array2<f32>,
    /// d value / d b_dec (d), through x = h - b_dec.
    pub grad_b_dec: Array1<f32>,
}

/// NE loss for encoder weights `w_enc` (m x d), centred inputs `centered` = h - b_dec (n x d) and
/// latent activations `acts` (n x m); example i is active for latent j when acts[i, j] > 0.
pub fn ne_loss(w_enc: ArrayView2<f32>, centered: ArrayView2<f32>, acts: ArrayView2<f32>) -> NeLoss {
    let _ = (w_enc, centered, acts);
    todo!("ne_loss: being written")
}
