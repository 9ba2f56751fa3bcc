//! Hyperparameters, read from the `[mlp]` and `[sae]` tables of a TOML config.
use crate::error::ConfigError;
use serde::{Deserialize, Serialize};

/// The MLP 784 -> hidden -> 10 and how it is trained (plain SGD, no momentum).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpConfig {
    pub hidden: usize,
    pub epochs: usize,
    pub batch_size: usize,
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
    /// Rejects settings that cannot train: zero sizes, a learning rate that is not finite and > 0.
    pub fn validate(&self) -> Result<(), ConfigError> {
        at_least_one("mlp.hidden", self.hidden)?;
        at_least_one("mlp.epochs", self.epochs)?;
        at_least_one("mlp.batch_size", self.batch_size)?;
        positive("mlp.learning_rate", self.learning_rate)
    }
}

/// The sparse auto-encoder on the MLP's hidden layer and how it is trained (Adam).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaeConfig {
    pub latents: usize,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f32,
    pub lambda_l1: f32,
    /// Weight of the neuron-embedding loss in the NE variant.
    pub lambda_ne: f32,
    /// Step (0-based, counted over the whole run) from which the NE variant adds its loss.
    pub ne_start_step: usize,
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
        }
    }
}

impl SaeConfig {
    /// Rejects settings that cannot train: zero sizes, a learning rate that is not finite and > 0,
    /// loss weights that are not finite and >= 0.
    pub fn validate(&self) -> Result<(), ConfigError> {
        at_least_one("sae.latents", self.latents)?;
        at_least_one("sae.epochs", self.epochs)?;
        at_least_one("sae.batch_size", self.batch_size)?;
        positive("sae.learning_rate", self.learning_rate)?;
        non_negative("sae.lambda_l1", self.lambda_l1)?;
        non_negative("sae.lambda_ne", self.lambda_ne)
    }
}

fn at_least_one(field: &'static str, value: usize) -> Result<(), ConfigError> {
    if value == 0 {
        Err(ConfigError::Zero { field })
    } else {
        Ok(())
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
    Standard,
    Ne,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert_eq!(MlpConfig::default().validate(), Ok(()));
        assert_eq!(SaeConfig::default().validate(), Ok(()));
    }

    #[test]
    fn mlp_rejects_zero_sizes_and_bad_learning_rates() {
        let base = MlpConfig::default();
        let zero = |field| Err(ConfigError::Zero { field });
        assert_eq!(
            MlpConfig {
                hidden: 0,
                ..base.clone()
            }
            .validate(),
            zero("mlp.hidden")
        );
        assert_eq!(
            MlpConfig {
                epochs: 0,
                ..base.clone()
            }
            .validate(),
            zero("mlp.epochs")
        );
        assert_eq!(
            MlpConfig {
                batch_size: 0,
                ..base.clone()
            }
            .validate(),
            zero("mlp.batch_size")
        );
        for bad in [0.0, -0.1, f32::NAN, f32::INFINITY] {
            let err = MlpConfig {
                learning_rate: bad,
                ..base.clone()
            }
            .validate()
            .unwrap_err();
            assert!(matches!(
                err,
                ConfigError::NotPositive {
                    field: "mlp.learning_rate",
                    ..
                }
            ));
        }
    }

    #[test]
    fn sae_rejects_zero_sizes_and_bad_weights() {
        let base = SaeConfig::default();
        let zero = |field| Err(ConfigError::Zero { field });
        assert_eq!(
            SaeConfig {
                latents: 0,
                ..base.clone()
            }
            .validate(),
            zero("sae.latents")
        );
        assert_eq!(
            SaeConfig {
                epochs: 0,
                ..base.clone()
            }
            .validate(),
            zero("sae.epochs")
        );
        assert_eq!(
            SaeConfig {
                batch_size: 0,
                ..base.clone()
            }
            .validate(),
            zero("sae.batch_size")
        );
        for bad in [0.0, -1e-3, f32::NAN] {
            let err = SaeConfig {
                learning_rate: bad,
                ..base.clone()
            }
            .validate()
            .unwrap_err();
            assert!(matches!(
                err,
                ConfigError::NotPositive {
                    field: "sae.learning_rate",
                    ..
                }
            ));
        }
        for bad in [-1.0, f32::NAN, f32::INFINITY] {
            let err = SaeConfig {
                lambda_l1: bad,
                ..base.clone()
            }
            .validate()
            .unwrap_err();
            assert!(matches!(
                err,
                ConfigError::Negative {
                    field: "sae.lambda_l1",
                    ..
                }
            ));
            let err = SaeConfig {
                lambda_ne: bad,
                ..base.clone()
            }
            .validate()
            .unwrap_err();
            assert!(matches!(
                err,
                ConfigError::Negative {
                    field: "sae.lambda_ne",
                    ..
                }
            ));
        }
        let no_penalties = SaeConfig {
            lambda_l1: 0.0,
            lambda_ne: 0.0,
            ..base
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
