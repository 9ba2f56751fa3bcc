//! Choosing λ_L1 and λ_NE on the training data: every pair of a small grid, measured on the last
//! examples of the training set so that the test set stays untouched until `reproduce`.
use crate::Config;
use crate::pipeline::{Log, load_data, train_mlp, train_sae};
use ndarray::s;
use ne_metrics::{EvalSet, SaeMetrics, TrainScan, UnitImages, evaluate_sae};
use ne_models::SaeVariant;
use rayon::prelude::*;
use std::fmt::Write;

/// Training examples held back to measure each setting on.
pub const HELD_OUT: usize = 10_000;

/// One point of the grid: both SAEs trained with these weights, measured on held-out data.
#[derive(Debug, Clone)]
pub struct SweepPoint {
    pub lambda_l1: f32,
    pub lambda_ne: f32,
    pub standard: SaeMetrics,
    pub ne: SaeMetrics,
}

/// Trains the MLP of `config.seed` once, then both SAEs for every (λ_L1, λ_NE) pair, in
/// parallel. The SAEs train on all but the last `HELD_OUT` training examples.
pub fn sweep(
    config: &Config,
    l1s: &[f32],
    nes: &[f32],
    log: Log,
) -> anyhow::Result<Vec<SweepPoint>> {
    // Every grid value is checked before anything trains, not when its turn comes.
    for (&lambda_l1, &lambda_ne) in l1s.iter().flat_map(|l1| nes.iter().map(move |ne| (l1, ne))) {
        let mut point = config.sae.clone();
        (point.lambda_l1, point.lambda_ne) = (lambda_l1, lambda_ne);
        point.validate()?;
    }
    let data = load_data(&config.data)?;
    anyhow::ensure!(
        data.train.len() > 2 * HELD_OUT,
        "the sweep needs more than {} training examples",
        2 * HELD_OUT
    );
    // The SAEs train on all but the held-out examples: the config must fit that.
    config
        .validate_for(data.train.len() - HELD_OUT, HELD_OUT, 1)
        .map_err(|problem| anyhow::anyhow!("the config does not fit the sweep: {problem}"))?;
    let mlp = train_mlp(config, &data, config.seed, log)?;
    let hidden = mlp.hidden(data.train.images.view());
    let split = data.train.len() - HELD_OUT;
    let (fit, held_out) = (hidden.slice(s![..split, ..]), hidden.slice(s![split.., ..]));
    let held_out = EvalSet {
        hidden: held_out,
        labels: data.train.labels.slice(s![split..]),
        images: &UnitImages::of(data.train.pixels.slice(s![split.., ..])),
    };

    let measure = |lambda_l1: f32, lambda_ne: f32, variant| -> anyhow::Result<SaeMetrics> {
        let mut config = config.clone();
        config.sae.lambda_l1 = lambda_l1;
        config.sae.lambda_ne = lambda_ne;
        let (sae, training) = train_sae(&config, variant, config.seed, fit, log)?;
        Ok(evaluate_sae(
            &mlp,
            &sae,
            held_out,
            fit,
            Some(&training),
            config.eval.options(),
            TrainScan::DeadCounts,
        )?
        .metrics)
    };
    // The standard SAE ignores λ_NE: one per λ_L1.
    let standards: Vec<SaeMetrics> = l1s
        .par_iter()
        .map(|&l1| measure(l1, 0.0, SaeVariant::Standard))
        .collect::<anyhow::Result<_>>()?;
    let grid: Vec<(usize, f32)> = (0..l1s.len())
        .flat_map(|i| nes.iter().map(move |&ne| (i, ne)))
        .collect();
    grid.par_iter()
        .map(|&(i, lambda_ne)| {
            let ne = measure(l1s[i], lambda_ne, SaeVariant::Ne)?;
            Ok(SweepPoint {
                lambda_l1: l1s[i],
                lambda_ne,
                standard: standards[i],
                ne,
            })
        })
        .collect()
}

/// The grid as a Markdown table.
pub fn table(points: &[SweepPoint]) -> String {
    let mut out = String::from(
        "| λ_L1 | λ_NE | MSE std / NE | L0 % std / NE | acc. loss % std / NE | max dist std / NE | mean dist std / NE | NE/std mean dist | dead % std / NE |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for p in points {
        let (s, n) = (&p.standard, &p.ne);
        let _ = writeln!(
            out,
            "| {} | {} | {:.3} / {:.3} | {:.2} / {:.2} | {:.2} / {:.2} | {:.3} / {:.3} | {:.3} / {:.3} | {:.2} | {:.1} / {:.1} |",
            p.lambda_l1,
            p.lambda_ne,
            s.mse,
            n.mse,
            s.l0_pct,
            n.l0_pct,
            s.acc_loss_pct,
            n.acc_loss_pct,
            s.max_dist,
            n.max_dist,
            s.mean_dist,
            n.mean_dist,
            n.mean_dist / s.mean_dist,
            s.dead_pct,
            n.dead_pct
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_grid_value_is_refused_before_anything_trains() {
        let lines = std::sync::Mutex::new(Vec::new());
        let log = |line: &str| lines.lock().unwrap().push(line.to_owned());
        let err = sweep(&Config::paper(), &[3.0], &[10.0, f32::NAN], &log).unwrap_err();
        assert!(err.to_string().contains("sae.lambda_ne"), "{err}");
        let err = sweep(&Config::paper(), &[-1.0], &[10.0], &log).unwrap_err();
        assert!(err.to_string().contains("sae.lambda_l1"), "{err}");
        assert!(lines.lock().unwrap().is_empty(), "nothing ran");
    }
}
