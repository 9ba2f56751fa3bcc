//! What a run measures, in the shape of `metrics.json`, and the paper's numbers beside it.
use crate::Config;
use crate::layers::{Keyed, NE, STANDARD};
use ne_metrics::{MeanStd, SaeMetrics, Table4};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One seed: the MLP, its SAEs' metrics by key (`standard`, `ne`) and how long each stage took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedRun {
    pub seed: u64,
    pub mlp_test_accuracy: f64,
    /// Table 4 over the MLP's hidden neurons: the baseline the SAEs are compared with.
    pub mlp: Table4,
    /// Each SAE's figures under its key, in the file as fields of the seed's object.
    #[serde(flatten)]
    pub saes: Keyed<SaeMetrics>,
    /// Seconds per stage; with `flops`, the only part of a run that differs between identical
    /// reruns.
    pub timing_s: BTreeMap<String, f64>,
    /// FLOPs counted per stage (`flops` module: products and sparse loops, 2 per
    /// multiply-add); 0 for a stage that reused saved models. Absent from older files.
    #[serde(default)]
    pub flops: BTreeMap<String, f64>,
}

/// Per metric (as named in `metrics.json`), mean and std over seeds.
pub type MetricSummary = BTreeMap<String, MeanStd>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub mlp: MetricSummary,
    /// Per SAE key of the runs, in their order.
    #[serde(flatten)]
    pub saes: Keyed<MetricSummary>,
}

/// `metrics.json`: `{"config", "runs", "summary"}`, and `paper_models` when the paper's
/// released models were measured beside the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsFile {
    pub config: Config,
    pub runs: Vec<SeedRun>,
    pub summary: Summary,
    /// The paper's released MLP and SAEs (data/mechmnistic) measured under the same config; its
    /// `seed` means nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper_models: Option<SeedRun>,
}

impl MetricsFile {
    pub fn new(config: Config, runs: Vec<SeedRun>) -> Self {
        let keys: Vec<String> = runs
            .first()
            .map(|r| r.saes.keys().map(str::to_owned).collect())
            .unwrap_or_else(|| vec![STANDARD.to_owned(), NE.to_owned()]);
        let summary = Summary {
            mlp: summarise(runs.iter().map(|r| &r.mlp)),
            saes: keys
                .into_iter()
                .map(|key| {
                    let summary = summarise(runs.iter().filter_map(|r| r.saes.get(&key)));
                    (key, summary)
                })
                .collect(),
        };
        Self {
            config,
            runs,
            summary,
            paper_models: None,
        }
    }
}

impl MetricsFile {
    /// Reads a `metrics.json`, checking that every seed (and the summary, and the paper's
    /// models if measured) has the run's two SAEs, which the report compares.
    ///
    /// # Errors
    /// When `bytes` is not such a file.
    pub fn from_json(bytes: &[u8]) -> anyhow::Result<Self> {
        let file: MetricsFile = serde_json::from_slice(bytes)?;
        let runs = file.runs.iter().chain(&file.paper_models);
        let seeds = runs.map(|r| {
            (
                format!("seed {}", r.seed),
                r.saes.keys().collect::<Vec<_>>(),
            )
        });
        let summary = ("summary".to_owned(), file.summary.saes.keys().collect());
        for (place, keys) in seeds.chain([summary]) {
            for key in [STANDARD, NE] {
                anyhow::ensure!(keys.contains(&key), "{place} has no SAE {key:?}");
            }
        }
        Ok(file)
    }
}

/// Mean and std of each metric over runs, leaving out values that could not be measured.
pub(crate) fn summarise<'a, M: Serialize + 'a>(
    metrics: impl Iterator<Item = &'a M>,
) -> MetricSummary {
    let mut columns: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for m in metrics {
        let serde_json::Value::Object(fields) = serde_json::to_value(m).expect("plain numbers")
        else {
            unreachable!("metrics serialise to an object")
        };
        for (key, value) in fields {
            let column = columns.entry(key).or_default();
            column.extend(value.as_f64());
        }
    }
    columns
        .into_iter()
        .filter_map(|(k, v)| MeanStd::of(&v).map(|s| (k, s)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(mse: f64, max_dist: f64) -> SaeMetrics {
        SaeMetrics {
            mse,
            l1: 1.0,
            l0_pct: 2.0,
            acc_loss_pct: 0.5,
            max_dist,
            mean_dist: 0.1,
            size: 7.0,
            dead_pct: 10.0,
            dead_threshold_pct: 12.0,
            dead_training_pct: 1.0,
            dead_late_pct: 3.0,
            table4: Table4 {
                label_purity: 0.5,
                top_label_purity: 0.6,
                input_coherence: 0.4,
                encoder_participation: 20.0,
                table4_units: 300,
            },
        }
    }

    fn run(seed: u64, mse: f64, max_dist: f64) -> SeedRun {
        SeedRun {
            seed,
            mlp_test_accuracy: 0.94,
            mlp: Table4::UNMEASURED,
            saes: [
                (STANDARD, metrics(mse, max_dist)),
                (NE, metrics(2.0 * mse, max_dist / 2.0)),
            ]
            .into_iter()
            .collect(),
            timing_s: BTreeMap::from([("mlp".into(), 1.0)]),
            flops: BTreeMap::from([("mlp".into(), 2.0e9)]),
        }
    }

    #[test]
    fn summary_has_every_metric_with_mean_and_std_and_skips_unmeasured_values() {
        let file = MetricsFile::new(
            Config::paper(),
            vec![run(0, 1.0, 0.4), run(1, 3.0, f64::NAN)],
        );
        let keys: Vec<&str> = file.summary.saes[STANDARD]
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "acc_loss_pct",
                "dead_late_pct",
                "dead_pct",
                "dead_threshold_pct",
                "dead_training_pct",
                "encoder_participation",
                "input_coherence",
                "l0_pct",
                "l1",
                "label_purity",
                "max_dist",
                "mean_dist",
                "mse",
                "size",
                "table4_units",
                "top_label_purity"
            ]
        );
        assert_eq!(file.summary.saes[STANDARD]["mse"].mean, 2.0);
        assert!((file.summary.saes[STANDARD]["mse"].std - 2f64.sqrt()).abs() < 1e-12);
        assert_eq!(file.summary.saes[NE]["mse"].mean, 4.0);
        // The seed without a measurable max dist does not drag the summary to NaN.
        assert_eq!(
            file.summary.saes[STANDARD]["max_dist"],
            MeanStd {
                mean: 0.4,
                std: 0.0
            }
        );
    }

    #[test]
    fn a_file_without_one_of_the_runs_two_saes_is_refused_by_name() {
        let file = MetricsFile::new(Config::paper(), vec![run(0, 1.0, 0.4), run(1, 1.0, 0.4)]);
        let text = serde_json::to_vec(&file).unwrap();
        let back = MetricsFile::from_json(&text).unwrap();
        // NaN != NaN, so compared as JSON.
        assert_eq!(serde_json::to_vec(&back).unwrap(), text);
        let mut v = serde_json::to_value(&file).unwrap();
        v["runs"][1].as_object_mut().unwrap().remove("ne");
        let error = MetricsFile::from_json(&serde_json::to_vec(&v).unwrap()).unwrap_err();
        assert_eq!(error.to_string(), "seed 1 has no SAE \"ne\"");
        let mut v = serde_json::to_value(&file).unwrap();
        v["summary"].as_object_mut().unwrap().remove("standard");
        let error = MetricsFile::from_json(&serde_json::to_vec(&v).unwrap()).unwrap_err();
        assert_eq!(error.to_string(), "summary has no SAE \"standard\"");
    }

    #[test]
    fn json_has_the_documented_shape() {
        let file = MetricsFile::new(Config::paper(), vec![run(0, 1.0, 0.4)]);
        let v = serde_json::to_value(&file).unwrap();
        assert!(v["config"]["sae"]["lambda_ne"].is_number());
        assert_eq!(v["runs"][0]["seed"], 0);
        assert!(v["runs"][0]["standard"]["dead_pct"].is_number());
        assert!(v["runs"][0]["timing_s"]["mlp"].is_number());
        assert!(v["summary"]["ne"]["size"]["std"].is_number());
        assert_eq!(v["runs"][0]["ne"]["label_purity"], 0.5);
        assert_eq!(v["runs"][0]["ne"]["table4_units"], 300);
        assert!(
            v["runs"][0]["mlp"]["input_coherence"].is_null(),
            "NaN is null"
        );
        assert_eq!(v["summary"]["standard"]["top_label_purity"]["mean"], 0.6);
        let mlp = v["summary"]["mlp"].as_object().unwrap();
        assert!(!mlp.contains_key("label_purity"), "unmeasured: left out");
        assert_eq!(v["summary"]["mlp"]["table4_units"]["mean"], 0.0);
        // NaN != NaN, so the round trip is compared as JSON (where NaN is null).
        let back: MetricsFile = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(serde_json::to_value(&back).unwrap(), v);
        assert!(
            back.runs[0].mlp.label_purity.is_nan(),
            "null reads back as NaN"
        );
    }
}
