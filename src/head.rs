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
use burn::module::{Module, Param};
use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig1d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};

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

/// One named weight of a head, row-major, in burn's layout (Linear weights `[in, out]`,
/// Conv1d weights `[filters, channels, width]`).
#[derive(Debug, Clone, PartialEq)]
pub struct NamedTensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// A head weight that is missing or does not fit the config.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadWeightsError {
    #[error(transparent)]
    Config(#[from] HeadConfigError),
    #[error("head weight {name}: expected shape {expected:?}, found {found:?}")]
    WrongShape {
        name: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    #[error("head weight {0} is missing")]
    Missing(String),
    #[error("unexpected head weight {0}")]
    Unexpected(String),
    #[error("head weight {name}: {values} values do not fill shape {shape:?}")]
    BadLength {
        name: String,
        shape: Vec<usize>,
        values: usize,
    },
    #[error("cannot read head weight {0} from the device")]
    Device(String),
}

fn read_tensor<const D: usize>(name: &str, t: Tensor<D>) -> Result<NamedTensor, HeadWeightsError> {
    let shape = t.dims().to_vec();
    let values = t
        .try_into_data()
        .ok()
        .and_then(|d| d.try_into_vec::<f32>().ok())
        .ok_or_else(|| HeadWeightsError::Device(name.to_string()))?;
    Ok(NamedTensor {
        name: name.to_string(),
        shape,
        values,
    })
}

impl TextCnnHead {
    /// Every weight by name: `convs.N.{weight,bias}`, `dense.N.{weight,bias}`,
    /// `output.{weight,bias}`.
    pub fn to_tensors(&self) -> Result<Vec<NamedTensor>, HeadWeightsError> {
        let mut out = Vec::new();
        for (i, conv) in self.convs.iter().enumerate() {
            out.push(read_tensor(
                &format!("convs.{i}.weight"),
                conv.weight.val(),
            )?);
            if let Some(b) = &conv.bias {
                out.push(read_tensor(&format!("convs.{i}.bias"), b.val())?);
            }
        }
        let linears = self
            .dense
            .iter()
            .enumerate()
            .map(|(i, l)| (format!("dense.{i}"), l))
            .chain(std::iter::once(("output".to_string(), &self.output)));
        for (prefix, linear) in linears {
            out.push(read_tensor(
                &format!("{prefix}.weight"),
                linear.weight.val(),
            )?);
            if let Some(b) = &linear.bias {
                out.push(read_tensor(&format!("{prefix}.bias"), b.val())?);
            }
        }
        Ok(out)
    }

    /// Builds a head from `config` and weights named as by [`to_tensors`](Self::to_tensors).
    /// Strict: a missing, unexpected or wrongly shaped weight is an error.
    pub fn from_tensors(
        config: &TextCnnHeadConfig,
        tensors: &[NamedTensor],
        device: &Device,
    ) -> Result<Self, HeadWeightsError> {
        let mut head = config.init(device)?;
        let mut by_name: std::collections::BTreeMap<&str, &NamedTensor> =
            tensors.iter().map(|t| (t.name.as_str(), t)).collect();
        let mut take =
            |name: String, expected: Vec<usize>| -> Result<TensorData, HeadWeightsError> {
                let t = by_name
                    .remove(name.as_str())
                    .ok_or_else(|| HeadWeightsError::Missing(name.clone()))?;
                if t.shape != expected {
                    return Err(HeadWeightsError::WrongShape {
                        name,
                        expected,
                        found: t.shape.clone(),
                    });
                }
                if t.values.len() != expected.iter().product::<usize>() {
                    return Err(HeadWeightsError::BadLength {
                        name,
                        shape: expected,
                        values: t.values.len(),
                    });
                }
                Ok(TensorData::new(t.values.clone(), expected))
            };
        for (i, conv) in head.convs.iter_mut().enumerate() {
            let w = take(format!("convs.{i}.weight"), conv.weight.dims().to_vec())?;
            conv.weight = Param::from_tensor(Tensor::from_data(w, device));
            if let Some(b) = conv.bias.as_mut() {
                let data = take(format!("convs.{i}.bias"), b.dims().to_vec())?;
                *b = Param::from_tensor(Tensor::from_data(data, device));
            }
        }
        let count = head.dense.len();
        let linears = head
            .dense
            .iter_mut()
            .enumerate()
            .map(|(i, l)| (format!("dense.{i}"), l))
            .chain(std::iter::once(("output".to_string(), &mut head.output)));
        for (prefix, linear) in linears {
            let w = take(format!("{prefix}.weight"), linear.weight.dims().to_vec())?;
            linear.weight = Param::from_tensor(Tensor::from_data(w, device));
            if let Some(b) = linear.bias.as_mut() {
                let data = take(format!("{prefix}.bias"), b.dims().to_vec())?;
                *b = Param::from_tensor(Tensor::from_data(data, device));
            }
        }
        debug_assert_eq!(count, config.dense.len());
        if let Some(name) = by_name.keys().next() {
            return Err(HeadWeightsError::Unexpected((*name).to_string()));
        }
        Ok(head)
    }
}

/// Why two heads cannot be set side by side ([`stack`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StackError {
    #[error("the heads differ in {what} ({first} vs {second})")]
    Shape {
        what: &'static str,
        first: String,
        second: String,
    },
    #[error(
        "the added head reads {0} per-gene features; only the first head may read them (the added output is predicted from the DNA)"
    )]
    SecondHasFeatures(usize),
    #[error(transparent)]
    Weights(#[from] HeadWeightsError),
}

/// Two heads as one, exactly: a head whose outputs are `first`'s outputs followed by
/// `second`'s, each computed as its own head computes it.
///
/// Both read the same segment embeddings (same width, same kernel widths, as many dense
/// layers). Each convolution gets both heads' filters (`first`'s, then `second`'s): every
/// filter sees the whole input, so stacking them changes nothing; ReLU and max-pooling act
/// per filter. The dense layers and the output layer become block-diagonal: `first`'s units
/// read only `first`'s pooled filters (and the per-gene features, which only `first` may
/// read), `second`'s units only `second`'s, with zero weights between the blocks. Dropout is
/// `first`'s (it does nothing at prediction time).
pub fn stack(
    first: (&TextCnnHeadConfig, &[NamedTensor]),
    second: (&TextCnnHeadConfig, &[NamedTensor]),
) -> Result<(TextCnnHeadConfig, Vec<NamedTensor>), StackError> {
    let ((a, at), (b, bt)) = (first, second);
    let differ =
        |what: &'static str, x: &dyn std::fmt::Debug, y: &dyn std::fmt::Debug| StackError::Shape {
            what,
            first: format!("{x:?}"),
            second: format!("{y:?}"),
        };
    if a.embedding_dim != b.embedding_dim {
        return Err(differ(
            "embedding width",
            &a.embedding_dim,
            &b.embedding_dim,
        ));
    }
    if a.kernel_sizes != b.kernel_sizes {
        return Err(differ("kernel widths", &a.kernel_sizes, &b.kernel_sizes));
    }
    if a.dense.len() != b.dense.len() {
        return Err(differ("dense layers", &a.dense, &b.dense));
    }
    if b.extra_features > 0 {
        return Err(StackError::SecondHasFeatures(b.extra_features));
    }
    a.validate().map_err(HeadWeightsError::from)?;
    b.validate().map_err(HeadWeightsError::from)?;
    let config = TextCnnHeadConfig {
        embedding_dim: a.embedding_dim,
        kernel_sizes: a.kernel_sizes.clone(),
        filters: a.filters + b.filters,
        extra_features: a.extra_features,
        dense: a.dense.iter().zip(&b.dense).map(|(x, y)| x + y).collect(),
        dropout: a.dropout,
        outputs: a.outputs + b.outputs,
    };
    let (a_map, b_map) = (by_name(at), by_name(bt));
    // Every weight present with the shape its config says.
    TextCnnHead::from_tensors(a, at, &Device::flex())?;
    TextCnnHead::from_tensors(b, bt, &Device::flex())?;
    let mut out = Vec::new();
    let channels = a.embedding_dim;
    for (i, &k) in a.kernel_sizes.iter().enumerate() {
        // [filters, channels, width]: `second`'s filters after `first`'s.
        let name = format!("convs.{i}.weight");
        let mut values = a_map[name.as_str()].values.clone();
        values.extend_from_slice(&b_map[name.as_str()].values);
        out.push(NamedTensor {
            name,
            shape: vec![config.filters, channels, k],
            values,
        });
        out.push(joined(&a_map, &b_map, format!("convs.{i}.bias")));
    }
    // Where each head's inputs of the first linear layer sit in the stacked pooled vector:
    // per kernel width `first`'s filters then `second`'s, then `first`'s per-gene features.
    let kernels = a.kernel_sizes.len();
    let pooled = kernels * config.filters;
    let a_rows: Vec<usize> = (0..kernels)
        .flat_map(|i| (0..a.filters).map(move |f| i * config.filters + f))
        .chain((0..a.extra_features).map(|e| pooled + e))
        .collect();
    let b_rows: Vec<usize> = (0..kernels)
        .flat_map(|i| (0..b.filters).map(move |f| i * config.filters + a.filters + f))
        .collect();
    let names = (0..a.dense.len())
        .map(|i| format!("dense.{i}"))
        .chain(std::iter::once("output".to_string()));
    let (mut a_rows, mut b_rows, mut rows) = (a_rows, b_rows, pooled + a.extra_features);
    let widths = config
        .dense
        .iter()
        .zip(a.dense.iter().zip(&b.dense))
        .map(|(&w, (&x, &y))| (w, x, y))
        .chain(std::iter::once((config.outputs, a.outputs, b.outputs)));
    for (prefix, (cols, a_cols, _)) in names.zip(widths) {
        // Linear weights are [in, out]: `first`'s block at its rows and columns 0..a_cols,
        // `second`'s at its rows and columns a_cols.., zeros elsewhere.
        let name = format!("{prefix}.weight");
        let mut values = vec![0f32; rows * cols];
        for (map, src_rows, offset) in [(&a_map, &a_rows, 0), (&b_map, &b_rows, a_cols)] {
            let src = &map[name.as_str()];
            let src_cols = src.shape[1];
            for (r, &dst_row) in src_rows.iter().enumerate() {
                values[dst_row * cols + offset..][..src_cols]
                    .copy_from_slice(&src.values[r * src_cols..][..src_cols]);
            }
        }
        out.push(NamedTensor {
            name,
            shape: vec![rows, cols],
            values,
        });
        out.push(joined(&a_map, &b_map, format!("{prefix}.bias")));
        // The next layer reads this one's units: `first`'s, then `second`'s.
        a_rows = (0..a_cols).collect();
        b_rows = (a_cols..cols).collect();
        rows = cols;
    }
    Ok((config, out))
}

fn by_name(tensors: &[NamedTensor]) -> std::collections::HashMap<&str, &NamedTensor> {
    tensors.iter().map(|t| (t.name.as_str(), t)).collect()
}

/// The 1-D weight `name` of two heads, `a`'s values then `b`'s (a bias of stacked units).
fn joined(
    a: &std::collections::HashMap<&str, &NamedTensor>,
    b: &std::collections::HashMap<&str, &NamedTensor>,
    name: String,
) -> NamedTensor {
    let mut values = a[name.as_str()].values.clone();
    values.extend_from_slice(&b[name.as_str()].values);
    NamedTensor {
        shape: vec![values.len()],
        name,
        values,
    }
}
