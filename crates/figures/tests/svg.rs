//! The figures' SVG read back as XML: what is drawn, where, and what is left out.
mod common;

use common::{LAMBDAS, TICKS, X_LABEL, band, sample_panels, sample_references, sample_tradeoff};
use ne_figures::{FigureError, Panel, curve_figure, tradeoff_figure};
use roxmltree::{Document, Node};

const NAN: f64 = f64::NAN;

fn parse(svg: &str) -> Document<'_> {
    Document::parse(svg).unwrap_or_else(|error| panic!("not well-formed XML: {error}"))
}

fn elements<'a, 'input>(document: &'a Document<'input>, tag: &str) -> Vec<Node<'a, 'input>> {
    document
        .descendants()
        .filter(|node| node.tag_name().name() == tag)
        .collect()
}

/// Every `<text>`'s content, trimmed.
fn texts(document: &Document) -> Vec<String> {
    elements(document, "text")
        .iter()
        .map(|node| node.text().unwrap_or("").trim().to_owned())
        .collect()
}

fn count(texts: &[String], wanted: &str) -> usize {
    texts.iter().filter(|text| *text == wanted).count()
}

fn number(node: &Node, attribute: &str) -> f64 {
    node.attribute(attribute)
        .unwrap_or_else(|| panic!("<{}> without {attribute}", node.tag_name().name()))
        .parse()
        .expect("a number")
}

/// The `points` of a `<polyline>` or `<polygon>`.
fn vertices(node: &Node) -> Vec<(f64, f64)> {
    node.attribute("points")
        .expect("points")
        .split_whitespace()
        .map(|pair| {
            let (x, y) = pair.split_once(',').expect("x,y");
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect()
}

fn one_panel(means: [f64; 7], stds: [f64; 7]) -> Panel {
    Panel {
        title: "Dead latents".to_owned(),
        y_label: "dead latents (%)".to_owned(),
        bands: vec![band("NE SAE", means, stds)],
        references: vec![],
    }
}

const DEAD: [f64; 7] = [24.0, 29.0, 31.0, 34.0, 37.0, 37.0, 38.0];
const DEAD_STD: [f64; 7] = [1.5, 1.2, 1.4, 1.1, 0.9, 1.3, 1.0];
/// The first band's colour.
const FIRST_COLOUR: &str = "#0072B2";

#[test]
fn every_metric_gets_a_panel_with_labelled_axes_and_the_lambda_ticks() {
    let panels = sample_panels();
    let svg = curve_figure(&panels, X_LABEL, "The curve").unwrap();
    let document = parse(&svg);
    let texts = texts(&document);
    assert_eq!(count(&texts, "The curve"), 1);
    for panel in &panels {
        assert_eq!(count(&texts, &panel.title), 1, "title of {}", panel.title);
        assert_eq!(
            count(&texts, &panel.y_label),
            1,
            "y label of {}",
            panel.title
        );
    }
    assert_eq!(count(&texts, X_LABEL), panels.len());
    for tick in TICKS {
        assert!(count(&texts, tick) >= panels.len(), "λ tick {tick}");
    }
    // Ten panels in rows of three; the SVG says its natural size.
    let root = document.root_element();
    assert_eq!(root.attribute("width"), Some("1170"));
    assert!(number(&root, "height") > 4.0 * 290.0);
}

#[test]
fn no_text_is_smaller_than_12_px() {
    let curve = curve_figure(&sample_panels(), X_LABEL, "The curve").unwrap();
    let tradeoff =
        tradeoff_figure(&sample_tradeoff(), "x", "y", "t", &sample_references()).unwrap();
    for svg in [curve, tradeoff] {
        let document = parse(&svg);
        let sizes: Vec<f64> = elements(&document, "text")
            .iter()
            .map(|node| number(node, "font-size"))
            .collect();
        assert!(!sizes.is_empty());
        assert!(
            sizes
                .iter()
                .all(|&size| size >= 12.0 && size.fract() == 0.0),
            "{sizes:?}"
        );
    }
}

#[test]
fn bands_are_named_once_and_keep_their_colour_in_every_panel() {
    let panels = sample_panels();
    let document_text = curve_figure(&panels, X_LABEL, "The curve").unwrap();
    let document = parse(&document_text);
    let texts = texts(&document);
    for name in [
        "NE SAE",
        "NE SAE, scaled-transpose init",
        "NE SAE, PyTorch-default init",
    ] {
        assert_eq!(count(&texts, name), 1, "{name} in the legend");
    }
    // One band polygon per band, two for the one with a gap, coloured by name.
    let polygons = elements(&document, "polygon");
    assert_eq!(polygons.len(), 12);
    let fill_count = |fill: &str| {
        polygons
            .iter()
            .filter(|node| node.attribute("fill") == Some(fill))
            .count()
    };
    assert_eq!(fill_count(FIRST_COLOUR), 10);
    assert_eq!(fill_count("#D55E00"), 1);
    assert_eq!(fill_count("#009E73"), 1);
}

#[test]
fn reference_values_are_named_with_their_values() {
    let svg = curve_figure(&sample_panels(), X_LABEL, "The curve").unwrap();
    let texts = texts(&parse(&svg));
    for label in [
        "paper, NE: 0.55",
        "paper, standard: 23.8",
        "paper, NE: 3.7",
        "paper, NE: 0.08",
    ] {
        assert_eq!(count(&texts, label), 1, "{label}");
    }
}

#[test]
fn the_band_surrounds_each_mean() {
    let svg = curve_figure(&[one_panel(DEAD, DEAD_STD)], X_LABEL, "t").unwrap();
    let document = parse(&svg);
    let polygons = elements(&document, "polygon");
    assert_eq!(polygons.len(), 1, "one band");
    let band = vertices(&polygons[0]);
    assert_eq!(band.len(), 14, "an upper and a lower edge of 7 points");
    let circles = elements(&document, "circle");
    assert_eq!(circles.len(), 7);
    for circle in &circles {
        let (x, y) = (number(circle, "cx"), number(circle, "cy"));
        let edge: Vec<f64> = band.iter().filter(|p| p.0 == x).map(|p| p.1).collect();
        assert_eq!(edge.len(), 2, "the band has both edges at x = {x}");
        let (top, bottom) = (edge[0].min(edge[1]), edge[0].max(edge[1]));
        assert!(
            top < y && y < bottom,
            "mean at {y} outside the band {top}..{bottom}"
        );
    }
}

#[test]
fn a_missing_value_is_left_out_and_breaks_the_line() {
    let mut means = DEAD;
    means[3] = NAN; // λ = 100
    let svg = curve_figure(&[one_panel(means, DEAD_STD)], X_LABEL, "t").unwrap();
    let document = parse(&svg);
    let tick_x = elements(&document, "text")
        .iter()
        .find(|node| node.text().map(str::trim) == Some("100"))
        .map(|node| number(node, "x"))
        .expect("the λ = 100 tick");

    let circles = elements(&document, "circle");
    assert_eq!(circles.len(), 6);
    assert!(circles.iter().all(|circle| number(circle, "cx") != tick_x));
    let lines: Vec<Vec<(f64, f64)>> = elements(&document, "polyline")
        .iter()
        .filter(|node| node.attribute("stroke") == Some(FIRST_COLOUR))
        .map(vertices)
        .filter(|line| line.len() > 2) // not the legend's sample line
        .collect();
    assert_eq!(
        lines.iter().map(Vec::len).collect::<Vec<_>>(),
        [3, 3],
        "λ 0-30, then 300-3000"
    );
    assert!(lines.iter().flatten().all(|&(x, _)| x != tick_x));
    assert_eq!(
        elements(&document, "polygon").len(),
        2,
        "the band breaks too"
    );
}

#[test]
fn an_isolated_point_keeps_its_spread() {
    let mut means = DEAD;
    means[1] = NAN; // λ = 10: λ = 0 stands alone
    let svg = curve_figure(&[one_panel(means, DEAD_STD)], X_LABEL, "t").unwrap();
    let document = parse(&svg);
    let zero = elements(&document, "circle")
        .iter()
        .map(|circle| (number(circle, "cx"), number(circle, "cy")))
        .fold((f64::INFINITY, 0.0), |left, dot| {
            if dot.0 < left.0 { dot } else { left }
        });
    let slice = elements(&document, "polyline")
        .into_iter()
        .find(|node| node.attribute("stroke-width") == Some("10"))
        .map(|node| vertices(&node))
        .expect("a one-point band");
    assert!(slice.iter().all(|&(x, _)| x == zero.0));
    assert!(slice[0].1.min(slice[1].1) < zero.1 && zero.1 < slice[0].1.max(slice[1].1));
}

#[test]
fn without_stds_there_is_no_band_but_the_line_stays() {
    let svg = curve_figure(&[one_panel(DEAD, [NAN; 7])], X_LABEL, "t").unwrap();
    let document = parse(&svg);
    assert!(elements(&document, "polygon").is_empty());
    assert_eq!(elements(&document, "circle").len(), 7);
}

#[test]
fn a_panel_with_nothing_to_show_and_an_empty_figure_still_draw() {
    let svg = curve_figure(&[one_panel([NAN; 7], [NAN; 7])], X_LABEL, "t").unwrap();
    let document = parse(&svg);
    assert!(elements(&document, "circle").is_empty());
    assert_eq!(count(&texts(&document), "Dead latents"), 1);
    let empty = curve_figure(&[], X_LABEL, "nothing yet").unwrap();
    assert_eq!(count(&texts(&parse(&empty)), "nothing yet"), 1);
}

#[test]
fn the_same_input_gives_the_same_bytes() {
    let draw_curve = || curve_figure(&sample_panels(), X_LABEL, "The curve").unwrap();
    assert_eq!(draw_curve(), draw_curve());
    let draw_tradeoff =
        || tradeoff_figure(&sample_tradeoff(), "x", "y", "t", &sample_references()).unwrap();
    assert_eq!(draw_tradeoff(), draw_tradeoff());
}

#[test]
fn tradeoff_labels_each_point_and_leaves_out_missing_ones() {
    let mut points = sample_tradeoff();
    points[2].y = NAN; // λ = 30
    points[4].x_std = NAN; // λ = 300: no horizontal bar
    let svg = tradeoff_figure(
        &points,
        "mean distance (cosine)",
        "accuracy loss (%)",
        "Trade-off",
        &sample_references(),
    )
    .unwrap();
    let document = parse(&svg);
    let texts = texts(&document);
    for label in [
        "λ=0",
        "λ=10",
        "λ=100",
        "λ=300",
        "λ=1000",
        "λ=3000",
        "paper, standard",
        "paper, NE",
    ] {
        assert_eq!(count(&texts, label), 1, "{label}");
    }
    assert_eq!(count(&texts, "λ=30"), 0);
    for label in ["mean distance (cosine)", "accuracy loss (%)", "Trade-off"] {
        assert_eq!(count(&texts, label), 1, "{label}");
    }
    // Dots for the 6 points left and the legend's sample; diamonds for the 2 references.
    let dots = elements(&document, "circle")
        .iter()
        .filter(|node| node.attribute("fill") == Some(FIRST_COLOUR))
        .count();
    assert_eq!(dots, 6 + 1);
    assert_eq!(elements(&document, "polygon").len(), 2);
    // Each error bar is three <line>s: the bar and its two caps; 6 vertical and 5 horizontal.
    let bar_lines = elements(&document, "line")
        .iter()
        .filter(|node| node.attribute("stroke") == Some(FIRST_COLOUR))
        .count();
    assert_eq!(bar_lines, 3 * (6 + 5));
    // The thin line through the dots in λ order breaks where λ = 30 is missing.
    let guide: Vec<usize> = elements(&document, "polyline")
        .iter()
        .filter(|node| node.attribute("stroke") == Some(FIRST_COLOUR))
        .filter(|node| node.attribute("opacity") != Some("1"))
        .map(|node| vertices(node).len())
        .collect();
    assert_eq!(guide, [2, 4]);
}

#[test]
fn numbers_no_figure_can_show_are_refused_saying_where() {
    let mut panel = one_panel(DEAD, DEAD_STD);
    panel.bands[0].points[2].lambda = -1.0;
    let error = curve_figure(&[panel], X_LABEL, "t").unwrap_err();
    let message = error.to_string();
    assert!(matches!(
        error,
        FigureError::InvalidValue {
            field: "lambda",
            ..
        }
    ));
    assert!(
        message.contains("\"Dead latents\"")
            && message.contains("\"NE SAE\"")
            && message.contains("point 2"),
        "{message}"
    );

    let mut panel = one_panel(DEAD, DEAD_STD);
    panel.bands[0].points[0].mean = f64::INFINITY;
    assert!(curve_figure(&[panel], X_LABEL, "t").is_err());
    let mut panel = one_panel(DEAD, DEAD_STD);
    panel.bands[0].points[0].std = -0.1;
    assert!(curve_figure(&[panel], X_LABEL, "t").is_err());

    let mut points = sample_tradeoff();
    points[1].lambda = NAN;
    let message = tradeoff_figure(&points, "x", "y", "t", &[])
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("trade-off point 1") && message.contains("lambda"),
        "{message}"
    );
}

#[test]
fn lambda_ticks_follow_the_data() {
    assert_eq!(LAMBDAS.len(), TICKS.len());
    // Distances, so that no y tick reads like a λ tick.
    let mut panel = one_panel([0.38, 0.36, 0.20, 0.05, 0.02, 0.007, 0.005], [0.01; 7]);
    panel.bands[0].points.truncate(3); // λ = 0, 10, 30
    let svg = curve_figure(&[panel], X_LABEL, "t").unwrap();
    let texts = texts(&parse(&svg));
    assert_eq!(count(&texts, "30"), 1);
    assert_eq!(count(&texts, "10"), 1);
    assert_eq!(count(&texts, "100"), 0);
    assert_eq!(count(&texts, "0"), 1);
}
