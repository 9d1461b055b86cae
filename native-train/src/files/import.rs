//! Turning a Hugging Face DNABERT-2 folder into an encoder-only bundle.

use std::path::Path;

use burn::tensor::Device;

use texcnn::bundle::{Bundle, BundleError, EncoderPart, ModelCard, QuantPlan};
use texcnn::segment::SegmentPlan;
use texcnn::tokenizer::OFFICIAL_TOKENIZER_JSON;

use crate::files::hf_folder::{LoadError, load_hf_folder};

/// Why a folder could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The folder is not a loadable DNABERT-2 model.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The bundle could not be built.
    #[error(transparent)]
    Bundle(#[from] BundleError),
}

/// Reads `dir` (`config.json`, `model.safetensors` or `pytorch_model.bin`, optional
/// `tokenizer.json`; the official DNABERT-2 tokenizer is used when it has none), checks the
/// weights strictly against the config by building the encoder on the CPU, and stores them
/// with `plan` in an encoder-only bundle.
pub fn import_hf_folder(
    dir: &Path,
    card: ModelCard,
    segment_plan: SegmentPlan,
    plan: &QuantPlan,
) -> Result<Bundle, ImportError> {
    let loaded = load_hf_folder(dir, &Device::flex())?;
    let encoder = EncoderPart::from_encoder(&loaded.config, &loaded.encoder, plan)?;
    drop(loaded.encoder);
    let bundle = Bundle {
        card,
        segment_plan,
        tokenizer_json: loaded
            .tokenizer_json
            .unwrap_or_else(|| OFFICIAL_TOKENIZER_JSON.to_vec()),
        encoder,
        head: None,
        normalization: Vec::new(),
        features: None,
    };
    bundle.validate()?;
    Ok(bundle)
}
