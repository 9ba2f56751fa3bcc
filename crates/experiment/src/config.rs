//! The experiment's TOML config: every hyperparameter and the seed, checked before any work.
use crate::curve::CurveConfig;
use ne_models::{MlpConfig, SaeConfig};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The whole experiment, as `configs/paper.toml` spells it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Short name of the config, named in `report.md`.
    #[serde(default)]
    pub name: String,
    /// What λ_NE was chosen to match, in words, for `report.md`.
    #[serde(default)]
    pub lambda_ne_chosen_for: String,
    pub seed: u64,
    pub data: DataConfig,
    pub mlp: MlpConfig,
    pub sae: SaeConfig,
    pub eval: EvalConfig,
    pub explorer: ExplorerConfig,
    /// The λ_NE trade-off curve; the default curve when the table is absent.
    #[serde(default)]
    pub curve: CurveConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// Folder of the IDX files; empty for the shipped, checksum-verified copy.
    pub dir: PathBuf,
    /// First N training examples only; 0 for all.
    pub train_limit: usize,
    /// First N test examples only; 0 for all.
    pub test_limit: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalConfig {
    /// Activating test examples per latent that feed the distance metrics.
    pub example_cap: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExplorerConfig {
    pub cluster_threshold: f32,
    pub cluster_examples: usize,
}

/// A config that cannot be read or makes no sense.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config {path} is not valid: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("config {path}: {problem}")]
    Invalid { path: PathBuf, problem: String },
}

impl Config {
    /// The shipped `configs/paper.toml`, as compiled into the binary.
    pub fn paper() -> Self {
        let text = include_str!("../../../configs/paper.toml");
        Self::parse(text, Path::new("configs/paper.toml")).expect("the shipped config is valid")
    }

    /// Reads and checks a config file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses and checks config text; `path` only names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            source: Box::new(e),
        })?;
        config.validate().map_err(|problem| ConfigError::Invalid {
            path: path.to_owned(),
            problem,
        })?;
        Ok(config)
    }

    /// SHA-256 (hex) of the config's canonical JSON: the same for two configs exactly when every
    /// setting is equal, so files stamped with it can be matched to the config that made them.
    pub fn digest(&self) -> String {
        let json = serde_json::to_vec(self).expect("a config is plain data");
        format!("{:x}", Sha256::digest(json))
    }

    /// Every rule a config must meet before training starts, as one message.
    pub fn validate(&self) -> Result<(), String> {
        self.mlp.validate().map_err(|e| format!("[mlp] {e}"))?;
        self.sae.validate().map_err(|e| format!("[sae] {e}"))?;
        if self.eval.example_cap < 2 {
            return Err("[eval] example_cap must be at least 2 to measure distances".into());
        }
        let t = self.explorer.cluster_threshold;
        if !(t.is_finite() && (-1.0..=1.0).contains(&t)) {
            return Err(format!(
                "[explorer] cluster_threshold must lie in [-1, 1], got {t}"
            ));
        }
        if self.explorer.cluster_examples == 0 {
            return Err("[explorer] cluster_examples must be positive".into());
        }
        self.curve.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(edit: impl Fn(&str) -> String) -> Result<Config, ConfigError> {
        let text = include_str!("../../../configs/paper.toml");
        Config::parse(&edit(text), Path::new("test.toml"))
    }

    #[test]
    fn the_shipped_config_is_the_papers() {
        let c = Config::paper();
        assert_eq!((c.mlp.hidden, c.mlp.epochs, c.mlp.batch_size), (64, 3, 64));
        assert_eq!(
            (c.sae.latents, c.sae.batch_size, c.sae.ne_start_step),
            (512, 128, 200)
        );
        assert_eq!(c.eval.example_cap, 100);
    }

    #[test]
    fn unknown_keys_are_rejected_with_the_key_named() {
        let err = with(|t| t.replace("hidden = 64", "hidden = 64\nhiden = 32")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("test.toml") && msg.contains("hiden"), "{msg}");
    }

    #[test]
    fn nonsense_values_are_rejected_before_training() {
        for (from, to, needle) in [
            ("batch_size = 64", "batch_size = 0", "[mlp]"),
            ("epochs = 3", "epochs = 0", "[mlp]"),
            ("learning_rate = 0.02", "learning_rate = -0.02", "[mlp]"),
            ("learning_rate = 0.02", "learning_rate = nan", "[mlp]"),
            ("learning_rate = 0.001", "learning_rate = inf", "[sae]"),
            ("lambda_l1 = 3.0", "lambda_l1 = -1.0", "[sae]"),
            ("example_cap = 100", "example_cap = 1", "[eval]"),
            (
                "cluster_threshold = 0.9",
                "cluster_threshold = 1.5",
                "[explorer]",
            ),
        ] {
            let err = with(|t| t.replacen(from, to, 1)).unwrap_err().to_string();
            assert!(err.contains(needle), "{to}: {err}");
        }
    }

    #[test]
    fn digest_tells_configs_apart_and_is_stable() {
        let paper = Config::paper();
        assert_eq!(paper.digest(), Config::paper().digest());
        assert_eq!(paper.digest().len(), 64);
        let mut other = paper.clone();
        other.sae.lambda_ne = 999.0;
        assert_ne!(other.digest(), paper.digest());
        other.sae.lambda_ne = paper.sae.lambda_ne;
        other.data.train_limit = 2000;
        assert_ne!(other.digest(), paper.digest());
    }

    #[test]
    fn a_missing_file_is_named() {
        let err = Config::from_file(Path::new("no/such/config.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no/such/config.toml"), "{err}");
    }
}
