//! The repository as a newcomer meets it: the README's two commands share one build, the README
//! sends readers only to files of the repository, and `docs/method.md` defines every figure the
//! run reports.
use std::path::Path;

fn read(path: &str) -> String {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

#[test]
fn the_readme_links_the_method_and_nothing_outside_the_repository() {
    let readme = read("README.md");
    assert!(
        readme.contains("(docs/method.md)"),
        "README links docs/method.md"
    );
    assert!(
        !readme.contains("../"),
        "README points outside the repository"
    );
    assert!(
        !readme.contains("SPEC.md"),
        "README names a file users do not have"
    );
}

#[test]
fn the_method_defines_every_model_loss_and_reported_figure() {
    let method = read("docs/method.md");
    for term in [
        "## The MLP",
        "## The sparse auto-encoder",
        "## Neuron embeddings",
        "## The NE loss",
        "## Table 2",
        "## Table 3",
        "## Table 4",
        "## Feature clusters",
        "**MSE**",
        "**L1**",
        "**L0 %**",
        "**accuracy loss %**",
        "**max dist**",
        "**mean dist**",
        "**size**",
        "**dead %**",
        "**dead ≤ τ %**",
        "## The paper's released models",
        "**label purity**",
        "**top-100 label purity**",
        "**input coherence**",
        "**encoder participation**",
        "**central example**",
    ] {
        assert!(method.contains(term), "docs/method.md lacks {term}");
    }
    assert!(!method.contains("../") && !method.contains("SPEC.md"));
}

/// `cargo xtask` and `cargo test` must build with the same profile, or the second command of the
/// README compiles everything again: the alias may not pick a profile of its own, and the shared
/// dev profile must be optimised, since the training runs on it.
#[test]
fn the_readme_commands_share_one_optimised_build() {
    let config: toml::Table = read(".cargo/config.toml").parse().unwrap();
    let alias = config["alias"]["xtask"].as_str().unwrap();
    assert!(alias.starts_with("run "), "{alias}");
    assert!(
        !alias.contains("--release") && !alias.contains("--profile"),
        "the alias builds another profile than `cargo test`: {alias}"
    );
    let manifest: toml::Table = read("Cargo.toml").parse().unwrap();
    let dev = &manifest["profile"]["dev"];
    assert_eq!(dev["opt-level"].as_integer(), Some(3));
    let readme = read("README.md");
    assert!(readme.contains("cargo xtask reproduce") && readme.contains("cargo test --workspace"));
}
