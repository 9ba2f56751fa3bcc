//! The synthetic benchmark: SAEs trained on activations built from a known dictionary, so that
//! whether the NE loss recovers the true features, and makes latents fire on one feature each,
//! is measured exactly rather than through MNIST's labels and pixels.

pub mod generator;
