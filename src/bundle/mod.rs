//! Model bundles: one versioned file holding everything a predictor needs: model card,
//! tokenizer, segment plan, encoder config and weights, optional head config and weights,
//! normalisation statistics, and a checksum over all of it.
//!
//! A bundle is read from bytes ([`Bundle::from_bytes`]) and written to bytes
//! ([`Bundle::to_bytes`]); no filesystem is involved, so the page uses the same code as the
//! native tool. Reading validates everything that can be checked without a device: magic,
//! format version, length, SHA-256, manifest, section bounds, tensor byte lengths, the
//! encoder config, the segment plan and the tokenizer. Tensor shapes are checked against the
//! encoder config when the encoder is built. The byte layout is in `FORMAT.md` next to this
//! file.

pub mod card;
pub mod container;
pub mod encoder;
pub mod tensors;

use serde::{Deserialize, Serialize};

pub use card::{LabelSpec, Metric, ModelCard, OutputSpec, TrainingData};
pub use container::{FORMAT_VERSION, MAGIC};
pub use encoder::{
    Codec, Compute, Precision, QuantPlan, cosine, default_compute, set_default_compute,
};
pub use tensors::{Encoding, StoredTensor};

use crate::encoder::{Dnabert2Config, WeightsMismatch};
use crate::features::{
    ColumnValues, FeatureError, FeatureSource, FeatureSpec, FeatureStore, StoreError, StoredColumn,
};

use crate::segment::{SegmentError, SegmentPlan};
use crate::tokenizer::{Dnabert2Tokenizer, TokenizerError};

/// Why a bundle cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The file does not start with [`MAGIC`].
    #[error(
        "not a texcnn model bundle: the file starts with bytes {found}, a bundle starts with \"TXCNNBDL\""
    )]
    BadMagic {
        /// The first bytes found, in hex.
        found: String,
    },
    /// A bundle of a format version this build does not read.
    #[error(
        "unsupported bundle format version {found}: this build of texcnn reads version {supported}"
    )]
    UnsupportedVersion {
        /// Version in the file.
        found: u32,
        /// Version this build reads.
        supported: u32,
    },
    /// Fewer bytes than the header announces, e.g. an interrupted download.
    #[error(
        "the bundle is truncated: it should be {expected} bytes long, but only {found} bytes were read"
    )]
    Truncated {
        /// Length the header announces (or the minimum length of any bundle).
        expected: u64,
        /// Length found.
        found: u64,
    },
    /// More bytes than the header announces.
    #[error("the bundle has trailing bytes: it should be {expected} bytes long, found {found}")]
    TrailingBytes {
        /// Length the header announces.
        expected: u64,
        /// Length found.
        found: u64,
    },
    /// The SHA-256 trailer does not match the contents: the file is corrupt.
    #[error(
        "the bundle is corrupt: checksum mismatch (stored SHA-256 {stored}, computed {computed})"
    )]
    ChecksumMismatch {
        /// Digest stored in the file, hex.
        stored: String,
        /// Digest of the contents, hex.
        computed: String,
    },
    /// The framing is inconsistent although the checksum matches.
    #[error("malformed bundle: {0}")]
    Malformed(String),
    /// The manifest is not the JSON this version describes.
    #[error("malformed bundle manifest: {0}")]
    Manifest(String),
    /// A section's byte range lies outside the payload.
    #[error(
        "bundle section {section} ({offset}+{len} bytes) lies outside the {payload} payload bytes"
    )]
    SectionOutOfRange {
        /// Which section ("tokenizer", or a tensor name).
        section: String,
        /// Offset in the payload.
        offset: u64,
        /// Length.
        len: u64,
        /// Payload length.
        payload: u64,
    },
    /// A tensor whose bytes, shape or encoding are inconsistent.
    #[error("tensor {tensor}: {reason}")]
    Tensor {
        /// Tensor name.
        tensor: String,
        /// What is wrong.
        reason: String,
    },
    /// Two tensors with the same name in one part.
    #[error("tensor {0} appears twice in the bundle")]
    DuplicateTensor(String),
    /// A head of a kind or version this build does not know.
    #[error("unsupported head {kind} version {version}: this build knows {known}")]
    UnsupportedHead {
        /// Kind in the file.
        kind: String,
        /// Version in the file.
        version: u32,
        /// Kinds and versions this build reads.
        known: String,
    },
    /// Normalisation statistics that cannot be applied.
    #[error("normalisation statistics {name}: {reason}")]
    Normalization {
        /// Name of the statistics.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The bundled tokenizer is unusable.
    #[error("bundled tokenizer: {0}")]
    Tokenizer(#[from] TokenizerError),
    /// The bundled segment plan is invalid.
    #[error("bundled segment plan: {0}")]
    SegmentPlan(#[from] SegmentError),
    /// The bundled encoder config is invalid or disagrees with the tokenizer.
    #[error("bundled encoder config: {0}")]
    EncoderConfig(String),
    /// The encoder weights do not fit the encoder config (missing, unexpected or wrongly
    /// shaped tensors, all listed).
    #[error("bundled encoder weights: {0}")]
    EncoderWeights(WeightsMismatch),
    /// The per-gene features part is inconsistent.
    #[error("bundled features: {0}")]
    Features(String),
    /// The bundle has no head, and a predictor was asked for.
    #[error("the bundle is encoder-only: it has no head to predict with")]
    NoHead,
}

/// Version of the text-CNN head's config and weight layout in bundles (the one place it is
/// written down: heads are written with it and read when they carry it).
pub const TEXT_CNN_HEAD_VERSION: u32 = 1;

/// The head kinds and versions this build reads.
pub const KNOWN_HEADS: &[(HeadKind, u32)] = &[(HeadKind::TextCnn, TEXT_CNN_HEAD_VERSION)];

/// The kind of regression head on top of the segment embeddings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeadKind {
    /// TExCNN's text-CNN over the segment axis.
    TextCnn,
}

impl HeadKind {
    /// The name in the manifest.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::TextCnn => "text_cnn",
        }
    }
}

/// Per-dimension statistics used to standardise an input or output: `(x − mean) / std`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NormStats {
    /// What is normalised, e.g. "segment_embedding", "halflife_features", "label".
    pub name: String,
    /// One mean per dimension.
    pub mean: Vec<f32>,
    /// One standard deviation per dimension (finite, > 0).
    pub std: Vec<f32>,
}

impl NormStats {
    /// The statistics of `rows` (each `width` values; every row counts once), computed in
    /// `f64`: population standard deviation, and 1 for a constant dimension (it is then only
    /// centred). No row gives mean 0 and standard deviation 1.
    pub fn fit<'a>(name: &str, width: usize, rows: impl IntoIterator<Item = &'a [f32]>) -> Self {
        let (mut sum, mut sq, mut n) = (vec![0f64; width], vec![0f64; width], 0f64);
        for row in rows {
            for (d, &v) in row.iter().take(width).enumerate() {
                sum[d] += f64::from(v);
                sq[d] += f64::from(v) * f64::from(v);
            }
            n += 1.0;
        }
        let n = n.max(1.0);
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let std = sq.iter().zip(&mean).map(|(q, m)| {
            let sd = (q / n - m * m).max(0.0).sqrt();
            if sd > 1e-8 { sd as f32 } else { 1.0 }
        });
        Self {
            name: name.to_string(),
            std: std.collect(),
            mean: mean.iter().map(|&m| m as f32).collect(),
        }
    }

    /// Number of dimensions.
    pub fn dims(&self) -> usize {
        self.mean.len()
    }

    /// Standardises `values` in place, `(x − mean) / std`: rows of [`Self::dims`] values,
    /// one after another.
    pub fn apply(&self, values: &mut [f32]) {
        for row in values.chunks_mut(self.dims().max(1)) {
            for ((x, m), s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                *x = (*x - m) / s;
            }
        }
    }

    /// Undoes [`Self::apply`] in place, `x · std + mean`, on rows of [`Self::dims`] values.
    pub fn invert(&self, values: &mut [f32]) {
        for row in values.chunks_mut(self.dims().max(1)) {
            for ((x, m), s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                *x = *x * s + m;
            }
        }
    }

    fn check(&self) -> Result<(), BundleError> {
        let bad = |reason: String| BundleError::Normalization {
            name: self.name.clone(),
            reason,
        };
        if self.mean.len() != self.std.len() {
            return Err(bad(format!(
                "{} means but {} standard deviations",
                self.mean.len(),
                self.std.len()
            )));
        }
        if let Some(m) = self.mean.iter().find(|m| !m.is_finite()) {
            return Err(bad(format!("mean {m} is not finite")));
        }
        if let Some(s) = self.std.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(bad(format!(
                "standard deviation {s} is not a positive number"
            )));
        }
        Ok(())
    }
}

/// The encoder part of a bundle.
#[derive(Debug, Clone, PartialEq)]
pub struct EncoderPart {
    /// The encoder's hyper-parameters (the fields of its Hugging Face `config.json`).
    pub config: Dnabert2Config,
    /// Official DNABERT-2 key names (`bert.*`), PyTorch layout.
    pub tensors: Vec<StoredTensor>,
}

/// The head part of a bundle (absent in an encoder-only bundle).
#[derive(Debug, Clone, PartialEq)]
pub struct HeadPart {
    /// What kind of head.
    pub kind: HeadKind,
    /// Version of that head's config and weight layout.
    pub version: u32,
    /// The head's config, as the head reads it.
    pub config: serde_json::Value,
    /// The head's weights.
    pub tensors: Vec<StoredTensor>,
}

/// A complete predictor (or an encoder-only bundle when `head` is `None`).
#[derive(Debug, Clone, PartialEq)]
pub struct Bundle {
    /// What the model is and how good it is.
    pub card: ModelCard,
    /// How inputs are cut into segments.
    pub segment_plan: SegmentPlan,
    /// The Hugging Face `tokenizer.json` the encoder was trained with.
    pub tokenizer_json: Vec<u8>,
    /// Encoder config and weights.
    pub encoder: EncoderPart,
    /// Head config and weights; `None` in an encoder-only bundle.
    pub head: Option<HeadPart>,
    /// Normalisation statistics the head was trained with.
    pub normalization: Vec<NormStats>,
    /// Per-gene features and the head that reads them beside the DNA (`None`: DNA only).
    pub features: Option<FeaturePart>,
}

/// The per-gene features path of a predictor bundle: the raw values of the genes it knows,
/// how they become head inputs, and a head that reads them beside the segment embeddings
/// (sharing the bundle's segment-embedding and label normalisation). The bundle's own `head`
/// stays the DNA-only head, used for records whose gene the bundle does not know.
#[derive(Debug, Clone, PartialEq)]
pub struct FeaturePart {
    /// Transforms, training-gene statistics and missing-value indicators.
    pub spec: FeatureSpec,
    /// Where the values came from, with their licences.
    pub sources: Vec<FeatureSource>,
    /// The genes' raw values, in the spec's column order.
    pub store: FeatureStore,
    /// The head with `extra_features` = the spec's width.
    pub head: HeadPart,
}

impl FeaturePart {
    /// Checks the spec, the store's layout and that the store holds the spec's columns.
    pub fn validate(&self) -> Result<(), BundleError> {
        let err = |e: &dyn std::fmt::Display| BundleError::Features(e.to_string());
        self.spec.validate().map_err(|e: FeatureError| err(&e))?;
        self.store.validate().map_err(|e: StoreError| err(&e))?;
        self.store
            .check_columns(&self.spec)
            .map_err(|e: StoreError| err(&e))?;
        check_head(self.head.kind.as_str(), self.head.version)?;
        check_tensors(&self.head.tensors)
    }
}

// ---- manifest (the JSON between header and payload) ----------------------------------------

#[derive(Debug, Serialize, Deserialize)]
struct SectionRef {
    offset: u64,
    len: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct TensorRef {
    name: String,
    shape: Vec<usize>,
    encoding: Encoding,
    offset: u64,
    len: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct EncoderManifest {
    architecture: String,
    config: Dnabert2Config,
    tensors: Vec<TensorRef>,
}

#[derive(Debug, Serialize, Deserialize)]
struct HeadManifest {
    kind: String,
    version: u32,
    config: serde_json::Value,
    tensors: Vec<TensorRef>,
}

/// A stored feature column: `"f32"` (4 bytes per gene, NaN = missing) or `"bits"` (two
/// bitsets, known then ones).
#[derive(Debug, Serialize, Deserialize)]
struct FeatureColumnRef {
    name: String,
    encoding: String,
    offset: u64,
    len: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct FeaturesManifest {
    spec: FeatureSpec,
    sources: Vec<FeatureSource>,
    /// The gene keys, sorted, one per line (UTF-8).
    genes: SectionRef,
    columns: Vec<FeatureColumnRef>,
    head: HeadManifest,
}

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    card: ModelCard,
    segment_plan: SegmentPlan,
    tokenizer: SectionRef,
    encoder: EncoderManifest,
    #[serde(default)]
    head: Option<HeadManifest>,
    #[serde(default)]
    normalization: Vec<NormStats>,
    /// Absent in bundles without per-gene features (and ignored by older readers, which then
    /// predict from the DNA alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    features: Option<FeaturesManifest>,
}

/// The only encoder architecture of format version 1.
const ARCHITECTURE: &str = "dnabert2";

struct PayloadWriter {
    bytes: Vec<u8>,
}

impl PayloadWriter {
    fn push(&mut self, data: &[u8]) -> SectionRef {
        // 8-byte alignment keeps every section's offset a multiple of any element size.
        while !self.bytes.len().is_multiple_of(8) {
            self.bytes.push(0);
        }
        let offset = self.bytes.len() as u64;
        self.bytes.extend_from_slice(data);
        SectionRef {
            offset,
            len: data.len() as u64,
        }
    }

    fn head(&mut self, head: &HeadPart) -> Result<HeadManifest, BundleError> {
        Ok(HeadManifest {
            kind: head.kind.as_str().to_string(),
            version: head.version,
            config: head.config.clone(),
            tensors: self.tensors(&head.tensors)?,
        })
    }

    fn features(&mut self, part: &FeaturePart) -> Result<FeaturesManifest, BundleError> {
        let genes = self.push(part.store.genes.join("\n").as_bytes());
        let columns = part
            .store
            .columns
            .iter()
            .map(|c| {
                let SectionRef { offset, len } = self.push(&c.values.to_bytes());
                FeatureColumnRef {
                    name: c.name.clone(),
                    encoding: match c.values {
                        ColumnValues::F32(_) => "f32",
                        ColumnValues::Bits { .. } => "bits",
                    }
                    .to_string(),
                    offset,
                    len,
                }
            })
            .collect();
        Ok(FeaturesManifest {
            spec: part.spec.clone(),
            sources: part.sources.clone(),
            genes,
            columns,
            head: self.head(&part.head)?,
        })
    }

    fn tensors(&mut self, tensors: &[StoredTensor]) -> Result<Vec<TensorRef>, BundleError> {
        check_tensors(tensors)?;
        Ok(tensors
            .iter()
            .map(|t| {
                let SectionRef { offset, len } = self.push(&t.bytes);
                TensorRef {
                    name: t.name.clone(),
                    shape: t.shape.clone(),
                    encoding: t.encoding,
                    offset,
                    len,
                }
            })
            .collect())
    }
}

fn section<'a>(
    payload: &'a [u8],
    name: &str,
    offset: u64,
    len: u64,
) -> Result<&'a [u8], BundleError> {
    let out_of_range = || BundleError::SectionOutOfRange {
        section: name.to_string(),
        offset,
        len,
        payload: payload.len() as u64,
    };
    let end = offset.checked_add(len).ok_or_else(out_of_range)?;
    if end > payload.len() as u64 {
        return Err(out_of_range());
    }
    // Both bounded by the payload length, a usize.
    Ok(&payload[offset as usize..end as usize])
}

fn read_tensors(payload: &[u8], refs: Vec<TensorRef>) -> Result<Vec<StoredTensor>, BundleError> {
    let tensors = refs
        .into_iter()
        .map(|r| {
            let bytes = section(payload, &r.name, r.offset, r.len)?.to_vec();
            Ok(StoredTensor {
                name: r.name,
                shape: r.shape,
                encoding: r.encoding,
                bytes,
            })
        })
        .collect::<Result<Vec<_>, BundleError>>()?;
    check_tensors(&tensors)?;
    Ok(tensors)
}

fn check_tensors(tensors: &[StoredTensor]) -> Result<(), BundleError> {
    let mut names = std::collections::BTreeSet::new();
    for tensor in tensors {
        if !names.insert(tensor.name.as_str()) {
            return Err(BundleError::DuplicateTensor(tensor.name.clone()));
        }
        tensor.check()?;
    }
    Ok(())
}

impl Bundle {
    /// Checks everything that needs no device: the segment plan, the tokenizer (a DNABERT-2
    /// tokenizer whose vocabulary matches the encoder config), the encoder config, tensor
    /// byte lengths and names, the head kind and version, the normalisation statistics.
    pub fn validate(&self) -> Result<(), BundleError> {
        self.segment_plan.validate()?;
        let tokenizer = Dnabert2Tokenizer::from_json_bytes(&self.tokenizer_json)?;
        let config = &self.encoder.config;
        config
            .validate()
            .map_err(|err| BundleError::EncoderConfig(err.to_string()))?;
        if config.vocab_size != tokenizer.vocab_size() {
            return Err(BundleError::EncoderConfig(format!(
                "vocab_size {} differs from the tokenizer's {} tokens",
                config.vocab_size,
                tokenizer.vocab_size()
            )));
        }
        check_tensors(&self.encoder.tensors)?;
        if let Some(head) = &self.head {
            check_head(head.kind.as_str(), head.version)?;
            check_tensors(&head.tensors)?;
        }
        for stats in &self.normalization {
            stats.check()?;
        }
        if let Some(features) = &self.features {
            if self.head.is_none() {
                return Err(BundleError::Features(
                    "a features head needs the DNA-only head beside it".into(),
                ));
            }
            features.validate()?;
        }
        Ok(())
    }

    /// Serialises the bundle (after [`validate`](Self::validate)).
    pub fn to_bytes(&self) -> Result<Vec<u8>, BundleError> {
        self.validate()?;
        let mut payload = PayloadWriter { bytes: Vec::new() };
        let tokenizer = payload.push(&self.tokenizer_json);
        let encoder = EncoderManifest {
            architecture: ARCHITECTURE.to_string(),
            config: self.encoder.config.clone(),
            tensors: payload.tensors(&self.encoder.tensors)?,
        };
        let head = self.head.as_ref().map(|h| payload.head(h)).transpose()?;
        let features = self
            .features
            .as_ref()
            .map(|f| payload.features(f))
            .transpose()?;
        let manifest = Manifest {
            card: self.card.clone(),
            segment_plan: self.segment_plan,
            tokenizer,
            encoder,
            head,
            normalization: self.normalization.clone(),
            features,
        };
        let manifest =
            serde_json::to_vec(&manifest).map_err(|err| BundleError::Manifest(err.to_string()))?;
        Ok(container::write(&manifest, &payload.bytes))
    }

    /// Reads and validates a bundle held in memory.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BundleError> {
        let parts = container::read(bytes)?;
        let manifest: Manifest = serde_json::from_slice(parts.manifest)
            .map_err(|err| BundleError::Manifest(err.to_string()))?;
        if manifest.encoder.architecture != ARCHITECTURE {
            return Err(BundleError::EncoderConfig(format!(
                "unknown encoder architecture {:?}, expected {ARCHITECTURE:?}",
                manifest.encoder.architecture
            )));
        }
        let payload = parts.payload;
        let tokenizer_json = section(
            payload,
            "tokenizer",
            manifest.tokenizer.offset,
            manifest.tokenizer.len,
        )?
        .to_vec();
        let encoder = EncoderPart {
            config: manifest.encoder.config,
            tensors: read_tensors(payload, manifest.encoder.tensors)?,
        };
        let head = manifest.head.map(|h| read_head(payload, h)).transpose()?;
        let features = manifest
            .features
            .map(|f| read_features(payload, f))
            .transpose()?;
        let bundle = Self {
            card: manifest.card,
            segment_plan: manifest.segment_plan,
            tokenizer_json,
            encoder,
            head,
            normalization: manifest.normalization,
            features,
        };
        bundle.validate()?;
        Ok(bundle)
    }

    /// Builds the encoder on `device` (weights dequantized to `f32`; shapes checked
    /// against the config), with the process's [`default_compute`].
    pub fn load_encoder(
        &self,
        device: &burn::tensor::Device,
    ) -> Result<crate::encoder::Dnabert2Encoder, BundleError> {
        self.encoder.load(device)
    }

    /// [`Self::load_encoder`] with a chosen compute ([`Compute::Int8`]: int8 kernels for the
    /// `Linear` layers on the plain CPU device).
    pub fn load_encoder_with(
        &self,
        device: &burn::tensor::Device,
        compute: Compute,
    ) -> Result<crate::encoder::Dnabert2Encoder, BundleError> {
        self.encoder.load_with(device, compute)
    }

    /// Bytes of the per-gene features part: (values and gene keys, head weights).
    pub fn feature_sizes(&self) -> (usize, usize) {
        self.features.as_ref().map_or((0, 0), |f| {
            (
                f.store.value_bytes() + f.store.genes.iter().map(|g| g.len() + 1).sum::<usize>(),
                f.head.tensors.iter().map(|t| t.bytes.len()).sum(),
            )
        })
    }

    /// Bytes of the bundle's parts: (tokenizer, encoder weights, head weights).
    pub fn part_sizes(&self) -> (usize, usize, usize) {
        (
            self.tokenizer_json.len(),
            self.encoder.weight_bytes(),
            self.head
                .as_ref()
                .map_or(0, |h| h.tensors.iter().map(|t| t.bytes.len()).sum()),
        )
    }
}

fn read_head(payload: &[u8], head: HeadManifest) -> Result<HeadPart, BundleError> {
    Ok(HeadPart {
        kind: check_head(&head.kind, head.version)?,
        version: head.version,
        config: head.config,
        tensors: read_tensors(payload, head.tensors)?,
    })
}

fn read_features(payload: &[u8], f: FeaturesManifest) -> Result<FeaturePart, BundleError> {
    let genes = section(payload, "feature genes", f.genes.offset, f.genes.len)?;
    let genes = std::str::from_utf8(genes)
        .map_err(|_| BundleError::Features("the gene list is not UTF-8".into()))?;
    let genes: Vec<String> = if genes.is_empty() {
        Vec::new()
    } else {
        genes.split('\n').map(str::to_string).collect()
    };
    let columns = f
        .columns
        .into_iter()
        .map(|c| {
            let bits = match c.encoding.as_str() {
                "f32" => false,
                "bits" => true,
                other => {
                    return Err(BundleError::Features(format!(
                        "column {}: unknown encoding {other:?} (f32 or bits)",
                        c.name
                    )));
                }
            };
            let bytes = section(payload, &c.name, c.offset, c.len)?;
            let values = ColumnValues::from_bytes(&c.name, bits, genes.len(), bytes)
                .map_err(|e| BundleError::Features(e.to_string()))?;
            Ok(StoredColumn {
                name: c.name,
                values,
            })
        })
        .collect::<Result<Vec<_>, BundleError>>()?;
    Ok(FeaturePart {
        spec: f.spec,
        sources: f.sources,
        store: FeatureStore { genes, columns },
        head: read_head(payload, f.head)?,
    })
}

fn check_head(kind: &str, version: u32) -> Result<HeadKind, BundleError> {
    KNOWN_HEADS
        .iter()
        .find(|(k, v)| k.as_str() == kind && *v == version)
        .map(|(k, _)| *k)
        .ok_or_else(|| BundleError::UnsupportedHead {
            kind: kind.to_string(),
            version,
            known: KNOWN_HEADS
                .iter()
                .map(|(k, v)| format!("{} version {v}", k.as_str()))
                .collect::<Vec<_>>()
                .join(", "),
        })
}

#[cfg(test)]
mod tests {
    use super::NormStats;

    #[test]
    fn norm_stats_fit_apply_invert() {
        // Column 0: 1, 3, 5 → mean 3, population sd sqrt(8/3); column 1 constant 10 → sd 1.
        let rows = [[1.0f32, 10.0], [3.0, 10.0], [5.0, 10.0]];
        let norm = NormStats::fit("x", 2, rows.iter().map(|r| &r[..]));
        let sd = (8.0f32 / 3.0).sqrt();
        assert_eq!(norm.dims(), 2);
        assert!((norm.mean[0] - 3.0).abs() < 1e-6 && (norm.mean[1] - 10.0).abs() < 1e-6);
        assert!((norm.std[0] - sd).abs() < 1e-6, "std {:?}", norm.std);
        assert_eq!(norm.std[1], 1.0);

        let mut values = vec![5.0f32, 12.0, 1.0, 10.0];
        norm.apply(&mut values);
        let expected = [2.0 / sd, 2.0, -2.0 / sd, 0.0];
        for (v, e) in values.iter().zip(expected) {
            assert!((v - e).abs() < 1e-5, "{values:?} vs {expected:?}");
        }
        norm.invert(&mut values);
        for (v, e) in values.iter().zip([5.0f32, 12.0, 1.0, 10.0]) {
            assert!((v - e).abs() < 1e-5, "{values:?}");
        }

        let empty = NormStats::fit("y", 1, std::iter::empty());
        assert_eq!((empty.mean[0], empty.std[0]), (0.0, 1.0));
    }
}
