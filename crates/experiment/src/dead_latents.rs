//! The dead-latent study: the paper's NE SAE has fewer dead latents than its standard SAE, ours
//! more. This runs the λ_NE curve under both SAE initialisations and counts dead latents four
//! ways, to find for which initialisation, definition and λ_NE (if any) the NE loss lowers them.
use crate::Config;
use crate::curve::CurveFile;
use crate::outputs::Log;
use crate::outputs::write_atomic;
use crate::paper::{PAPER_NE, PAPER_STANDARD};
use crate::{ReproduceOptions, reproduce};
use ne_figures::{Panel, Reference, curve_figure};
use ne_metrics::{MeanStd, SaeMetrics};
use ne_models::SaeInit;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// The initialisations compared.
pub const INITS: [SaeInit; 2] = [SaeInit::ScaledTranspose, SaeInit::PytorchDefault];

/// Reads one figure of an SAE's metrics.
type Pick = fn(&SaeMetrics) -> f64;

/// The ways of counting dead latents: (name, key in `metrics.json`, how to read it).
const DEFINITIONS: [(&str, &str, Pick); 4] = [
    ("final model, training set", "dead_pct", |m| m.dead_pct),
    ("final model, max ≤ τ", "dead_threshold_pct", |m| {
        m.dead_threshold_pct
    }),
    ("during training", "dead_training_pct", |m| {
        m.dead_training_pct
    }),
    ("last tenth of training", "dead_late_pct", |m| {
        m.dead_late_pct
    }),
];

/// The study's result: one curve per initialisation.
#[derive(Debug, Clone)]
pub struct DeadLatentStudy {
    pub curves: Vec<(SaeInit, CurveFile)>,
    /// `dead-latents.md`.
    pub table_path: PathBuf,
}

/// Runs `reproduce` with the curve under each initialisation of `INITS` (into
/// `out/<init name>/`), then writes `out/dead-latents.md`.
pub fn study(
    config: &Config,
    seeds: &[u64],
    out: &Path,
    log: Log,
) -> anyhow::Result<DeadLatentStudy> {
    let mut curves = Vec::new();
    for init in INITS {
        let mut config = config.clone();
        config.sae.init = init;
        log(&format!("dead-latent study: sae.init = {}", init.name()));
        let options = ReproduceOptions {
            seeds: seeds.to_vec(),
            out: out.join(init.name()),
            resume: false,
            explorer: false,
            curve: true,
            export_activations: false,
            force: false,
        };
        let done = reproduce(&config, &options, log)?;
        let curve = done
            .curve
            .expect("the curve was asked for, so reproduce made it");
        curves.push((init, curve));
    }
    let table_path = out.join("dead-latents.md");
    write_atomic(&table_path, markdown(&curves).as_bytes())?;
    write_atomic(&out.join("dead-latents.svg"), figure(&curves)?.as_bytes())?;
    Ok(DeadLatentStudy { curves, table_path })
}

/// Dead % against λ_NE, one panel per definition, one band per initialisation; the paper's
/// figures (whose definition it does not state) beside the final model's two counts.
fn figure(curves: &[(SaeInit, CurveFile)]) -> anyhow::Result<String> {
    let panels: Vec<Panel> = DEFINITIONS
        .iter()
        .map(|&(name, key, _)| Panel {
            title: format!("Dead: {name}"),
            y_label: "dead latents (%)".to_owned(),
            bands: curves
                .iter()
                .map(|(init, curve)| curve.band(key, init.name()))
                .collect(),
            // The printed figures beside the two counts of the final model (τ's gives them on
            // the paper's released models).
            references: if key == "dead_pct" || key == "dead_threshold_pct" {
                vec![
                    Reference {
                        label: "paper, standard".to_owned(),
                        value: PAPER_STANDARD.dead_pct,
                    },
                    Reference {
                        label: "paper, NE".to_owned(),
                        value: PAPER_NE.dead_pct,
                    },
                ]
            } else {
                Vec::new()
            },
        })
        .collect();
    Ok(curve_figure(
        &panels,
        "λ_NE (log scale)",
        "Dead latents across λ_NE, by initialisation (λ_NE = 0: standard SAE)",
    )?)
}

/// Seeds on which the NE SAE at `point` has fewer dead latents by `pick` than the standard SAE
/// (the curve's λ_NE = 0 point) of the same seed, and the seeds compared.
fn seeds_lowered(curve: &CurveFile, point: usize, pick: Pick) -> (usize, usize) {
    let Some(base) = curve.points.iter().find(|p| p.lambda_ne == 0.0) else {
        return (0, 0);
    };
    let mut compared = 0;
    let mut lowered = 0;
    for run in &curve.points[point].runs {
        if let Some(standard) = base.runs.iter().find(|r| r.seed == run.seed) {
            let (ne, std) = (pick(&run.metrics), pick(&standard.metrics));
            if ne.is_finite() && std.is_finite() {
                compared += 1;
                lowered += usize::from(ne < std);
            }
        }
    }
    (lowered, compared)
}

/// The study as Markdown: per initialisation and λ_NE, dead % by each definition (mean ± std
/// over seeds, with on how many seeds it is below λ_NE = 0), then the conclusion.
pub fn markdown(curves: &[(SaeInit, CurveFile)]) -> String {
    let headings: Vec<String> = DEFINITIONS
        .iter()
        .map(|(name, _, _)| format!("dead %, {name}"))
        .collect();
    let mut out = format!(
        "| init | λ_NE | {} |\n|---|---:|{}\n",
        headings.join(" | "),
        "---:|".repeat(DEFINITIONS.len())
    );
    let mut lowered_everywhere = Vec::new();
    for (init, curve) in curves {
        for (i, point) in curve.points.iter().enumerate() {
            let cells: Vec<String> = DEFINITIONS
                .iter()
                .map(|&(name, key, pick)| {
                    let value = point
                        .summary
                        .get(key)
                        .map_or("n/a".into(), |s: &MeanStd| s.format(1));
                    if point.lambda_ne == 0.0 {
                        return value;
                    }
                    let (lowered, compared) = seeds_lowered(curve, i, pick);
                    if compared > 0 && lowered == compared {
                        lowered_everywhere.push(format!(
                            "{}, {name}, λ_NE = {}",
                            init.name(),
                            point.lambda_ne
                        ));
                    }
                    format!("{value} (lower on {lowered}/{compared})")
                })
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                init.name(),
                point.lambda_ne,
                cells.join(" | ")
            );
        }
    }
    out.push('\n');
    if lowered_everywhere.is_empty() {
        let _ = writeln!(
            out,
            "**Conclusion.** Nothing here reverses the direction: for neither initialisation, by \
             none of the {} definitions and at no λ_NE > 0 does the NE loss leave fewer dead \
             latents than the standard SAE on every seed.",
            DEFINITIONS.len()
        );
    } else {
        let _ = writeln!(
            out,
            "**Conclusion.** The NE loss leaves fewer dead latents than the standard SAE on every \
             seed for: {}. Everywhere else it does not.",
            lowered_everywhere.join("; ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ne_metrics::Table4;

    fn metrics(dead: f64) -> SaeMetrics {
        SaeMetrics {
            mse: 0.3,
            l1: 17.0,
            l0_pct: 5.0,
            acc_loss_pct: 1.0,
            max_dist: 0.9,
            mean_dist: 0.4,
            size: 500.0,
            dead_pct: dead,
            // Moving against the strict count, so the two definitions disagree.
            dead_threshold_pct: 50.0 - dead,
            dead_training_pct: dead / 10.0,
            dead_late_pct: f64::NAN,
            table4: Table4::UNMEASURED,
        }
    }

    fn curve(dead_at_zero: [f64; 2], dead_at_100: [f64; 2]) -> CurveFile {
        let seeds = (0..2)
            .map(|s| {
                (
                    s as u64,
                    vec![
                        (0.0, metrics(dead_at_zero[s])),
                        (100.0, metrics(dead_at_100[s])),
                    ],
                )
            })
            .collect::<Vec<_>>();
        CurveFile::new(&Config::paper(), &[0.0, 100.0], &seeds)
    }

    #[test]
    fn the_conclusion_names_what_lowers_dead_latents_on_every_seed() {
        let rises = curve([20.0, 22.0], [30.0, 31.0]);
        let lowers = curve([20.0, 22.0], [10.0, 12.0]);
        let text = markdown(&[
            (SaeInit::ScaledTranspose, rises),
            (SaeInit::PytorchDefault, lowers),
        ]);
        assert!(
            text.contains("| scaled_transpose | 100 | 30.5 ± 0.7 (lower on 0/2) |"),
            "{text}"
        );
        assert!(text.contains("| pytorch_default | 0 | 21.0 ± 1.4 | 29.0 ± 1.4 |"));
        assert!(text.contains("| dead %, final model, max ≤ τ |"), "{text}");
        assert!(
            text.contains("n/a (lower on 0/0)"),
            "unmeasured late dead %: {text}"
        );
        assert!(text.contains(
            "on every seed for: scaled_transpose, final model, max ≤ τ, λ_NE = 100; \
             pytorch_default, final model, training set, λ_NE = 100; pytorch_default, during \
             training, λ_NE = 100."
        ));
    }

    #[test]
    fn it_says_plainly_when_nothing_lowers_them() {
        let text = markdown(&[(SaeInit::ScaledTranspose, curve([20.0, 22.0], [21.0, 21.0]))]);
        assert!(text.contains("(lower on 1/2)"));
        assert!(text.contains("Nothing here reverses the direction"));
    }
}
