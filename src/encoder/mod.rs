//! The DNABERT-2 encoder: config, model, checkpoint loading and segment pooling.
//!
//! - [`Dnabert2Config`] reads a Hugging Face `config.json`.
//! - [`Dnabert2Encoder`] computes the last hidden layer exactly as the original
//!   `bert_layers.py` does (ALiBi for any length, gated GELU, post-LayerNorm) and pools
//!   segments ([`Dnabert2Encoder::embed_segments`]): mean over each segment's tokens,
//!   `[CLS]`/`[SEP]` included, padding masked out of attention and of the mean.
//! - [`Checkpoint`] holds named tensors in the official layout (`bert.*` keys, PyTorch
//!   shapes); [`Dnabert2Encoder::from_checkpoint`] maps them strictly and
//!   [`Dnabert2Encoder::to_checkpoint`] writes them back. Safetensors work from bytes on
//!   every target; `folder` (native only) reads a model folder with `pytorch_model.bin`
//!   or `model.safetensors`.
//!
//! ```no_run
//! # #[cfg(not(target_arch = "wasm32"))]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use burn::tensor::Device;
//! use texcnn::encoder::load_hf_folder;
//!
//! let model = load_hf_folder("DNABERT-2-117M".as_ref(), &Device::flex())?;
//! // Token ids with [CLS] = 1 and [SEP] = 2, e.g. from the DNABERT-2 tokenizer.
//! let vectors = model.encoder.embed_segments_to_vec(&[vec![1, 5, 194, 32, 2]])?;
//! assert_eq!(vectors[0].len(), model.config.hidden_size);
//! # Ok(())
//! # }
//! # #[cfg(target_arch = "wasm32")]
//! # fn main() {}
//! ```
//!
//! Parity with the original code is checked by `cargo test --test encoder_parity` (CPU)
//! and `--test encoder_parity_wgpu` (skipped without a wgpu adapter); the full-size
//! architecture by `cargo test --release --test encoder_full_size -- --nocapture`, which
//! prints its timings.

pub mod checkpoint;
pub mod config;
#[cfg(not(target_arch = "wasm32"))]
pub mod folder;
pub mod host;
pub mod mlm;
pub mod model;
pub mod weights;

pub use checkpoint::{Checkpoint, CheckpointTensor, ElementType, SafetensorsError};
pub use config::{ConfigError, Dnabert2Config};
#[cfg(not(target_arch = "wasm32"))]
pub use folder::{LoadError, LoadedModel, load_hf_folder};
pub use model::{Dnabert2Encoder, EncodeError, mean_pool};
pub use weights::{TensorIssue, WeightsMismatch};
