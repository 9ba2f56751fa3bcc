//! The λ_NE trade-off curve: NE SAEs at several λ_NE per seed, measured like Tables 2-4, so a
//! user sees what each step of λ_NE buys (distance, purity) and what it costs (MSE, accuracy,
//! dead latents), with the spread over seeds.
use crate::outputs::write_atomic;
use crate::paper::{PAPER_NE, PAPER_STANDARD};
use crate::results::{MetricSummary, summarise};
use ne_figures::{
    Band, BandPoint, Panel, Reference, ReferencePoint, TradeoffPoint, curve_figure, tradeoff_figure,
};
use ne_metrics::{MeanStd, SaeMetrics};
use ne_models::SaeInit;
use serde::{Deserialize, Serialize};
use std::fmt::Write;
use std::path::Path;

/// Which model a point of the curve measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CurveModel {
    /// λ_NE = 0: the run's standard SAE.
    Standard,
    /// The run's NE SAE (λ_NE equals the config's).
    Ne,
    /// An NE SAE trained for the curve alone.
    Extra,
}

/// Which model measures the point at `lambda` of a run whose NE SAE has `config_lambda`.
pub fn curve_model(lambda: f32, config_lambda: f32) -> CurveModel {
    if lambda == 0.0 {
        CurveModel::Standard
    } else if lambda == config_lambda {
        CurveModel::Ne
    } else {
        CurveModel::Extra
    }
}

/// File stem of the extra curve model at `lambda`, e.g. `sae-ne-lambda-30`.
pub fn curve_model_stem(lambda: f32) -> String {
    format!("sae-ne-lambda-{lambda}")
}

/// One seed's measurement at one λ_NE.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurveRun {
    pub seed: u64,
    pub metrics: SaeMetrics,
}

/// One λ_NE: every seed, and mean ± std over seeds per metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    pub lambda_ne: f32,
    pub runs: Vec<CurveRun>,
    pub summary: MetricSummary,
}

/// `curve/curve.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurveFile {
    /// `Config::digest()` of the run.
    pub config_digest: String,
    pub init: SaeInit,
    pub lambda_l1: f32,
    pub points: Vec<CurvePoint>,
}

impl CurveFile {
    /// Gathers per-seed measurements `(seed, [(λ, metrics)])` into points, in the order of
    /// `lambdas`.
    pub fn new(
        config: &crate::Config,
        lambdas: &[f32],
        seeds: &[(u64, Vec<(f32, SaeMetrics)>)],
    ) -> Self {
        let points = lambdas
            .iter()
            .map(|&lambda_ne| {
                let runs: Vec<CurveRun> = seeds
                    .iter()
                    .filter_map(|(seed, measured)| {
                        let (_, metrics) = measured.iter().find(|(l, _)| *l == lambda_ne)?;
                        Some(CurveRun {
                            seed: *seed,
                            metrics: *metrics,
                        })
                    })
                    .collect();
                let summary = summarise(runs.iter().map(|r| &r.metrics));
                CurvePoint {
                    lambda_ne,
                    runs,
                    summary,
                }
            })
            .collect();
        Self {
            config_digest: config.digest(),
            init: config.sae.init,
            lambda_l1: config.sae.lambda_l1,
            points,
        }
    }

    /// A few sentences on the curve, computed from it: what λ_NE does to each figure from the
    /// smallest to the largest λ, and where the distance first reaches the paper's.
    pub fn summary_text(&self) -> String {
        let (Some(first), Some(last)) = (self.points.first(), self.points.last()) else {
            return "The curve has no points.".into();
        };
        let at = |p: &CurvePoint, key: &str| p.summary.get(key).map(|s: &MeanStd| s.mean);
        let change = |key: &str, name: &str, decimals: usize| match (at(first, key), at(last, key))
        {
            (Some(a), Some(b)) => {
                let word = if b > a {
                    "rises"
                } else if b < a {
                    "falls"
                } else {
                    "stays"
                };
                format!("{name} {word} from {a:.decimals$} to {b:.decimals$}")
            }
            _ => format!("{name} is not measured at both ends"),
        };
        let mut out = String::new();
        let _ = write!(
            out,
            "From λ_NE = {} to {} (means over seeds): {}, {}, {} and {}; {}, {} and {}; {}, \
             {} and {}.",
            first.lambda_ne,
            last.lambda_ne,
            change("mean_dist", "mean distance", 3),
            change("max_dist", "max distance", 3),
            change("label_purity", "label purity", 3),
            change("input_coherence", "input coherence", 3),
            change("mse", "MSE", 3),
            change("acc_loss_pct", "accuracy loss", 2),
            change("dead_pct", "dead %", 1),
            change("encoder_participation", "encoder participation", 2),
            change("top_label_purity", "top-100 label purity", 3),
            change("l0_pct", "L0 %", 2),
        );
        let reached = self
            .points
            .iter()
            .find(|p| at(p, "mean_dist").is_some_and(|d| d <= PAPER_NE.mean_dist));
        let _ = match reached {
            Some(p) => write!(
                out,
                " The mean distance first reaches the paper's NE value ({}) at λ_NE = {}, with \
                 an accuracy loss of {:.2} points (paper: {}).",
                PAPER_NE.mean_dist,
                p.lambda_ne,
                at(p, "acc_loss_pct").unwrap_or(f64::NAN),
                PAPER_NE.acc_loss_pct
            ),
            None => write!(
                out,
                " The mean distance never reaches the paper's NE value ({}) on this curve.",
                PAPER_NE.mean_dist
            ),
        };
        out
    }
}

/// The panels of the curve figure: title, y axis with unit, key in `metrics.json`, and the
/// paper's NE value where our figure is comparable with it (not for MSE, whose scale depends on
/// the MLP, nor for the proxies, which the paper does not have).
const PANELS: [(&str, &str, &str, Option<f64>); 10] = [
    ("MSE", "MSE (per hidden dim)", "mse", None),
    (
        "Accuracy loss",
        "accuracy loss (points)",
        "acc_loss_pct",
        Some(PAPER_NE.acc_loss_pct),
    ),
    ("L0", "active latents (%)", "l0_pct", Some(PAPER_NE.l0_pct)),
    (
        "Dead latents",
        "dead latents (%)",
        "dead_pct",
        Some(PAPER_NE.dead_pct),
    ),
    (
        "Max embedding distance",
        "median max distance (cosine)",
        "max_dist",
        Some(PAPER_NE.max_dist),
    ),
    (
        "Mean embedding distance",
        "median mean distance (cosine)",
        "mean_dist",
        Some(PAPER_NE.mean_dist),
    ),
    (
        "Label purity",
        "median label purity (share)",
        "label_purity",
        None,
    ),
    (
        "Top-100 label purity",
        "median top-100 purity (share)",
        "top_label_purity",
        None,
    ),
    (
        "Input coherence",
        "median pixel cosine similarity",
        "input_coherence",
        None,
    ),
    (
        "Encoder participation",
        "median inputs read (MLP neurons)",
        "encoder_participation",
        None,
    ),
];

impl CurveFile {
    /// `key` across λ_NE as a band named `name`: mean ± std over seeds, NaN where unmeasured.
    pub fn band(&self, key: &str, name: &str) -> Band {
        Band {
            name: name.to_owned(),
            points: self
                .points
                .iter()
                .map(|p| {
                    let s = p.summary.get(key);
                    BandPoint {
                        lambda: f64::from(p.lambda_ne),
                        mean: s.map_or(f64::NAN, |s| s.mean),
                        std: s.map_or(f64::NAN, |s| s.std),
                    }
                })
                .collect(),
        }
    }
}

/// Writes `curve.json`, `curve.svg` (every metric against λ_NE) and `tradeoff.svg` (accuracy
/// loss against mean distance) into `dir`.
pub fn write(curve: &CurveFile, dir: &Path) -> anyhow::Result<()> {
    write_atomic(&dir.join("curve.json"), &serde_json::to_vec_pretty(curve)?)?;
    let seeds = curve.points.first().map_or(0, |p| p.runs.len());
    let panels: Vec<Panel> = PANELS
        .iter()
        .map(|&(title, y_label, key, paper)| Panel {
            title: title.to_owned(),
            y_label: y_label.to_owned(),
            bands: vec![curve.band(key, "SAE + NE loss")],
            references: paper
                .map(|value| Reference {
                    label: "paper, NE".to_owned(),
                    value,
                })
                .into_iter()
                .collect(),
        })
        .collect();
    let figure = curve_figure(
        &panels,
        "λ_NE (log scale)",
        &format!("Metrics across λ_NE ({seeds} seeds; λ_NE = 0 is the standard SAE)"),
    )?;
    write_atomic(&dir.join("curve.svg"), figure.as_bytes())?;

    let (distance, loss) = (curve.band("mean_dist", ""), curve.band("acc_loss_pct", ""));
    let points: Vec<TradeoffPoint> = distance
        .points
        .iter()
        .zip(&loss.points)
        .map(|(d, l)| TradeoffPoint {
            lambda: d.lambda,
            x: d.mean,
            x_std: d.std,
            y: l.mean,
            y_std: l.std,
        })
        .collect();
    let paper = [
        ("paper, standard", &PAPER_STANDARD),
        ("paper, NE", &PAPER_NE),
    ]
    .map(|(label, m)| ReferencePoint {
        label: label.to_owned(),
        x: m.mean_dist,
        y: m.acc_loss_pct,
    });
    let figure = tradeoff_figure(
        &points,
        "median mean embedding distance (cosine)",
        "accuracy loss (points)",
        "Accuracy loss against mean embedding distance",
        &paper,
    )?;
    write_atomic(&dir.join("tradeoff.svg"), figure.as_bytes())
}

/// The curve as a Markdown table of the figures that matter most for choosing λ_NE.
pub fn table(curve: &CurveFile) -> String {
    let columns: [(&str, &str, usize); 9] = [
        ("MSE", "mse", 3),
        ("acc. loss %", "acc_loss_pct", 2),
        ("L0 %", "l0_pct", 2),
        ("dead %", "dead_pct", 1),
        ("max dist", "max_dist", 3),
        ("mean dist", "mean_dist", 3),
        ("label purity", "label_purity", 3),
        ("input coherence", "input_coherence", 3),
        ("participation", "encoder_participation", 2),
    ];
    let mut out = String::from("| λ_NE |");
    for (heading, _, _) in columns {
        let _ = write!(out, " {heading} |");
    }
    let _ = writeln!(out, "\n|---:|{}", "---:|".repeat(columns.len()));
    for point in &curve.points {
        let _ = write!(out, "| {} |", point.lambda_ne);
        for (_, key, decimals) in columns {
            let cell = point
                .summary
                .get(key)
                .map_or("n/a".into(), |s| s.format(decimals));
            let _ = write!(out, " {cell} |");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use ne_metrics::Table4;

    fn metrics(mean_dist: f64, acc_loss_pct: f64) -> SaeMetrics {
        SaeMetrics {
            mse: 0.3,
            l1: 17.0,
            l0_pct: 5.0,
            acc_loss_pct,
            max_dist: 2.0 * mean_dist,
            mean_dist,
            size: 500.0,
            dead_pct: 25.0,
            dead_threshold_pct: 25.0,
            dead_training_pct: 1.0,
            dead_late_pct: 2.0,
            table4: Table4::UNMEASURED,
        }
    }

    #[test]
    fn points_gather_seeds_in_lambda_order_and_summarise_them() {
        let seeds = vec![
            (
                0,
                vec![(0.0, metrics(0.4, 1.0)), (100.0, metrics(0.06, 2.0))],
            ),
            (
                1,
                vec![(100.0, metrics(0.10, 4.0)), (0.0, metrics(0.2, 1.0))],
            ),
        ];
        let curve = CurveFile::new(&Config::paper(), &[0.0, 100.0], &seeds);
        assert_eq!(curve.points.len(), 2);
        assert_eq!(curve.points[1].lambda_ne, 100.0);
        assert_eq!(curve.points[1].runs[1].seed, 1);
        let means: Vec<f64> = curve
            .band("mean_dist", "")
            .points
            .iter()
            .map(|p| p.mean)
            .collect();
        assert!((means[0] - 0.3).abs() < 1e-12 && (means[1] - 0.08).abs() < 1e-12);
        assert!(
            curve.band("label_purity", "").points[0].mean.is_nan(),
            "unmeasured stays NaN"
        );
        let text = curve.summary_text();
        assert!(
            text.contains("mean distance falls from 0.300 to 0.080"),
            "{text}"
        );
        assert!(text.contains("accuracy loss rises from 1.00 to 3.00"));
        assert!(text.contains("first reaches the paper's NE value (0.08) at λ_NE = 100"));
        assert!(text.contains("label purity is not measured at both ends"));
    }

    #[test]
    fn a_curve_that_never_gets_close_says_so() {
        let seeds = vec![(0, vec![(0.0, metrics(0.4, 1.0)), (10.0, metrics(0.3, 1.1))])];
        let text = CurveFile::new(&Config::paper(), &[0.0, 10.0], &seeds).summary_text();
        assert!(
            text.contains("never reaches the paper's NE value"),
            "{text}"
        );
    }

    #[test]
    fn models_are_reused_at_zero_and_at_the_configs_lambda() {
        assert_eq!(curve_model(0.0, 1000.0), CurveModel::Standard);
        assert_eq!(curve_model(1000.0, 1000.0), CurveModel::Ne);
        assert_eq!(curve_model(30.0, 1000.0), CurveModel::Extra);
        assert_eq!(curve_model_stem(30.0), "sae-ne-lambda-30");
        assert_eq!(curve_model_stem(0.5), "sae-ne-lambda-0.5");
    }

    #[test]
    fn bad_lambdas_are_refused() {
        use crate::config::CurveConfig;
        let bad = |lambda_ne: Vec<f32>| CurveConfig { lambda_ne }.validate().unwrap_err();
        assert!(bad(vec![0.0, -1.0]).contains("[curve]"));
        assert!(bad(vec![f32::NAN]).contains("finite"));
        assert!(bad(vec![10.0, 10.0]).contains("twice"));
        assert_eq!(CurveConfig::default().validate(), Ok(()));
    }
}
