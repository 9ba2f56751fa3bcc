//! One metric against another, one labelled point per λ_NE.

use crate::labels::{DotLabel, PixelRect, place_labels};
use crate::layout::{
    Area, FIGURE_TITLE_PX, LEGEND_ROW_HEIGHT, LegendEntry, LegendKey, REFERENCE_COLOUR, TEXT_PX,
    draw_legend, format_number, heading, house_style, padded_range, runs, series_colour, spread,
    text, tick_format,
};
use crate::{Expect, FigureError, ReferencePoint, TradeoffPoint, check};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

const WIDTH: u32 = 900;
const HEIGHT: u32 = 620;
/// From the top of the figure to its legend, and from there to the plot.
const TITLE_HEIGHT: i32 = 40;
const HEADER_HEIGHT: u32 = TITLE_HEIGHT as u32 + LEGEND_ROW_HEIGHT as u32 + 6;
/// At most this many ticks on each axis.
const X_TICKS: usize = 10;
const Y_TICKS: usize = 8;
const MARKER_RADIUS: i32 = 4;
/// Half the size of a reference diamond.
const DIAMOND_RADIUS: i32 = 6;
/// Half the length of an error bar's caps, in pixels.
const CAP: i32 = 4;

type Chart<'a, 's> = ChartContext<'a, SVGBackend<'s>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// One SVG plotting `y` against `x` for each λ_NE: a dot at the means with ±1 std error bars
/// both ways, a "λ=…" label beside it (placed clear of other labels, dots and bars where
/// possible), and a thin line through the dots in λ order. `references` are published points,
/// drawn as grey diamonds labelled with their `label`. Axes span the data, error bars and
/// references.
///
/// # Errors
/// [`FigureError::InvalidValue`] for a λ that is negative or not finite, an infinite x or y, a
/// negative or infinite std, or a reference point that is not finite, naming which;
/// [`FigureError::Draw`] if `plotters` fails.
pub fn tradeoff_figure(
    points: &[TradeoffPoint],
    x_label: &str,
    y_label: &str,
    title: &str,
    references: &[ReferencePoint],
) -> Result<String, FigureError> {
    validate(points, references)?;
    let mut points: Vec<&TradeoffPoint> = points.iter().collect();
    points.sort_by(|a, b| a.lambda.total_cmp(&b.lambda));
    // An axis spans its values' error bars and the references.
    let axis_range = |value: fn(&TradeoffPoint) -> [f64; 2],
                      reference: fn(&ReferencePoint) -> f64| {
        padded_range(
            points
                .iter()
                .filter(|point| present(point))
                .flat_map(|point| {
                    let [mean, std] = value(point);
                    spread(mean, std)
                })
                .chain(references.iter().map(reference)),
        )
    };
    let x_range = axis_range(|point| [point.x, point.x_std], |reference| reference.x);
    let y_range = axis_range(|point| [point.y, point.y_std], |reference| reference.y);

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)?;
        root.draw_text(title, &heading(FIGURE_TITLE_PX), (WIDTH as i32 / 2, 10))?;
        let legend = [LegendEntry {
            key: LegendKey::Marker(series_colour(0)),
            text: "mean over seeds, bars: ±1 std; one point per λ_NE".to_owned(),
        }];
        draw_legend(&root, &legend, TITLE_HEIGHT)?;
        let plot_area = root.margin(HEADER_HEIGHT, 0, 0, 0);
        let mut chart = ChartBuilder::on(&plot_area)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(x_range.clone(), y_range.clone())?;
        let x_tick_format = tick_format(&x_range, X_TICKS);
        let y_tick_format = tick_format(&y_range, Y_TICKS);
        house_style(&mut chart.configure_mesh())
            .x_labels(X_TICKS)
            .y_labels(Y_TICKS)
            .x_label_formatter(&x_tick_format)
            .y_label_formatter(&y_tick_format)
            .x_desc(x_label)
            .y_desc(y_label)
            .draw()?;
        draw_points(&mut chart, &points, references)?;
        draw_labels(&root, &chart, &points, references)?;
        root.present()?;
    }
    Ok(svg)
}

/// Whether a point has both coordinates; one that does not is left out.
fn present(point: &TradeoffPoint) -> bool {
    !point.x.is_nan() && !point.y.is_nan()
}

/// The line through `points` (in λ order, broken where one is missing), their error bars and
/// dots, and the reference diamonds.
fn draw_points(
    chart: &mut Chart,
    points: &[&TradeoffPoint],
    references: &[ReferencePoint],
) -> Result<(), FigureError> {
    let colour = series_colour(0);
    for run in runs(points, |point| present(point)) {
        let line = run
            .iter()
            .map(|point| (point.x, point.y))
            .collect::<Vec<_>>();
        chart.draw_series([PathElement::new(line, colour.mix(0.45).stroke_width(1))])?;
    }
    let bar_style = colour.stroke_width(1);
    let cap = 2 * CAP as u32;
    for point in points.iter().filter(|point| present(point)) {
        if !point.y_std.is_nan() {
            let [low, high] = spread(point.y, point.y_std);
            chart.draw_series([ErrorBar::new_vertical(
                point.x, low, point.y, high, bar_style, cap,
            )])?;
        }
        if !point.x_std.is_nan() {
            let [low, high] = spread(point.x, point.x_std);
            chart.draw_series([ErrorBar::new_horizontal(
                point.y, low, point.x, high, bar_style, cap,
            )])?;
        }
        chart.draw_series([Circle::new(
            (point.x, point.y),
            MARKER_RADIUS,
            colour.filled(),
        )])?;
    }
    let diamond = |reference: &ReferencePoint| {
        let r = DIAMOND_RADIUS;
        EmptyElement::at((reference.x, reference.y))
            + Polygon::new(
                vec![(0, -r), (r, 0), (0, r), (-r, 0)],
                REFERENCE_COLOUR.filled(),
            )
    };
    chart.draw_series(references.iter().map(diamond))?;
    Ok(())
}

/// The "λ=…" and reference labels, each where it covers the least of the dots, bars, line and
/// labels already placed, inside the plot.
fn draw_labels(
    root: &Area,
    chart: &Chart,
    points: &[&TradeoffPoint],
    references: &[ReferencePoint],
) -> Result<(), FigureError> {
    let pixel = |x: f64, y: f64| chart.backend_coord(&(x, y));
    let mut obstacles: Vec<PixelRect> = runs(points, |point| present(point))
        .into_iter()
        .flat_map(|run| run.windows(2))
        .flat_map(|pair| PixelRect::along(pixel(pair[0].x, pair[0].y), pixel(pair[1].x, pair[1].y)))
        .collect();
    let mut labels = Vec::new();
    for point in points.iter().filter(|point| present(point)) {
        let [x_low, x_high] = spread(point.x, point.x_std);
        let [y_low, y_high] = spread(point.y, point.y_std);
        obstacles.push(PixelRect::spanning(
            pixel(x_low, point.y),
            pixel(x_high, point.y),
            CAP,
        ));
        obstacles.push(PixelRect::spanning(
            pixel(point.x, y_low),
            pixel(point.x, y_high),
            CAP,
        ));
        let dot = pixel(point.x, point.y);
        obstacles.push(PixelRect::around(dot, MARKER_RADIUS + 1));
        let text = format!("λ={}", format_number(point.lambda));
        labels.push(DotLabel {
            text,
            dot,
            radius: MARKER_RADIUS,
        });
    }
    for reference in references {
        let dot = pixel(reference.x, reference.y);
        obstacles.push(PixelRect::around(dot, DIAMOND_RADIUS + 1));
        let text = reference.label.clone();
        labels.push(DotLabel {
            text,
            dot,
            radius: DIAMOND_RADIUS,
        });
    }
    let (x_pixels, y_pixels) = chart.plotting_area().get_pixel_range();
    let bounds = PixelRect::spanning(
        (x_pixels.start, y_pixels.start),
        (x_pixels.end, y_pixels.end),
        0,
    );
    for (label, placement) in labels
        .iter()
        .zip(place_labels(&labels, obstacles, bounds, TEXT_PX))
    {
        root.draw_text(&label.text, &text(TEXT_PX, placement.anchor), placement.at)?;
    }
    Ok(())
}

fn validate(points: &[TradeoffPoint], references: &[ReferencePoint]) -> Result<(), FigureError> {
    for (index, point) in points.iter().enumerate() {
        let place = || format!("trade-off point {index} (λ = {})", point.lambda);
        check(place, "lambda", point.lambda, Expect::NonNegative)?;
        check(place, "x", point.x, Expect::FiniteOrMissing)?;
        check(place, "x_std", point.x_std, Expect::SpreadOrMissing)?;
        check(place, "y", point.y, Expect::FiniteOrMissing)?;
        check(place, "y_std", point.y_std, Expect::SpreadOrMissing)?;
    }
    for reference in references {
        let place = || format!("trade-off reference \"{}\"", reference.label);
        check(place, "x", reference.x, Expect::Finite)?;
        check(place, "y", reference.y, Expect::Finite)?;
    }
    Ok(())
}
