//! A fully connected layer y = x W^T + b, stored like PyTorch's `nn.Linear`.
use crate::rng::uniform_f32;
use ndarray::{Array1, Array2, ArrayView2, Axis};
use rand_chacha::ChaCha8Rng;

/// One layer's weight and bias, the building block of the MLP.
#[derive(Debug, Clone, PartialEq)]
pub struct Linear {
    /// out x in, as PyTorch stores it.
    pub weight: Array2<f32>,
    /// out.
    pub bias: Array1<f32>,
}

/// d loss / d parameters of one `Linear`, same shapes as the layer.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearGradients {
    /// d loss / d weight, out x in.
    pub weight: Array2<f32>,
    /// d loss / d bias, out.
    pub bias: Array1<f32>,
}

impl Linear {
    /// PyTorch's default `nn.Linear` initialisation: weight, then bias, each entry uniform in
    /// ±1/sqrt(inputs), drawn in row-major order from `rng`.
    pub fn init(inputs: usize, outputs: usize, rng: &mut ChaCha8Rng) -> Self {
        let bound = 1.0 / (inputs as f32).sqrt();
        let weight =
            Array2::from_shape_simple_fn((outputs, inputs), || uniform_f32(rng, -bound, bound));
        let bias = Array1::from_shape_simple_fn(outputs, || uniform_f32(rng, -bound, bound));
        Self { weight, bias }
    }

    /// Width of the inputs it reads.
    pub fn inputs(&self) -> usize {
        self.weight.ncols()
    }

    /// Width of the outputs it writes.
    pub fn outputs(&self) -> usize {
        self.weight.nrows()
    }

    /// Rows of `x` (n x in) to rows of outputs (n x out).
    pub fn forward(&self, x: ArrayView2<f32>) -> Array2<f32> {
        x.dot(&self.weight.t()) + &self.bias
    }

    /// Parameter gradients from the layer's input `x` (n x in) and d loss / d output (n x out):
    /// dW = grad_out^T x, db = column sums of grad_out.
    pub fn param_gradients(x: ArrayView2<f32>, grad_out: ArrayView2<f32>) -> LinearGradients {
        LinearGradients {
            weight: grad_out.t().dot(&x),
            bias: grad_out.sum_axis(Axis(0)),
        }
    }

    /// d loss / d input (n x in) from d loss / d output (n x out): grad_out W.
    pub fn input_gradient(&self, grad_out: ArrayView2<f32>) -> Array2<f32> {
        grad_out.dot(&self.weight)
    }
}

impl LinearGradients {
    pub(crate) fn add_assign(&mut self, other: &Self) {
        self.weight += &other.weight;
        self.bias += &other.bias;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{assert_gradient_close, numeric_gradient, random_array, to_f64};
    use crate::rng::{Stream, stream_rng};

    /// A layer of `outputs` x `inputs` written out with loops in f64.
    struct Reference {
        inputs: usize,
        outputs: usize,
    }

    impl Reference {
        fn forward(&self, x: &[f64], w: &[f64], b: &[f64]) -> Vec<f64> {
            let rows = x.len() / self.inputs;
            let mut y = vec![0.0; rows * self.outputs];
            for i in 0..rows {
                for o in 0..self.outputs {
                    let dot: f64 = (0..self.inputs)
                        .map(|k| x[i * self.inputs + k] * w[o * self.inputs + k])
                        .sum();
                    y[i * self.outputs + o] = dot + b[o];
                }
            }
            y
        }

        /// sum(c ⊙ y): its gradient with respect to y is c.
        fn loss(&self, x: &[f64], w: &[f64], b: &[f64], c: &[f64]) -> f64 {
            self.forward(x, w, b)
                .iter()
                .zip(c)
                .map(|(y, c)| y * c)
                .sum()
        }
    }

    #[test]
    fn init_is_uniform_within_the_pytorch_bound() {
        let layer = Linear::init(16, 200, &mut stream_rng(5, Stream::MlpInit));
        let bound = 0.25;
        assert!(
            layer
                .weight
                .iter()
                .chain(&layer.bias)
                .all(|v| v.abs() < bound)
        );
        assert!(layer.weight.iter().any(|&v| v > 0.95 * bound));
        assert!(layer.weight.iter().any(|&v| v < -0.95 * bound));
        let again = Linear::init(16, 200, &mut stream_rng(5, Stream::MlpInit));
        assert_eq!(layer, again);
    }

    #[test]
    fn forward_and_gradients_match_finite_differences() {
        let reference = Reference {
            inputs: 5,
            outputs: 4,
        };
        let layer = Linear::init(5, 4, &mut stream_rng(11, Stream::MlpInit));
        let x = random_array(12, (3, 5), -1.0, 1.0);
        let c = random_array(13, (3, 4), -1.0, 1.0);
        let (x64, w64, b64, c64) = (
            to_f64(&x),
            to_f64(&layer.weight),
            to_f64(&layer.bias),
            to_f64(&c),
        );

        let y = layer.forward(x.view());
        for (&got, want) in y.iter().zip(reference.forward(&x64, &w64, &b64)) {
            assert!(
                (f64::from(got) - want).abs() < 1e-5,
                "forward {got} vs {want}"
            );
        }
        let grads = Linear::param_gradients(x.view(), c.view());
        let eps = 1e-6;
        let numeric_w = numeric_gradient(&w64, eps, |w| reference.loss(&x64, w, &b64, &c64));
        assert_gradient_close("weight", &grads.weight, &numeric_w);
        let numeric_b = numeric_gradient(&b64, eps, |b| reference.loss(&x64, &w64, b, &c64));
        assert_gradient_close("bias", &grads.bias, &numeric_b);
        let numeric_x = numeric_gradient(&x64, eps, |x| reference.loss(x, &w64, &b64, &c64));
        assert_gradient_close("input", &layer.input_gradient(c.view()), &numeric_x);
    }
}
