//! The experiment's TOML config: every hyperparameter and the seed, checked before any work.
use ne_mnist::{CLASSES, IMAGE_PIXELS};
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
    /// Folder of the IDX files; empty for the shipped, checksum-verified copy. A relative path in
    /// a config file is relative to the file's own folder.
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
    /// τ of `dead_threshold_pct`: a latent whose largest activation over the training set is at
    /// most τ counts as dead by threshold (τ = 0 gives the strict count). Absent in older
    /// configs, which read as 0.
    #[serde(default)]
    pub dead_threshold: f32,
}

impl EvalConfig {
    /// How `evaluate_sae` measures under this config.
    pub fn options(&self) -> ne_metrics::EvalOptions {
        ne_metrics::EvalOptions {
            example_cap: self.example_cap,
            dead_threshold: self.dead_threshold,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExplorerConfig {
    pub cluster_threshold: f32,
    pub cluster_examples: usize,
}

/// A config that cannot be read or makes no sense. The I/O and TOML errors are part of the
/// message rather than a separate cause, so that a chain of causes does not print them twice.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("config {path} is not valid: {error}")]
    Parse {
        path: PathBuf,
        error: Box<toml::de::Error>,
    },
    #[error("config {path}: {problem}")]
    Invalid { path: PathBuf, problem: String },
}

impl Config {
    /// Reads and checks a config file; a relative `[data] dir` is taken relative to the file's
    /// folder, so the config means the same wherever it is used from.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.to_owned(),
            error,
        })?;
        let mut config = Self::parse(&text, path)?;
        let dir = &mut config.data.dir;
        if !dir.as_os_str().is_empty() && dir.is_relative() {
            *dir = path.parent().unwrap_or(Path::new("")).join(&*dir);
        }
        Ok(config)
    }

    /// Parses and checks config text; `path` only names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            error: Box::new(e),
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
        if !(self.eval.dead_threshold.is_finite() && self.eval.dead_threshold >= 0.0) {
            return Err(format!(
                "[eval] dead_threshold must be a finite number of at least 0, got {}",
                self.eval.dead_threshold
            ));
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

    /// The rules that need the data's size and the number of seeds, checked once the data is
    /// loaded and before anything trains: the NE loss must switch on before the SAE's training
    /// ends, and the run must fit in the memory the machine has left.
    pub fn validate_for(&self, train: usize, test: usize, seeds: usize) -> Result<(), String> {
        self.sae.validate_for(train).map_err(|e| e.to_string())?;
        let needed = self.memory_estimate(train, test, seeds);
        match available_memory() {
            Some(available) if needed > available as f64 => Err(format!(
                "this run would need about {} of memory ({seeds} seed(s) of {} latents, {} \
                 hidden units, {train} training examples) but only {} is available; lower \
                 [sae] latents, [mlp] hidden or the number of seeds",
                gigabytes(needed),
                self.sae.latents,
                self.mlp.hidden,
                gigabytes(available as f64)
            )),
            _ => Ok(()),
        }
    }

    /// About how many bytes a run needs beyond its loaded data, for `train` and `test` examples
    /// and `seeds` seeds, as many at a time as rayon has threads. Per seed (or curve SAE) at work: its hidden
    /// activations and the largest of MLP training, SAE training and the evaluation of both
    /// SAEs side by side; per seed until the end: its models; once: the explorer's clustering.
    /// An estimate, meant to refuse sizes that cannot fit, not to predict the peak exactly.
    pub fn memory_estimate(&self, train: usize, test: usize, seeds: usize) -> f64 {
        const F32: f64 = 4.0;
        const F64: f64 = 8.0;
        let threads = rayon::current_num_threads() as f64;
        let (hidden, latents) = (self.mlp.hidden as f64, self.sae.latents as f64);
        let (pixels, classes) = (IMAGE_PIXELS as f64, CLASSES as f64);
        let activations = F32 * (train + test) as f64 * hidden;
        let mlp = self.mlp.training_bytes(IMAGE_PIXELS, CLASSES, train);
        let sae = self.sae.training_bytes(self.mlp.hidden, train);
        // Latents and reconstructions of the test set, for both SAEs at once.
        let eval = 2.0 * F32 * test as f64 * (latents + 2.0 * hidden);
        let per_seed = activations + mlp.max(sae).max(eval);
        let mlp_weights = (pixels + 1.0) * hidden + (hidden + 1.0) * classes;
        let sae_weights = 2.0 * latents * hidden + latents + hidden;
        let models = F32 * (mlp_weights + 2.0 * sae_weights);
        // One similarity matrix per neuron being clustered, and every neuron's test activations.
        let clustered = self.explorer.cluster_examples.min(test) as f64;
        let explorer =
            threads * F64 * clustered * clustered + F32 * test as f64 * (hidden + 2.0 * latents);
        // Seeds, and the λ_NE curve's SAEs within a seed, train side by side.
        let tasks = seeds * self.curve.lambda_ne.len().max(1);
        let at_once = (tasks as f64).min(threads);
        at_once * per_seed + seeds as f64 * models + explorer
    }
}

fn gigabytes(bytes: f64) -> String {
    format!("{:.1} GB", bytes / 1e9)
}

/// Bytes of memory this process may still use: what the system has available, or what the
/// container's memory limit leaves, whichever is less; `None` where neither can be read.
fn available_memory() -> Option<u64> {
    let read = |path| std::fs::read_to_string(path).ok();
    let system = read("/proc/meminfo").and_then(|text| mem_available(&text));
    let limit = read("/sys/fs/cgroup/memory.max")
        .zip(read("/sys/fs/cgroup/memory.current"))
        .and_then(|(max, current)| {
            let (max, current) = (
                max.trim().parse::<u64>().ok()?,
                current.trim().parse().ok()?,
            );
            Some(max.saturating_sub(current))
        });
    match (system, limit) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The `MemAvailable` line of `/proc/meminfo`, in bytes.
fn mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kilobytes: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kilobytes * 1024)
}

/// `[curve]` in the config: the λ_NE values of the curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurveConfig {
    /// λ_NE values, each finite and >= 0, without repeats; 0 is the standard SAE.
    pub lambda_ne: Vec<f32>,
}

impl Default for CurveConfig {
    fn default() -> Self {
        Self {
            lambda_ne: vec![0.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0],
        }
    }
}

impl CurveConfig {
    pub fn validate(&self) -> Result<(), String> {
        for (i, &lambda) in self.lambda_ne.iter().enumerate() {
            if !(lambda.is_finite() && lambda >= 0.0) {
                return Err(format!(
                    "[curve] lambda_ne must be finite and >= 0, got {lambda}"
                ));
            }
            if self.lambda_ne[..i].contains(&lambda) {
                return Err(format!("[curve] lambda_ne lists {lambda} twice"));
            }
        }
        Ok(())
    }
}

/// For the crate's tests: the repository's `configs/paper.toml`, which the command line runs by
/// default (`ne_shipped::paper_config`).
#[cfg(test)]
impl Config {
    pub(crate) fn paper() -> Self {
        Self::from_file(&ne_shipped::paper_config()).expect("the shipped config is valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paper_text() -> String {
        std::fs::read_to_string(ne_shipped::paper_config()).unwrap()
    }

    fn with(edit: impl Fn(&str) -> String) -> Result<Config, ConfigError> {
        Config::parse(&edit(&paper_text()), Path::new("test.toml"))
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
    fn an_ne_start_past_the_end_of_training_is_refused_naming_both_numbers() {
        let paper = Config::paper();
        assert_eq!(paper.validate_for(60_000, 10_000, 3), Ok(()));
        let err = paper.validate_for(20_000, 10_000, 3).unwrap_err();
        assert!(
            err.contains("sae.ne_start_step is 200") && err.contains("only 157 steps"),
            "{err}"
        );
        let mut late = paper.clone();
        late.sae.ne_start_step = 1_000_000;
        let err = late.validate_for(60_000, 10_000, 3).unwrap_err();
        assert!(
            err.contains("1000000") && err.contains("469 steps"),
            "{err}"
        );
    }

    #[test]
    fn sizes_that_cannot_fit_in_memory_are_refused_with_the_estimate() {
        let paper = Config::paper();
        let estimate = paper.memory_estimate(60_000, 10_000, 3);
        assert!((1e7..2e9).contains(&estimate), "{estimate}");
        for (latents, hidden) in [(1_000_000_000, 64), (30_000_000, 64), (512, 100_000_000)] {
            let mut huge = paper.clone();
            huge.sae.latents = latents;
            huge.mlp.hidden = hidden;
            assert!(huge.memory_estimate(60_000, 10_000, 3) > 1e11);
            if available_memory().is_some() {
                let err = huge.validate_for(60_000, 10_000, 3).unwrap_err();
                assert!(
                    err.contains("GB of memory") && err.contains("available"),
                    "{err}"
                );
            }
        }
        assert!(paper.memory_estimate(60_000, 10_000, 1_000_000) > 1e11);
    }

    #[test]
    fn available_memory_is_read_from_meminfo() {
        let meminfo =
            "MemTotal:       24000000 kB\nMemFree:  100 kB\nMemAvailable:   23138780 kB\n";
        assert_eq!(mem_available(meminfo), Some(23_138_780 * 1024));
        assert_eq!(mem_available("MemTotal: 5 kB\n"), None);
        if cfg!(target_os = "linux") {
            assert!(available_memory().is_some_and(|bytes| bytes > 0));
        }
    }

    #[test]
    fn toml_errors_are_told_once() {
        let err = with(|t| t.replace("hidden = 64", "hidden = \"many\"")).unwrap_err();
        assert!(
            std::error::Error::source(&err).is_none(),
            "no separate cause"
        );
        let chain = format!("{:?}", anyhow::Error::from(err));
        assert!(!chain.contains("Caused by"), "{chain}");
    }

    #[test]
    fn a_relative_data_folder_is_relative_to_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let text = paper_text().replace("dir = \"\"", "dir = \"mnist\"");
        let path = dir.path().join("sub/my.toml");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        let config = Config::from_file(&path).unwrap();
        assert_eq!(config.data.dir, dir.path().join("sub/mnist"));
        assert_eq!(
            Config::from_file(&dir.path().join("sub/../sub/my.toml"))
                .unwrap()
                .data
                .dir,
            dir.path().join("sub/../sub/mnist")
        );
    }

    #[test]
    fn a_missing_file_is_named() {
        let err = Config::from_file(Path::new("no/such/config.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no/such/config.toml"), "{err}");
    }
}
