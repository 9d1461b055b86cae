//! A checkpoint as a set of named tensors, independent of the file format, and the
//! safetensors format (read from and written to bytes, so it works everywhere).
//!
//! Tensors are described by name, element type and shape up front; their bytes are read
//! only when the model asks for them, so a wrong checkpoint is reported before anything
//! large is copied.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use burn::tensor::{DType, TensorData};

/// Element types a checkpoint tensor may have; all are converted to `f32` on load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElementType {
    /// 32-bit float (the official DNABERT-2 checkpoint).
    F32,
    /// 16-bit float.
    F16,
    /// bfloat16.
    BF16,
    /// 64-bit float.
    F64,
}

impl ElementType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Self::F32 => 4,
            Self::F16 | Self::BF16 => 2,
            Self::F64 => 8,
        }
    }

    fn burn_dtype(self) -> DType {
        match self {
            Self::F32 => DType::F32,
            Self::F16 => DType::F16,
            Self::BF16 => DType::BF16,
            Self::F64 => DType::F64,
        }
    }

    fn safetensors_name(self) -> &'static str {
        match self {
            Self::F32 => "F32",
            Self::F16 => "F16",
            Self::BF16 => "BF16",
            Self::F64 => "F64",
        }
    }

    fn from_safetensors_name(name: &str) -> Option<Self> {
        match name {
            "F32" => Some(Self::F32),
            "F16" => Some(Self::F16),
            "BF16" => Some(Self::BF16),
            "F64" => Some(Self::F64),
            _ => None,
        }
    }
}

type ReadFn = dyn Fn() -> Result<Vec<u8>, String> + Send + Sync;

/// One tensor of a checkpoint: its element type and shape, and a way to read its bytes.
#[derive(Clone)]
pub struct CheckpointTensor {
    /// Element type, or the format's own name for one this crate cannot convert.
    pub dtype: Result<ElementType, String>,
    /// Shape, outermost dimension first (PyTorch's layout: `Linear` weights are `[out, in]`).
    pub shape: Vec<usize>,
    read: Arc<ReadFn>,
}

impl fmt::Debug for CheckpointTensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckpointTensor")
            .field("dtype", &self.dtype)
            .field("shape", &self.shape)
            .finish_non_exhaustive()
    }
}

impl CheckpointTensor {
    /// A tensor whose little-endian bytes `read` produces on demand.
    pub fn lazy(
        dtype: Result<ElementType, String>,
        shape: Vec<usize>,
        read: impl Fn() -> Result<Vec<u8>, String> + Send + Sync + 'static,
    ) -> Self {
        Self {
            dtype,
            shape,
            read: Arc::new(read),
        }
    }

    /// An `f32` tensor held in memory.
    pub fn from_f32(shape: Vec<usize>, values: Vec<f32>) -> Self {
        Self::from_tensor_data(TensorData::new(values, shape))
    }

    /// A tensor held in memory, stored as `f32`.
    pub fn from_tensor_data(data: TensorData) -> Self {
        let data = if data.dtype() == DType::F32 {
            data
        } else {
            data.convert_dtype(DType::F32)
        };
        let shape = data.shape().to_vec();
        let bytes = data.as_bytes().to_vec();
        Self::lazy(Ok(ElementType::F32), shape, move || Ok(bytes.clone()))
    }

    /// Reads the values, converted to `f32`, with their shape.
    pub fn to_tensor_data(&self) -> Result<TensorData, String> {
        let dtype = self
            .dtype
            .clone()
            .map_err(|name| format!("unsupported element type {name}"))?;
        let bytes = (self.read)()?;
        let count: usize = self.shape.iter().product();
        if bytes.len() != count * dtype.size() {
            return Err(format!(
                "holds {} bytes, but {:?} {:?} needs {}",
                bytes.len(),
                dtype,
                self.shape,
                count * dtype.size()
            ));
        }
        let data = TensorData::from_bytes_vec(bytes, self.shape.clone(), dtype.burn_dtype());
        Ok(if dtype == ElementType::F32 {
            data
        } else {
            data.convert_dtype(DType::F32)
        })
    }

    /// Reads the values as `f32`, converting from the stored element type.
    pub fn to_f32(&self) -> Result<Vec<f32>, String> {
        self.to_tensor_data()?
            .try_into_vec::<f32>()
            .map_err(|err| format!("cannot read as f32: {err:?}"))
    }
}

/// All tensors of a checkpoint, by their key in the file.
#[derive(Debug, Clone, Default)]
pub struct Checkpoint {
    /// Tensors by key, e.g. `bert.encoder.layer.0.mlp.wo.weight`.
    pub tensors: BTreeMap<String, CheckpointTensor>,
}

/// A safetensors file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SafetensorsError {
    /// Fewer bytes than the header announces: usually an interrupted download.
    #[error("file is truncated: {0}")]
    Truncated(String),
    /// The bytes are not a safetensors file.
    #[error("not a safetensors file: {0}")]
    Invalid(String),
}

#[derive(serde::Deserialize)]
struct HeaderEntry {
    dtype: String,
    shape: Vec<usize>,
    data_offsets: [usize; 2],
}

/// Upper bound on the JSON header, as in the format's reference implementation (100 MB).
const MAX_HEADER_BYTES: u64 = 100 * 1024 * 1024;

impl Checkpoint {
    /// Parses a safetensors file held in memory. The bytes are shared, not copied, until
    /// a tensor is read.
    pub fn from_safetensors(bytes: Vec<u8>) -> Result<Self, SafetensorsError> {
        let Some(len_bytes) = bytes.get(..8) else {
            return Err(SafetensorsError::Truncated(format!(
                "{} bytes, shorter than the 8-byte header length",
                bytes.len()
            )));
        };
        let mut len8 = [0u8; 8];
        len8.copy_from_slice(len_bytes);
        let header_len = u64::from_le_bytes(len8);
        if header_len > MAX_HEADER_BYTES {
            return Err(SafetensorsError::Invalid(format!(
                "header length {header_len} is implausible"
            )));
        }
        // Bounded by MAX_HEADER_BYTES above, so this fits in usize on every target.
        let header_end = 8 + header_len as usize;
        let Some(header) = bytes.get(8..header_end) else {
            return Err(SafetensorsError::Truncated(format!(
                "the header needs {header_end} bytes, the file has {}",
                bytes.len()
            )));
        };
        let header: BTreeMap<String, serde_json::Value> = serde_json::from_slice(header)
            .map_err(|err| SafetensorsError::Invalid(format!("header is not JSON: {err}")))?;
        let data = Arc::new(bytes);
        let data_len = data.len() - header_end;
        let mut tensors = BTreeMap::new();
        for (name, value) in header {
            if name == "__metadata__" {
                continue;
            }
            let entry: HeaderEntry = serde_json::from_value(value).map_err(|err| {
                SafetensorsError::Invalid(format!("header entry {name:?}: {err}"))
            })?;
            let [start, end] = entry.data_offsets;
            if start > end {
                return Err(SafetensorsError::Invalid(format!(
                    "tensor {name}: data offsets {start}..{end} are reversed"
                )));
            }
            if end > data_len {
                return Err(SafetensorsError::Truncated(format!(
                    "tensor {name} ends at data byte {end}, the file has {data_len} data bytes"
                )));
            }
            let dtype = ElementType::from_safetensors_name(&entry.dtype).ok_or(entry.dtype);
            let data = Arc::clone(&data);
            let (from, to) = (header_end + start, header_end + end);
            tensors.insert(
                name,
                CheckpointTensor::lazy(dtype, entry.shape, move || Ok(data[from..to].to_vec())),
            );
        }
        Ok(Self { tensors })
    }

    /// Writes the tensors as a safetensors file (keys in sorted order, no metadata).
    pub fn to_safetensors(&self) -> Result<Vec<u8>, String> {
        let mut header = serde_json::Map::new();
        let mut data = Vec::new();
        for (name, tensor) in &self.tensors {
            let dtype = tensor
                .dtype
                .clone()
                .map_err(|d| format!("tensor {name}: unsupported element type {d}"))?;
            let bytes = (tensor.read)().map_err(|err| format!("tensor {name}: {err}"))?;
            let start = data.len();
            data.extend_from_slice(&bytes);
            header.insert(
                name.clone(),
                serde_json::json!({
                    "dtype": dtype.safetensors_name(),
                    "shape": tensor.shape,
                    "data_offsets": [start, data.len()],
                }),
            );
        }
        let mut header = serde_json::Value::Object(header).to_string().into_bytes();
        // The format asks for the data to start 8-byte aligned; pad the header with spaces.
        while !header.len().is_multiple_of(8) {
            header.push(b' ');
        }
        let mut out = Vec::with_capacity(8 + header.len() + data.len());
        out.extend_from_slice(&(header.len() as u64).to_le_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(&data);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Checkpoint {
        let mut checkpoint = Checkpoint::default();
        checkpoint.tensors.insert(
            "a.weight".into(),
            CheckpointTensor::from_f32(vec![2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.5]),
        );
        checkpoint.tensors.insert(
            "b.bias".into(),
            CheckpointTensor::from_f32(vec![1], vec![-0.25]),
        );
        checkpoint
    }

    #[test]
    fn safetensors_round_trip() {
        let bytes = sample().to_safetensors().expect("writes");
        let back = Checkpoint::from_safetensors(bytes).expect("reads");
        assert_eq!(back.tensors.len(), 2);
        let a = &back.tensors["a.weight"];
        assert_eq!(a.shape, vec![2, 3]);
        assert_eq!(a.to_f32().expect("f32"), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.5]);
        assert_eq!(back.tensors["b.bias"].to_f32().expect("f32"), vec![-0.25]);
    }

    #[test]
    fn truncated_safetensors_is_an_error_naming_the_tensor() {
        let mut bytes = sample().to_safetensors().expect("writes");
        bytes.truncate(bytes.len() - 3);
        let err = Checkpoint::from_safetensors(bytes).expect_err("truncated");
        assert!(matches!(err, SafetensorsError::Truncated(_)), "{err}");
        assert!(err.to_string().contains("b.bias"), "{err}");
    }

    #[test]
    fn garbage_is_not_a_safetensors_file() {
        for bytes in [
            vec![],
            b"hello".to_vec(),
            b"\x05\0\0\0\0\0\0\0{{{{{".to_vec(),
        ] {
            assert!(Checkpoint::from_safetensors(bytes).is_err());
        }
        let huge = u64::MAX.to_le_bytes().to_vec();
        assert!(matches!(
            Checkpoint::from_safetensors(huge),
            Err(SafetensorsError::Invalid(_))
        ));
    }

    #[test]
    fn f16_is_converted_to_f32() {
        // 1.0 and -2.0 in IEEE half precision.
        let bytes = vec![0x00, 0x3c, 0x00, 0xc0];
        let tensor =
            CheckpointTensor::lazy(Ok(ElementType::F16), vec![2], move || Ok(bytes.clone()));
        assert_eq!(tensor.to_f32().expect("converts"), vec![1.0, -2.0]);
    }
}
