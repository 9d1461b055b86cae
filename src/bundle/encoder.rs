//! The encoder part of a bundle: choosing how each weight is stored (f32, f16, int8), and
//! building a [`Dnabert2Encoder`] from it.
//!
//! Quantized weights are **dequantized on load**, on every backend: the bundle's int8 values
//! and scales are turned into `f32` by plain Rust before any tensor exists, and the encoder
//! runs in `f32`. Bundles are therefore byte-identical whatever machine wrote them, load on
//! every backend (wgpu, WebGPU, Flex), and give the same numbers native and in the browser.
//! int8 saves download size and storage, not compute or device memory.
//!
//! **int8 compute** is a choice made when the encoder is built ([`Compute::Int8`],
//! [`EncoderPart::load_with`], or for every load [`set_default_compute`]): on the plain CPU
//! device the `Linear` layers then also keep the bundle's int8 values and scales and compute
//! with them ([`crate::encoder::int8`]); other devices ignore it.

use std::sync::atomic::{AtomicU8, Ordering};

use burn::tensor::Device;

use super::{BundleError, EncoderPart, Encoding, StoredTensor};
use crate::encoder::checkpoint::{Checkpoint, CheckpointTensor, ElementType};
use crate::encoder::int8::Activations;
use crate::encoder::weights::{ENCODER_PREFIX, IGNORED_PREFIX};
use crate::encoder::{Dnabert2Config, Dnabert2Encoder, host};

/// How the encoder's `Linear` layers compute on the plain CPU device.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Compute {
    /// `f32` (int8 weights dequantized on load): the same numbers on every backend.
    #[default]
    F32,
    /// int8 weights (the bundle's, or `f32` ones quantized per output channel) times
    /// activations quantized per row as wide as the integer sums allow, summed in integers
    /// ([`crate::encoder::int8`]).
    Int8,
    /// int8 weights times 8-bit activations (one scale per row), as ONNX Runtime's dynamic
    /// quantization: faster where the CPU has AVX-512 VNNI, a little less accurate
    /// ([`Activations::Int8`]).
    Int8Act8,
    /// int8 weights times 7-bit activations ([`Activations::Int7`]): what wasm's relaxed
    /// SIMD multiplies, twice as many products per instruction as SIMD128's.
    Int8Act7,
}

impl Compute {
    /// Every choice, in the order of [`Self::as_str`]'s names.
    pub const ALL: [Compute; 4] = [
        Compute::F32,
        Compute::Int8,
        Compute::Int8Act8,
        Compute::Int8Act7,
    ];

    /// `f32`, `int8`, `int8-a8` or `int8-a7`, as benchmark rows, the CLI and the page name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::F32 => "f32",
            Self::Int8 => "int8",
            Self::Int8Act8 => "int8-a8",
            Self::Int8Act7 => "int8-a7",
        }
    }

    /// The choice named `name` ([`Self::as_str`]).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// How the int8 kernels quantize the activations, for the int8 choices.
    pub fn activations(self) -> Option<Activations> {
        match self {
            Self::F32 => None,
            Self::Int8 => Some(Activations::Wide),
            Self::Int8Act8 => Some(Activations::Int8),
            Self::Int8Act7 => Some(Activations::Int7),
        }
    }
}

static DEFAULT_COMPUTE: AtomicU8 = AtomicU8::new(0);

/// The compute of every encoder built by [`EncoderPart::load`] (and so by
/// [`super::Bundle::load_encoder`] and the predictor) from now on in this process.
pub fn set_default_compute(compute: Compute) {
    let index = Compute::ALL.iter().position(|&c| c == compute).unwrap_or(0);
    DEFAULT_COMPUTE.store(index as u8, Ordering::Relaxed);
}

/// What [`set_default_compute`] chose ([`Compute::F32`] unless changed).
pub fn default_compute() -> Compute {
    Compute::ALL
        .get(usize::from(DEFAULT_COMPUTE.load(Ordering::Relaxed)))
        .copied()
        .unwrap_or_default()
}

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

    /// Builds the encoder on `device`, dequantizing to `f32`, with the process's
    /// [`default_compute`]. Every missing, unexpected or wrongly shaped tensor is reported in
    /// one [`BundleError::EncoderWeights`].
    pub fn load(&self, device: &Device) -> Result<Dnabert2Encoder, BundleError> {
        self.load_with(device, default_compute())
    }

    /// [`Self::load`] with a chosen compute. [`Compute::Int8`] on the plain CPU device: the
    /// `Linear` layers compute with the stored int8 values and per-row scales (weights
    /// stored otherwise are quantized per output channel); on other devices it is `f32`.
    pub fn load_with(
        &self,
        device: &Device,
        compute: Compute,
    ) -> Result<Dnabert2Encoder, BundleError> {
        let mut encoder =
            Dnabert2Encoder::from_checkpoint(&self.config, &self.to_checkpoint(), device)
                .map_err(BundleError::EncoderWeights)?;
        if let Some(activations) = compute.activations()
            && host::applies(device)
        {
            encoder
                .use_int8_with(|name| self.int8_rows(name), activations)
                .map_err(|err| BundleError::EncoderConfig(err.to_string()))?;
        }
        Ok(encoder)
    }

    /// The int8 values and per-row scales of tensor `name` when it is stored so (2-D, one
    /// scale per row).
    fn int8_rows(&self, name: &str) -> Option<(Vec<i8>, Vec<f32>)> {
        let tensor = self.tensors.iter().find(|t| t.name == name)?;
        let &[_, cols] = tensor.shape.as_slice() else {
            return None;
        };
        let parts = tensor.int8_parts().ok()??;
        (parts.block == cols).then(|| {
            let values = parts.values.iter().map(|&b| b as i8).collect();
            (values, parts.scales)
        })
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
