//! What both figures share: fonts, colours, number formatting, value ranges and legends.

use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::coord::ranged1d::BoldPoints;
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::ops::Range;

/// The backend the figures draw on.
pub(crate) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// `plotters`' SVG backend writes `font-size` as the requested size / 1.24; sizes here are
/// asked for in the pixels that end up in the SVG.
const SVG_FONT_SCALE: f64 = 1.24;
/// Width of one character as a fraction of the font size, on the wide side: DejaVu Sans digits
/// are 0.64 em, most lower-case letters less.
const CHAR_WIDTH_EM: f64 = 0.62;

/// Font sizes in SVG pixels (none below 12, so the figures read at 100% zoom). Each is one that
/// survives `plotters`' division by 1.24 exactly (13 and 15 do not).
pub(crate) const FIGURE_TITLE_PX: f64 = 20.0;
pub(crate) const PANEL_TITLE_PX: f64 = 16.0;
/// Axis descriptions, legends and point labels.
pub(crate) const TEXT_PX: f64 = 14.0;
/// Tick labels, kept smaller so that "1000" and "3000" fit side by side in a panel.
const TICK_PX: f64 = 12.0;

pub(crate) const TEXT_COLOUR: RGBColor = RGBColor(20, 20, 20);
const GRID_COLOUR: RGBColor = RGBColor(224, 224, 224);
pub(crate) const REFERENCE_COLOUR: RGBColor = RGBColor(70, 70, 70);
/// Opacity of the ±1 std band over the white background.
pub(crate) const BAND_OPACITY: f64 = 0.2;

/// Okabe–Ito colours, distinguishable with the common colour-vision deficiencies.
const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
];

/// (dash, gap) in pixels for the n-th reference line of a panel, so that two are told apart.
const DASH_PATTERNS: [(u32, u32); 3] = [(9, 5), (3, 3), (16, 4)];

pub(crate) fn series_colour(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

pub(crate) fn dash_pattern(index: usize) -> (u32, u32) {
    DASH_PATTERNS[index % DASH_PATTERNS.len()]
}

/// The size to ask `plotters` for so that the SVG says exactly `px` (`px * 1.24 / 1.24` can
/// miss by a rounding step, which would show as `font-size="13.000000000000002"`).
fn backend_font_size(px: f64) -> f64 {
    let guess = px * SVG_FONT_SCALE;
    (0..=4)
        .flat_map(|step: u64| [guess.to_bits() + step, guess.to_bits() - step])
        .map(f64::from_bits)
        .find(|size| size / SVG_FONT_SCALE == px)
        .unwrap_or(guess)
}

/// A plain text style of `px` SVG pixels, placed by `pos`.
pub(crate) fn text(px: f64, pos: (HPos, VPos)) -> TextStyle<'static> {
    ("sans-serif", backend_font_size(px))
        .into_font()
        .color(&TEXT_COLOUR)
        .pos(Pos::new(pos.0, pos.1))
}

/// A bold text style of `px` SVG pixels, centred on its anchor horizontally, hanging below it.
pub(crate) fn heading(px: f64) -> TextStyle<'static> {
    ("sans-serif", backend_font_size(px), FontStyle::Bold)
        .into_font()
        .color(&TEXT_COLOUR)
        .pos(Pos::new(HPos::Center, VPos::Top))
}

/// What both figures' axes share: grid lines at the ticks only, in light grey; dark axes; tick
/// labels at [`TICK_PX`] and axis descriptions at [`TEXT_PX`].
pub(crate) fn house_style<'m, 'a, 'b, 's, X: Ranged, Y: Ranged>(
    mesh: &'m mut MeshStyle<'a, 'b, X, Y, SVGBackend<'s>>,
) -> &'m mut MeshStyle<'a, 'b, X, Y, SVGBackend<'s>> {
    mesh.max_light_lines(0)
        .bold_line_style(GRID_COLOUR)
        .axis_style(TEXT_COLOUR)
        .label_style(text(TICK_PX, (HPos::Center, VPos::Center)))
        .axis_desc_style(text(TEXT_PX, (HPos::Center, VPos::Center)))
}

/// Generous width of `text` at `px` SVG pixels (the viewer's font decides the real one).
pub(crate) fn text_width(text: &str, px: f64) -> i32 {
    (text.chars().count() as f64 * CHAR_WIDTH_EM * px).ceil() as i32
}

/// Three significant digits without trailing zeros: 3000 → "3000", 0.0800 → "0.08".
pub(crate) fn format_number(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return format!("{value}");
    }
    let decimals = (2 - value.abs().log10().floor() as i32).max(0) as usize;
    let fixed = format!("{value:.decimals$}");
    if fixed.contains('.') {
        fixed.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        fixed
    }
}

/// How `plotters` should write the ticks it puts on `range` when asked for at most
/// `max_ticks`: all with the fewest decimals that show each exactly ("0.50, 0.55, 0.60", not
/// "0.5, 0.55, 0.6").
pub(crate) fn tick_format(range: &Range<f64>, max_ticks: usize) -> impl Fn(&f64) -> String + use<> {
    let ticks = RangedCoordf64::from(range.clone()).key_points(BoldPoints(max_ticks));
    let step = ticks
        .windows(2)
        .map(|pair| pair[1] - pair[0])
        .fold(f64::INFINITY, f64::min);
    let exact = |decimals: i32| {
        let scale = 10f64.powi(decimals);
        ticks
            .iter()
            .all(|tick| ((tick * scale).round() / scale - tick).abs() <= 1e-6 * step)
    };
    let decimals = (0..=9).find(|&decimals| exact(decimals)).unwrap_or(9) as usize;
    move |tick: &f64| {
        let shown = format!("{tick:.decimals$}");
        // A tick a rounding error below zero would read "-0.00".
        match shown.strip_prefix('-') {
            Some(digits) if digits.chars().all(|c| c == '0' || c == '.') => digits.to_owned(),
            _ => shown,
        }
    }
}

/// `mean` ± `std`, or just `mean` (twice) where the std is NaN.
pub(crate) fn spread(mean: f64, std: f64) -> [f64; 2] {
    let std = if std.is_nan() { 0.0 } else { std };
    [mean - std, mean + std]
}

/// The span of the finite `values`, padded a little on each side; a made-up span around a
/// single value or when there is none, so an axis can always be drawn.
pub(crate) fn padded_range(values: impl IntoIterator<Item = f64>) -> Range<f64> {
    let (low, high) = values
        .into_iter()
        .filter(|value| value.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), value| {
            (low.min(value), high.max(value))
        });
    if low > high {
        return 0.0..1.0;
    }
    let padding = if high > low {
        0.06 * (high - low)
    } else {
        (0.1 * low.abs()).max(1e-3)
    };
    low - padding..high + padding
}

/// The maximal runs of consecutive `items` that `keep` accepts: one line or band each, so that
/// a missing value breaks a line instead of being bridged.
pub(crate) fn runs<T>(items: &[T], keep: impl Fn(&T) -> bool) -> Vec<&[T]> {
    items
        .split(|item| !keep(item))
        .filter(|run| !run.is_empty())
        .collect()
}

/// What a legend entry shows before its text.
pub(crate) enum LegendKey {
    /// A line over a shaded band.
    Band(RGBColor),
    /// A shaded patch alone: what the band means.
    Shade,
    /// A dashed line with the n-th dash pattern.
    Dashes(usize),
    /// A dot with error bars.
    Marker(RGBColor),
}

pub(crate) struct LegendEntry {
    pub(crate) key: LegendKey,
    pub(crate) text: String,
}

pub(crate) const LEGEND_ROW_HEIGHT: i32 = 20;
const KEY_WIDTH: i32 = 28;
const KEY_TEXT_GAP: i32 = 6;
const ENTRY_GAP: i32 = 22;

impl LegendEntry {
    fn width(&self) -> i32 {
        KEY_WIDTH + KEY_TEXT_GAP + text_width(&self.text, TEXT_PX)
    }
}

/// The entries split into rows that fit in `width`, each row a range of entry indices.
pub(crate) fn legend_rows(entries: &[LegendEntry], width: i32) -> Vec<Range<usize>> {
    let mut rows: Vec<Range<usize>> = Vec::new();
    let mut row_width = 0;
    for (index, entry) in entries.iter().enumerate() {
        match rows.last_mut() {
            Some(row) if row_width + ENTRY_GAP + entry.width() <= width => {
                row.end = index + 1;
                row_width += ENTRY_GAP + entry.width();
            }
            _ => {
                rows.push(index..index + 1);
                row_width = entry.width();
            }
        }
    }
    rows
}

/// Draws the legend centred across `area`, its first row's middle at `top + row height / 2`.
pub(crate) fn draw_legend(
    area: &Area,
    entries: &[LegendEntry],
    top: i32,
) -> Result<(), crate::FigureError> {
    let width = area.dim_in_pixel().0 as i32;
    for (row_index, row) in legend_rows(entries, width).into_iter().enumerate() {
        let row_entries = &entries[row];
        let row_width = row_entries.iter().map(LegendEntry::width).sum::<i32>()
            + ENTRY_GAP * (row_entries.len() as i32 - 1);
        let middle = top + LEGEND_ROW_HEIGHT * row_index as i32 + LEGEND_ROW_HEIGHT / 2;
        let mut left = (width - row_width) / 2;
        for entry in row_entries {
            draw_key(area, &entry.key, left, middle)?;
            area.draw_text(
                &entry.text,
                &text(TEXT_PX, (HPos::Left, VPos::Center)),
                (left + KEY_WIDTH + KEY_TEXT_GAP, middle),
            )?;
            left += entry.width() + ENTRY_GAP;
        }
    }
    Ok(())
}

fn draw_key(
    area: &Area,
    key: &LegendKey,
    left: i32,
    middle: i32,
) -> Result<(), crate::FigureError> {
    let right = left + KEY_WIDTH;
    let shade = |colour: RGBColor| {
        Rectangle::new(
            [(left, middle - 6), (right, middle + 6)],
            colour.mix(BAND_OPACITY).filled(),
        )
    };
    match key {
        LegendKey::Band(colour) => {
            area.draw(&shade(*colour))?;
            area.draw(&PathElement::new(
                [(left, middle), (right, middle)],
                colour.stroke_width(2),
            ))?;
        }
        LegendKey::Shade => area.draw(&shade(REFERENCE_COLOUR))?,
        LegendKey::Dashes(index) => {
            let (dash, gap) = dash_pattern(*index);
            area.draw(&DashedPathElement::new(
                [(left, middle), (right, middle)],
                dash,
                gap,
                REFERENCE_COLOUR.stroke_width(2),
            ))?;
        }
        LegendKey::Marker(colour) => {
            let centre = (left + KEY_WIDTH / 2, middle);
            area.draw(&PathElement::new(
                [(left + 4, middle), (right - 4, middle)],
                colour.stroke_width(1),
            ))?;
            area.draw(&PathElement::new(
                [(centre.0, middle - 7), (centre.0, middle + 7)],
                colour.stroke_width(1),
            ))?;
            area.draw(&Circle::new(centre, 4, colour.filled()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_three_significant_digits() {
        let shown: Vec<String> = [0.08, 23.8, 3000.0, 0.123456, 1.0 / 3.0, -4.6, 0.0, 1e-4]
            .into_iter()
            .map(format_number)
            .collect();
        assert_eq!(
            shown,
            [
                "0.08", "23.8", "3000", "0.123", "0.333", "-4.6", "0", "0.0001"
            ]
        );
    }

    #[test]
    fn ticks_share_their_decimals() {
        let show = |range: Range<f64>, count| {
            let format = tick_format(&range, count);
            RangedCoordf64::from(range)
                .key_points(BoldPoints(count))
                .iter()
                .map(format)
                .collect::<Vec<_>>()
        };
        assert_eq!(show(0.5..0.62, 3), ["0.50", "0.55", "0.60"]);
        assert_eq!(show(0.0..40.0, 5), ["0", "10", "20", "30", "40"]);
        assert_eq!(show(-0.3..0.3, 3), ["-0.2", "0.0", "0.2"]);
    }

    #[test]
    fn font_sizes_come_out_exact() {
        for px in [TICK_PX, TEXT_PX, PANEL_TITLE_PX, FIGURE_TITLE_PX] {
            assert_eq!(backend_font_size(px) / SVG_FONT_SCALE, px);
        }
    }

    #[test]
    fn ranges_skip_nan_and_pad_both_ends() {
        let range = padded_range([1.0, f64::NAN, 3.0]);
        assert!((range.start - 0.88).abs() < 1e-12 && (range.end - 3.12).abs() < 1e-12);
        assert_eq!(padded_range([f64::NAN]), 0.0..1.0);
        let single = padded_range([5.0]);
        assert!(single.start < 5.0 && single.end > 5.0);
    }

    #[test]
    fn runs_break_at_rejected_items() {
        let values = [1.0, f64::NAN, 2.0, 3.0, f64::NAN, f64::NAN, 4.0];
        let kept = runs(&values, |value| !value.is_nan());
        assert_eq!(kept, [&[1.0][..], &[2.0, 3.0], &[4.0]]);
    }

    #[test]
    fn legend_wraps_when_a_row_is_full() {
        let entry = |text: &str| LegendEntry {
            key: LegendKey::Shade,
            text: text.to_owned(),
        };
        let entries = [
            entry("paper, standard SAE, Table 3: 23.8"),
            entry("paper, NE: 3.7"),
            entry("x"),
        ];
        let one = entries[0].width();
        assert_eq!(
            legend_rows(&entries, 10_000),
            vec![Range { start: 0, end: 3 }]
        );
        assert_eq!(legend_rows(&entries, one), [0..1, 1..3]);
    }
}
