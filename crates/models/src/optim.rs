//! Optimisers shared by the models, behind one `Optimizer` trait (as candle-nn's). Parameters
//! and their gradients are passed as lists of views in a fixed order; an optimiser with state
//! keeps one state slot per position in that list. Each follows PyTorch's update rule for the
//! same settings, so a recipe written for `torch.optim` means the same here.
use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, Zip};
use serde::{Deserialize, Serialize};
use std::fmt;

/// One update of a list of parameters from their gradients. An optimiser is `Clone` (with its
/// state), so that a training run can be copied midway (`SaeTraining`).
pub trait Optimizer: fmt::Debug + BoxedClone {
    /// Updates every parameter from the gradient at the same position. Every call must pass the
    /// same parameters in the same order (stateful optimisers keep one slot per position).
    ///
    /// # Panics
    /// If `params` and `grads` differ in length, or the list changes between calls.
    fn step(&mut self, params: &mut [ArrayViewMutD<f32>], grads: &[ArrayViewD<f32>]);

    /// The current learning rate.
    fn learning_rate(&self) -> f32;

    /// Sets the learning rate of the following steps (for a schedule).
    fn set_learning_rate(&mut self, learning_rate: f32);
}

/// A boxed copy of an optimiser with its state; every `Clone` optimiser has it.
pub trait BoxedClone {
    /// The copy, boxed.
    fn boxed_clone(&self) -> Box<dyn Optimizer + Send>;
}

impl<T: Optimizer + Clone + Send + 'static> BoxedClone for T {
    fn boxed_clone(&self) -> Box<dyn Optimizer + Send> {
        Box::new(self.clone())
    }
}

impl Clone for Box<dyn Optimizer + Send> {
    fn clone(&self) -> Self {
        self.as_ref().boxed_clone()
    }
}

/// Which optimiser trains a model, with its settings; `adam` with PyTorch's defaults when a
/// config leaves it out.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum OptimizerConfig {
    /// `torch.optim.SGD(lr, momentum, weight_decay)`.
    Sgd {
        /// Momentum factor (0: none).
        #[serde(default)]
        momentum: f32,
        /// L2 penalty added to the gradient.
        #[serde(default)]
        weight_decay: f32,
    },
    /// `torch.optim.Adam(lr, weight_decay)`: the L2 penalty is added to the gradient.
    Adam {
        /// L2 penalty added to the gradient (0: plain Adam).
        #[serde(default)]
        weight_decay: f32,
    },
    /// `torch.optim.AdamW(lr, weight_decay)`: decoupled weight decay.
    #[serde(rename = "adamw")]
    AdamW {
        /// Decoupled decay: each step multiplies the parameters by 1 - lr × weight_decay.
        #[serde(default = "adamw_default_decay")]
        weight_decay: f32,
    },
}

/// PyTorch's default for `AdamW`.
fn adamw_default_decay() -> f32 {
    0.01
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        Self::Adam { weight_decay: 0.0 }
    }
}

impl OptimizerConfig {
    /// A fresh optimiser of this kind with learning rate `learning_rate`.
    pub fn build(self, learning_rate: f32) -> Box<dyn Optimizer + Send> {
        match self {
            Self::Sgd {
                momentum,
                weight_decay,
            } => Box::new(Sgd {
                momentum,
                weight_decay,
                ..Sgd::new(learning_rate)
            }),
            Self::Adam { weight_decay } => Box::new(Adam {
                weight_decay,
                ..Adam::new(learning_rate)
            }),
            Self::AdamW { weight_decay } => Box::new(AdamW::new(learning_rate, weight_decay)),
        }
    }

    /// The settings that must be finite and >= 0, by name, for validation.
    pub fn settings(&self) -> Vec<(&'static str, f32)> {
        match *self {
            Self::Sgd {
                momentum,
                weight_decay,
            } => vec![("momentum", momentum), ("weight_decay", weight_decay)],
            Self::Adam { weight_decay } | Self::AdamW { weight_decay } => {
                vec![("weight_decay", weight_decay)]
            }
        }
    }
}

/// Stochastic gradient descent as `torch.optim.SGD` (no dampening, no Nesterov): with weight
/// decay g += wd p; with momentum the buffer b = g on the first step and μ b + g after, and
/// g = b; then p -= lr g. With neither it is the plain p -= lr g.
#[derive(Debug, Clone)]
pub struct Sgd {
    /// Step size.
    pub learning_rate: f32,
    /// Momentum factor μ (0: none).
    pub momentum: f32,
    /// L2 penalty added to the gradient.
    pub weight_decay: f32,
    /// Momentum buffers per parameter, created on the first step when momentum is on.
    buffers: Vec<ArrayD<f32>>,
}

impl Sgd {
    /// Plain SGD: no momentum, no weight decay.
    pub fn new(learning_rate: f32) -> Self {
        Self {
            learning_rate,
            momentum: 0.0,
            weight_decay: 0.0,
            buffers: Vec::new(),
        }
    }
}

impl Optimizer for Sgd {
    fn step(&mut self, params: &mut [ArrayViewMutD<f32>], grads: &[ArrayViewD<f32>]) {
        assert_eq!(params.len(), grads.len(), "one gradient per parameter");
        let (lr, momentum, decay) = (self.learning_rate, self.momentum, self.weight_decay);
        if momentum == 0.0 {
            for (param, grad) in params.iter_mut().zip(grads) {
                Zip::from(param)
                    .and(grad)
                    .for_each(|p, &g| *p -= lr * decayed(g, *p, decay));
            }
            return;
        }
        let first = self.buffers.is_empty();
        if first {
            self.buffers = grads.iter().map(|g| ArrayD::zeros(g.raw_dim())).collect();
        }
        assert_eq!(
            self.buffers.len(),
            params.len(),
            "same parameter list on every step"
        );
        for ((param, grad), buffer) in params.iter_mut().zip(grads).zip(&mut self.buffers) {
            Zip::from(param).and(grad).and(buffer).for_each(|p, &g, b| {
                let g = decayed(g, *p, decay);
                *b = if first { g } else { momentum * *b + g };
                *p -= lr * *b;
            });
        }
    }

    fn learning_rate(&self) -> f32 {
        self.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.learning_rate = learning_rate;
    }
}

/// The gradient with an L2 penalty `decay` × p added (unchanged when the decay is 0).
#[inline(always)]
fn decayed(g: f32, p: f32, decay: f32) -> f32 {
    if decay == 0.0 { g } else { g + decay * p }
}

/// Adam as `torch.optim.Adam` computes it (no AMSGrad): with weight decay g += wd p; then
/// m = β1 m + (1-β1) g, v = β2 v + (1-β2) g², and
/// p -= (lr / (1-β1^t)) m / (sqrt(v) / sqrt(1-β2^t) + ε) with t the 1-based step count.
#[derive(Debug, Clone)]
pub struct Adam {
    /// Step size.
    pub learning_rate: f32,
    /// Decay of the first moment.
    pub beta1: f32,
    /// Decay of the second moment.
    pub beta2: f32,
    /// Added to the denominator.
    pub epsilon: f32,
    /// L2 penalty added to the gradient (PyTorch's `Adam(weight_decay=…)`; 0: none).
    pub weight_decay: f32,
    steps_taken: u32,
    /// First and second moment estimates per parameter, created on the first step.
    moments: Vec<(ArrayD<f32>, ArrayD<f32>)>,
}

impl Adam {
    /// PyTorch's defaults: β1 0.9, β2 0.999, ε 1e-8, no weight decay.
    pub fn new(learning_rate: f32) -> Self {
        Self {
            learning_rate,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            weight_decay: 0.0,
            steps_taken: 0,
            moments: Vec::new(),
        }
    }
}

impl Optimizer for Adam {
    fn step(&mut self, params: &mut [ArrayViewMutD<f32>], grads: &[ArrayViewD<f32>]) {
        assert_eq!(params.len(), grads.len(), "one gradient per parameter");
        if self.moments.is_empty() {
            self.moments = grads
                .iter()
                .map(|g| (ArrayD::zeros(g.raw_dim()), ArrayD::zeros(g.raw_dim())))
                .collect();
        }
        assert_eq!(
            self.moments.len(),
            params.len(),
            "same parameter list on every step"
        );
        self.steps_taken += 1;
        // The bias corrections in f64, as PyTorch computes these scalars in Python floats.
        let t = f64::from(self.steps_taken);
        let step_size =
            (f64::from(self.learning_rate) / (1.0 - f64::from(self.beta1).powf(t))) as f32;
        let correction2_sqrt = (1.0 - f64::from(self.beta2).powf(t)).sqrt() as f32;
        let update = AdamUpdate {
            beta1: self.beta1,
            beta2: self.beta2,
            epsilon: self.epsilon,
            decay: self.weight_decay,
            step_size,
            correction2_sqrt,
        };
        for ((param, grad), (m, v)) in params.iter_mut().zip(grads).zip(&mut self.moments) {
            let slices = (param.as_slice_mut(), grad.as_slice(), m.as_slice_mut());
            if let ((Some(p), Some(g), Some(m)), Some(v)) = (slices, v.as_slice_mut()) {
                update.slices(p, g, m, v);
            } else {
                Zip::from(param)
                    .and(grad)
                    .and(m)
                    .and(v)
                    .for_each(|p, &g, m, v| update.one(p, g, m, v));
            }
        }
    }

    fn learning_rate(&self) -> f32 {
        self.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.learning_rate = learning_rate;
    }
}

/// One Adam step's constants.
#[derive(Debug, Clone, Copy)]
struct AdamUpdate {
    beta1: f32,
    beta2: f32,
    epsilon: f32,
    decay: f32,
    step_size: f32,
    correction2_sqrt: f32,
}

impl AdamUpdate {
    /// Updates one parameter `p` and its moments `m`, `v` from its gradient `g`.
    #[inline(always)]
    fn one(self, p: &mut f32, g: f32, m: &mut f32, v: &mut f32) {
        let g = decayed(g, *p, self.decay);
        *m = self.beta1 * *m + (1.0 - self.beta1) * g;
        *v = self.beta2 * *v + (1.0 - self.beta2) * g * g;
        *p -= self.step_size * *m / (v.sqrt() / self.correction2_sqrt + self.epsilon);
    }

    /// `one` over contiguous parameters, compiled for AVX2 where the CPU has it: the same IEEE
    /// operations on each element (vector square roots and divisions round as scalar ones do,
    /// and nothing is fused), so the same bits.
    fn slices(self, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, all that `slices_avx2` needs.
            return unsafe { self.slices_avx2(p, g, m, v) };
        }
        self.slices_any(p, g, m, v);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn slices_avx2(self, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
        self.slices_any(p, g, m, v);
    }

    #[inline(always)]
    fn slices_any(self, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
        for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m).zip(v) {
            self.one(p, g, m, v);
        }
    }
}

/// AdamW as `torch.optim.AdamW` computes it: first p *= 1 - lr wd (decoupled weight decay, the
/// gradient untouched), then the Adam update of `Adam` without its L2 term.
#[derive(Debug, Clone)]
pub struct AdamW {
    /// The Adam update (its own `weight_decay` stays 0).
    adam: Adam,
    /// Decoupled weight decay.
    pub weight_decay: f32,
}

impl AdamW {
    /// PyTorch's defaults for the moments (β1 0.9, β2 0.999, ε 1e-8) and the given decay.
    pub fn new(learning_rate: f32, weight_decay: f32) -> Self {
        Self {
            adam: Adam::new(learning_rate),
            weight_decay,
        }
    }
}

impl Optimizer for AdamW {
    fn step(&mut self, params: &mut [ArrayViewMutD<f32>], grads: &[ArrayViewD<f32>]) {
        let shrink = 1.0 - self.adam.learning_rate * self.weight_decay;
        for param in params.iter_mut() {
            param.mapv_inplace(|p| p * shrink);
        }
        self.adam.step(params, grads);
    }

    fn learning_rate(&self) -> f32 {
        self.adam.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.adam.learning_rate = learning_rate;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{ArrayD, IxDyn, arr1};

    /// The AVX2 build of Adam's element update against the baseline build, bit for bit, with
    /// and without weight decay, over a length that is no multiple of the vector width.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_avx2_adam_update_gives_the_baseline_bits() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            eprintln!("skipped: this CPU has no AVX2");
            return;
        }
        let wave = |i: usize| (i * 37 % 101) as f32 / 50.0 - 1.0;
        let g: Vec<f32> = (0..203).map(|i| wave(i) * 0.3).collect();
        for decay in [0.0, 0.01] {
            let update = AdamUpdate {
                beta1: 0.9,
                beta2: 0.999,
                epsilon: 1e-8,
                decay,
                step_size: 1e-3 / 0.19,
                correction2_sqrt: 0.0447,
            };
            let start = |shift: usize| (0..203).map(|i| wave(i + shift)).collect::<Vec<f32>>();
            let (mut p, mut m, mut v) = (
                start(1),
                start(2),
                start(3).iter().map(|x| x * x).collect::<Vec<f32>>(),
            );
            let (mut wide_p, mut wide_m, mut wide_v) = (p.clone(), m.clone(), v.clone());
            update.slices_any(&mut p, &g, &mut m, &mut v);
            // SAFETY: the CPU has AVX2.
            unsafe { update.slices_avx2(&mut wide_p, &g, &mut wide_m, &mut wide_v) };
            let bits = |a: &[f32]| a.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_ne!(bits(&p), bits(&start(1)));
            assert_eq!(
                (bits(&p), bits(&m), bits(&v)),
                (bits(&wide_p), bits(&wide_m), bits(&wide_v))
            );
        }
    }

    /// Runs `optimizer` on one scalar parameter starting at `start` over `grads`, and checks each
    /// step against `reference`, which updates (p, state) in f64 as PyTorch's formula writes it.
    fn follows<S: Default>(
        optimizer: &mut dyn Optimizer,
        start: f64,
        grads: &[f64],
        reference: impl Fn(usize, f64, f64, &mut S) -> f64,
    ) {
        let mut p = ArrayD::from_elem(IxDyn(&[1]), start as f32);
        let (mut expected, mut state) = (start, S::default());
        for (t, &g) in grads.iter().enumerate() {
            let grad = ArrayD::from_elem(IxDyn(&[1]), g as f32);
            optimizer.step(&mut [p.view_mut()], &[grad.view()]);
            expected = reference(t + 1, expected, g, &mut state);
            assert!(
                (f64::from(p[0]) - expected).abs() < 1e-6,
                "step {}: {} vs {expected}",
                t + 1,
                p[0]
            );
        }
    }

    const GRADS: [f64; 3] = [0.5, -0.2, 0.3];

    /// PyTorch's Adam step for one scalar, with `g` already including any L2 term.
    fn adam_update(t: usize, p: f64, g: f64, (m, v): &mut (f64, f64), lr: f64) -> f64 {
        *m = 0.9 * *m + 0.1 * g;
        *v = 0.999 * *v + 0.001 * g * g;
        let t = t as i32;
        let step_size = lr / (1.0 - 0.9f64.powi(t));
        p - step_size * *m / (v.sqrt() / (1.0 - 0.999f64.powi(t)).sqrt() + 1e-8)
    }

    #[test]
    fn sgd_moves_against_the_gradient() {
        let mut p = arr1(&[1.0f32, -2.0]).into_dyn();
        let g = arr1(&[0.5f32, -1.0]).into_dyn();
        Sgd::new(0.1).step(&mut [p.view_mut()], &[g.view()]);
        assert_eq!(p, arr1(&[0.95f32, -1.9]).into_dyn());
    }

    /// torch.optim.SGD(lr=0.1, momentum=0.9, weight_decay=0.01), dampening 0.
    #[test]
    fn sgd_with_momentum_and_decay_matches_the_pytorch_rule() {
        let mut sgd = OptimizerConfig::Sgd {
            momentum: 0.9,
            weight_decay: 0.01,
        }
        .build(0.1);
        follows(&mut *sgd, 1.0, &GRADS, |t, p, g, buf: &mut f64| {
            let g = g + 0.01 * p;
            *buf = if t == 1 { g } else { 0.9 * *buf + g };
            p - 0.1 * *buf
        });
        // By hand: step 1 g = 0.51, p = 1 - 0.051 = 0.949.
        let mut p = ArrayD::from_elem(IxDyn(&[1]), 1.0f32);
        let mut sgd = OptimizerConfig::Sgd {
            momentum: 0.9,
            weight_decay: 0.01,
        }
        .build(0.1);
        let g = ArrayD::from_elem(IxDyn(&[1]), 0.5f32);
        sgd.step(&mut [p.view_mut()], &[g.view()]);
        assert!((p[0] - 0.949).abs() < 1e-6, "{}", p[0]);
    }

    /// Reference values computed by hand from PyTorch's update rule in f64.
    #[test]
    fn adam_matches_the_pytorch_rule_over_three_steps() {
        follows(&mut Adam::new(0.1), 1.0, &GRADS, |t, p, g, state| {
            adam_update(t, p, g, state, 0.1)
        });
        // The first Adam step moves every coordinate by about lr, whatever the gradient's scale.
        let mut q = arr1(&[0.0f32, 0.0]).into_dyn();
        let g = arr1(&[1e-3f32, -50.0]).into_dyn();
        Adam::new(0.01).step(&mut [q.view_mut()], &[g.view()]);
        assert!(
            (q[0] + 0.01).abs() < 1e-6 && (q[1] - 0.01).abs() < 1e-6,
            "{q}"
        );
    }

    /// torch.optim.Adam(lr=0.1, weight_decay=0.5): the gradient becomes g + 0.5 p.
    #[test]
    fn adam_weight_decay_is_added_to_the_gradient() {
        let mut adam = OptimizerConfig::Adam { weight_decay: 0.5 }.build(0.1);
        follows(&mut *adam, 1.0, &GRADS, |t, p, g, state| {
            adam_update(t, p, g + 0.5 * p, state, 0.1)
        });
    }

    /// torch.optim.AdamW(lr=0.1, weight_decay=0.5): p *= 1 - 0.05, then Adam on the bare g.
    #[test]
    fn adamw_decays_the_weights_apart_from_the_gradient() {
        let mut adamw = OptimizerConfig::AdamW { weight_decay: 0.5 }.build(0.1);
        follows(&mut *adamw, 1.0, &GRADS, |t, p, g, state| {
            adam_update(t, p * (1.0 - 0.1 * 0.5), g, state, 0.1)
        });
        // With a zero gradient only the decay moves the weight: 2 × 0.95 after one step.
        let mut p = ArrayD::from_elem(IxDyn(&[1]), 2.0f32);
        let zero = ArrayD::from_elem(IxDyn(&[1]), 0.0f32);
        AdamW::new(0.1, 0.5).step(&mut [p.view_mut()], &[zero.view()]);
        assert!((p[0] - 1.9).abs() < 1e-6, "{}", p[0]);
    }

    #[test]
    fn learning_rates_can_be_scheduled() {
        let mut optimizers = [
            OptimizerConfig::default().build(0.1),
            OptimizerConfig::AdamW { weight_decay: 0.0 }.build(0.1),
            OptimizerConfig::Sgd {
                momentum: 0.0,
                weight_decay: 0.0,
            }
            .build(0.1),
        ];
        for optimizer in &mut optimizers {
            assert_eq!(optimizer.learning_rate(), 0.1);
            optimizer.set_learning_rate(0.5);
            assert_eq!(optimizer.learning_rate(), 0.5);
        }
    }

    #[test]
    fn configs_read_pytorch_defaults() {
        let adamw: OptimizerConfig = toml::from_str("kind = \"adamw\"").unwrap();
        assert_eq!(adamw, OptimizerConfig::AdamW { weight_decay: 0.01 });
        let sgd: OptimizerConfig = toml::from_str("kind = \"sgd\"\nmomentum = 0.9").unwrap();
        assert_eq!(
            sgd,
            OptimizerConfig::Sgd {
                momentum: 0.9,
                weight_decay: 0.0
            }
        );
        assert!(toml::from_str::<OptimizerConfig>("kind = \"adam\"\nmomentum = 0.9").is_err());
    }
}
