//! The recipe search: SAE training recipes (each a set of `[sae]` keys over the base config)
//! trained on all but the last `HELD_OUT` training examples and measured on those, beside the
//! paper's released SAEs measured on the same held-out examples through the released MLP. The
//! test set is never read. Each recipe's distance to the released models is the mean over the
//! Table 2-3 columns of a symmetric relative difference, so no column's scale dominates.
use crate::layers::{NE, Provenance, STANDARD, SaeLayer};
use crate::paper_models::{self, ModelFiles};
use crate::pipeline::{Log, Yardstick, load_data, train_mlp, train_sae};
use crate::sweep::HELD_OUT;
use crate::{Config, DataConfig};
use anyhow::{Context, bail};
use ndarray::{ArrayView2, s};
use ne_metrics::{EvalSet, SaeMetrics, TrainScan, UnitImages};
use ne_mnist::Mnist;
use ne_models::{Mlp, SaeConfig, SaeVariant};
use rayon::prelude::*;
use std::fmt::Write;
use std::path::Path;

/// One recipe: a name and the `[sae]` table it trains with.
#[derive(Debug, Clone)]
pub struct Recipe {
    /// As the recipes file names it.
    pub name: String,
    /// The base config's `[sae]` with the recipe's keys over it.
    pub sae: SaeConfig,
}

/// Reads `[[recipe]]` tables from `path`: each has a `name` and any `[sae]` keys, which replace
/// the base config's.
///
/// # Errors
/// When the file cannot be read or parsed, a recipe has no name, or a recipe's keys do not make
/// a valid `[sae]` table (the error names the recipe).
pub fn read_recipes(path: &Path, base: &SaeConfig) -> anyhow::Result<Vec<Recipe>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file: toml::Table =
        toml::from_str(&text).with_context(|| format!("{} is not TOML", path.display()))?;
    let Some(toml::Value::Array(recipes)) = file.get("recipe") else {
        bail!("{}: no [[recipe]] tables", path.display());
    };
    let base = toml::Table::try_from(base).context("the base [sae] table")?;
    recipes
        .iter()
        .map(|recipe| {
            let mut keys = recipe.as_table().cloned().unwrap_or_default();
            let Some(toml::Value::String(name)) = keys.remove("name") else {
                bail!("{}: a [[recipe]] without a name", path.display());
            };
            let mut table = base.clone();
            table.extend(keys);
            let sae: SaeConfig = table
                .try_into()
                .with_context(|| format!("{}: recipe {name}", path.display()))?;
            sae.validate()
                .with_context(|| format!("{}: recipe {name}", path.display()))?;
            Ok(Recipe { name, sae })
        })
        .collect()
}

/// A recipe's SAEs measured on the held-out examples, and their distance to the released ones.
#[derive(Debug, Clone)]
pub struct RecipeFit {
    /// The recipe's name.
    pub name: String,
    /// Its standard SAE.
    pub standard: SaeMetrics,
    /// Its NE SAE.
    pub ne: SaeMetrics,
    /// Mean over the Table 2-3 columns of the distance to the released standard SAE.
    pub standard_distance: f64,
    /// The same for the NE SAE.
    pub ne_distance: f64,
}

impl RecipeFit {
    /// The mean of both distances: the search's ranking.
    pub fn distance(&self) -> f64 {
        0.5 * (self.standard_distance + self.ne_distance)
    }
}

/// The search's result: the released SAEs on the held-out examples and every recipe, closest
/// first.
#[derive(Debug, Clone)]
pub struct Search {
    /// The released standard SAE.
    pub released_standard: SaeMetrics,
    /// The released NE SAE.
    pub released_ne: SaeMetrics,
    /// The recipes, by `RecipeFit::distance`, closest first.
    pub fits: Vec<RecipeFit>,
}

/// Reads one figure of an SAE's metrics.
pub type Column = fn(&SaeMetrics) -> f64;

/// Table 2-3 columns compared: name and reader.
pub const COLUMNS: [(&str, Column); 8] = [
    ("MSE", |m| m.mse),
    ("L1", |m| m.l1),
    ("L0 %", |m| m.l0_pct),
    ("acc. loss %", |m| m.acc_loss_pct),
    ("max dist", |m| m.max_dist),
    ("mean dist", |m| m.mean_dist),
    ("size", |m| m.size),
    ("dead ≤ τ %", |m| m.dead_threshold_pct),
];

/// |a - b| / mean(|a|, |b|), in [0, 2]; 0 when both are 0.
pub fn relative_difference(a: f64, b: f64) -> f64 {
    let scale = 0.5 * (a.abs() + b.abs());
    if scale == 0.0 {
        0.0
    } else {
        (a - b).abs() / scale
    }
}

/// Mean over `COLUMNS` of the relative difference between `ours` and `released`.
pub fn distance(ours: &SaeMetrics, released: &SaeMetrics) -> f64 {
    let sum: f64 = COLUMNS
        .iter()
        .map(|(_, read)| relative_difference(read(ours), read(released)))
        .sum();
    sum / COLUMNS.len() as f64
}

/// The held-out part of `hidden` with its labels and `images` (`held_out_images`), and the part
/// SAEs train on.
fn split<'a>(
    data: &'a Mnist,
    hidden: ArrayView2<'a, f32>,
    images: &'a UnitImages,
) -> (ArrayView2<'a, f32>, EvalSet<'a>) {
    let at = data.train.len() - HELD_OUT;
    let held_out = EvalSet {
        hidden: hidden.slice_move(s![at.., ..]),
        labels: data.train.labels.slice(s![at..]),
        images,
    };
    (hidden.slice_move(s![..at, ..]), held_out)
}

/// The held-out training images, as input coherence reads them.
fn held_out_images(data: &Mnist) -> UnitImages {
    UnitImages::of(
        data.train
            .pixels
            .slice(s![data.train.len() - HELD_OUT.., ..]),
    )
}

/// `layer`'s figures on the held-out examples, as a run measures (`Yardstick::evaluate`), its dead
/// counts over the examples SAEs train on.
fn measure(
    config: &Config,
    mlp: &Mlp,
    layer: &SaeLayer,
    data: &Mnist,
    hidden: ArrayView2<f32>,
    images: &UnitImages,
) -> anyhow::Result<SaeMetrics> {
    let (fit, held_out) = split(data, hidden, images);
    let yardstick = Yardstick {
        mlp,
        test: held_out,
        train_hidden: fit,
        options: config.eval.options(),
    };
    Ok(yardstick.evaluate(layer, TrainScan::DeadCounts)?.metrics)
}

/// Trains every recipe's standard and NE SAE (seed `config.seed`, on our MLP of that seed) and
/// measures them and the released SAEs on the held-out training examples.
///
/// # Errors
/// When the data, the released models or a recipe's training fail, or the training set is too
/// small to hold out `HELD_OUT` examples twice over.
pub fn search(config: &Config, recipes: &[Recipe], log: Log) -> anyhow::Result<Search> {
    let data: Mnist = load_data(&DataConfig {
        test_limit: 1,
        ..config.data.clone()
    })?;
    anyhow::ensure!(
        data.train.len() > 2 * HELD_OUT,
        "the search needs more than {} training examples",
        2 * HELD_OUT
    );
    let released = paper_models::load(&ModelFiles::shipped())?;
    let released_hidden = released.mlp.hidden(data.train.images.view());
    let images = held_out_images(&data);
    let released_of = |key: &str| {
        let layer = released.sae(key).expect("the paper released both SAEs");
        measure(
            config,
            &released.mlp,
            layer,
            &data,
            released_hidden.view(),
            &images,
        )
    };
    let (released_standard, released_ne) = (released_of(STANDARD)?, released_of(NE)?);
    let mlp = train_mlp(config, &data, config.seed, log)?;
    let hidden = mlp.hidden(data.train.images.view());
    let (fit, _) = split(&data, hidden.view(), &images);
    let trained = |recipe: &Recipe, variant: SaeVariant| -> anyhow::Result<SaeMetrics> {
        let config = Config {
            sae: recipe.sae.clone(),
            ..config.clone()
        };
        let (sae, _) = train_sae(&config, variant, config.seed, fit, log)
            .with_context(|| format!("recipe {}", recipe.name))?;
        let layer = SaeLayer {
            key: variant.name().to_owned(),
            title: recipe.name.clone(),
            provenance: Provenance::Trained {
                variant,
                lambda_ne: config.sae.lambda_ne,
            },
            sae,
            training: None,
        };
        measure(&config, &mlp, &layer, &data, hidden.view(), &images)
    };
    let mut fits = recipes
        .par_iter()
        .map(|recipe| {
            let standard = trained(recipe, SaeVariant::Standard)?;
            let ne = trained(recipe, SaeVariant::Ne)?;
            log(&format!("recipe {}: measured", recipe.name));
            Ok(RecipeFit {
                name: recipe.name.clone(),
                standard_distance: distance(&standard, &released_standard),
                ne_distance: distance(&ne, &released_ne),
                standard,
                ne,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    fits.sort_by(|a, b| a.distance().total_cmp(&b.distance()));
    Ok(Search {
        released_standard,
        released_ne,
        fits,
    })
}

impl Search {
    /// The search as Markdown: each recipe's distances, then its figures beside the released
    /// SAEs' (standard / NE in each cell).
    pub fn table(&self) -> String {
        let mut out = String::from("| recipe | distance | std | NE |");
        for (name, _) in COLUMNS {
            let _ = write!(out, " {name} std / NE |");
        }
        let _ = writeln!(
            out,
            "\n|---|---:|---:|---:|{}",
            "---:|".repeat(COLUMNS.len())
        );
        let mut row =
            |name: &str, distances: Option<(f64, f64, f64)>, s: &SaeMetrics, n: &SaeMetrics| {
                let _ = match distances {
                    Some((all, ds, dn)) => write!(out, "| {name} | {all:.3} | {ds:.3} | {dn:.3} |"),
                    None => write!(out, "| {name} | | | |"),
                };
                for (_, read) in COLUMNS {
                    let _ = write!(out, " {} / {} |", figure(read(s)), figure(read(n)));
                }
                out.push('\n');
            };
        row(
            "**released (paper)**",
            None,
            &self.released_standard,
            &self.released_ne,
        );
        for fit in &self.fits {
            row(
                &fit.name,
                Some((fit.distance(), fit.standard_distance, fit.ne_distance)),
                &fit.standard,
                &fit.ne,
            );
        }
        out
    }
}

/// Three significant figures, whatever the scale.
fn figure(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return format!("{value}");
    }
    let digits = (2 - value.abs().log10().floor() as i32).max(0) as usize;
    format!("{value:.digits$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_differences_are_symmetric_and_bounded() {
        assert_eq!(relative_difference(0.0, 0.0), 0.0);
        assert_eq!(relative_difference(1.0, 3.0), 1.0);
        assert_eq!(relative_difference(3.0, 1.0), 1.0);
        assert_eq!(relative_difference(0.0, 5.0), 2.0);
        assert_eq!(figure(548.46), "548");
        assert_eq!(figure(0.012345), "0.0123");
    }

    /// The shipped search files and the recipe they found read and validate.
    #[test]
    fn shipped_recipes_and_the_paper_recipe_are_valid() {
        let configs = ne_shipped::configs_dir();
        let base = Config::from_file(&configs.join("paper.toml")).unwrap().sae;
        assert_eq!(
            read_recipes(&configs.join("recipe-search.toml"), &base)
                .unwrap()
                .len(),
            10
        );
        let stage2 = read_recipes(&configs.join("recipe-search-2.toml"), &base).unwrap();
        assert_eq!(stage2.len(), 8);
        let stage3 = read_recipes(&configs.join("recipe-search-3.toml"), &base).unwrap();
        let recipe = Config::from_file(&configs.join("paper-recipe.toml")).unwrap();
        assert!(recipe.validate().is_ok());
        let closest = stage3
            .iter()
            .find(|r| r.name == "running mean (momentum 0.9) / pair sum, λ_NE 0.005")
            .unwrap();
        assert_eq!(
            closest.sae, recipe.sae,
            "paper-recipe.toml is the closest recipe"
        );
    }

    #[test]
    fn recipes_override_the_base_and_bad_keys_name_the_recipe() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("recipes.toml");
        std::fs::write(
            &path,
            "[[recipe]]\nname = \"paper\"\ninit = \"pytorch_linear_pair\"\nl1_reduction = \"sum\"\n\
             [recipe.optimizer]\nkind = \"adamw\"\n\n[[recipe]]\nname = \"ours\"\n",
        )
        .unwrap();
        let base = SaeConfig::default();
        let recipes = read_recipes(&path, &base).unwrap();
        assert_eq!(recipes.len(), 2);
        assert_eq!(recipes[1].sae, base);
        assert_eq!(recipes[0].sae.init, ne_models::SaeInit::PytorchLinearPair);
        assert_eq!(
            recipes[0].sae.optimizer,
            ne_models::OptimizerConfig::AdamW { weight_decay: 0.01 }
        );
        std::fs::write(&path, "[[recipe]]\nname = \"typo\"\nlambda_l2 = 1.0\n").unwrap();
        let err = format!("{:#}", read_recipes(&path, &base).unwrap_err());
        assert!(
            err.contains("recipe typo") && err.contains("lambda_l2"),
            "{err}"
        );
    }
}
