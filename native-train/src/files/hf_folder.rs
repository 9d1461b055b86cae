//! Loading a Hugging Face model folder from disk: `config.json`, the weights
//! (`model.safetensors` or `pytorch_model.bin`) and, if present, `tokenizer.json`. The core
//! crate builds the encoder from bytes ([`Checkpoint`], [`Dnabert2Config`]); reading files is
//! this crate's job.

use std::path::{Path, PathBuf};

use burn::store::pytorch_reader::{self, PytorchReader};
use burn::tensor::Device;

use texcnn::encoder::{
    Checkpoint, CheckpointTensor, ConfigError, Dnabert2Config, Dnabert2Encoder, ElementType,
    SafetensorsError, WeightsMismatch,
};

/// File names in a Hugging Face model folder.
pub const CONFIG_FILE: &str = "config.json";
/// The tokenizer, which the encoder itself does not need.
pub const TOKENIZER_FILE: &str = "tokenizer.json";
/// Weights in safetensors format (preferred when both files exist).
pub const SAFETENSORS_FILE: &str = "model.safetensors";
/// Weights as a PyTorch pickle (the official DNABERT-2 release).
pub const PYTORCH_FILE: &str = "pytorch_model.bin";

/// Why a model folder cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A required file is absent.
    #[error("{dir}: no {what} (expected {expected})")]
    MissingFile {
        /// The model folder.
        dir: PathBuf,
        /// What is missing, in words.
        what: &'static str,
        /// The file name(s) looked for.
        expected: String,
    },
    /// A file exists but cannot be read.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error (also in the message, so not chained as a source).
        error: std::io::Error,
    },
    /// `config.json` is not a usable DNABERT-2 config.
    #[error("{path}: {error}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        error: ConfigError,
    },
    /// The weights file is not a readable checkpoint (truncated, corrupt, another format).
    #[error("{path}: not a readable checkpoint: {reason}")]
    NotACheckpoint {
        /// The file.
        path: PathBuf,
        /// What the reader found.
        reason: String,
    },
    /// The checkpoint is readable but does not fit the config.
    #[error("{path}: {mismatch}")]
    Weights {
        /// The file.
        path: PathBuf,
        /// Every tensor that is missing, unexpected or wrongly shaped.
        mismatch: WeightsMismatch,
    },
}

/// A model folder, loaded.
#[derive(Debug)]
pub struct LoadedModel {
    /// The sizes from `config.json`.
    pub config: Dnabert2Config,
    /// The encoder, on the device asked for.
    pub encoder: Dnabert2Encoder,
    /// The bytes of `tokenizer.json`, if the folder has one; a caller without it can
    /// use the official DNABERT-2 tokenizer.
    pub tokenizer_json: Option<Vec<u8>>,
    /// The weights file that was read.
    pub weights_path: PathBuf,
}

/// Loads `config.json`, the weights (`model.safetensors`, else `pytorch_model.bin`) and,
/// if present, `tokenizer.json` from a Hugging Face model folder.
pub fn load_hf_folder(dir: &Path, device: &Device) -> Result<LoadedModel, LoadError> {
    let config_path = dir.join(CONFIG_FILE);
    if !config_path.is_file() {
        return Err(LoadError::MissingFile {
            dir: dir.to_path_buf(),
            what: "model config",
            expected: CONFIG_FILE.to_string(),
        });
    }
    let text = read_to_string(&config_path)?;
    let config = Dnabert2Config::from_json_str(&text).map_err(|error| LoadError::Config {
        path: config_path.clone(),
        error,
    })?;

    let tokenizer_path = dir.join(TOKENIZER_FILE);
    let tokenizer_json = if tokenizer_path.is_file() {
        Some(read(&tokenizer_path)?)
    } else {
        None
    };

    let safetensors_path = dir.join(SAFETENSORS_FILE);
    let pytorch_path = dir.join(PYTORCH_FILE);
    let (weights_path, checkpoint) = if safetensors_path.is_file() {
        let checkpoint = read_safetensors(&safetensors_path)?;
        (safetensors_path, checkpoint)
    } else if pytorch_path.is_file() {
        let checkpoint = read_pytorch(&pytorch_path)?;
        (pytorch_path, checkpoint)
    } else {
        return Err(LoadError::MissingFile {
            dir: dir.to_path_buf(),
            what: "weights",
            expected: format!("{SAFETENSORS_FILE} or {PYTORCH_FILE}"),
        });
    };

    let encoder =
        Dnabert2Encoder::from_checkpoint(&config, &checkpoint, device).map_err(|mismatch| {
            LoadError::Weights {
                path: weights_path.clone(),
                mismatch,
            }
        })?;
    Ok(LoadedModel {
        config,
        encoder,
        tokenizer_json,
        weights_path,
    })
}

fn read(path: &Path) -> Result<Vec<u8>, LoadError> {
    std::fs::read(path).map_err(|error| LoadError::Io {
        path: path.to_path_buf(),
        error,
    })
}

fn read_to_string(path: &Path) -> Result<String, LoadError> {
    std::fs::read_to_string(path).map_err(|error| LoadError::Io {
        path: path.to_path_buf(),
        error,
    })
}

/// Reads a `model.safetensors` file.
pub fn read_safetensors(path: &Path) -> Result<Checkpoint, LoadError> {
    Checkpoint::from_safetensors(read(path)?).map_err(|err: SafetensorsError| {
        LoadError::NotACheckpoint {
            path: path.to_path_buf(),
            reason: err.to_string(),
        }
    })
}

/// Reads a PyTorch `pytorch_model.bin` (zip or legacy pickle). Tensor bytes stay on disk
/// until the model asks for them.
pub fn read_pytorch(path: &Path) -> Result<Checkpoint, LoadError> {
    let not_a_checkpoint = |reason: String| LoadError::NotACheckpoint {
        path: path.to_path_buf(),
        reason,
    };
    let reader = PytorchReader::new(path).map_err(|err| not_a_checkpoint(err.to_string()))?;
    let mut checkpoint = Checkpoint::default();
    for (name, tensor) in reader.into_tensors() {
        let dtype = match tensor.dtype() {
            pytorch_reader::DType::F32 => Ok(ElementType::F32),
            pytorch_reader::DType::F16 => Ok(ElementType::F16),
            pytorch_reader::DType::BF16 => Ok(ElementType::BF16),
            pytorch_reader::DType::F64 => Ok(ElementType::F64),
            other => Err(format!("{other:?}")),
        };
        let shape = tensor.shape().to_vec();
        checkpoint.tensors.insert(
            name,
            CheckpointTensor::lazy(dtype, shape, move || {
                tensor.read().map_err(|err| err.to_string())
            }),
        );
    }
    if checkpoint.tensors.is_empty() {
        return Err(not_a_checkpoint("it holds no tensors".to_string()));
    }
    Ok(checkpoint)
}
