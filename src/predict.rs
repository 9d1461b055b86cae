//! The prediction pipeline shared by the page and the native tool:
//! sequence → window → segments → tokens → encoder → mean pooling → (normalisation) →
//! text-CNN head → expression in label units, plus leave-one-segment-out explanations.
//!
//! The steps are split so that a caller can read the segment embeddings back from the
//! device its own way (synchronously natively, asynchronously in the browser on WebGPU)
//! and report progress between batches: [`Predictor::prepare`], then the embedder's
//! [`SegmentEmbedder::batches`](crate::pipeline::SegmentEmbedder::batches), then
//! [`Predictor::finish`].

use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::bundle::card::ordinal;
use crate::bundle::{Bundle, BundleError, HeadKind, HeadPart, ModelCard, NormStats, StoredTensor};
use crate::encoder::EncodeError;
use crate::head::{HeadWeightsError, NamedTensor, TextCnnHead, TextCnnHeadConfig};
use crate::pipeline::{Prepared, SegmentEmbedder};
use crate::segment::{ReadWindow, SegmentError, SegmentPlan};
use crate::tokenizer::TokenizerError;

/// Name of the normalisation statistics applied to segment embeddings before the head.
pub const EMBEDDING_NORM: &str = "segment_embedding";
/// Name of the statistics the head's outputs are standardised with (one per output).
pub const LABEL_NORM: &str = "label";
/// Version of the text-CNN head's config and weight layout in bundles.
pub const TEXT_CNN_HEAD_VERSION: u32 = 1;

/// Why a sequence could not be predicted.
#[derive(Debug, thiserror::Error)]
pub enum PredictError {
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error(transparent)]
    Segment(#[from] SegmentError),
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),
    #[error(transparent)]
    Encode(#[from] EncodeError),
    #[error("bundled head: {0}")]
    HeadWeights(#[from] HeadWeightsError),
    #[error("bundled head config: {0}")]
    HeadConfig(String),
    #[error("the head expects {expected}-wide segment embeddings but the encoder gives {found}")]
    WidthMismatch { expected: usize, found: usize },
    #[error(
        "this model needs {0} extra per-gene features (e.g. mRNA half-life), which this tool cannot supply yet"
    )]
    NeedsFeatures(usize),
    #[error("the model card lists {card} outputs but the head has {head}")]
    OutputCount { card: usize, head: usize },
    #[error("the device failed: {0}")]
    Device(String),
    #[error("cancelled")]
    Cancelled,
}

/// One predicted output.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OutputValue {
    /// The output's name (e.g. `xpresso_median`).
    pub name: String,
    /// Predicted value in label units.
    pub value: f32,
    /// Percentile of the value among the training genes' labels, if the bundle has them.
    pub percentile: Option<f32>,
    /// The percentile as read, rounded: `1st`, `22nd`, `63rd`.
    #[serde(default)]
    pub percentile_text: Option<String>,
}

/// How much one segment moves each output: the full prediction minus the prediction without
/// it, so a positive value means the segment raises the prediction.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SegmentEffect {
    pub index: usize,
    /// Bases `start..end` of the window (0-based).
    pub start: usize,
    pub end: usize,
    /// The same bases relative to the TSS (`[first, last]`, TSS at 0, upstream negative),
    /// when the window's TSS is known.
    pub tss_relative: Option<(i64, i64)>,
    /// One value per output, in label units.
    pub delta: Vec<f32>,
}

/// The result for one sequence.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Prediction {
    /// Which bases of the record were read and where its TSS was taken to be.
    pub read: ReadWindow,
    /// What the user should know about the read (padding, trimming, an assumed TSS, many N).
    pub notes: Vec<String>,
    pub outputs: Vec<OutputValue>,
    /// Leave-one-segment-out effects (empty when not asked for or with one segment).
    pub segments: Vec<SegmentEffect>,
}

/// A loaded predictor: everything from one bundle, on one device.
#[derive(Debug)]
pub struct Predictor {
    pub card: ModelCard,
    /// Plan, tokenizer and encoder: sequence → segment embeddings.
    pub embedder: SegmentEmbedder,
    pub head: TextCnnHead,
    pub head_config: TextCnnHeadConfig,
    embedding_norm: Option<NormStats>,
    label_norm: Option<NormStats>,
    /// Where the encoder runs.
    device: Device,
    /// Where the head runs (always the CPU).
    head_device: Device,
}

fn to_named(tensors: &[StoredTensor]) -> Result<Vec<NamedTensor>, BundleError> {
    tensors
        .iter()
        .map(|t| {
            Ok(NamedTensor {
                name: t.name.clone(),
                shape: t.shape.clone(),
                values: t.to_f32()?,
            })
        })
        .collect()
}

/// The bundle part of a trained text-CNN head (weights stored as `f32`: they are small).
pub fn head_part(config: &TextCnnHeadConfig, head: &TextCnnHead) -> Result<HeadPart, PredictError> {
    let tensors = head
        .to_tensors()?
        .into_iter()
        .map(|t| StoredTensor::encode(t.name, t.shape, &t.values, crate::bundle::Encoding::F32))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HeadPart {
        kind: HeadKind::TextCnn,
        version: TEXT_CNN_HEAD_VERSION,
        config: serde_json::to_value(config)
            .map_err(|e| PredictError::HeadConfig(e.to_string()))?,
        tensors,
    })
}

impl Predictor {
    /// Builds the predictor of a bundle with a head, on `device`.
    pub fn from_bundle(bundle: &Bundle, device: &Device) -> Result<Self, PredictError> {
        let head_part = bundle.head.as_ref().ok_or(BundleError::NoHead)?;
        let head_config: TextCnnHeadConfig = serde_json::from_value(head_part.config.clone())
            .map_err(|e| PredictError::HeadConfig(e.to_string()))?;
        if head_config.embedding_dim != bundle.encoder.config.hidden_size {
            return Err(PredictError::WidthMismatch {
                expected: head_config.embedding_dim,
                found: bundle.encoder.config.hidden_size,
            });
        }
        let outputs = bundle.card.outputs.len();
        if outputs != 0 && outputs != head_config.outputs {
            return Err(PredictError::OutputCount {
                card: outputs,
                head: head_config.outputs,
            });
        }
        // The head is a few thousand multiply-adds per gene: it always runs on the CPU, so
        // its output is read back synchronously on every backend (WebGPU cannot).
        let head_device = Device::flex();
        let head =
            TextCnnHead::from_tensors(&head_config, &to_named(&head_part.tensors)?, &head_device)?;
        let find = |name: &str| {
            bundle
                .normalization
                .iter()
                .find(|n| n.name == name)
                .cloned()
        };
        let embedding_norm = find(EMBEDDING_NORM);
        let label_norm = find(LABEL_NORM);
        for (stats, want) in [
            (&embedding_norm, head_config.embedding_dim),
            (&label_norm, head_config.outputs),
        ] {
            if let Some(stats) = stats
                && stats.mean.len() != want
            {
                return Err(BundleError::Normalization {
                    name: stats.name.clone(),
                    reason: format!("{} values, expected {want}", stats.mean.len()),
                }
                .into());
            }
        }
        Ok(Self {
            card: bundle.card.clone(),
            embedder: SegmentEmbedder::from_bundle(bundle, device)?,
            head,
            head_config,
            embedding_norm,
            label_norm,
            device: device.clone(),
            head_device,
        })
    }

    /// The device the encoder runs on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Output names, in order (`output_N` where the card names none).
    pub fn output_names(&self) -> Vec<String> {
        (0..self.head_config.outputs)
            .map(|i| {
                self.card
                    .outputs
                    .get(i)
                    .map_or_else(|| format!("output_{}", i + 1), |o| o.name.clone())
            })
            .collect()
    }

    /// Places the window (around base `tss`, 1-based, if the record gives it), cuts segments
    /// and tokenizes them.
    pub fn prepare(&self, residues: &str, tss: Option<usize>) -> Result<Prepared, PredictError> {
        if self.head_config.extra_features > 0 {
            return Err(PredictError::NeedsFeatures(self.head_config.extra_features));
        }
        self.embedder.prepare(residues, tss)
    }

    /// Head outputs in label units for several sets of segment embeddings of the same size:
    /// `embeddings` [sets, segments, hidden] (host values, row-major) → one row per set.
    fn head_values(
        &self,
        sets: usize,
        segments: usize,
        mut embeddings: Vec<f32>,
    ) -> Result<Vec<Vec<f32>>, PredictError> {
        let hidden = self.head_config.embedding_dim;
        if let Some(norm) = &self.embedding_norm {
            norm.apply(&mut embeddings);
        }
        let x = Tensor::<3>::from_data(
            TensorData::new(embeddings, [sets, segments, hidden]),
            &self.head_device,
        );
        let mut out = self
            .head
            .forward(x, None)
            .try_into_data()
            .ok()
            .and_then(|d| d.try_into_vec::<f32>().ok())
            .ok_or_else(|| PredictError::Device("reading the head's output".into()))?;
        if let Some(norm) = &self.label_norm {
            norm.invert(&mut out);
        }
        Ok(out
            .chunks(self.head_config.outputs)
            .map(<[f32]>::to_vec)
            .collect())
    }

    /// The head's outputs in label units for one sequence's segment embeddings (one host row
    /// per segment, in order).
    pub(crate) fn head_output(&self, embeddings: &[Vec<f32>]) -> Result<Vec<f32>, PredictError> {
        let hidden = self.head_config.embedding_dim;
        if let Some(row) = embeddings.iter().find(|r| r.len() != hidden) {
            return Err(PredictError::WidthMismatch {
                expected: hidden,
                found: row.len(),
            });
        }
        let flat: Vec<f32> = embeddings.iter().flatten().copied().collect();
        Ok(self.head_values(1, embeddings.len(), flat)?.remove(0))
    }

    /// Runs the head on the segment embeddings (one host row per segment, in order) and,
    /// if `explain`, once more per left-out segment.
    pub fn finish(
        &self,
        embeddings: &[Vec<f32>],
        prepared: &Prepared,
        explain: bool,
    ) -> Result<Prediction, PredictError> {
        let n = embeddings.len();
        let hidden = self.head_config.embedding_dim;
        let full = self.head_output(embeddings)?;
        let mut segments = Vec::new();
        if explain && n > 1 {
            // All leave-one-out sets in one batch: [n, n - 1, hidden].
            let mut sets = Vec::with_capacity(n * (n - 1) * hidden);
            for skip in 0..n {
                for (i, row) in embeddings.iter().enumerate() {
                    if i != skip {
                        sets.extend_from_slice(row);
                    }
                }
            }
            let without = self.head_values(n, n - 1, sets)?;
            for (p, w) in prepared.segments.iter().zip(without) {
                segments.push(SegmentEffect {
                    index: p.segment.index,
                    start: p.segment.start,
                    end: p.segment.end,
                    tss_relative: prepared
                        .read
                        .tss_in_window
                        .map(|t| SegmentPlan::relative_to_tss(&p.segment, t)),
                    delta: full.iter().zip(&w).map(|(f, w)| f - w).collect(),
                });
            }
        }
        let names = self.output_names();
        let outputs = full
            .iter()
            .enumerate()
            .map(|(i, &value)| {
                let percentile = self.card.outputs.get(i).and_then(|o| o.percentile(value));
                OutputValue {
                    name: names[i].clone(),
                    value,
                    percentile,
                    percentile_text: percentile.map(|p| ordinal(p.round() as u32)),
                }
            })
            .collect();
        Ok(Prediction {
            notes: prepared.read.notes(),
            read: prepared.read.clone(),
            outputs,
            segments,
        })
    }

    /// The whole pipeline, synchronously (native code), for a record that does not give its
    /// TSS: `batch` segments per encoder pass.
    pub fn predict(
        &self,
        residues: &str,
        batch: usize,
        explain: bool,
    ) -> Result<Prediction, PredictError> {
        self.predict_at(residues, None, batch, explain)
    }

    /// [`Self::predict`] for a record whose TSS is at base `tss` (1-based) when given.
    pub fn predict_at(
        &self,
        residues: &str,
        tss: Option<usize>,
        batch: usize,
        explain: bool,
    ) -> Result<Prediction, PredictError> {
        let prepared = self.prepare(residues, tss)?;
        let rows = self.embedder.embed_prepared(&prepared, batch)?;
        self.finish(&rows, &prepared, explain)
    }
}
