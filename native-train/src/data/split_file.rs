//! Split files: the genes of each part, the seed, and a fingerprint of the data set, so that
//! every later run (baselines, TExCNN training, evaluation) uses exactly the same genes.
//!
//! ```json
//! { "format": "texcnn-split/1", "seed": 0, "fractions": [0.8, 0.1, 0.1],
//!   "dataset": { "source": "...", "label": "...", "examples": 1285, "fingerprint": "fnv1a64:…" },
//!   "duplicates_removed": [ { "removed": "ENSG…", "kept": "ENSG…" } ],
//!   "train": [...], "valid": [...], "test": [...] }
//! ```

use std::collections::HashMap;
use std::path::Path;

use crate::data::split::{Part, SplitError, SplitFractions, dedup_sequences, split_by_gene};
use serde::{Deserialize, Serialize};

use crate::data::Dataset;

/// The format tag written in every split file.
pub const FORMAT: &str = "texcnn-split/1";

/// What the split was made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetInfo {
    pub source: String,
    pub label: String,
    /// Labelled examples before removing duplicates.
    pub examples: usize,
    pub fingerprint: String,
}

/// An example left out because an earlier example has the same sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateRecord {
    pub removed: String,
    pub kept: String,
}

/// A split, as stored on disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitFile {
    pub format: String,
    pub seed: u64,
    pub fractions: [f64; 3],
    pub dataset: DatasetInfo,
    pub duplicates_removed: Vec<DuplicateRecord>,
    pub train: Vec<String>,
    pub valid: Vec<String>,
    pub test: Vec<String>,
}

/// Why a split file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SplitFileError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a split file: {source}")]
    Json {
        path: String,
        source: serde_json::Error,
    },
    #[error("{path}: format \"{found}\", expected \"{FORMAT}\"")]
    Format { path: String, found: String },
    #[error(
        "the split was made for other data: fingerprint {expected} (source {source_name}, label {label}, {examples} examples), this data set has {found} ({found_examples} examples)"
    )]
    Fingerprint {
        expected: String,
        found: String,
        source_name: String,
        label: String,
        examples: usize,
        found_examples: usize,
    },
    #[error("gene \"{0}\" of the data set is in no part of the split")]
    Unassigned(String),
    #[error(transparent)]
    Split(#[from] SplitError),
}

fn fingerprint_text(value: u64) -> String {
    format!("fnv1a64:{value:016x}")
}

/// Removes duplicate sequences from `dataset` and splits the rest by gene with `seed`.
pub fn make_split(
    dataset: &Dataset,
    seed: u64,
    fractions: SplitFractions,
) -> Result<SplitFile, SplitFileError> {
    let sequences: Vec<&str> = dataset
        .examples
        .iter()
        .map(|e| e.sequence.as_str())
        .collect();
    let (kept, duplicates) = dedup_sequences(&sequences);
    let ids: Vec<&str> = kept
        .iter()
        .map(|&i| dataset.examples[i].id.as_str())
        .collect();
    let split = split_by_gene(&ids, seed, fractions)?;
    Ok(SplitFile {
        format: FORMAT.to_string(),
        seed,
        fractions: [fractions.train, fractions.valid, fractions.test],
        dataset: DatasetInfo {
            source: dataset.source.clone(),
            label: dataset.label_name.clone(),
            examples: dataset.examples.len(),
            fingerprint: fingerprint_text(dataset.fingerprint()),
        },
        duplicates_removed: duplicates
            .iter()
            .map(|d| DuplicateRecord {
                removed: dataset.examples[d.removed].id.clone(),
                kept: dataset.examples[d.kept].id.clone(),
            })
            .collect(),
        train: split.train,
        valid: split.valid,
        test: split.test,
    })
}

impl SplitFile {
    /// Reads a split file.
    pub fn read(path: &Path) -> Result<Self, SplitFileError> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| SplitFileError::Io {
            path: name.clone(),
            source,
        })?;
        let file: SplitFile =
            serde_json::from_slice(&bytes).map_err(|source| SplitFileError::Json {
                path: name.clone(),
                source,
            })?;
        if file.format != FORMAT {
            return Err(SplitFileError::Format {
                path: name,
                found: file.format,
            });
        }
        Ok(file)
    }

    /// Writes the split file (pretty JSON).
    pub fn write(&self, path: &Path) -> Result<(), SplitFileError> {
        let io = |source| SplitFileError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut text =
            serde_json::to_string_pretty(self).map_err(|source| SplitFileError::Json {
                path: path.display().to_string(),
                source,
            })?;
        text.push('\n');
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        crate::files::output::replace_file(path, text.as_bytes()).map_err(io)
    }

    /// The part of every example of `dataset` (`None` for a removed duplicate), after checking
    /// that the split was made from exactly this data set.
    pub fn assign(&self, dataset: &Dataset) -> Result<Vec<Option<Part>>, SplitFileError> {
        let found = fingerprint_text(dataset.fingerprint());
        if found != self.dataset.fingerprint {
            return Err(SplitFileError::Fingerprint {
                expected: self.dataset.fingerprint.clone(),
                found,
                source_name: self.dataset.source.clone(),
                label: self.dataset.label.clone(),
                examples: self.dataset.examples,
                found_examples: dataset.examples.len(),
            });
        }
        let mut parts: HashMap<&str, Part> = HashMap::new();
        for (part, ids) in [
            (Part::Train, &self.train),
            (Part::Valid, &self.valid),
            (Part::Test, &self.test),
        ] {
            for id in ids {
                parts.insert(id, part);
            }
        }
        let sequences: Vec<&str> = dataset
            .examples
            .iter()
            .map(|e| e.sequence.as_str())
            .collect();
        let (_, duplicates) = dedup_sequences(&sequences);
        let mut removed = vec![false; dataset.examples.len()];
        for d in duplicates {
            removed[d.removed] = true;
        }
        dataset
            .examples
            .iter()
            .zip(removed)
            .map(|(e, dup)| {
                if dup {
                    Ok(None)
                } else {
                    parts
                        .get(e.id.as_str())
                        .copied()
                        .map(Some)
                        .ok_or_else(|| SplitFileError::Unassigned(e.id.clone()))
                }
            })
            .collect()
    }
}
