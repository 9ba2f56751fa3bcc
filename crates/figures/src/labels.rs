//! Labels beside dots, each put where it covers the least of what is already drawn.

use crate::layout::text_width;
use plotters::style::text_anchor::{HPos, VPos};

/// A rectangle in backend pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct PixelRect {
    pub(crate) left: i32,
    pub(crate) top: i32,
    pub(crate) right: i32,
    pub(crate) bottom: i32,
}

impl PixelRect {
    /// The square of half-side `radius` around `centre`.
    pub(crate) fn around((x, y): (i32, i32), radius: i32) -> Self {
        PixelRect {
            left: x - radius,
            top: y - radius,
            right: x + radius,
            bottom: y + radius,
        }
    }

    /// The box from `a` to `b` (in any order), widened by `margin` on every side.
    pub(crate) fn spanning(a: (i32, i32), b: (i32, i32), margin: i32) -> Self {
        PixelRect {
            left: a.0.min(b.0) - margin,
            top: a.1.min(b.1) - margin,
            right: a.0.max(b.0) + margin,
            bottom: a.1.max(b.1) + margin,
        }
    }

    /// Small boxes every few pixels along the segment from `a` to `b`, so that a slanted line
    /// blocks only what it crosses.
    pub(crate) fn along(a: (i32, i32), b: (i32, i32)) -> impl Iterator<Item = PixelRect> {
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

/// A text to put beside a dot of radius `radius` centred at `dot`.
pub(crate) struct DotLabel {
    pub(crate) text: String,
    pub(crate) dot: (i32, i32),
    pub(crate) radius: i32,
}

/// Where a label went: draw its text at `at` with `anchor`; it covers `rect`.
pub(crate) struct Placement {
    pub(crate) anchor: (HPos, VPos),
    pub(crate) at: (i32, i32),
    pub(crate) rect: PixelRect,
}

/// Where a label may go relative to its dot, in order of preference: right, left, above, below,
/// then the diagonals. `(anchor, x offset, y offset)`, offsets in multiples of the gap.
const SPOTS: [((HPos, VPos), i32, i32); 8] = [
    ((HPos::Left, VPos::Center), 1, 0),
    ((HPos::Right, VPos::Center), -1, 0),
    ((HPos::Center, VPos::Bottom), 0, -1),
    ((HPos::Center, VPos::Top), 0, 1),
    ((HPos::Left, VPos::Bottom), 1, -1),
    ((HPos::Left, VPos::Top), 1, 1),
    ((HPos::Right, VPos::Bottom), -1, -1),
    ((HPos::Right, VPos::Top), -1, 1),
];

/// Places each label, in order, at the first spot that covers none of `obstacles` nor any
/// label placed before it and stays inside `bounds`; failing that, at the spot that covers
/// least (a pixel outside `bounds` counts four times). Text is `px` pixels high.
pub(crate) fn place_labels(
    labels: &[DotLabel],
    mut obstacles: Vec<PixelRect>,
    bounds: PixelRect,
    px: f64,
) -> Vec<Placement> {
    let height = px.ceil() as i32;
    let mut placements = Vec::with_capacity(labels.len());
    for label in labels {
        let width = text_width(&label.text, px);
        let gap = label.radius + 4;
        let (x, y) = label.dot;
        let candidates = SPOTS.iter().map(|&(anchor, dx, dy)| {
            let at = (x + dx * gap, y + dy * gap);
            let left = match anchor.0 {
                HPos::Left => at.0,
                HPos::Center => at.0 - width / 2,
                HPos::Right => at.0 - width,
            };
            let top = match anchor.1 {
                VPos::Top => at.1,
                VPos::Center => at.1 - height / 2,
                VPos::Bottom => at.1 - height,
            };
            let rect = PixelRect {
                left,
                top,
                right: left + width,
                bottom: top + height,
            };
            let outside = rect.area() - rect.overlap(&bounds);
            let covered: i32 = obstacles.iter().map(|other| other.overlap(&rect)).sum();
            (covered + 4 * outside, Placement { anchor, at, rect })
        });
        // `min_by_key` keeps the first of equals, so the order of preference breaks ties.
        let (_, placement) = candidates
            .min_by_key(|(cost, _)| *cost)
            .expect("there are spots to choose from");
        obstacles.push(placement.rect);
        placements.push(placement);
    }
    placements
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: PixelRect = PixelRect {
        left: 0,
        top: 0,
        right: 400,
        bottom: 300,
    };

    fn label(text: &str, dot: (i32, i32)) -> DotLabel {
        DotLabel {
            text: text.to_owned(),
            dot,
            radius: 4,
        }
    }

    #[test]
    fn a_free_label_goes_to_the_right_of_its_dot() {
        let placed = place_labels(&[label("λ=10", (100, 100))], vec![], BOUNDS, 14.0);
        let rect = placed[0].rect;
        assert_eq!(rect.left, 108);
        assert!(rect.top < 100 && rect.bottom > 100);
    }

    #[test]
    fn labels_dodge_obstacles_each_other_and_the_edge() {
        // Something right of the first dot: its label goes left.
        let blocker = PixelRect::around((130, 100), 10);
        let placed = place_labels(&[label("λ=10", (100, 100))], vec![blocker], BOUNDS, 14.0);
        assert!(placed[0].rect.right < 100);

        // Two dots side by side: the second label avoids the first.
        let placed = place_labels(
            &[label("λ=0", (200, 100)), label("λ=10", (180, 100))],
            vec![],
            BOUNDS,
            14.0,
        );
        assert_eq!(placed[0].rect.overlap(&placed[1].rect), 0);

        // A dot at the right edge: its label goes inside.
        let placed = place_labels(&[label("λ=3000", (398, 150))], vec![], BOUNDS, 14.0);
        assert!(placed[0].rect.right <= BOUNDS.right);
    }

    #[test]
    fn a_line_blocks_only_what_it_crosses() {
        let boxes: Vec<PixelRect> = PixelRect::along((0, 0), (40, 30)).collect();
        assert_eq!(boxes.first(), Some(&PixelRect::around((0, 0), 1)));
        assert_eq!(boxes.last(), Some(&PixelRect::around((40, 30), 1)));
        assert!(boxes.len() >= 50 / 4);
        assert!(
            boxes
                .iter()
                .all(|rect| rect.overlap(&PixelRect::around((40, 0), 5)) == 0)
        );
    }
}
