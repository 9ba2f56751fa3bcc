//! What the explorer is built from, and the checks that it all fits together.
use ne_metrics::UnitProxies;
use ne_models::{Mlp, Sae};
use std::path::PathBuf;

use ne_mnist::CLASSES;
use ne_mnist::IMAGE_PIXELS;

/// One SAE to show next to the MLP.
pub struct SaeInput<'a> {
    /// Short name used in the page's URLs (`#<key>/<latent>`): lower-case letters, digits, `_`
    /// or `-`, e.g. "standard" or "ne".
    pub key: &'a str,
    /// Human-readable name, e.g. "Standard SAE".
    pub title: &'a str,
    /// Where it came from, in a few words (e.g. "trained here, λ_NE 1000").
    pub provenance: &'a str,
    pub sae: &'a Sae,
    /// On how many training examples each latent fired (0 = dead).
    pub train_firing: &'a [u64],
    /// Each latent's Table 4 figures (label purity, input coherence, ...), as the run measured
    /// them.
    pub proxies: &'a [UnitProxies],
}

/// Everything the explorer shows for one seed of a run.
pub struct ExplorerInput<'a> {
    /// The test split (normalised images, raw pixels, labels).
    pub test: &'a ne_mnist::Split,
    pub mlp: &'a Mlp,
    /// On how many training examples each hidden neuron fired.
    pub mlp_train_firing: &'a [u64],
    /// Each hidden neuron's Table 4 figures.
    pub mlp_proxies: &'a [UnitProxies],
    pub saes: &'a [SaeInput<'a>],
    /// The run's `metrics.json`: `{"config", "runs": [...], "summary": {"standard", "ne"}}`.
    pub metrics: &'a serde_json::Value,
    /// Published figures the start page prints beside the run's (for MNIST, the paper's):
    /// `{"standard": .., "ne": ..}` rows in `metrics.json`'s names and `"mlp_test_accuracy"` in
    /// [0, 1].
    pub paper: &'a serde_json::Value,
    /// Which seed's models are shown.
    pub seed: u64,
    /// Two examples' embeddings join a feature cluster above this cosine similarity.
    pub cluster_threshold: f32,
    /// How many top-activating test examples of each neuron are clustered.
    pub cluster_examples: usize,
    /// Activating test examples per neuron behind its max / mean dist: the run's
    /// `[eval] example_cap`, so the page's figures are the ones its tables summarise.
    pub distance_cap: usize,
    /// What the page's tables call the models measured: "ours" for a run's seeds, or another
    /// name (e.g. "released, measured here") for models that are not the run's own.
    pub models_label: &'a str,
}

/// Input the explorer cannot be built from, or a folder it cannot be written to.
#[derive(Debug, thiserror::Error)]
pub enum ExplorerError {
    #[error("{what} has shape {got:?}, expected {expected}")]
    Shape {
        what: String,
        got: Vec<usize>,
        expected: String,
    },
    #[error("{what} contains a non-finite value (NaN or infinity)")]
    NonFinite { what: String },
    #[error("test label {label} at index {index} is not a digit 0-9")]
    Label { index: usize, label: u8 },
    #[error("the test split is empty")]
    EmptyTest,
    #[error("{0} has no neurons to show")]
    NoNeurons(String),
    #[error("SAE key {key:?} {problem}")]
    Key { key: String, problem: &'static str },
    #[error("cluster_threshold must be a cosine similarity in [-1, 1], got {0}")]
    Threshold(f32),
    #[error("cluster_examples must be at least 1")]
    NoClusterExamples,
    /// The I/O error is part of the message rather than a separate cause, so that a chain of
    /// causes does not print it twice.
    #[error("cannot write {}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
}

/// Key of the MLP's hidden layer in the page's URLs; no SAE may take it.
pub const MLP_KEY: &str = "mlp";
/// First part of the start page's URLs (`#index/<layer>`); no SAE may take it either.
const INDEX_KEY: &str = "index";
/// First part of the input view's URLs (`#input/<image>`, `#input/draw`); no SAE may take it.
const INPUT_KEY: &str = "input";

fn expect_shape(what: &str, got: &[usize], expected: &[usize]) -> Result<(), ExplorerError> {
    if got == expected {
        return Ok(());
    }
    Err(ExplorerError::Shape {
        what: what.to_owned(),
        got: got.to_vec(),
        expected: format!("{expected:?}"),
    })
}

fn expect_finite<'v>(
    what: &str,
    values: impl IntoIterator<Item = &'v f32>,
) -> Result<(), ExplorerError> {
    if values.into_iter().all(|v| v.is_finite()) {
        return Ok(());
    }
    Err(ExplorerError::NonFinite {
        what: what.to_owned(),
    })
}

/// Whether `key` can name an SAE in the page's URLs: non-empty lower-case letters, digits, `_`
/// or `-`, and not a key the page reserves. Callers can check a user's choice before any work.
pub fn check_sae_key(key: &str) -> Result<(), ExplorerError> {
    let key_error = |problem| ExplorerError::Key {
        key: key.to_owned(),
        problem,
    };
    let url_safe = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-".contains(c);
    if key.is_empty() || !key.chars().all(url_safe) {
        return Err(key_error(
            "must be non-empty lower-case letters, digits, '_' or '-'",
        ));
    }
    if key == MLP_KEY {
        return Err(key_error("is reserved for the MLP"));
    }
    if key == INDEX_KEY {
        return Err(key_error(
            "is reserved for the start page's URLs (#index/<layer>)",
        ));
    }
    if key == INPUT_KEY {
        return Err(key_error(
            "is reserved for the input view's URLs (#input/<image>)",
        ));
    }
    Ok(())
}

impl ExplorerInput<'_> {
    /// Checks every shape, value and setting the explorer relies on, naming the first problem.
    pub fn validate(&self) -> Result<(), ExplorerError> {
        let test = self.test;
        let n = test.labels.len();
        if n == 0 {
            return Err(ExplorerError::EmptyTest);
        }
        expect_shape("test images", test.images.shape(), &[n, IMAGE_PIXELS])?;
        expect_shape("test pixels", test.pixels.shape(), &[n, IMAGE_PIXELS])?;
        expect_finite("test images", &test.images)?;
        if let Some((index, &label)) = test
            .labels
            .iter()
            .enumerate()
            .find(|&(_, &l)| usize::from(l) >= CLASSES)
        {
            return Err(ExplorerError::Label { index, label });
        }

        let hidden = self.mlp.fc1.weight.nrows();
        if hidden == 0 {
            return Err(ExplorerError::NoNeurons("the MLP's hidden layer".into()));
        }
        let (fc1, fc2) = (&self.mlp.fc1, &self.mlp.fc2);
        expect_shape(
            "MLP fc1.weight",
            fc1.weight.shape(),
            &[hidden, IMAGE_PIXELS],
        )?;
        expect_shape("MLP fc1.bias", fc1.bias.shape(), &[hidden])?;
        expect_shape("MLP fc2.weight", fc2.weight.shape(), &[CLASSES, hidden])?;
        expect_shape("MLP fc2.bias", fc2.bias.shape(), &[CLASSES])?;
        expect_shape(
            "MLP training firing counts",
            &[self.mlp_train_firing.len()],
            &[hidden],
        )?;
        expect_shape("MLP Table 4 figures", &[self.mlp_proxies.len()], &[hidden])?;
        expect_finite("MLP fc1.weight", &fc1.weight)?;
        expect_finite("MLP fc1.bias", &fc1.bias)?;
        expect_finite("MLP fc2.weight", &fc2.weight)?;
        expect_finite("MLP fc2.bias", &fc2.bias)?;

        for (i, input) in self.saes.iter().enumerate() {
            self.validate_sae(input, hidden, i)?;
        }

        if !(-1.0..=1.0).contains(&self.cluster_threshold) {
            return Err(ExplorerError::Threshold(self.cluster_threshold));
        }
        if self.cluster_examples == 0 {
            return Err(ExplorerError::NoClusterExamples);
        }
        Ok(())
    }

    fn validate_sae(&self, input: &SaeInput, hidden: usize, i: usize) -> Result<(), ExplorerError> {
        check_sae_key(input.key)?;
        if self.saes[..i].iter().any(|other| other.key == input.key) {
            return Err(ExplorerError::Key {
                key: input.key.to_owned(),
                problem: "is used by two SAEs",
            });
        }
        let sae = input.sae;
        let m = sae.w_enc.nrows();
        let name = |part: &str| format!("SAE {:?} {part}", input.key);
        if m == 0 {
            return Err(ExplorerError::NoNeurons(name("encoder")));
        }
        expect_shape(&name("w_enc"), sae.w_enc.shape(), &[m, hidden])?;
        expect_shape(&name("b_enc"), sae.b_enc.shape(), &[m])?;
        expect_shape(&name("w_dec"), sae.w_dec.shape(), &[hidden, m])?;
        expect_shape(&name("b_dec"), sae.b_dec.shape(), &[hidden])?;
        expect_shape(
            &name("training firing counts"),
            &[input.train_firing.len()],
            &[m],
        )?;
        expect_shape(&name("Table 4 figures"), &[input.proxies.len()], &[m])?;
        expect_finite(&name("w_enc"), &sae.w_enc)?;
        expect_finite(&name("b_enc"), &sae.b_enc)?;
        expect_finite(&name("w_dec"), &sae.w_dec)?;
        expect_finite(&name("b_dec"), &sae.b_dec)?;
        Ok(())
    }
}
