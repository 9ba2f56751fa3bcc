//! A finished `reproduce` run read back from its folder, for the commands that work on one
//! (`explore`, `export`, `evaluate`): its config and seeds from `metrics.json`, its models from
//! their files, which must carry the stamp of that config. Reading trains nothing and writes
//! nothing; the folder stays locked while it is open, since those commands write into it.
use crate::MetricsFile;
use crate::pipeline::{
    Log, RunData, SeedExtras, SeedOutcome, load_and_check, run_seed, test_images,
};
use crate::store::{ModelSource, RunFolder};
use anyhow::Context;
use ne_metrics::TrainScan;
use ne_mnist::Mnist;
use std::path::{Path, PathBuf};

/// A run's folder, locked, and its `metrics.json`.
pub struct FinishedRun {
    pub dir: PathBuf,
    pub metrics: MetricsFile,
    _folder: RunFolder,
}

impl FinishedRun {
    /// Reads `dir/metrics.json` and checks the config in it; takes the folder's lock.
    pub fn open(dir: &Path, log: Log) -> anyhow::Result<Self> {
        let path = dir.join("metrics.json");
        let text =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let metrics = MetricsFile::from_json(&text)
            .with_context(|| format!("{} is not a metrics file of this project", path.display()))?;
        metrics.config.validate().map_err(|problem| {
            anyhow::anyhow!("{}: its config is not valid: {problem}", path.display())
        })?;
        Ok(Self {
            dir: dir.to_owned(),
            metrics,
            _folder: RunFolder::open(dir, log)?,
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

    /// MNIST as the run's config loads it, checked against the config.
    pub fn data(&self) -> anyhow::Result<Mnist> {
        load_and_check(&self.metrics.config, 1)
    }

    /// The saved models of `seed`, evaluated as the run evaluated them.
    pub fn outcome(&self, data: &Mnist, seed: u64, log: Log) -> anyhow::Result<SeedOutcome> {
        let run_data = RunData {
            mnist: data,
            test_images: &test_images(data),
        };
        run_seed(
            &self.metrics.config,
            run_data,
            seed,
            &self.dir,
            ModelSource::Saved,
            SeedExtras {
                curve: false,
                train_scan: TrainScan::PerLatent,
            },
            log,
        )
    }
}
