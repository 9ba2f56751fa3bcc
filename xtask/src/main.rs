//! `cargo xtask <task>`: the project's tasks, in the rust-analyzer style of a plain binary.
//! The work itself lives in the library crates; this file parses arguments and prints.
//!
//! Relative paths typed on the command line are relative to the folder they are typed in (cargo
//! runs the task there); the defaults name places in the workspace, wherever the task is run.

mod data;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use ne_experiment::interop::EvaluateOptions;
use ne_experiment::paper_models::{ModelFiles as PaperModelFiles, PaperModelsOptions};
use ne_experiment::pipeline::{self, MAX_SEEDS, load_and_check};
use ne_experiment::synthetic::own::OwnConfig;
use ne_experiment::synthetic::{self, GeneratorConfig, Magnitude, Pairs, SyntheticConfig};
use ne_experiment::{Config, ReproduceOptions, store};
use ne_models::{Mlp, SaeConfig, SaeVariant};
use std::fmt::Display;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser)]
#[command(about = "Neuron embeddings on MNIST: reproduce the paper's experiment and explore it")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Summarise the MNIST files (counts, label histogram, pixel mean).
    Data {
        /// Folder with the four IDX files [default: the shipped, checksum-verified data/mnist].
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Train the MLP and save its weights.
    TrainMlp {
        /// [default: configs/paper-recipe.toml in the workspace]
        #[arg(long)]
        config: Option<PathBuf>,
        /// [default: results/train in the workspace]
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Train one SAE on the MLP's hidden layer (the saved MLP, else a freshly trained one).
    TrainSae {
        #[arg(long, value_enum)]
        variant: Variant,
        /// [default: configs/paper-recipe.toml in the workspace]
        #[arg(long)]
        config: Option<PathBuf>,
        /// Where the MLP is read from, or saved to if it must be trained [default:
        /// results/train/mlp.safetensors in the workspace].
        #[arg(long)]
        mlp: Option<PathBuf>,
        /// [default: results/train in the workspace]
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run the whole experiment over several seeds: Tables 2-4 beside the paper's, the λ_NE curve
    /// and the explorer.
    Reproduce {
        #[command(flatten)]
        run: RunArgs,
        /// [default: results/reproduce in the workspace]
        #[arg(long)]
        out: Option<PathBuf>,
        /// Reuse the models an interrupted run with the same config left in --out.
        #[arg(long)]
        resume: bool,
        /// Skip writing the neuron explorer.
        #[arg(long)]
        no_explorer: bool,
        /// Also write each seed's MLP hidden activations and labels as .npy (seed-N/activations/).
        #[arg(long)]
        export_activations: bool,
        /// Skip the λ_NE trade-off curve (the `[curve]` NE SAEs and `curve/`).
        #[arg(long)]
        no_curve: bool,
        /// Clear an earlier run's outputs in --out even if they are not listed in its
        /// .outputs.json (folders written before runs kept that list).
        #[arg(long)]
        force: bool,
    },
    /// Choose λ_L1 and λ_NE: train both SAEs for every pair, measured on held-out training data.
    Sweep {
        /// [default: configs/paper.toml in the workspace]
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long, value_delimiter = ',', default_value = "1,3,10", value_parser = finite_f32)]
        l1: Vec<f32>,
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "100,300,1000,3000",
            value_parser = finite_f32
        )]
        ne: Vec<f32>,
        /// Where the table is written [default: results/sweep.md in the workspace].
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Search SAE training recipes for the one closest to the paper's released SAEs, on held-out
    /// training examples (never the test set)
    RecipeSearch {
        /// [default: configs/paper.toml in the workspace]
        #[arg(long)]
        config: Option<PathBuf>,
        /// The `[[recipe]]` tables [default: configs/recipe-search.toml in the workspace].
        #[arg(long)]
        recipes: Option<PathBuf>,
        /// Where the table is written [default: results/recipe-search.md in the workspace].
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write a finished run's SAEs in SAELens's layout (seed-N/saelens/), as new runs do.
    Export {
        /// The run's output folder [default: results/reproduce in the workspace].
        #[arg(long)]
        from: Option<PathBuf>,
        /// Also write each seed's MLP hidden activations and labels as .npy (seed-N/activations/).
        #[arg(long)]
        activations: bool,
    },
    /// Measure an SAE in SAELens's layout against a finished run's MLP and add it to the explorer.
    Evaluate {
        /// Folder with cfg.json and sae_weights.safetensors (SAELens 6.x `save_model`).
        #[arg(long)]
        sae: PathBuf,
        /// The run's output folder [default: results/reproduce in the workspace].
        #[arg(long)]
        from: Option<PathBuf>,
        /// Which seed's MLP (default: the run's first); the SAE should read its activations.
        #[arg(long)]
        seed: Option<u64>,
        /// Its name in the explorer and under imported/ (default: the folder's name).
        #[arg(long)]
        name: Option<String>,
    },
    /// The dead-latent study: the λ_NE curve under both SAE initialisations, dead latents
    /// counted three ways.
    DeadLatents {
        #[command(flatten)]
        run: RunArgs,
        /// [default: results/dead-latents in the workspace]
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Measure the paper's released MLP and SAEs (data/mechmnistic, or your own .pt files of
    /// that layout) on Tables 2-4 as our own are measured, with the explorer over them.
    PaperModels {
        /// [default: configs/paper-recipe.toml in the workspace]
        #[arg(long)]
        config: Option<PathBuf>,
        /// [default: results/paper-models in the workspace]
        #[arg(long)]
        out: Option<PathBuf>,
        /// A `reproduce` run to put beside them [default: results/reproduce in the workspace;
        /// left out if absent].
        #[arg(long)]
        reproduction: Option<PathBuf>,
        /// The MLP's torch.save state dict (`layers.0`, `layers.1`), instead of the shipped one;
        /// with it, --sae-standard and --sae-ne, checksums are not checked.
        #[arg(long, requires_all = ["sae_standard", "sae_ne"])]
        mlp: Option<PathBuf>,
        /// The standard SAE's state dict (`0` encoder, `1` decoder).
        #[arg(long, requires = "mlp")]
        sae_standard: Option<PathBuf>,
        /// The NE SAE's state dict.
        #[arg(long, requires = "mlp")]
        sae_ne: Option<PathBuf>,
        /// Skip writing the neuron explorer.
        #[arg(long)]
        no_explorer: bool,
    },
    /// The synthetic ground-truth benchmark: SAEs on activations built from known features,
    /// with and without the NE loss; with --activations, SAEs on a .npy file of your own.
    Synthetic(SyntheticArgs),
    /// Write the neuron explorer of a finished `reproduce` run.
    Explore {
        /// The run's output folder [default: results/reproduce in the workspace].
        #[arg(long)]
        from: Option<PathBuf>,
        /// Which seed's models to show (default: the run's first).
        #[arg(long)]
        seed: Option<u64>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Variant {
    Standard,
    Ne,
}

/// `cargo xtask synthetic`: the generator's settings, the λ grids and the seeds.
#[derive(clap::Args)]
struct SyntheticArgs {
    /// [default: results/synthetic in the workspace]
    #[arg(long)]
    out: Option<PathBuf>,
    /// Train on these activations instead (float32 .npy, examples × width): no ground truth,
    /// so Tables 2-3 without accuracy loss, and SAELens folders.
    #[arg(long, conflicts_with_all = ["features", "dim", "density", "magnitude", "zipf", "pairs", "train"])]
    activations: Option<PathBuf>,
    /// Run seeds 0..N.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=MAX_SEEDS))]
    seeds: u64,
    #[arg(long, value_delimiter = ',', default_value = "0,10,30,100,300,1000")]
    lambda_ne: Vec<f32>,
    /// λ_L1 candidates of the standard SAE (synthetic data) [default: 0.3,0.5,0.7,1,2]; with
    /// --activations, the one λ_L1 used [default: 3, the MNIST recipe's].
    #[arg(long, value_delimiter = ',')]
    lambda_l1: Option<Vec<f32>>,
    /// G: how many true features.
    #[arg(long, default_value_t = 128)]
    features: usize,
    /// d: the activations' width.
    #[arg(long, default_value_t = 64)]
    dim: usize,
    /// Mean probability that a feature is active [default: 3/128].
    #[arg(long)]
    density: Option<f64>,
    /// Magnitude law of an active feature: uniform:MAX, exponential:MEAN or constant:VALUE.
    #[arg(long, default_value = "uniform:3", value_parser = parse_magnitude)]
    magnitude: Magnitude,
    /// Zipf-like firing frequencies: feature g's probability ∝ (g + 1)^-S (0: all equal).
    #[arg(long, default_value_t = 0.0)]
    zipf: f64,
    /// Feature pairs: correlated:COUNT:PROB (the second also fires with the first with
    /// probability PROB) or nested:COUNT:PROB (the second fires only within the first).
    #[arg(long, value_parser = parse_pairs)]
    pairs: Option<Pairs>,
    /// Training examples per seed (validation and test: 10,000 each).
    #[arg(long, default_value_t = 60_000)]
    train: usize,
}

fn parse_magnitude(text: &str) -> Result<Magnitude, String> {
    let (law, value) = text
        .split_once(':')
        .ok_or("expected LAW:VALUE, e.g. uniform:3")?;
    let value: f64 = value.parse().map_err(|e| format!("{value}: {e}"))?;
    match law {
        "uniform" => Ok(Magnitude::Uniform { max: value }),
        "exponential" => Ok(Magnitude::Exponential { mean: value }),
        "constant" => Ok(Magnitude::Constant { value }),
        _ => Err(format!(
            "unknown law {law}: uniform, exponential or constant"
        )),
    }
}

fn parse_pairs(text: &str) -> Result<Pairs, String> {
    let parts: Vec<&str> = text.split(':').collect();
    let [kind, count, prob] = parts[..] else {
        return Err("expected KIND:COUNT:PROB, e.g. nested:8:0.5".to_owned());
    };
    let count: usize = count.parse().map_err(|e| format!("{count}: {e}"))?;
    let prob: f64 = prob.parse().map_err(|e| format!("{prob}: {e}"))?;
    match kind {
        "correlated" => Ok(Pairs::Correlated { count, prob }),
        "nested" => Ok(Pairs::Nested { count, prob }),
        _ => Err(format!("unknown pairs {kind}: correlated or nested")),
    }
}

impl SyntheticArgs {
    fn run(self) -> anyhow::Result<()> {
        let out = or_in_workspace(self.out, "results/synthetic");
        let seeds: Vec<u64> = (0..self.seeds).collect();
        let start = Instant::now();
        if let Some(path) = self.activations {
            let lambda_l1 = match self.lambda_l1.as_deref() {
                None => SaeConfig::default().lambda_l1,
                Some(&[one]) => one,
                Some(_) => anyhow::bail!("with --activations, give one --lambda-l1"),
            };
            let config = OwnConfig {
                sae: SaeConfig {
                    lambda_l1,
                    ..SaeConfig::default()
                },
                lambda_ne: self.lambda_ne,
                seeds,
            };
            let (_, report) = synthetic::own::run_on_activations(&path, &config, &out, &log)?;
            print(std::fs::read_to_string(&report)?)?;
            return print(format_args!(
                "report: {} ({:.1} s)",
                report.display(),
                start.elapsed().as_secs_f64()
            ));
        }
        let defaults = SyntheticConfig::default();
        let config = SyntheticConfig {
            data: GeneratorConfig {
                dim: self.dim,
                features: self.features,
                density: self.density.unwrap_or(3.0 / self.features as f64),
                magnitude: self.magnitude,
                zipf_exponent: self.zipf,
                pairs: self.pairs.unwrap_or(Pairs::None),
                train: self.train,
                ..defaults.data
            },
            lambda_l1_grid: self.lambda_l1.unwrap_or(defaults.lambda_l1_grid),
            lambda_ne: self.lambda_ne,
            seeds,
            ..defaults
        };
        let done = synthetic::run(&config, &out, &log)?;
        print(&done.file.verdict.text)?;
        print(format_args!(
            "report: {} ({:.1} s)",
            done.report_path.display(),
            done.seconds
        ))
    }
}

/// The config and seeds of a multi-seed run (`reproduce`, `dead-latents`).
#[derive(clap::Args)]
struct RunArgs {
    /// [default, in the workspace: configs/paper-recipe.toml for reproduce, configs/paper.toml
    /// for dead-latents]
    #[arg(long)]
    config: Option<PathBuf>,
    /// Run seeds 0..N.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=MAX_SEEDS))]
    seeds: u64,
}

impl RunArgs {
    /// The config (read and checked; `default` when none is named) and the seeds 0..N.
    fn resolve(self, default: &str) -> anyhow::Result<(Config, Vec<u64>)> {
        Ok((config_or(self.config, default)?, (0..self.seeds).collect()))
    }
}

/// A number that is finite as an `f32`: `1e40` is refused as typed, rather than read as
/// infinity and reported as such.
fn finite_f32(text: &str) -> Result<f32, String> {
    let value: f32 = text.trim().parse().map_err(|e| format!("{e}"))?;
    if value.is_finite() {
        Ok(value)
    } else {
        Err(format!(
            "{text} is not a finite 32-bit number (at most about {:e} in size)",
            f32::MAX
        ))
    }
}

fn log(line: &str) {
    eprintln!("{line}");
}

/// Writes a result to stdout. A reader that stopped early (`| head`) makes this fail with a
/// broken pipe, which `main` takes as the end of the output rather than as an error.
fn print(text: impl Display) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").and_then(|()| out.flush())?;
    Ok(())
}

/// `path`, or else `default` inside the workspace.
fn or_in_workspace(path: Option<PathBuf>, default: &str) -> PathBuf {
    path.unwrap_or_else(|| ne_shipped::root().join(default))
}

/// The config `reproduce`, `train-mlp`, `train-sae` and `paper-models` run without
/// `--config`: of the configs measured, the closest to the paper's Tables 2-3 and to its
/// released SAEs (README, "The paper's recipe").
const DEFAULT_CONFIG: &str = "configs/paper-recipe.toml";
/// The config of the studies whose grids are written on its λ scale (`sweep`, `dead-latents`,
/// `recipe-search`, whose recipes are laid over its `[sae]`).
const STUDY_CONFIG: &str = "configs/paper.toml";

/// The config at `path`, or the workspace's `default` (`DEFAULT_CONFIG`, `STUDY_CONFIG`).
fn config_or(path: Option<PathBuf>, default: &str) -> anyhow::Result<Config> {
    Ok(Config::from_file(&or_in_workspace(path, default))?)
}

/// Runs the task. An error is the user's to fix (a file, a config, a folder): it is printed with
/// its causes and no backtrace, whatever `RUST_BACKTRACE` says; backtraces are for bugs, which
/// panic.
fn main() -> ExitCode {
    match run(Cli::parse().task) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("Error: {error}");
            // Many errors (ours and libraries') print their cause in their own message and also
            // return it as their source: a cause already told is not told again.
            let mut causes: Vec<String> = Vec::new();
            let mut told = error.to_string();
            for cause in error.chain().skip(1).map(|c| c.to_string()) {
                if !told.contains(&cause) {
                    causes.push(cause.clone());
                }
                told = cause;
            }
            if !causes.is_empty() {
                eprintln!("\nCaused by:");
                for (i, cause) in causes.iter().enumerate() {
                    eprintln!("    {i}: {cause}");
                }
            }
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run(task: Task) -> anyhow::Result<()> {
    match task {
        Task::Data { dir } => print(data::summary(dir)?),
        Task::TrainMlp { config, out } => {
            let config = config_or(config, DEFAULT_CONFIG)?;
            let out = or_in_workspace(out, "results/train");
            let data = load_and_check(&config, 1)?;
            let mlp = train_and_save_mlp(&config, &data, &out.join("mlp.safetensors"))?;
            let accuracy = mlp.accuracy(data.test.images.view(), data.test.labels.view())?;
            print(format_args!("test accuracy: {:.2}%", 100.0 * accuracy))
        }
        Task::TrainSae {
            variant,
            config,
            mlp,
            out,
        } => {
            let config = config_or(config, DEFAULT_CONFIG)?;
            let mlp_path = or_in_workspace(mlp, "results/train/mlp.safetensors");
            let out = or_in_workspace(out, "results/train");
            let data = load_and_check(&config, 1)?;
            let mlp = match std::fs::read(&mlp_path) {
                Ok(bytes) => {
                    let mlp = Mlp::from_safetensors(&bytes)
                        .with_context(|| format!("cannot load {}", mlp_path.display()))?;
                    store::check_mlp(&config, &mlp, &mlp_path)?;
                    log(&format!("using the MLP in {}", mlp_path.display()));
                    mlp
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    log(&format!("no MLP at {}: training one", mlp_path.display()));
                    train_and_save_mlp(&config, &data, &mlp_path)?
                }
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot read {}", mlp_path.display()));
                }
            };
            let variant = match variant {
                Variant::Standard => SaeVariant::Standard,
                Variant::Ne => SaeVariant::Ne,
            };
            let hidden = mlp.hidden(data.train.images.view());
            let start = Instant::now();
            let (sae, _) = pipeline::train_sae(&config, variant, config.seed, hidden.view(), &log)?;
            log(&format!(
                "trained in {:.2} s",
                start.elapsed().as_secs_f64()
            ));
            let path = out.join(format!("sae-{}.safetensors", variant.name()));
            ne_experiment::outputs::write_atomic(&path, &sae.to_safetensors())?;
            print(format_args!("saved {}", path.display()))
        }
        Task::Reproduce {
            run,
            out,
            resume,
            no_explorer,
            export_activations,
            no_curve,
            force,
        } => {
            let (config, seeds) = run.resolve(DEFAULT_CONFIG)?;
            let out = or_in_workspace(out, "results/reproduce");
            say_what_is_kept_when_interrupted(&out)?;
            let options = ReproduceOptions {
                seeds,
                out,
                resume,
                explorer: !no_explorer,
                export_activations,
                curve: !no_curve,
                force,
            };
            let done = ne_experiment::reproduce(&config, &options, &log)?;
            print(ne_experiment::report::tables(&done.metrics))?;
            print(ne_experiment::report::timing_table(
                &done.metrics,
                &done.timing_s,
            ))?;
            let total_s = done.timing_s.get("total").copied().unwrap_or(f64::NAN);
            print(ne_experiment::report::flops_table(
                &done.metrics.runs,
                total_s,
                done.peak,
            ))?;
            print(format_args!("report: {}", done.report_path.display()))?;
            match done.explorer_path {
                Some(path) => print(format_args!("explorer: {}", path.display())),
                None => Ok(()),
            }
        }
        Task::RecipeSearch {
            config,
            recipes,
            out,
        } => {
            let config = config_or(config, STUDY_CONFIG)?;
            let recipes = or_in_workspace(recipes, "configs/recipe-search.toml");
            let out = or_in_workspace(out, "results/recipe-search.md");
            let recipes = ne_experiment::recipe::read_recipes(&recipes, &config.sae)?;
            let start = Instant::now();
            let table = ne_experiment::recipe::search(&config, &recipes, &log)?.table();
            ne_experiment::outputs::write_atomic(&out, table.as_bytes())?;
            print(format_args!(
                "{table}\nsearched in {:.1} s; table in {}",
                start.elapsed().as_secs_f64(),
                out.display()
            ))
        }
        Task::Sweep {
            config,
            l1,
            ne,
            out,
        } => {
            let config = config_or(config, STUDY_CONFIG)?;
            let out = or_in_workspace(out, "results/sweep.md");
            let start = Instant::now();
            let points = ne_experiment::sweep::sweep(&config, &l1, &ne, &log)?;
            let table = ne_experiment::sweep::table(&points);
            ne_experiment::outputs::write_atomic(&out, table.as_bytes())?;
            print(format_args!(
                "{table}\nswept in {:.1} s; table in {}",
                start.elapsed().as_secs_f64(),
                out.display()
            ))
        }
        Task::Export { from, activations } => {
            let from = or_in_workspace(from, "results/reproduce");
            for folder in ne_experiment::interop::export_from(&from, activations, &log)? {
                print(format_args!("wrote {}", folder.display()))?;
            }
            Ok(())
        }
        Task::Evaluate {
            sae,
            from,
            seed,
            name,
        } => {
            let options = EvaluateOptions {
                run: or_in_workspace(from, "results/reproduce"),
                sae,
                key: name,
                seed,
            };
            let done = ne_experiment::interop::evaluate(&options, &log)?;
            print(done.table())?;
            print(format_args!("saved: {}", done.saved.display()))?;
            print(format_args!("explorer: {}", done.explorer.display()))
        }
        Task::DeadLatents { run, out } => {
            let (config, seeds) = run.resolve(STUDY_CONFIG)?;
            let out = or_in_workspace(out, "results/dead-latents");
            let study = ne_experiment::dead_latents::study(&config, &seeds, &out, &log)?;
            print(std::fs::read_to_string(&study.table_path)?)?;
            print(format_args!("table: {}", study.table_path.display()))
        }
        Task::PaperModels {
            config,
            out,
            reproduction,
            mlp,
            sae_standard,
            sae_ne,
            no_explorer,
        } => {
            let start = Instant::now();
            let config = config_or(config, DEFAULT_CONFIG)?;
            let files = match (mlp, sae_standard, sae_ne) {
                (Some(mlp), Some(standard), Some(ne)) => PaperModelFiles {
                    mlp,
                    standard,
                    ne,
                    verify: false,
                },
                _ => PaperModelFiles::shipped(),
            };
            let options = PaperModelsOptions {
                files,
                out: or_in_workspace(out, "results/paper-models"),
                reproduction: or_in_workspace(reproduction, "results/reproduce"),
                explorer: !no_explorer,
            };
            let done = ne_experiment::paper_models::paper_models(&config, &options, &log)?;
            print(std::fs::read_to_string(&done.report_path)?)?;
            print(format_args!("metrics: {}", done.metrics_path.display()))?;
            print(format_args!("report: {}", done.report_path.display()))?;
            if let Some(path) = done.explorer_path {
                print(format_args!("explorer: {}", path.display()))?;
            }
            print(format_args!(
                "done in {:.2} s",
                start.elapsed().as_secs_f64()
            ))
        }
        Task::Synthetic(args) => args.run(),
        Task::Explore { from, seed } => {
            let from = or_in_workspace(from, "results/reproduce");
            let index = ne_experiment::explore::explore_from(&from, seed, &log)?;
            print(format_args!("explorer: {}", index.display()))
        }
    }
}

/// On Ctrl-C (SIGINT), says before exiting what a run into `out` keeps and how to go on: every
/// model it finished is saved as soon as it is trained, and `--resume` reuses them.
fn say_what_is_kept_when_interrupted(out: &Path) -> anyhow::Result<()> {
    let out = out.display().to_string();
    ctrlc::set_handler(move || {
        eprintln!(
            "\ninterrupted: the models finished so far are saved in {out}; run the same command \
             with --resume to continue from them"
        );
        // The exit status of a process ended by SIGINT, as shells report it.
        std::process::exit(130);
    })
    .context("cannot set up the Ctrl-C handler")
}

fn train_and_save_mlp(config: &Config, data: &ne_mnist::Mnist, path: &Path) -> anyhow::Result<Mlp> {
    let start = Instant::now();
    let mlp = pipeline::train_mlp(config, data, config.seed, &log)?;
    log(&format!(
        "trained in {:.2} s",
        start.elapsed().as_secs_f64()
    ));
    ne_experiment::outputs::write_atomic(path, &mlp.to_safetensors())?;
    log(&format!("saved {}", path.display()));
    Ok(mlp)
}
