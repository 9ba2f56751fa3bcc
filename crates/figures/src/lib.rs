#![warn(missing_docs, clippy::missing_errors_doc)]
//! SVG figures of the λ_NE curve: plain numbers in, SVG text out.
//!
//! Two figures, both drawn with `plotters`' SVG backend:
//!
//! - [`curve_figure`]: small multiples, one [`Panel`] per metric, λ_NE on a log axis with λ = 0
//!   set apart at the left, each [`Band`] drawn as a mean line with a shaded ±1 std band, and
//!   dashed horizontal [`Reference`] lines (the paper's values) named in the panel's legend;
//! - [`tradeoff_figure`]: one metric against another, one [`TradeoffPoint`] per λ_NE with
//!   error bars both ways and a "λ=…" label beside it, plus labelled [`ReferencePoint`]s.
//!
//! A NaN mean (or x, y) is a missing value: nothing is drawn there and lines break around it. A
//! NaN std draws the point without its band or error bar. The same input always gives the same
//! bytes.
//!
//! Text is written as SVG `<text>` and set by the viewer in its own sans-serif font, so no font
//! file is read when drawing or needed to build. Layout uses a width estimate per character
//! that errs wide (it holds for DejaVu Sans, among the widest common sans-serif faces), and every
//! font is at least 12 px at the SVG's natural size.

mod axis;
mod curve;
mod labels;
mod layout;
mod tradeoff;

pub use curve::curve_figure;
pub use tradeoff::tradeoff_figure;

/// One point of a [`Band`]: a metric's mean and standard deviation over seeds at one λ_NE.
#[derive(Debug, Clone, PartialEq)]
pub struct BandPoint {
    /// λ_NE, finite and ≥ 0; 0 is drawn at the left end of the log axis.
    pub lambda: f64,
    /// NaN for a missing value: no point is drawn and the line breaks.
    pub mean: f64,
    /// ≥ 0; NaN draws the mean without a band there.
    pub std: f64,
}

/// One line of a panel with its ±1 std band, e.g. one SAE initialisation across λ_NE.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// Shown in the figure's legend; bands of the same name share a colour across panels.
    pub name: String,
    /// In any order; drawn sorted by λ.
    pub points: Vec<BandPoint>,
}

/// A published value to compare with, drawn as a dashed horizontal line.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// Shown in the panel's legend with the value, e.g. "paper, NE" gives "paper, NE: 0.08".
    pub label: String,
    /// Where the line is drawn, in the panel's y units; finite.
    pub value: f64,
}

/// One metric: one panel of [`curve_figure`].
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// Heads the panel, e.g. the metric's name.
    pub title: String,
    /// The y axis' description, with its unit, e.g. "dead latents (%)"; up to about 30
    /// characters fit beside a panel.
    pub y_label: String,
    /// The lines, each with its band; at least one point in one of them draws an axis.
    pub bands: Vec<Band>,
    /// Each gets its own dash pattern, so two references in one panel stay apart.
    pub references: Vec<Reference>,
}

/// One λ_NE of [`tradeoff_figure`]: means over seeds and their standard deviations.
#[derive(Debug, Clone, PartialEq)]
pub struct TradeoffPoint {
    /// Finite and ≥ 0; written beside the point as "λ=…".
    pub lambda: f64,
    /// NaN (in `x` or `y`) for a missing value: the point is left out.
    pub x: f64,
    /// NaN: no horizontal error bar.
    pub x_std: f64,
    /// NaN for a missing value: the point is left out.
    pub y: f64,
    /// NaN: no vertical error bar.
    pub y_std: f64,
}

/// A published point of [`tradeoff_figure`], drawn as a labelled diamond.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferencePoint {
    /// Written beside the diamond, e.g. "paper, NE".
    pub label: String,
    /// Finite, in the figure's x units.
    pub x: f64,
    /// Finite, in the figure's y units.
    pub y: f64,
}

/// Why a figure could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum FigureError {
    /// A number no figure can show: names where it is, which field, and what was expected.
    #[error("{place}: {field} is {value}, but must be {expected}")]
    InvalidValue {
        /// Which panel, band, point or reference, by title, name or index.
        place: String,
        /// The field holding the number, e.g. "std".
        field: &'static str,
        /// The number given.
        value: f64,
        /// What the field may hold, e.g. "a finite number ≥ 0".
        expected: &'static str,
    },
    /// `plotters` failed to draw (it writes to a string, so this is not expected).
    #[error("drawing the SVG failed: {0}")]
    Draw(String),
}

/// What a number may be, checked before anything is drawn.
#[derive(Clone, Copy)]
enum Expect {
    /// λ_NE.
    NonNegative,
    /// A mean or a coordinate: NaN stands for a missing value.
    FiniteOrMissing,
    /// A standard deviation: NaN means "not known".
    SpreadOrMissing,
    /// A published value.
    Finite,
}

impl Expect {
    fn holds(self, value: f64) -> bool {
        match self {
            Expect::NonNegative => value.is_finite() && value >= 0.0,
            Expect::FiniteOrMissing => !value.is_infinite(),
            Expect::SpreadOrMissing => value.is_nan() || (value.is_finite() && value >= 0.0),
            Expect::Finite => value.is_finite(),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Expect::NonNegative => "a finite number ≥ 0",
            Expect::FiniteOrMissing => "finite, or NaN for a missing value",
            Expect::SpreadOrMissing => "a finite number ≥ 0, or NaN for none",
            Expect::Finite => "finite",
        }
    }
}

/// `Ok` when `value` is what `expect` allows, else an error naming `place()` and `field`.
fn check(
    place: impl Fn() -> String,
    field: &'static str,
    value: f64,
    expect: Expect,
) -> Result<(), FigureError> {
    if expect.holds(value) {
        Ok(())
    } else {
        Err(FigureError::InvalidValue {
            place: place(),
            field,
            value,
            expected: expect.describe(),
        })
    }
}

impl<E: std::error::Error + Send + Sync> From<plotters::drawing::DrawingAreaErrorKind<E>>
    for FigureError
{
    fn from(error: plotters::drawing::DrawingAreaErrorKind<E>) -> Self {
        FigureError::Draw(error.to_string())
    }
}
