//! Hyperparameters, read from the `[mlp]` and `[sae]` tables of a TOML config.
use crate::error::ConfigError;
use crate::loss_terms::{LossKind, LossTerm, Reduction};
use crate::optim::OptimizerConfig;
use serde::{Deserialize, Serialize};

/// The most epochs a config may ask for: far beyond any useful run (the paper trains 3 and 1),
/// low enough that a typo cannot start a run that never ends.
pub const MAX_EPOCHS: usize = 1000;

/// Bytes of one `f32`, for the memory estimates.
const F32_BYTES: f64 = 4.0;

/// The MLP 784 -> hidden -> 10 and how it is trained (plain SGD, no momentum).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpConfig {
    /// Width of the hidden layer.
    pub hidden: usize,
    /// Passes over the training set.
    pub epochs: usize,
    /// Examples per SGD step.
    pub batch_size: usize,
    /// SGD's step size.
    pub learning_rate: f32,
}

impl Default for MlpConfig {
    fn default() -> Self {
        Self {
            hidden: 64,
            epochs: 3,
            batch_size: 64,
            learning_rate: 0.02,
        }
    }
}

impl MlpConfig {
    /// Rejects settings that cannot train: zero sizes, more than `MAX_EPOCHS` epochs, a learning
    /// rate that is not finite and > 0.
    ///
    /// # Errors
    /// The first rule broken, as a [`ConfigError`] naming the setting.
    pub fn validate(&self) -> Result<(), ConfigError> {
        at_least_one("mlp.hidden", self.hidden)?;
        at_least_one("mlp.epochs", self.epochs)?;
        at_most("mlp.epochs", self.epochs, MAX_EPOCHS)?;
        at_least_one("mlp.batch_size", self.batch_size)?;
        positive("mlp.learning_rate", self.learning_rate)
    }

    /// About how many bytes training takes beyond its data: the weights, their gradient once
    /// per chunk of 64 rows of a batch and once summed, and a batch's activations. An estimate
    /// (it may be off by a small factor), made before anything is allocated.
    pub fn training_bytes(&self, inputs: usize, classes: usize, examples: usize) -> f64 {
        let weights = ((inputs + 1) * self.hidden + (self.hidden + 1) * classes) as f64;
        let batch = self.batch_size.min(examples) as f64;
        let chunks = batch / crate::mlp::GRADIENT_CHUNK_ROWS as f64;
        let activations = batch * (inputs + 3 * self.hidden + 3 * classes) as f64;
        F32_BYTES * (weights * (2.0 + chunks.ceil()) + activations)
    }
}

/// The sparse auto-encoder on the MLP's hidden layer and how it is trained. Keys added after
/// the first release are left out of the serialised config while they hold their default, so
/// a config's digest (and `metrics.json`) reads the same as before they existed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaeConfig {
    /// Latents m.
    pub latents: usize,
    /// Passes over the training set.
    pub epochs: usize,
    /// Examples per step.
    pub batch_size: usize,
    /// The optimiser's learning rate.
    pub learning_rate: f32,
    /// Weight of the L1 penalty (mean over the batch of Σ_j f_j).
    pub lambda_l1: f32,
    /// Weight of the neuron-embedding loss in the NE variant.
    pub lambda_ne: f32,
    /// Step (0-based, counted over the whole run) from which the NE variant adds its loss.
    pub ne_start_step: usize,
    /// How the weights start; `scaled_transpose` when the key is absent.
    #[serde(default)]
    pub init: SaeInit,
    /// The optimiser; Adam with PyTorch's defaults when the table is absent.
    #[serde(default, skip_serializing_if = "is_default")]
    pub optimizer: OptimizerConfig,
    /// Whether the decoder columns are held at unit norm (gradient projected onto the sphere's
    /// tangent, columns renormalised after each step); on when the key is absent.
    #[serde(default = "on", skip_serializing_if = "is_on")]
    pub unit_norm_decoder: bool,
    /// How the squared error is reduced over a batch (`mean`: per-example sum, batch mean;
    /// `element_mean`: PyTorch's `MSELoss()`; `sum`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub mse_reduction: Reduction,
    /// How the L1 penalty is reduced over a batch (`mean`, `sum`, `element_mean`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub l1_reduction: Reduction,
    /// How the NE loss combines its latents (`mean`, `sum`, `pair_sum`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub ne_reduction: Reduction,
    /// What the NE loss compares an active example's embedding with.
    #[serde(default, skip_serializing_if = "is_default")]
    pub ne_form: NeForm,
    /// Weight of the old mean in each update of the `running_mean` form's means.
    #[serde(default = "ne_momentum", skip_serializing_if = "is_ne_momentum")]
    pub ne_momentum: f32,
}

/// The NE loss's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NeForm {
    /// The other active examples of the same latent in the batch (the paper's definition).
    #[default]
    Pairwise,
    /// The latent's running mean embedding from earlier batches (`ne_embed::RunningMeans`).
    RunningMean,
}

fn ne_momentum() -> f32 {
    0.9
}

fn is_ne_momentum(value: &f32) -> bool {
    *value == ne_momentum()
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

fn on() -> bool {
    true
}

fn is_on(value: &bool) -> bool {
    *value
}

/// How an SAE's weights start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SaeInit {
    /// Random unit decoder columns; the encoder is their transpose times d/m (`Sae::init`).
    #[default]
    ScaledTranspose,
    /// The encoder as PyTorch's `nn.Linear(d, m)` starts (uniform in ±1/√d, i.e. kaiming-uniform
    /// with a = √5) with a zero bias; the decoder is its transpose with unit columns
    /// (`Sae::init_pytorch_default`).
    PytorchDefault,
    /// An untied pair of PyTorch `nn.Linear` layers, weights and biases at their default
    /// initialisation (`Sae::init_pytorch_linear_pair`).
    PytorchLinearPair,
}

impl SaeInit {
    /// Its name in a config's `sae.init`, as serde spells it.
    pub fn name(self) -> &'static str {
        match self {
            SaeInit::ScaledTranspose => "scaled_transpose",
            SaeInit::PytorchDefault => "pytorch_default",
            SaeInit::PytorchLinearPair => "pytorch_linear_pair",
        }
    }
}

impl Default for SaeConfig {
    fn default() -> Self {
        Self {
            latents: 512,
            epochs: 1,
            batch_size: 128,
            learning_rate: 1e-3,
            lambda_l1: 3.0,
            lambda_ne: 1000.0,
            ne_start_step: 200,
            init: SaeInit::ScaledTranspose,
            optimizer: OptimizerConfig::default(),
            unit_norm_decoder: true,
            mse_reduction: Reduction::Mean,
            l1_reduction: Reduction::Mean,
            ne_reduction: Reduction::Mean,
            ne_form: NeForm::Pairwise,
            ne_momentum: ne_momentum(),
        }
    }
}

impl SaeConfig {
    /// Rejects settings that cannot train: zero sizes, more than `MAX_EPOCHS` epochs, a learning
    /// rate that is not finite and > 0, loss weights that are not finite and >= 0.
    ///
    /// # Errors
    /// The first rule broken, as a [`ConfigError`] naming the setting.
    pub fn validate(&self) -> Result<(), ConfigError> {
        at_least_one("sae.latents", self.latents)?;
        at_least_one("sae.epochs", self.epochs)?;
        at_most("sae.epochs", self.epochs, MAX_EPOCHS)?;
        at_least_one("sae.batch_size", self.batch_size)?;
        positive("sae.learning_rate", self.learning_rate)?;
        non_negative("sae.lambda_l1", self.lambda_l1)?;
        non_negative("sae.lambda_ne", self.lambda_ne)?;
        self.optimizer
            .settings()
            .into_iter()
            .try_for_each(|(name, value)| non_negative(optimizer_field(name), value))?;
        if !(0.0..1.0).contains(&self.ne_momentum) {
            return Err(ConfigError::NotAFraction {
                field: "sae.ne_momentum",
                value: self.ne_momentum,
            });
        }
        let reductions = [
            ("sae.mse_reduction", self.mse_reduction, LossKind::Mse),
            ("sae.l1_reduction", self.l1_reduction, LossKind::L1),
            ("sae.ne_reduction", self.ne_reduction, LossKind::Ne),
        ];
        match reductions.into_iter().find(|(_, r, kind)| !r.fits(*kind)) {
            Some((field, reduction, kind)) => Err(ConfigError::Reduction {
                field,
                reduction: reduction.name(),
                kind: kind.name(),
            }),
            None => Ok(()),
        }
    }

    /// The loss terms of `variant`: the squared error (weight 1) and λ_L1 × L1 from the first
    /// step, and for the NE variant λ_NE × the NE loss from `ne_start_step` on.
    pub fn loss_terms(&self, variant: SaeVariant) -> Vec<LossTerm> {
        let mut terms = vec![
            LossTerm::new(LossKind::Mse, 1.0).reduced(self.mse_reduction),
            LossTerm::new(LossKind::L1, self.lambda_l1).reduced(self.l1_reduction),
        ];
        if variant == SaeVariant::Ne {
            let ne = LossTerm::new(LossKind::Ne, self.lambda_ne).reduced(self.ne_reduction);
            terms.push(ne.from_step(self.ne_start_step));
        }
        terms
    }

    /// Optimiser steps of a run on `examples` training examples: one per batch, the last batch
    /// of an epoch possibly smaller.
    pub fn steps(&self, examples: usize) -> usize {
        examples
            .div_ceil(self.batch_size)
            .saturating_mul(self.epochs)
    }

    /// The rule that needs the training set's size: the NE loss must switch on before training
    /// ends, or the NE variant would silently be the standard SAE.
    ///
    /// # Errors
    /// [`ConfigError::NeNeverOn`] when `ne_start_step` is not below the run's steps on
    /// `examples` training examples.
    pub fn validate_for(&self, examples: usize) -> Result<(), ConfigError> {
        let steps = self.steps(examples);
        if self.ne_start_step < steps {
            return Ok(());
        }
        Err(ConfigError::NeNeverOn {
            start: self.ne_start_step,
            steps,
            epochs: self.epochs,
            examples,
            batch_size: self.batch_size,
        })
    }

    /// About how many bytes training takes beyond its data, for `inputs` input dimensions: the
    /// weights with their gradient, Adam's two moments, the decoder copy and per-chunk gradients
    /// (two m x d matrices per 64 rows of a batch), and a batch's latents, which the NE loss may
    /// turn into one embedding per active (example, latent) pair. An estimate (it may be off by a
    /// small factor, and assumes every latent fires), made before anything is allocated.
    pub fn training_bytes(&self, inputs: usize, examples: usize) -> f64 {
        let (d, m) = (inputs as f64, self.latents as f64);
        let batch = self.batch_size.min(examples) as f64;
        let chunks = (batch / crate::sae::CHUNK_ROWS as f64).ceil();
        let weights = 2.0 * m * d + m + d;
        let matrices = weights * 4.0 + m * d * (1.0 + 2.0 * chunks);
        let activations = batch * m * (3.0 + d);
        F32_BYTES * (matrices + activations)
    }
}

/// The config key of an optimiser setting, for error messages.
fn optimizer_field(name: &str) -> &'static str {
    match name {
        "momentum" => "sae.optimizer.momentum",
        _ => "sae.optimizer.weight_decay",
    }
}

fn at_least_one(field: &'static str, value: usize) -> Result<(), ConfigError> {
    if value == 0 {
        Err(ConfigError::Zero { field })
    } else {
        Ok(())
    }
}

fn at_most(field: &'static str, value: usize, max: usize) -> Result<(), ConfigError> {
    if value <= max {
        Ok(())
    } else {
        Err(ConfigError::TooLarge { field, value, max })
    }
}

fn positive(field: &'static str, value: f32) -> Result<(), ConfigError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(ConfigError::NotPositive { field, value })
    }
}

fn non_negative(field: &'static str, value: f32) -> Result<(), ConfigError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(ConfigError::Negative { field, value })
    }
}

/// Which SAE to train: without or with the neuron-embedding loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SaeVariant {
    /// MSE and L1 only.
    Standard,
    /// MSE, L1 and, from `ne_start_step` on, λ_NE times the neuron-embedding loss.
    Ne,
}

impl SaeVariant {
    /// Its name in files, logs and `metrics.json`, as serde spells it.
    pub fn name(self) -> &'static str {
        match self {
            SaeVariant::Standard => "standard",
            SaeVariant::Ne => "ne",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_names_are_serde_names() {
        for variant in [SaeVariant::Standard, SaeVariant::Ne] {
            let serde_name = toml::Value::try_from(variant).unwrap();
            assert_eq!(serde_name.as_str(), Some(variant.name()));
        }
        for init in [
            SaeInit::ScaledTranspose,
            SaeInit::PytorchDefault,
            SaeInit::PytorchLinearPair,
        ] {
            let serde_name = toml::Value::try_from(init).unwrap();
            assert_eq!(serde_name.as_str(), Some(init.name()));
        }
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(MlpConfig::default().validate(), Ok(()));
        assert_eq!(SaeConfig::default().validate(), Ok(()));
    }

    /// The field a validation error names, and whether it was a zero size.
    fn rejected(result: Result<(), ConfigError>) -> (&'static str, bool) {
        match result.expect_err("the setting must be rejected") {
            ConfigError::Zero { field } => (field, true),
            ConfigError::NotPositive { field, .. }
            | ConfigError::Negative { field, .. }
            | ConfigError::TooLarge { field, .. } => (field, false),
            ConfigError::NeNeverOn { .. } => ("sae.ne_start_step", false),
            ConfigError::Reduction { field, .. } | ConfigError::NotAFraction { field, .. } => {
                (field, false)
            }
        }
    }

    #[test]
    fn epochs_have_an_upper_bound() {
        let mlp = MlpConfig {
            epochs: 1_000_000_000_000,
            ..MlpConfig::default()
        };
        assert_eq!(
            mlp.validate(),
            Err(ConfigError::TooLarge {
                field: "mlp.epochs",
                value: 1_000_000_000_000,
                max: MAX_EPOCHS
            })
        );
        let sae = SaeConfig {
            epochs: MAX_EPOCHS + 1,
            ..SaeConfig::default()
        };
        assert!(matches!(
            sae.validate(),
            Err(ConfigError::TooLarge {
                field: "sae.epochs",
                ..
            })
        ));
        let longest = SaeConfig {
            epochs: MAX_EPOCHS,
            ..SaeConfig::default()
        };
        assert_eq!(longest.validate(), Ok(()));
    }

    #[test]
    fn steps_and_the_ne_start_rule() {
        let paper = SaeConfig::default();
        assert_eq!(paper.steps(60_000), 469);
        assert_eq!(paper.steps(20_000), 157);
        assert_eq!(paper.validate_for(60_000), Ok(()));
        assert_eq!(
            paper.validate_for(20_000),
            Err(ConfigError::NeNeverOn {
                start: 200,
                steps: 157,
                epochs: 1,
                examples: 20_000,
                batch_size: 128
            })
        );
        // Step 200 is the 201st: 201 steps are enough, 200 are not.
        assert_eq!(paper.validate_for(201 * 128), Ok(()));
        assert!(paper.validate_for(200 * 128).is_err());
    }

    #[test]
    fn memory_estimates_grow_with_the_sizes() {
        let paper = SaeConfig::default();
        let bytes = paper.training_bytes(64, 60_000);
        // The paper's SAE: a few MB of weights, gradients and moments, 4 MB of batch latents.
        assert!((5e6..1e8).contains(&bytes), "{bytes}");
        let huge = SaeConfig {
            latents: 30_000_000,
            ..paper
        };
        assert!(huge.training_bytes(64, 60_000) > 1e11);
        let mlp = MlpConfig::default().training_bytes(784, 10, 60_000);
        assert!((1e5..1e7).contains(&mlp), "{mlp}");
    }

    #[test]
    fn mlp_rejects_zero_sizes_and_bad_learning_rates() {
        type Edit = fn(&mut MlpConfig);
        let zeros: [(&str, Edit); 3] = [
            ("mlp.hidden", |c| c.hidden = 0),
            ("mlp.epochs", |c| c.epochs = 0),
            ("mlp.batch_size", |c| c.batch_size = 0),
        ];
        for (field, edit) in zeros {
            let mut config = MlpConfig::default();
            edit(&mut config);
            assert_eq!(rejected(config.validate()), (field, true));
        }
        for bad in [0.0, -0.1, f32::NAN, f32::INFINITY] {
            let config = MlpConfig {
                learning_rate: bad,
                ..MlpConfig::default()
            };
            assert_eq!(rejected(config.validate()), ("mlp.learning_rate", false));
        }
    }

    #[test]
    fn sae_rejects_zero_sizes_and_bad_weights() {
        type Edit = fn(&mut SaeConfig, f32);
        let zeros: [(&str, Edit); 3] = [
            ("sae.latents", |c, _| c.latents = 0),
            ("sae.epochs", |c, _| c.epochs = 0),
            ("sae.batch_size", |c, _| c.batch_size = 0),
        ];
        for (field, edit) in zeros {
            let mut config = SaeConfig::default();
            edit(&mut config, 0.0);
            assert_eq!(rejected(config.validate()), (field, true));
        }
        let numbers: [(&str, Edit, &[f32]); 3] = [
            (
                "sae.learning_rate",
                |c, v| c.learning_rate = v,
                &[0.0, -1e-3, f32::NAN],
            ),
            (
                "sae.lambda_l1",
                |c, v| c.lambda_l1 = v,
                &[-1.0, f32::NAN, f32::INFINITY],
            ),
            (
                "sae.lambda_ne",
                |c, v| c.lambda_ne = v,
                &[-1.0, f32::NAN, f32::INFINITY],
            ),
        ];
        for (field, edit, bad_values) in numbers {
            for &bad in bad_values {
                let mut config = SaeConfig::default();
                edit(&mut config, bad);
                assert_eq!(
                    rejected(config.validate()),
                    (field, false),
                    "{field} = {bad}"
                );
            }
        }
        let no_penalties = SaeConfig {
            lambda_l1: 0.0,
            lambda_ne: 0.0,
            ..SaeConfig::default()
        };
        assert_eq!(no_penalties.validate(), Ok(()));
    }

    #[test]
    fn toml_tables_parse_and_unknown_keys_are_rejected() {
        let mlp: MlpConfig =
            toml::from_str("hidden = 32\nepochs = 2\nbatch_size = 16\nlearning_rate = 0.05\n")
                .unwrap();
        assert_eq!(
            mlp,
            MlpConfig {
                hidden: 32,
                epochs: 2,
                batch_size: 16,
                learning_rate: 0.05
            }
        );
        let typo =
            "hidden = 32\nepochs = 2\nbatch_size = 16\nlearning_rate = 0.05\nmomentum = 0.9\n";
        let err = toml::from_str::<MlpConfig>(typo).unwrap_err();
        assert!(err.to_string().contains("momentum"), "{err}");

        let sae_text = toml::to_string(&SaeConfig::default()).unwrap();
        assert_eq!(
            toml::from_str::<SaeConfig>(&sae_text).unwrap(),
            SaeConfig::default()
        );
        let err = toml::from_str::<SaeConfig>(&format!("{sae_text}lambda_l2 = 1.0\n")).unwrap_err();
        assert!(err.to_string().contains("lambda_l2"), "{err}");
    }
}
