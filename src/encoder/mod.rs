//! The DNABERT-2 encoder: config, model, checkpoint loading and segment pooling.

pub mod checkpoint;
pub mod config;
#[cfg(not(target_arch = "wasm32"))]
pub mod folder;
pub mod model;
pub mod weights;

pub use checkpoint::{Checkpoint, CheckpointTensor, ElementType, SafetensorsError};
pub use config::{ConfigError, Dnabert2Config};
#[cfg(not(target_arch = "wasm32"))]
pub use folder::{LoadError, LoadedModel, load_hf_folder};
pub use model::{Dnabert2Encoder, EncodeError, mean_pool};
pub use weights::{TensorIssue, WeightsMismatch};
