//! The masked-language-model head of `BertForMaskedLM` (`cls.predictions.*`), used to
//! pre-train an encoder: dense + GELU + LayerNorm, then a decoder to the vocabulary whose
//! weight is tied to the word embeddings (as in BERT and DNABERT-2), plus its own bias.

use burn::module::{Module, Param};
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::activation::gelu;
use burn::tensor::{Device, Tensor};

use super::checkpoint::Checkpoint;
use super::config::Dnabert2Config;
use super::model::EncodeError;
use super::weights::{WeightReader, WeightWriter, WeightsMismatch};

/// Key prefix of the MLM head in the official checkpoint.
pub const MLM_PREFIX: &str = "cls.predictions";

/// `cls.predictions`
#[derive(Module, Debug)]
pub struct MlmHead {
    /// `transform.dense.{weight,bias}`: hidden → hidden
    pub transform_dense: Linear,
    /// `transform.LayerNorm.{weight,bias}` [hidden]
    pub transform_layer_norm: LayerNorm,
    /// `decoder.bias` [vocab]; `decoder.weight` is the word embedding matrix.
    pub decoder_bias: Param<Tensor<1>>,
}

impl MlmHead {
    /// A freshly initialised head (zero decoder bias).
    pub fn init(config: &Dnabert2Config, device: &Device) -> Self {
        let h = config.hidden_size;
        Self {
            transform_dense: LinearConfig::new(h, h)
                .with_initializer(super::model::BERT_INIT)
                .init(device),
            transform_layer_norm: LayerNormConfig::new(h)
                .with_epsilon(config.layer_norm_eps)
                .init(device),
            decoder_bias: Param::from_tensor(Tensor::zeros([config.vocab_size], device)),
        }
    }

    /// `hidden` [n, hidden], `word_embeddings` [vocab, hidden] → logits [n, vocab]
    pub fn forward(&self, hidden: Tensor<2>, word_embeddings: Tensor<2>) -> Tensor<2> {
        let [vocab] = self.decoder_bias.dims();
        let h = self
            .transform_layer_norm
            .forward(gelu(self.transform_dense.forward(hidden)));
        h.matmul(word_embeddings.transpose()) + self.decoder_bias.val().reshape([1, vocab])
    }

    /// The head from an official checkpoint (`cls.predictions.*`, PyTorch layout), e.g. a
    /// folder `texcnn pretrain` wrote, to pre-train further from it. `decoder.weight` must be
    /// there with the word embeddings' shape (the decoder is tied to them: its values are not
    /// read). Strict as [`super::Dnabert2Encoder::from_checkpoint`]: every problem with a
    /// `cls.predictions.*` tensor is listed; the encoder's tensors are not looked at.
    pub fn from_checkpoint(
        config: &Dnabert2Config,
        checkpoint: &Checkpoint,
        device: &Device,
    ) -> Result<Self, WeightsMismatch> {
        let (h, vocab) = (config.hidden_size, config.vocab_size);
        let mut w = WeightReader::new(checkpoint, device);
        let transform_dense = w.linear(&format!("{MLM_PREFIX}.transform.dense"), h, h, true);
        let transform_layer_norm = w.layer_norm(
            &format!("{MLM_PREFIX}.transform.LayerNorm"),
            h,
            config.layer_norm_eps,
        );
        let _tied: Tensor<2> = w.tensor(&format!("{MLM_PREFIX}.decoder.weight"), [vocab, h]);
        let decoder_bias =
            Param::from_tensor(w.tensor(&format!("{MLM_PREFIX}.decoder.bias"), [vocab]));
        w.finish_head()?;
        Ok(Self {
            transform_dense,
            transform_layer_norm,
            decoder_bias,
        })
    }

    /// Adds the head to an official checkpoint (`cls.predictions.*`, PyTorch layout), with
    /// `decoder.weight` written out as the tied word embeddings.
    pub fn write_checkpoint(
        &self,
        checkpoint: &mut Checkpoint,
        word_embeddings: &Tensor<2>,
    ) -> Result<(), EncodeError> {
        let mut w = WeightWriter::new();
        w.linear(
            &format!("{MLM_PREFIX}.transform.dense"),
            &self.transform_dense,
        );
        w.layer_norm(
            &format!("{MLM_PREFIX}.transform.LayerNorm"),
            &self.transform_layer_norm,
        );
        w.tensor(&format!("{MLM_PREFIX}.decoder.weight"), word_embeddings);
        w.tensor(
            &format!("{MLM_PREFIX}.decoder.bias"),
            &self.decoder_bias.val(),
        );
        if let Some(err) = w.error {
            return Err(EncodeError::Device(err));
        }
        checkpoint.tensors.extend(w.checkpoint.tensors);
        Ok(())
    }
}
