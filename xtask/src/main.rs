//! `cargo xtask <task>`: the project's tasks, in the rust-analyzer style of a plain binary.
//! The work itself lives in the library crates; this file parses arguments and prints.

mod data;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use ne_experiment::interop::EvaluateOptions;
use ne_experiment::pipeline::{self, load_data};
use ne_experiment::{Config, ReproduceOptions};
use ne_models::{Mlp, SaeVariant};
use std::path::{Path, PathBuf};
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
        /// Folder with the four IDX files (default: the shipped, checksum-verified data/mnist).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Train the MLP and save its weights.
    TrainMlp {
        #[arg(long, default_value = "configs/paper.toml")]
        config: PathBuf,
        #[arg(long, default_value = "results/train")]
        out: PathBuf,
    },
    /// Train one SAE on the MLP's hidden layer (the saved MLP, else a freshly trained one).
    TrainSae {
        #[arg(long, value_enum)]
        variant: Variant,
        #[arg(long, default_value = "configs/paper.toml")]
        config: PathBuf,
        /// Where the MLP is read from, or saved to if it must be trained.
        #[arg(long, default_value = "results/train/mlp.safetensors")]
        mlp: PathBuf,
        #[arg(long, default_value = "results/train")]
        out: PathBuf,
    },
    /// Run the whole experiment over several seeds: Tables 2 and 3 beside the paper's.
    Reproduce {
        #[arg(long, default_value = "configs/paper.toml")]
        config: PathBuf,
        /// Run seeds 0..N.
        #[arg(long, default_value_t = 3)]
        seeds: u64,
        #[arg(long, default_value = "results/reproduce")]
        out: PathBuf,
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
    },
    /// Choose λ_L1 and λ_NE: train both SAEs for every pair, measured on held-out training data.
    Sweep {
        #[arg(long, default_value = "configs/paper.toml")]
        config: PathBuf,
        #[arg(long, value_delimiter = ',', default_value = "1,3,10")]
        l1: Vec<f32>,
        #[arg(long, value_delimiter = ',', default_value = "100,300,1000,3000")]
        ne: Vec<f32>,
        /// Where the table is written.
        #[arg(long, default_value = "results/sweep.md")]
        out: PathBuf,
    },
    /// Write a finished run's SAEs in SAELens's layout (seed-N/saelens/), as new runs do.
    Export {
        /// The run's output folder.
        #[arg(long, default_value = "results/reproduce")]
        from: PathBuf,
        /// Also write each seed's MLP hidden activations and labels as .npy (seed-N/activations/).
        #[arg(long)]
        activations: bool,
    },
    /// Measure an SAE in SAELens's layout against a finished run's MLP and add it to the explorer.
    Evaluate {
        /// Folder with cfg.json and sae_weights.safetensors (SAELens 6.x `save_model`).
        #[arg(long)]
        sae: PathBuf,
        /// The run's output folder.
        #[arg(long, default_value = "results/reproduce")]
        from: PathBuf,
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
        #[arg(long, default_value = "configs/paper.toml")]
        config: PathBuf,
        /// Run seeds 0..N.
        #[arg(long, default_value_t = 3)]
        seeds: u64,
        #[arg(long, default_value = "results/dead-latents")]
        out: PathBuf,
    },
    /// Write the neuron explorer of a finished `reproduce` run.
    Explore {
        /// The run's output folder.
        #[arg(long, default_value = "results/reproduce")]
        from: PathBuf,
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

fn log(line: &str) {
    eprintln!("{line}");
}

fn main() -> anyhow::Result<()> {
    // `cargo xtask` runs from anywhere in the workspace; relative paths mean the workspace root.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("xtask sits in the workspace")?;
    std::env::set_current_dir(root)?;
    match Cli::parse().task {
        Task::Data { dir } => data::run(dir.as_deref()),
        Task::TrainMlp { config, out } => {
            let config = Config::from_file(&config)?;
            let data = load_data(&config.data)?;
            let mlp = train_and_save_mlp(&config, &data, &out.join("mlp.safetensors"))?;
            let accuracy = mlp.accuracy(data.test.images.view(), data.test.labels.view())?;
            println!("test accuracy: {:.2}%", 100.0 * accuracy);
            Ok(())
        }
        Task::TrainSae {
            variant,
            config,
            mlp,
            out,
        } => {
            let config = Config::from_file(&config)?;
            let data = load_data(&config.data)?;
            let mlp = if mlp.exists() {
                let bytes = std::fs::read(&mlp)
                    .with_context(|| format!("cannot read {}", mlp.display()))?;
                log(&format!("using the MLP in {}", mlp.display()));
                Mlp::from_safetensors(&bytes)
                    .with_context(|| format!("cannot load {}", mlp.display()))?
            } else {
                log(&format!("no MLP at {}: training one", mlp.display()));
                train_and_save_mlp(&config, &data, &mlp)?
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
            println!("saved {}", path.display());
            Ok(())
        }
        Task::Reproduce {
            config,
            seeds,
            out,
            resume,
            no_explorer,
            export_activations,
            no_curve,
        } => {
            let config = Config::from_file(&config)?;
            let options = ReproduceOptions {
                seeds: (0..seeds).collect(),
                out,
                resume,
                explorer: !no_explorer,
                export_activations,
                curve: !no_curve,
            };
            let done = ne_experiment::reproduce(&config, &options, &log)?;
            println!("{}", ne_experiment::report::tables(&done.metrics));
            println!("{}", ne_experiment::report::timing_table(&done));
            println!("report: {}", done.report_path.display());
            if let Some(path) = done.explorer_path {
                println!("explorer: {}", path.display());
            }
            Ok(())
        }
        Task::Sweep {
            config,
            l1,
            ne,
            out,
        } => {
            let config = Config::from_file(&config)?;
            let start = Instant::now();
            let points = ne_experiment::sweep::sweep(&config, &l1, &ne, &log)?;
            let table = ne_experiment::sweep::table(&points);
            ne_experiment::outputs::write_atomic(&out, table.as_bytes())?;
            println!(
                "{table}\nswept in {:.1} s; table in {}",
                start.elapsed().as_secs_f64(),
                out.display()
            );
            Ok(())
        }
        Task::Export { from, activations } => {
            for folder in ne_experiment::interop::export_from(&from, activations, &log)? {
                println!("wrote {}", folder.display());
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
                run: from,
                sae,
                key: name,
                seed,
            };
            let done = ne_experiment::interop::evaluate(&options, &log)?;
            println!("{}", done.table());
            println!("saved: {}", done.saved.display());
            println!("explorer: {}", done.explorer.display());
            Ok(())
        }
        Task::DeadLatents { config, seeds, out } => {
            let config = Config::from_file(&config)?;
            let seeds: Vec<u64> = (0..seeds).collect();
            let study = ne_experiment::dead_latents::study(&config, &seeds, &out, &log)?;
            println!("{}", std::fs::read_to_string(&study.table_path)?);
            println!("table: {}", study.table_path.display());
            Ok(())
        }
        Task::Explore { from, seed } => {
            let index = ne_experiment::explore::explore_from(&from, seed, &log)?;
            println!("explorer: {}", index.display());
            Ok(())
        }
    }
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
