//! `write_explorer` end to end without a browser: the files it writes, the numbers in them
//! checked against the models, bad input refused, and the same bytes whatever the thread count.
mod common;

use common::{
    CLUSTER_EXAMPLES, DISTANCE_CAP, Fixture, HIDDEN, LATENTS, TEST_IMAGES, read_page_data,
};
use ndarray::Array1;
use ne_explorer::{CLUSTERS_SHOWN, ExplorerError, ExplorerInput, SaeInput, write_explorer};
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
            "explorer.css",
            "explorer.js",
            "index.html",
            "pixels.js"
        ],
        "exactly the page's files, no temporary leftovers"
    );

    let pixels = std::fs::read_to_string(site.join("pixels.js")).unwrap();
    let pixels = pixels
        .strip_prefix("window.NE_PIXELS = ")
        .and_then(|p| p.strip_suffix(";\n"))
        .unwrap();
    let pixels = decode(&Value::String(pixels.trim_matches('"').to_owned()));
    assert_eq!(
        pixels,
        fixture.test.pixels.iter().copied().collect::<Vec<u8>>()
    );

    let data = read_page_data(&site);
    assert_eq!(data["test_count"], TEST_IMAGES);
    assert_eq!(decode(&data["labels"]), fixture.test.labels.to_vec());
    assert_eq!(data["metrics"], fixture.metrics);
    assert_eq!(data["paper"]["ne"]["size"], 32.0);
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
        let top: Vec<usize> = neuron["top"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
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
        let zero_share = neuron["zero_share"].as_f64().unwrap();
        assert!((zero_share - (TEST_IMAGES - active) as f64 / TEST_IMAGES as f64).abs() < 1e-3);
        let clusters = neuron["clusters"].as_array().unwrap();
        let count = neuron["cluster_count"].as_u64().unwrap() as usize;
        assert_eq!(clusters.len(), count.min(CLUSTERS_SHOWN));
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
        }
        assert_eq!(
            count > 0,
            active > 0,
            "a neuron has clusters exactly when it fires"
        );
        if count > 0 {
            let all: usize = sizes.iter().sum();
            assert!(
                count > CLUSTERS_SHOWN || all == top.len(),
                "the shown clusters cover the list"
            );
        }
    }
    assert!(
        capped > 0,
        "some latent has more activating images than the cap"
    );
    assert_eq!(ne["neurons"][0]["train_firing"], 0, "latent 0 is dead");
    assert_eq!(ne["neurons"][0]["cluster_count"], 0);
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
        std::fs::read(site.join("data.js")).unwrap()
    };
    assert!(
        write_with(1) == write_with(3),
        "data.js differs between 1 and 3 threads"
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
        sae,
        train_firing: &fixture.ne_firing,
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
