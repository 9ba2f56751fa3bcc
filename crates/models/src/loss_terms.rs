//! The SAE's loss as a list of named terms, each with its weight and the step from which it is
//! on (SAELens names its loss terms the same way). The training loop turns the list into one
//! step's `SaeLossWeights`; a new term is a new `LossKind`.
use crate::sae::SaeLossWeights;
use ne_embed::NeReduction;
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

/// How a term is reduced over the batch (the scale its weight is on: PyTorch recipes differ
/// here, e.g. an element-mean MSE beside an L1 summed over the batch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reduction {
    /// MSE and L1: mean over the batch's examples of the per-example sum; NE: mean over the
    /// latents counted.
    #[default]
    Mean,
    /// MSE and L1: sum over the batch's examples; NE: sum over the latents counted.
    Sum,
    /// MSE: mean over every element (the batch mean divided by d); L1: divided by m.
    ElementMean,
    /// NE only: each latent weighted by its active examples (a sum over active pairs).
    PairSum,
}

impl Reduction {
    /// Its name in a config, as serde spells it.
    pub fn name(self) -> &'static str {
        match self {
            Reduction::Mean => "mean",
            Reduction::Sum => "sum",
            Reduction::ElementMean => "element_mean",
            Reduction::PairSum => "pair_sum",
        }
    }

    /// Whether a term of `kind` can be reduced this way.
    pub fn fits(self, kind: LossKind) -> bool {
        match self {
            Reduction::Mean | Reduction::Sum => true,
            Reduction::ElementMean => kind != LossKind::Ne,
            Reduction::PairSum => kind == LossKind::Ne,
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
    /// How it is reduced over the batch.
    #[serde(default)]
    pub reduction: Reduction,
}

impl LossTerm {
    /// A term on from the first step.
    pub fn new(kind: LossKind, weight: f32) -> Self {
        Self {
            kind,
            weight,
            start_step: 0,
            reduction: Reduction::Mean,
        }
    }

    /// The same term, reduced as `reduction` says.
    pub fn reduced(self, reduction: Reduction) -> Self {
        Self { reduction, ..self }
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
/// with no term on weighs 0; the NE loss is then not computed at all). For the default
/// reduction (`Mean`) this is `weights_for_batch` with any batch shape.
pub fn weights_at(terms: &[LossTerm], step: usize) -> SaeLossWeights {
    weights_for_batch(terms, step, BatchShape::default())
}

/// The sizes a reduction needs: a batch's rows, the SAE's inputs d and latents m.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BatchShape {
    /// Examples in the batch.
    pub rows: usize,
    /// Input dimensions d.
    pub inputs: usize,
    /// Latents m.
    pub latents: usize,
}

/// `weights_at` for a batch of shape `batch`, each term's weight scaled to its reduction (the
/// SAE computes batch means; a sum is n times that, an element mean 1/d or 1/m of it). The NE
/// loss takes the last NE term's reduction.
pub fn weights_for_batch(terms: &[LossTerm], step: usize, batch: BatchShape) -> SaeLossWeights {
    let mut weights = SaeLossWeights {
        mse: 0.0,
        l1: 0.0,
        ne: None,
        ne_reduction: NeReduction::LatentMean,
    };
    for term in terms.iter().filter(|term| step >= term.start_step) {
        let per = |elements: usize| match term.reduction {
            Reduction::Sum => term.weight * batch.rows as f32,
            Reduction::ElementMean => term.weight / elements as f32,
            Reduction::Mean | Reduction::PairSum => term.weight,
        };
        match term.kind {
            LossKind::Mse => weights.mse += per(batch.inputs),
            LossKind::L1 => weights.l1 += per(batch.latents),
            LossKind::Ne => {
                *weights.ne.get_or_insert(0.0) += term.weight;
                weights.ne_reduction = match term.reduction {
                    Reduction::Sum => NeReduction::LatentSum,
                    Reduction::PairSum => NeReduction::PairSum,
                    Reduction::Mean | Reduction::ElementMean => NeReduction::LatentMean,
                };
            }
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
    fn reductions_scale_the_weights_to_the_batch() {
        let batch = BatchShape {
            rows: 128,
            inputs: 64,
            latents: 512,
        };
        let terms = [
            LossTerm::new(LossKind::Mse, 1.0).reduced(Reduction::ElementMean),
            LossTerm::new(LossKind::L1, 2e-4).reduced(Reduction::Sum),
            LossTerm::new(LossKind::Ne, 0.005).reduced(Reduction::PairSum),
        ];
        let w = weights_for_batch(&terms, 0, batch);
        assert_eq!(w.mse, 1.0 / 64.0);
        assert_eq!(w.l1, 2e-4 * 128.0);
        assert_eq!((w.ne, w.ne_reduction), (Some(0.005), NeReduction::PairSum));
        let mean = weights_for_batch(&[LossTerm::new(LossKind::L1, 3.0)], 0, batch);
        assert_eq!(mean, weights_at(&[LossTerm::new(LossKind::L1, 3.0)], 0));
        assert!(!Reduction::PairSum.fits(LossKind::L1));
        assert!(!Reduction::ElementMean.fits(LossKind::Ne));
    }

    #[test]
    fn terms_read_from_toml_by_name() {
        let term: LossTerm = toml::from_str("kind = \"ne\"\nweight = 0.5\nstart_step = 3").unwrap();
        assert_eq!(term, LossTerm::new(LossKind::Ne, 0.5).from_step(3));
        assert_eq!(LossKind::Ne.name(), "ne");
        assert!(toml::from_str::<LossTerm>("kind = \"l2\"\nweight = 1").is_err());
    }
}
