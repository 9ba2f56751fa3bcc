//! Small multiples: one panel per metric against λ_NE.

use crate::axis::LambdaAxis;
use crate::layout::{
    Area, BAND_OPACITY, FIGURE_TITLE_PX, LEGEND_ROW_HEIGHT, LegendEntry, LegendKey, PANEL_TITLE_PX,
    REFERENCE_COLOUR, TEXT_COLOUR, dash_pattern, draw_legend, format_number, heading, house_style,
    legend_rows, padded_range, runs, series_colour, spread, tick_format,
};
use crate::{Expect, FigureError, Panel, check};
use plotters::element::DashedPathElement;
use plotters::prelude::*;

const PANEL_WIDTH: u32 = 390;
const PANEL_HEIGHT: u32 = 290;
/// Panels per row: three fill a 1200-pixel-wide window.
const MAX_COLUMNS: usize = 3;
/// At most this many ticks on a panel's y axis.
const Y_TICKS: usize = 6;
/// From the top of a panel to its reference legend.
const PANEL_TITLE_HEIGHT: i32 = 30;
/// From the top of the figure to its legend.
const FIGURE_TITLE_HEIGHT: i32 = 40;

/// One SVG with a panel per metric, laid out in rows of up to three, all sharing a λ_NE axis
/// with a tick at every λ found in the data (λ = 0 at the left, set apart by a break).
///
/// Each band is drawn as its mean line with dots at the points and a shaded ±1 std band in a
/// colour of its own (the same in every panel); the figure's legend names the bands. Reference
/// values are dashed lines across the panel, named with their values in the panel's legend.
/// `x_label` describes the λ axis of every panel, `title` heads the figure.
///
/// # Errors
/// [`FigureError::InvalidValue`] for a λ that is negative or not finite, an infinite mean, a
/// negative or infinite std, or a reference value that is not finite, naming where it is;
/// [`FigureError::Draw`] if `plotters` fails.
pub fn curve_figure(panels: &[Panel], x_label: &str, title: &str) -> Result<String, FigureError> {
    validate(panels)?;
    let band_names = band_names(panels);
    let lambdas: Vec<f64> = panels
        .iter()
        .flat_map(|panel| &panel.bands)
        .flat_map(|band| band.points.iter().map(|point| point.lambda))
        .collect();

    let columns = panels.len().clamp(1, MAX_COLUMNS);
    let rows = panels.len().div_ceil(columns).max(1);
    let width = PANEL_WIDTH * columns as u32;
    let mut legend: Vec<LegendEntry> = band_names
        .iter()
        .enumerate()
        .map(|(index, name)| LegendEntry {
            key: LegendKey::Band(series_colour(index)),
            text: (*name).to_owned(),
        })
        .collect();
    legend.push(LegendEntry {
        key: LegendKey::Shade,
        text: "line: mean over seeds; shaded: ±1 std".to_owned(),
    });
    let header_height = FIGURE_TITLE_HEIGHT
        + LEGEND_ROW_HEIGHT * legend_rows(&legend, width as i32).len() as i32
        + 8;
    // Every panel keeps room for as many reference rows as the fullest one, so plots line up.
    let reference_rows = panels
        .iter()
        .map(|panel| legend_rows(&reference_legend(panel), PANEL_WIDTH as i32).len())
        .max()
        .unwrap_or(0);
    let panel_height = PANEL_HEIGHT + LEGEND_ROW_HEIGHT as u32 * reference_rows as u32;
    let height = header_height as u32 + panel_height * rows as u32;

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE)?;
        root.draw_text(title, &heading(FIGURE_TITLE_PX), (width as i32 / 2, 10))?;
        draw_legend(&root, &legend, FIGURE_TITLE_HEIGHT)?;
        let body = root.margin(header_height, 0, 0, 0);
        let cells = body.split_evenly((rows, columns));
        let plot_top = PANEL_TITLE_HEIGHT + LEGEND_ROW_HEIGHT * reference_rows as i32;
        for (panel, cell) in panels.iter().zip(&cells) {
            draw_panel(
                cell,
                panel,
                &band_names,
                LambdaAxis::new(lambdas.iter().copied()),
                x_label,
                plot_top,
            )?;
        }
        root.present()?;
    }
    Ok(svg)
}

/// Every band name once, in the order first met, which fixes each name's colour.
fn band_names(panels: &[Panel]) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for band in panels.iter().flat_map(|panel| &panel.bands) {
        if !names.contains(&band.name.as_str()) {
            names.push(&band.name);
        }
    }
    names
}

fn reference_legend(panel: &Panel) -> Vec<LegendEntry> {
    panel
        .references
        .iter()
        .enumerate()
        .map(|(index, reference)| LegendEntry {
            key: LegendKey::Dashes(index),
            text: format!("{}: {}", reference.label, format_number(reference.value)),
        })
        .collect()
}

fn validate(panels: &[Panel]) -> Result<(), FigureError> {
    for panel in panels {
        for band in &panel.bands {
            for (index, point) in band.points.iter().enumerate() {
                let place = || {
                    format!(
                        "panel \"{}\", band \"{}\", point {index}",
                        panel.title, band.name
                    )
                };
                check(place, "lambda", point.lambda, Expect::NonNegative)?;
                check(place, "mean", point.mean, Expect::FiniteOrMissing)?;
                check(place, "std", point.std, Expect::SpreadOrMissing)?;
            }
        }
        for reference in &panel.references {
            let place = || {
                format!(
                    "panel \"{}\", reference \"{}\"",
                    panel.title, reference.label
                )
            };
            check(place, "value", reference.value, Expect::Finite)?;
        }
    }
    Ok(())
}

/// Draws one panel into `cell`: title, reference legend, then the plot from `plot_top` down.
fn draw_panel(
    cell: &Area,
    panel: &Panel,
    band_names: &[&str],
    axis: LambdaAxis,
    x_label: &str,
    plot_top: i32,
) -> Result<(), FigureError> {
    let cell_width = cell.dim_in_pixel().0 as i32;
    cell.draw_text(&panel.title, &heading(PANEL_TITLE_PX), (cell_width / 2, 8))?;
    draw_legend(cell, &reference_legend(panel), PANEL_TITLE_HEIGHT)?;

    let y_range = padded_range(
        panel
            .bands
            .iter()
            .flat_map(|band| {
                band.points
                    .iter()
                    .flat_map(|point| spread(point.mean, point.std))
            })
            .chain(panel.references.iter().map(|reference| reference.value)),
    );
    let tick_count = axis
        .key_points(plotters::coord::ranged1d::BoldPoints(usize::MAX))
        .len();
    let break_lambda = axis.break_lambda();
    let plot_area = cell.margin(plot_top, 0, 0, 0);
    let mut chart = ChartBuilder::on(&plot_area)
        .margin_top(4)
        .margin_bottom(6)
        .margin_left(6)
        .margin_right(18)
        .x_label_area_size(48)
        .y_label_area_size(76)
        .build_cartesian_2d(axis, y_range.clone())?;
    let y_tick_format = tick_format(&y_range, Y_TICKS);
    house_style(&mut chart.configure_mesh())
        .x_labels(tick_count)
        .y_labels(Y_TICKS)
        .y_label_formatter(&y_tick_format)
        .x_desc(x_label)
        .y_desc(&panel.y_label)
        .draw()?;

    let colour_of = |name: &str| {
        series_colour(
            band_names
                .iter()
                .position(|known| *known == name)
                .unwrap_or(0),
        )
    };
    let mut sorted_bands = Vec::with_capacity(panel.bands.len());
    for band in &panel.bands {
        let mut points = band.points.clone();
        points.sort_by(|a, b| a.lambda.total_cmp(&b.lambda));
        sorted_bands.push((colour_of(&band.name), points));
    }

    // Shading first, so that lines, dots and references stay on top of every band.
    for (colour, points) in &sorted_bands {
        let shade = colour.mix(BAND_OPACITY).filled();
        for run in runs(points, |point| !point.mean.is_nan() && !point.std.is_nan()) {
            if let [point] = run {
                // A band one point wide: a broad vertical stroke of the band's shade.
                let [low, high] = spread(point.mean, point.std);
                chart.draw_series([PathElement::new(
                    vec![(point.lambda, low), (point.lambda, high)],
                    shade.stroke_width(10),
                )])?;
            } else {
                let upper = run
                    .iter()
                    .map(|point| (point.lambda, point.mean + point.std));
                let lower = run
                    .iter()
                    .rev()
                    .map(|point| (point.lambda, point.mean - point.std));
                chart.draw_series([Polygon::new(upper.chain(lower).collect::<Vec<_>>(), shade)])?;
            }
        }
    }
    for (index, reference) in panel.references.iter().enumerate() {
        let (dash, gap) = dash_pattern(index);
        let (x_pixels, _) = chart.plotting_area().get_pixel_range();
        let y = chart.backend_coord(&(0.0, reference.value)).1;
        cell.draw(&DashedPathElement::new(
            [(x_pixels.start, y), (x_pixels.end, y)].map(|(x, y)| to_cell(cell, (x, y))),
            dash,
            gap,
            REFERENCE_COLOUR.stroke_width(2),
        ))?;
    }
    for (colour, points) in &sorted_bands {
        for run in runs(points, |point| !point.mean.is_nan()) {
            if run.len() < 2 {
                continue; // its dot shows it
            }
            let line = run.iter().map(|point| (point.lambda, point.mean));
            chart.draw_series([PathElement::new(
                line.collect::<Vec<_>>(),
                colour.stroke_width(2),
            )])?;
        }
        let finite = points.iter().filter(|point| !point.mean.is_nan());
        chart.draw_series(
            finite.map(|point| Circle::new((point.lambda, point.mean), 3, colour.filled())),
        )?;
    }
    if let Some(lambda) = break_lambda {
        draw_axis_break(
            cell,
            to_cell(cell, chart.backend_coord(&(lambda, y_range.start))),
        )?;
    }
    Ok(())
}

/// A backend pixel as a pixel of `cell`.
fn to_cell(cell: &Area, (x, y): (i32, i32)) -> (i32, i32) {
    let (x_range, y_range) = cell.get_pixel_range();
    (x - x_range.start, y - y_range.start)
}

/// Two slanted strokes across the x axis at `at`: the axis skips from 0 to the first positive λ.
fn draw_axis_break(cell: &Area, at: (i32, i32)) -> Result<(), FigureError> {
    let (x, y) = at;
    cell.draw(&Rectangle::new(
        [(x - 4, y - 2), (x + 4, y + 2)],
        WHITE.filled(),
    ))?;
    for offset in [-4, 4] {
        cell.draw(&PathElement::new(
            [(x + offset - 3, y + 6), (x + offset + 3, y - 6)],
            TEXT_COLOUR.stroke_width(1),
        ))?;
    }
    Ok(())
}
