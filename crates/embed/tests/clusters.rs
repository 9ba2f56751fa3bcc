//! Feature clusters on hand-made embeddings.
use ndarray::{Array2, array};
use ne_embed::{Cluster, cluster_separation, cosine_similarity_matrix, feature_clusters};

fn members(clusters: &[Cluster]) -> Vec<Vec<usize>> {
    clusters.iter().map(|c| c.members.clone()).collect()
}

#[test]
fn two_tight_groups_far_apart_give_two_clusters() {
    // Group A around x (rows 0, 2, 4; row 4 lies between the others), group B around z (1, 3).
    let rows = array![
        [1.0f32, 0.1, 0.0],
        [0.0, 0.0, 1.0],
        [1.0, -0.1, 0.0],
        [0.0, 0.1, 1.0],
        [1.0, 0.0, 0.0],
    ];
    let clusters = feature_clusters(rows.view(), 0.9);
    assert_eq!(members(&clusters), vec![vec![0, 2, 4], vec![1, 3]]);
    assert_eq!(clusters[0].central, 4);
    // B's two members are equally central: the lower index wins.
    assert_eq!(clusters[1].central, 1);

    // A: cos(x, x ± 0.1y) = 1/sqrt(1.01); cos(x + 0.1y, x - 0.1y) = 0.99/1.01.
    let near = 1.0 - 1.0 / 1.01f64.sqrt();
    let far = 1.0 - 0.99 / 1.01;
    assert!((f64::from(clusters[0].max_dist) - far).abs() < 1e-6);
    assert!((f64::from(clusters[0].mean_dist) - (2.0 * near + far) / 3.0).abs() < 1e-6);
}

#[test]
fn clusters_are_connected_components_not_cliques() {
    // Directions at 0, 20 and 40 degrees: neighbours have cos 0.94 > 0.9, the ends 0.77.
    let degrees = |d: f32| [d.to_radians().cos(), d.to_radians().sin()];
    let rows = array![degrees(40.0), degrees(0.0), degrees(20.0)];
    let clusters = feature_clusters(rows.view(), 0.9);
    assert_eq!(members(&clusters), vec![vec![0, 1, 2]]);
    assert_eq!(clusters[0].central, 2);
    assert!((f64::from(clusters[0].max_dist) - (1.0 - 40f64.to_radians().cos())).abs() < 1e-6);
}

#[test]
fn an_edge_needs_similarity_strictly_above_the_threshold() {
    let rows = array![[1.0f32, 0.0], [3.0, 4.0]];
    assert_eq!(cosine_similarity_matrix(rows.view())[[0, 1]], 0.6);
    assert_eq!(
        members(&feature_clusters(rows.view(), 0.6)),
        vec![vec![0], vec![1]]
    );
    let joined = feature_clusters(rows.view(), 0.599);
    assert_eq!(members(&joined), vec![vec![0, 1]]);
    assert!((joined[0].max_dist - 0.4).abs() < 1e-7);
}

#[test]
fn zero_embeddings_join_nothing_above_a_positive_threshold() {
    let rows = array![[0.0f32, 0.0], [0.0, 0.0], [1.0, 0.0]];
    let apart = feature_clusters(rows.view(), 0.9);
    assert_eq!(members(&apart), vec![vec![0], vec![1], vec![2]]);
    assert!(
        apart
            .iter()
            .all(|c| c.max_dist == 0.0 && c.mean_dist == 0.0)
    );
    // Similarity 0 is above a negative threshold, so then everything is connected.
    assert_eq!(
        members(&feature_clusters(rows.view(), -0.5)),
        vec![vec![0, 1, 2]]
    );
}

#[test]
fn single_and_no_examples() {
    let single = feature_clusters(array![[0.5f32, -2.0]].view(), 0.9);
    assert_eq!(
        single,
        vec![Cluster {
            members: vec![0],
            central: 0,
            max_dist: 0.0,
            mean_dist: 0.0
        }]
    );
    assert!(feature_clusters(Array2::<f32>::zeros((0, 4)).view(), 0.9).is_empty());
}

#[test]
fn larger_clusters_first_then_smaller_first_member() {
    // Pairs {1, 4} and {2, 3} and the singleton {0}: sizes 2, 2, 1.
    let rows = array![
        [1.0f32, 0.0, 0.0],
        [0.0, 1.0, 0.0],
        [0.0, 0.0, 1.0],
        [0.0, 0.0, 2.0],
        [0.0, 3.0, 0.0],
    ];
    let clusters = feature_clusters(rows.view(), 0.9);
    assert_eq!(members(&clusters), vec![vec![1, 4], vec![2, 3], vec![0]]);
    assert_eq!(clusters[2].central, 0);
}

#[test]
fn separation_pools_pairs_within_clusters_and_compares_centroid_directions() {
    // Cluster A: rows 0, 1, 2 around x, at 0 and ±10 degrees; cluster B: rows 3, 4 around y,
    // at 90 ± 5 degrees, the second one three times as long (a centroid averages directions,
    // so its length does not matter). Threshold 0.95: 10 degrees apart is cos 0.985.
    let at = |d: f32, r: f32| [r * d.to_radians().cos(), r * d.to_radians().sin()];
    let rows = array![
        at(0.0, 1.0),
        at(10.0, 1.0),
        at(-10.0, 1.0),
        at(85.0, 1.0),
        at(95.0, 3.0)
    ];
    let clusters = feature_clusters(rows.view(), 0.95);
    assert_eq!(members(&clusters), vec![vec![0, 1, 2], vec![3, 4]]);
    let separation = cluster_separation(rows.view(), &clusters);
    let distance = |degrees: f64| 1.0 - degrees.to_radians().cos();
    // Pairs in A: 10, 10 and 20 degrees; in B: 10 degrees. Four pairs pooled.
    let intra = (3.0 * distance(10.0) + distance(20.0)) / 4.0;
    assert!(
        (f64::from(separation.intra.unwrap()) - intra).abs() < 1e-6,
        "{separation:?}"
    );
    // Centroid directions: 0 and 90 degrees exactly.
    assert!(
        (f64::from(separation.inter.unwrap()) - 1.0).abs() < 1e-6,
        "{separation:?}"
    );

    // One cluster: no centroid pair. Only singletons: no pair within a cluster.
    let one = feature_clusters(rows.slice(ndarray::s![..3, ..]), 0.95);
    let alone = cluster_separation(rows.view(), &one);
    assert_eq!(alone.inter, None);
    assert!(alone.intra.is_some());
    let singletons = feature_clusters(rows.view(), 0.9999);
    assert_eq!(singletons.len(), 5);
    let apart = cluster_separation(rows.view(), &singletons);
    assert_eq!(apart.intra, None);
    assert!(apart.inter.unwrap() > 0.0);
    assert_eq!(
        cluster_separation(rows.view(), &[]),
        ne_embed::ClusterSeparation {
            intra: None,
            inter: None
        }
    );
}
