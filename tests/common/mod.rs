//! What the end-to-end tests share.
use neuron_embeddings::experiment::Config;
use std::path::Path;

/// The paper's config cut down to seconds: 3,000 training and 1,000 test images, one MLP epoch,
/// and the NE loss switched on after 8 of the SAE's 24 steps.
pub fn small_config() -> Config {
    let mut config = neuron_embeddings::paper_config().unwrap();
    config.data.train_limit = 3000;
    config.data.test_limit = 1000;
    config.mlp.epochs = 1;
    config.sae.ne_start_step = 8;
    config.explorer.cluster_examples = 50;
    config
}

/// Copies the folder `from` with everything in it to `to`.
#[allow(dead_code)] // not every test file that shares this module copies folders
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
