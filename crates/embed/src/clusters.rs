//! Feature clusters: groups of a neuron's activating examples whose embeddings point the same
//! way, i.e. the distinct "reasons" the neuron fires (the explorer shows one per cluster).
use crate::distance::{distance_stats_among, similarity_matrix};
use ndarray::{Array2, ArrayView2};

/// One connected component of the similarity graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// Row indices into the embeddings given, ascending.
    pub members: Vec<usize>,
    /// The member with the highest mean similarity to the rest (lowest index on a tie); a
    /// singleton's only member.
    pub central: usize,
    /// Largest cosine distance between two members (0 for a singleton).
    pub max_dist: f32,
    /// Mean cosine distance over unordered pairs of members (0 for a singleton).
    pub mean_dist: f32,
}

/// Connected components of the graph on the rows with an edge where the cosine similarity is
/// strictly greater than `similarity_threshold` (zero rows have similarity 0 with everything).
/// Largest first; among equal sizes, the one with the smaller first member first.
///
/// Components rather than, say, k-means: the number of clusters is not known in advance and a
/// threshold on similarity is something a reader of the explorer can interpret.
pub fn feature_clusters(embeddings: ArrayView2<f32>, similarity_threshold: f32) -> Vec<Cluster> {
    let similarity = similarity_matrix(embeddings);
    let mut clusters: Vec<Cluster> = components(&similarity, similarity_threshold)
        .into_iter()
        .map(|members| cluster_of(&similarity, members))
        .collect();
    clusters.sort_by(|a, b| {
        b.members
            .len()
            .cmp(&a.members.len())
            .then(a.members[0].cmp(&b.members[0]))
    });
    clusters
}

/// Members of each component, each list ascending. Compared in f32 so that the edges agree
/// exactly with the similarities `cosine_similarity_matrix` reports.
fn components(similarity: &Array2<f64>, threshold: f32) -> Vec<Vec<usize>> {
    let count = similarity.nrows();
    let mut assigned = vec![false; count];
    let mut components = Vec::new();
    let mut frontier = Vec::new();
    for start in 0..count {
        if assigned[start] {
            continue;
        }
        assigned[start] = true;
        frontier.push(start);
        let mut members = Vec::new();
        while let Some(i) = frontier.pop() {
            members.push(i);
            for k in 0..count {
                if !assigned[k] && similarity[[i, k]] as f32 > threshold {
                    assigned[k] = true;
                    frontier.push(k);
                }
            }
        }
        members.sort_unstable();
        components.push(members);
    }
    components
}

fn cluster_of(similarity: &Array2<f64>, members: Vec<usize>) -> Cluster {
    let mut central = members[0];
    let mut best = f64::NEG_INFINITY;
    for &member in &members {
        let score = mean_similarity_to_rest(similarity, &members, member);
        if score > best {
            best = score;
            central = member;
        }
    }
    let stats = distance_stats_among(similarity, &members);
    Cluster {
        central,
        max_dist: stats.map_or(0.0, |s| s.max),
        mean_dist: stats.map_or(0.0, |s| s.mean),
        members,
    }
}

/// Mean similarity of `member` to the other `members` (0 when it has none).
fn mean_similarity_to_rest(similarity: &Array2<f64>, members: &[usize], member: usize) -> f64 {
    if members.len() < 2 {
        return 0.0;
    }
    let total: f64 = members
        .iter()
        .filter(|&&k| k != member)
        .map(|&k| similarity[[member, k]])
        .sum();
    total / (members.len() - 1) as f64
}

/// How tight a neuron's feature clusters are, and how far apart they lie, in cosine distance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClusterSeparation {
    /// Mean distance over every pair of examples that share a cluster (pairs pooled over the
    /// clusters, so a large cluster weighs as many pairs as it has); `None` when no cluster has
    /// two members.
    pub intra: Option<f32>,
    /// Mean distance over pairs of cluster centroids, a centroid being the mean of its members'
    /// unit-length embeddings (its mean direction); `None` with fewer than two clusters.
    pub inter: Option<f32>,
}

/// Intra- and inter-cluster distance of `clusters`, as `feature_clusters` returned them for
/// `embeddings`.
///
/// # Panics
/// If a cluster names a row `embeddings` does not have.
pub fn cluster_separation(embeddings: ArrayView2<f32>, clusters: &[Cluster]) -> ClusterSeparation {
    let pairs = |c: &Cluster| (c.members.len() * c.members.len().saturating_sub(1) / 2) as f64;
    let total_pairs: f64 = clusters.iter().map(pairs).sum();
    let intra = (total_pairs > 0.0).then(|| {
        let sum: f64 = clusters
            .iter()
            .map(|c| f64::from(c.mean_dist) * pairs(c))
            .sum();
        (sum / total_pairs) as f32
    });
    let inter = (clusters.len() >= 2).then(|| {
        let mut centroids = Array2::<f32>::zeros((clusters.len(), embeddings.ncols()));
        for (mut centroid, cluster) in centroids.outer_iter_mut().zip(clusters) {
            for &member in &cluster.members {
                let row = embeddings.row(member);
                let norm = row.dot(&row).sqrt();
                if norm > 0.0 {
                    centroid.scaled_add(1.0 / norm, &row);
                }
            }
            centroid /= cluster.members.len() as f32;
        }
        let all: Vec<usize> = (0..clusters.len()).collect();
        distance_stats_among(&similarity_matrix(centroids.view()), &all)
            .expect("two or more centroids")
            .mean
    });
    ClusterSeparation { intra, inter }
}
