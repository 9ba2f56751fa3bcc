#![warn(missing_docs)]
//! Where the files shipped with the repository are: the verified MNIST copy, the paper's
//! released models and the configs. The one place that knows the repository's layout: the
//! command line (`xtask`), the experiment's defaults and the tests ask it, while the reusable
//! crates (`ne-mnist`, `ne-models`, ...) take every path from their caller.
use std::path::{Path, PathBuf};

/// The repository's root folder, two levels above this crate's.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/shipped sits two levels down")
        .to_owned()
}

/// `data/mnist`: the four IDX files, committed gzipped (their SHA-256 in
/// `ne_mnist::SHIPPED_SHA256`).
pub fn mnist_dir() -> PathBuf {
    root().join("data/mnist")
}

/// `data/mechmnistic`: the paper's released MLP and SAEs (`torch.save` files).
pub fn paper_models_dir() -> PathBuf {
    root().join("data/mechmnistic")
}

/// `configs`: the paper's config and the variants the README describes.
pub fn configs_dir() -> PathBuf {
    root().join("configs")
}

/// `configs/paper.toml`: the paper's experiment as it describes it, the base of the studies'
/// configs.
pub fn paper_config() -> PathBuf {
    configs_dir().join("paper.toml")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_files_are_where_it_says() {
        assert!(mnist_dir().join("t10k-labels-idx1-ubyte.gz").is_file());
        assert!(paper_models_dir().join("sae-ne.pt").is_file());
        assert!(paper_config().is_file());
        assert!(root().join("Cargo.lock").is_file());
    }
}
