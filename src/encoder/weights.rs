//! Moving weights between a [`Checkpoint`] (official key names, PyTorch layout) and the
//! burn modules, with every mismatch collected and reported by name.

use std::collections::BTreeSet;
use std::fmt;

use burn::module::Param;
use burn::nn::{Embedding, LayerNorm, LayerNormConfig, Linear};
use burn::tensor::{Device, Tensor, TensorData};

use super::checkpoint::{Checkpoint, CheckpointTensor};

/// Key prefix of the encoder's tensors in an official `BertForMaskedLM` checkpoint.
pub const ENCODER_PREFIX: &str = "bert.";
/// Key prefix of the masked-language-model head, which an encoder does not use.
pub const IGNORED_PREFIX: &str = "cls.predictions.";

/// One way a checkpoint tensor fails to match what the config expects.
#[derive(Debug, Clone, PartialEq)]
pub enum TensorIssue {
    /// The config needs this tensor and the checkpoint lacks it.
    Missing {
        /// Official key.
        name: String,
        /// Shape the config implies, in PyTorch layout.
        expected: Vec<usize>,
    },
    /// The checkpoint has a tensor that no part of the encoder uses.
    Unexpected {
        /// Key in the checkpoint.
        name: String,
        /// Its shape.
        found: Vec<usize>,
    },
    /// The tensor exists with another shape than the config implies.
    WrongShape {
        /// Official key.
        name: String,
        /// Shape the config implies, in PyTorch layout.
        expected: Vec<usize>,
        /// Shape in the checkpoint.
        found: Vec<usize>,
    },
    /// The tensor exists with the right shape, but its values cannot be read.
    Unreadable {
        /// Official key.
        name: String,
        /// Why (unsupported element type, short data, I/O error).
        reason: String,
    },
}

impl fmt::Display for TensorIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing { name, expected } => {
                write!(f, "missing tensor {name}: expected shape {expected:?}")
            }
            Self::Unexpected { name, found } => {
                write!(f, "unexpected tensor {name}: found shape {found:?}")
            }
            Self::WrongShape {
                name,
                expected,
                found,
            } => write!(
                f,
                "wrong shape for {name}: expected {expected:?}, found {found:?}"
            ),
            Self::Unreadable { name, reason } => write!(f, "cannot read tensor {name}: {reason}"),
        }
    }
}

/// A checkpoint that does not fit the config, with every problem listed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", render_issues(.0))]
pub struct WeightsMismatch(pub Vec<TensorIssue>);

fn render_issues(issues: &[TensorIssue]) -> String {
    let mut text = format!(
        "the checkpoint does not fit the DNABERT-2 config ({} problem{}):",
        issues.len(),
        if issues.len() == 1 { "" } else { "s" }
    );
    for issue in issues {
        text.push_str("\n  ");
        text.push_str(&issue.to_string());
    }
    text
}

/// What stands in for a missing, wrongly shaped or unreadable tensor: one zero per axis, not
/// a tensor of the expected shape (a damaged config may expect more than any memory holds).
/// The model it goes into is never returned: [`WeightReader::finish`] reports the issue.
fn placeholder<const D: usize>(device: &Device) -> Tensor<D> {
    Tensor::zeros([1; D], device)
}

/// Hands out checkpoint tensors to module constructors by official key and expected
/// shape. A missing or wrong tensor is recorded and replaced by a [`placeholder`] so that
/// the walk goes on and every problem is reported at once by [`WeightReader::finish`].
pub(crate) struct WeightReader<'a> {
    checkpoint: &'a Checkpoint,
    device: Device,
    used: BTreeSet<String>,
    issues: Vec<TensorIssue>,
}

impl<'a> WeightReader<'a> {
    pub(crate) fn new(checkpoint: &'a Checkpoint, device: &Device) -> Self {
        Self {
            checkpoint,
            device: device.clone(),
            used: BTreeSet::new(),
            issues: Vec::new(),
        }
    }

    /// Values of `name` (PyTorch layout, `f32`), or `None` after recording why not.
    fn values(&mut self, name: &str, expected: &[usize]) -> Option<TensorData> {
        self.used.insert(name.to_string());
        let Some(tensor) = self.checkpoint.tensors.get(name) else {
            self.issues.push(TensorIssue::Missing {
                name: name.to_string(),
                expected: expected.to_vec(),
            });
            return None;
        };
        if tensor.shape != expected {
            self.issues.push(TensorIssue::WrongShape {
                name: name.to_string(),
                expected: expected.to_vec(),
                found: tensor.shape.clone(),
            });
            return None;
        }
        match tensor.to_tensor_data() {
            Ok(data) => Some(data),
            Err(reason) => {
                self.issues.push(TensorIssue::Unreadable {
                    name: name.to_string(),
                    reason,
                });
                None
            }
        }
    }

    /// The tensor `name` with shape `shape`.
    pub(crate) fn tensor<const D: usize>(&mut self, name: &str, shape: [usize; D]) -> Tensor<D> {
        match self.values(name, &shape) {
            Some(data) => Tensor::from_data(data, &self.device),
            None => placeholder(&self.device),
        }
    }

    /// A `torch.nn.Linear` stored as `{prefix}.weight` `[d_out, d_in]` (and `{prefix}.bias`
    /// `[d_out]`), turned into burn's `[d_in, d_out]` layout.
    pub(crate) fn linear(&mut self, prefix: &str, d_in: usize, d_out: usize, bias: bool) -> Linear {
        let name = format!("{prefix}.weight");
        // PyTorch stores [out, in]; burn's Linear multiplies by [in, out]. The transpose is
        // done here, once, into contiguous memory: a lazily transposed view made every
        // forward pass copy each weight matrix again before its matmul (on the CPU, a
        // fifth of the full-size model's time at batch 1).
        let weight = match self.values(&name, &[d_out, d_in]) {
            Some(data) => match data.try_into_vec::<f32>() {
                Ok(values) => Tensor::<2>::from_data(
                    TensorData::new(transpose(&values, d_out, d_in), [d_in, d_out]),
                    &self.device,
                ),
                Err(err) => {
                    self.issues.push(TensorIssue::Unreadable {
                        name,
                        reason: format!("{err:?}"),
                    });
                    placeholder(&self.device)
                }
            },
            None => placeholder(&self.device),
        };
        let bias =
            bias.then(|| Param::from_tensor(self.tensor(&format!("{prefix}.bias"), [d_out])));
        Linear {
            weight: Param::from_tensor(weight),
            bias,
        }
    }

    /// A `torch.nn.LayerNorm` stored as `{prefix}.weight` and `{prefix}.bias`, both `[d]`.
    pub(crate) fn layer_norm(&mut self, prefix: &str, d: usize, eps: f64) -> LayerNorm {
        let mut norm = LayerNormConfig::new(d).with_epsilon(eps).init(&self.device);
        norm.gamma = Param::from_tensor(self.tensor(&format!("{prefix}.weight"), [d]));
        norm.beta = Some(Param::from_tensor(
            self.tensor(&format!("{prefix}.bias"), [d]),
        ));
        norm
    }

    /// A `torch.nn.Embedding` stored as `{prefix}.weight` `[n, d]`.
    pub(crate) fn embedding(&mut self, prefix: &str, n: usize, d: usize) -> Embedding {
        Embedding {
            weight: Param::from_tensor(self.tensor(&format!("{prefix}.weight"), [n, d])),
        }
    }

    /// Succeeds only if every tensor was present with its shape and no encoder tensor in
    /// the checkpoint went unused (the MLM head, `cls.predictions.*`, is ignored).
    pub(crate) fn finish(self) -> Result<(), WeightsMismatch> {
        self.finish_where(|name| !name.starts_with(IGNORED_PREFIX))
    }

    /// As [`Self::finish`], for the MLM head: no `cls.predictions.*` tensor went unused (the
    /// encoder's are ignored).
    pub(crate) fn finish_head(self) -> Result<(), WeightsMismatch> {
        self.finish_where(|name| name.starts_with(IGNORED_PREFIX))
    }

    /// Every tensor was present with its shape, and every checkpoint tensor whose name
    /// `checked` accepts was used.
    fn finish_where(mut self, checked: impl Fn(&str) -> bool) -> Result<(), WeightsMismatch> {
        for (name, tensor) in &self.checkpoint.tensors {
            if !self.used.contains(name) && checked(name) {
                self.issues.push(TensorIssue::Unexpected {
                    name: name.clone(),
                    found: tensor.shape.clone(),
                });
            }
        }
        if self.issues.is_empty() {
            Ok(())
        } else {
            Err(WeightsMismatch(self.issues))
        }
    }
}

/// Collects module weights into a [`Checkpoint`] with official key names and PyTorch layout.
pub(crate) struct WeightWriter {
    pub(crate) checkpoint: Checkpoint,
    pub(crate) error: Option<String>,
}

impl WeightWriter {
    pub(crate) fn new() -> Self {
        Self {
            checkpoint: Checkpoint::default(),
            error: None,
        }
    }

    /// Reads `tensor` back from the device and stores it as `name`.
    fn put<const D: usize>(&mut self, name: String, tensor: Tensor<D>) {
        match tensor.try_into_data() {
            Ok(data) => {
                self.checkpoint
                    .tensors
                    .insert(name, CheckpointTensor::from_tensor_data(data));
            }
            Err(err) => {
                self.error
                    .get_or_insert_with(|| format!("cannot read {name} from the device: {err}"));
            }
        }
    }

    pub(crate) fn tensor<const D: usize>(&mut self, name: &str, tensor: &Tensor<D>) {
        self.put(name.to_string(), tensor.clone());
    }

    /// Back to PyTorch's `[d_out, d_in]` weight layout.
    pub(crate) fn linear(&mut self, prefix: &str, linear: &Linear) {
        self.put(format!("{prefix}.weight"), linear.weight.val().transpose());
        if let Some(bias) = &linear.bias {
            self.tensor(&format!("{prefix}.bias"), &bias.val());
        }
    }

    pub(crate) fn layer_norm(&mut self, prefix: &str, norm: &LayerNorm) {
        self.tensor(&format!("{prefix}.weight"), &norm.gamma.val());
        if let Some(beta) = &norm.beta {
            self.tensor(&format!("{prefix}.bias"), &beta.val());
        }
    }

    pub(crate) fn embedding(&mut self, prefix: &str, embedding: &Embedding) {
        self.tensor(&format!("{prefix}.weight"), &embedding.weight.val());
    }
}

/// `values` [rows, cols] (row-major) → [cols, rows] (row-major).
fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    // Tiles keep both the reads and the writes within a few cache lines.
    const TILE: usize = 32;
    for r0 in (0..rows).step_by(TILE) {
        for c0 in (0..cols).step_by(TILE) {
            for r in r0..(r0 + TILE).min(rows) {
                for c in c0..(c0 + TILE).min(cols) {
                    out[c * rows + r] = values[r * cols + c];
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mismatch_lists_every_issue_with_shapes() {
        let err = WeightsMismatch(vec![
            TensorIssue::Missing {
                name: "bert.a".into(),
                expected: vec![2, 3],
            },
            TensorIssue::WrongShape {
                name: "bert.b".into(),
                expected: vec![4],
                found: vec![5],
            },
        ]);
        let text = err.to_string();
        assert!(text.contains("(2 problems)"), "{text}");
        assert!(
            text.contains("missing tensor bert.a: expected shape [2, 3]"),
            "{text}"
        );
        assert!(
            text.contains("wrong shape for bert.b: expected [4], found [5]"),
            "{text}"
        );
    }
}
