//! Training the SAE, standard or with the NE loss: the config's loss terms, optimiser,
//! initialisation and decoder constraint, composed from `Sae`'s gradient and update calls.
use super::{EpochOrder, PROGRESS_EVERY, check_inputs, check_loss};
use crate::error::TrainError;
use crate::loss_terms::weights_at;
use crate::rng::{self, Stream};
use crate::sae::SaeStepStats;
use crate::{Sae, SaeConfig, SaeVariant};
use ndarray::{Array1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The loss parts, each unweighted: the total adds λ_L1 l1 and, where on, λ_NE ne.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SaeLossParts {
    /// Mean over examples of ||h_hat - h||², summed over the d dimensions (the metric MSE is
    /// this divided by d).
    pub squared_error: f32,
    /// Mean over examples of sum_j f_j.
    pub l1: f32,
    /// Mean over the steps with the NE loss on of its value; 0 where it was never on.
    pub ne: f32,
    /// Mean over steps of the weighted loss that was minimised.
    pub total: f32,
}

/// What one epoch measured on its batches, each before its update.
#[derive(Debug, Clone, PartialEq)]
pub struct SaeEpoch {
    pub loss: SaeLossParts,
    /// Steps of this epoch with the NE loss on.
    pub ne_steps: usize,
    /// Mean over examples of the number of latents with f_j > 0.
    pub l0: f32,
    /// Per latent, the examples of this epoch on which it fired (f_j > 0).
    pub firing_counts: Array1<u64>,
}

/// What training measured: one entry per epoch, and which latents fired when.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SaeHistory {
    pub epochs: Vec<SaeEpoch>,
    pub firing: TrainingFiring,
}

/// Per latent, on how many training examples it fired while training: over the whole run and
/// over its last tenth of steps (the batches it saw, each before its update). A latent that
/// never fires late in training is dead in practice even if the final model wakes it on some
/// example. Saved beside a model, since the model alone cannot tell.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TrainingFiring {
    pub steps: usize,
    /// Steps in the last tenth: ⌈steps / 10⌉.
    pub late_steps: usize,
    pub whole_run: Vec<u64>,
    pub last_tenth: Vec<u64>,
}

impl TrainingFiring {
    /// Latents that fired on no example during the whole run, in percent.
    pub fn never_fired_pct(&self) -> f64 {
        zero_share_pct(&self.whole_run)
    }

    /// Latents that fired on no example during the last tenth of the run, in percent.
    pub fn silent_late_pct(&self) -> f64 {
        zero_share_pct(&self.last_tenth)
    }
}

fn zero_share_pct(counts: &[u64]) -> f64 {
    let zeros = counts.iter().filter(|&&c| c == 0).count();
    100.0 * zeros as f64 / counts.len().max(1) as f64
}

/// A progress report, sent every `PROGRESS_EVERY` steps and at each epoch's end.
#[derive(Debug, Clone, PartialEq)]
pub struct SaeProgress {
    /// Current epoch, counted from 0.
    pub epoch: usize,
    pub epochs: usize,
    /// Steps completed in the whole run, 1..=steps_total.
    pub step: usize,
    pub steps_total: usize,
    /// Means over the steps since the previous report.
    pub window: SaeLossParts,
    /// Whether the last step used the NE loss.
    pub ne_on: bool,
    /// Set on the report at an epoch's end.
    pub epoch_end: Option<SaeEpoch>,
}

impl fmt::Display for SaeEpoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let loss = &self.loss;
        write!(
            f,
            "squared error {:.4}, L1 {:.3}, NE {:.4} ({} steps), L0 {:.2} latents per example, \
             {} latents never fired this epoch",
            loss.squared_error,
            loss.l1,
            loss.ne,
            self.ne_steps,
            self.l0,
            self.dead_latents()
        )
    }
}

impl SaeEpoch {
    /// Latents that never fired during this epoch.
    pub fn dead_latents(&self) -> usize {
        self.firing_counts
            .iter()
            .filter(|&&count| count == 0)
            .count()
    }
}

/// Trains a fresh SAE on hidden activations `hidden` (n x d) with `config.latents` latents.
/// Each step: the loss terms of `config.loss_terms(variant)` on a shuffled batch, and one
/// update by the config's optimiser (by default Adam, the decoder gradient projected onto the
/// tangent of the unit sphere column by column and the columns renormalised after). The NE
/// variant adds λ_NE times the NE loss from step `config.ne_start_step` (0-based over the run)
/// on. Deterministic for a given seed whatever the rayon thread count: initialisation uses
/// stream `SaeInit` and the shuffle stream `SaeShuffle`, so both variants trained with one seed
/// start from the same weights and see the same batches.
pub fn train_sae(
    config: &SaeConfig,
    variant: SaeVariant,
    seed: u64,
    hidden: ArrayView2<f32>,
    progress: &mut dyn FnMut(&SaeProgress),
) -> Result<(Sae, SaeHistory), TrainError> {
    config.validate()?;
    check_inputs(hidden)?;
    if variant == SaeVariant::Ne {
        config.validate_for(hidden.nrows())?;
    }
    let examples = hidden.nrows();
    let mut sae = Sae::new(
        config.init,
        hidden.ncols(),
        config.latents,
        &mut rng::stream_rng(seed, Stream::SaeInit),
    );
    let mut order = EpochOrder::new(seed, Stream::SaeShuffle, examples);
    let mut optimizer = config.optimizer.build(config.learning_rate);
    let terms = config.loss_terms(variant);
    let steps_per_epoch = examples.div_ceil(config.batch_size);
    let steps_total = steps_per_epoch * config.epochs;
    let late_steps = steps_total.div_ceil(10);
    let mut whole_run = Array1::<u64>::zeros(config.latents);
    let mut last_tenth = Array1::<u64>::zeros(config.latents);
    let mut history = SaeHistory::default();
    let mut step = 0;
    for epoch in 0..config.epochs {
        let mut epoch_sums = Sums::new(config.latents);
        let mut window = Sums::new(config.latents);
        for rows in order.next_epoch().chunks(config.batch_size) {
            let h = hidden.select(Axis(0), rows);
            let weights = weights_at(&terms, step);
            let ne_on = weights.ne.is_some();
            let batch = sae
                .train_step(&mut *optimizer, h.view(), weights, config.unit_norm_decoder)
                .expect("batches are non-empty rows of checked data");
            check_loss(batch.total, epoch, step)?;
            let fired = batch.firing.mapv(u64::from);
            whole_run += &fired;
            if step >= steps_total - late_steps {
                last_tenth += &fired;
            }
            step += 1;
            epoch_sums.add(&batch, rows.len());
            window.add(&batch, rows.len());
            let epoch_done = step % steps_per_epoch == 0;
            let epoch_end = epoch_done.then(|| epoch_sums.epoch());
            if step % PROGRESS_EVERY == 0 || epoch_done {
                progress(&SaeProgress {
                    epoch,
                    epochs: config.epochs,
                    step,
                    steps_total,
                    window: window.epoch().loss,
                    ne_on,
                    epoch_end: epoch_end.clone(),
                });
                window = Sums::new(config.latents);
            }
            history.epochs.extend(epoch_end);
        }
    }
    if !sae.all_finite() {
        return Err(TrainError::NonFiniteWeights { step: step - 1 });
    }
    history.firing = TrainingFiring {
        steps: steps_total,
        late_steps,
        whole_run: whole_run.to_vec(),
        last_tenth: last_tenth.to_vec(),
    };
    Ok((sae, history))
}

/// Running sums over some steps, in f64 so that long runs do not lose precision.
struct Sums {
    examples: usize,
    steps: usize,
    ne_steps: usize,
    squared_error: f64,
    l1: f64,
    ne: f64,
    total: f64,
    firing: Array1<u64>,
}

impl Sums {
    fn new(latents: usize) -> Self {
        Self {
            examples: 0,
            steps: 0,
            ne_steps: 0,
            squared_error: 0.0,
            l1: 0.0,
            ne: 0.0,
            total: 0.0,
            firing: Array1::zeros(latents),
        }
    }

    fn add(&mut self, batch: &SaeStepStats, rows: usize) {
        let weight = rows as f64;
        self.examples += rows;
        self.steps += 1;
        self.squared_error += f64::from(batch.squared_error) * weight;
        self.l1 += f64::from(batch.l1) * weight;
        self.total += f64::from(batch.total);
        if let Some(ne) = batch.ne {
            self.ne_steps += 1;
            self.ne += f64::from(ne);
        }
        self.firing += &batch.firing.mapv(u64::from);
    }

    /// Example-weighted means of the per-example parts, step means of the per-batch ones.
    fn epoch(&self) -> SaeEpoch {
        let per_example = |sum: f64| (sum / self.examples.max(1) as f64) as f32;
        let active: u64 = self.firing.sum();
        SaeEpoch {
            loss: SaeLossParts {
                squared_error: per_example(self.squared_error),
                l1: per_example(self.l1),
                ne: (self.ne / self.ne_steps.max(1) as f64) as f32,
                total: (self.total / self.steps.max(1) as f64) as f32,
            },
            ne_steps: self.ne_steps,
            l0: per_example(active as f64),
            firing_counts: self.firing.clone(),
        }
    }
}
