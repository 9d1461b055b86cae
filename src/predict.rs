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
use crate::bundle::{
    Bundle, BundleError, FeaturePart, HeadKind, HeadPart, ModelCard, NormStats, StoredTensor,
};
use crate::encoder::EncodeError;
use crate::features::{FeatureError, FeatureSource, FeatureSpec, FeatureStore};
use crate::head::{HeadWeightsError, NamedTensor, TextCnnHead, TextCnnHeadConfig};
use crate::pipeline::{Prepared, SegmentEmbedder};
use crate::segment::{ReadWindow, SegmentError, SegmentPlan};
use crate::tokenizer::TokenizerError;

/// Name of the normalisation statistics applied to segment embeddings before the head.
pub const EMBEDDING_NORM: &str = "segment_embedding";
/// Name of the statistics the head's outputs are standardised with (one per output).
pub const LABEL_NORM: &str = "label";
pub use crate::bundle::TEXT_CNN_HEAD_VERSION;

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
    #[error("per-gene features: {0}")]
    Features(#[from] FeatureError),
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

/// What a prediction was computed from.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub enum Inputs {
    /// The DNA alone (the bundle's DNA-only head).
    #[default]
    #[serde(rename = "dna")]
    Dna,
    /// The DNA and the gene's per-gene features (the bundle's features head).
    #[serde(rename = "dna+features")]
    DnaFeatures,
}

impl Inputs {
    /// The word in the `inputs` column: `dna` or `dna+features`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dna => "dna",
            Self::DnaFeatures => "dna+features",
        }
    }
}

/// The result for one sequence.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Prediction {
    /// Which bases of the record were read and where its TSS was taken to be.
    pub read: ReadWindow,
    /// The DNA alone, or the DNA and the gene's features.
    #[serde(default)]
    pub inputs: Inputs,
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
    /// The per-gene features path, when the bundle has one.
    features: Option<FeaturesPath>,
    /// Where the encoder runs.
    device: Device,
    /// Where the head runs (always the CPU).
    head_device: Device,
}

/// A bundle's per-gene features and the head that reads them beside the DNA.
#[derive(Debug)]
struct FeaturesPath {
    spec: FeatureSpec,
    store: FeatureStore,
    sources: Vec<FeatureSource>,
    head: TextCnnHead,
    config: TextCnnHeadConfig,
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

/// Why one predictor's output cannot be added to another's ([`add_output`]).
#[derive(Debug, thiserror::Error)]
pub enum AddOutputError {
    #[error("the {0} bundle has no head (an encoder-only bundle)")]
    NoHead(&'static str),
    #[error(
        "the bundles differ in their {0}: the added output must be trained on the same encoder, segment plan and tokenizer"
    )]
    Differ(&'static str),
    #[error(
        "the bundles standardise segment embeddings differently: fit the added output with --embedding-norm-from the first bundle"
    )]
    EmbeddingNorm,
    #[error("the bundle lacks its {0} normalisation")]
    NoNorm(&'static str),
    #[error("the added bundle carries per-gene features; only a DNA-only predictor can be added")]
    AddedHasFeatures,
    #[error("output {0} is in both bundles")]
    Duplicate(String),
    #[error(transparent)]
    Stack(#[from] crate::head::StackError),
    #[error(transparent)]
    Predict(#[from] PredictError),
    #[error(transparent)]
    Bundle(#[from] BundleError),
}

/// `base` with the outputs of `added` beside its own, computed exactly as `added` computes
/// them ([`crate::head::stack`]): `added`'s DNA-only head joins `base`'s DNA-only head and,
/// where `base` has one, its per-gene features head (the added outputs then come from the DNA
/// on both paths). Both must share the encoder, segment plan, tokenizer and segment-embedding
/// normalisation; the label normalisation and the card's outputs and metrics are joined.
pub fn add_output(base: &Bundle, added: &Bundle) -> Result<Bundle, AddOutputError> {
    if base.encoder != added.encoder {
        return Err(AddOutputError::Differ("encoder weights"));
    }
    if base.segment_plan != added.segment_plan {
        return Err(AddOutputError::Differ("segment plan"));
    }
    if base.tokenizer_json != added.tokenizer_json {
        return Err(AddOutputError::Differ("tokenizer"));
    }
    if added.features.is_some() {
        return Err(AddOutputError::AddedHasFeatures);
    }
    let norm = |bundle: &Bundle, name: &'static str| {
        bundle
            .normalization
            .iter()
            .find(|n| n.name == name)
            .cloned()
            .ok_or(AddOutputError::NoNorm(name))
    };
    let embedding = norm(base, EMBEDDING_NORM)?;
    if embedding != norm(added, EMBEDDING_NORM)? {
        return Err(AddOutputError::EmbeddingNorm);
    }
    for output in &added.card.outputs {
        if base.card.outputs.iter().any(|o| o.name == output.name) {
            return Err(AddOutputError::Duplicate(output.name.clone()));
        }
    }
    let (mut label, added_label) = (norm(base, LABEL_NORM)?, norm(added, LABEL_NORM)?);
    label.mean.extend(&added_label.mean);
    label.std.extend(&added_label.std);
    let part = |bundle: &Bundle, which| bundle.head.clone().ok_or(AddOutputError::NoHead(which));
    let (base_head, added_head) = (part(base, "first")?, part(added, "added")?);
    let decode = |part: &HeadPart| -> Result<(TextCnnHeadConfig, Vec<NamedTensor>), PredictError> {
        let config = serde_json::from_value(part.config.clone())
            .map_err(|e| PredictError::HeadConfig(e.to_string()))?;
        Ok((config, to_named(&part.tensors)?))
    };
    let (added_config, added_tensors) = decode(&added_head)?;
    let join = |part: &HeadPart| -> Result<HeadPart, AddOutputError> {
        let (config, tensors) = decode(part)?;
        let (config, tensors) =
            crate::head::stack((&config, &tensors), (&added_config, &added_tensors))?;
        let head = TextCnnHead::from_tensors(&config, &tensors, &Device::flex())
            .map_err(PredictError::from)?;
        Ok(head_part(&config, &head)?)
    };
    let mut bundle = base.clone();
    bundle.head = Some(join(&base_head)?);
    if let Some(features) = bundle.features.as_mut() {
        features.head = join(&features.head)?;
    }
    bundle.normalization = base
        .normalization
        .iter()
        .map(|n| {
            if n.name == LABEL_NORM {
                label.clone()
            } else {
                n.clone()
            }
        })
        .collect();
    let card = &mut bundle.card;
    let names: Vec<&str> = added.card.outputs.iter().map(|o| o.name.as_str()).collect();
    let names = names.join(", ");
    card.outputs.extend(added.card.outputs.iter().cloned());
    card.description = format!(
        "{} Output {names} (from the DNA on every path): {}",
        card.description, added.card.description
    );
    // The added model's own measurements, named with its outputs; the encoder's are shared.
    let own: Vec<crate::bundle::Metric> = added
        .card
        .metrics
        .iter()
        .filter(|m| !card.metrics.contains(m))
        .map(|m| crate::bundle::Metric {
            name: format!("{}, {names}", m.name),
            ..m.clone()
        })
        .collect();
    card.metrics.extend(own);
    if let (Some(t), Some(a)) = (card.training.as_mut(), &added.card.training) {
        t.data = format!("{}; {names}: {}", t.data, a.data);
        t.split = format!("{}; {names}: {}", t.split, a.split);
    }
    if added.card.licence != card.licence {
        card.licence = format!("{}; {names}: {}", card.licence, added.card.licence);
    }
    bundle.validate()?;
    Ok(bundle)
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

/// A bundled head, checked against the encoder's width and the card's outputs.
fn load_head(
    bundle: &Bundle,
    part: &HeadPart,
    device: &Device,
) -> Result<(TextCnnHead, TextCnnHeadConfig), PredictError> {
    let config: TextCnnHeadConfig = serde_json::from_value(part.config.clone())
        .map_err(|e| PredictError::HeadConfig(e.to_string()))?;
    if config.embedding_dim != bundle.encoder.config.hidden_size {
        return Err(PredictError::WidthMismatch {
            expected: config.embedding_dim,
            found: bundle.encoder.config.hidden_size,
        });
    }
    let outputs = bundle.card.outputs.len();
    if outputs != 0 && outputs != config.outputs {
        return Err(PredictError::OutputCount {
            card: outputs,
            head: config.outputs,
        });
    }
    let head = TextCnnHead::from_tensors(&config, &to_named(&part.tensors)?, device)?;
    Ok((head, config))
}

/// The features head of a bundle: it reads the spec's inputs beside the DNA and gives the
/// DNA-only head's outputs.
fn load_features(
    bundle: &Bundle,
    part: &FeaturePart,
    dna: &TextCnnHeadConfig,
    device: &Device,
) -> Result<FeaturesPath, PredictError> {
    let (head, config) = load_head(bundle, &part.head, device)?;
    let bad = |reason: String| PredictError::Bundle(BundleError::Features(reason));
    if config.extra_features != part.spec.width() {
        return Err(bad(format!(
            "the features head reads {} extra inputs but the spec gives {}",
            config.extra_features,
            part.spec.width()
        )));
    }
    if config.outputs != dna.outputs {
        return Err(bad(format!(
            "the features head has {} outputs, the DNA-only head {}",
            config.outputs, dna.outputs
        )));
    }
    Ok(FeaturesPath {
        spec: part.spec.clone(),
        store: part.store.clone(),
        sources: part.sources.clone(),
        head,
        config,
    })
}

impl Predictor {
    /// Builds the predictor of a bundle with a head, on `device`.
    pub fn from_bundle(bundle: &Bundle, device: &Device) -> Result<Self, PredictError> {
        let head_part = bundle.head.as_ref().ok_or(BundleError::NoHead)?;
        // The head is a few thousand multiply-adds per gene: it always runs on the CPU, so
        // its output is read back synchronously on every backend (WebGPU cannot).
        let head_device = Device::flex();
        let (head, head_config) = load_head(bundle, head_part, &head_device)?;
        let features = match &bundle.features {
            Some(part) => Some(load_features(bundle, part, &head_config, &head_device)?),
            None => None,
        };
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
            features,
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
    /// With `features` (the inputs [`Self::feature_inputs`] gives), the features head reads
    /// them beside every set; without, the DNA-only head.
    fn head_values(
        &self,
        sets: usize,
        segments: usize,
        mut embeddings: Vec<f32>,
        features: Option<&[f32]>,
    ) -> Result<Vec<Vec<f32>>, PredictError> {
        let hidden = self.head_config.embedding_dim;
        if let Some(norm) = &self.embedding_norm {
            norm.apply(&mut embeddings);
        }
        let x = Tensor::<3>::from_data(
            TensorData::new(embeddings, [sets, segments, hidden]),
            &self.head_device,
        );
        let (head, extra) = match (features, &self.features) {
            (Some(values), Some(path)) => {
                let width = path.config.extra_features;
                if values.len() != width {
                    return Err(path.spec.count_error(values.len(), width).into());
                }
                let rows: Vec<f32> = (0..sets).flat_map(|_| values.iter().copied()).collect();
                let extra =
                    Tensor::<2>::from_data(TensorData::new(rows, [sets, width]), &self.head_device);
                (&path.head, Some(extra))
            }
            _ => (&self.head, None),
        };
        let mut out = head
            .forward(x, extra)
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
    pub(crate) fn head_output(
        &self,
        embeddings: &[Vec<f32>],
        features: Option<&[f32]>,
    ) -> Result<Vec<f32>, PredictError> {
        let hidden = self.head_config.embedding_dim;
        if let Some(row) = embeddings.iter().find(|r| r.len() != hidden) {
            return Err(PredictError::WidthMismatch {
                expected: hidden,
                found: row.len(),
            });
        }
        let flat: Vec<f32> = embeddings.iter().flatten().copied().collect();
        Ok(self
            .head_values(1, embeddings.len(), flat, features)?
            .remove(0))
    }

    /// Whether the bundle has a per-gene features path.
    pub fn has_features(&self) -> bool {
        self.features.is_some()
    }

    /// The per-gene feature spec, when the bundle has a features path.
    pub fn feature_spec(&self) -> Option<&FeatureSpec> {
        self.features.as_ref().map(|f| &f.spec)
    }

    /// Where the bundled feature values came from (empty without a features path).
    pub fn feature_sources(&self) -> &[FeatureSource] {
        self.features.as_ref().map_or(&[], |f| f.sources.as_slice())
    }

    /// The features head's inputs for the gene a record id names (an Ensembl id, with or
    /// without a version suffix or `|` extras): the bundle's values for that gene, overlaid by
    /// the known values of `supplied` (raw values in the spec's column order, e.g. from a
    /// user's table). `None` (predict from the DNA alone) when the bundle has no features path,
    /// or neither the bundle nor `supplied` knows the gene.
    pub fn feature_inputs(
        &self,
        id: &str,
        supplied: Option<&[Option<f32>]>,
    ) -> Result<Option<Vec<f32>>, PredictError> {
        let Some(path) = &self.features else {
            return Ok(None);
        };
        let stored = path.store.raw(id);
        let raw = match (stored, supplied) {
            (None, None) => return Ok(None),
            (Some(raw), None) => raw,
            (stored, Some(given)) => {
                if given.len() != path.spec.columns.len() {
                    let expected = path.spec.columns.len();
                    return Err(path.spec.count_error(given.len(), expected).into());
                }
                let mut raw = stored.unwrap_or_else(|| vec![None; given.len()]);
                for (r, g) in raw.iter_mut().zip(given) {
                    if g.is_some() {
                        *r = *g;
                    }
                }
                raw
            }
        };
        Ok(Some(path.spec.encode(&raw)?))
    }

    /// Runs the head on the segment embeddings (one host row per segment, in order) and,
    /// if `explain`, once more per left-out segment. With `features` (from
    /// [`Self::feature_inputs`]) the features head reads them beside the DNA; without, the
    /// DNA-only head predicts.
    pub fn finish(
        &self,
        embeddings: &[Vec<f32>],
        prepared: &Prepared,
        explain: bool,
        features: Option<&[f32]>,
    ) -> Result<Prediction, PredictError> {
        let features = features.filter(|_| self.features.is_some());
        let n = embeddings.len();
        let hidden = self.head_config.embedding_dim;
        let full = self.head_output(embeddings, features)?;
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
            let without = self.head_values(n, n - 1, sets, features)?;
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
            inputs: if features.is_some() {
                Inputs::DnaFeatures
            } else {
                Inputs::Dna
            },
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

    /// [`Self::predict`] for a record whose TSS is at base `tss` (1-based) when given, from
    /// the DNA alone.
    pub fn predict_at(
        &self,
        residues: &str,
        tss: Option<usize>,
        batch: usize,
        explain: bool,
    ) -> Result<Prediction, PredictError> {
        self.predict_with(residues, tss, None, batch, explain)
    }

    /// [`Self::predict_at`] with the features head's inputs when given
    /// ([`Self::feature_inputs`]).
    pub fn predict_with(
        &self,
        residues: &str,
        tss: Option<usize>,
        features: Option<&[f32]>,
        batch: usize,
        explain: bool,
    ) -> Result<Prediction, PredictError> {
        let prepared = self.prepare(residues, tss)?;
        let rows = self.embedder.embed_prepared(&prepared, batch)?;
        self.finish(&rows, &prepared, explain, features)
    }
}
