//! The DNABERT-2 encoder (MosaicBERT: ALiBi attention, gated-GELU MLP, post-LayerNorm),
//! computed as `bert_layers.py` of `zhihan1996/DNABERT-2-117M` computes it.
//!
//! The struct tree mirrors the checkpoint: `embeddings.LayerNorm` is
//! [`BertEmbeddings::layer_norm`], `encoder.layer.N.attention.self.Wqkv` is
//! [`BertEncoder::layer`]`[N].`[`attention`](BertLayer::attention)`.`[`self_attention`](BertAttention::self_attention)`.`[`wqkv`](BertUnpadSelfAttention::wqkv),
//! and so on; each `load` says which key it reads.

use std::sync::Arc;

use burn::module::Module;
use burn::nn::{
    Embedding, EmbeddingConfig, Initializer, LayerNorm, LayerNormConfig, Linear, LinearConfig,
};
use burn::tensor::activation::{gelu, softmax};
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

use super::checkpoint::Checkpoint;
use super::config::Dnabert2Config;
use super::host::{self, HostBias};
use super::int8::{Activations, Int8Error, Int8Linear};
use super::weights::{ENCODER_PREFIX, WeightReader, WeightWriter, WeightsMismatch};

/// BERT's initialisation (`initializer_range` 0.02 in every DNABERT-2 config): normal
/// weights with a small spread, so a fresh model starts near the uniform prediction.
pub const BERT_INIT: Initializer = Initializer::Normal {
    mean: 0.0,
    std: 0.02,
};

/// Token id used to fill the tail of shorter segments in a batch (`[PAD]`). Its value never
/// matters: padded positions are masked out of attention and pooling.
pub const PAD_TOKEN_ID: u32 = 3;

/// Added to the attention score of a padded key: far below any real score, so its
/// softmax weight is exactly zero, yet finite, so no row turns into NaN.
const MASKED_KEY_BIAS: f32 = -1.0e9;

/// Why a batch of token ids cannot be encoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EncodeError {
    /// No segment was given.
    #[error("no segments to encode")]
    EmptyBatch,
    /// A segment has no tokens (a tokenized segment always has at least `[CLS] [SEP]`).
    #[error("segment {segment} has no tokens")]
    EmptySegment {
        /// Index of the segment in the batch.
        segment: usize,
    },
    /// A token id is outside the vocabulary of the model.
    #[error(
        "segment {segment}, token {position}: id {id} is outside the vocabulary (size {vocab_size})"
    )]
    TokenOutOfRange {
        /// Index of the segment in the batch.
        segment: usize,
        /// Position of the token in the segment.
        position: usize,
        /// The offending id.
        id: u32,
        /// Vocabulary size of the model.
        vocab_size: usize,
    },
    /// The device failed to compute or return the result.
    #[error("the device failed: {0}")]
    Device(String),
}

/// `bert.embeddings`: word plus token-type-0 embeddings, then LayerNorm. No position
/// embeddings: position enters through the ALiBi attention bias.
#[derive(Module, Debug)]
pub struct BertEmbeddings {
    /// `word_embeddings.weight` [vocab, hidden]
    pub word_embeddings: Embedding,
    /// `token_type_embeddings.weight` [type_vocab, hidden]; only row 0 is used.
    pub token_type_embeddings: Embedding,
    /// `LayerNorm.{weight,bias}` `[hidden]`
    pub layer_norm: LayerNorm,
}

impl BertEmbeddings {
    fn init(config: &Dnabert2Config, device: &Device) -> Self {
        let h = config.hidden_size;
        Self {
            word_embeddings: EmbeddingConfig::new(config.vocab_size, h)
                .with_initializer(BERT_INIT)
                .init(device),
            token_type_embeddings: EmbeddingConfig::new(config.type_vocab_size, h)
                .with_initializer(BERT_INIT)
                .init(device),
            layer_norm: LayerNormConfig::new(h)
                .with_epsilon(config.layer_norm_eps)
                .init(device),
        }
    }

    fn load(w: &mut WeightReader, prefix: &str, config: &Dnabert2Config) -> Self {
        let h = config.hidden_size;
        Self {
            word_embeddings: w.embedding(
                &format!("{prefix}.word_embeddings"),
                config.vocab_size,
                h,
            ),
            token_type_embeddings: w.embedding(
                &format!("{prefix}.token_type_embeddings"),
                config.type_vocab_size,
                h,
            ),
            layer_norm: w.layer_norm(&format!("{prefix}.LayerNorm"), h, config.layer_norm_eps),
        }
    }

    fn save(&self, w: &mut WeightWriter, prefix: &str) {
        w.embedding(&format!("{prefix}.word_embeddings"), &self.word_embeddings);
        w.embedding(
            &format!("{prefix}.token_type_embeddings"),
            &self.token_type_embeddings,
        );
        w.layer_norm(&format!("{prefix}.LayerNorm"), &self.layer_norm);
    }

    /// `input_ids` [batch, tokens] → [batch, tokens, hidden]
    pub(super) fn forward(&self, input_ids: Tensor<2, Int>) -> Tensor<3> {
        let words = self.word_embeddings.forward(input_ids);
        let [_, hidden] = self.token_type_embeddings.weight.val().dims();
        // DNABERT-2 always passes token type 0.
        let type0 = self
            .token_type_embeddings
            .weight
            .val()
            .narrow(0, 0, 1)
            .reshape([1, 1, hidden]);
        self.layer_norm.forward(words + type0)
    }
}

/// What the attention adds to its scores: the ALiBi bias and the padding mask.
#[derive(Debug, Clone)]
enum AttentionBias {
    /// [batch, heads, tokens, tokens], added with burn's ops (GPU backends, autodiff).
    Tensor(Box<Tensor<4>>),
    /// Applied inside the fused CPU softmax ([`host::attention_softmax`]).
    Host(HostBias),
}

/// `attention.self`: the fused query/key/value projection and ALiBi attention.
#[derive(Module, Debug)]
pub struct BertUnpadSelfAttention {
    /// `Wqkv.{weight,bias}`: hidden → 3·hidden, output laid out (q|k|v, head, head_size).
    pub wqkv: Linear,
    /// `wqkv` in int8 ([`Dnabert2Encoder::use_int8`]).
    #[module(skip)]
    pub(super) wqkv_int8: Option<Arc<Int8Linear>>,
    num_attention_heads: usize,
}

impl BertUnpadSelfAttention {
    /// `hidden` [batch, tokens, hidden] → [batch, tokens, hidden]
    fn forward(&self, hidden: Tensor<3>, bias: &AttentionBias) -> Tensor<3> {
        let [batch, tokens, width] = hidden.dims();
        let heads = self.num_attention_heads;
        let head_size = width / heads;
        let qkv = linear_forward(&self.wqkv, self.wqkv_int8.as_deref(), hidden)
            .reshape([batch, tokens, 3, heads, head_size]);
        // [batch, heads, tokens, head_size] each
        let part = |i: usize| {
            qkv.clone()
                .narrow(2, i, 1)
                .reshape([batch, tokens, heads, head_size])
                .swap_dims(1, 2)
        };
        let (q, k, v) = (part(0), part(1), part(2));
        let scores = q.matmul(k.swap_dims(2, 3));
        let scale = (head_size as f64).sqrt();
        let probs = match bias {
            AttentionBias::Tensor(bias) => softmax(scores.div_scalar(scale) + (**bias).clone(), 3),
            AttentionBias::Host(bias) => {
                host::attention_softmax(scores, (1.0 / scale) as f32, bias)
            }
        };
        probs
            .matmul(v)
            .swap_dims(1, 2)
            .reshape([batch, tokens, width])
    }
}

/// `attention.output`: projection, residual, post-LayerNorm.
#[derive(Module, Debug)]
pub struct BertSelfOutput {
    /// `dense.{weight,bias}`: hidden → hidden
    pub dense: Linear,
    /// `dense` in int8 ([`Dnabert2Encoder::use_int8`]).
    #[module(skip)]
    pub(super) dense_int8: Option<Arc<Int8Linear>>,
    /// `LayerNorm.{weight,bias}` `[hidden]`
    pub layer_norm: LayerNorm,
}

impl BertSelfOutput {
    /// `attended`, `residual` [batch, tokens, hidden] → [batch, tokens, hidden]
    fn forward(&self, attended: Tensor<3>, residual: Tensor<3>) -> Tensor<3> {
        let projected = linear_forward(&self.dense, self.dense_int8.as_deref(), attended);
        self.layer_norm.forward(projected + residual)
    }
}

/// `attention`: self-attention followed by its output block.
#[derive(Module, Debug)]
pub struct BertAttention {
    /// `self` (a Rust keyword, hence the longer name).
    pub self_attention: BertUnpadSelfAttention,
    /// `output`
    pub output: BertSelfOutput,
}

/// `mlp`: gated-GELU feed-forward block with residual and post-LayerNorm.
#[derive(Module, Debug)]
pub struct BertGatedLinearUnitMlp {
    /// `gated_layers.weight`: hidden → 2·intermediate, no bias. The first half goes
    /// through GELU and gates the second half.
    pub gated_layers: Linear,
    /// `wo.{weight,bias}`: intermediate → hidden
    pub wo: Linear,
    /// `gated_layers` in int8 ([`Dnabert2Encoder::use_int8`]).
    #[module(skip)]
    pub(super) gated_layers_int8: Option<Arc<Int8Linear>>,
    /// `wo` in int8.
    #[module(skip)]
    pub(super) wo_int8: Option<Arc<Int8Linear>>,
    /// `layernorm.{weight,bias}` `[hidden]`
    pub layernorm: LayerNorm,
    pub(super) intermediate_size: usize,
}

impl BertGatedLinearUnitMlp {
    /// [batch, tokens, hidden] → [batch, tokens, hidden]
    fn forward(&self, hidden: Tensor<3>) -> Tensor<3> {
        let residual = hidden.clone();
        let both = linear_forward(
            &self.gated_layers,
            self.gated_layers_int8.as_deref(),
            hidden,
        );
        let n = self.intermediate_size;
        let mixed = if host::applies(&both.device()) {
            host::gated_gelu(both, n)
        } else {
            let gated = both.clone().narrow(2, 0, n);
            let non_gated = both.narrow(2, n, n);
            gelu(gated) * non_gated
        };
        let out = linear_forward(&self.wo, self.wo_int8.as_deref(), mixed);
        self.layernorm.forward(out + residual)
    }
}

/// `encoder.layer.N`
#[derive(Module, Debug)]
pub struct BertLayer {
    /// `attention`
    pub attention: BertAttention,
    /// `mlp`
    pub mlp: BertGatedLinearUnitMlp,
}

impl BertLayer {
    fn init(config: &Dnabert2Config, device: &Device) -> Self {
        let (h, i, eps) = (
            config.hidden_size,
            config.intermediate_size,
            config.layer_norm_eps,
        );
        Self {
            attention: BertAttention {
                self_attention: BertUnpadSelfAttention {
                    wqkv: LinearConfig::new(h, 3 * h)
                        .with_initializer(BERT_INIT)
                        .init(device),
                    wqkv_int8: None,
                    num_attention_heads: config.num_attention_heads,
                },
                output: BertSelfOutput {
                    dense: LinearConfig::new(h, h)
                        .with_initializer(BERT_INIT)
                        .init(device),
                    dense_int8: None,
                    layer_norm: LayerNormConfig::new(h).with_epsilon(eps).init(device),
                },
            },
            mlp: BertGatedLinearUnitMlp {
                gated_layers: LinearConfig::new(h, 2 * i)
                    .with_bias(false)
                    .with_initializer(BERT_INIT)
                    .init(device),
                wo: LinearConfig::new(i, h)
                    .with_initializer(BERT_INIT)
                    .init(device),
                layernorm: LayerNormConfig::new(h).with_epsilon(eps).init(device),
                gated_layers_int8: None,
                wo_int8: None,
                intermediate_size: i,
            },
        }
    }

    fn load(w: &mut WeightReader, prefix: &str, config: &Dnabert2Config) -> Self {
        let (h, i, eps) = (
            config.hidden_size,
            config.intermediate_size,
            config.layer_norm_eps,
        );
        Self {
            attention: BertAttention {
                self_attention: BertUnpadSelfAttention {
                    wqkv: w.linear(&format!("{prefix}.attention.self.Wqkv"), h, 3 * h, true),
                    wqkv_int8: None,
                    num_attention_heads: config.num_attention_heads,
                },
                output: BertSelfOutput {
                    dense: w.linear(&format!("{prefix}.attention.output.dense"), h, h, true),
                    dense_int8: None,
                    layer_norm: w.layer_norm(
                        &format!("{prefix}.attention.output.LayerNorm"),
                        h,
                        eps,
                    ),
                },
            },
            mlp: BertGatedLinearUnitMlp {
                gated_layers: w.linear(&format!("{prefix}.mlp.gated_layers"), h, 2 * i, false),
                wo: w.linear(&format!("{prefix}.mlp.wo"), i, h, true),
                layernorm: w.layer_norm(&format!("{prefix}.mlp.layernorm"), h, eps),
                gated_layers_int8: None,
                wo_int8: None,
                intermediate_size: i,
            },
        }
    }

    fn save(&self, w: &mut WeightWriter, prefix: &str) {
        let attention = &self.attention;
        w.linear(
            &format!("{prefix}.attention.self.Wqkv"),
            &attention.self_attention.wqkv,
        );
        w.linear(
            &format!("{prefix}.attention.output.dense"),
            &attention.output.dense,
        );
        w.layer_norm(
            &format!("{prefix}.attention.output.LayerNorm"),
            &attention.output.layer_norm,
        );
        w.linear(
            &format!("{prefix}.mlp.gated_layers"),
            &self.mlp.gated_layers,
        );
        w.linear(&format!("{prefix}.mlp.wo"), &self.mlp.wo);
        w.layer_norm(&format!("{prefix}.mlp.layernorm"), &self.mlp.layernorm);
    }

    /// `hidden` [batch, tokens, hidden] → [batch, tokens, hidden]
    fn forward(&self, hidden: Tensor<3>, bias: &AttentionBias) -> Tensor<3> {
        let attended = self.attention.self_attention.forward(hidden.clone(), bias);
        let hidden = self.attention.output.forward(attended, hidden);
        self.mlp.forward(hidden)
    }
}

/// A `Linear` layer on `x` [batch, tokens, in]: the int8 kernels ([`super::int8`]) where the
/// layer has int8 weights and `x` is on the plain CPU device, else burn's `f32` `Linear`.
fn linear_forward(linear: &Linear, int8: Option<&Int8Linear>, x: Tensor<3>) -> Tensor<3> {
    match int8 {
        Some(q) if host::applies(&x.device()) => {
            let [batch, tokens, _] = x.dims();
            let device = x.device();
            let values = x
                .into_data()
                .try_into_vec::<f32>()
                .expect("a Flex f32 tensor reads back as f32");
            let out = q.forward(&values, batch * tokens);
            Tensor::from_data(TensorData::new(out, [batch, tokens, q.d_out()]), &device)
        }
        _ => linear.forward(x),
    }
}

/// `linear`'s int8 form: `weights` (`[out, in]` values and one scale per output) when given,
/// else its `f32` weights quantized per output channel; its bias as it is; its inputs
/// quantized as `activations` says.
fn int8_linear(
    linear: &Linear,
    weights: Option<(Vec<i8>, Vec<f32>)>,
    activations: Activations,
) -> Result<Arc<Int8Linear>, Int8Error> {
    let [d_in, d_out] = linear.weight.val().dims();
    let read = |t: Tensor<2>| t.into_data().try_into_vec::<f32>();
    let bias = linear.bias.as_ref().map(|b| {
        b.val()
            .into_data()
            .try_into_vec::<f32>()
            .expect("a bias reads back as f32")
    });
    let q = match weights {
        Some((values, scales)) => Int8Linear::new(d_in, d_out, &values, scales, bias)?,
        None => {
            // burn keeps [in, out]; the quantizer reads PyTorch's [out, in].
            let weight = read(linear.weight.val().transpose()).expect("a weight reads back as f32");
            Int8Linear::quantize(d_in, d_out, &weight, bias)
        }
    };
    Ok(Arc::new(q.with_activations(activations)))
}

/// `encoder`: the stack of layers.
#[derive(Module, Debug)]
pub struct BertEncoder {
    /// `layer.0`, `layer.1`, …
    pub layer: Vec<BertLayer>,
}

/// The DNABERT-2 encoder (`bert.*` of the official checkpoint): token ids in, last hidden
/// layer out. The device (CPU Flex, wgpu, …) is the one its weights live on.
#[derive(Module, Debug)]
pub struct Dnabert2Encoder {
    /// `embeddings`
    pub embeddings: BertEmbeddings,
    /// `encoder`
    pub encoder: BertEncoder,
    num_attention_heads: usize,
    /// The LayerNorms' epsilon (`layer_norm_eps`), for the packed CPU path ([`super::packed`]).
    #[module(skip)]
    layer_norm_eps: f64,
}

impl Dnabert2Encoder {
    /// An encoder with burn's default random initialisation.
    pub fn init(config: &Dnabert2Config, device: &Device) -> Self {
        Self {
            embeddings: BertEmbeddings::init(config, device),
            encoder: BertEncoder {
                layer: (0..config.num_hidden_layers)
                    .map(|_| BertLayer::init(config, device))
                    .collect(),
            },
            num_attention_heads: config.num_attention_heads,
            layer_norm_eps: config.layer_norm_eps,
        }
    }

    /// Builds the encoder from an official checkpoint (`bert.*` keys, PyTorch layout).
    /// Strict: any missing, unexpected (other than `cls.predictions.*`), wrongly shaped
    /// or unreadable tensor is an error, and the error lists all of them.
    pub fn from_checkpoint(
        config: &Dnabert2Config,
        checkpoint: &Checkpoint,
        device: &Device,
    ) -> Result<Self, WeightsMismatch> {
        let mut w = WeightReader::new(checkpoint, device);
        let root = ENCODER_PREFIX.trim_end_matches('.');
        let embeddings = BertEmbeddings::load(&mut w, &format!("{root}.embeddings"), config);
        let layer = (0..config.num_hidden_layers)
            .map(|n| BertLayer::load(&mut w, &format!("{root}.encoder.layer.{n}"), config))
            .collect();
        w.finish()?;
        Ok(Self {
            embeddings,
            encoder: BertEncoder { layer },
            num_attention_heads: config.num_attention_heads,
            layer_norm_eps: config.layer_norm_eps,
        })
    }

    /// The weights as an official checkpoint: `bert.*` keys, PyTorch layout, `f32`
    /// (write it with [`Checkpoint::to_safetensors`]).
    pub fn to_checkpoint(&self) -> Result<Checkpoint, EncodeError> {
        let mut w = WeightWriter::new();
        let root = ENCODER_PREFIX.trim_end_matches('.');
        self.embeddings.save(&mut w, &format!("{root}.embeddings"));
        for (n, layer) in self.encoder.layer.iter().enumerate() {
            layer.save(&mut w, &format!("{root}.encoder.layer.{n}"));
        }
        match w.error {
            Some(err) => Err(EncodeError::Device(err)),
            None => Ok(w.checkpoint),
        }
    }

    /// Computes every encoder layer's `Linear` layers (QKV, attention output, `gated_layers`,
    /// `wo`) with the int8 kernels ([`super::int8`]) whenever the input is on the plain CPU
    /// device (elsewhere, and in training, they stay `f32`). `weights(name)` gives a layer's
    /// int8 values (`[out, in]`) and one scale per output channel for its checkpoint key
    /// (`bert.encoder.layer.0.mlp.wo.weight`), as an int8 bundle stores them; a layer it gives
    /// nothing for is quantized from its `f32` weights the same way.
    pub fn use_int8(
        &mut self,
        weights: impl FnMut(&str) -> Option<(Vec<i8>, Vec<f32>)>,
    ) -> Result<(), Int8Error> {
        self.use_int8_with(weights, Activations::Wide)
    }

    /// [`Self::use_int8`] with the activations quantized as `activations` says (8-bit ones
    /// as ONNX Runtime's dynamic quantization: [`Activations::Int8`]).
    pub fn use_int8_with(
        &mut self,
        mut weights: impl FnMut(&str) -> Option<(Vec<i8>, Vec<f32>)>,
        activations: Activations,
    ) -> Result<(), Int8Error> {
        let int8_linear = |linear: &Linear, weights| int8_linear(linear, weights, activations);
        let root = ENCODER_PREFIX.trim_end_matches('.');
        for (n, layer) in self.encoder.layer.iter_mut().enumerate() {
            let p = format!("{root}.encoder.layer.{n}");
            let s = &mut layer.attention.self_attention;
            s.wqkv_int8 = Some(int8_linear(
                &s.wqkv,
                weights(&format!("{p}.attention.self.Wqkv.weight")),
            )?);
            let o = &mut layer.attention.output;
            o.dense_int8 = Some(int8_linear(
                &o.dense,
                weights(&format!("{p}.attention.output.dense.weight")),
            )?);
            let m = &mut layer.mlp;
            m.gated_layers_int8 = Some(int8_linear(
                &m.gated_layers,
                weights(&format!("{p}.mlp.gated_layers.weight")),
            )?);
            m.wo_int8 = Some(int8_linear(&m.wo, weights(&format!("{p}.mlp.wo.weight")))?);
        }
        Ok(())
    }

    /// Whether the `Linear` layers compute in int8 on the CPU ([`Self::use_int8`]).
    pub fn uses_int8(&self) -> bool {
        self.int8_activations().is_some()
    }

    /// How the int8 `Linear` layers quantize their activations, if they compute in int8.
    pub fn int8_activations(&self) -> Option<Activations> {
        self.encoder
            .layer
            .first()
            .and_then(|l| l.mlp.wo_int8.as_ref())
            .map(|q| q.activations())
    }

    /// Size of the vocabulary (rows of the word embedding).
    pub fn vocab_size(&self) -> usize {
        self.embeddings.word_embeddings.weight.val().dims()[0]
    }

    /// Width of the hidden states.
    pub fn hidden_size(&self) -> usize {
        self.embeddings.word_embeddings.weight.val().dims()[1]
    }

    /// Heads of each attention layer.
    pub fn num_attention_heads(&self) -> usize {
        self.num_attention_heads
    }

    /// The LayerNorms' epsilon.
    pub fn layer_norm_eps(&self) -> f64 {
        self.layer_norm_eps
    }

    /// The device the weights live on.
    pub fn device(&self) -> Device {
        self.embeddings.word_embeddings.weight.val().device()
    }

    /// Last hidden layer.
    ///
    /// `input_ids` [batch, tokens]; `mask` [batch, tokens], `true` for a real token and
    /// `false` for padding → [batch, tokens, hidden]. Padded keys get no attention; the
    /// rows of padded positions are meaningless.
    pub fn forward(&self, input_ids: Tensor<2, Int>, mask: Tensor<2, Bool>) -> Tensor<3> {
        let [batch, tokens] = input_ids.dims();
        let device = input_ids.device();
        // [batch, tokens]: 0 for real keys, MASKED_KEY_BIAS for padding
        let key_bias = (mask.float() - 1.0).mul_scalar(-MASKED_KEY_BIAS);
        let bias = if host::applies(&device) {
            AttentionBias::Host(HostBias {
                slopes: alibi_slopes(self.num_attention_heads),
                key_bias: key_bias
                    .into_data()
                    .try_into_vec::<f32>()
                    .expect("a Flex f32 tensor reads back as f32"),
            })
        } else {
            let alibi = alibi_bias(self.num_attention_heads, tokens, &device);
            AttentionBias::Tensor(Box::new(alibi + key_bias.reshape([batch, 1, 1, tokens])))
        };
        let mut hidden = self.embeddings.forward(input_ids);
        for layer in &self.encoder.layer {
            hidden = layer.forward(hidden, &bias);
        }
        hidden
    }

    /// Checks segments of token ids against the vocabulary: none empty, every id in range.
    /// The length of the longest.
    fn check_segments(&self, segments: &[Vec<u32>]) -> Result<usize, EncodeError> {
        let vocab_size = self.vocab_size();
        for (segment, tokens) in segments.iter().enumerate() {
            if tokens.is_empty() {
                return Err(EncodeError::EmptySegment { segment });
            }
            if let Some((position, &id)) = tokens
                .iter()
                .enumerate()
                .find(|&(_, &id)| id as usize >= vocab_size)
            {
                return Err(EncodeError::TokenOutOfRange {
                    segment,
                    position,
                    id,
                    vocab_size,
                });
            }
        }
        segments
            .iter()
            .map(Vec::len)
            .max()
            .ok_or(EncodeError::EmptyBatch)
    }

    /// Pads segments of token ids into one batch: `input_ids` [segments, longest] and
    /// `mask` [segments, longest].
    pub fn batch(
        &self,
        segments: &[Vec<u32>],
        device: &Device,
    ) -> Result<(Tensor<2, Int>, Tensor<2, Bool>), EncodeError> {
        let longest = self.check_segments(segments)?;
        let mut ids = Vec::with_capacity(segments.len() * longest);
        let mut mask = Vec::with_capacity(segments.len() * longest);
        for tokens in segments {
            ids.extend(tokens.iter().map(|&id| i64::from(id)));
            mask.extend(std::iter::repeat_n(true, tokens.len()));
            ids.extend(std::iter::repeat_n(
                i64::from(PAD_TOKEN_ID),
                longest - tokens.len(),
            ));
            mask.extend(std::iter::repeat_n(false, longest - tokens.len()));
        }
        let shape = [segments.len(), longest];
        Ok((
            Tensor::from_data(TensorData::new(ids, shape), device),
            Tensor::from_data(TensorData::new(mask, shape), device),
        ))
    }

    /// Segment embeddings: the mean of the last hidden layer over each segment's tokens
    /// (`[CLS]` and `[SEP]` included, padding excluded) → [segments, hidden]. A segment
    /// gives the same vector alone or in a batch.
    ///
    /// On the plain CPU device this takes the packed path ([`super::packed`]: every segment's
    /// real tokens as the rows of one matrix, no padding computed); elsewhere (GPU, autodiff,
    /// fused kernels turned off) the padded tensor path of [`Self::forward`].
    pub fn embed_segments(&self, segments: &[Vec<u32>]) -> Result<Tensor<2>, EncodeError> {
        let device = self.device();
        if host::applies(&device) {
            self.check_segments(segments)?;
            let pooled = super::packed::embed_segments(self, segments)?;
            let shape = [segments.len(), self.hidden_size()];
            return Ok(Tensor::from_data(TensorData::new(pooled, shape), &device));
        }
        let (ids, mask) = self.batch(segments, &device)?;
        let hidden = self.forward(ids, mask.clone());
        Ok(mean_pool(hidden, mask))
    }

    /// [`embed_segments`](Self::embed_segments), read back to the host: one row of
    /// `hidden_size` values per segment.
    pub fn embed_segments_to_vec(
        &self,
        segments: &[Vec<u32>],
    ) -> Result<Vec<Vec<f32>>, EncodeError> {
        let hidden = self.hidden_size();
        let values = self
            .embed_segments(segments)?
            .try_into_data()
            .map_err(|err| EncodeError::Device(format!("{err:?}")))?
            .try_into_vec::<f32>()
            .map_err(|err| EncodeError::Device(format!("{err:?}")))?;
        Ok(values.chunks(hidden).map(<[f32]>::to_vec).collect())
    }
}

/// Mean over real tokens: `hidden` [batch, tokens, hidden], `mask` [batch, tokens]
/// → [batch, hidden]
pub fn mean_pool(hidden: Tensor<3>, mask: Tensor<2, Bool>) -> Tensor<2> {
    let [batch, tokens, width] = hidden.dims();
    let weights = mask.float().reshape([batch, tokens, 1]);
    let sum = (hidden * weights.clone())
        .sum_dim(1)
        .reshape([batch, width]);
    let count = weights.sum_dim(1).reshape([batch, 1]);
    sum / count
}

/// ALiBi slopes for `heads` heads, as `bert_layers.py` computes them (in `f64`, then
/// stored as `f32`): a geometric sequence for a power of two, else the sequence for the
/// power of two below, followed by every other slope of the one above.
pub fn alibi_slopes(heads: usize) -> Vec<f32> {
    fn power_of_two(n: usize) -> Vec<f64> {
        let start = 2f64.powf(-(2f64.powf(-((n as f64).log2() - 3.0))));
        (0..n).map(|i| start * start.powf(i as f64)).collect()
    }
    fn slopes(n: usize) -> Vec<f64> {
        if n.is_power_of_two() {
            return power_of_two(n);
        }
        let closest = 1usize << n.ilog2();
        let mut out = power_of_two(closest);
        out.extend(slopes(2 * closest).into_iter().step_by(2).take(n - closest));
        out
    }
    slopes(heads).into_iter().map(|s| s as f32).collect()
}

/// The symmetric ALiBi bias `-slope_h · |i - j|` for any number of tokens
/// → [1, heads, tokens, tokens]
pub fn alibi_bias(heads: usize, tokens: usize, device: &Device) -> Tensor<4> {
    let positions = Tensor::<1, Int>::arange(0..tokens as i64, device).float();
    let distance = (positions.clone().reshape([tokens, 1]) - positions.reshape([1, tokens]))
        .abs()
        .neg()
        .reshape([1, 1, tokens, tokens]);
    let slopes = Tensor::<1>::from_data(TensorData::new(alibi_slopes(heads), [heads]), device)
        .reshape([1, heads, 1, 1]);
    slopes * distance
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alibi_slopes_follow_the_standard_recipe() {
        assert_eq!(alibi_slopes(4), vec![0.25, 0.0625, 0.015625, 0.00390625]);
        let eight: Vec<f32> = (1..=8).map(|i| 2f32.powi(-i)).collect();
        assert_eq!(alibi_slopes(8), eight);
        // 12 heads: the 8-head slopes, then slopes 1, 3, 5, 7 (0-based: 0, 2, 4, 6) of 16.
        let twelve = alibi_slopes(12);
        assert_eq!(&twelve[..8], eight.as_slice());
        let sixteen = alibi_slopes(16);
        assert_eq!(
            &twelve[8..],
            &[sixteen[0], sixteen[2], sixteen[4], sixteen[6]]
        );
        assert!((sixteen[0] - 2f32.powf(-0.5)).abs() < 1e-7);
    }

    #[test]
    fn alibi_bias_is_symmetric_and_not_capped() {
        let device = Device::flex();
        let tokens = 600;
        let bias = alibi_bias(2, tokens, &device)
            .into_data()
            .try_into_vec::<f32>()
            .expect("f32");
        let at = |h: usize, i: usize, j: usize| bias[(h * tokens + i) * tokens + j];
        let slope = alibi_slopes(2)[1];
        assert_eq!(at(1, 0, 599), -slope * 599.0);
        assert_eq!(at(1, 599, 0), at(1, 0, 599));
        assert_eq!(at(0, 300, 300), 0.0);
    }

    #[test]
    fn rejects_token_ids_outside_the_vocabulary() {
        let config = Dnabert2Config {
            vocab_size: 10,
            hidden_size: 8,
            num_hidden_layers: 1,
            num_attention_heads: 2,
            intermediate_size: 4,
            ..Dnabert2Config::dnabert2_117m()
        };
        let encoder = Dnabert2Encoder::init(&config, &Device::flex());
        let err = encoder
            .embed_segments(&[vec![1, 2], vec![1, 10, 2]])
            .expect_err("10 is out of range");
        assert_eq!(
            err,
            EncodeError::TokenOutOfRange {
                segment: 1,
                position: 1,
                id: 10,
                vocab_size: 10
            }
        );
        assert_eq!(
            encoder.embed_segments(&[]).expect_err("empty"),
            EncodeError::EmptyBatch
        );
    }
}
