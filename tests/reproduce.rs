//! End to end: the real `reproduce` pipeline on a small configuration, checked through the
//! files it leaves, as a user or another tool would read them.
mod common;

use common::small_config;
use neuron_embeddings::experiment::explore::explore_from;
use neuron_embeddings::experiment::pipeline::load_data;
use neuron_embeddings::experiment::{Config, ReproduceOptions, Reproduction, reproduce};
use serde_json::Value;
use std::path::Path;
use std::sync::Mutex;

fn run(config: &Config, out: &Path, resume: bool, explorer: bool) -> (Value, Vec<String>) {
    let lines = Mutex::new(Vec::new());
    let log = |line: &str| lines.lock().unwrap().push(line.to_owned());
    let options = ReproduceOptions {
        seeds: vec![0, 1],
        out: out.to_owned(),
        resume,
        explorer,
        export_activations: false,
        curve: true,
        force: false,
    };
    reproduce(config, &options, &log).expect("the pipeline runs");
    let text = std::fs::read_to_string(out.join("metrics.json")).expect("metrics.json is written");
    (
        serde_json::from_str(&text).expect("metrics.json parses"),
        lines.into_inner().unwrap(),
    )
}

const METRICS: [&str; 11] = [
    "mse",
    "l1",
    "l0_pct",
    "acc_loss_pct",
    "max_dist",
    "mean_dist",
    "size",
    "dead_pct",
    "dead_threshold_pct",
    "dead_training_pct",
    "dead_late_pct",
];

/// Table 4, in the SAE blocks and the MLP block.
const TABLE_4: [&str; 5] = [
    "label_purity",
    "top_label_purity",
    "input_coherence",
    "encoder_participation",
    "table4_units",
];

/// Every (block, key) of a run in `metrics.json`: both SAEs with Tables 2-4, the MLP with Table 4.
fn blocks() -> impl Iterator<Item = (&'static str, &'static str)> {
    let sae_keys = METRICS.iter().chain(&TABLE_4);
    ["standard", "ne"]
        .into_iter()
        .flat_map(move |v| sae_keys.clone().map(move |k| (v, *k)))
        .chain(TABLE_4.iter().map(|k| ("mlp", *k)))
}

/// The Table 4 figures of seed 0 in `metrics.json` come back from its saved model files: the
/// label purity and participation medians recomputed here from first principles, the rest
/// through the library on the reloaded models.
fn table4_is_recomputable_from_the_saved_models(config: &Config, out: &Path, metrics: &Value) {
    use neuron_embeddings::metrics::{EvalSet, Table4, UnitImages, mlp_unit_proxies, unit_proxies};
    use neuron_embeddings::models::{Mlp, Sae};
    let data = load_data(&config.data).unwrap();
    let read = |name: &str| std::fs::read(out.join("seed-0").join(name)).unwrap();
    let mlp = Mlp::from_safetensors(&read("mlp.safetensors")).unwrap();
    let hidden = mlp.hidden(data.test.images.view());
    let images = UnitImages::of(data.test.pixels.view());
    let test = EvalSet {
        hidden: hidden.view(),
        labels: data.test.labels.view(),
        images: &images,
    };
    let run = &metrics["runs"][0];
    let close = |key: &str, block: &str, value: f64| {
        let saved = run[block][key].as_f64().unwrap();
        assert!(
            (saved - value).abs() < 1e-9,
            "{block}.{key}: {saved} vs {value}"
        );
    };
    let mlp_table = Table4::of(&mlp_unit_proxies(&mlp, test));
    close("label_purity", "mlp", mlp_table.label_purity);
    close("input_coherence", "mlp", mlp_table.input_coherence);
    for variant in ["standard", "ne"] {
        let sae = Sae::from_safetensors(&read(&format!("sae-{variant}.safetensors"))).unwrap();
        let acts = sae.encode(hidden.view());
        let units = unit_proxies(sae.w_enc.view(), acts.view(), test.labels, test.images);
        let table = Table4::of(&units);
        close("top_label_purity", variant, table.top_label_purity);
        close("input_coherence", variant, table.input_coherence);
        // By hand: per latent with >= 10 activating examples, the activation share of its
        // strongest digit, and (Σw²)²/Σw⁴ of its encoder row; then the medians.
        let (mut purities, mut participations) = (Vec::new(), Vec::new());
        for (j, column) in acts.columns().into_iter().enumerate() {
            let mut per_digit = [0.0f64; 10];
            let mut active = 0;
            for (&a, &label) in column.iter().zip(&data.test.labels) {
                if a > 0.0 {
                    per_digit[usize::from(label)] += f64::from(a);
                    active += 1;
                }
            }
            if active >= 10 {
                let total: f64 = per_digit.iter().sum();
                purities.push(per_digit.iter().copied().fold(0.0, f64::max) / total);
                let row = sae.w_enc.row(j);
                let sq: f64 = row.iter().map(|&w| f64::from(w).powi(2)).sum();
                let quad: f64 = row.iter().map(|&w| f64::from(w).powi(4)).sum();
                participations.push(sq * sq / quad);
            }
        }
        assert_eq!(run[variant]["table4_units"], purities.len());
        let median = neuron_embeddings::metrics::median;
        close("label_purity", variant, median(&purities).unwrap());
        let participation = median(&participations).unwrap();
        let saved = run[variant]["encoder_participation"].as_f64().unwrap();
        assert!(
            (saved - participation).abs() < 1e-6 * participation,
            "{saved} vs {participation}"
        );
    }
}

/// `curve/curve.json` has every λ_NE of the config with both seeds; its λ = 0 point is the
/// standard SAE's row and the config's λ the NE SAE's; the other λs have their own models.
fn the_curve_reuses_both_saes_and_measures_every_lambda(
    config: &Config,
    out: &Path,
    metrics: &Value,
) {
    let text = std::fs::read_to_string(out.join("curve/curve.json")).expect("curve.json");
    let curve: Value = serde_json::from_str(&text).unwrap();
    let points = curve["points"].as_array().unwrap();
    let lambdas: Vec<f64> = points
        .iter()
        .map(|p| p["lambda_ne"].as_f64().unwrap())
        .collect();
    let expected: Vec<f64> = config
        .curve
        .lambda_ne
        .iter()
        .map(|&l| f64::from(l))
        .collect();
    assert_eq!(lambdas, expected);
    for point in points {
        let lambda = point["lambda_ne"].as_f64().unwrap();
        for (run, seed) in point["runs"].as_array().unwrap().iter().zip(0..) {
            assert_eq!(run["seed"], seed);
            let reused = if lambda == 0.0 {
                Some("standard")
            } else if lambda == f64::from(config.sae.lambda_ne) {
                Some("ne")
            } else {
                None
            };
            match reused {
                Some(variant) => assert_eq!(run["metrics"], metrics["runs"][seed][variant]),
                None => {
                    let stem = format!("seed-{seed}/curve/sae-ne-lambda-{lambda}");
                    assert!(out.join(format!("{stem}.safetensors")).is_file(), "{stem}");
                    assert!(
                        out.join(format!("{stem}.training.json")).is_file(),
                        "{stem}"
                    );
                    assert_in_range("mean_dist", run["metrics"]["mean_dist"].as_f64().unwrap());
                }
            }
        }
        assert!(point["summary"]["mse"]["mean"].as_f64().unwrap() > 0.0);
    }
    for figure in ["curve.svg", "tradeoff.svg"] {
        let svg = std::fs::read_to_string(out.join("curve").join(figure)).expect(figure);
        assert!(
            svg.contains("<svg") && svg.trim_end().ends_with("</svg>"),
            "{figure}"
        );
        assert!(
            svg.contains("λ=3000") || svg.contains("Dead latents"),
            "{figure}"
        );
    }
    // More λ_NE, smaller distances: the largest λ's mean distance is below the standard SAE's.
    let mean_dist = |p: &Value| p["summary"]["mean_dist"]["mean"].as_f64().unwrap();
    assert!(mean_dist(points.last().unwrap()) < mean_dist(&points[0]));
}

fn assert_in_range(key: &str, value: f64) {
    assert!(value.is_finite(), "{key} = {value}");
    let ok = match key {
        "mse" | "l1" | "size" => value >= 0.0,
        "l0_pct" | "dead_pct" | "dead_threshold_pct" => (0.0..=100.0).contains(&value),
        "acc_loss_pct" => (-100.0..=100.0).contains(&value),
        "max_dist" | "mean_dist" => (0.0..=2.0).contains(&value),
        "label_purity" | "top_label_purity" => (0.1..=1.0).contains(&value),
        "input_coherence" => (-1.0..=1.0).contains(&value),
        "encoder_participation" | "table4_units" => value >= 1.0,
        "dead_training_pct" | "dead_late_pct" => (0.0..=100.0).contains(&value),
        other => panic!("unexpected metric {other}"),
    };
    assert!(ok, "{key} = {value} is out of its range");
}

/// Runs `work` on a rayon pool of `threads` threads, whatever this machine has.
fn on_threads<T: Send>(threads: usize, work: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(work)
}

/// Runs without their timings and FLOP counts (the work this run did: a resumed run reuses its
/// models), which are all that may differ between identical reruns.
fn runs_without_timing(metrics: &Value) -> Vec<Value> {
    let mut runs = metrics["runs"].as_array().unwrap().clone();
    for run in &mut runs {
        let run = run.as_object_mut().unwrap();
        run.remove("timing_s");
        run.remove("flops");
    }
    runs
}

#[test]
fn reproduce_writes_complete_consistent_results_and_reruns_identically() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config();
    let first = dir.path().join("first");
    let (metrics, log) = on_threads(2, || run(&config, &first, false, true));

    // Shape: {"config", "runs": [...], "summary": {"standard", "ne"}}.
    assert_eq!(metrics["config"]["data"]["train_limit"], 3000);
    let runs = metrics["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    for (run, seed) in runs.iter().zip([0, 1]) {
        assert_eq!(run["seed"], seed);
        let accuracy = run["mlp_test_accuracy"].as_f64().unwrap();
        assert!(
            (0.5..=1.0).contains(&accuracy),
            "1 epoch on 3,000 images learns: {accuracy}"
        );
        assert!(run["timing_s"]["mlp"].as_f64().unwrap() >= 0.0);
        for (variant, key) in blocks() {
            let value = run[variant][key]
                .as_f64()
                .unwrap_or_else(|| panic!("{variant}.{key}"));
            assert_in_range(key, value);
        }
    }
    for (variant, key) in blocks() {
        let s = &metrics["summary"][variant][key];
        assert_in_range(key, s["mean"].as_f64().unwrap());
        assert!(s["std"].as_f64().unwrap() >= 0.0);
    }
    // The paper's released models, measured on the same data: every figure but those only a
    // training record can tell.
    for (variant, key) in blocks() {
        let value = &metrics["paper_models"][variant][key];
        match key {
            "dead_training_pct" | "dead_late_pct" => assert!(value.is_null(), "{variant}.{key}"),
            _ => assert_in_range(key, value.as_f64().unwrap()),
        }
    }
    table4_is_recomputable_from_the_saved_models(&config, &first, &metrics);
    the_curve_reuses_both_saes_and_measures_every_lambda(&config, &first, &metrics);

    let report = std::fs::read_to_string(first.join("report.md")).unwrap();
    for needle in [
        "Table 2",
        "Table 3",
        "standard (paper, 1 run)",
        "+ NE loss (ours, 2 seeds)",
        "+ NE loss (paper's models, measured here)",
        "Measurement or training? Column by column",
    ] {
        assert!(report.contains(needle), "report.md lacks {needle:?}");
    }
    for seed in [0, 1] {
        for file in [
            "mlp.safetensors",
            "sae-standard.safetensors",
            "sae-ne.safetensors",
            "run.json",
        ] {
            assert!(
                first.join(format!("seed-{seed}/{file}")).is_file(),
                "seed-{seed}/{file}"
            );
        }
    }
    assert!(first.join("explorer/index.html").is_file());
    let page_data = std::fs::read_to_string(first.join("explorer/data.js")).unwrap();
    let rate_at = page_data
        .find("\"learning_rate\":")
        .expect("the config is in the page's data")
        + "\"learning_rate\":".len();
    let rate: String = page_data[rate_at..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    assert_eq!(
        rate, "0.02",
        "the explorer shows the config's numbers as written, not widened from f32"
    );
    assert!(
        log.iter().any(|l| l.contains("seed 1: sae_ne done")),
        "progress per stage: {log:?}"
    );

    // A fresh rerun on one thread (seeds one after the other, no split work) gives the same
    // runs, bit for bit, timing aside.
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let (again, _) = one_thread.install(|| run(&config, &dir.path().join("second"), false, false));
    assert_eq!(runs_without_timing(&again), runs_without_timing(&metrics));
    let curve_json = |dir: &Path| std::fs::read(dir.join("curve/curve.json")).unwrap();
    assert_eq!(curve_json(&dir.path().join("second")), curve_json(&first));

    // Resuming reuses the saved models and measures the same again.
    let (resumed, log) = run(&config, &first, true, false);
    assert!(
        log.iter().any(|l| l.contains("resuming: loaded")),
        "{log:?}"
    );
    assert_eq!(runs_without_timing(&resumed), runs_without_timing(&metrics));
    assert!(
        log.iter()
            .any(|l| l.contains("resuming: loaded") && l.contains("curve/sae-ne-lambda-")),
        "curve models are reused too: {log:?}"
    );

    // `explore --from` rebuilds the explorer from the saved models, changing nothing else,
    // and trains nothing when a seed or a model is missing.
    let run_json = first.join("seed-1/run.json");
    let before = std::fs::read(&run_json).unwrap();
    // The resumed run wrote no explorer, so the first run's (with its tables) is gone.
    assert!(!first.join("explorer").exists());
    let quiet = |_: &str| {};
    let index = explore_from(&first, Some(1), &quiet).expect("explores a finished run");
    assert_eq!(index, first.join("explorer/index.html"));
    assert!(index.is_file());
    assert_eq!(std::fs::read(&run_json).unwrap(), before);
    let err = explore_from(&first, Some(7), &quiet).unwrap_err();
    assert!(err.to_string().contains("seed 7 is not in"), "{err}");
    std::fs::remove_file(first.join("seed-0/sae-ne.safetensors")).unwrap();
    let err = explore_from(&first, Some(0), &quiet).unwrap_err();
    assert!(
        err.to_string().contains("sae-ne.safetensors is missing"),
        "{err}"
    );
    assert!(
        !first.join("seed-0/sae-ne.safetensors").exists(),
        "nothing trained"
    );
}

/// `config` on seeds 0-2 in a temporary folder: metrics and report only (no curve, explorer or
/// activations).
fn three_seeds_without_extras(config: &Config) -> Reproduction {
    let dir = tempfile::tempdir().unwrap();
    let options = ReproduceOptions {
        seeds: vec![0, 1, 2],
        out: dir.path().to_owned(),
        resume: false,
        explorer: false,
        export_activations: false,
        curve: false,
        force: false,
    };
    reproduce(config, &options, &|_: &str| {}).expect("the pipeline runs")
}

/// The paper's main finding, on the full default configuration (60,000 training images, three
/// seeds): the NE SAE's activating examples lie closer together in embedding space, on every
/// seed, and its median mean distance is at most half the standard SAE's.
#[test]
fn the_paper_config_shows_the_main_finding_on_every_seed() {
    let config = neuron_embeddings::paper_config().unwrap();
    let done = three_seeds_without_extras(&config);
    for run in &done.metrics.runs {
        let (standard, ne) = (&run.saes["standard"], &run.saes["ne"]);
        assert!(
            (0.935..=0.955).contains(&run.mlp_test_accuracy),
            "seed {}: {}",
            run.seed,
            run.mlp_test_accuracy
        );
        assert!(
            ne.max_dist < standard.max_dist,
            "seed {}: max dist {standard:?} vs {ne:?}",
            run.seed
        );
        assert!(
            ne.mean_dist <= 0.5 * standard.mean_dist,
            "seed {}: mean dist {standard:?} vs {ne:?}",
            run.seed
        );
    }
}

/// `configs/paper-distance.toml` is `configs/paper.toml` with λ_NE chosen (on the validation
/// split) to match the paper's distance ratio, 0.08 / 0.21 ≈ 0.38; on the test set and three
/// seeds the ratio of the mean-distance medians must land near it.
#[test]
fn the_distance_config_matches_the_papers_distance_ratio() {
    let config =
        Config::from_file(&neuron_embeddings::shipped::configs_dir().join("paper-distance.toml"))
            .unwrap();
    let mut same_otherwise = config.clone();
    same_otherwise.name = neuron_embeddings::paper_config().unwrap().name;
    same_otherwise.lambda_ne_chosen_for = neuron_embeddings::paper_config()
        .unwrap()
        .lambda_ne_chosen_for;
    same_otherwise.sae.lambda_ne = neuron_embeddings::paper_config().unwrap().sae.lambda_ne;
    same_otherwise.curve = neuron_embeddings::paper_config().unwrap().curve;
    assert_eq!(
        same_otherwise,
        neuron_embeddings::paper_config().unwrap(),
        "only name, note, λ_NE and the curve differ"
    );

    let done = three_seeds_without_extras(&config);
    let summary = &done.metrics.summary;
    let ratio = summary.saes["ne"]["mean_dist"].mean / summary.saes["standard"]["mean_dist"].mean;
    assert!(
        (0.25..=0.55).contains(&ratio),
        "mean-distance ratio {ratio}"
    );
}
