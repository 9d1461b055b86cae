//! Training TExCNN's head (`texcnn fit`): segment embeddings of every gene are computed once
//! with the encoder exactly as the predictor will run it (same window, segments, tokenizer and
//! stored weights) and cached on disk; the text-CNN head is then trained on them with the
//! shared trainer, and the best head is written with the encoder into a predictor bundle.

use std::path::Path;

use burn::tensor::{Device, Tensor, TensorData};
use texcnn::bundle::{Bundle, ModelCard, NormStats};
use texcnn::head::{TextCnnHead, TextCnnHeadConfig};
use texcnn::pipeline::SegmentEmbedder;
use texcnn::predict::{EMBEDDING_NORM, PredictError, head_part};
use texcnn::segment::SegmentPlan;

use crate::train::embed_cache::{CacheError, EmbeddingCache, SegmentEmbeddings, key_of};
use crate::train::trainer::{self, EpochLog, TrainData, TrainError, TrainReport, TrainerConfig};

/// Why fitting failed.
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    #[error("gene {id}: {source}")]
    Gene { id: String, source: PredictError },
    #[error(transparent)]
    Predict(#[from] PredictError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Train(#[from] TrainError),
    #[error(
        "genes have different segment counts ({first} for \"{first_id}\", {other} for \"{other_id}\"): give the segment plan a window so every gene is cut alike"
    )]
    Ragged {
        first: usize,
        first_id: String,
        other: usize,
        other_id: String,
    },
    #[error("the bundle: {0}")]
    Bundle(#[from] texcnn::bundle::BundleError),
    #[error("the encoder gave {found}-wide embeddings; the head expects {expected}")]
    Width { expected: usize, found: usize },
}

/// The embedder `texcnn fit` trains with, and the encoder-only bundle its weights came from
/// (whose stored tensors key the embedding cache).
pub struct BundleEmbedder<'a> {
    pub embedder: SegmentEmbedder,
    pub source: &'a Bundle,
}

impl<'a> BundleEmbedder<'a> {
    /// The embedder of `source` (its plan, tokenizer and stored weights) on `device`.
    pub fn new(source: &'a Bundle, device: &Device) -> Result<Self, PredictError> {
        Ok(Self {
            embedder: SegmentEmbedder::from_bundle(source, device)?,
            source,
        })
    }

    /// The cache key: the encoder's config and stored weights, the tokenizer and the plan.
    pub fn cache_key(&self) -> String {
        let config = serde_json::to_vec(&self.source.encoder.config).unwrap_or_default();
        let plan = serde_json::to_vec(&self.embedder.plan).unwrap_or_default();
        let mut parts: Vec<&[u8]> = vec![
            b"texcnn segment embeddings v1".as_slice(),
            config.as_slice(),
            self.source.tokenizer_json.as_slice(),
            plan.as_slice(),
        ];
        let names: Vec<String> = self
            .source
            .encoder
            .tensors
            .iter()
            .map(|t| format!("{}{:?}{}", t.name, t.shape, t.encoding.label()))
            .collect();
        for (t, name) in self.source.encoder.tensors.iter().zip(&names) {
            parts.push(name.as_bytes());
            parts.push(t.bytes.as_slice());
        }
        key_of(parts)
    }

    /// Embeds one sequence: one row per segment.
    pub fn embed(&self, residues: &str, batch: usize) -> Result<SegmentEmbeddings, PredictError> {
        let (prepared, rows) = self.embedder.embed(residues, None, batch)?;
        Ok(SegmentEmbeddings {
            segments: prepared.segments.len(),
            width: self.embedder.hidden_size(),
            values: rows.concat(),
        })
    }
}

/// Embeds every gene (from the cache where possible), calling `progress(done, cached)` after
/// each. All genes must give the same number of segments.
pub fn embed_all(
    embedder: &BundleEmbedder<'_>,
    genes: &[(&str, &str)],
    cache: Option<&EmbeddingCache>,
    batch: usize,
    mut progress: impl FnMut(usize, usize),
) -> Result<Vec<SegmentEmbeddings>, FitError> {
    let mut out: Vec<SegmentEmbeddings> = Vec::with_capacity(genes.len());
    let mut cached = 0;
    for (done, &(id, residues)) in genes.iter().enumerate() {
        let value = match cache.and_then(|c| c.get(residues)) {
            Some(v) => {
                cached += 1;
                v
            }
            None => {
                let v = embedder
                    .embed(residues, batch)
                    .map_err(|source| FitError::Gene {
                        id: id.to_string(),
                        source,
                    })?;
                if let Some(cache) = cache {
                    cache.put(residues, &v)?;
                }
                v
            }
        };
        if value.width != embedder.embedder.hidden_size() {
            return Err(FitError::Width {
                expected: embedder.embedder.hidden_size(),
                found: value.width,
            });
        }
        if let Some(first) = out.first()
            && first.segments != value.segments
        {
            return Err(FitError::Ragged {
                first: first.segments,
                first_id: genes[0].0.to_string(),
                other: value.segments,
                other_id: id.to_string(),
            });
        }
        out.push(value);
        progress(done + 1, cached);
    }
    Ok(out)
}

/// Per-dimension mean and standard deviation of the segment embeddings of the `train` genes
/// (every segment counts once); a constant dimension gets standard deviation 1.
pub fn embedding_norm(embeddings: &[SegmentEmbeddings], train: &[usize]) -> NormStats {
    let width = train.first().map_or(0, |&i| embeddings[i].width);
    NormStats::fit(
        EMBEDDING_NORM,
        width,
        train
            .iter()
            .flat_map(|&i| embeddings[i].values.chunks(width.max(1))),
    )
}

/// `embeddings` standardised with `norm`, gene by gene (an empty entry, e.g. a gene left out
/// of the split, stays empty).
pub fn normalise(embeddings: &[SegmentEmbeddings], norm: &NormStats) -> Vec<Vec<f32>> {
    embeddings
        .iter()
        .map(|e| {
            let mut v = e.values.clone();
            norm.apply(&mut v);
            v
        })
        .collect()
}

/// The head's input for a batch of genes: [batch, segments, width].
pub fn head_input(
    normalised: &[Vec<f32>],
    batch: &[usize],
    segments: usize,
    width: usize,
    device: &Device,
) -> Tensor<3> {
    let mut values = Vec::with_capacity(batch.len() * segments * width);
    for &i in batch {
        values.extend_from_slice(&normalised[i]);
    }
    Tensor::from_data(
        TensorData::new(values, [batch.len(), segments, width]),
        device,
    )
}

/// One trained head.
pub struct HeadRun {
    pub head: TextCnnHead,
    pub report: TrainReport,
    /// Predictions in label units for `all` (the indices given to [`train_head`]).
    pub predictions: Vec<f64>,
}

/// The per-gene extra inputs of a batch: [batch, width].
pub fn extra_input(extra: &[Vec<f32>], batch: &[usize], device: &Device) -> Tensor<2> {
    let width = batch.first().map_or(0, |&i| extra[i].len());
    let mut values = Vec::with_capacity(batch.len() * width);
    for &i in batch {
        values.extend_from_slice(&extra[i]);
    }
    Tensor::from_data(TensorData::new(values, [batch.len(), width]), device)
}

/// Trains one head with `config.seed` (initialisation and batch order) and predicts `all`.
/// `extra`: every gene's per-gene inputs (as wide as the head's `extra_features`), if any.
#[allow(clippy::too_many_arguments)]
pub fn train_head(
    head_config: &TextCnnHeadConfig,
    normalised: &[Vec<f32>],
    extra: Option<&[Vec<f32>]>,
    segments: usize,
    data: TrainData<'_>,
    all: &[usize],
    config: &TrainerConfig,
    device: &Device,
    on_epoch: impl FnMut(&EpochLog),
) -> Result<HeadRun, FitError> {
    let width = head_config.embedding_dim;
    device.seed(config.seed);
    let head = head_config
        .init(&device.clone().autodiff())
        .map_err(|e| PredictError::HeadConfig(e.to_string()))?;
    let forward = |model: &TextCnnHead, batch: &[usize], device: &Device| {
        model.forward(
            head_input(normalised, batch, segments, width, device),
            extra.map(|x| extra_input(x, batch, device)),
        )
    };
    let (head, report) = trainer::train(head, data, config, device, forward, on_epoch)?;
    let predictions = trainer::predict(
        &head,
        all,
        config.batch_size,
        &report.label_norm,
        device,
        &forward,
    );
    Ok(HeadRun {
        head,
        report,
        predictions,
    })
}

/// A predictor bundle: the encoder of `encoder_bundle` with `plan`, the trained head, and the
/// normalisation it was trained with.
pub fn predictor_bundle(
    encoder_bundle: &Bundle,
    plan: SegmentPlan,
    head_config: &TextCnnHeadConfig,
    run: &HeadRun,
    embedding_norm: NormStats,
    card: ModelCard,
) -> Result<Bundle, FitError> {
    let label_norm = run.report.label_norm.clone();
    let bundle = Bundle {
        card,
        segment_plan: plan,
        tokenizer_json: encoder_bundle.tokenizer_json.clone(),
        encoder: encoder_bundle.encoder.clone(),
        head: Some(head_part(head_config, &run.head)?),
        normalization: vec![embedding_norm, label_norm],
        features: None,
    };
    bundle.validate()?;
    Ok(bundle)
}

/// Evenly spaced quantiles (`points` of them, ends included) of `values`, sorted: the
/// reference a predictor places its outputs among as percentiles.
pub fn quantiles(values: &[f64], points: usize) -> Vec<f32> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    if sorted.len() <= points || points < 2 {
        return sorted.iter().map(|&v| v as f32).collect();
    }
    (0..points)
        .map(|i| {
            let at = i * (sorted.len() - 1) / (points - 1);
            sorted[at] as f32
        })
        .collect()
}

/// Loads an encoder from a Hugging Face folder into an encoder-only bundle with the weights
/// stored as `precision` (so training embeds with exactly the weights the bundle ships).
pub fn encoder_bundle_from_folder(
    dir: &Path,
    precision: texcnn::bundle::Precision,
    plan: SegmentPlan,
) -> Result<Bundle, crate::files::import::ImportError> {
    crate::files::import::import_hf_folder(
        dir,
        ModelCard::imported_encoder(
            &dir.file_name()
                .map_or_else(|| "encoder".into(), |n| n.to_string_lossy().into_owned()),
            &dir.display().to_string(),
        ),
        plan,
        &precision.plan(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_keep_the_ends_and_order() {
        let values: Vec<f64> = (0..101).rev().map(f64::from).collect();
        let q = quantiles(&values, 5);
        assert_eq!(q, vec![0.0, 25.0, 50.0, 75.0, 100.0]);
        assert_eq!(quantiles(&[3.0, f64::NAN, 1.0], 10), vec![1.0, 3.0]);
    }

    #[test]
    fn norm_uses_only_training_genes() {
        let e = |v: [f32; 4]| SegmentEmbeddings {
            segments: 2,
            width: 2,
            values: v.to_vec(),
        };
        // Gene 1 is not training data: its huge values must not move the statistics. Gene 2
        // is a removed duplicate (no embeddings) and comes first.
        let empty = SegmentEmbeddings {
            segments: 0,
            width: 0,
            values: Vec::new(),
        };
        let embeddings = vec![empty, e([1.0, 5.0, 3.0, 5.0]), e([1e6, 1e6, 1e6, 1e6])];
        let norm = embedding_norm(&embeddings, &[1]);
        assert_eq!(norm.mean, vec![2.0, 5.0]);
        // Dimension 0: values 1 and 3 → population std 1; dimension 1 is constant → 1.
        assert_eq!(norm.std, vec![1.0, 1.0]);
        let n = normalise(&embeddings[..2], &norm);
        assert!(n[0].is_empty());
        assert_eq!(n[1], vec![-1.0, 0.0, 1.0, 0.0]);
    }
}
