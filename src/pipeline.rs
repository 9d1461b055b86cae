//! The one segment-embedding pipeline: sequence → window → segments → tokens → encoder, in
//! batches. Every caller (the predictor, the page, `texcnn fit`, `texcnn embed`, `texcnn
//! bench`) goes through [`SegmentEmbedder`]; what differs between them is only how a batch's
//! embeddings are read back from the device (synchronously natively, asynchronously on WebGPU
//! in the browser, where a synchronous read is impossible) and how progress is reported.
//!
//! ```text
//! let prepared = embedder.prepare(residues, tss)?;       // window, segments, tokens
//! let ids = prepared.token_ids();
//! for batch in embedder.batches(&ids, 8) {               // one encoder pass per batch
//!     let rows = embedder.read_back(batch?)?;            // or rows(into_data_async)
//! }
//! ```

use burn::tensor::{Device, Tensor, TensorData};

use crate::bundle::Bundle;
use crate::encoder::Dnabert2Encoder;
use crate::predict::PredictError;
use crate::segment::{ReadWindow, Segment, SegmentPlan};
use crate::tokenizer::{Dnabert2Tokenizer, TokenizerError};

/// One segment of a prepared sequence, with its tokens.
#[derive(Debug, Clone)]
pub struct PreparedSegment {
    pub segment: Segment,
    pub token_ids: Vec<u32>,
}

/// A sequence fitted to the plan's window and tokenized, ready for the encoder.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Length after the window was applied.
    pub fitted_len: usize,
    /// Which bases of the record the window read, where its TSS was taken to be.
    pub read: ReadWindow,
    pub segments: Vec<PreparedSegment>,
}

impl Prepared {
    /// The token ids of every segment, in order: what [`SegmentEmbedder::batches`] takes.
    pub fn token_ids(&self) -> Vec<Vec<u32>> {
        self.segments.iter().map(|s| s.token_ids.clone()).collect()
    }
}

/// The first step without an encoder: `plan`'s window placed on `residues` (around base
/// `tss`, 1-based, when the record gives it), the segments cut and tokenized (what
/// [`SegmentEmbedder::prepare`] does; `texcnn bench` tokenizes once for several encoders).
pub fn prepare_segments(
    plan: &SegmentPlan,
    tokenizer: &Dnabert2Tokenizer,
    residues: &str,
    tss: Option<usize>,
) -> Result<Prepared, PredictError> {
    let (fitted, read) = plan.read(residues, tss)?;
    let segments = plan.segments(fitted.len())?;
    let segments = segments
        .into_iter()
        .map(|segment| {
            Ok(PreparedSegment {
                token_ids: tokenizer.encode(&fitted[segment.start..segment.end])?,
                segment,
            })
        })
        .collect::<Result<Vec<_>, TokenizerError>>()?;
    Ok(Prepared {
        fitted_len: fitted.len(),
        read,
        segments,
    })
}

/// What turns a sequence into segment embeddings: a segment plan, the tokenizer and the
/// encoder (on its device). A head is trained on, and later predicts from, exactly the
/// segments this gives.
#[derive(Debug)]
pub struct SegmentEmbedder {
    pub plan: SegmentPlan,
    pub tokenizer: Dnabert2Tokenizer,
    pub encoder: Dnabert2Encoder,
}

impl SegmentEmbedder {
    /// The embedder of a bundle (its plan, its tokenizer, its encoder on `device`).
    pub fn from_bundle(bundle: &Bundle, device: &Device) -> Result<Self, PredictError> {
        Ok(Self {
            plan: bundle.segment_plan,
            tokenizer: Dnabert2Tokenizer::from_json_bytes(&bundle.tokenizer_json)?,
            encoder: bundle.load_encoder(device)?,
        })
    }

    /// Width of one segment embedding.
    pub fn hidden_size(&self) -> usize {
        self.encoder.hidden_size()
    }

    /// Places the plan's window on `residues` (around base `tss`, 1-based, if the record
    /// gives it), cuts the segments and tokenizes them.
    pub fn prepare(&self, residues: &str, tss: Option<usize>) -> Result<Prepared, PredictError> {
        prepare_segments(&self.plan, &self.tokenizer, residues, tss)
    }

    /// One encoder pass per `batch` segments (at least 1): each item is that batch's mean-
    /// pooled embeddings, [segments, hidden], still on the device. Nothing runs until the
    /// iterator is advanced, so a caller can report progress or stop between batches.
    pub fn batches<'a>(
        &'a self,
        token_ids: &'a [Vec<u32>],
        batch: usize,
    ) -> impl Iterator<Item = Result<Tensor<2>, PredictError>> + 'a {
        token_ids
            .chunks(batch.max(1))
            .map(|chunk| Ok(self.encoder.embed_segments(chunk)?))
    }

    /// Reads a batch from [`Self::batches`] back synchronously (native code): one row per
    /// segment.
    pub fn read_back(&self, batch: Tensor<2>) -> Result<Vec<Vec<f32>>, PredictError> {
        let data = batch
            .try_into_data()
            .map_err(|e| PredictError::Device(format!("reading embeddings: {e:?}")))?;
        self.rows(data)
    }

    /// The rows of a batch's data, however it was read back (the page awaits
    /// `into_data_async`, then calls this).
    pub fn rows(&self, data: TensorData) -> Result<Vec<Vec<f32>>, PredictError> {
        let hidden = self.hidden_size();
        let values = data
            .try_into_vec::<f32>()
            .map_err(|e| PredictError::Device(format!("reading embeddings: {e:?}")))?;
        Ok(values.chunks(hidden).map(<[f32]>::to_vec).collect())
    }

    /// Embeds token ids synchronously, `batch` per encoder pass, calling `progress(done)`
    /// (segments so far) after each pass: one row per segment.
    pub fn embed_tokens(
        &self,
        token_ids: &[Vec<u32>],
        batch: usize,
        mut progress: impl FnMut(usize),
    ) -> Result<Vec<Vec<f32>>, PredictError> {
        let mut rows = Vec::with_capacity(token_ids.len());
        for embedded in self.batches(token_ids, batch) {
            rows.extend(self.read_back(embedded?)?);
            progress(rows.len());
        }
        Ok(rows)
    }

    /// The segment embeddings of a prepared sequence, read back synchronously.
    pub fn embed_prepared(
        &self,
        prepared: &Prepared,
        batch: usize,
    ) -> Result<Vec<Vec<f32>>, PredictError> {
        self.embed_tokens(&prepared.token_ids(), batch, |_| {})
    }

    /// [`Self::prepare`], then [`Self::embed_prepared`].
    pub fn embed(
        &self,
        residues: &str,
        tss: Option<usize>,
        batch: usize,
    ) -> Result<(Prepared, Vec<Vec<f32>>), PredictError> {
        let prepared = self.prepare(residues, tss)?;
        let rows = self.embed_prepared(&prepared, batch)?;
        Ok((prepared, rows))
    }
}
