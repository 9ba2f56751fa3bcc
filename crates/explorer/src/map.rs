//! A 2-D map of a neuron's embeddings: their first two principal components, so the page can
//! show how its top examples spread and where its feature clusters lie.
use nalgebra::{DMatrix, SymmetricEigen};
use ndarray::{Array1, Array2, ArrayView2, Axis};

/// Off-diagonal entries below this share of their diagonal neighbours count as converged. Far
/// finer than a plot can show, and about half the solver's time at its default (machine
/// epsilon) on the MLP's 200 x 200 Gram matrices.
const EIGEN_TOLERANCE: f64 = 1e-10;

/// The first two principal components of a set of embeddings.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddingMap {
    /// One (x, y) per embedding, in the order given.
    pub points: Vec<[f32; 2]>,
    /// Share of the total variance along each axis.
    pub explained: [f32; 2],
}

/// Projects the rows of `embeddings` onto their first two principal components. Each row is
/// first scaled to unit length (the clusters and distances only see directions; a zero row stays
/// zero), then the mean row is subtracted. The eigenproblem is solved on the smaller of the
/// n x n Gram matrix and the d x d scatter matrix, with nalgebra's symmetric eigensolver. Each
/// axis's sign is fixed so that its largest-magnitude coordinate (the first on a tie) is
/// positive, so the same input always draws the same picture. With fewer than two rows, or no
/// spread along an axis, that axis is all zeros.
pub fn embedding_map(embeddings: ArrayView2<f32>) -> EmbeddingMap {
    let n = embeddings.nrows();
    let mut x: Array2<f64> = embeddings.mapv(f64::from);
    for mut row in x.rows_mut() {
        let norm = row.dot(&row).sqrt();
        if norm > 0.0 {
            row /= norm;
        }
    }
    if let Some(mean) = x.mean_axis(Axis(0)) {
        x -= &mean;
    }
    let total: f64 = x.iter().map(|v| v * v).sum();
    let mut axes = [Array1::<f64>::zeros(n), Array1::<f64>::zeros(n)];
    let mut explained = [0.0f32; 2];
    if n >= 2 && total > 0.0 {
        // Scores along component k: u_k sqrt(λ_k) from the Gram matrix, X v_k from the scatter.
        let small_gram = n <= x.ncols();
        let symmetric = if small_gram {
            ne_embed::gram(x.view())
        } else {
            x.t().dot(&x)
        };
        let size = symmetric.nrows();
        // Symmetric, so its row-major values are also its column-major ones.
        let matrix = DMatrix::from_iterator(size, size, symmetric.iter().copied());
        // No iteration limit (0), so the solver always returns.
        let eigen = SymmetricEigen::try_new(matrix.clone(), EIGEN_TOLERANCE, 0)
            .unwrap_or_else(|| SymmetricEigen::new(matrix));
        let mut order: Vec<usize> = (0..size).collect();
        order.sort_by(|&a, &b| {
            eigen.eigenvalues[b]
                .total_cmp(&eigen.eigenvalues[a])
                .then(a.cmp(&b))
        });
        for (axis, &component) in order.iter().take(2).enumerate() {
            let value = eigen.eigenvalues[component];
            // Components at rounding-noise level are no direction at all.
            if value <= total * 1e-12 {
                continue;
            }
            let vector = Array1::from_iter(eigen.eigenvectors.column(component).iter().copied());
            let mut scores = if small_gram {
                vector * value.sqrt()
            } else {
                x.dot(&vector)
            };
            let largest = scores
                .iter()
                .fold(0.0f64, |m, &s| if s.abs() > m.abs() { s } else { m });
            if largest < 0.0 {
                scores.mapv_inplace(|s| -s);
            }
            axes[axis] = scores;
            explained[axis] = (value / total) as f32;
        }
    }
    EmbeddingMap {
        points: (0..n)
            .map(|i| [axes[0][i] as f32, axes[1][i] as f32])
            .collect(),
        explained,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, array};

    /// Rows at the given angles in the plane spanned by two of `d` dimensions, lengths varied.
    fn planar(degrees: &[f32], d: usize) -> Array2<f32> {
        Array2::from_shape_fn((degrees.len(), d), |(i, k)| {
            let (sin, cos) = degrees[i].to_radians().sin_cos();
            let length = 1.0 + i as f32;
            match k {
                1 => length * cos,
                3 => length * sin,
                _ => 0.0,
            }
        })
    }

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-5
    }

    #[test]
    fn three_directions_map_onto_their_principal_axes() {
        // Unit directions (1, 0), (0, 1), (-1, 0) in the plane, minus their mean (0, 1/3).
        let rows = planar(&[0.0, 90.0, 180.0], 5);
        let map = embedding_map(rows.view());
        // Variance: x spread 1, 0, -1 (sum of squares 2); y spread -1/3, 2/3, -1/3 (2/3).
        assert!(
            close(map.explained[0], 0.75) && close(map.explained[1], 0.25),
            "{map:?}"
        );
        let xs: Vec<f32> = map.points.iter().map(|p| p[0]).collect();
        let ys: Vec<f32> = map.points.iter().map(|p| p[1]).collect();
        // First axis ±(1, 0, -1): its largest magnitude (the first) made positive.
        assert!(
            close(xs[0], 1.0) && close(xs[1], 0.0) && close(xs[2], -1.0),
            "{xs:?}"
        );
        // Second axis: the middle point is the largest, positive.
        assert!(
            close(ys[1], 2.0 / 3.0) && close(ys[0], -1.0 / 3.0),
            "{ys:?}"
        );
    }

    #[test]
    fn gram_and_scatter_routes_agree() {
        // Eight rows in 3 dimensions take the scatter route; the same rows padded to 12
        // dimensions take the Gram route. Same directions, so the same map.
        let rows = array![
            [1.0f32, 0.2, 0.0],
            [0.9, 0.5, 0.1],
            [0.1, 1.0, 0.3],
            [0.0, 0.8, 0.9],
            [0.5, 0.5, 0.5],
            [0.3, 0.0, 1.0],
            [2.0, 0.1, 0.1],
            [0.2, 0.3, 0.0],
        ];
        let padded =
            Array2::from_shape_fn((8, 12), |(i, k)| if k < 3 { rows[[i, k]] } else { 0.0 });
        let (a, b) = (embedding_map(rows.view()), embedding_map(padded.view()));
        for (p, q) in a.points.iter().zip(&b.points) {
            assert!(close(p[0], q[0]) && close(p[1], q[1]), "{a:?} vs {b:?}");
        }
        assert!(close(a.explained[0], b.explained[0]) && close(a.explained[1], b.explained[1]));
        assert!(a.explained[0] >= a.explained[1] && a.explained[0] + a.explained[1] <= 1.0 + 1e-6);
    }

    #[test]
    fn lengths_do_not_matter_and_degenerate_sets_map_to_zero() {
        let short = planar(&[10.0, 50.0, 130.0], 4);
        let long = short.mapv(|v| 7.0 * v);
        let (a, b) = (embedding_map(short.view()), embedding_map(long.view()));
        for (p, q) in a.points.iter().zip(&b.points) {
            assert!(close(p[0], q[0]) && close(p[1], q[1]), "{a:?} vs {b:?}");
        }
        let one = embedding_map(short.slice(ndarray::s![..1, ..]));
        assert_eq!(one.points, vec![[0.0, 0.0]]);
        let same = embedding_map(planar(&[30.0, 30.0], 4).view());
        assert_eq!(same.points, vec![[0.0, 0.0]; 2]);
        assert_eq!(same.explained, [0.0, 0.0]);
        assert!(
            embedding_map(Array2::zeros((0, 3)).view())
                .points
                .is_empty()
        );
    }
}
