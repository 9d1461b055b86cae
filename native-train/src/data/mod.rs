//! Labelled promoter data sets: loading, and what was skipped on the way.
//!
//! Three sources, one result ([`Dataset`]):
//! - [`table`]: TSV/CSV with a sequence column, a label column and optional feature columns
//!   (`genes_2kb.tsv`, `exp14_dev.csv`);
//! - [`fasta`]: FASTA records joined by id with a label table;
//! - [`h5`]: the Xpresso/TExCNN HDF5 layout (`promoter`, `data`, `label`, `geneName`).
//!
//! Nothing is dropped silently: an example without a label is counted in
//! [`LoadReport::missing_label`], and a malformed row is listed in [`LoadReport::malformed`]
//! with its file and line (or record index for h5), for the caller to print.

pub mod fasta;
pub mod features;
pub mod h5;
pub mod split;
pub mod split_file;
pub mod table;

use std::fmt;
use std::path::{Path, PathBuf};

/// One labelled promoter.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// Gene id (or `line_N` when the source has no id column).
    pub id: String,
    /// Residues, each one of `A C G T N`.
    pub sequence: String,
    /// The label, in the source's units.
    pub label: f64,
    /// Extra numeric features (e.g. Xpresso's mRNA half-life features), in column order.
    pub features: Vec<f32>,
    /// Where the example came from: 1-based line of a table or FASTA header, 0-based record of
    /// an h5 file.
    pub origin: usize,
}

/// A problem with one row, record or field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub file: PathBuf,
    /// 1-based line (tables, FASTA) or 0-based record index (h5, see `is_record`).
    pub line: usize,
    /// True when `line` is an h5 record index, not a text line.
    pub is_record: bool,
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let place = if self.is_record { "record" } else { "line" };
        write!(
            f,
            "{}: {place} {}: {}",
            self.file.display(),
            self.line,
            self.message
        )
    }
}

/// What happened while loading.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadReport {
    /// Rows or records read (excluding a header line).
    pub rows: usize,
    /// Rows whose label is empty, `NA` or `nan`, or (FASTA) records with no label row.
    pub missing_label: usize,
    /// Label-table rows (FASTA join) whose id matches no FASTA record.
    pub unmatched_labels: usize,
    /// Rows that could not be read, with where and why.
    pub malformed: Vec<RowError>,
}

impl LoadReport {
    /// One line for the user, e.g. `1601 rows: 1285 loaded, 316 without label, 0 malformed`.
    pub fn summary(&self, loaded: usize) -> String {
        let mut s = format!(
            "{} rows: {loaded} loaded, {} without label, {} malformed",
            self.rows,
            self.missing_label,
            self.malformed.len()
        );
        if self.unmatched_labels > 0 {
            s.push_str(&format!(
                ", {} label rows without a sequence",
                self.unmatched_labels
            ));
        }
        s
    }
}

/// A loaded data set.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// The file(s) it was read from, for reports.
    pub source: String,
    /// Name of the label column (or h5 dataset).
    pub label_name: String,
    /// Names of the feature columns, in the order of [`Example::features`].
    pub feature_names: Vec<String>,
    /// The transform of each feature column (as long as [`feature_names`](Self::feature_names)
    /// once feature tables are joined; columns of the data file itself are used as they are).
    pub feature_transforms: Vec<texcnn::features::Transform>,
    pub examples: Vec<Example>,
    pub report: LoadReport,
}

impl Dataset {
    /// The fingerprint recorded in split files (see [`crate::data::split::dataset_fingerprint`]).
    pub fn fingerprint(&self) -> u64 {
        crate::data::split::dataset_fingerprint(
            self.examples
                .iter()
                .map(|e| (e.id.as_str(), e.sequence.as_str(), e.label)),
        )
    }
}

/// A file-level failure (the file cannot be used at all).
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    #[error("{path}: no column named \"{column}\" (columns: {available})")]
    MissingColumn {
        path: PathBuf,
        column: String,
        available: String,
    },
    #[error("{path}: HDF5: {message}")]
    Hdf5 { path: PathBuf, message: String },
}

/// Reads a label cell: `Ok(None)` for a missing label (empty, `NA`, `NaN`, `null`),
/// an error message for anything else that is not a finite number.
pub fn parse_label(cell: &str) -> Result<Option<f64>, String> {
    let t = cell.trim();
    if t.is_empty() || ["na", "nan", "null", "none"].contains(&t.to_ascii_lowercase().as_str()) {
        return Ok(None);
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        Ok(_) => Err(format!("label \"{t}\" is not finite")),
        Err(_) => Err(format!("label \"{t}\" is not a number")),
    }
}

/// Reads one DNA cell with the core parser's rules; an error names the column in the cell.
pub fn parse_dna_cell(cell: &str) -> Result<String, String> {
    if cell.trim().is_empty() {
        return Err("empty sequence".to_string());
    }
    if cell.contains('>') {
        return Err("the sequence cell contains '>'".to_string());
    }
    let outcome = texcnn::sequence::parse_text(cell);
    if let Some(err) = outcome.errors.first() {
        let position = err
            .column()
            .map(|c| format!("sequence column {c}: "))
            .unwrap_or_default();
        let what = match err {
            texcnn::sequence::ParseError::InvalidCharacter { found, count, .. } if *count > 1 => {
                format!("invalid character {found:?} (and {} more)", count - 1)
            }
            texcnn::sequence::ParseError::InvalidCharacter { found, .. } => {
                format!("invalid character {found:?}")
            }
            other => other.to_string(),
        };
        return Err(format!("{position}{what}"));
    }
    match outcome.records.into_iter().next() {
        Some(record) => Ok(record.residues),
        None => Err("empty sequence".to_string()),
    }
}

/// The kind of file, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Table,
    Fasta,
    H5,
}

/// Guesses the kind of a data file from its extension (`.h5/.hdf5`, `.fa/.fasta/.fna` with
/// optional `.gz`, anything else is a table).
pub fn source_kind(path: &Path) -> SourceKind {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    if name.ends_with(".h5") || name.ends_with(".hdf5") {
        SourceKind::H5
    } else if [".fa", ".fasta", ".fna"].iter().any(|e| name.ends_with(e)) {
        SourceKind::Fasta
    } else {
        SourceKind::Table
    }
}

/// Reads a file, gunzipping it when its name ends in `.gz`.
pub fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, DataError> {
    let io = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let bytes = std::fs::read(path).map_err(io)?;
    if path.extension().is_some_and(|e| e == "gz") {
        use std::io::Read;
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .map_err(io)?;
        Ok(out)
    } else {
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_missing_versus_malformed() {
        assert_eq!(parse_label(" 1.5 "), Ok(Some(1.5)));
        assert_eq!(parse_label("-2e-3"), Ok(Some(-0.002)));
        for missing in ["", "  ", "NA", "nan", "NaN", "null"] {
            assert_eq!(parse_label(missing), Ok(None), "{missing:?}");
        }
        assert!(parse_label("abc").is_err());
        assert!(parse_label("inf").is_err());
    }

    #[test]
    fn dna_cells_follow_the_core_rules() {
        assert_eq!(parse_dna_cell("acgtu rn").unwrap(), "ACGTTNN");
        let err = parse_dna_cell("ACGXT").unwrap_err();
        assert!(err.contains("column 4"), "{err}");
        assert!(parse_dna_cell("").is_err());
        assert!(parse_dna_cell(">x\nACGT").is_err());
    }

    #[test]
    fn kinds_from_names() {
        assert_eq!(source_kind(Path::new("a/b.h5")), SourceKind::H5);
        assert_eq!(source_kind(Path::new("x.fa.gz")), SourceKind::Fasta);
        assert_eq!(source_kind(Path::new("x.FASTA")), SourceKind::Fasta);
        assert_eq!(source_kind(Path::new("genes.tsv")), SourceKind::Table);
    }
}
