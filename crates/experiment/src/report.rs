//! `report.md`: Tables 2 and 3 beside the paper's, the definitions used, and what agrees.
use crate::curve::CurveFile;
use crate::layers::{NE, STANDARD};
use crate::paper::{PAPER_MLP_TEST_ACCURACY, PAPER_NE, PAPER_STANDARD};
use crate::paper_models::PaperModelsFile;
use crate::recipe::relative_difference;
use crate::results::MetricsFile;
use crate::{Peak, SeedRun};
use ne_metrics::{MIN_ACTIVE_EXAMPLES, MeanStd, SaeMetrics, TOP_EXAMPLES, Table4};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Reads one figure from an SAE's metrics.
type Pick = fn(&SaeMetrics) -> f64;
/// The key of one SAE of a seed's run.
type Variant<'a> = &'a str;

/// The paper's printed figures of the SAE under `key`, for the run's own two.
fn printed_figures(key: &str) -> Option<&'static SaeMetrics> {
    match key {
        STANDARD => Some(&PAPER_STANDARD),
        NE => Some(&PAPER_NE),
        _ => None,
    }
}

/// A row's name for the SAE under `key`.
fn row_name(key: &str) -> &str {
    match key {
        NE => "+ NE loss",
        key => key,
    }
}

/// The SAE keys of a run's tables, in order: its seeds', else the paper's models'.
fn sae_keys(metrics: &MetricsFile) -> Vec<&str> {
    let first = metrics.runs.first().or(metrics.paper_models.as_ref());
    first.map_or_else(|| vec![STANDARD, NE], |r| r.saes.keys().collect())
}

/// The project's page that defines every model, loss and metric, relative to its root.
const METHOD_DOC: &str = "docs/method.md";

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

const TABLE_3: [Column; 5] = [
    column("max dist", |m| m.max_dist, 3),
    column("mean dist", |m| m.mean_dist, 3),
    column("size", |m| m.size, 1),
    column("dead / %", |m| m.dead_pct, 1),
    column("dead ≤ τ / %", |m| m.dead_threshold_pct, 1),
];

/// The row of the paper's released models, measured here.
const RELEASED: &str = "paper's models, measured here";

/// A printed figure: NaN (not printed) shows as n/a.
fn printed(value: f64) -> String {
    if value.is_nan() {
        "n/a".into()
    } else {
        format!("{value}")
    }
}

/// Mean ± std over seeds of one figure.
fn over_seeds(metrics: &MetricsFile, variant: Variant, pick: Pick) -> Option<MeanStd> {
    let values: Vec<f64> = metrics
        .runs
        .iter()
        .map(|r| pick(&r.saes[variant]))
        .collect();
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
    for variant in sae_keys(metrics) {
        let name = row_name(variant);
        if let Some(paper) = printed_figures(variant) {
            let paper_cells: Vec<String> =
                columns.iter().map(|c| printed((c.pick)(paper))).collect();
            let _ = writeln!(
                out,
                "| {name} (paper, 1 run) | {} |",
                paper_cells.join(" | ")
            );
        }
        if let Some(released) = metrics
            .paper_models
            .as_ref()
            .and_then(|r| r.saes.get(variant))
        {
            let cells: Vec<String> = columns
                .iter()
                .map(|c| format!("{:.*}", c.decimals + 1, (c.pick)(released)))
                .collect();
            let _ = writeln!(out, "| {name} ({RELEASED}) | {} |", cells.join(" | "));
        }
        if seeds == 0 {
            continue;
        }
        let ours: Vec<String> = columns
            .iter()
            .map(|c| match over_seeds(metrics, variant, c.pick) {
                Some(s) => s.format(c.decimals),
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
        .filter(|r| holds(&r.saes[STANDARD], &r.saes[NE]))
        .count()
}

/// The comparison paragraphs: every statement is computed from the numbers.
fn findings(out: &mut String, metrics: &MetricsFile) {
    let _ = writeln!(out, "## How this compares with the paper\n");
    main_finding(out, metrics);
    fit_to_printed(out, metrics);
    directions(out, metrics);
    scale_of_l1(out, metrics);
    scale_of_size(out, metrics);
    dead_latents(out, metrics);
    mlp_accuracy(out, metrics);
}

/// The means over seeds of one figure of the standard SAE and of the NE SAE.
fn standard_and_ne(metrics: &MetricsFile, pick: Pick) -> (f64, f64) {
    (
        mean_over_seeds(metrics, STANDARD, pick),
        mean_over_seeds(metrics, NE, pick),
    )
}

/// Table 3's distances, ours against the paper's, and what the independent proxies say.
fn main_finding(out: &mut String, metrics: &MetricsFile) {
    let n = metrics.runs.len();
    let max_dist = standard_and_ne(metrics, |m| m.max_dist);
    let mean_dist = standard_and_ne(metrics, |m| m.mean_dist);
    let lower_max = seeds_where(metrics, |s, e| e.max_dist < s.max_dist);
    let lower_mean = seeds_where(metrics, |s, e| e.mean_dist < s.mean_dist);
    let _ = writeln!(
        out,
        "**Main finding.** The paper reports that the NE loss brings the embeddings of each \
         latent's activating examples closer together (max dist {} → {}, mean dist {} → {}). \
         Here the NE SAE has the lower max dist on {lower_max} of {n} seeds ({:.3} → {:.3} on \
         average) and the lower mean dist on {lower_mean} of {n} seeds ({:.3} → {:.3}). The NE \
         loss minimises exactly this distance, so Table 3 cannot by itself show more \
         monosemantic latents. {}\n",
        PAPER_STANDARD.max_dist,
        PAPER_NE.max_dist,
        PAPER_STANDARD.mean_dist,
        PAPER_NE.mean_dist,
        max_dist.0,
        max_dist.1,
        mean_dist.0,
        mean_dist.1,
        monosemanticity_verdict(metrics, lower_max == n && lower_mean == n),
    );
}

/// The Table 2-3 columns compared with the paper's printed figures: (ours, printed). L1 is left
/// out (the printed L1 is on another scale); dead latents are counted by threshold τ, the count
/// that gives the printed dead % on the paper's released models.
const PRINTED_COLUMNS: [(Pick, Pick); 7] = [
    (|m| m.mse, |p| p.mse),
    (|m| m.l0_pct, |p| p.l0_pct),
    (|m| m.acc_loss_pct, |p| p.acc_loss_pct),
    (|m| m.max_dist, |p| p.max_dist),
    (|m| m.mean_dist, |p| p.mean_dist),
    (|m| m.size, |p| p.size),
    (|m| m.dead_threshold_pct, |p| p.dead_pct),
];

/// Mean relative difference (`recipe::relative_difference`, 0 to 2) from the paper's printed
/// `paper` over `PRINTED_COLUMNS`, each of ours read by `ours`.
fn distance_to_printed(ours: impl Fn(Pick) -> f64, paper: &SaeMetrics) -> f64 {
    let sum: f64 = PRINTED_COLUMNS
        .iter()
        .map(|&(mine, printed)| relative_difference(ours(mine), printed(paper)))
        .sum();
    sum / PRINTED_COLUMNS.len() as f64
}

/// How far the run's means (and the released models, when measured) are from the printed tables.
fn fit_to_printed(out: &mut String, metrics: &MetricsFile) {
    if metrics.runs.is_empty() {
        return;
    }
    let ours = |key| move |pick| mean_over_seeds(metrics, key, pick);
    let (standard, ne) = (
        distance_to_printed(ours(STANDARD), &PAPER_STANDARD),
        distance_to_printed(ours(NE), &PAPER_NE),
    );
    let released = metrics.paper_models.as_ref().map_or(String::new(), |r| {
        let of = |key| move |pick: Pick| pick(&r.saes[key]);
        format!(
            " The paper's released models, measured here, give {:.3} and {:.3}.",
            distance_to_printed(of(STANDARD), &PAPER_STANDARD),
            distance_to_printed(of(NE), &PAPER_NE)
        )
    });
    let _ = writeln!(
        out,
        "**Fit to the printed tables.** Over MSE, L0, accuracy loss, max and mean dist, size and \
         dead ≤ τ (against the printed dead %; L1 is on another scale), the mean relative \
         difference of our means from the paper's printed figures (0: equal, 2: as far as can \
         be) is {standard:.3} for the standard SAE and {ne:.3} for the NE SAE (config {}).\
         {released}\n",
        markdown_text(&metrics.config.name),
    );
}

/// Whether each other figure moves as the paper's does, standard → NE.
fn directions(out: &mut String, metrics: &MetricsFile) {
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
        let (ours_std, ours_ne) = standard_and_ne(metrics, pick);
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
}

/// The paper's L1 against ours on its apparent scale (summed over a batch of 128).
fn scale_of_l1(out: &mut String, metrics: &MetricsFile) {
    let l1_batch = mean_over_seeds(metrics, STANDARD, |m| m.l1) * 128.0;
    let _ = writeln!(
        out,
        "\n**Scale of L1.** We report L1 per example. The paper's {} looks like a sum over a \
         batch of 128; ours times 128 is {l1_batch:.0} for the standard SAE. Absolute values also \
         depend on the scale of the MLP's hidden activations, which differ between any two \
         trained MLPs, so compare directions and ratios rather than raw L1 and MSE.\n",
        PAPER_STANDARD.l1
    );
}

/// The average size L0 and dead % imply, against the median sizes printed.
fn scale_of_size(out: &mut String, metrics: &MetricsFile) {
    let test_images = match metrics.config.data.test_limit {
        0 => MNIST_TEST_IMAGES,
        limit => limit.min(MNIST_TEST_IMAGES),
    } as f64;
    let implied = |l0_pct: f64, dead_pct: f64| test_images * l0_pct / (100.0 - dead_pct);
    let paper_implied = (
        implied(PAPER_STANDARD.l0_pct, PAPER_STANDARD.dead_pct),
        implied(PAPER_NE.l0_pct, PAPER_NE.dead_pct),
    );
    let (l0, dead) = (
        standard_and_ne(metrics, |m| m.l0_pct),
        standard_and_ne(metrics, |m| m.dead_pct),
    );
    let ours_implied = (implied(l0.0, dead.0), implied(l0.1, dead.1));
    let size = standard_and_ne(metrics, |m| m.size);
    let paper_ratio = (
        paper_implied.0 / PAPER_STANDARD.size,
        paper_implied.1 / PAPER_NE.size,
    );
    let _ = writeln!(
        out,
        "**Scale of size.** Size counts every activating test image, so L0 and dead % fix its \
         average: a live latent fires on about (test images) × L0 / (1 − dead) of them. From the \
         paper's own L0 and dead % that average is {:.0} (standard) and {:.0} (NE) over \
         {test_images:.0} test images, against its medians of {} and {}; ours is {:.0} and \
         {:.0}, against medians of {:.0} and {:.0}. The paper's averages are {:.0} and {:.0} \
         times its medians, which needs a skewed distribution. {}\n",
        paper_implied.0,
        paper_implied.1,
        PAPER_STANDARD.size,
        PAPER_NE.size,
        ours_implied.0,
        ours_implied.1,
        size.0,
        size.1,
        paper_ratio.0,
        paper_ratio.1,
        skew_reading(
            paper_ratio,
            (ours_implied.0 / size.0, ours_implied.1 / size.1)
        ),
    );
}

/// What our own average-to-median ratios of size say about the paper's: skewed as much (within
/// a factor 3, both SAEs), the whole test set can give the printed medians; far less skewed,
/// the printed medians suggest a smaller sample.
fn skew_reading(paper_ratio: (f64, f64), ours: (f64, f64)) -> String {
    if ours.0 >= paper_ratio.0 / 3.0 && ours.1 >= paper_ratio.1 / 3.0 {
        format!(
            "Our averages are {:.0} and {:.0} times our medians, a skew of the same order, so \
             size over the whole test set can give medians like the paper's: compare values as \
             well as directions.",
            ours.0, ours.1
        )
    } else {
        format!(
            "Our averages are only {:.0} and {:.0} times our medians, so we suspect the paper \
             counted size over a smaller sample than the whole test set. Compare its direction, \
             not its value.",
            ours.0, ours.1
        )
    }
}

/// Dead latents, ours counted three ways, against the paper's.
fn dead_latents(out: &mut String, metrics: &MetricsFile) {
    let dead = |pick: Pick| {
        let (standard, ne) = standard_and_ne(metrics, pick);
        format!("{standard:.1}% → {ne:.1}%")
    };
    let _ = writeln!(
        out,
        "**Dead latents.** The paper's standard SAE leaves {}% of latents dead and the NE SAE \
         {}%. Ours (standard → NE), counted three ways: no firing on the training set by the \
         final model (Table 3) {}; no firing during the training epoch {}; no firing in the \
         last tenth of the training steps {}. Dead counts are sensitive to the L1 weight, the \
         initialisation and the learning rate, none of which the paper states precisely; the \
         README's dead-latent study varies the initialisation.\n",
        PAPER_STANDARD.dead_pct,
        PAPER_NE.dead_pct,
        dead(|m| m.dead_pct),
        dead(|m| m.dead_training_pct),
        dead(|m| m.dead_late_pct),
    );
}

/// The MLP's test accuracy over seeds against the paper's.
fn mlp_accuracy(out: &mut String, metrics: &MetricsFile) {
    let n = metrics.runs.len();
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

/// The Table 4 proxies of what a unit responds to: higher means more monosemantic. (Encoder
/// participation is not among them: it says how a unit reads its inputs, and a drop in it is
/// the shortcut that lowers embedding distances by construction.)
/// Reads one Table 4 figure.
type Table4Pick = fn(&Table4) -> f64;
/// Reads one model's Table 4 from a seed's run.
type Table4Of = fn(&SeedRun) -> Table4;

const PROXIES: [(&str, Table4Pick); 3] = [
    ("label purity", |t| t.label_purity),
    ("top-100 label purity", |t| t.top_label_purity),
    ("input coherence", |t| t.input_coherence),
];

const PARTICIPATION: Table4Pick = |t| t.encoder_participation;

/// Mean ± std over seeds of one Table 4 figure of the model `model` picks from a run.
fn table4_over_seeds(metrics: &MetricsFile, model: Table4Of, pick: Table4Pick) -> Option<MeanStd> {
    let values: Vec<f64> = metrics.runs.iter().map(|r| pick(&model(r))).collect();
    MeanStd::of(&values)
}

const MODELS: [(&str, Table4Of); 3] = [
    ("MLP hidden neurons (baseline)", |r| r.mlp),
    ("standard SAE", |r| r.saes[STANDARD].table4),
    ("SAE + NE loss", |r| r.saes[NE].table4),
];

/// Table 4: the MLP baseline and both SAEs, mean ± std over seeds.
fn table4(out: &mut String, metrics: &MetricsFile) {
    let seeds = metrics.runs.len();
    let _ = writeln!(
        out,
        "### Table 4: monosemanticity by measures the NE loss does not optimise (test set)\n"
    );
    let _ = writeln!(
        out,
        "| ({seeds} seeds) | label purity | top-100 label purity | input coherence | encoder \
         participation | units counted |\n|---|---:|---:|---:|---:|---:|"
    );
    let picks: [Table4Pick; 5] = [
        PROXIES[0].1,
        PROXIES[1].1,
        PROXIES[2].1,
        PARTICIPATION,
        |t| t.table4_units as f64,
    ];
    let decimals = [3, 3, 3, 2, 1];
    for (name, model) in MODELS {
        if seeds > 0 {
            let cells: Vec<String> = picks
                .iter()
                .zip(decimals)
                .map(|(&pick, d)| {
                    table4_over_seeds(metrics, model, pick).map_or("n/a".into(), |s| s.format(d))
                })
                .collect();
            let _ = writeln!(out, "| {name} | {} |", cells.join(" | "));
        }
        if let Some(released) = &metrics.paper_models {
            let cells: Vec<String> = picks
                .iter()
                .zip(decimals)
                .map(|(&pick, d)| format!("{:.*}", d, pick(&model(released))))
                .collect();
            let _ = writeln!(out, "| {name} ({RELEASED}) | {} |", cells.join(" | "));
        }
    }
    let _ = writeln!(
        out,
        "\nHigher label purity, top-100 purity and input coherence mean a unit responds to one \
         kind of input. Encoder participation counts the inputs a unit effectively reads (for an \
         MLP neuron: pixels; for a latent: MLP neurons), so the MLP's figure is not comparable \
         with the SAEs'. The paper has no Table 4.\n"
    );
}

/// On how many seeds `pick` of the NE SAE exceeds the standard SAE's (`up`) and falls below it.
fn ne_moves(metrics: &MetricsFile, pick: Table4Pick) -> (usize, usize) {
    let up = metrics
        .runs
        .iter()
        .filter(|r| pick(&r.saes[NE].table4) > pick(&r.saes[STANDARD].table4))
        .count();
    let down = metrics
        .runs
        .iter()
        .filter(|r| pick(&r.saes[NE].table4) < pick(&r.saes[STANDARD].table4))
        .count();
    (up, down)
}

/// What the independent proxies say about the NE loss, computed from the numbers, with whether
/// that agrees with Table 3 (`distances_down`: NE lowered both distances on every seed).
fn monosemanticity_verdict(metrics: &MetricsFile, distances_down: bool) -> String {
    let n = metrics.runs.len();
    let mean = |model: Table4Of, pick| {
        table4_over_seeds(metrics, model, pick).map_or(f64::NAN, |s| s.mean)
    };
    let (standard, ne) = (MODELS[1].1, MODELS[2].1);
    let (mut rising, mut falling, mut mixed) = (Vec::new(), Vec::new(), Vec::new());
    let mut parts = Vec::new();
    for (name, pick) in PROXIES {
        let (up, down) = ne_moves(metrics, pick);
        match (up == n, down == n) {
            (true, _) => rising.push(name),
            (_, true) => falling.push(name),
            _ => mixed.push(name),
        }
        parts.push(format!(
            "{name} higher on {up} and lower on {down} of {n} seeds ({:.3} → {:.3})",
            mean(standard, pick),
            mean(ne, pick),
        ));
    }
    let proxies = PROXIES.len();
    let (towards, away) = (rising.len() == proxies, falling.len() == proxies);
    let says = if towards {
        "By all three independent measures (Table 4), NE latents are more monosemantic".to_owned()
    } else if away {
        "By all three independent measures (Table 4), NE latents are less monosemantic".to_owned()
    } else {
        let list = |names: &[&str]| {
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        };
        format!(
            "The independent measures (Table 4) do not move together. Towards more monosemantic \
             NE latents on every seed: {}; away on every seed: {}; different between seeds: {}. \
             In detail",
            list(&rising),
            list(&falling),
            list(&mixed)
        )
    };
    let agreement = match (distances_down, towards, away) {
        (true, true, _) => {
            "so they agree with Table 3: the smaller distances come with more monosemantic latents"
        }
        (true, _, true) => {
            "so they contradict Table 3: the NE loss met its own yardstick without making latents \
             more monosemantic"
        }
        (true, _, _) => {
            "so Table 3's smaller distances are not confirmed by measures the loss \
             does not optimise"
        }
        (false, _, _) => "and Table 3's distances did not fall on every seed either",
    };
    let (p_up, p_down) = ne_moves(metrics, PARTICIPATION);
    let shortcut = if p_down == n {
        format!(
            " On every seed the NE encoder rows read fewer MLP neurons (encoder participation \
             {:.2} → {:.2}). The fewer inputs a latent reads, the more nearly parallel its \
             embeddings are by construction, which lowers the distances whatever the latent \
             responds to.",
            mean(standard, PARTICIPATION),
            mean(ne, PARTICIPATION)
        )
    } else {
        format!(
            " NE encoder rows read fewer MLP neurons on {p_down} and more on {p_up} of {n} seeds \
             (encoder participation {:.2} → {:.2}).",
            mean(standard, PARTICIPATION),
            mean(ne, PARTICIPATION)
        )
    };
    format!("{says}: {}, {agreement}.{shortcut}", parts.join(", "))
}

/// How the SAEs' latents compare with the MLP's neurons on the Table 4 proxies.
fn against_baseline(out: &mut String, metrics: &MetricsFile) {
    let n = metrics.runs.len();
    let _ = writeln!(
        out,
        "**Against the MLP's own neurons.** An SAE is meant to find units more monosemantic \
         than the neurons it reads. Against the MLP's hidden neurons (Table 4):\n"
    );
    for (name, model) in &MODELS[1..] {
        let cells: Vec<String> = PROXIES
            .iter()
            .map(|(name, pick)| {
                let higher = metrics
                    .runs
                    .iter()
                    .filter(|r| pick(&model(r)) > pick(&r.mlp))
                    .count();
                format!("{name} higher on {higher} of {n} seeds")
            })
            .collect();
        let _ = writeln!(out, "- {name}: {}.", cells.join(", "));
    }
    out.push('\n');
}

/// Whether `value` reads as the printed `paper` figure: equal once rounded to the printed
/// precision (its decimals; for a whole number, its last non-zero digit, so 2600 is to the
/// hundred).
fn reads_as_printed(value: f64, paper: f64) -> bool {
    let text = format!("{paper}");
    let unit = match text.split_once('.') {
        Some((_, decimals)) => 10f64.powi(-(decimals.len() as i32)),
        None => 10f64.powi(text.len() as i32 - text.trim_end_matches('0').len() as i32),
    };
    (value - paper).abs() <= unit / 2.0 + 1e-12
}

/// Column by column, whether a difference from the printed table comes from measurement (the
/// released models measured here do not give the printed figure) or from training (they do,
/// but our SAEs differ from them). The rule and every verdict are computed, not written by hand.
pub(crate) fn attribution(out: &mut String, metrics: &MetricsFile) {
    let Some(released) = &metrics.paper_models else {
        return;
    };
    let seeds = metrics.runs.len();
    let _ = writeln!(
        out,
        "## Measurement or training? Column by column\n\nA figure *reads as printed* when it \
         equals the paper's once rounded to the precision the paper prints (2600 to the \
         hundred, 0.33 to the hundredth). Where the paper's own released models, measured \
         here, read as printed, our measurement agrees with the paper's, and a difference of \
         ours comes from training. Where they do not, the measurement differs (or the released \
         files are not the models behind the table).\n"
    );
    let columns = TABLE_2.iter().chain(TABLE_3.iter().take(4));
    for c in columns {
        let mut cells = Vec::new();
        for (name, paper, variant) in [
            ("standard", &PAPER_STANDARD, STANDARD),
            ("NE", &PAPER_NE, NE),
        ] {
            let p = (c.pick)(paper);
            let r = (c.pick)(&released.saes[variant]);
            let measured = reads_as_printed(r, p);
            let ours = over_seeds(metrics, variant, c.pick).map(|s| s.mean);
            let verdict = match (measured, ours) {
                (true, None) => "measurement agrees".to_owned(),
                (false, None) => "measurement differs".to_owned(),
                (true, Some(o)) if reads_as_printed(o, p) => "agrees".to_owned(),
                (true, Some(_)) => "**training** (measurement agrees)".to_owned(),
                (false, Some(o)) if reads_as_printed(o, r) => {
                    "**measurement** (ours read as the released models)".to_owned()
                }
                (false, Some(_)) => "**measurement and training**".to_owned(),
            };
            let ours = ours.map_or(String::new(), |o| {
                format!(", ours {o:.*} ({seeds} seeds)", c.decimals + 1)
            });
            cells.push(format!(
                "{name}: printed {p}, released measured {r:.*}{ours}: {verdict}",
                c.decimals + 1
            ));
        }
        let _ = writeln!(out, "- {}: {}.", c.heading, cells.join("; "));
    }
    out.push('\n');
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
    table4(&mut out, metrics);
    out
}

/// Seconds per stage and seed, then `whole_run`: the stages common to all seeds.
pub fn timing_table(metrics: &MetricsFile, whole_run: &BTreeMap<String, f64>) -> String {
    let runs = &metrics.runs;
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
    let overall: Vec<String> = whole_run
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

/// Per stage with FLOPs counted (`crate::flops`), over all seeds: GFLOP, seconds, the rate, and
/// how many times longer the stage took than one core at `peak` would need; then the same for
/// the whole run (all counted FLOPs over the run's `total_s` seconds) against all threads.
pub fn flops_table(runs: &[SeedRun], total_s: f64, peak: Peak) -> String {
    let mut stages: Vec<&String> = runs.iter().flat_map(|r| r.flops.keys()).collect();
    stages.sort();
    stages.dedup();
    let per_core = peak.flops_per_core;
    let mut out = format!(
        "### Arithmetic against the machine's peak\n\nPeak: {:.1} GFLOP/s per core (f32 matrix \
         product, measured at the start of this run) × {} threads = {:.1} GFLOP/s. FLOPs are \
         counted in the products and sparse loops (element-wise work is left out, so rates are \
         lower bounds). Seeds run in parallel and share the cores, so a stage's ratio compares \
         its seconds with one core at peak.\n\n| stage | GFLOP | seconds | GFLOP/s | × one-core \
         bound |\n|---|---:|---:|---:|---:|\n",
        per_core / 1e9,
        peak.threads,
        per_core * peak.threads as f64 / 1e9
    );
    let mut counted = 0.0;
    for stage in stages {
        let sum = |pick: fn(&SeedRun) -> &BTreeMap<String, f64>| -> f64 {
            runs.iter().filter_map(|r| pick(r).get(stage)).sum()
        };
        let (flops, secs) = (sum(|r| &r.flops), sum(|r| &r.timing_s));
        counted += flops;
        let (rate, ratio) = if flops > 0.0 {
            let ratio = secs / (flops / per_core);
            (format!("{:.1}", flops / secs / 1e9), format!("{ratio:.1}"))
        } else {
            ("—".to_owned(), "—".to_owned())
        };
        let _ = writeln!(
            out,
            "| {stage} | {:.1} | {secs:.2} | {rate} | {ratio} |",
            flops / 1e9
        );
    }
    let bound = counted / (per_core * peak.threads as f64);
    let _ = writeln!(
        out,
        "\nwhole run: {:.1} GFLOP in {total_s:.2} s = {:.1} GFLOP/s; at peak on {} threads it \
         would take {bound:.2} s: {:.1}× that bound",
        counted / 1e9,
        counted / total_s / 1e9,
        peak.threads,
        total_s / bound
    );
    out
}

/// `report.md` of `paper-models`: the paper's printed tables, its released models measured
/// here and, when given, our reproduction, side by side; then what agrees, the τ that gives
/// the printed dead %, and the few-neuron shortcut.
pub fn paper_models(file: &PaperModelsFile, reproduction: Option<&MetricsFile>) -> String {
    let released = SeedRun {
        seed: 0,
        mlp_test_accuracy: file.mlp_test_accuracy,
        mlp: file.mlp,
        saes: file.saes.clone(),
        timing_s: file.timing_s.clone(),
        flops: BTreeMap::new(),
    };
    let mut metrics = reproduction
        .cloned()
        .unwrap_or_else(|| MetricsFile::new(file.config.clone(), Vec::new()));
    metrics.paper_models = Some(released);
    let mut out = String::from("# The paper's released models, measured here\n\n");
    let _ = writeln!(
        out,
        "The MLP and the two SAEs published with the paper's explorer mechMNISTic ({}; \
         SHA-256 {}), measured by the same code as our own SAEs under config `{}` (digest \
         `{}`), τ = {}. Test accuracy of the released MLP: {:.2}% (paper: {:.1}%).\n",
        file.files.values().cloned().collect::<Vec<_>>().join(", "),
        if file.checksums_verified {
            "verified"
        } else {
            "not checked"
        },
        file.config.name,
        &file.config.digest()[..12],
        file.config.eval.dead_threshold,
        100.0 * file.mlp_test_accuracy,
        100.0 * PAPER_MLP_TEST_ACCURACY,
    );
    match reproduction {
        Some(r) => {
            let _ = writeln!(
                out,
                "Our reproduction: {} seeds, config digest `{}`.\n",
                r.runs.len(),
                &r.config.digest()[..12]
            );
        }
        None => out.push_str(
            "No reproduction was found beside it; `cargo xtask reproduce` adds ours.\n\n",
        ),
    }
    out.push_str(&tables(&metrics));
    attribution(&mut out, &metrics);
    let _ = writeln!(
        out,
        "## Dead latents by threshold\n\nA latent is dead by threshold when its largest \
         activation over the training set is at most τ (config `[eval] dead_threshold`). The τ \
         at which the released models read the printed dead %, from their latents' largest \
         training activations:\n"
    );
    for (name, range) in &file.tau_for_printed_dead {
        let text = match (range.low, range.high) {
            (Some(lo), Some(hi)) => format!("τ in [{lo:.5}, {hi:.5})"),
            (Some(lo), None) => format!("τ ≥ {lo:.5}"),
            _ => "no τ".into(),
        };
        let _ = writeln!(out, "- {name}: printed {}%: {text}", range.printed_pct);
    }
    let ranges: Vec<_> = file.tau_for_printed_dead.values().collect();
    let common = ranges
        .iter()
        .map(|r| (r.low, r.high))
        .try_fold((0f32, f32::INFINITY), |(lo, hi), (l, h)| {
            Some((lo.max(l?), hi.min(h.unwrap_or(f32::INFINITY))))
        })
        .filter(|(lo, hi)| lo < hi);
    let _ = match common {
        Some((lo, hi)) => writeln!(
            out,
            "\nOne τ gives both printed figures: any τ in [{lo:.5}, {hi:.5}).\n"
        ),
        None => writeln!(out, "\nNo single τ gives both printed figures.\n"),
    };
    let _ = writeln!(
        out,
        "## The few-neuron shortcut\n\nA latent that reads at most {} MLP neurons (encoder \
         participation) has activating examples whose embeddings are near-parallel by \
         construction, so its distances are small whatever it means. Medians over latents \
         with a distance:\n\n| SAE | few-neuron latents | of them alive | max dist (few / \
         other) | mean dist (few / other) |\n|---|---:|---:|---:|---:|",
        crate::paper_models::FEW_NEURONS
    );
    for (name, s) in &file.shortcut {
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {:.3} / {:.3} | {:.3} / {:.3} |",
            s.few_neuron_latents,
            s.few_neuron_alive,
            s.few_max_dist,
            s.other_max_dist,
            s.few_mean_dist,
            s.other_mean_dist
        );
    }
    out
}

/// The whole report as Markdown.
pub fn render(metrics: &MetricsFile, curve: Option<&CurveFile>) -> String {
    let mut out = String::new();
    let n = metrics.runs.len();
    let seeds: Vec<String> = metrics.runs.iter().map(|r| r.seed.to_string()).collect();
    let _ = writeln!(out, "# Neuron embeddings on MNIST: Tables 2, 3 and 4\n");
    let _ = writeln!(
        out,
        "Reproduction of Foote (2024), section 4.2, over {n} seeds ({}). Ours: mean ± sample \
         standard deviation over seeds. The paper reports one run.\n",
        seeds.join(", ")
    );
    let config = &metrics.config;
    let name = if config.name.is_empty() {
        "unnamed".to_owned()
    } else {
        markdown_text(&config.name)
    };
    let chosen = if config.lambda_ne_chosen_for.is_empty() {
        String::new()
    } else {
        format!(
            ", chosen to match {}",
            markdown_text(&config.lambda_ne_chosen_for)
        )
    };
    let _ = writeln!(
        out,
        "Config: {name} (digest `{}`): λ_L1 = {}, λ_NE = {}{chosen}. Every definition is in \
         the project's docs/method.md.\n",
        &config.digest()[..12],
        config.sae.lambda_l1,
        config.sae.lambda_ne,
    );
    out.push_str(&tables(metrics));
    attribution(&mut out, metrics);
    findings(&mut out, metrics);
    against_baseline(&mut out, metrics);
    if let Some(curve) = curve {
        curve_section(&mut out, curve);
    }
    definitions(&mut out, metrics);
    out
}

/// `text` (a string from the config) as Markdown that shows it as it is, on one line: every
/// character Markdown or HTML would act on is escaped with a backslash, and line breaks and
/// other control characters become spaces, so that it can neither start a heading or list nor
/// open a code span, link, emphasis or HTML tag.
fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.push(' ');
        } else {
            if "\\`*_[]<>!&~|#".contains(c) {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

/// The λ_NE curve: its figures, a table and a few computed sentences.
fn curve_section(out: &mut String, curve: &CurveFile) {
    let seeds = curve.points.first().map_or(0, |p| p.runs.len());
    let _ = writeln!(
        out,
        "## The λ_NE trade-off curve\n\n\
         NE SAEs at every λ_NE of `[curve]`, {seeds} seeds each, trained and measured like the \
         tables above (λ_NE = 0 is the standard SAE). Figures: [every metric against \
         λ_NE](curve/curve.svg) and [accuracy loss against mean distance](curve/tradeoff.svg); \
         numbers in `curve/curve.json`.\n\n{}\n\n{}",
        curve.summary_text(),
        crate::curve::table(curve)
    );
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
         - **dead %**: latents that activate on no training example (final model), in percent. \
         metrics.json also has `dead_training_pct` (no firing during training) and \
         `dead_late_pct` (no firing in the last tenth of the training steps).\n\
         - **Table 4**: each figure is the median over units (MLP hidden neurons or SAE latents) \
         with at least {MIN_ACTIVE_EXAMPLES} activating test examples; the top {TOP_EXAMPLES} are \
         a unit's highest-activating test examples (ties in test-set order). **Label purity**: \
         the largest share of the unit's summed activation that one digit gets. **Top-100 label \
         purity**: the share of the most common digit among the top {TOP_EXAMPLES}. **Input \
         coherence**: the mean cosine similarity of the raw pixel vectors of the top {TOP_EXAMPLES} \
         over pairs of distinct examples. **Encoder participation**: (Σ w²)² / Σ w⁴ over the \
         unit's input weights, the number of inputs it effectively reads.\n\n\
         The models, their losses and every figure above are defined in full in the project's \
         `{METHOD_DOC}`."
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    /// Table 4 with every proxy at `purity` and the given participation.
    fn proxies(purity: f64, participation: f64) -> Table4 {
        Table4 {
            label_purity: purity,
            top_label_purity: purity,
            input_coherence: purity,
            encoder_participation: participation,
            table4_units: 300,
        }
    }

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
            dead_threshold_pct: dead_pct * 1.5,
            dead_training_pct: dead_pct / 10.0,
            dead_late_pct: dead_pct / 2.0,
            table4: proxies(0.5, 25.0),
        }
    }

    fn run(seed: u64, ne_max_dist: f64) -> SeedRun {
        SeedRun {
            seed,
            mlp_test_accuracy: 0.95,
            mlp: proxies(0.4, 300.0),
            saes: [
                (STANDARD, sae(0.9, 0.4, 5.0, 500.0, 20.0)),
                (NE, sae(ne_max_dist, 0.1, 10.0, 1500.0, 40.0)),
            ]
            .into_iter()
            .collect(),
            timing_s: BTreeMap::new(),
            flops: BTreeMap::new(),
        }
    }

    /// Two seeds whose NE SAE has lower distances and Table 4 proxies `ne_purity` (the standard
    /// SAE's are 0.5) and encoder participation `ne_participation` (standard: 25).
    fn with_ne_proxies(ne_purity: [f64; 2], ne_participation: f64) -> MetricsFile {
        let runs = ne_purity
            .iter()
            .enumerate()
            .map(|(seed, &purity)| {
                let mut r = run(seed as u64, 0.2);
                r.saes[NE].table4 = proxies(purity, ne_participation);
                r
            })
            .collect();
        MetricsFile::new(Config::paper(), runs)
    }

    fn render_plain(metrics: &MetricsFile) -> String {
        render(metrics, None)
    }

    #[test]
    fn fit_to_printed_is_zero_at_the_printed_figures_and_grows_with_each_column() {
        let printed = |paper: &SaeMetrics| SaeMetrics {
            dead_threshold_pct: paper.dead_pct,
            ..*paper
        };
        let mut at_printed = run(0, 0.2);
        at_printed.saes[STANDARD] = printed(&PAPER_STANDARD);
        at_printed.saes[NE] = printed(&PAPER_NE);
        let mut metrics = MetricsFile::new(Config::paper(), vec![at_printed.clone()]);
        let text = render_plain(&metrics);
        assert!(
            text.contains("is 0.000 for the standard SAE and 0.000 for the NE SAE"),
            "{text}"
        );
        // The standard SAE's size at 3 × 7: |21 - 7| / 14 = 1 in one of seven columns.
        at_printed.saes[STANDARD].size = 21.0;
        metrics.runs = vec![at_printed.clone()];
        metrics.paper_models = Some(at_printed);
        let text = render_plain(&metrics);
        assert!(
            text.contains("is 0.143 for the standard SAE and 0.000 for the NE SAE"),
            "{text}"
        );
        assert!(
            text.contains("measured here, give 0.143 and 0.000."),
            "{text}"
        );
    }

    #[test]
    fn flops_table_sums_seeds_and_compares_with_the_peak() {
        let mut runs = vec![run(0, 0.2), run(1, 0.2)];
        for (r, secs) in runs.iter_mut().zip([1.0, 3.0]) {
            r.timing_s = BTreeMap::from([("mlp".into(), secs), ("eval".into(), 0.5)]);
            r.flops = BTreeMap::from([("mlp".into(), 10e9), ("eval".into(), 0.0)]);
        }
        let peak = Peak {
            flops_per_core: 20e9,
            threads: 2,
        };
        let text = flops_table(&runs, 8.0, peak);
        assert!(text.contains("Peak: 20.0 GFLOP/s per core"), "{text}");
        assert!(text.contains("× 2 threads = 40.0 GFLOP/s"), "{text}");
        // 20 GFLOP in 4 s: 5 GFLOP/s, while one core at peak needs 1 s.
        assert!(text.contains("| mlp | 20.0 | 4.00 | 5.0 | 4.0 |"), "{text}");
        // A stage with nothing counted (models reused) has no rate.
        assert!(text.contains("| eval | 0.0 | 1.00 | — | — |"), "{text}");
        // 20 GFLOP over 8 s; all threads at peak need 0.5 s.
        assert!(
            text.contains("whole run: 20.0 GFLOP in 8.00 s = 2.5 GFLOP/s; at peak on 2 threads it would take 0.50 s: 16.0× that bound"),
            "{text}"
        );
    }

    #[test]
    fn report_shows_every_table_with_paper_rows_and_ours() {
        let text = render_plain(&MetricsFile::new(
            Config::paper(),
            vec![run(0, 0.2), run(1, 0.4)],
        ));
        assert!(text.contains("### Table 2") && text.contains("### Table 3"));
        assert!(text.contains("| standard (paper, 1 run) | 0.33 | 2600 | 2.4 | 1.5 |"));
        assert!(text.contains("| + NE loss (ours, 2 seeds) | 0.300 ± 0.000 |"));
        // Mean and sample std of 0.2 and 0.4.
        assert!(text.contains("| 0.300 ± 0.141 | 0.100 ± 0.000 | 1500.0 ± 0.0 | 40.0 ± 0.0 |"));
        assert!(text.contains("its first 100 activating test examples"));
        assert!(text.contains("defined in full in the project's `docs/method.md`"));
        assert!(text.contains("share of the 512 latents"));
        assert!(text.contains("### Table 4"));
        assert!(text.contains(
            "| MLP hidden neurons (baseline) | 0.400 ± 0.000 | 0.400 ± 0.000 | 0.400 ± 0.000 | \
             300.00 ± 0.00 | 300.0 ± 0.0 |"
        ));
        assert!(text.contains("Config: paper (digest `"));
        assert!(text.contains("λ_NE = 1000, chosen to match the paper's cost"));
    }

    /// Strings from the config show as they are and cannot change the report's structure.
    #[test]
    fn config_strings_are_escaped_for_markdown() {
        let mut config = Config::paper();
        config.name = "x`\n# Injected heading\n<script>alert(1)</script> *bold*".to_owned();
        config.lambda_ne_chosen_for = "[a link](javascript:x)\r\n- item".to_owned();
        let text = render_plain(&MetricsFile::new(config, vec![run(0, 0.2)]));
        assert!(
            text.contains(
                "Config: x\\` \\# Injected heading \\<script\\>alert(1)\\</script\\> \\*bold\\* \
                 (digest `"
            ),
            "{text}"
        );
        assert!(text.contains("chosen to match \\[a link\\](javascript:x)  - item. "));
        assert!(!text.lines().any(|l| l.starts_with("# Injected")));
        assert!(!text.contains("<script>"));
        assert_eq!(
            markdown_text("plain words, 1.5 & more"),
            "plain words, 1.5 \\& more"
        );
    }

    #[test]
    fn findings_are_computed_from_the_numbers() {
        let holds = render_plain(&MetricsFile::new(
            Config::paper(),
            vec![run(0, 0.2), run(1, 0.4)],
        ));
        assert!(holds.contains("lower max dist on 2 of 2 seeds (0.900 → 0.300 on average)"));
        assert!(holds.contains(
            "- dead %: ours up (20.000 → 40.000), paper down (23.8 → 3.7): \
                                **differs**."
        ));
        assert!(holds.contains("- MSE: ours unchanged (0.300 → 0.300), paper up"));
        // 10,000 × 2.4 / 76.2 and 10,000 × 9.1 / 96.3; ours 10,000 × 5 / 80 and × 10 / 60.
        assert!(holds.contains("that average is 315 (standard) and 945 (NE) over 10000 test"));
        assert!(holds.contains("ours is 625 and 1667, against medians of 500 and 1500"));
        // Ours 1.25 and 1.1 times the medians against the paper's 45 and 30: a smaller sample.
        assert!(holds.contains("Our averages are only 1 and 1 times our medians, so we suspect"));
        assert_eq!(
            skew_reading((45.0, 30.0), (40.0, 17.0)),
            "Our averages are 40 and 17 times our medians, a skew of the same order, so size \
             over the whole test set can give medians like the paper's: compare values as well \
             as directions."
        );
        assert!(skew_reading((45.0, 30.0), (40.0, 9.0)).contains("smaller sample"));
        assert!(holds.contains("**The MLP.** Test accuracy 95.00% ± 0.00 over 2 seeds"));
        assert!(holds.contains(
            "(Table 3) 20.0% → 40.0%; no firing during the training epoch 2.0% → 4.0%; no \
             firing in the last tenth of the training steps 10.0% → 20.0%"
        ));

        let fails = render_plain(&MetricsFile::new(
            Config::paper(),
            vec![run(0, 0.2), run(1, 0.95)],
        ));
        assert!(fails.contains("lower max dist on 1 of 2 seeds"));
        assert!(fails.contains("Table 3's distances did not fall on every seed either"));
    }

    #[test]
    fn the_curve_section_links_its_figures_and_tabulates_every_lambda() {
        let metrics = MetricsFile::new(Config::paper(), vec![run(0, 0.2)]);
        let per_seed = vec![(
            0,
            vec![
                (0.0, metrics.runs[0].saes[STANDARD]),
                (1000.0, metrics.runs[0].saes[NE]),
            ],
        )];
        let curve = CurveFile::new(&Config::paper(), &[0.0, 1000.0], &per_seed);
        let text = render(&metrics, Some(&curve));
        assert!(text.contains("## The λ_NE trade-off curve"));
        assert!(text.contains("(curve/curve.svg)") && text.contains("(curve/tradeoff.svg)"));
        assert!(text.contains("mean distance falls from 0.400 to 0.100"));
        assert!(text.contains("| 1000 | 0.300 ± 0.000 | 1.00 ± 0.00 | 10.00 ± 0.00 |"));
        assert!(!render_plain(&metrics).contains("trade-off curve"));
    }

    #[test]
    fn the_verdict_follows_the_independent_measures_in_either_direction() {
        let better = render_plain(&with_ne_proxies([0.7, 0.8], 30.0));
        assert!(
            better.contains("By all three independent measures (Table 4), NE latents are more"),
            "{better}"
        );
        assert!(
            better.contains("label purity higher on 2 and lower on 0 of 2 seeds (0.500 → 0.750)")
        );
        assert!(better.contains("so they agree with Table 3"));
        assert!(better.contains("NE encoder rows read fewer MLP neurons on 0 and more on 2"));

        let worse = render_plain(&with_ne_proxies([0.3, 0.4], 2.0));
        assert!(worse.contains("By all three independent measures (Table 4), NE latents are less"));
        assert!(worse.contains("so they contradict Table 3"));
        assert!(worse.contains("On every seed the NE encoder rows read fewer MLP neurons"));
        assert!(worse.contains("(encoder participation 25.00 → 2.00)"));

        let mixed = render_plain(&with_ne_proxies([0.7, 0.4], 25.0));
        assert!(mixed.contains(
            "do not move together. Towards more monosemantic NE latents on every seed: none; \
             away on every seed: none; different between seeds: label purity, top-100 label \
             purity, input coherence. In detail: label purity higher on 1 and lower on 1"
        ));
        assert!(mixed.contains("are not confirmed by measures the loss does not optimise"));

        // The baseline comparison is counted too: MLP 0.4, standard 0.5, NE 0.3 and 0.4.
        assert!(worse.contains("- standard SAE: label purity higher on 2 of 2 seeds"));
        assert!(worse.contains("- SAE + NE loss: label purity higher on 0 of 2 seeds"));
    }
}
