//! Embeddings, cosine distances, the similarity matrix and pairwise distance statistics.
use ndarray::{Array2, array};
use ne_embed::{
    DistanceStats, cosine_distance, cosine_similarity_matrix, embeddings, pairwise_distance_stats,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[test]
fn embeddings_are_hadamard_rows_that_sum_to_the_pre_activation() {
    let weights = array![1.0f32, 2.0, -1.0];
    let inputs = array![[1.0f32, 1.0, 1.0], [0.5, 0.0, 2.0]];
    let rows = embeddings(weights.view(), inputs.view());
    assert_eq!(rows, array![[1.0, 2.0, -1.0], [0.5, 0.0, -2.0]]);
    assert_eq!(rows.sum_axis(ndarray::Axis(1)), inputs.dot(&weights));
}

#[test]
fn cosine_distance_of_identical_orthogonal_and_opposite_vectors() {
    let a = array![0.3f32, -1.7, 2.9];
    assert_eq!(cosine_distance(a.view(), a.view()), 0.0);
    assert!(cosine_distance(a.view(), (&a * 4.0).view()).abs() < 1e-7);
    assert_eq!(
        cosine_distance(array![1.0f32, 0.0].view(), array![0.0f32, 5.0].view()),
        1.0
    );
    assert_eq!(cosine_distance(a.view(), (-&a).view()), 2.0);
    let d = cosine_distance(array![1.0f32, 0.0].view(), array![3.0f32, 4.0].view());
    assert!((d - 0.4).abs() < 1e-7, "{d}");
}

#[test]
fn zero_vectors_have_cosine_zero_so_distance_one() {
    let zero = array![0.0f32, 0.0];
    assert_eq!(
        cosine_distance(zero.view(), array![1.0f32, 2.0].view()),
        1.0
    );
    assert_eq!(cosine_distance(zero.view(), zero.view()), 1.0);
}

#[test]
fn similarity_matrix_by_hand() {
    let rows = array![[1.0f32, 0.0], [3.0, 4.0], [0.0, 0.0], [-2.0, 0.0]];
    let expected = array![
        [1.0f32, 0.6, 0.0, -1.0],
        [0.6, 1.0, 0.0, -0.6],
        [0.0, 0.0, 0.0, 0.0],
        [-1.0, -0.6, 0.0, 1.0]
    ];
    let similarity = cosine_similarity_matrix(rows.view());
    assert!(
        similarity
            .iter()
            .zip(&expected)
            .all(|(s, e)| (s - e).abs() < 1e-7),
        "{similarity}"
    );
    assert_eq!(similarity, similarity.t());
}

#[test]
fn similarity_matrix_agrees_with_cosine_distance() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let rows = Array2::from_shape_simple_fn((9, 6), || rng.random_range(-1.0f32..1.0));
    let similarity = cosine_similarity_matrix(rows.view());
    for i in 0..rows.nrows() {
        for k in 0..rows.nrows() {
            let distance = cosine_distance(rows.row(i), rows.row(k));
            assert!((1.0 - similarity[[i, k]] - distance).abs() < 1e-6);
        }
    }
}

#[test]
fn pairwise_stats_by_hand() {
    // Distances: (0,1) = 1, (0,2) = 2, (1,2) = 1.
    let stats = pairwise_distance_stats(array![[1.0f32, 0.0], [0.0, 1.0], [-1.0, 0.0]].view());
    let DistanceStats { max, mean } = stats.unwrap();
    assert!(
        (max - 2.0).abs() < 1e-7 && (mean - 4.0 / 3.0).abs() < 1e-7,
        "{stats:?}"
    );
    // Distances: (0,1) = 0.4, and 1 to the zero row from both.
    let stats = pairwise_distance_stats(array![[1.0f32, 0.0], [3.0, 4.0], [0.0, 0.0]].view());
    let DistanceStats { max, mean } = stats.unwrap();
    assert!(
        (max - 1.0).abs() < 1e-7 && (mean - 0.8).abs() < 1e-7,
        "{stats:?}"
    );
}

#[test]
fn pairwise_stats_need_two_rows() {
    assert_eq!(
        pairwise_distance_stats(Array2::<f32>::zeros((0, 3)).view()),
        None
    );
    assert_eq!(pairwise_distance_stats(array![[1.0f32, 2.0]].view()), None);
    let identical = pairwise_distance_stats(array![[1.0f32, 2.0], [1.0, 2.0]].view());
    assert_eq!(
        identical,
        Some(DistanceStats {
            max: 0.0,
            mean: 0.0
        })
    );
}

#[test]
fn pairwise_stats_match_a_loop_over_pairs() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let rows = Array2::from_shape_simple_fn((30, 8), || rng.random_range(-1.0f32..1.0));
    let mut distances = Vec::new();
    for i in 0..rows.nrows() {
        for k in i + 1..rows.nrows() {
            distances.push(f64::from(cosine_distance(rows.row(i), rows.row(k))));
        }
    }
    let max = distances.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mean = distances.iter().sum::<f64>() / distances.len() as f64;
    let stats = pairwise_distance_stats(rows.view()).unwrap();
    assert!(
        (f64::from(stats.max) - max).abs() < 1e-6,
        "{stats:?} vs {max}"
    );
    assert!(
        (f64::from(stats.mean) - mean).abs() < 1e-6,
        "{stats:?} vs {mean}"
    );
}

#[test]
fn nan_embedding_is_not_hidden() {
    let stats = pairwise_distance_stats(array![[1.0f32, 0.0], [f32::NAN, 1.0], [0.0, 1.0]].view());
    let stats = stats.unwrap();
    assert!(stats.max.is_nan() && stats.mean.is_nan(), "{stats:?}");
}
