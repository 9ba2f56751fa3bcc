//! The benchmark's findings: the NE SAEs against the standard SAE at the same λ_L1 and at the
//! same L0, the verdict computed from them, `report.md` and `synthetic.svg`.
use super::{
    L1Choice, MIN_RECOVERED, MatchedL0, SaeResult, SyntheticConfig, SyntheticFile, write_json,
};
use crate::outputs::write_atomic;
use ne_figures::{Band, BandPoint, Panel, curve_figure};
use ne_metrics::MeanStd;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// One reported figure: its key in the JSON, a title, an axis label, and how to read it.
pub(super) struct Metric<T> {
    pub key: &'static str,
    pub title: &'static str,
    pub y_label: &'static str,
    pub get: fn(&T) -> f64,
}

/// A measured SAE at some λ_NE (0: the standard SAE).
pub(super) trait AtLambda {
    fn lambda_ne(&self) -> f32;
}

impl AtLambda for SaeResult {
    fn lambda_ne(&self) -> f32 {
        self.lambda_ne
    }
}

pub(super) const fn metric<T>(
    key: &'static str,
    title: &'static str,
    y_label: &'static str,
    get: fn(&T) -> f64,
) -> Metric<T> {
    Metric {
        key,
        title,
        y_label,
        get,
    }
}

/// The figures reported, ground truth first.
const METRICS: [Metric<SaeResult>; 11] = [
    metric("mmcs", "MMCS", "mean max cosine", |r| r.truth.mmcs),
    metric(
        "recovered",
        "Features recovered",
        "share (cos ≥ 0.9)",
        |r| r.truth.recovered,
    ),
    metric("mcc", "MCC (one-to-one)", "mean |cos|", |r| r.truth.mcc),
    metric(
        "precision",
        "Latent precision",
        "median over latents",
        |r| r.truth.precision,
    ),
    metric("recall", "Latent recall", "median over latents", |r| {
        r.truth.recall
    }),
    metric(
        "polysemantic_pct",
        "Polysemantic latents",
        "precision < 0.5 (%)",
        |r| r.truth.polysemantic_pct,
    ),
    metric("l0_pct", "L0", "latents active (%)", |r| r.metrics.l0_pct),
    metric("mse", "MSE", "per input dim", |r| r.metrics.mse),
    metric("dead_pct", "Dead latents", "no training example (%)", |r| {
        r.metrics.dead_pct
    }),
    metric(
        "mean_dist",
        "Mean embedding distance",
        "median over latents",
        |r| r.metrics.mean_dist,
    ),
    metric(
        "max_dist",
        "Max embedding distance",
        "median over latents",
        |r| r.metrics.max_dist,
    ),
];

/// The name of the NE SAEs' band in the figures.
pub(super) const NE_BAND: &str = "SAE + NE loss (λ_NE = 0: standard SAE)";

/// The metrics the verdict judges.
const JUDGED: [&str; 2] = ["precision", "recovered"];

fn pick(key: &str) -> fn(&SaeResult) -> f64 {
    METRICS
        .iter()
        .find(|m| m.key == key)
        .map(|m| m.get)
        .expect("a listed metric")
}

/// The standard SAE of each seed at each NE SAE's L0: every metric interpolated linearly in
/// ln L0 between the two standard SAEs of the λ_L1 sweep whose L0 enclose it.
pub(super) fn match_l0(sweep: &[SaeResult], points: &[SaeResult]) -> Vec<MatchedL0> {
    points
        .iter()
        .filter(|p| p.lambda_ne > 0.0)
        .map(|p| {
            let mut line: Vec<&SaeResult> = sweep.iter().filter(|r| r.seed == p.seed).collect();
            line.sort_by(|a, b| a.metrics.l0_pct.total_cmp(&b.metrics.l0_pct));
            let x = p.metrics.l0_pct.ln();
            let standard = line.windows(2).find_map(|w| {
                let (x0, x1) = (w[0].metrics.l0_pct.ln(), w[1].metrics.l0_pct.ln());
                (x0 <= x && x <= x1 && x0 < x1).then(|| {
                    let t = (x - x0) / (x1 - x0);
                    METRICS
                        .iter()
                        .map(|m| {
                            let (a, b) = ((m.get)(w[0]), (m.get)(w[1]));
                            (m.key.to_owned(), a + t * (b - a))
                        })
                        .collect::<BTreeMap<_, _>>()
                })
            });
            MatchedL0 {
                seed: p.seed,
                lambda_ne: p.lambda_ne,
                l0_pct: p.metrics.l0_pct,
                standard,
            }
        })
        .collect()
}

/// Against which standard SAE an NE SAE is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// The standard SAE of the same seed and λ_L1.
    SameL1,
    /// The standard SAE of the same seed at the NE SAE's L0 (interpolated along λ_L1).
    MatchedL0,
}

impl Comparison {
    fn describe(self) -> &'static str {
        match self {
            Comparison::SameL1 => "at the same λ_L1",
            Comparison::MatchedL0 => "at matched L0",
        }
    }
}

/// One λ_NE, one metric, one comparison: on how many seeds the NE SAE is higher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub lambda_ne: f32,
    pub metric: String,
    pub comparison: Comparison,
    /// Seeds where the comparison exists (at matched L0, where the NE SAE's L0 lies in the
    /// sweep's range).
    pub seeds_compared: usize,
    /// Seeds where the NE SAE's figure is higher.
    pub seeds_higher: usize,
    /// Mean over the compared seeds of NE minus standard; NaN when none was compared.
    #[serde(deserialize_with = "nan_or_number")]
    pub mean_difference: f64,
    /// Higher on every seed of the run.
    pub raised: bool,
}

fn nan_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// The answer to "does the NE loss raise precision or recovery at any λ_NE, also at matched
/// L0?", computed from the findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Whether the standard SAE recovers enough features for the benchmark to judge.
    pub benchmark_valid: bool,
    pub findings: Vec<Finding>,
    /// The verdict in words, built from the findings.
    pub text: String,
}

/// Compares every NE SAE with its standard SAEs and words the result. "Raised" means higher on
/// every seed: with three seeds, a difference that random seeds would also give goes both ways.
pub(super) fn verdict(
    config: &SyntheticConfig,
    choice: &L1Choice,
    points: &[SaeResult],
    matched: &[MatchedL0],
) -> Verdict {
    let seeds = config.seeds.len();
    let mut findings = Vec::new();
    for lambda in config.ne_lambdas() {
        for metric in JUDGED {
            let get = pick(metric);
            let same: Vec<f64> = points
                .iter()
                .filter(|p| p.lambda_ne == lambda)
                .filter_map(|ne| {
                    let standard = points
                        .iter()
                        .find(|s| s.seed == ne.seed && s.lambda_ne == 0.0)?;
                    Some(get(ne) - get(standard))
                })
                .collect();
            let at_l0: Vec<f64> = matched
                .iter()
                .filter(|m| m.lambda_ne == lambda)
                .filter_map(|m| {
                    let ne = points
                        .iter()
                        .find(|p| p.seed == m.seed && p.lambda_ne == lambda)?;
                    Some(get(ne) - m.standard.as_ref()?[metric])
                })
                .collect();
            for (comparison, diffs) in [(Comparison::SameL1, same), (Comparison::MatchedL0, at_l0)]
            {
                let diffs: Vec<f64> = diffs.into_iter().filter(|d| d.is_finite()).collect();
                let higher = diffs.iter().filter(|&&d| d > 0.0).count();
                findings.push(Finding {
                    lambda_ne: lambda,
                    metric: metric.to_owned(),
                    comparison,
                    seeds_compared: diffs.len(),
                    seeds_higher: higher,
                    mean_difference: MeanStd::of(&diffs).map_or(f64::NAN, |m| m.mean),
                    raised: diffs.len() == seeds && higher == seeds,
                });
            }
        }
    }
    let text = verdict_text(choice, &findings, seeds);
    Verdict {
        benchmark_valid: choice.reaches_min_recovered,
        findings,
        text,
    }
}

fn verdict_text(choice: &L1Choice, findings: &[Finding], seeds: usize) -> String {
    let every = if seeds == 1 {
        "on the one seed".to_owned()
    } else {
        format!("on all {seeds} seeds")
    };
    let mut text = String::new();
    if !choice.reaches_min_recovered {
        let best = choice
            .candidates
            .iter()
            .map(|c| c.recovered)
            .fold(0.0, f64::max);
        let _ = write!(
            text,
            "No λ_L1 of the grid lets the standard SAE recover {:.0}% of the features (best: \
             {:.1}%), so this benchmark cannot judge the NE loss; the comparisons below are \
             shown for completeness. ",
            100.0 * MIN_RECOVERED,
            100.0 * best
        );
    }
    if findings.iter().any(|f| f.raised) {
        let _ = write!(
            text,
            "In part: the NE loss raises median latent precision or the share of features \
             recovered {every} somewhere (below); everywhere else it does not. "
        );
    } else {
        let _ = write!(
            text,
            "No: at no λ_NE does the NE loss raise median latent precision or the share of \
             features recovered {every}, neither at the same λ_L1 nor at matched L0. "
        );
    }
    for metric in JUDGED {
        let name = if metric == "recovered" {
            "Share of features recovered"
        } else {
            "Median latent precision"
        };
        let at = |comparison: Comparison| {
            let raised: Vec<String> = findings
                .iter()
                .filter(|f| f.metric == metric && f.comparison == comparison && f.raised)
                .map(|f| format!("{} ({:+.3})", f.lambda_ne, f.mean_difference))
                .collect();
            if raised.is_empty() {
                format!("at no λ_NE {}", comparison.describe())
            } else {
                format!("at λ_NE = {} {}", raised.join(", "), comparison.describe())
            }
        };
        let _ = write!(
            text,
            "{name}: higher {every} {}; {}. ",
            at(Comparison::SameL1),
            at(Comparison::MatchedL0)
        );
    }
    let _ = write!(text, "(Mean NE-minus-standard difference in brackets.)");
    text.trim_end().to_owned()
}

/// Mean ± std over seeds of one metric at one λ_NE; `None` when no seed measured it.
fn summary<T: AtLambda>(points: &[T], lambda: f32, get: fn(&T) -> f64) -> Option<MeanStd> {
    let values: Vec<f64> = points
        .iter()
        .filter(|p| p.lambda_ne() == lambda)
        .map(get)
        .collect();
    MeanStd::of(&values)
}

/// The mean ± std over seeds of `points` at each of `lambdas` drawn as one band.
pub(super) fn band<T: AtLambda>(
    name: &str,
    points: &[T],
    lambdas: &[f32],
    get: fn(&T) -> f64,
) -> Band {
    Band {
        name: name.to_owned(),
        points: lambdas
            .iter()
            .map(|&lambda| band_point(lambda, summary(points, lambda, get)))
            .collect(),
    }
}

/// A markdown table: a row per metric, a column per λ_NE, mean ± std over seeds.
pub(super) fn metric_table<T: AtLambda>(
    metrics: &[Metric<T>],
    points: &[T],
    lambdas: &[f32],
) -> String {
    let mut md = String::new();
    let header: Vec<String> = lambdas.iter().map(|l| format!("λ_NE {l}")).collect();
    let _ = writeln!(md, "| metric | {} |", header.join(" | "));
    let _ = writeln!(md, "| --- |{}", " ---: |".repeat(lambdas.len()));
    for m in metrics {
        let cells: Vec<String> = lambdas
            .iter()
            .map(|&l| summary(points, l, m.get).map_or("n/a".to_owned(), |s| s.format(3)))
            .collect();
        let _ = writeln!(md, "| {} | {} |", m.key, cells.join(" | "));
    }
    md
}

/// Writes `synthetic.json`, `synthetic.svg` and `report.md` into `out`; returns the report's
/// path.
pub(super) fn write(file: &SyntheticFile, out: &Path) -> anyhow::Result<PathBuf> {
    write_json(&out.join("synthetic.json"), file)?;
    write_atomic(&out.join("synthetic.svg"), figure(file)?.as_bytes())?;
    let path = out.join("report.md");
    write_atomic(&path, markdown(file).as_bytes())?;
    Ok(path)
}

/// Every metric against λ_NE: the NE SAEs (λ_NE = 0: the standard SAE), and where it means
/// something the standard SAE at the NE SAEs' L0.
fn figure(file: &SyntheticFile) -> anyhow::Result<String> {
    let lambdas = with_standard(&file.config.lambda_ne);
    let panels: Vec<Panel> = METRICS
        .iter()
        .map(|m| {
            let (key, get) = (m.key, m.get);
            let mut bands = vec![band(NE_BAND, &file.points, &lambdas, get)];
            if key != "l0_pct" {
                bands.push(Band {
                    name: "standard SAE at the same L0 (interpolated along λ_L1)".to_owned(),
                    points: lambdas
                        .iter()
                        .map(|&lambda| {
                            let at = if lambda == 0.0 {
                                summary(&file.points, 0.0, get)
                            } else {
                                let values: Vec<f64> = file
                                    .matched_l0
                                    .iter()
                                    .filter(|m| m.lambda_ne == lambda)
                                    .filter_map(|m| m.standard.as_ref().map(|s| s[key]))
                                    .collect();
                                MeanStd::of(&values)
                            };
                            band_point(lambda, at)
                        })
                        .collect(),
                });
            }
            Panel {
                title: m.title.to_owned(),
                y_label: m.y_label.to_owned(),
                bands,
                references: Vec::new(),
            }
        })
        .collect();
    let seeds = file.config.seeds.len();
    Ok(curve_figure(
        &panels,
        "λ_NE (log scale)",
        &format!(
            "Synthetic ground truth: {} features in R^{}, λ_L1 = {}, {seeds} seeds",
            file.config.data.features, file.config.data.dim, file.choice.lambda_l1
        ),
    )?)
}

fn band_point(lambda: f32, value: Option<MeanStd>) -> BandPoint {
    BandPoint {
        lambda: f64::from(lambda),
        mean: value.map_or(f64::NAN, |v| v.mean),
        std: value.map_or(f64::NAN, |v| v.std),
    }
}

/// λ_NE = 0 (the standard SAE) followed by `lambdas` without 0.
pub(super) fn with_standard(lambdas: &[f32]) -> Vec<f32> {
    std::iter::once(0.0)
        .chain(lambdas.iter().copied().filter(|&l| l > 0.0))
        .collect()
}

fn markdown(file: &SyntheticFile) -> String {
    let config = &file.config;
    let data = &config.data;
    let seeds = config.seeds.len();
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Synthetic ground truth: does the NE loss recover known features?\n"
    );
    let _ = writeln!(md, "## Verdict\n\n{}\n", file.verdict.text);
    let _ = writeln!(
        md,
        "## Data\n\n{} examples for training, {} for validation, {} for testing per seed \
         ({seeds} seeds: {:?}), x = Σ_g c_g f_g in R^{} from G = {} unit feature directions \
         drawn uniformly on the sphere; each feature fires with probability {:.5} on average \
         (Zipf exponent {}), magnitudes {}; pairs: {}. The SAE: {} latents, one epoch, batch \
         {}, Adam at {}, the NE loss from step {}.\n",
        data.train,
        data.validation,
        data.test,
        config.seeds,
        data.dim,
        data.features,
        data.density,
        data.zipf_exponent,
        data.magnitude,
        data.pairs,
        config.sae.latents,
        config.sae.batch_size,
        config.sae.learning_rate,
        config.sae.ne_start_step
    );
    let choice = &file.choice;
    let _ = writeln!(
        md,
        "## λ_L1\n\nλ_L1 = {}: {}. The standard SAEs of the grid, means over seeds on the \
         validation split:\n\n| λ_L1 | recovered | median precision | L0 % |\n| ---: | ---: | ---: \
         | ---: |",
        choice.lambda_l1, choice.rule
    );
    for c in &choice.candidates {
        let _ = writeln!(
            md,
            "| {} | {:.1}% | {:.3} | {:.2} |",
            c.lambda_l1,
            100.0 * c.recovered,
            c.precision,
            c.l0_pct
        );
    }
    let _ = writeln!(
        md,
        "\n## Results on the test split\n\nMean ± std over {seeds} seeds at λ_L1 = {}; λ_NE = 0 is \
         the standard SAE. Precision and recall are medians over the latents that fire on at \
         least 10 test examples.\n",
        choice.lambda_l1
    );
    let lambdas = with_standard(&config.lambda_ne);
    md.push_str(&metric_table(&METRICS, &file.points, &lambdas));
    let _ = writeln!(
        md,
        "\n## The NE loss against the standard SAE\n\nNE minus standard, per λ_NE: \"same \
         λ_L1\" compares with the standard SAE of the same seed; \"matched L0\" with the \
         standard SAE of the same seed at the NE SAE's L0, interpolated linearly in ln L0 \
         between the two SAEs of the λ_L1 grid whose L0 enclose it (no comparison when the \
         NE SAE's L0 lies outside the grid's range). k/{seeds}: seeds on which NE is higher, of \
         those compared.\n\n| λ_NE | metric | same λ_L1 | matched L0 |\n| ---: | --- | ---: | \
         ---: |"
    );
    for pair in file.verdict.findings.chunks(2) {
        let cell = |f: &super::Finding| {
            if f.seeds_compared == 0 {
                "not comparable".to_owned()
            } else {
                format!(
                    "{:+.3} ({}/{})",
                    f.mean_difference, f.seeds_higher, f.seeds_compared
                )
            }
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            pair[0].lambda_ne,
            pair[0].metric,
            cell(&pair[0]),
            cell(&pair[1])
        );
    }
    let _ = writeln!(
        md,
        "\n`synthetic.json` holds every SAE's figures per seed (the λ_L1 grid under `sweep`, \
         the λ_NE curve under `points`); `synthetic.svg` draws them against λ_NE with ±1 std \
         bands over seeds. Definitions: docs/method.md, \"Synthetic ground truth\"."
    );
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::L1Candidate;
    use ne_metrics::ActivationMetrics;
    use ne_metrics::ground_truth::GroundTruth;

    fn result(seed: u64, lambda_ne: f32, l0_pct: f64, precision: f64, recovered: f64) -> SaeResult {
        let truth = GroundTruth {
            mmcs: recovered,
            recovered,
            mcc: recovered,
            precision,
            recall: 0.5,
            polysemantic_pct: 10.0,
            counted_latents: 100,
        };
        SaeResult {
            seed,
            lambda_l1: 1.0,
            lambda_ne,
            truth,
            metrics: ActivationMetrics {
                mse: 0.1,
                l1: 1.0,
                l0_pct,
                max_dist: 0.5,
                mean_dist: 0.2,
                size: 10.0,
                dead_pct: 0.0,
                dead_threshold_pct: 0.0,
                dead_training_pct: 0.0,
                dead_late_pct: 0.0,
            },
            validation: truth,
        }
    }

    fn choice(reached: bool) -> L1Choice {
        L1Choice {
            lambda_l1: 1.0,
            reaches_min_recovered: reached,
            rule: String::new(),
            candidates: vec![L1Candidate {
                lambda_l1: 1.0,
                recovered: if reached { 0.95 } else { 0.42 },
                precision: 0.9,
                l0_pct: 3.0,
            }],
        }
    }

    /// Two seeds; per seed a sweep at L0 2% (precision 0.9) and 8% (0.5), the standard SAE at
    /// 2%, and an NE SAE at L0 4% with the given precisions.
    fn case(ne_precision: [f64; 2]) -> (SyntheticConfig, Vec<SaeResult>, Vec<MatchedL0>) {
        let config = SyntheticConfig {
            lambda_ne: vec![0.0, 10.0],
            seeds: vec![0, 1],
            ..SyntheticConfig::default()
        };
        let mut sweep = Vec::new();
        let mut points = Vec::new();
        for (seed, p) in [0u64, 1].into_iter().zip(ne_precision) {
            sweep.push(result(seed, 0.0, 2.0, 0.9, 0.9));
            sweep.push(result(seed, 0.0, 8.0, 0.5, 0.5));
            points.push(result(seed, 0.0, 2.0, 0.9, 0.9));
            points.push(result(seed, 10.0, 4.0, p, 0.8));
        }
        let matched = match_l0(&sweep, &points);
        (config, points, matched)
    }

    #[test]
    fn matched_l0_interpolates_in_log_l0_and_stops_at_the_sweeps_ends() {
        let (_, _, matched) = case([0.75, 0.75]);
        // ln 4 is halfway between ln 2 and ln 8.
        let standard = matched[0].standard.as_ref().unwrap();
        assert!((standard["precision"] - 0.7).abs() < 1e-12);
        assert!((standard["recovered"] - 0.7).abs() < 1e-12);
        let sweep = [result(0, 0.0, 2.0, 0.9, 0.9), result(0, 0.0, 8.0, 0.5, 0.5)];
        let outside = match_l0(&sweep, &[result(0, 10.0, 9.0, 0.9, 0.9)]);
        assert_eq!(outside[0].standard, None);
    }

    #[test]
    fn the_verdict_follows_the_numbers() {
        // Lower precision than the standard SAE (0.9) but higher than at matched L0 (0.7).
        let (config, points, matched) = case([0.75, 0.8]);
        let v = verdict(&config, &choice(true), &points, &matched);
        let find = |metric: &str, comparison| {
            v.findings
                .iter()
                .find(|f| f.metric == metric && f.comparison == comparison)
                .unwrap()
        };
        let same = find("precision", Comparison::SameL1);
        assert!(!same.raised && same.seeds_higher == 0 && same.seeds_compared == 2);
        let at_l0 = find("precision", Comparison::MatchedL0);
        assert!(at_l0.raised && at_l0.seeds_higher == 2);
        assert!((at_l0.mean_difference - 0.075).abs() < 1e-12);
        assert!(v.text.starts_with("In part:"), "{}", v.text);
        assert!(
            v.text.contains(
                "Median latent precision: higher on all 2 seeds at no λ_NE at the same λ_L1; at \
                 λ_NE = 10 (+0.075) at matched L0."
            ),
            "{}",
            v.text
        );
        // Recovery 0.8 against 0.7 at matched L0, against 0.9 at the same λ_L1.
        assert!(find("recovered", Comparison::MatchedL0).raised);
        assert!(!find("recovered", Comparison::SameL1).raised);
        assert!(v.benchmark_valid);

        // Higher on one seed only: not raised.
        let (config, points, matched) = case([0.75, 0.6]);
        let v = verdict(&config, &choice(true), &points, &matched);
        assert!(
            v.findings
                .iter()
                .filter(|f| f.metric == "precision")
                .all(|f| !f.raised)
        );
        assert!(
            v.text.contains(
                "Median latent precision: higher on all 2 seeds at no λ_NE at the same λ_L1; at \
                 no λ_NE at matched L0."
            ),
            "{}",
            v.text
        );

        // Lower everywhere, recovery included: the answer is no.
        let (config, mut points, matched) = case([0.6, 0.6]);
        for p in points.iter_mut().filter(|p| p.lambda_ne > 0.0) {
            p.truth.recovered = 0.6;
        }
        let v = verdict(&config, &choice(true), &points, &matched);
        assert!(v.text.starts_with("No: at no λ_NE"), "{}", v.text);
    }

    #[test]
    fn a_benchmark_whose_standard_sae_fails_says_it_cannot_judge() {
        let (config, points, matched) = case([0.75, 0.8]);
        let v = verdict(&config, &choice(false), &points, &matched);
        assert!(!v.benchmark_valid);
        assert!(
            v.text
                .starts_with("No λ_L1 of the grid lets the standard SAE recover 80%"),
            "{}",
            v.text
        );
        assert!(v.text.contains("(best: 42.0%)"), "{}", v.text);
    }
}
