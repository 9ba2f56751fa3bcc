//! A finished `reproduce` run read back from its folder, for the commands that work on one
//! (`explore`, `export`, `evaluate`): its config and seeds from `metrics.json`, its models from
//! their files. Reading trains nothing and writes nothing.
use crate::MetricsFile;
use crate::pipeline::{Log, ModelSource, SeedOutcome, run_seed};
use anyhow::Context;
use ne_mnist::Mnist;
use std::path::{Path, PathBuf};

/// A run's folder and its `metrics.json`.
pub struct FinishedRun {
    pub dir: PathBuf,
    pub metrics: MetricsFile,
}

impl FinishedRun {
    /// Reads `dir/metrics.json`.
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join("metrics.json");
        let text =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let metrics: MetricsFile = serde_json::from_slice(&text)
            .with_context(|| format!("{} is not a metrics file of this project", path.display()))?;
        Ok(Self {
            dir: dir.to_owned(),
            metrics,
        })
    }

    pub fn seeds(&self) -> Vec<u64> {
        self.metrics.runs.iter().map(|r| r.seed).collect()
    }

    /// `seed` if the run has it, or the run's first seed when none is asked for.
    pub fn seed(&self, seed: Option<u64>) -> anyhow::Result<u64> {
        let seeds = self.seeds();
        let seed = seed
            .or(seeds.first().copied())
            .context("the run has no seeds")?;
        anyhow::ensure!(
            seeds.contains(&seed),
            "seed {seed} is not in {} (its seeds: {seeds:?})",
            self.dir.join("metrics.json").display()
        );
        Ok(seed)
    }

    /// MNIST as the run's config loads it.
    pub fn data(&self) -> anyhow::Result<Mnist> {
        crate::pipeline::load_data(&self.metrics.config.data)
    }

    /// The saved models of `seed`, evaluated as the run evaluated them.
    pub fn outcome(&self, data: &Mnist, seed: u64, log: Log) -> anyhow::Result<SeedOutcome> {
        run_seed(
            &self.metrics.config,
            data,
            seed,
            &self.dir,
            ModelSource::Saved,
            false,
            log,
        )
    }
}
