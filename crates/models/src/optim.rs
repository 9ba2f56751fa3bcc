//! Optimisers shared by the models. Parameters and their gradients are passed as lists of views
//! in a fixed order; an optimiser with state keeps one state slot per position in that list.
use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, Zip};

/// Plain stochastic gradient descent: p -= lr g (no momentum, no weight decay).
#[derive(Debug, Clone)]
pub struct Sgd {
    pub learning_rate: f32,
}

impl Sgd {
    pub fn new(learning_rate: f32) -> Self {
        Self { learning_rate }
    }

    /// One update of every parameter from the gradient at the same position.
    pub fn step(&mut self, params: &mut [ArrayViewMutD<f32>], grads: &[ArrayViewD<f32>]) {
        assert_eq!(params.len(), grads.len(), "one gradient per parameter");
        let lr = self.learning_rate;
        for (param, grad) in params.iter_mut().zip(grads) {
            Zip::from(param).and(grad).for_each(|p, &g| *p -= lr * g);
        }
    }
}

/// Adam as PyTorch's `torch.optim.Adam` with default settings computes it (no weight decay, no
/// AMSGrad): m = β1 m + (1-β1) g, v = β2 v + (1-β2) g², then
/// p -= (lr / (1-β1^t)) m / (sqrt(v) / sqrt(1-β2^t) + ε) with t the 1-based step count.
#[derive(Debug, Clone)]
pub struct Adam {
    pub learning_rate: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub epsilon: f32,
    steps_taken: u32,
    /// First and second moment estimates per parameter, created on the first step.
    moments: Vec<(ArrayD<f32>, ArrayD<f32>)>,
}

impl Adam {
    /// PyTorch's defaults: β1 0.9, β2 0.999, ε 1e-8.
    pub fn new(learning_rate: f32) -> Self {
        Self {
            learning_rate,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            steps_taken: 0,
            moments: Vec::new(),
        }
    }

    /// One update of every parameter from the gradient at the same position. Every call must
    /// pass the same parameters in the same order.
    pub fn step(&mut self, params: &mut [ArrayViewMutD<f32>], grads: &[ArrayViewD<f32>]) {
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
        let (beta1, beta2, epsilon) = (self.beta1, self.beta2, self.epsilon);
        for ((param, grad), (m, v)) in params.iter_mut().zip(grads).zip(&mut self.moments) {
            Zip::from(param)
                .and(grad)
                .and(m)
                .and(v)
                .for_each(|p, &g, m, v| {
                    *m = beta1 * *m + (1.0 - beta1) * g;
                    *v = beta2 * *v + (1.0 - beta2) * g * g;
                    *p -= step_size * *m / (v.sqrt() / correction2_sqrt + epsilon);
                });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{ArrayD, IxDyn, arr1};

    #[test]
    fn sgd_moves_against_the_gradient() {
        let mut p = arr1(&[1.0f32, -2.0]).into_dyn();
        let g = arr1(&[0.5f32, -1.0]).into_dyn();
        Sgd::new(0.1).step(&mut [p.view_mut()], &[g.view()]);
        assert_eq!(p, arr1(&[0.95f32, -1.9]).into_dyn());
    }

    /// Reference values computed by hand from PyTorch's update rule in f64.
    #[test]
    fn adam_matches_the_pytorch_rule_over_three_steps() {
        let mut p = ArrayD::from_elem(IxDyn(&[1]), 1.0f32);
        let mut adam = Adam::new(0.1);
        let (mut m, mut v, mut expected) = (0.0f64, 0.0f64, 1.0f64);
        for (t, g) in [0.5f64, -0.2, 0.3].into_iter().enumerate() {
            let grad = ArrayD::from_elem(IxDyn(&[1]), g as f32);
            adam.step(&mut [p.view_mut()], &[grad.view()]);
            m = 0.9 * m + 0.1 * g;
            v = 0.999 * v + 0.001 * g * g;
            let t = (t + 1) as i32;
            let step_size = 0.1 / (1.0 - 0.9f64.powi(t));
            expected -= step_size * m / (v.sqrt() / (1.0 - 0.999f64.powi(t)).sqrt() + 1e-8);
            assert!(
                (f64::from(p[0]) - expected).abs() < 1e-6,
                "step {t}: {} vs {expected}",
                p[0]
            );
        }
        // The first Adam step moves every coordinate by about lr, whatever the gradient's scale.
        let mut q = arr1(&[0.0f32, 0.0]).into_dyn();
        let g = arr1(&[1e-3f32, -50.0]).into_dyn();
        Adam::new(0.01).step(&mut [q.view_mut()], &[g.view()]);
        assert!(
            (q[0] + 0.01).abs() < 1e-6 && (q[1] - 0.01).abs() < 1e-6,
            "{q}"
        );
    }
}
