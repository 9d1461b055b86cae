//! The DNABERT-2 encoder: config, model, checkpoint loading and segment pooling.
//!
//! - [`Dnabert2Config`] reads a Hugging Face `config.json`.
//! - [`Dnabert2Encoder`] computes the last hidden layer exactly as the original
//!   `bert_layers.py` does (ALiBi for any length, gated GELU, post-LayerNorm) and pools
//!   segments ([`Dnabert2Encoder::embed_segments`]): mean over each segment's tokens,
//!   `[CLS]`/`[SEP]` included, padding masked out of attention and of the mean.
//! - [`Checkpoint`] holds named tensors in the official layout (`bert.*` keys, PyTorch
//!   shapes); [`Dnabert2Encoder::from_checkpoint`] maps them strictly and
//!   [`Dnabert2Encoder::to_checkpoint`] writes them back. This crate works from bytes on
//!   every target (safetensors, bundles); reading a model folder (`pytorch_model.bin` or
//!   `model.safetensors`) is the native tool's (`texcnn_native::hf_folder`).
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use burn::tensor::Device;
//! use texcnn::encoder::{Checkpoint, Dnabert2Config, Dnabert2Encoder};
//!
//! # let (config_json, safetensors): (String, Vec<u8>) = (String::new(), Vec::new());
//! let config = Dnabert2Config::from_json_str(&config_json)?;
//! let checkpoint = Checkpoint::from_safetensors(safetensors)?;
//! let encoder = Dnabert2Encoder::from_checkpoint(&config, &checkpoint, &Device::flex())?;
//! // Token ids with [CLS] = 1 and [SEP] = 2, e.g. from the DNABERT-2 tokenizer.
//! let vectors = encoder.embed_segments_to_vec(&[vec![1, 5, 194, 32, 2]])?;
//! assert_eq!(vectors[0].len(), config.hidden_size);
//! # Ok(())
//! # }
//! ```
//!
//! Parity with the original code is checked by `cargo test --test encoder_parity` (CPU)
//! and `--test encoder_parity_wgpu` (skipped without a wgpu adapter), on the golden bundle;
//! the full-size architecture by `cargo test -p texcnn-native --release --test
//! encoder_full_size -- --nocapture`, which prints its timings.

pub mod checkpoint;
pub mod config;
pub mod host;
pub mod int8;
pub mod mlm;
pub mod model;
mod packed;
pub mod weights;

pub use checkpoint::{Checkpoint, CheckpointTensor, ElementType, SafetensorsError};
pub use config::{ConfigError, Dnabert2Config};
pub use model::{Dnabert2Encoder, EncodeError, mean_pool};
pub use weights::{TensorIssue, WeightsMismatch};
