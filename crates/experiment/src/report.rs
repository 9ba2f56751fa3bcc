//! `report.md`: Tables 2 and 3 beside the paper's, the definitions used, and what agrees.
use crate::results::MetricsFile;
use crate::{Reproduction, SeedRun};
use ne_metrics::{MeanStd, PAPER_MLP_TEST_ACCURACY, PAPER_NE, PAPER_STANDARD, SaeMetrics};
use std::fmt::Write;

/// Reads one figure from an SAE's metrics.
type Pick = fn(&SaeMetrics) -> f64;
/// Reads one SAE's metrics from a seed's run.
type Variant = fn(&SeedRun) -> SaeMetrics;
const STANDARD: Variant = |r| r.standard;
const NE: Variant = |r| r.ne;

/// Images in the MNIST test set, for the size estimate when the run used all of them.
const MNIST_TEST_IMAGES: usize = 10_000;

/// One column of a table: its heading, how to read it from the metrics (ours and the paper's),
/// and decimals shown.
struct Column {
    heading: &'static str,
    pick: Pick,
    decimals: usize,
}

const fn column(heading: &'static str, pick: Pick, decimals: usize) -> Column {
    Column {
        heading,
        pick,
        decimals,
    }
}

const TABLE_2: [Column; 4] = [
    column("MSE", |m| m.mse, 3),
    column("L1 (per example)", |m| m.l1, 1),
    column("L0 / %", |m| m.l0_pct, 2),
    column("acc. loss / %", |m| m.acc_loss_pct, 2),
];

const TABLE_3: [Column; 4] = [
    column("max dist", |m| m.max_dist, 3),
    column("mean dist", |m| m.mean_dist, 3),
    column("size", |m| m.size, 1),
    column("dead / %", |m| m.dead_pct, 1),
];

/// Mean ± std over seeds of one figure.
fn over_seeds(metrics: &MetricsFile, variant: Variant, pick: Pick) -> Option<MeanStd> {
    let values: Vec<f64> = metrics.runs.iter().map(|r| pick(&variant(r))).collect();
    MeanStd::of(&values)
}

/// The mean over seeds, NaN if nothing could be measured.
fn mean_over_seeds(metrics: &MetricsFile, variant: Variant, pick: Pick) -> f64 {
    over_seeds(metrics, variant, pick).map_or(f64::NAN, |s| s.mean)
}

fn table(out: &mut String, metrics: &MetricsFile, title: &str, columns: &[Column]) {
    let seeds = metrics.runs.len();
    let _ = writeln!(out, "### {title}\n");
    let headings: Vec<&str> = columns.iter().map(|c| c.heading).collect();
    let _ = writeln!(out, "| | {} |", headings.join(" | "));
    let _ = writeln!(out, "|---|{}", "---:|".repeat(columns.len()));
    for (name, paper, variant) in [
        ("standard", &PAPER_STANDARD, STANDARD),
        ("+ NE loss", &PAPER_NE, NE),
    ] {
        let paper_cells: Vec<String> = columns
            .iter()
            .map(|c| format!("{}", (c.pick)(paper)))
            .collect();
        let _ = writeln!(
            out,
            "| {name} (paper, 1 run) | {} |",
            paper_cells.join(" | ")
        );
        let ours: Vec<String> = columns
            .iter()
            .map(|c| match over_seeds(metrics, variant, c.pick) {
                Some(s) => format!("{:.*} ± {:.*}", c.decimals, s.mean, c.decimals, s.std),
                None => "n/a".into(),
            })
            .collect();
        let _ = writeln!(
            out,
            "| {name} (ours, {seeds} seeds) | {} |",
            ours.join(" | ")
        );
    }
    out.push('\n');
}

/// How many seeds show `holds(standard, ne)`.
fn seeds_where(metrics: &MetricsFile, holds: impl Fn(&SaeMetrics, &SaeMetrics) -> bool) -> usize {
    metrics
        .runs
        .iter()
        .filter(|r| holds(&r.standard, &r.ne))
        .count()
}

/// The comparison paragraphs: every statement is computed from the numbers.
fn findings(out: &mut String, metrics: &MetricsFile) {
    let n = metrics.runs.len();
    let std_of = |pick: Pick| mean_over_seeds(metrics, STANDARD, pick);
    let ne_of = |pick: Pick| mean_over_seeds(metrics, NE, pick);

    let lower_max = seeds_where(metrics, |s, e| e.max_dist < s.max_dist);
    let lower_mean = seeds_where(metrics, |s, e| e.mean_dist < s.mean_dist);
    let _ = writeln!(out, "## How this compares with the paper\n");
    let verdict = if lower_max == n && lower_mean == n {
        "holds"
    } else {
        "does not hold on every seed"
    };
    let _ = writeln!(
        out,
        "**Main finding ({verdict}).** The paper reports that the NE loss makes the embeddings \
         of each latent's activating examples closer together (max dist {} → {}, mean dist \
         {} → {}). Here the NE SAE has the lower max dist on {lower_max} of {n} seeds \
         ({:.3} → {:.3} on average) and the lower mean dist on {lower_mean} of {n} seeds \
         ({:.3} → {:.3}).\n",
        PAPER_STANDARD.max_dist,
        PAPER_NE.max_dist,
        PAPER_STANDARD.mean_dist,
        PAPER_NE.mean_dist,
        std_of(|m| m.max_dist),
        ne_of(|m| m.max_dist),
        std_of(|m| m.mean_dist),
        ne_of(|m| m.mean_dist),
    );

    let _ = writeln!(
        out,
        "**Direction of every other change (standard → NE), ours against the paper's:**\n"
    );
    let rows: [(&str, Pick); 6] = [
        ("MSE", |m| m.mse),
        ("L1", |m| m.l1),
        ("L0 %", |m| m.l0_pct),
        ("accuracy loss %", |m| m.acc_loss_pct),
        ("size", |m| m.size),
        ("dead %", |m| m.dead_pct),
    ];
    for (name, pick) in rows {
        let (ours_std, ours_ne) = (std_of(pick), ne_of(pick));
        let (paper_std, paper_ne) = (pick(&PAPER_STANDARD), pick(&PAPER_NE));
        let word = |a: f64, b: f64| {
            if b > a {
                "up"
            } else if b < a {
                "down"
            } else {
                "unchanged"
            }
        };
        let (ours, paper) = (word(ours_std, ours_ne), word(paper_std, paper_ne));
        let agree = if ours == paper {
            "agrees"
        } else {
            "**differs**"
        };
        let _ = writeln!(
            out,
            "- {name}: ours {ours} ({ours_std:.3} → {ours_ne:.3}), paper {paper} \
             ({paper_std} → {paper_ne}): {agree}."
        );
    }
    let l1_batch = std_of(|m| m.l1) * 128.0;
    let _ = writeln!(
        out,
        "\n**Scale of L1.** We report L1 per example. The paper's {} looks like a sum over a \
         batch of 128; ours times 128 is {l1_batch:.0} for the standard SAE. Absolute values also \
         depend on the scale of the MLP's hidden activations, which differ between any two \
         trained MLPs, so compare directions and ratios rather than raw L1 and MSE.\n",
        PAPER_STANDARD.l1
    );
    let test_images = match metrics.config.data.test_limit {
        0 => MNIST_TEST_IMAGES,
        limit => limit.min(MNIST_TEST_IMAGES),
    } as f64;
    let implied = |l0_pct: f64, dead_pct: f64| test_images * l0_pct / (100.0 - dead_pct);
    let paper_implied = (
        implied(PAPER_STANDARD.l0_pct, PAPER_STANDARD.dead_pct),
        implied(PAPER_NE.l0_pct, PAPER_NE.dead_pct),
    );
    let ours_implied = (
        implied(std_of(|m| m.l0_pct), std_of(|m| m.dead_pct)),
        implied(ne_of(|m| m.l0_pct), ne_of(|m| m.dead_pct)),
    );
    let _ = writeln!(
        out,
        "**Scale of size.** Size counts every activating test image, so L0 and dead % fix its \
         average: a live latent fires on about (test images) × L0 / (1 − dead) of them. From the \
         paper's own L0 and dead % that average is {:.0} (standard) and {:.0} (NE) over \
         {test_images:.0} test images, against its medians of {} and {}; ours is {:.0} and \
         {:.0}, against medians of {:.0} and {:.0}. The paper's averages are {:.0} and {:.0} \
         times its medians, which needs an extremely skewed distribution, so we suspect the \
         paper counted size over a smaller sample than the whole test set. Compare its \
         direction, not its value.\n",
        paper_implied.0,
        paper_implied.1,
        PAPER_STANDARD.size,
        PAPER_NE.size,
        ours_implied.0,
        ours_implied.1,
        std_of(|m| m.size),
        ne_of(|m| m.size),
        paper_implied.0 / PAPER_STANDARD.size,
        paper_implied.1 / PAPER_NE.size,
    );
    let dead = (std_of(|m| m.dead_pct), ne_of(|m| m.dead_pct));
    let _ = writeln!(
        out,
        "**Dead latents.** The paper's standard SAE leaves {}% of latents dead and the NE SAE \
         {}%. Ours: {:.1}% and {:.1}%. Dead counts are sensitive to the L1 weight, the \
         initialisation and the learning rate, none of which the paper states precisely.\n",
        PAPER_STANDARD.dead_pct, PAPER_NE.dead_pct, dead.0, dead.1
    );
    let accs: Vec<f64> = metrics
        .runs
        .iter()
        .map(|r| 100.0 * r.mlp_test_accuracy)
        .collect();
    if let Some(acc) = MeanStd::of(&accs) {
        let _ = writeln!(
            out,
            "**The MLP.** Test accuracy {:.2}% ± {:.2} over {n} seeds (paper: {:.1}%).\n",
            acc.mean,
            acc.std,
            100.0 * PAPER_MLP_TEST_ACCURACY
        );
    }
}

/// Tables 2 and 3, paper and ours, as Markdown.
pub fn tables(metrics: &MetricsFile) -> String {
    let mut out = String::new();
    table(
        &mut out,
        metrics,
        "Table 2: reconstruction and sparsity (test set)",
        &TABLE_2,
    );
    table(
        &mut out,
        metrics,
        "Table 3: neuron-embedding distances (test set)",
        &TABLE_3,
    );
    out
}

/// Seconds per stage and seed, then the stages common to all seeds.
pub fn timing_table(done: &Reproduction) -> String {
    let runs = &done.metrics.runs;
    let mut stages: Vec<&String> = runs.iter().flat_map(|r| r.timing_s.keys()).collect();
    stages.sort();
    stages.dedup();
    let mut out = String::from("### Timing (seconds)\n\n| seed |");
    for stage in &stages {
        let _ = write!(out, " {stage} |");
    }
    let _ = writeln!(out, "\n|---|{}", "---:|".repeat(stages.len()));
    for run in runs {
        let _ = write!(out, "| {} |", run.seed);
        for stage in &stages {
            let _ = write!(
                out,
                " {:.2} |",
                run.timing_s.get(*stage).copied().unwrap_or(f64::NAN)
            );
        }
        out.push('\n');
    }
    let overall: Vec<String> = done
        .timing_s
        .iter()
        .map(|(k, v)| format!("{k} {v:.2}"))
        .collect();
    let _ = writeln!(
        out,
        "\nwhole run (seeds in parallel): {}",
        overall.join(", ")
    );
    out
}

/// The whole report as Markdown.
pub fn render(metrics: &MetricsFile) -> String {
    let mut out = String::new();
    let n = metrics.runs.len();
    let seeds: Vec<String> = metrics.runs.iter().map(|r| r.seed.to_string()).collect();
    let _ = writeln!(out, "# Neuron embeddings on MNIST: Tables 2 and 3\n");
    let _ = writeln!(
        out,
        "Reproduction of Foote (2024), section 4.2, over {n} seeds ({}). Ours: mean ± sample \
         standard deviation over seeds. The paper reports one run.\n",
        seeds.join(", ")
    );
    out.push_str(&tables(metrics));
    findings(&mut out, metrics);
    definitions(&mut out, metrics);
    out
}

/// The definitions, with this run's sizes filled in.
fn definitions(out: &mut String, metrics: &MetricsFile) {
    let config = &metrics.config;
    let (hidden, latents, cap) = (
        config.mlp.hidden,
        config.sae.latents,
        config.eval.example_cap,
    );
    let _ = writeln!(
        out,
        "## Definitions used\n\n\
         - **MSE**: mean over test examples and the {hidden} hidden dims of (h_hat - h)².\n\
         - **L1**: mean over test examples of Σ_j f_j (per example, not per batch).\n\
         - **L0 %**: mean over test examples of the share of the {latents} latents with \
         f_j > 0.\n\
         - **acc. loss %**: MLP test accuracy minus its accuracy with the hidden layer replaced \
         by h_hat, in percentage points.\n\
         - **max dist / mean dist**: for each latent, its first {cap} activating test examples \
         (test-set order), their neuron embeddings e = W_enc[j] ⊙ (h - b_dec), and the max and \
         mean pairwise cosine distance; the median over latents with at least 2 such examples.\n\
         - **size**: the median over latents with at least one activating test example of how \
         many test examples activate them (uncapped).\n\
         - **dead %**: latents that activate on no training example (final model), in percent."
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use std::collections::BTreeMap;

    fn sae(max_dist: f64, mean_dist: f64, l0_pct: f64, size: f64, dead_pct: f64) -> SaeMetrics {
        SaeMetrics {
            mse: 0.3,
            l1: 20.0,
            l0_pct,
            acc_loss_pct: 1.0,
            max_dist,
            mean_dist,
            size,
            dead_pct,
        }
    }

    fn run(seed: u64, ne_max_dist: f64) -> SeedRun {
        SeedRun {
            seed,
            mlp_test_accuracy: 0.95,
            standard: sae(0.9, 0.4, 5.0, 500.0, 20.0),
            ne: sae(ne_max_dist, 0.1, 10.0, 1500.0, 40.0),
            timing_s: BTreeMap::new(),
        }
    }

    #[test]
    fn report_shows_both_tables_with_paper_rows_and_ours() {
        let text = render(&MetricsFile::new(
            Config::paper(),
            vec![run(0, 0.2), run(1, 0.4)],
        ));
        assert!(text.contains("### Table 2") && text.contains("### Table 3"));
        assert!(text.contains("| standard (paper, 1 run) | 0.33 | 2600 | 2.4 | 1.5 |"));
        assert!(text.contains("| + NE loss (ours, 2 seeds) | 0.300 ± 0.000 |"));
        // Mean and sample std of 0.2 and 0.4.
        assert!(text.contains("| 0.300 ± 0.141 | 0.100 ± 0.000 | 1500.0 ± 0.0 | 40.0 ± 0.0 |"));
        assert!(text.contains("its first 100 activating test examples"));
        assert!(text.contains("share of the 512 latents"));
    }

    #[test]
    fn findings_are_computed_from_the_numbers() {
        let holds = render(&MetricsFile::new(
            Config::paper(),
            vec![run(0, 0.2), run(1, 0.4)],
        ));
        assert!(holds.contains("**Main finding (holds).**"));
        assert!(holds.contains("lower max dist on 2 of 2 seeds (0.900 → 0.300 on average)"));
        assert!(holds.contains(
            "- dead %: ours up (20.000 → 40.000), paper down (23.8 → 3.7): \
                                **differs**."
        ));
        assert!(holds.contains("- MSE: ours unchanged (0.300 → 0.300), paper up"));
        // 10,000 × 2.4 / 76.2 and 10,000 × 9.1 / 96.3; ours 10,000 × 5 / 80 and × 10 / 60.
        assert!(holds.contains("that average is 315 (standard) and 945 (NE) over 10000 test"));
        assert!(holds.contains("ours is 625 and 1667, against medians of 500 and 1500"));
        assert!(holds.contains("**The MLP.** Test accuracy 95.00% ± 0.00 over 2 seeds"));

        let fails = render(&MetricsFile::new(
            Config::paper(),
            vec![run(0, 0.2), run(1, 0.95)],
        ));
        assert!(fails.contains("**Main finding (does not hold on every seed).**"));
        assert!(fails.contains("lower max dist on 1 of 2 seeds"));
    }
}
