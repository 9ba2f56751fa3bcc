//! Test support: central finite differences in f64 against hand-written f32 gradients.
use crate::rng::{Stream, stream_rng, uniform_f32};
use ndarray::{Array, Dimension, ShapeBuilder};

/// Central differences of `loss` at `point`, one coordinate at a time.
pub(crate) fn numeric_gradient(point: &[f64], eps: f64, loss: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    let mut probe = point.to_vec();
    (0..point.len())
        .map(|i| {
            probe[i] = point[i] + eps;
            let up = loss(&probe);
            probe[i] = point[i] - eps;
            let down = loss(&probe);
            probe[i] = point[i];
            (up - down) / (2.0 * eps)
        })
        .collect()
}

/// Each analytic entry within 1e-4 + 1e-3 |numeric| of the finite difference.
pub(crate) fn assert_gradient_close<'a>(
    what: &str,
    analytic: impl IntoIterator<Item = &'a f32>,
    numeric: &[f64],
) {
    let analytic: Vec<f32> = analytic.into_iter().copied().collect();
    assert_eq!(analytic.len(), numeric.len(), "{what}: length");
    for (i, (&a, &n)) in analytic.iter().zip(numeric).enumerate() {
        let tolerance = 1e-4 + 1e-3 * n.abs();
        assert!(
            (f64::from(a) - n).abs() <= tolerance,
            "{what}[{i}]: analytic {a}, numeric {n}"
        );
    }
    assert!(
        numeric.iter().any(|n| n.abs() > 1e-3),
        "{what}: gradient is trivially zero"
    );
}

/// An array of uniform values in [low, high), reproducible from `seed`.
pub(crate) fn random_array<Sh: ShapeBuilder>(
    seed: u64,
    shape: Sh,
    low: f32,
    high: f32,
) -> Array<f32, Sh::Dim>
where
    Sh::Dim: Dimension,
{
    let mut rng = stream_rng(seed, Stream::MlpInit);
    Array::from_shape_simple_fn(shape, || uniform_f32(&mut rng, low, high))
}

pub(crate) fn to_f64<'a>(values: impl IntoIterator<Item = &'a f32>) -> Vec<f64> {
    values.into_iter().map(|&v| f64::from(v)).collect()
}
