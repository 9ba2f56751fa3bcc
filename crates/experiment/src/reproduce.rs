//! `reproduce`: every seed through the pipeline, then the files of the run: `metrics.json`,
//! the SAELens exports, the λ_NE curve, `report.md` and the explorer.
use crate::curve::CurveFile;
use crate::outputs::write_atomic;
use crate::pipeline::{
    Log, MAX_SEEDS, RunData, SeedExtras, SeedOutcome, load_and_check, run_seed, test_images,
};
use crate::store::{ModelSource, RunFolder};
use crate::{Config, MetricsFile, interop, report};
use anyhow::bail;
use ne_metrics::{SaeMetrics, TrainScan};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

/// What `reproduce` was asked to do.
#[derive(Debug, Clone)]
pub struct ReproduceOptions {
    pub seeds: Vec<u64>,
    pub out: PathBuf,
    /// Reuse model files a previous run with the same config left in `out`.
    pub resume: bool,
    /// Also write the neuron explorer for the first seed.
    pub explorer: bool,
    /// Also write each seed's hidden activations and labels as `.npy`.
    pub export_activations: bool,
    /// Also train and measure the λ_NE curve (`curve/`).
    pub curve: bool,
    /// Clear the outputs of an earlier run in `out` even when it has no list of them
    /// (`RunFolder::start_run`).
    pub force: bool,
}

/// The result of `reproduce`.
#[derive(Debug)]
pub struct Reproduction {
    pub metrics: MetricsFile,
    /// The λ_NE curve, when it was asked for.
    pub curve: Option<CurveFile>,
    pub report_path: PathBuf,
    pub explorer_path: Option<PathBuf>,
    /// Seconds per stage that is not per seed, and in total.
    pub timing_s: BTreeMap<String, f64>,
    /// The machine's peak, measured at the start of the run, for the timing table.
    pub peak: Peak,
}

/// What the machine can do at best: one core's f32 FLOP rate (`flops::measured_peak_per_core`)
/// and the threads the run had.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peak {
    pub flops_per_core: f64,
    pub threads: usize,
}

/// Trains and measures every seed (in parallel; each seed's results do not depend on it),
/// then writes `metrics.json`, `report.md` and the explorer.
pub fn reproduce(
    config: &Config,
    options: &ReproduceOptions,
    log: Log,
) -> anyhow::Result<Reproduction> {
    if options.seeds.is_empty() {
        bail!("no seeds to run");
    }
    if options.seeds.len() as u64 > MAX_SEEDS {
        bail!(
            "{} seeds: a run may have at most {MAX_SEEDS}",
            options.seeds.len()
        );
    }
    if options.curve && config.curve.lambda_ne.is_empty() {
        bail!(
            "[curve] lambda_ne is empty: list the λ_NE values of the trade-off curve, or skip \
             the curve (--no-curve)"
        );
    }
    let peak = Peak {
        flops_per_core: crate::flops::measured_peak_per_core(),
        threads: rayon::current_num_threads(),
    };
    let start = Instant::now();
    let mut timing = BTreeMap::new();
    let data = load_and_check(config, options.seeds.len())?;
    let images = test_images(&data);
    let folder = RunFolder::open(&options.out, log)?;
    let resumed = options.resume.then_some(options.seeds.as_slice());
    folder.start_run(resumed, options.force, log)?;
    timing.insert("data".to_owned(), start.elapsed().as_secs_f64());
    log(&format!(
        "data: {} training and {} test images ({:.2} s)",
        data.train.len(),
        data.test.len(),
        timing["data"]
    ));

    let outcomes: Vec<SeedOutcome> = options
        .seeds
        .par_iter()
        .map(|&seed| {
            let source = if options.resume {
                ModelSource::Resume
            } else {
                ModelSource::Train
            };
            // The explorer shows the first seed, with every latent's training-set firing count;
            // the other seeds need only their dead counts.
            let explored = options.explorer && options.seeds.first() == Some(&seed);
            let extras = SeedExtras {
                curve: options.curve,
                train_scan: match explored {
                    true => TrainScan::PerLatent,
                    false => TrainScan::DeadCounts,
                },
            };
            let run_data = RunData {
                mnist: &data,
                test_images: &images,
            };
            run_seed(config, run_data, seed, &options.out, source, extras, log)
        })
        .collect::<anyhow::Result<_>>()?;
    timing.insert(
        "seeds".to_owned(),
        start.elapsed().as_secs_f64() - timing["data"],
    );

    let t = Instant::now();
    for outcome in &outcomes {
        interop::export_seed(
            &options.out,
            config,
            &data,
            outcome,
            options.export_activations,
        )?;
    }
    timing.insert("export".to_owned(), t.elapsed().as_secs_f64());

    let t = Instant::now();
    let mut metrics = MetricsFile::new(
        config.clone(),
        outcomes.iter().map(|o| o.run.clone()).collect(),
    );
    metrics.paper_models = Some(crate::paper_models::measure_shipped(
        config, &data, &images, log,
    )?);
    timing.insert("paper_models".to_owned(), t.elapsed().as_secs_f64());
    write_atomic(
        &options.out.join("metrics.json"),
        &serde_json::to_vec_pretty(&metrics)?,
    )?;
    let curve = if options.curve {
        let per_seed: Vec<(u64, Vec<(f32, SaeMetrics)>)> = outcomes
            .iter()
            .map(|o| (o.run.seed, o.curve.clone()))
            .collect();
        let curve = CurveFile::new(config, &config.curve.lambda_ne, &per_seed);
        crate::curve::write(&curve, &options.out.join("curve"))?;
        Some(curve)
    } else {
        None
    };
    let report_path = options.out.join("report.md");
    write_atomic(
        &report_path,
        report::render(&metrics, curve.as_ref()).as_bytes(),
    )?;

    let explorer_path = if options.explorer {
        let t = Instant::now();
        // With the SAEs `evaluate` brought into the folder for this seed and config; others
        // are left out with a log line.
        let path = crate::explore::write_run(&options.out, &metrics, &data, &outcomes[0], log)?;
        timing.insert("explorer".to_owned(), t.elapsed().as_secs_f64());
        Some(path)
    } else {
        None
    };
    folder.finish_run(log)?;
    timing.insert("total".to_owned(), start.elapsed().as_secs_f64());
    Ok(Reproduction {
        metrics,
        curve,
        report_path,
        explorer_path,
        timing_s: timing,
        peak,
    })
}
