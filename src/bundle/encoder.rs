//! The encoder part of a bundle: choosing how each weight is stored (f32, f16, int8), and
//! building a [`Dnabert2Encoder`] from it.
//!
//! Quantized weights are **dequantized on load**, on every backend: the bundle's int8 values
//! and scales are turned into `f32` by plain Rust before any tensor exists, and the encoder
//! runs in `f32`. Bundles are therefore byte-identical whatever machine wrote them, load on
//! every backend (wgpu, WebGPU, Flex), and give the same numbers native and in the browser.
//! int8 saves download size and storage, not compute or device memory.

use burn::tensor::Device;

use super::{BundleError, EncoderPart, Encoding, StoredTensor};
use crate::encoder::checkpoint::{Checkpoint, CheckpointTensor, ElementType};
use crate::encoder::weights::{ENCODER_PREFIX, IGNORED_PREFIX};
use crate::encoder::{Dnabert2Config, Dnabert2Encoder};

/// Key of the word embedding, the only large tensor that is not a `Linear` weight.
pub const WORD_EMBEDDINGS: &str = "bert.embeddings.word_embeddings.weight";

/// Storage precision of the encoder weights, as `texcnn import --quantize` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// Every tensor `f32`: exactly the source weights.
    F32,
    /// Every tensor IEEE half.
    F16,
    /// The [`QuantPlan::int8`] plan: `Linear` weights and the word embedding int8 with one
    /// scale per row, everything else `f32`.
    Int8,
}

impl Precision {
    /// The storage plan of this precision.
    pub fn plan(self) -> QuantPlan {
        match self {
            Self::F32 => QuantPlan::uniform(Codec::F32),
            Self::F16 => QuantPlan::uniform(Codec::F16),
            Self::Int8 => QuantPlan::int8(),
        }
    }
}

/// How one class of tensors is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// `f32`.
    F32,
    /// IEEE half.
    F16,
    /// int8 with one scale per row (per output channel of a `Linear` `[out, in]`).
    Int8PerRow,
    /// int8 with one scale per block of this many values along the last dimension; tensors
    /// whose last dimension it does not divide fall back to one scale per row.
    Int8Block(usize),
}

impl Codec {
    fn encoding(self, shape: &[usize]) -> Encoding {
        let last = shape.last().copied().unwrap_or(1).max(1);
        match self {
            Self::F32 => Encoding::F32,
            Self::F16 => Encoding::F16,
            Self::Int8PerRow => Encoding::Int8 { block: last },
            Self::Int8Block(block) if block > 0 && last % block == 0 => Encoding::Int8 { block },
            Self::Int8Block(_) => Encoding::Int8 { block: last },
        }
    }
}

/// Storage of each class of encoder tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuantPlan {
    /// The 2-D weights of the `Linear` layers inside `bert.encoder.layer.*` (≈ 97% of the
    /// 117M parameters).
    pub linear: Codec,
    /// `bert.embeddings.word_embeddings.weight` [vocab, hidden] (≈ 3%).
    pub word_embeddings: Codec,
    /// Everything else: biases, LayerNorms, token-type embeddings (< 0.1%).
    pub other: Codec,
}

impl QuantPlan {
    /// Every tensor the same way.
    pub fn uniform(codec: Codec) -> Self {
        Self {
            linear: codec,
            word_embeddings: codec,
            other: codec,
        }
    }

    /// The int8 plan, chosen by measurement (docs/encoder-and-bundles.md): on a full-size random
    /// DNABERT-2-117M it gives a 117.4 MB bundle with segment-embedding cosine ≥ 0.99991
    /// against f32; f16 word embeddings (120.5 MB) gain nothing measurable, and per-block-32
    /// scales (cosine ≥ 0.99995) cost 131.5 MB, over the 125 MB budget.
    pub fn int8() -> Self {
        Self {
            linear: Codec::Int8PerRow,
            word_embeddings: Codec::Int8PerRow,
            other: Codec::F32,
        }
    }

    /// The encoding of tensor `name` of `shape`.
    pub fn encoding(&self, name: &str, shape: &[usize]) -> Encoding {
        let codec = if name == WORD_EMBEDDINGS {
            self.word_embeddings
        } else if is_linear_weight(name, shape) {
            self.linear
        } else {
            self.other
        };
        codec.encoding(shape)
    }
}

/// A `Linear` weight of an encoder layer: 2-D, `.weight`, not a LayerNorm.
fn is_linear_weight(name: &str, shape: &[usize]) -> bool {
    shape.len() == 2
        && name.starts_with("bert.encoder.layer.")
        && name.ends_with(".weight")
        && !name.to_ascii_lowercase().contains("layernorm")
}

impl EncoderPart {
    /// Stores the encoder tensors of an official checkpoint (`bert.*`; the masked-LM head
    /// `cls.predictions.*` is dropped) with `plan`. Shapes are checked against `config` when
    /// the part is loaded ([`EncoderPart::load`]).
    pub fn from_checkpoint(
        config: &Dnabert2Config,
        checkpoint: &Checkpoint,
        plan: &QuantPlan,
    ) -> Result<Self, BundleError> {
        config
            .validate()
            .map_err(|err| BundleError::EncoderConfig(err.to_string()))?;
        let mut tensors = Vec::new();
        for (name, tensor) in &checkpoint.tensors {
            if name.starts_with(IGNORED_PREFIX) {
                continue;
            }
            if !name.starts_with(ENCODER_PREFIX) {
                return Err(BundleError::Tensor {
                    tensor: name.clone(),
                    reason: format!("not an encoder tensor (expected a {ENCODER_PREFIX}* key)"),
                });
            }
            let values = tensor.to_f32().map_err(|reason| BundleError::Tensor {
                tensor: name.clone(),
                reason,
            })?;
            let encoding = plan.encoding(name, &tensor.shape);
            tensors.push(StoredTensor::encode(
                name.clone(),
                tensor.shape.clone(),
                &values,
                encoding,
            )?);
        }
        Ok(Self {
            config: config.clone(),
            tensors,
        })
    }

    /// Stores the weights of `encoder` with `plan`.
    pub fn from_encoder(
        config: &Dnabert2Config,
        encoder: &Dnabert2Encoder,
        plan: &QuantPlan,
    ) -> Result<Self, BundleError> {
        let checkpoint = encoder
            .to_checkpoint()
            .map_err(|err| BundleError::EncoderConfig(err.to_string()))?;
        Self::from_checkpoint(config, &checkpoint, plan)
    }

    /// The stored tensors as a checkpoint; each is decoded to `f32` only when read.
    pub fn to_checkpoint(&self) -> Checkpoint {
        let mut checkpoint = Checkpoint::default();
        for tensor in &self.tensors {
            let stored = tensor.clone();
            checkpoint.tensors.insert(
                tensor.name.clone(),
                CheckpointTensor::lazy(Ok(ElementType::F32), tensor.shape.clone(), move || {
                    let values = stored.to_f32().map_err(|err| err.to_string())?;
                    Ok(values.iter().flat_map(|v| v.to_le_bytes()).collect())
                }),
            );
        }
        checkpoint
    }

    /// Builds the encoder on `device`, dequantizing to `f32`. Every missing, unexpected or
    /// wrongly shaped tensor is reported in one [`BundleError::EncoderWeights`].
    pub fn load(&self, device: &Device) -> Result<Dnabert2Encoder, BundleError> {
        Dnabert2Encoder::from_checkpoint(&self.config, &self.to_checkpoint(), device)
            .map_err(BundleError::EncoderWeights)
    }

    /// Bytes of stored weights.
    pub fn weight_bytes(&self) -> usize {
        self.tensors.iter().map(|t| t.bytes.len()).sum()
    }

    /// Number of weights.
    pub fn parameter_count(&self) -> usize {
        self.tensors.iter().map(StoredTensor::element_count).sum()
    }
}

/// Cosine similarity of two equally long vectors (1 for two zero vectors).
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let (mut dot, mut na, mut nb) = (0f64, 0f64, 0f64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x), f64::from(y));
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 && nb == 0.0 {
        return 1.0;
    }
    dot / (na.sqrt() * nb.sqrt())
}
