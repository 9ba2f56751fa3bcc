//! The MLP 784 -> 64 (ReLU) -> 10 of the paper.
use crate::Linear;
use crate::error::ModelError;
use crate::linear::LinearGradients;
use crate::ops::{argmax, relu, relu_backward, softmax_cross_entropy};
use crate::optim::{Optimizer, Sgd};
use crate::parallel::{INFERENCE_CHUNK_ROWS, map_row_chunks, map_row_ranges};
use crate::weights::{self, WeightFile};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewD, ArrayViewMutD, Axis, s};
use rand_chacha::ChaCha8Rng;

/// The classifier whose hidden layer the SAEs read: linear, ReLU, linear.
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    /// 784 -> hidden; PyTorch name `fc1`.
    pub fc1: Linear,
    /// hidden -> 10; PyTorch name `fc2`.
    pub fc2: Linear,
}

/// d loss / d parameters of an `Mlp`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MlpGradients {
    pub fc1: LinearGradients,
    pub fc2: LinearGradients,
}

/// Loss statistics and gradients of some rows of a batch.
#[derive(Debug, Clone)]
pub(crate) struct MlpBatchGradients {
    /// Sum over the rows of their cross-entropy.
    pub loss_sum: f32,
    /// Rows classified correctly.
    pub correct: usize,
    /// Gradient of the batch's mean loss (these rows' share of it).
    pub grads: MlpGradients,
}

/// Loss and accuracy of one training batch, measured before its update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MlpStepStats {
    /// Mean cross-entropy over the batch.
    pub loss: f32,
    /// Examples of the batch classified correctly.
    pub correct: usize,
}

/// Rows per gradient chunk: a larger batch is split into chunks whose gradients are computed in
/// parallel and summed in chunk order.
pub(crate) const GRADIENT_CHUNK_ROWS: usize = 64;

const NAMES: [&str; 4] = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"];

impl Mlp {
    /// Both layers initialised like PyTorch's `nn.Linear`, `fc1` first, from `rng`.
    pub fn init(inputs: usize, hidden: usize, classes: usize, rng: &mut ChaCha8Rng) -> Self {
        let fc1 = Linear::init(inputs, hidden, rng);
        let fc2 = Linear::init(hidden, classes, rng);
        Self { fc1, fc2 }
    }

    /// Hidden activations ReLU(fc1(x)) for normalised images (n x 784), over fixed chunks of
    /// rows in parallel.
    pub fn hidden(&self, images: ArrayView2<f32>) -> Array2<f32> {
        let chunks = map_row_chunks(images, INFERENCE_CHUNK_ROWS, |c| self.hidden_of_chunk(c));
        match chunks.len() {
            0 => Array2::zeros((0, self.fc1.outputs())),
            1 => chunks.into_iter().next().expect("one chunk"),
            _ => {
                let views: Vec<ArrayView2<f32>> = chunks.iter().map(|c| c.view()).collect();
                ndarray::concatenate(Axis(0), &views).expect("chunks share their width")
            }
        }
    }

    fn hidden_of_chunk(&self, images: ArrayView2<f32>) -> Array2<f32> {
        relu(self.fc1.forward(images))
    }

    /// Class logits from hidden activations (n x hidden -> n x 10).
    pub fn logits_from_hidden(&self, hidden: ArrayView2<f32>) -> Array2<f32> {
        self.fc2.forward(hidden)
    }

    /// Predicted class (largest logit, first on ties) of each image, computed in parallel.
    ///
    /// # Errors
    /// [`ModelError::InputWidth`] when the images are not as wide as the first layer reads.
    pub fn predict(&self, images: ArrayView2<f32>) -> Result<Array1<usize>, ModelError> {
        check_width(self.fc1.inputs(), images)?;
        Ok(self.predict_chunks(images, |chunk| {
            self.logits_from_hidden(self.hidden_of_chunk(chunk).view())
        }))
    }

    /// Predicted class of each example from hidden activations (e.g. an SAE's reconstruction).
    ///
    /// # Errors
    /// [`ModelError::InputWidth`] when `hidden` is not as wide as the hidden layer.
    pub fn predict_from_hidden(
        &self,
        hidden: ArrayView2<f32>,
    ) -> Result<Array1<usize>, ModelError> {
        check_width(self.fc2.inputs(), hidden)?;
        Ok(self.predict_chunks(hidden, |chunk| self.logits_from_hidden(chunk)))
    }

    /// Share of `images` classified as their label, in [0, 1].
    ///
    /// # Errors
    /// [`ModelError::LabelCount`] when images and labels differ in number,
    /// [`ModelError::InputWidth`] as [`Mlp::predict`].
    pub fn accuracy(
        &self,
        images: ArrayView2<f32>,
        labels: ArrayView1<u8>,
    ) -> Result<f32, ModelError> {
        check_label_count(images, labels)?;
        Ok(share_correct(self.predict(images)?.view(), labels))
    }

    /// Share of examples classified as their label when the hidden layer is `hidden`.
    ///
    /// # Errors
    /// [`ModelError::LabelCount`] when rows and labels differ in number,
    /// [`ModelError::InputWidth`] as [`Mlp::predict_from_hidden`].
    pub fn accuracy_from_hidden(
        &self,
        hidden: ArrayView2<f32>,
        labels: ArrayView1<u8>,
    ) -> Result<f32, ModelError> {
        check_label_count(hidden, labels)?;
        Ok(share_correct(
            self.predict_from_hidden(hidden)?.view(),
            labels,
        ))
    }

    fn predict_chunks<F>(&self, x: ArrayView2<f32>, logits: F) -> Array1<usize>
    where
        F: Fn(ArrayView2<f32>) -> Array2<f32> + Sync + Send,
    {
        let chunks = map_row_chunks(x, INFERENCE_CHUNK_ROWS, |chunk| {
            logits(chunk)
                .outer_iter()
                .map(|row| argmax(row))
                .collect::<Vec<_>>()
        });
        chunks.into_iter().flatten().collect()
    }

    /// One SGD step on a batch of normalised images and their labels: mean cross-entropy, its
    /// gradient, and (if the loss is finite) one update. A non-finite loss leaves the model
    /// untouched (the caller decides what to do).
    ///
    /// # Errors
    /// [`ModelError::EmptyBatch`] for no example, [`ModelError::InputWidth`],
    /// [`ModelError::LabelCount`] or [`ModelError::LabelOutOfRange`] for a batch that does not
    /// fit the model; the model is then untouched.
    pub fn train_step(
        &mut self,
        sgd: &mut Sgd,
        images: ArrayView2<f32>,
        labels: ArrayView1<u8>,
    ) -> Result<MlpStepStats, ModelError> {
        check_width(self.fc1.inputs(), images)?;
        check_label_count(images, labels)?;
        if images.nrows() == 0 {
            return Err(ModelError::EmptyBatch);
        }
        let classes = self.fc2.outputs();
        if let Some(index) = labels.iter().position(|&l| usize::from(l) >= classes) {
            return Err(ModelError::LabelOutOfRange {
                index,
                label: labels[index],
                classes,
            });
        }
        let batch = self.chunked_batch_gradients(images, labels);
        let loss = batch.loss_sum / images.nrows() as f32;
        if loss.is_finite() {
            sgd.step(&mut self.params_mut(), &batch.grads.views());
        }
        Ok(MlpStepStats {
            loss,
            correct: batch.correct,
        })
    }

    /// `batch_gradients` of a whole batch, over fixed chunks of `GRADIENT_CHUNK_ROWS` rows
    /// computed in parallel and summed in order.
    pub(crate) fn chunked_batch_gradients(
        &self,
        x: ArrayView2<f32>,
        labels: ArrayView1<u8>,
    ) -> MlpBatchGradients {
        let rows = x.nrows();
        let chunks = map_row_ranges(rows, GRADIENT_CHUNK_ROWS, |range| {
            self.batch_gradients(
                x.slice(s![range.clone(), ..]),
                labels.slice(s![range]),
                rows,
            )
        });
        let mut chunks = chunks.into_iter();
        let first = chunks.next().expect("a batch has at least one row");
        chunks.fold(first, |sum, chunk| sum.merge(&chunk))
    }

    /// Cross-entropy of rows `x` against `labels` as part of a mean over `mean_over` examples,
    /// with its gradient by backpropagation.
    pub(crate) fn batch_gradients(
        &self,
        x: ArrayView2<f32>,
        labels: ArrayView1<u8>,
        mean_over: usize,
    ) -> MlpBatchGradients {
        let hidden = self.hidden(x);
        let logits = self.logits_from_hidden(hidden.view());
        let loss = softmax_cross_entropy(logits.view(), labels, mean_over);
        let fc2 = Linear::param_gradients(hidden.view(), loss.grad_logits.view());
        let grad_hidden = self.fc2.input_gradient(loss.grad_logits.view());
        // ReLU's output is > 0 exactly where its input is, so it serves as the mask.
        let grad_pre = relu_backward(grad_hidden, hidden.view());
        let fc1 = Linear::param_gradients(x, grad_pre.view());
        MlpBatchGradients {
            loss_sum: loss.loss_sum,
            correct: loss.correct,
            grads: MlpGradients { fc1, fc2 },
        }
    }

    /// The parameters in optimiser order: fc1 weight, fc1 bias, fc2 weight, fc2 bias.
    pub(crate) fn params_mut(&mut self) -> [ArrayViewMutD<'_, f32>; 4] {
        [
            self.fc1.weight.view_mut().into_dyn(),
            self.fc1.bias.view_mut().into_dyn(),
            self.fc2.weight.view_mut().into_dyn(),
            self.fc2.bias.view_mut().into_dyn(),
        ]
    }

    pub(crate) fn all_finite(&self) -> bool {
        [&self.fc1, &self.fc2]
            .iter()
            .all(|l| l.weight.iter().chain(&l.bias).all(|v| v.is_finite()))
    }

    /// The weights as safetensors under PyTorch's names and shapes.
    pub fn to_safetensors(&self) -> Vec<u8> {
        let [w1, b1, w2, b2] = [
            self.fc1.weight.view().into_dyn(),
            self.fc1.bias.view().into_dyn(),
            self.fc2.weight.view().into_dyn(),
            self.fc2.bias.view().into_dyn(),
        ];
        weights::to_bytes(&[
            (NAMES[0], w1),
            (NAMES[1], b1),
            (NAMES[2], w2),
            (NAMES[3], b2),
        ])
    }

    /// Checks that the layers are `inputs` -> `hidden` -> `classes`, naming the first tensor
    /// whose shape is not what those sizes make it.
    ///
    /// # Errors
    /// [`ModelError::Shape`] naming that tensor.
    pub fn check_sizes(
        &self,
        inputs: usize,
        hidden: usize,
        classes: usize,
    ) -> Result<(), ModelError> {
        let shapes: [(&'static str, &[usize], &[usize]); 4] = [
            (NAMES[0], self.fc1.weight.shape(), &[hidden, inputs]),
            (NAMES[1], self.fc1.bias.shape(), &[hidden]),
            (NAMES[2], self.fc2.weight.shape(), &[classes, hidden]),
            (NAMES[3], self.fc2.bias.shape(), &[classes]),
        ];
        shapes
            .into_iter()
            .try_for_each(|(name, found, expected)| weights::expect_shape(name, found, expected))
    }

    /// Weights written by `to_safetensors` (or PyTorch): exactly the four tensors, F32, finite,
    /// with consistent shapes.
    ///
    /// # Errors
    /// When the bytes are not safetensors, a tensor is missing, extra, not F32, not finite, or
    /// of a shape that does not fit the others; the [`ModelError`] names the tensor.
    pub fn from_safetensors(bytes: &[u8]) -> Result<Self, ModelError> {
        let file = WeightFile::parse(bytes, &NAMES)?;
        let fc1_weight = file.matrix(NAMES[0])?;
        let hidden = fc1_weight.nrows();
        let fc1_bias = file.vector(NAMES[1], hidden)?;
        let fc2_weight = file.matrix(NAMES[2])?;
        let classes = fc2_weight.nrows();
        weights::expect_shape(NAMES[2], fc2_weight.shape(), &[classes, hidden])?;
        let fc2_bias = file.vector(NAMES[3], classes)?;
        Ok(Self {
            fc1: Linear {
                weight: fc1_weight,
                bias: fc1_bias,
            },
            fc2: Linear {
                weight: fc2_weight,
                bias: fc2_bias,
            },
        })
    }
}

impl MlpGradients {
    /// Views in the order of `Mlp::params_mut`.
    pub(crate) fn views(&self) -> [ArrayViewD<'_, f32>; 4] {
        [
            self.fc1.weight.view().into_dyn(),
            self.fc1.bias.view().into_dyn(),
            self.fc2.weight.view().into_dyn(),
            self.fc2.bias.view().into_dyn(),
        ]
    }
}

impl MlpBatchGradients {
    /// Adds the statistics and gradients of other rows of the same batch.
    pub(crate) fn merge(mut self, other: &Self) -> Self {
        self.loss_sum += other.loss_sum;
        self.correct += other.correct;
        self.grads.fc1.add_assign(&other.grads.fc1);
        self.grads.fc2.add_assign(&other.grads.fc2);
        self
    }
}

fn share_correct(predicted: ArrayView1<usize>, labels: ArrayView1<u8>) -> f32 {
    let correct = predicted
        .iter()
        .zip(labels)
        .filter(|(p, l)| **p == usize::from(**l))
        .count();
    correct as f32 / labels.len().max(1) as f32
}

fn check_width(expected: usize, x: ArrayView2<f32>) -> Result<(), ModelError> {
    if x.ncols() == expected {
        Ok(())
    } else {
        Err(ModelError::InputWidth {
            expected,
            found: x.ncols(),
        })
    }
}

fn check_label_count(x: ArrayView2<f32>, labels: ArrayView1<u8>) -> Result<(), ModelError> {
    if x.nrows() == labels.len() {
        Ok(())
    } else {
        Err(ModelError::LabelCount {
            examples: x.nrows(),
            labels: labels.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{assert_gradient_close, numeric_gradient, random_array, to_f64};
    use crate::rng::{Stream, stream_rng};
    use ndarray::arr1;
    use safetensors::Dtype;
    use safetensors::tensor::TensorView;

    const INPUTS: usize = 6;
    const HIDDEN: usize = 5;
    const CLASSES: usize = 3;

    fn small_mlp(seed: u64) -> Mlp {
        Mlp::init(
            INPUTS,
            HIDDEN,
            CLASSES,
            &mut stream_rng(seed, Stream::MlpInit),
        )
    }

    /// Parameters flattened as fc1.weight, fc1.bias, fc2.weight, fc2.bias.
    fn flatten(mlp: &Mlp) -> Vec<f64> {
        to_f64(
            mlp.fc1
                .weight
                .iter()
                .chain(&mlp.fc1.bias)
                .chain(&mlp.fc2.weight)
                .chain(&mlp.fc2.bias),
        )
    }

    /// Hidden pre-activations and mean cross-entropy of the MLP written out with loops in f64.
    fn reference(params: &[f64], x: &[f64], labels: &[u8]) -> (Vec<f64>, f64) {
        let (w1, rest) = params.split_at(HIDDEN * INPUTS);
        let (b1, rest) = rest.split_at(HIDDEN);
        let (w2, b2) = rest.split_at(CLASSES * HIDDEN);
        let mut pre = Vec::new();
        let mut loss = 0.0;
        for (row, &label) in x.chunks(INPUTS).zip(labels) {
            let z: Vec<f64> = (0..HIDDEN)
                .map(|j| {
                    b1[j]
                        + (0..INPUTS)
                            .map(|k| w1[j * INPUTS + k] * row[k])
                            .sum::<f64>()
                })
                .collect();
            let logits: Vec<f64> = (0..CLASSES)
                .map(|c| {
                    b2[c]
                        + (0..HIDDEN)
                            .map(|j| w2[c * HIDDEN + j] * z[j].max(0.0))
                            .sum::<f64>()
                })
                .collect();
            loss += logits.iter().map(|v| v.exp()).sum::<f64>().ln() - logits[usize::from(label)];
            pre.extend(z);
        }
        (pre, loss / labels.len() as f64)
    }

    #[test]
    fn loss_gradients_match_finite_differences() {
        let mlp = small_mlp(31);
        let x = random_array(32, (7, INPUTS), -2.0, 2.0);
        let labels = arr1(&[0u8, 1, 2, 2, 1, 0, 1]);
        let label_slice = labels.as_slice().unwrap();
        let (params, x64) = (flatten(&mlp), to_f64(&x));
        let (pre, loss) = reference(&params, &x64, label_slice);
        // Steps of 1e-6 must not move any hidden unit across the ReLU kink.
        assert!(
            pre.iter().all(|z| z.abs() > 1e-3),
            "test case too close to a kink"
        );
        assert!(
            pre.iter().any(|&z| z < 0.0),
            "test case should exercise the ReLU mask"
        );

        let batch = mlp.batch_gradients(x.view(), labels.view(), 7);
        assert!((f64::from(batch.loss_sum) / 7.0 - loss).abs() < 1e-5);
        let numeric = numeric_gradient(&params, 1e-6, |p| reference(p, &x64, label_slice).1);
        let g = &batch.grads;
        let (w1, rest) = numeric.split_at(HIDDEN * INPUTS);
        let (b1, rest) = rest.split_at(HIDDEN);
        let (w2, b2) = rest.split_at(CLASSES * HIDDEN);
        assert_gradient_close("fc1.weight", &g.fc1.weight, w1);
        assert_gradient_close("fc1.bias", &g.fc1.bias, b1);
        assert_gradient_close("fc2.weight", &g.fc2.weight, w2);
        assert_gradient_close("fc2.bias", &g.fc2.bias, b2);
    }

    #[test]
    fn chunked_gradients_equal_whole_batch_gradients() {
        let mlp = small_mlp(38);
        let x = random_array(39, (150, INPUTS), -2.0, 2.0);
        let labels = Array1::from_shape_fn(150, |i| (i % CLASSES) as u8);
        let whole = mlp.batch_gradients(x.view(), labels.view(), 150);
        let chunked = mlp.chunked_batch_gradients(x.view(), labels.view());
        assert_eq!(whole.correct, chunked.correct);
        assert!((whole.loss_sum - chunked.loss_sum).abs() < 1e-4 * whole.loss_sum);
        let close = |a: &Array2<f32>, b: &Array2<f32>| {
            a.iter()
                .zip(b)
                .all(|(x, y)| (x - y).abs() < 1e-6 + 1e-4 * x.abs())
        };
        assert!(close(&whole.grads.fc1.weight, &chunked.grads.fc1.weight));
        assert!(close(&whole.grads.fc2.weight, &chunked.grads.fc2.weight));
        let bias = |g: &MlpGradients| g.fc1.bias.clone().insert_axis(ndarray::Axis(0));
        assert!(close(&bias(&whole.grads), &bias(&chunked.grads)));
    }

    #[test]
    fn train_step_checks_its_batch_and_skips_non_finite_updates() {
        let mut mlp = small_mlp(40);
        let mut sgd = Sgd::new(0.1);
        let x = random_array(41, (4, INPUTS), -1.0, 1.0);
        let before = mlp.clone();
        let bad_label = arr1(&[0u8, 1, 3, 2]);
        assert!(matches!(
            mlp.train_step(&mut sgd, x.view(), bad_label.view()),
            Err(ModelError::LabelOutOfRange {
                index: 2,
                label: 3,
                classes: CLASSES
            })
        ));
        let empty = Array2::<f32>::zeros((0, INPUTS));
        assert!(matches!(
            mlp.train_step(&mut sgd, empty.view(), Array1::zeros(0).view()),
            Err(ModelError::EmptyBatch)
        ));
        let mut poisoned = x.clone();
        poisoned[[1, 2]] = f32::NAN;
        let stats = mlp.train_step(&mut sgd, poisoned.view(), arr1(&[0u8, 1, 2, 0]).view());
        assert!(stats.unwrap().loss.is_nan());
        assert_eq!(mlp, before, "a non-finite loss must not update the model");
        let stats = mlp
            .train_step(&mut sgd, x.view(), arr1(&[0u8, 1, 2, 0]).view())
            .unwrap();
        assert!(stats.loss.is_finite() && mlp != before);
    }

    #[test]
    fn predictions_and_accuracy_check_their_inputs() {
        let mlp = small_mlp(33);
        let x = random_array(34, (2500, INPUTS), -1.0, 1.0);
        let predicted = mlp.predict(x.view()).unwrap();
        // 2,500 rows: three inference chunks, joined in order.
        let hidden = mlp.hidden(x.view());
        assert_eq!(
            hidden.row(2400),
            mlp.fc1
                .forward(x.slice(s![2400..2401, ..]))
                .mapv(|v| v.max(0.0))
                .row(0)
        );
        assert_eq!(mlp.hidden(x.slice(s![..0, ..])).dim(), (0, HIDDEN));
        let direct = mlp.logits_from_hidden(hidden.view());
        let expected: Vec<usize> = direct.outer_iter().map(|row| argmax(row)).collect();
        assert_eq!(predicted.to_vec(), expected);
        let labels_of_half: Array1<u8> = (0..2500)
            .map(|i| if i % 2 == 0 { expected[i] as u8 } else { 9 })
            .collect();
        let half = mlp.accuracy(x.view(), labels_of_half.view()).unwrap();
        let expected_half = (0..2500)
            .filter(|&i| i % 2 == 0 || expected[i] == 9)
            .count() as f32
            / 2500.0;
        assert_eq!(half, expected_half);
        let labels = predicted.mapv(|p| p as u8);
        assert_eq!(mlp.accuracy(x.view(), labels.view()).unwrap(), 1.0);
        let hidden = mlp.hidden(x.view());
        assert_eq!(
            mlp.accuracy_from_hidden(hidden.view(), labels.view())
                .unwrap(),
            1.0
        );

        let narrow = random_array(35, (3, INPUTS - 1), -1.0, 1.0);
        assert!(matches!(
            mlp.predict(narrow.view()),
            Err(ModelError::InputWidth {
                expected: INPUTS,
                found: 5
            })
        ));
        assert!(matches!(
            mlp.accuracy(x.view(), labels.slice(ndarray::s![..10])),
            Err(ModelError::LabelCount {
                examples: 2500,
                labels: 10
            })
        ));
    }

    /// A safetensors file holding `tensors` as (name, dtype, shape, little-endian bytes).
    fn encode(tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)]) -> Vec<u8> {
        let views = tensors.iter().map(|(name, dtype, shape, bytes)| {
            (
                *name,
                TensorView::new(*dtype, shape.clone(), bytes).unwrap(),
            )
        });
        safetensors::serialize(views, None).unwrap()
    }

    /// The model's four tensors with `name` replaced by (or, if new, added as) the given tensor.
    fn with_tensor(mlp: &Mlp, name: &'static str, dtype: Dtype, values: &[f32]) -> Vec<u8> {
        let f32_tensor = |name, a: ndarray::ArrayViewD<f32>| {
            (
                name,
                Dtype::F32,
                a.shape().to_vec(),
                a.iter().flat_map(|v| v.to_le_bytes()).collect(),
            )
        };
        let mut tensors: Vec<(&str, Dtype, Vec<usize>, Vec<u8>)> = vec![
            f32_tensor(NAMES[0], mlp.fc1.weight.view().into_dyn()),
            f32_tensor(NAMES[1], mlp.fc1.bias.view().into_dyn()),
            f32_tensor(NAMES[2], mlp.fc2.weight.view().into_dyn()),
            f32_tensor(NAMES[3], mlp.fc2.bias.view().into_dyn()),
        ];
        tensors.retain(|t| t.0 != name);
        let bytes: Vec<u8> = match dtype {
            Dtype::F64 => values
                .iter()
                .flat_map(|&v| f64::from(v).to_le_bytes())
                .collect(),
            _ => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        };
        tensors.push((name, dtype, vec![values.len()], bytes));
        encode(&tensors)
    }

    #[test]
    fn safetensors_round_trip_with_pytorch_names_and_shapes() {
        let mlp = small_mlp(36);
        let bytes = mlp.to_safetensors();
        assert_eq!(Mlp::from_safetensors(&bytes).unwrap(), mlp);
        let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let (mut names, mut expected) = (file.names(), NAMES.to_vec());
        names.sort_unstable();
        expected.sort_unstable();
        assert_eq!(names, expected);
        let fc1 = file.tensor("fc1.weight").unwrap();
        assert_eq!(
            (fc1.dtype(), fc1.shape()),
            (Dtype::F32, &[HIDDEN, INPUTS][..])
        );
        assert_eq!(fc1.data()[4..8], mlp.fc1.weight[[0, 1]].to_le_bytes());
        assert_eq!(
            file.tensor("fc2.weight").unwrap().shape(),
            [CLASSES, HIDDEN]
        );
    }

    #[test]
    fn size_check_names_the_tensor_and_both_shapes() {
        let mlp = small_mlp(38);
        assert!(mlp.check_sizes(INPUTS, HIDDEN, CLASSES).is_ok());
        let error = mlp.check_sizes(INPUTS + 2, HIDDEN, CLASSES).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "tensor `fc1.weight` has shape [{HIDDEN}, {INPUTS}], expected [{HIDDEN}, {}]",
                INPUTS + 2
            )
        );
        assert!(matches!(
            mlp.check_sizes(INPUTS, HIDDEN, CLASSES + 1),
            Err(ModelError::Shape {
                name: "fc2.weight",
                ..
            })
        ));
    }

    #[test]
    fn safetensors_loading_gives_typed_errors() {
        let mlp = small_mlp(37);
        let load = |bytes: Vec<u8>| Mlp::from_safetensors(&bytes).unwrap_err();
        let short = [0.0; HIDDEN - 1];
        assert!(matches!(
            load(with_tensor(&mlp, "fc1.bias", Dtype::F32, &short)),
            ModelError::Shape {
                name: "fc1.bias",
                ..
            }
        ));
        assert!(matches!(
            load(with_tensor(
                &mlp,
                "fc2.weight",
                Dtype::F32,
                &[0.0; CLASSES * HIDDEN]
            )),
            ModelError::Shape {
                name: "fc2.weight",
                ..
            }
        ));
        assert!(matches!(
            load(with_tensor(
                &mlp,
                "fc2.bias",
                Dtype::F32,
                &[f32::NAN; CLASSES]
            )),
            ModelError::NonFinite { name: "fc2.bias" }
        ));
        assert!(matches!(
            load(with_tensor(&mlp, "fc2.bias", Dtype::F64, &[0.0; CLASSES])),
            ModelError::Dtype {
                name: "fc2.bias",
                ..
            }
        ));
        let extra = load(with_tensor(&mlp, "fc3.bias", Dtype::F32, &[1.0]));
        assert!(matches!(extra, ModelError::UnexpectedTensor { ref name } if name == "fc3.bias"));
        let only_weight = encode(&[("fc1.weight", Dtype::F32, vec![1, 1], vec![0; 4])]);
        assert!(matches!(
            load(only_weight),
            ModelError::MissingTensor { name: "fc1.bias" }
        ));
        assert!(matches!(
            load(b"not a file".to_vec()),
            ModelError::Safetensors(_)
        ));
    }
}
