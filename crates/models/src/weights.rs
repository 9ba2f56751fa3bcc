//! Reading and writing model weights as safetensors (F32, little-endian, PyTorch names).
use crate::error::ModelError;
use ndarray::{Array, Array1, Array2, ArrayView, Dimension, IxDyn};
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

/// A safetensors file of F32 tensors under the given names, in logical (row-major) order
/// whatever the arrays' memory layout.
pub(crate) fn to_bytes<D: Dimension>(tensors: &[(&str, ArrayView<f32, D>)]) -> Vec<u8> {
    let encoded: Vec<(&str, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(name, array)| {
            let bytes = array.iter().flat_map(|v| v.to_le_bytes()).collect();
            (*name, array.shape().to_vec(), bytes)
        })
        .collect();
    let views = encoded.iter().map(|(name, shape, bytes)| {
        let view = TensorView::new(Dtype::F32, shape.clone(), bytes)
            .expect("byte length is 4 x the element count by construction");
        (*name, view)
    });
    safetensors::serialize(views, None).expect("F32 tensors with consistent shapes serialise")
}

/// The tensors of a file that must hold exactly `names`, each F32 with finite values.
pub(crate) struct WeightFile<'data> {
    tensors: SafeTensors<'data>,
}

impl<'data> WeightFile<'data> {
    pub(crate) fn parse(bytes: &'data [u8], names: &[&'static str]) -> Result<Self, ModelError> {
        let tensors = SafeTensors::deserialize(bytes)?;
        if let Some(extra) = tensors
            .names()
            .into_iter()
            .find(|name| !names.contains(name))
        {
            return Err(ModelError::UnexpectedTensor {
                name: extra.to_string(),
            });
        }
        if let Some(&missing) = names.iter().find(|name| tensors.tensor(name).is_err()) {
            return Err(ModelError::MissingTensor { name: missing });
        }
        Ok(Self { tensors })
    }

    /// A rank-2 tensor with no zero dimension.
    pub(crate) fn matrix(&self, name: &'static str) -> Result<Array2<f32>, ModelError> {
        let array = self.read(name)?;
        match *array.shape() {
            [rows, cols] if rows > 0 && cols > 0 => Ok(array
                .into_dimensionality()
                .expect("rank checked just above")),
            _ => Err(ModelError::Shape {
                name,
                found: array.shape().to_vec(),
                expected: "two non-zero dimensions".to_string(),
            }),
        }
    }

    /// A rank-1 tensor of length `len`.
    pub(crate) fn vector(&self, name: &'static str, len: usize) -> Result<Array1<f32>, ModelError> {
        let array = self.read(name)?;
        if array.shape() != [len] {
            return Err(ModelError::Shape {
                name,
                found: array.shape().to_vec(),
                expected: format!("[{len}]"),
            });
        }
        Ok(array
            .into_dimensionality()
            .expect("shape checked just above"))
    }

    fn read(&self, name: &'static str) -> Result<Array<f32, IxDyn>, ModelError> {
        let view = self.tensors.tensor(name)?;
        if view.dtype() != Dtype::F32 {
            return Err(ModelError::Dtype {
                name,
                found: view.dtype().to_string(),
            });
        }
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        if values.iter().any(|v| !v.is_finite()) {
            return Err(ModelError::NonFinite { name });
        }
        Ok(Array::from_shape_vec(IxDyn(view.shape()), values)
            .expect("safetensors checked that the data length matches the shape"))
    }
}

/// Checks that a tensor read earlier has the shape that the others imply.
pub(crate) fn expect_shape(
    name: &'static str,
    found: &[usize],
    expected: &[usize],
) -> Result<(), ModelError> {
    if found == expected {
        Ok(())
    } else {
        Err(ModelError::Shape {
            name,
            found: found.to_vec(),
            expected: format!("{expected:?}"),
        })
    }
}
