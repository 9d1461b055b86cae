//! TExCNN's regression head: a text-CNN over the segment axis.
//!
//! The segment embeddings of one gene, stacked in order, are read like the word vectors of a
//! sentence (Kim's text-CNN): one 1-D convolution per kernel width slides along the segment
//! axis, each followed by ReLU and a global max-pool over segments; the pooled features are
//! concatenated, optionally joined by extra per-gene features (e.g. Xpresso's half-life
//! features), and go through dense layers with dropout to one value per output label.
//!
//! Convolutions use `same` padding (odd kernel widths only), so any number of segments ≥ 1
//! works, also fewer segments than the widest kernel.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig1d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

/// Shape of a [`TextCnnHead`]. Travels inside the model bundle.
#[derive(Config, Debug, PartialEq)]
pub struct TextCnnHeadConfig {
    /// Width of one segment embedding (the encoder's hidden size).
    pub embedding_dim: usize,
    /// Convolution kernel widths over the segment axis (odd).
    #[config(default = "vec![1, 3, 5]")]
    pub kernel_sizes: Vec<usize>,
    /// Filters per kernel width.
    #[config(default = 64)]
    pub filters: usize,
    /// Extra per-gene features concatenated after pooling (0 for none).
    #[config(default = 0)]
    pub extra_features: usize,
    /// Widths of the dense hidden layers.
    #[config(default = "vec![64]")]
    pub dense: Vec<usize>,
    /// Dropout probability before each dense layer.
    #[config(default = 0.2)]
    pub dropout: f64,
    /// Number of predicted labels.
    #[config(default = 1)]
    pub outputs: usize,
}

/// A head configuration that cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadConfigError {
    #[error("the head needs at least one convolution kernel width")]
    NoKernels,
    #[error("kernel width {0} is not odd and at least 1")]
    BadKernel(usize),
    #[error("the head's {0} must be at least 1")]
    Zero(&'static str),
}

impl TextCnnHeadConfig {
    /// Checks that the configuration describes a buildable head.
    pub fn validate(&self) -> Result<(), HeadConfigError> {
        if self.kernel_sizes.is_empty() {
            return Err(HeadConfigError::NoKernels);
        }
        if let Some(&k) = self.kernel_sizes.iter().find(|&&k| k % 2 == 0) {
            return Err(HeadConfigError::BadKernel(k));
        }
        for (name, value) in [
            ("embedding size", self.embedding_dim),
            ("filter count", self.filters),
            ("output count", self.outputs),
        ] {
            if value == 0 {
                return Err(HeadConfigError::Zero(name));
            }
        }
        if self.dense.contains(&0) {
            return Err(HeadConfigError::Zero("dense layer width"));
        }
        Ok(())
    }

    /// Builds the head with freshly initialised weights.
    pub fn init(&self, device: &Device) -> Result<TextCnnHead, HeadConfigError> {
        self.validate()?;
        let convs = self
            .kernel_sizes
            .iter()
            .map(|&k| {
                Conv1dConfig::new(self.embedding_dim, self.filters, k)
                    .with_padding(PaddingConfig1d::Same)
                    .init(device)
            })
            .collect();
        let mut width = self.filters * self.kernel_sizes.len() + self.extra_features;
        let mut dense = Vec::with_capacity(self.dense.len());
        for &out in &self.dense {
            dense.push(LinearConfig::new(width, out).init(device));
            width = out;
        }
        Ok(TextCnnHead {
            convs,
            dense,
            output: LinearConfig::new(width, self.outputs).init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
        })
    }
}

/// The text-CNN head.
#[derive(Module, Debug)]
pub struct TextCnnHead {
    /// One convolution per kernel width: weight [filters, embedding_dim, width].
    pub convs: Vec<Conv1d>,
    /// Dense hidden layers, each followed by ReLU.
    pub dense: Vec<Linear>,
    /// Final projection to the outputs.
    pub output: Linear,
    pub dropout: Dropout,
}

impl TextCnnHead {
    /// `segments`: [batch, segments, embedding_dim]; `extra`: [batch, extra_features] when the
    /// head was configured with extra features. Returns [batch, outputs].
    pub fn forward(&self, segments: Tensor<3>, extra: Option<Tensor<2>>) -> Tensor<2> {
        let [batch, _, _] = segments.dims();
        // Channels first for the convolution: [batch, embedding_dim, segments].
        let x = segments.swap_dims(1, 2);
        let mut pooled: Vec<Tensor<2>> = self
            .convs
            .iter()
            .map(|conv| {
                let filters = conv.weight.dims()[0];
                // [batch, filters, segments] → max over segments → [batch, filters]
                relu(conv.forward(x.clone()))
                    .max_dim(2)
                    .reshape([batch, filters])
            })
            .collect();
        if let Some(extra) = extra {
            pooled.push(extra);
        }
        let mut h = Tensor::cat(pooled, 1);
        for layer in &self.dense {
            h = relu(layer.forward(self.dropout.forward(h)));
        }
        self.output.forward(self.dropout.forward(h))
    }
}
