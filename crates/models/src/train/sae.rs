//! Training the SAE, standard or with the NE loss: the config's loss terms, optimiser,
//! initialisation and decoder constraint, composed from `Sae`'s gradient and update calls.
use super::{EpochOrder, PROGRESS_EVERY, check_inputs, check_loss};
use crate::config::NeForm;
use crate::error::ModelError;
use crate::error::TrainError;
use crate::loss_terms::{BatchShape, LossTerm, weights_for_batch};
use crate::ops::gather_rows;
use crate::optim::Optimizer;
use crate::rng::{self, Stream};
use crate::sae::SaeStepStats;
use crate::sae::{BatchActivity, NamedLoss, SaeBatch, SaeLossWeights};
use crate::{Sae, SaeConfig, SaeVariant};
use ndarray::{Array1, Array2, ArrayView2};
use ne_embed::RunningMeans;
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
    /// Mean loss terms over its steps.
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
    /// In training order.
    pub epochs: Vec<SaeEpoch>,
    /// Which latents fired, over the run and over its last tenth.
    pub firing: TrainingFiring,
}

/// Per latent, on how many training examples it fired while training: over the whole run and
/// over its last tenth of steps (the batches it saw, each before its update). A latent that
/// never fires late in training is dead in practice even if the final model wakes it on some
/// example. Saved beside a model, since the model alone cannot tell.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TrainingFiring {
    /// Steps of the run.
    pub steps: usize,
    /// Steps in the last tenth: ⌈steps / 10⌉.
    pub late_steps: usize,
    /// Per latent, the examples it fired on over the whole run.
    pub whole_run: Vec<u64>,
    /// Per latent, the examples it fired on over the last `late_steps` steps.
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
    /// Epochs of the run.
    pub epochs: usize,
    /// Steps completed in the whole run, 1..=steps_total.
    pub step: usize,
    /// Steps of the whole run.
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
/// start from the same weights and see the same batches (`SaeTraining` shares those steps).
///
/// # Errors
/// As [`SaeTraining::new`] and [`SaeTraining::continue_as`] before any step, as
/// [`SaeTraining::run_until`] and [`SaeTraining::finish`] during and after training.
pub fn train_sae(
    config: &SaeConfig,
    variant: SaeVariant,
    seed: u64,
    hidden: ArrayView2<f32>,
    progress: &mut dyn FnMut(&SaeProgress),
) -> Result<(Sae, SaeHistory), TrainError> {
    let mut training = SaeTraining::new(config, seed, hidden)?.continue_as(variant, hidden)?;
    training.run_until(usize::MAX, hidden, progress)?;
    training.finish()
}

/// One SAE's training as `train_sae` runs it, step by step, with everything it carries from
/// one step to the next: the SAE, the optimiser's state, the shuffle and what has been
/// recorded. It can stop after any step and be copied, so that runs that agree on their first
/// steps compute them once: before `ne_start_step` the NE variant is the standard one (same
/// weights, same batches, no NE loss), so a copy taken there continues as the standard SAE or
/// as an NE SAE with any λ_NE, bit for bit as if trained alone.
#[derive(Debug, Clone)]
pub struct SaeTraining {
    config: SaeConfig,
    variant: SaeVariant,
    /// The loss terms of `variant` under `config`.
    terms: Vec<LossTerm>,
    sae: Sae,
    optimizer: Box<dyn Optimizer + Send>,
    order: EpochOrder,
    steps_per_epoch: usize,
    steps_total: usize,
    late_steps: usize,
    /// Steps done.
    step: usize,
    /// Examples in the batches of the steps done.
    examples_seen: usize,
    whole_run: Array1<u64>,
    last_tenth: Array1<u64>,
    history: SaeHistory,
    epoch_sums: Sums,
    window: Sums,
    /// The current batch's rows of the training data, reused from step to step.
    batch: Array2<f32>,
    /// The latents' running mean embeddings, when the NE loss takes its running-mean form.
    running: Option<RunningMeans>,
}

impl SaeTraining {
    /// A fresh standard run on `hidden`, no step taken yet.
    ///
    /// # Errors
    /// [`TrainError::Config`] for a config [`SaeConfig::validate`] refuses;
    /// [`TrainError::NoExamples`], [`TrainError::NoFeatures`] or [`TrainError::NonFiniteInput`]
    /// for activations it cannot train on.
    pub fn new(config: &SaeConfig, seed: u64, hidden: ArrayView2<f32>) -> Result<Self, TrainError> {
        config.validate()?;
        check_inputs(hidden)?;
        let examples = hidden.nrows();
        let sae = Sae::new(
            config.init,
            hidden.ncols(),
            config.latents,
            &mut rng::stream_rng(seed, Stream::SaeInit),
        );
        let steps_per_epoch = examples.div_ceil(config.batch_size);
        let steps_total = steps_per_epoch * config.epochs;
        Ok(Self {
            config: config.clone(),
            variant: SaeVariant::Standard,
            terms: config.loss_terms(SaeVariant::Standard),
            sae,
            optimizer: config.optimizer.build(config.learning_rate),
            order: EpochOrder::new(seed, Stream::SaeShuffle, examples),
            steps_per_epoch,
            steps_total,
            late_steps: steps_total.div_ceil(10),
            step: 0,
            examples_seen: 0,
            whole_run: Array1::zeros(config.latents),
            last_tenth: Array1::zeros(config.latents),
            history: SaeHistory::default(),
            epoch_sums: Sums::new(config.latents),
            window: Sums::new(config.latents),
            batch: Array2::zeros((config.batch_size, hidden.ncols())),
            running: (config.ne_form == NeForm::RunningMean)
                .then(|| RunningMeans::new(config.latents, hidden.ncols(), config.ne_momentum)),
        })
    }

    /// Steps done so far.
    pub fn steps_done(&self) -> usize {
        self.step
    }

    /// Examples in the batches of the steps done so far.
    pub fn examples_seen(&self) -> usize {
        self.examples_seen
    }

    /// The width of the activations the SAE reads.
    pub fn inputs(&self) -> usize {
        self.sae.inputs()
    }

    /// What the run has recorded of which latents fired so far (`TrainingFiring::steps` is the
    /// whole run's).
    pub fn firing(&self) -> TrainingFiring {
        TrainingFiring {
            steps: self.steps_total,
            late_steps: self.late_steps,
            whole_run: self.whole_run.to_vec(),
            last_tenth: self.last_tenth.to_vec(),
        }
    }

    /// This run, from here on with the loss terms of `variant`: checks that the NE loss can
    /// still switch on at `ne_start_step`, i.e. that no step with it on has been missed.
    ///
    /// # Errors
    /// [`TrainError::Config`] ([`crate::ConfigError::NeNeverOn`]) when the NE loss would switch
    /// on only after the run's last step.
    ///
    /// # Panics
    /// If an NE run continues past `ne_start_step` (a caller's bug).
    pub fn continue_as(
        mut self,
        variant: SaeVariant,
        hidden: ArrayView2<f32>,
    ) -> Result<Self, TrainError> {
        if variant == SaeVariant::Ne {
            self.config.validate_for(hidden.nrows())?;
            assert!(
                self.step <= self.config.ne_start_step,
                "an NE run continued at step {} after its NE loss should have switched on at {}",
                self.step,
                self.config.ne_start_step
            );
        }
        self.variant = variant;
        self.terms = self.config.loss_terms(variant);
        Ok(self)
    }

    /// The same run with λ_NE set to `lambda_ne` for the steps to come.
    pub fn with_lambda_ne(mut self, lambda_ne: f32) -> Self {
        self.config.lambda_ne = lambda_ne;
        self.terms = self.config.loss_terms(self.variant);
        self
    }

    /// Trains until `until` steps are done (or the run's last), reporting as `train_sae` does.
    ///
    /// # Errors
    /// [`TrainError::NonFiniteLoss`] when a step's loss is NaN or infinite (the run diverged).
    pub fn run_until(
        &mut self,
        until: usize,
        hidden: ArrayView2<f32>,
        progress: &mut dyn FnMut(&SaeProgress),
    ) -> Result<(), TrainError> {
        let config = &self.config;
        let batch_size = config.batch_size;
        while self.step < until.min(self.steps_total) {
            let (step, epoch) = (self.step, self.step / self.steps_per_epoch);
            let in_epoch = step % self.steps_per_epoch;
            if in_epoch == 0 {
                self.order.next_epoch();
                self.epoch_sums = Sums::new(config.latents);
                self.window = Sums::new(config.latents);
            }
            let order = &self.order.order;
            let rows =
                &order[in_epoch * batch_size..((in_epoch + 1) * batch_size).min(order.len())];
            let h = gather_rows(hidden, rows, &mut self.batch);
            let shape = BatchShape {
                rows: rows.len(),
                inputs: hidden.ncols(),
                latents: config.latents,
            };
            let mut weights = weights_for_batch(&self.terms, step, shape);
            let ne_on = weights.ne.is_some();
            let (sae, optimizer) = (&mut self.sae, &mut *self.optimizer);
            let batch = match &mut self.running {
                None => sae.train_step(optimizer, h, weights, config.unit_norm_decoder),
                Some(means) => {
                    let ne = weights.ne.take();
                    running_mean_step(sae, optimizer, means, h, weights, ne, config)
                }
            }
            .expect("batches are non-empty rows of checked data");
            check_loss(batch.total, epoch, step)?;
            let fired = batch.firing.mapv(u64::from);
            self.whole_run += &fired;
            if step >= self.steps_total - self.late_steps {
                self.last_tenth += &fired;
            }
            self.step += 1;
            self.examples_seen += rows.len();
            self.epoch_sums.add(&batch, rows.len());
            self.window.add(&batch, rows.len());
            let epoch_done = self.step.is_multiple_of(self.steps_per_epoch);
            let epoch_end = epoch_done.then(|| self.epoch_sums.epoch());
            if self.step.is_multiple_of(PROGRESS_EVERY) || epoch_done {
                progress(&SaeProgress {
                    epoch,
                    epochs: config.epochs,
                    step: self.step,
                    steps_total: self.steps_total,
                    window: self.window.epoch().loss,
                    ne_on,
                    epoch_end: epoch_end.clone(),
                });
                self.window = Sums::new(config.latents);
            }
            self.history.epochs.extend(epoch_end);
        }
        Ok(())
    }

    /// The trained SAE and its history, once every step is done.
    ///
    /// # Panics
    /// If steps are left (a caller's bug: `run_until` was stopped early).
    ///
    /// # Errors
    /// [`TrainError::NonFiniteWeights`] when the last step's update left a NaN or infinity.
    pub fn finish(self) -> Result<(Sae, SaeHistory), TrainError> {
        assert_eq!(self.step, self.steps_total, "finish after the last step");
        if !self.sae.all_finite() {
            return Err(TrainError::NonFiniteWeights {
                step: self.step - 1,
            });
        }
        let firing = self.firing();
        let history = SaeHistory {
            epochs: self.history.epochs,
            firing,
        };
        Ok((self.sae, history))
    }
}

/// One step with the NE loss's running-mean form (weight `ne`, when on) added to the SAE's own
/// gradients: the loss against the means of earlier batches and the means moved towards this
/// batch's embeddings (on every step, so they are warm when the loss starts), both from the
/// weights before the step; then the update.
fn running_mean_step(
    sae: &mut Sae,
    optimizer: &mut dyn Optimizer,
    means: &mut RunningMeans,
    h: ArrayView2<f32>,
    weights: SaeLossWeights,
    ne: Option<f32>,
    config: &SaeConfig,
) -> Result<SaeStepStats, ModelError> {
    let (
        SaeBatch {
            mut stats,
            mut grads,
        },
        activity,
    ) = sae.gradients_and_activity(h, weights, true)?;
    let BatchActivity { active, centered } = activity.expect("asked for");
    let loss = means.step_of_active(
        sae.w_enc.view(),
        centered.view(),
        &active,
        ne.map(|_| weights.ne_reduction),
    );
    if let (Some(lambda), Some(loss)) = (ne, loss) {
        grads.w_enc.scaled_add(lambda, &loss.grad_w_enc);
        grads.b_dec.scaled_add(lambda, &loss.grad_b_dec);
        stats.total += lambda * loss.value;
        stats.ne = Some(loss.value);
        stats.losses.push(NamedLoss {
            name: "ne",
            value: loss.value,
            weight: lambda,
        });
    }
    if stats.total.is_finite() {
        sae.update(optimizer, grads, config.unit_norm_decoder);
    }
    Ok(stats)
}

/// Running sums over some steps, in f64 so that long runs do not lose precision.
#[derive(Debug, Clone)]
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
