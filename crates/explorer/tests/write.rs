//! `write_explorer` end to end without a browser: the files it writes, the numbers in them
//! checked against the models, bad input refused, and the same bytes whatever the thread count.
mod common;

use common::{
    CLUSTER_EXAMPLES, DISTANCE_CAP, Fixture, HIDDEN, LATENTS, TEST_IMAGES, read_page_data,
};
use ndarray::Array1;
use ndarray::{Array2, ArrayView2, Axis};
use ne_explorer::{
    BAND_EXAMPLES, BANDS, CLUSTERS_SHOWN, ExplorerError, ExplorerInput, HISTOGRAM_BINS,
    NEAREST_LINKED, OVERLAP_EXAMPLES, SaeInput, WEIGHT_LINKED, write_explorer,
};
use serde_json::Value;
use std::path::Path;

fn floats(value: &Value) -> Vec<f32> {
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| v.as_f64().expect("a number") as f32)
        .collect()
}

fn decode(text: &Value) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text.as_str().expect("a base64 string"))
        .expect("valid base64")
}

fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn writes_the_page_and_data_that_match_the_models() {
    let fixture = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("explorer");
    let index = fixture
        .with_input(|input| write_explorer(&site, input))
        .unwrap();
    assert_eq!(index, site.join("index.html"));
    assert_eq!(
        file_names(&site),
        [
            "data.js",
            "explorer-core.js",
            "explorer-draw.js",
            "explorer-input.js",
            "explorer-start.js",
            "explorer-unit.js",
            "explorer.css",
            "explorer.js",
            "index.html",
            "pixels.js"
        ],
        "exactly the page's files, no temporary leftovers"
    );

    // The test images: gzip, then base64.
    let pixels = std::fs::read_to_string(site.join("pixels.js")).unwrap();
    let pixels = pixels
        .strip_prefix("window.NE_PIXELS_GZIP = ")
        .and_then(|p| p.strip_suffix(";\n"))
        .unwrap();
    let gzipped = decode(&Value::String(pixels.trim_matches('"').to_owned()));
    let mut inflated = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(gzipped.as_slice()),
        &mut inflated,
    )
    .expect("valid gzip");
    assert_eq!(
        inflated,
        fixture.test.pixels.iter().copied().collect::<Vec<u8>>()
    );
    assert!(gzipped.len() < inflated.len() / 2, "the images compress");

    let data = read_page_data(&site);
    assert_eq!(data["test_count"], TEST_IMAGES);
    assert_eq!(data["clusters_shown"], CLUSTERS_SHOWN);
    assert_eq!(decode(&data["labels"]), fixture.test.labels.to_vec());
    assert_eq!(data["metrics"], fixture.metrics);
    assert_eq!(data["paper"], fixture.paper);
    let layers = data["layers"].as_array().unwrap();
    let keys: Vec<&str> = layers.iter().map(|l| l["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["mlp", "standard", "ne"]);
    let counts: Vec<usize> = layers
        .iter()
        .map(|l| l["neurons"].as_array().unwrap().len())
        .collect();
    assert_eq!(counts, [HIDDEN, LATENTS, LATENTS]);

    // MLP neuron 3: weight map = fc1 row 3 within half a quantisation step, logits = fc2 column 3.
    let mlp = &layers[0];
    let scale = floats(&mlp["weight_scales"])[3];
    let bytes = decode(&mlp["weights"]);
    let row = fixture.mlp.fc1.weight.row(3);
    for (p, &w) in row.iter().enumerate() {
        let back = f32::from(bytes[3 * 784 + p] as i8) * scale;
        assert!(
            (back - w).abs() <= scale / 2.0 + 1e-6,
            "pixel {p}: {back} vs {w}"
        );
    }
    let logits = floats(&mlp["neurons"][3]["logits"]);
    assert_eq!(
        logits,
        fixture.mlp.fc2.weight.column(3).to_vec(),
        "1 and -0.2 survive rounding"
    );

    // NE latent 5: the pulled-back weight map and the logit effect through the decoder.
    let ne = &layers[2];
    let pulled = fixture.ne.w_enc.row(5).dot(&fixture.mlp.fc1.weight);
    let scale = floats(&ne["weight_scales"])[5];
    let bytes = decode(&ne["weights"]);
    assert!((scale * 127.0 - pulled.iter().fold(0.0f32, |m, v| m.max(v.abs()))).abs() < 1e-5);
    for (p, &w) in pulled.iter().enumerate() {
        let back = f32::from(bytes[5 * 784 + p] as i8) * scale;
        assert!((back - w).abs() <= scale / 2.0 + 1e-6);
    }
    let expected = fixture.mlp.fc2.weight.dot(&fixture.ne.w_dec.column(5));
    let logits = Array1::from(floats(&ne["neurons"][5]["logits"]));
    assert_eq!(logits.len(), 10);
    for (got, want) in logits.iter().zip(&expected) {
        assert!(
            (got - want).abs() <= 1e-3 * want.abs().max(1e-2),
            "{logits} vs {expected}"
        );
    }

    // Every neuron: its top list holds the strongest activations, strongest first; clusters
    // point into it, largest first; sizes count every activating image.
    let hidden = fixture.mlp.hidden(fixture.test.images.view());
    let ne_acts = fixture.ne.encode(hidden.view());
    // Distances are the metrics crate's, over the run's cap of activating examples.
    assert_eq!(data["distance_cap"], DISTANCE_CAP);
    let centred = &hidden - &fixture.ne.b_dec;
    let stats = ne_metrics::neuron_stats(
        fixture.ne.w_enc.view(),
        centred.view(),
        ne_acts.view(),
        DISTANCE_CAP,
    );
    let mut capped = 0;
    for (j, neuron) in ne["neurons"].as_array().unwrap().iter().enumerate() {
        let column = ne_acts.column(j);
        let top = indices(&neuron["top"]);
        let active = column.iter().filter(|&&a| a > 0.0).count();
        assert_eq!(neuron["size"], active);
        for (key, want) in [
            ("max_dist", stats[j].max_dist),
            ("mean_dist", stats[j].mean_dist),
        ] {
            match want {
                Some(want) => {
                    let got = neuron[key].as_f64().unwrap() as f32;
                    assert!((got - want).abs() <= 1e-3 * want.abs() + 1e-6, "{key} {j}");
                }
                None => assert!(neuron[key].is_null(), "{key} {j}"),
            }
        }
        capped += usize::from(active > DISTANCE_CAP);
        assert_eq!(top.len(), active.min(CLUSTER_EXAMPLES));
        assert!(top.windows(2).all(|w| column[w[0]] >= column[w[1]]));
        if let Some(&weakest) = top.last() {
            let stronger = column.iter().filter(|&&a| a > column[weakest]).count();
            assert!(
                stronger < top.len(),
                "no image outside the list beats its weakest"
            );
        }
        let clusters = neuron["clusters"].as_array().unwrap();
        let count = neuron["cluster_count"].as_u64().unwrap() as usize;
        assert_eq!(clusters.len(), count, "every cluster is shipped");
        let activations = floats(&neuron["top_activations"]);
        assert_eq!(
            activations.len(),
            top.len(),
            "an activation for every top example"
        );
        for (&i, &a) in top.iter().zip(&activations) {
            assert!(
                (a - column[i]).abs() <= 1e-3 * column[i],
                "latent {j} example {i}"
            );
        }
        let sizes: Vec<usize> = clusters
            .iter()
            .map(|c| c["members"].as_array().unwrap().len())
            .collect();
        assert!(
            sizes.windows(2).all(|w| w[0] >= w[1]),
            "largest first: {sizes:?}"
        );
        for cluster in clusters {
            let members = cluster["members"].as_array().unwrap();
            assert!(
                members
                    .iter()
                    .all(|m| (m.as_u64().unwrap() as usize) < top.len())
            );
            assert!(members.contains(&cluster["central"]));
            assert_eq!(
                cluster.get("mean_dist").is_some(),
                members.len() > 1,
                "distances exactly where there are pairs"
            );
        }
        assert_eq!(
            count > 0,
            active > 0,
            "a neuron has clusters exactly when it fires"
        );
        let all: usize = sizes.iter().sum();
        assert_eq!(all, top.len(), "the clusters cover the list");
    }
    assert!(
        capped > 0,
        "some latent has more activating images than the cap"
    );
    assert_eq!(ne["neurons"][0]["train_firing"], 0, "latent 0 is dead");
    assert_eq!(ne["neurons"][0]["cluster_count"], 0);
}

/// A JSON array of indices.
fn indices(value: &Value) -> Vec<usize> {
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| v.as_u64().expect("an index") as usize)
        .collect()
}

/// MLP neuron `k`'s embeddings of the given test images.
fn mlp_embeddings(fixture: &Fixture, k: usize, images: &[usize]) -> Array2<f32> {
    ne_embed::embeddings(
        fixture.mlp.fc1.weight.row(k),
        fixture.test.images.select(Axis(0), images).view(),
    )
}

/// A tensor shipped as base64 little-endian f32, with its shape.
fn tensor(value: &Value) -> (Vec<usize>, Vec<f32>) {
    let shape = value["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let bytes = decode(&value["f32le"]);
    let values = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    (shape, values)
}

/// The units of the link group of `neuron` with this relation and layer.
fn linked(neuron: &Value, relation: &str, layer: &str) -> Vec<(usize, f32)> {
    let group = neuron["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["relation"] == relation && g["layer"] == layer)
        .unwrap_or_else(|| panic!("no {relation} group for {layer}"));
    group["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u[0].as_u64().unwrap() as usize,
                u[1].as_f64().unwrap() as f32,
            )
        })
        .collect()
}

/// The `count` indices with the largest `score`, largest first, lower index on ties.
fn brute_top(scores: &[f32], count: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    order.truncate(count);
    order
}

fn assert_units(got: &[(usize, f32)], indices: &[usize], values: &[f32], what: &str) {
    assert_eq!(
        got.iter().map(|u| u.0).collect::<Vec<_>>(),
        indices,
        "{what}"
    );
    for (&(_, v), &i) in got.iter().zip(indices) {
        assert!(
            (v - values[i]).abs() <= 1e-3 * values[i].abs() + 1e-6,
            "{what}: {v}"
        );
    }
}

/// Top `OVERLAP_EXAMPLES` activating examples of each column of `acts`, as sorted sets.
fn top_sets(acts: ArrayView2<f32>) -> Vec<Vec<usize>> {
    acts.columns()
        .into_iter()
        .map(|column| {
            let mut active: Vec<usize> = (0..column.len()).filter(|&i| column[i] > 0.0).collect();
            active.sort_by(|&a, &b| column[b].total_cmp(&column[a]).then(a.cmp(&b)));
            active.truncate(OVERLAP_EXAMPLES);
            active.sort_unstable();
            active
        })
        .collect()
}

/// The page data of the fixture's explorer, written to a temporary folder.
fn written_page_data(fixture: &Fixture) -> Value {
    let dir = tempfile::tempdir().unwrap();
    fixture
        .with_input(|input| write_explorer(dir.path(), input))
        .unwrap();
    read_page_data(dir.path())
}

#[test]
fn parameters_links_and_maps_match_the_models() {
    let fixture = Fixture::new();
    let data = written_page_data(&fixture);
    let layers = data["layers"].as_array().unwrap();

    // Parameters travel bit for bit, for the page's own forward pass.
    let (shape, fc1) = tensor(&data["mlp"]["fc1_weight"]);
    assert_eq!(shape, [HIDDEN, 784]);
    assert_eq!(
        fc1,
        fixture.mlp.fc1.weight.iter().copied().collect::<Vec<_>>()
    );
    assert_eq!(
        tensor(&data["mlp"]["fc2_bias"]).1,
        fixture.mlp.fc2.bias.to_vec()
    );
    let (shape, w_dec) = tensor(&layers[2]["sae"]["w_dec"]);
    assert_eq!(shape, [HIDDEN, LATENTS]);
    assert_eq!(w_dec, fixture.ne.w_dec.iter().copied().collect::<Vec<_>>());
    assert_eq!(
        tensor(&layers[1]["sae"]["b_enc"]).1,
        fixture.standard.b_enc.to_vec()
    );
    assert!(layers[0]["sae"].is_null());

    // NE latent 5 against the standard SAE, by brute force.
    let j = 5;
    let ne_latent = &layers[2]["neurons"][j];
    let unit = |m: &Array2<f32>, k: usize| {
        let column = m.column(k);
        &column / column.dot(&column).sqrt()
    };
    let cosines: Vec<f32> = (0..LATENTS)
        .map(|k| unit(&fixture.ne.w_dec, j).dot(&unit(&fixture.standard.w_dec, k)))
        .collect();
    let found = linked(ne_latent, "decoder_cosine", "standard");
    assert_units(
        &found,
        &brute_top(&cosines, NEAREST_LINKED),
        &cosines,
        "decoder cosine",
    );

    // Within its own SAE: the other latents, by the same brute force, never itself.
    let own: Vec<f32> = (0..LATENTS)
        .map(|k| {
            let cosine = unit(&fixture.ne.w_dec, j).dot(&unit(&fixture.ne.w_dec, k));
            if k == j { f32::NEG_INFINITY } else { cosine }
        })
        .collect();
    assert_units(
        &linked(ne_latent, "decoder_cosine", "ne"),
        &brute_top(&own, NEAREST_LINKED),
        &own,
        "decoder cosine within its own SAE",
    );

    let hidden = fixture.mlp.hidden(fixture.test.images.view());
    let ne_sets = top_sets(fixture.ne.encode(hidden.view()).view());
    let standard_sets = top_sets(fixture.standard.encode(hidden.view()).view());
    let jaccard: Vec<f32> = standard_sets
        .iter()
        .map(|other| {
            let both = ne_sets[j].iter().filter(|i| other.contains(i)).count();
            let either = ne_sets[j].len() + other.len() - both;
            if both == 0 {
                f32::NAN
            } else {
                both as f32 / either as f32
            }
        })
        .collect();
    let ranked: Vec<f32> = jaccard
        .iter()
        .map(|&v| if v.is_nan() { -1.0 } else { v })
        .collect();
    let found = linked(ne_latent, "example_overlap", "standard");
    assert_eq!(
        found.len(),
        NEAREST_LINKED,
        "latent 5 shares examples with others"
    );
    assert_units(
        &found,
        &brute_top(&ranked, NEAREST_LINKED),
        &jaccard,
        "overlap",
    );

    let magnitudes = |values: Vec<f32>| -> (Vec<usize>, Vec<f32>) {
        let abs: Vec<f32> = values.iter().map(|v| v.abs()).collect();
        (brute_top(&abs, WEIGHT_LINKED), values)
    };
    let (top, values) = magnitudes(fixture.ne.w_enc.row(j).to_vec());
    assert_units(&linked(ne_latent, "reads", "mlp"), &top, &values, "reads");
    let (top, values) = magnitudes(fixture.ne.w_dec.column(j).to_vec());
    assert_units(&linked(ne_latent, "writes", "mlp"), &top, &values, "writes");
    // MLP neuron 3: the standard latents that read and write it most.
    let neuron = &layers[0]["neurons"][3];
    let (top, values) = magnitudes(fixture.standard.w_enc.column(3).to_vec());
    assert_units(
        &linked(neuron, "read_by", "standard"),
        &top,
        &values,
        "read by",
    );
    let (top, values) = magnitudes(fixture.standard.w_dec.row(3).to_vec());
    assert_units(
        &linked(neuron, "written_by", "standard"),
        &top,
        &values,
        "written by",
    );

    // The map of MLP neuron 3: the unit-length embeddings of its top examples, centred, on two
    // uncorrelated axes that carry the shares of variance shipped with them.
    let top = indices(&neuron["top"]);
    let embedded = mlp_embeddings(&fixture, 3, &top).mapv(f64::from);
    let norms = embedded.map_axis(Axis(1), |r| r.dot(&r).sqrt());
    let unit_rows = &embedded / &norms.insert_axis(Axis(1));
    let centred = &unit_rows - &unit_rows.mean_axis(Axis(0)).unwrap();
    let total: f64 = centred.iter().map(|v| v * v).sum();
    let scale = f64::from(neuron["map_scale"].as_f64().unwrap() as f32);
    let bytes = decode(&neuron["map"]);
    assert_eq!(bytes.len(), 2 * top.len());
    let axis = |a: usize| -> Vec<f64> {
        bytes
            .iter()
            .skip(a)
            .step_by(2)
            .map(|&b| f64::from(b as i8) * scale)
            .collect()
    };
    let (x, y) = (axis(0), axis(1));
    let explained = floats(&neuron["map_explained"]);
    let sum_sq = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>();
    for (values, share) in [(&x, explained[0]), (&y, explained[1])] {
        assert!(
            (sum_sq(values) / total - f64::from(share)).abs() < 0.02,
            "{} vs {share}",
            sum_sq(values) / total
        );
    }
    assert!(explained[0] >= explained[1] && explained[0] + explained[1] <= 1.0);
    let cross: f64 = x.iter().zip(&y).map(|(a, b)| a * b).sum();
    assert!(
        cross.abs() < 0.02 * (sum_sq(&x) * sum_sq(&y)).sqrt(),
        "the axes are uncorrelated"
    );
    assert!(x.iter().sum::<f64>().abs() < 0.02 * sum_sq(&x).sqrt() * (x.len() as f64).sqrt());

    // Intra- and inter-cluster distance, as ne-embed measures them on the same examples, for a
    // neuron with both: a cluster of two or more, and two or more clusters.
    let k = (0..HIDDEN)
        .find(|&k| {
            let n = &layers[0]["neurons"][k];
            !n["intra_dist"].is_null() && !n["inter_dist"].is_null()
        })
        .expect("some neuron has both distances");
    let neuron = &layers[0]["neurons"][k];
    let embedded = mlp_embeddings(&fixture, k, &indices(&neuron["top"]));
    let clusters = ne_embed::feature_clusters(embedded.view(), 0.9);
    assert_eq!(neuron["cluster_count"], clusters.len());
    let separation = ne_embed::cluster_separation(embedded.view(), &clusters);
    for (key, want) in [
        ("intra_dist", separation.intra),
        ("inter_dist", separation.inter),
    ] {
        let want = want.unwrap();
        let got = neuron[key].as_f64().unwrap() as f32;
        assert!((got - want).abs() <= 1e-3 * want, "{key}: {got} vs {want}");
    }
}

#[test]
fn bands_histogram_and_top_digit_match_the_activations() {
    let fixture = Fixture::new();
    let data = written_page_data(&fixture);
    let hidden = fixture.mlp.hidden(fixture.test.images.view());
    let acts = fixture.standard.encode(hidden.view());
    let mut checked = 0;
    for (j, neuron) in data["layers"][1]["neurons"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let column = acts.column(j);
        let mut active: Vec<(usize, f32)> = column
            .iter()
            .copied()
            .enumerate()
            .filter(|&(_, a)| a > 0.0)
            .collect();
        active.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let histogram: Vec<u64> = neuron["histogram"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        let bands = neuron["bands"].as_array().unwrap();
        if active.is_empty() {
            assert!(histogram.is_empty() && bands.is_empty());
            assert!(neuron["top_digit"].is_null());
            continue;
        }
        checked += 1;
        assert_eq!(histogram.len(), HISTOGRAM_BINS);
        assert_eq!(histogram.iter().sum::<u64>(), active.len() as u64);
        // The strongest activation is in the last bin, the weakest in the bin its value says.
        assert!(*histogram.last().unwrap() >= 1);
        let weakest = active.last().unwrap().1 / active[0].1;
        let bin = ((weakest * HISTOGRAM_BINS as f32).ceil() as usize).clamp(1, HISTOGRAM_BINS);
        assert!(histogram[bin - 1] >= 1, "the weakest activation's bin");
        assert_eq!(bands.len(), BANDS);
        let n = active.len();
        for (b, band) in bands.iter().enumerate() {
            let examples = indices(&band["examples"]);
            let ranks = &active[b * n / BANDS..(b + 1) * n / BANDS];
            assert_eq!(examples.len(), BAND_EXAMPLES.min(ranks.len()));
            for (i, a) in examples.iter().zip(floats(&band["activations"])) {
                let at = ranks
                    .iter()
                    .find(|r| r.0 == *i)
                    .expect("an example of its band");
                assert!((at.1 - a).abs() <= 1e-3 * at.1, "its activation");
            }
        }
        let mut sums = [0.0f64; 10];
        for &(i, a) in &active {
            sums[usize::from(fixture.test.labels[i])] += f64::from(a);
        }
        let best = (0..10).max_by(|&a, &b| sums[a].total_cmp(&sums[b]).then(b.cmp(&a)));
        assert_eq!(
            neuron["top_digit"].as_u64(),
            best.map(|b| b as u64),
            "latent {j}"
        );
    }
    assert!(checked > 10, "most latents fire");
}

#[test]
fn the_same_bytes_whatever_the_thread_count() {
    let fixture = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    let write_with = |threads: usize| {
        let site = dir.path().join(format!("threads-{threads}"));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| fixture.with_input(|input| write_explorer(&site, input)))
            .unwrap();
        ["data.js", "pixels.js"].map(|name| std::fs::read(site.join(name)).unwrap())
    };
    assert!(
        write_with(1) == write_with(3),
        "data.js or pixels.js differs between 1 and 3 threads"
    );
}

#[test]
fn rewriting_replaces_the_files_in_place_and_removes_leftovers() {
    let fixture = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    let first = fixture
        .with_input(|input| write_explorer(dir.path(), input))
        .unwrap();
    let before = std::fs::read(dir.path().join("data.js")).unwrap();
    // What an interrupted write leaves behind, and a file of the user's that only looks alike.
    for leftover in [".pixels.js.4242.tmp", ".index.html.7.tmp"] {
        std::fs::write(dir.path().join(leftover), "half written").unwrap();
    }
    std::fs::write(dir.path().join(".notes.1.tmp"), "not ours").unwrap();
    let second = fixture
        .with_input(|input| write_explorer(dir.path(), &ExplorerInput { seed: 7, ..*input }))
        .unwrap();
    assert_eq!(first, second);
    assert_eq!(
        file_names(dir.path()),
        [
            ".notes.1.tmp",
            "data.js",
            "explorer-core.js",
            "explorer-draw.js",
            "explorer-input.js",
            "explorer-start.js",
            "explorer-unit.js",
            "explorer.css",
            "explorer.js",
            "index.html",
            "pixels.js"
        ],
        "an earlier write's leftovers are gone, other files stay"
    );
    let after = read_page_data(dir.path());
    assert_eq!(after["seed"], 7);
    assert_ne!(before, std::fs::read(dir.path().join("data.js")).unwrap());
}

#[test]
fn bad_input_is_refused_with_a_named_error_and_nothing_written() {
    let fixture = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("never");
    let attempt = |input: &ExplorerInput| -> ExplorerError {
        let error = write_explorer(&site, input).expect_err("bad input is refused");
        assert!(!site.exists(), "nothing is written for bad input");
        error
            .downcast::<ExplorerError>()
            .expect("a typed explorer error")
    };

    let error = fixture.with_input(|input| {
        attempt(&ExplorerInput {
            cluster_threshold: 1.5,
            ..*input
        })
    });
    assert!(
        matches!(error, ExplorerError::Threshold(t) if t == 1.5),
        "{error}"
    );
    let error = fixture.with_input(|input| {
        attempt(&ExplorerInput {
            cluster_threshold: f32::NAN,
            ..*input
        })
    });
    assert!(matches!(error, ExplorerError::Threshold(_)), "{error}");
    let error = fixture.with_input(|input| {
        attempt(&ExplorerInput {
            cluster_examples: 0,
            ..*input
        })
    });
    assert!(matches!(error, ExplorerError::NoClusterExamples), "{error}");
    let short = &fixture.mlp_firing[1..];
    let error = fixture.with_input(|input| {
        attempt(&ExplorerInput {
            mlp_train_firing: short,
            ..*input
        })
    });
    assert!(
        error.to_string().contains("MLP training firing counts"),
        "{error}"
    );

    let mut test = fixture.test.clone();
    test.labels[3] = 12;
    let error = fixture.with_input(|input| {
        attempt(&ExplorerInput {
            test: &test,
            ..*input
        })
    });
    assert!(
        matches!(
            error,
            ExplorerError::Label {
                index: 3,
                label: 12
            }
        ),
        "{error}"
    );

    let mut mlp = fixture.mlp.clone();
    mlp.fc2.weight = ndarray::Array2::zeros((9, HIDDEN));
    let error = fixture.with_input(|input| {
        attempt(&ExplorerInput {
            mlp: &mlp,
            ..*input
        })
    });
    assert!(error.to_string().contains("MLP fc2.weight"), "{error}");

    let mut empty = fixture.ne.clone();
    empty.w_enc = ndarray::Array2::zeros((0, HIDDEN));
    let mut broken = fixture.ne.clone();
    broken.w_enc[[4, 2]] = f32::NAN;
    let sae = |key, sae| SaeInput {
        key,
        title: "t",
        provenance: "p",
        sae,
        train_firing: &fixture.ne_firing,
        proxies: &fixture.ne_proxies,
    };
    for (saes, expected) in [
        (
            vec![sae("ne", &broken)],
            "SAE \"ne\" w_enc contains a non-finite value",
        ),
        (vec![sae("ne", &empty)], "SAE \"ne\" encoder has no neurons"),
        (vec![sae("mlp", &fixture.ne)], "reserved for the MLP"),
        (
            vec![sae("index", &fixture.ne)],
            "reserved for the start page",
        ),
        (
            vec![sae("input", &fixture.ne)],
            "reserved for the input view",
        ),
        (
            vec![sae("ne", &fixture.ne), sae("ne", &fixture.ne)],
            "used by two SAEs",
        ),
        (vec![sae("N E", &fixture.ne)], "lower-case letters"),
    ] {
        let error = fixture.with_input(|input| {
            attempt(&ExplorerInput {
                saes: &saes,
                ..*input
            })
        });
        assert!(
            error.to_string().contains(expected),
            "{error} lacks {expected:?}"
        );
    }
}
