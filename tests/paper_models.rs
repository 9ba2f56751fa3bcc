//! The paper's released models (data/mechmnistic): loading, checksums, and every figure of
//! `paper-models` against a measurement written out here in float64, from weights read
//! straight out of the archives' raw storages (not through the pickle reader).
use neuron_embeddings::experiment::Config;
use neuron_embeddings::experiment::layers::Provenance;
use neuron_embeddings::experiment::paper_models::{
    self, ModelFiles, PaperModelsFile, PaperModelsOptions,
};
use neuron_embeddings::experiment::pipeline::load_data;
use neuron_embeddings::mnist::Mnist;
use rayon::prelude::*;
use std::io::Read;
use std::path::Path;

fn quiet(_: &str) {}

/// Storage `key` of the `.pt` archive at `path`, as float64, read with the zip crate alone.
fn raw_storage(path: &Path, key: usize) -> Vec<f64> {
    let file = std::fs::File::open(path).unwrap();
    let mut archive = zip::ZipArchive::new(file).unwrap();
    let name = archive
        .file_names()
        .find(|n| n.ends_with(&format!("/data/{key}")))
        .unwrap()
        .to_owned();
    let mut bytes = Vec::new();
    archive
        .by_name(&name)
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    bytes
        .chunks_exact(4)
        .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
        .collect()
}

/// A linear layer in float64: `weight` rows x `inputs`, row-major.
struct Layer {
    weight: Vec<f64>,
    bias: Vec<f64>,
    inputs: usize,
}

impl Layer {
    /// Storages `w` and `b` of `path` (torch.save numbers storages in state-dict order).
    fn read(path: &Path, w: usize, b: usize) -> Self {
        let (weight, bias) = (raw_storage(path, w), raw_storage(path, b));
        let inputs = weight.len() / bias.len();
        Self {
            weight,
            bias,
            inputs,
        }
    }

    fn apply(&self, x: &[f64], relu: bool) -> Vec<f64> {
        self.bias
            .iter()
            .enumerate()
            .map(|(o, b)| {
                let row = &self.weight[o * self.inputs..(o + 1) * self.inputs];
                let y = b + row.iter().zip(x).map(|(w, v)| w * v).sum::<f64>();
                if relu { y.max(0.0) } else { y }
            })
            .collect()
    }
}

fn argmax(v: &[f64]) -> usize {
    (0..v.len()).max_by(|&a, &b| v[a].total_cmp(&v[b])).unwrap()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Max and mean over pairs of 1 - cosine similarity (0 similarity for a zero vector).
fn distances(embeddings: &[Vec<f64>]) -> Option<(f64, f64)> {
    let n = embeddings.len();
    if n < 2 {
        return None;
    }
    let norm = |v: &Vec<f64>| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let (mut max, mut sum) = (0f64, 0f64);
    for i in 0..n {
        for k in i + 1..n {
            let (a, b) = (&embeddings[i], &embeddings[k]);
            let (na, nb) = (norm(a), norm(b));
            let cos = if na == 0.0 || nb == 0.0 {
                0.0
            } else {
                (a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>() / (na * nb)).clamp(-1.0, 1.0)
            };
            max = max.max(1.0 - cos);
            sum += 1.0 - cos;
        }
    }
    Some((max, sum / (n * (n - 1) / 2) as f64))
}

/// The figures of one SAE, computed here.
struct Expected {
    mse: f64,
    l1: f64,
    l0_pct: f64,
    acc_loss_pct: f64,
    max_dist: f64,
    mean_dist: f64,
    size: f64,
    dead_pct: f64,
    dead_threshold_pct: f64,
}

fn expected_sae(
    path: &Path,
    classifier: &Layer,
    data: &Mnist,
    train_hidden: &[Vec<f64>],
    test_hidden: &[Vec<f64>],
    config: &Config,
) -> Expected {
    let encoder = Layer::read(path, 0, 1);
    let decoder = Layer::read(path, 2, 3);
    let latents = encoder.bias.len();
    let encode = |h: &Vec<f64>| {
        let centered: Vec<f64> = h.iter().zip(&decoder.bias).map(|(a, b)| a - b).collect();
        (encoder.apply(&centered, true), centered)
    };
    let test: Vec<(Vec<f64>, Vec<f64>)> = test_hidden.par_iter().map(encode).collect();
    let n = test.len() as f64;
    let (mut squared, mut l1, mut active, mut correct, mut correct_recon) = (0.0, 0.0, 0.0, 0, 0);
    for (i, ((f, _), h)) in test.iter().zip(test_hidden).enumerate() {
        let recon = decoder.apply(f, false);
        squared += recon
            .iter()
            .zip(h)
            .map(|(r, x)| (r - x).powi(2))
            .sum::<f64>();
        l1 += f.iter().sum::<f64>();
        active += f.iter().filter(|&&a| a > 0.0).count() as f64;
        let label = usize::from(data.test.labels[i]);
        correct += usize::from(argmax(&classifier.apply(h, false)) == label);
        correct_recon += usize::from(argmax(&classifier.apply(&recon, false)) == label);
    }
    let cap = config.eval.example_cap;
    let per_latent: Vec<(usize, Option<(f64, f64)>)> = (0..latents)
        .into_par_iter()
        .map(|j| {
            let firing: Vec<usize> = (0..test.len()).filter(|&i| test[i].0[j] > 0.0).collect();
            let w = &encoder.weight[j * encoder.inputs..(j + 1) * encoder.inputs];
            let embeddings: Vec<Vec<f64>> = firing
                .iter()
                .take(cap)
                .map(|&i| test[i].1.iter().zip(w).map(|(x, w)| x * w).collect())
                .collect();
            (firing.len(), distances(&embeddings))
        })
        .collect();
    let train_max: Vec<f64> = train_hidden.par_iter().map(|h| encode(h).0).reduce(
        || vec![0.0; latents],
        |a, b| a.iter().zip(&b).map(|(x, y)| x.max(*y)).collect(),
    );
    let pct = |count: usize| 100.0 * count as f64 / latents as f64;
    let tau = f64::from(config.eval.dead_threshold);
    let dists = |pick: fn(&(f64, f64)) -> f64| {
        median(
            per_latent
                .iter()
                .filter_map(|(_, d)| d.as_ref().map(pick))
                .collect(),
        )
    };
    Expected {
        mse: squared / (n * decoder.bias.len() as f64),
        l1: l1 / n,
        l0_pct: 100.0 * active / (n * latents as f64),
        acc_loss_pct: 100.0 * (correct as f64 - correct_recon as f64) / n,
        max_dist: dists(|d| d.0),
        mean_dist: dists(|d| d.1),
        size: median(
            per_latent
                .iter()
                .filter(|(s, _)| *s > 0)
                .map(|(s, _)| *s as f64)
                .collect(),
        ),
        dead_pct: pct(train_max.iter().filter(|&&m| m <= 0.0).count()),
        dead_threshold_pct: pct(train_max.iter().filter(|&&m| m <= tau).count()),
    }
}

/// Asserts `got` is within `tolerance` of `want`, naming the figure.
fn close(name: &str, got: f64, want: f64, tolerance: f64) {
    assert!(
        (got - want).abs() <= tolerance,
        "{name}: measured {got}, float64 gives {want}"
    );
}

#[test]
fn every_figure_agrees_with_an_independent_float64_measurement() {
    let config = neuron_embeddings::paper_config().unwrap();
    let data = load_data(&config.data).unwrap();
    let out = tempfile::tempdir().unwrap();
    let options = PaperModelsOptions {
        files: ModelFiles::shipped(),
        out: out.path().to_owned(),
        reproduction: out.path().join("none"),
        explorer: false,
    };
    paper_models::paper_models(&config, &options, &quiet).unwrap();
    let text = std::fs::read(out.path().join("metrics.json")).unwrap();
    let measured: PaperModelsFile = serde_json::from_slice(&text).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&text).unwrap();
    for key in ["standard", "ne"] {
        for figure in ["mse", "l1", "l0_pct", "acc_loss_pct", "dead_threshold_pct"] {
            assert!(json[key][figure].is_number(), "{key}.{figure}");
        }
    }

    let dir = neuron_embeddings::shipped::paper_models_dir();
    let hidden_layer = Layer::read(&dir.join("model.pt"), 0, 1);
    let classifier = Layer::read(&dir.join("model.pt"), 2, 3);
    let hidden = |images: &ndarray::Array2<f32>| -> Vec<Vec<f64>> {
        images
            .rows()
            .into_iter()
            .collect::<Vec<_>>()
            .par_iter()
            .map(|row| {
                let x: Vec<f64> = row.iter().map(|&v| f64::from(v)).collect();
                hidden_layer.apply(&x, true)
            })
            .collect()
    };
    let (train_hidden, test_hidden) = (hidden(&data.train.images), hidden(&data.test.images));
    let correct = test_hidden
        .iter()
        .zip(&data.test.labels)
        .filter(|(h, label)| argmax(&classifier.apply(h, false)) == usize::from(**label))
        .count();
    // float32 and float64 may part on a near-tie or two.
    close(
        "MLP test accuracy",
        measured.mlp_test_accuracy,
        correct as f64 / test_hidden.len() as f64,
        2e-4,
    );

    for (name, path, got) in [
        ("standard", "sae-standard.pt", &measured.saes["standard"]),
        ("ne", "sae-ne.pt", &measured.saes["ne"]),
    ] {
        let want = expected_sae(
            &dir.join(path),
            &classifier,
            &data,
            &train_hidden,
            &test_hidden,
            &config,
        );
        let figure = |f: &str| format!("{name} {f}");
        close(&figure("mse"), got.mse, want.mse, 1e-5 * want.mse);
        close(&figure("l1"), got.l1, want.l1, 1e-5 * want.l1);
        close(
            &figure("l0_pct"),
            got.l0_pct,
            want.l0_pct,
            1e-3 * want.l0_pct,
        );
        close(
            &figure("acc_loss_pct"),
            got.acc_loss_pct,
            want.acc_loss_pct,
            0.021,
        );
        close(&figure("max_dist"), got.max_dist, want.max_dist, 1e-4);
        close(&figure("mean_dist"), got.mean_dist, want.mean_dist, 1e-4);
        close(&figure("size"), got.size, want.size, 1.0);
        // One latent is 100/512 %; float32 may move one across a boundary.
        let one = 100.0 / 512.0;
        close(&figure("dead_pct"), got.dead_pct, want.dead_pct, one);
        close(
            &figure("dead_threshold_pct"),
            got.dead_threshold_pct,
            want.dead_threshold_pct,
            one,
        );
    }
}

#[test]
fn the_shipped_files_load_with_their_shapes_and_the_pickle_agrees_with_the_raw_storages() {
    let models = paper_models::load(&ModelFiles::shipped()).unwrap();
    assert_eq!(models.mlp.fc1.weight.shape(), [64, 784]);
    assert_eq!(models.mlp.fc2.weight.shape(), [10, 64]);
    let dir = neuron_embeddings::shipped::paper_models_dir();
    let as_f64 = |a: &ndarray::Array2<f32>| a.iter().map(|&v| f64::from(v)).collect::<Vec<_>>();
    assert_eq!(
        as_f64(&models.mlp.fc1.weight),
        raw_storage(&dir.join("model.pt"), 0)
    );
    let keys: Vec<&str> = models.saes.iter().map(|l| l.key.as_str()).collect();
    assert_eq!(keys, ["standard", "ne"]);
    for (layer, file) in models.saes.iter().zip(["sae-standard.pt", "sae-ne.pt"]) {
        let sae = &layer.sae;
        assert!(
            matches!(&layer.provenance, Provenance::Released { file: f } if f.ends_with(file)),
            "{:?}",
            layer.provenance
        );
        assert_eq!(sae.w_enc.shape(), [512, 64]);
        assert_eq!(sae.w_dec.shape(), [64, 512]);
        assert_eq!(as_f64(&sae.w_enc), raw_storage(&dir.join(file), 0));
        assert_eq!(as_f64(&sae.w_dec), raw_storage(&dir.join(file), 2));
        let b_dec: Vec<f64> = sae.b_dec.iter().map(|&v| f64::from(v)).collect();
        assert_eq!(b_dec, raw_storage(&dir.join(file), 3));
    }
}

#[test]
fn a_changed_copy_is_refused_by_its_checksum_and_a_broken_one_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let shipped = ModelFiles::shipped();
    let copy = |from: &Path, name: &str| {
        let to = tmp.path().join(name);
        std::fs::copy(from, &to).unwrap();
        to
    };
    let mut files = ModelFiles {
        mlp: copy(&shipped.mlp, "model.pt"),
        standard: copy(&shipped.standard, "sae-standard.pt"),
        ne: copy(&shipped.ne, "sae-ne.pt"),
        verify: true,
    };
    paper_models::load(&files).unwrap();
    // One bit of one weight, deep inside the archive: still a readable file.
    let mut bytes = std::fs::read(&files.ne).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    std::fs::write(&files.ne, &bytes).unwrap();
    let message = format!("{:#}", paper_models::load(&files).unwrap_err());
    assert!(
        message.contains("SHA-256") && message.contains(&files.ne.display().to_string()),
        "{message}"
    );
    // Without the check (a user's own files), a truncated archive is named in the error.
    files.verify = false;
    std::fs::write(&files.ne, &bytes[..1000]).unwrap();
    let message = format!("{:#}", paper_models::load(&files).unwrap_err());
    assert!(
        message.contains(&files.ne.display().to_string()) && message.contains("zip"),
        "{message}"
    );
}
