//! The SAE's loss as a list of named terms, each with its weight and the step from which it is
//! on (SAELens names its loss terms the same way). The training loop turns the list into one
//! step's `SaeLossWeights`; a new term is a new `LossKind`.
use crate::sae::SaeLossWeights;
use serde::{Deserialize, Serialize};

/// What a loss term measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossKind {
    /// Mean over the batch of ||h_hat - h||².
    Mse,
    /// Mean over the batch of Σ_j f_j.
    L1,
    /// The neuron-embedding loss (`ne_embed::ne_loss`).
    Ne,
}

impl LossKind {
    /// Its name in step statistics and logs.
    pub fn name(self) -> &'static str {
        match self {
            LossKind::Mse => "mse",
            LossKind::L1 => "l1",
            LossKind::Ne => "ne",
        }
    }
}

/// One term of the loss: `weight` × the term, from step `start_step` (0-based over the run) on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LossTerm {
    /// What it measures.
    pub kind: LossKind,
    /// Its coefficient in the total.
    pub weight: f32,
    /// The first step on which it counts.
    #[serde(default)]
    pub start_step: usize,
}

impl LossTerm {
    /// A term on from the first step.
    pub fn new(kind: LossKind, weight: f32) -> Self {
        Self {
            kind,
            weight,
            start_step: 0,
        }
    }

    /// The same term, switched on at `step`.
    pub fn from_step(self, step: usize) -> Self {
        Self {
            start_step: step,
            ..self
        }
    }
}

/// The weights of step `step`: the terms on at that step, each kind's weights summed (a kind
/// with no term on weighs 0; the NE loss is then not computed at all).
pub fn weights_at(terms: &[LossTerm], step: usize) -> SaeLossWeights {
    let mut weights = SaeLossWeights {
        mse: 0.0,
        l1: 0.0,
        ne: None,
    };
    for term in terms.iter().filter(|term| step >= term.start_step) {
        match term.kind {
            LossKind::Mse => weights.mse += term.weight,
            LossKind::L1 => weights.l1 += term.weight,
            LossKind::Ne => *weights.ne.get_or_insert(0.0) += term.weight,
        }
    }
    weights
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_switch_on_at_their_start_step() {
        let terms = [
            LossTerm::new(LossKind::Mse, 1.0),
            LossTerm::new(LossKind::L1, 3.0),
            LossTerm::new(LossKind::Ne, 1000.0).from_step(200),
        ];
        let before = weights_at(&terms, 199);
        assert_eq!((before.mse, before.l1, before.ne), (1.0, 3.0, None));
        let after = weights_at(&terms, 200);
        assert_eq!((after.mse, after.l1, after.ne), (1.0, 3.0, Some(1000.0)));
        let l1_late = [LossTerm::new(LossKind::L1, 2.0).from_step(5)];
        assert_eq!(weights_at(&l1_late, 4).l1, 0.0);
        assert_eq!(weights_at(&l1_late, 4).mse, 0.0);
        assert_eq!(weights_at(&l1_late, 5).l1, 2.0);
    }

    #[test]
    fn terms_read_from_toml_by_name() {
        let term: LossTerm = toml::from_str("kind = \"ne\"\nweight = 0.5\nstart_step = 3").unwrap();
        assert_eq!(term, LossTerm::new(LossKind::Ne, 0.5).from_step(3));
        assert_eq!(LossKind::Ne.name(), "ne");
        assert!(toml::from_str::<LossTerm>("kind = \"l2\"\nweight = 1").is_err());
    }
}
