//! One metric against another, one labelled point per λ_NE.

use crate::layout::{
    Area, FIGURE_TITLE_PX, LEGEND_ROW_HEIGHT, LegendEntry, LegendKey, REFERENCE_COLOUR, TEXT_PX,
    draw_legend, format_number, heading, house_style, padded_range, runs, series_colour, text,
    text_width, tick_format,
};
use crate::{Expect, FigureError, ReferencePoint, TradeoffPoint, check};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

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

/// One SVG plotting `y` against `x` for each λ_NE: a dot at the means with ±1 std error bars
/// both ways, a "λ=…" label beside it (placed clear of other labels and dots where possible),
/// and a thin line through the dots in λ order. `references` are published points, drawn as
/// grey diamonds labelled with their `label`. Axes span the data, error bars and references.
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
    let present = |point: &&TradeoffPoint| !point.x.is_nan() && !point.y.is_nan();
    let spread = |value: f64, std: f64| {
        let std = if std.is_nan() { 0.0 } else { std };
        [value - std, value + std]
    };
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
    let colour = series_colour(0);

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)?;
        root.draw_text(title, &heading(FIGURE_TITLE_PX), (WIDTH as i32 / 2, 10))?;
        let legend = [LegendEntry {
            key: LegendKey::Marker(colour),
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

        for run in runs(&points, present) {
            let line = run
                .iter()
                .map(|point| (point.x, point.y))
                .collect::<Vec<_>>();
            chart.draw_series([PathElement::new(line, colour.mix(0.45).stroke_width(1))])?;
        }
        let bar_style = colour.stroke_width(1);
        for point in points.iter().filter(|point| present(point)) {
            if !point.y_std.is_nan() {
                let [low, high] = spread(point.y, point.y_std);
                chart.draw_series([ErrorBar::new_vertical(
                    point.x, low, point.y, high, bar_style, 8,
                )])?;
            }
            if !point.x_std.is_nan() {
                let [low, high] = spread(point.x, point.x_std);
                chart.draw_series([ErrorBar::new_horizontal(
                    point.y, low, point.x, high, bar_style, 8,
                )])?;
            }
            chart.draw_series([Circle::new(
                (point.x, point.y),
                MARKER_RADIUS,
                colour.filled(),
            )])?;
        }
        let diamond = |at: (f64, f64)| {
            let r = DIAMOND_RADIUS;
            EmptyElement::at(at)
                + Polygon::new(
                    vec![(0, -r), (r, 0), (0, r), (-r, 0)],
                    REFERENCE_COLOUR.filled(),
                )
        };
        chart.draw_series(
            references
                .iter()
                .map(|reference| diamond((reference.x, reference.y))),
        )?;

        // Labels go last, each where it covers the least of the dots, bars, line and labels
        // already placed.
        let pixel = |x: f64, y: f64| chart.backend_coord(&(x, y));
        let mut obstacles = Vec::new();
        let mut labels = Vec::new();
        for run in runs(&points, present) {
            for pair in run.windows(2) {
                obstacles.extend(PixelRect::along(
                    pixel(pair[0].x, pair[0].y),
                    pixel(pair[1].x, pair[1].y),
                ));
            }
        }
        for point in points.iter().filter(|point| present(point)) {
            let [x_low, x_high] = spread(point.x, point.x_std);
            let [y_low, y_high] = spread(point.y, point.y_std);
            obstacles.push(PixelRect::spanning(
                pixel(x_low, point.y),
                pixel(x_high, point.y),
                4,
            ));
            obstacles.push(PixelRect::spanning(
                pixel(point.x, y_low),
                pixel(point.x, y_high),
                4,
            ));
            let at = pixel(point.x, point.y);
            obstacles.push(PixelRect::around(at, MARKER_RADIUS + 1));
            labels.push((
                format!("λ={}", format_number(point.lambda)),
                at,
                MARKER_RADIUS,
            ));
        }
        for reference in references {
            let at = pixel(reference.x, reference.y);
            obstacles.push(PixelRect::around(at, DIAMOND_RADIUS + 1));
            labels.push((reference.label.clone(), at, DIAMOND_RADIUS));
        }
        let (x_pixels, y_pixels) = chart.plotting_area().get_pixel_range();
        let bounds = PixelRect {
            left: x_pixels.start,
            top: y_pixels.start,
            right: x_pixels.end,
            bottom: y_pixels.end,
        };
        draw_labels(&root, &labels, obstacles, bounds)?;
        root.present()?;
    }
    Ok(svg)
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

/// A rectangle in backend pixels.
#[derive(Clone, Copy)]
struct PixelRect {
    left: i32,
    top: i32,
    right: i32,
    bottom: i32,
}

impl PixelRect {
    fn around((x, y): (i32, i32), radius: i32) -> Self {
        PixelRect {
            left: x - radius,
            top: y - radius,
            right: x + radius,
            bottom: y + radius,
        }
    }

    /// The box from `a` to `b` (in any order), widened by `half_width` on every side.
    fn spanning(a: (i32, i32), b: (i32, i32), half_width: i32) -> Self {
        PixelRect {
            left: a.0.min(b.0) - half_width,
            top: a.1.min(b.1) - half_width,
            right: a.0.max(b.0) + half_width,
            bottom: a.1.max(b.1) + half_width,
        }
    }

    /// Small boxes every few pixels along the segment from `a` to `b`.
    fn along(a: (i32, i32), b: (i32, i32)) -> impl Iterator<Item = PixelRect> {
        let length = f64::from(a.0 - b.0).hypot(f64::from(a.1 - b.1));
        let steps = (length / 4.0).ceil().max(1.0) as i32;
        (0..=steps).map(move |step| {
            let along = |from: i32, to: i32| from + (to - from) * step / steps;
            PixelRect::around((along(a.0, b.0), along(a.1, b.1)), 1)
        })
    }

    fn overlap(&self, other: &PixelRect) -> i32 {
        let width = self.right.min(other.right) - self.left.max(other.left);
        let height = self.bottom.min(other.bottom) - self.top.max(other.top);
        width.max(0) * height.max(0)
    }

    fn area(&self) -> i32 {
        (self.right - self.left) * (self.bottom - self.top)
    }
}

/// Where a label may go relative to its dot, in order of preference: right, left, above, below,
/// then the diagonals. `(anchor, x offset, y offset)`, offsets in multiples of the gap.
const LABEL_SPOTS: [((HPos, VPos), i32, i32); 8] = [
    ((HPos::Left, VPos::Center), 1, 0),
    ((HPos::Right, VPos::Center), -1, 0),
    ((HPos::Center, VPos::Bottom), 0, -1),
    ((HPos::Center, VPos::Top), 0, 1),
    ((HPos::Left, VPos::Bottom), 1, -1),
    ((HPos::Left, VPos::Top), 1, 1),
    ((HPos::Right, VPos::Bottom), -1, -1),
    ((HPos::Right, VPos::Top), -1, 1),
];

/// Draws each `(text, dot centre, dot radius)` label at the first spot that covers none of
/// `obstacles` nor any label placed before it and stays inside `bounds`; failing that, at the
/// spot that covers least.
fn draw_labels(
    root: &Area,
    labels: &[(String, (i32, i32), i32)],
    mut taken: Vec<PixelRect>,
    bounds: PixelRect,
) -> Result<(), FigureError> {
    let height = TEXT_PX.ceil() as i32;
    for (label, (x, y), radius) in labels {
        let width = text_width(label, TEXT_PX);
        let gap = radius + 4;
        let placed = LABEL_SPOTS.iter().map(|&(anchor, dx, dy)| {
            let (x, y) = (x + dx * gap, y + dy * gap);
            let left = match anchor.0 {
                HPos::Left => x,
                HPos::Center => x - width / 2,
                HPos::Right => x - width,
            };
            let top = match anchor.1 {
                VPos::Top => y,
                VPos::Center => y - height / 2,
                VPos::Bottom => y - height,
            };
            let spot = PixelRect {
                left,
                top,
                right: left + width,
                bottom: top + height,
            };
            let outside = spot.area() - spot.overlap(&bounds);
            let covered: i32 = taken.iter().map(|other| other.overlap(&spot)).sum();
            (covered + 4 * outside, anchor, (x, y), spot)
        });
        // `min_by_key` keeps the first of equals, so the order of preference breaks ties.
        let (_, anchor, at, spot) = placed.min_by_key(|(cost, ..)| *cost).expect("spots exist");
        root.draw_text(label, &text(TEXT_PX, anchor), at)?;
        taken.push(spot);
    }
    Ok(())
}
