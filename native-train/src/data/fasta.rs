//! FASTA records joined by id with a label table.
//!
//! The record id is the first word of the header (the core parser's rule); with
//! [`FastaOptions::id_separator`] set, only the part before the first separator is kept (for
//! headers like `ENSG00000166881|TPM=2.655|…`). Records with no label row, or whose label is
//! missing, are counted as missing labels; label rows with no record are counted as unmatched.

use std::collections::HashMap;
use std::path::Path;

use super::table::{RawTable, parse_label_cells};
use super::{DataError, Dataset, Example, LoadReport, RowError};

/// How to read the FASTA ids and the label table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FastaOptions {
    /// Column of the label table with the record id; `None`: the table's default id column.
    pub id_column: Option<String>,
    /// Label column of the label table.
    pub label_column: String,
    /// Numeric feature columns of the label table.
    pub feature_columns: Vec<String>,
    /// Keep only the part of the record id before this character.
    pub id_separator: Option<char>,
}

/// Loads `fasta` and joins it with `labels` by id.
pub fn load_fasta_with_labels(
    fasta: &Path,
    labels: &Path,
    options: &FastaOptions,
) -> Result<Dataset, DataError> {
    let table = RawTable::read(labels)?;
    let label_col = table.column(&options.label_column)?;
    let id_col = match table.id_column(options.id_column.as_deref())? {
        Some(c) => c,
        None => {
            return Err(DataError::Format {
                path: labels.to_path_buf(),
                message: format!(
                    "no id column (name one; tried {})",
                    super::table::DEFAULT_ID_COLUMNS.join(", ")
                ),
            });
        }
    };
    let feature_cols = table.feature_columns(&options.feature_columns)?;
    let width = table.header.len();
    let mut report = LoadReport {
        malformed: table.unreadable.clone(),
        ..LoadReport::default()
    };
    let mut by_id: HashMap<String, (usize, Option<f64>, Vec<f32>)> = HashMap::new();
    for (line, cells) in &table.rows {
        match parse_label_cells(cells, Some(id_col), label_col, &feature_cols, *line, width) {
            Ok(row) => {
                if let Some((first, ..)) = by_id.get(&row.id) {
                    report.malformed.push(table.row_error(
                        row.line,
                        format!("id \"{}\" already used on line {first}", row.id),
                    ));
                } else {
                    by_id.insert(row.id, (row.line, row.label, row.features));
                }
            }
            Err(message) => report.malformed.push(table.row_error(*line, message)),
        }
    }

    let bytes = super::read_maybe_gz(fasta)?;
    let outcome = texcnn::sequence::parse_bytes(&bytes);
    for err in &outcome.errors {
        report.malformed.push(RowError {
            file: fasta.to_path_buf(),
            line: err.line().unwrap_or(0),
            is_record: false,
            message: err.to_string(),
        });
    }
    report.rows = outcome.records.len() + outcome.errors.len();
    let mut used: HashMap<String, usize> = HashMap::new();
    let mut examples = Vec::new();
    for record in outcome.records {
        let id = match options.id_separator {
            Some(sep) => record.id.split(sep).next().unwrap_or("").to_string(),
            None => record.id.clone(),
        };
        if let Some(first) = used.get(&id) {
            report.malformed.push(RowError {
                file: fasta.to_path_buf(),
                line: record.line,
                is_record: false,
                message: format!("id \"{id}\" already used by the record on line {first}"),
            });
            continue;
        }
        used.insert(id.clone(), record.line);
        match by_id.get(&id) {
            Some((_, Some(label), features)) => examples.push(Example {
                id,
                sequence: record.residues,
                label: *label,
                features: features.clone(),
                origin: record.line,
            }),
            _ => report.missing_label += 1,
        }
    }
    report.unmatched_labels = by_id.keys().filter(|k| !used.contains_key(*k)).count();
    Ok(Dataset {
        source: format!("{} + {}", fasta.display(), labels.display()),
        label_name: options.label_column.clone(),
        feature_names: options.feature_columns.clone(),
        feature_transforms: Vec::new(),
        examples,
        report,
    })
}
