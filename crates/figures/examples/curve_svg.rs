//! Draws one small λ_NE curve, a metric's mean ±1 std over seeds for two SAE initialisations
//! with a published value to compare with, and writes it as an SVG. Run with
//! `cargo run -p ne-figures --example curve_svg [OUT.svg]` (default: `curve.svg` in the system's
//! temporary folder), then open the file in a browser.
use ne_figures::{Band, BandPoint, FigureError, Panel, Reference, curve_figure};
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args_os()
        .nth(1)
        .map_or_else(|| std::env::temp_dir().join("curve.svg"), PathBuf::from);
    let svg = figure()?;
    std::fs::write(&out, &svg)?;
    println!("wrote {} ({} bytes)", out.display(), svg.len());
    Ok(())
}

/// The figure's SVG text: one panel, two bands, one reference line.
fn figure() -> Result<String, FigureError> {
    let band = |name: &str, means: [f64; 5]| Band {
        name: name.to_owned(),
        points: [0.0, 10.0, 100.0, 1000.0, 10000.0]
            .into_iter()
            .zip(means)
            .map(|(lambda, mean)| BandPoint {
                lambda,
                mean,
                std: 0.1 * mean,
            })
            .collect(),
    };
    let panel = Panel {
        title: "mean embedding distance".to_owned(),
        y_label: "median over latents".to_owned(),
        bands: vec![
            band("scaled transpose", [0.21, 0.19, 0.14, 0.09, 0.05]),
            band("PyTorch default", [0.24, 0.22, 0.18, 0.12, 0.07]),
        ],
        references: vec![Reference {
            label: "published".to_owned(),
            value: 0.08,
        }],
    };
    curve_figure(&[panel], "λ_NE", "Distance against the NE loss's weight")
}

/// `cargo test` runs the example, so it cannot rot: the SVG parses and carries the texts given.
#[test]
fn draws_the_curve() {
    let svg = figure().unwrap();
    let document = roxmltree::Document::parse(&svg).expect("well-formed SVG");
    assert_eq!(document.root_element().tag_name().name(), "svg");
    let texts: Vec<&str> = document
        .descendants()
        .filter_map(|node| node.text())
        .collect();
    for expected in [
        "mean embedding distance",
        "scaled transpose",
        "PyTorch default",
    ] {
        assert!(
            texts.iter().any(|t| t.contains(expected)),
            "{expected:?} not in {texts:?}"
        );
    }
}
