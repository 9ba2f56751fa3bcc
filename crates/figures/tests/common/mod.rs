//! Sample figures with numbers like those of a 3-seed `cargo xtask reproduce` curve.
#![allow(dead_code)] // each test binary uses part of it

use ne_figures::{Band, BandPoint, Panel, Reference, ReferencePoint, TradeoffPoint};

pub const LAMBDAS: [f64; 7] = [0.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0];
pub const TICKS: [&str; 7] = ["0", "10", "30", "100", "300", "1000", "3000"];
pub const X_LABEL: &str = "λ_NE (log scale)";

/// A band over [`LAMBDAS`] with these means and stds.
pub fn band(name: &str, means: [f64; 7], stds: [f64; 7]) -> Band {
    Band {
        name: name.to_owned(),
        points: LAMBDAS
            .iter()
            .zip(means.iter().zip(stds))
            .map(|(&lambda, (&mean, std))| BandPoint { lambda, mean, std })
            .collect(),
    }
}

fn reference(label: &str, value: f64) -> Reference {
    Reference {
        label: label.to_owned(),
        value,
    }
}

fn panel(title: &str, y_label: &str, bands: Vec<Band>, references: Vec<Reference>) -> Panel {
    Panel {
        title: title.to_owned(),
        y_label: y_label.to_owned(),
        bands,
        references,
    }
}

const NAN: f64 = f64::NAN;

/// Title, y label, means, stds and the paper's NE value of each one-band panel.
type Metric = (&'static str, &'static str, [f64; 7], [f64; 7], Option<f64>);

const METRICS: [Metric; 9] = [
    (
        "MSE",
        "MSE (per example)",
        [0.300, 0.305, 0.315, 0.333, 0.388, 0.481, 0.602],
        [0.004, 0.005, 0.006, 0.008, 0.010, 0.015, 0.022],
        Some(0.55),
    ),
    (
        "Accuracy loss",
        "accuracy loss (%)",
        [1.12, 1.10, 1.26, 1.75, 2.72, 4.13, 6.05],
        [0.10, 0.12, 0.15, 0.20, 0.30, 0.40, 0.55],
        Some(4.6),
    ),
    (
        "L0",
        "active latents (%)",
        [5.82, 5.93, 6.11, 6.84, 8.11, 10.66, 13.9],
        [0.05, 0.06, 0.08, 0.10, 0.20, 0.30, 0.50],
        Some(9.1),
    ),
    (
        "Max embedding distance",
        "median max distance (cosine)",
        [0.942, 0.862, 0.703, 0.247, 0.086, 0.045, 0.031],
        [0.010, 0.020, 0.030, 0.030, 0.010, 0.005, 0.004],
        None,
    ),
    (
        "Mean embedding distance",
        "median mean distance (cosine)",
        [0.38, 0.36, 0.20, 0.05, 0.02, 0.007, 0.005],
        [0.010, 0.012, 0.015, 0.008, 0.004, 0.002, 0.001],
        Some(0.08),
    ),
    (
        "Label purity",
        "median label purity (share)",
        [0.52, 0.53, 0.55, 0.58, 0.60, 0.61, 0.59],
        [0.01, 0.01, 0.02, 0.02, 0.02, 0.03, 0.03],
        None,
    ),
    (
        "Top-100 label purity",
        "median top-100 purity (share)",
        [0.84, 0.85, 0.86, 0.88, 0.89, 0.89, 0.87],
        [0.01, 0.01, 0.01, 0.02, 0.02, 0.02, 0.03],
        None,
    ),
    (
        "Input coherence",
        "median input coherence (cosine)",
        [0.46, 0.47, 0.48, NAN, 0.52, 0.53, 0.53],
        [0.01, 0.01, 0.01, 0.01, 0.02, 0.02, 0.02],
        None,
    ),
    (
        "Encoder participation",
        "median participation (inputs)",
        [12.1, 11.4, 9.2, 6.1, 4.0, 3.1, 2.6],
        [0.4, 0.4, 0.5, 0.4, 0.3, 0.2, 0.2],
        None,
    ),
];

/// The ten metrics of the curve; dead latents (the fourth) compare two initialisations, and
/// input coherence misses λ = 100 (as when too few latents fire to measure it).
pub fn sample_panels() -> Vec<Panel> {
    let mut panels: Vec<Panel> = METRICS
        .iter()
        .map(|&(title, y_label, means, stds, paper)| {
            let references = paper.map(|value| reference("paper, NE", value));
            panel(
                title,
                y_label,
                vec![band("NE SAE", means, stds)],
                references.into_iter().collect(),
            )
        })
        .collect();
    let dead = panel(
        "Dead latents",
        "dead latents (%)",
        vec![
            band(
                "NE SAE, scaled-transpose init",
                [24.0, 29.0, 31.0, 34.0, 37.0, 37.0, 38.0],
                [1.5, 1.2, 1.4, 1.1, 0.9, 1.3, 1.0],
            ),
            band(
                "NE SAE, PyTorch-default init",
                [1.0, 4.5, 7.0, 10.0, 12.0, 12.5, 13.0],
                [0.4, 0.8, 1.0, 1.2, 1.1, 1.0, 1.3],
            ),
        ],
        vec![
            reference("paper, standard", 23.8),
            reference("paper, NE", 3.7),
        ],
    );
    panels.insert(3, dead);
    panels
}

/// Accuracy loss against mean distance, from the same numbers as [`sample_panels`].
pub fn sample_tradeoff() -> Vec<TradeoffPoint> {
    let panels = sample_panels();
    let accuracy = &panels[1].bands[0].points;
    let distance = &panels[5].bands[0].points;
    assert_eq!(panels[5].title, "Mean embedding distance");
    distance
        .iter()
        .zip(accuracy)
        .map(|(x, y)| TradeoffPoint {
            lambda: x.lambda,
            x: x.mean,
            x_std: x.std,
            y: y.mean,
            y_std: y.std,
        })
        .collect()
}

pub fn sample_references() -> Vec<ReferencePoint> {
    vec![
        ReferencePoint {
            label: "paper, standard".to_owned(),
            x: 0.21,
            y: 1.5,
        },
        ReferencePoint {
            label: "paper, NE".to_owned(),
            x: 0.08,
            y: 4.6,
        },
    ]
}
