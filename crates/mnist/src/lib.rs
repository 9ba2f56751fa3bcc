//! MNIST in the classic IDX format: checked loading, normalisation, raw pixels.
