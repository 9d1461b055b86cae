//! TSV/CSV tables: a header line, then one example per row.
//!
//! The delimiter is a tab for `.tsv`/`.tab`/`.txt` names and a comma for `.csv` (optionally
//! gzipped), or whatever the header line shows when the name says nothing. Quoted fields
//! follow RFC 4180. Columns are chosen by header name.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{DataError, Dataset, Example, LoadReport, RowError, parse_dna_cell, parse_label};

/// Ids tried, in order, when no id column is named.
pub const DEFAULT_ID_COLUMNS: [&str; 4] = ["gene_id", "geneName", "id", "gene"];

/// Which columns hold what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableOptions {
    /// Column with the DNA (default `sequence`).
    pub sequence_column: String,
    /// Column with the label.
    pub label_column: String,
    /// Column with the gene id; `None`: the first of [`DEFAULT_ID_COLUMNS`] present, else
    /// `line_N` (N = the row's line in the file).
    pub id_column: Option<String>,
    /// Numeric feature columns, in order.
    pub feature_columns: Vec<String>,
}

impl TableOptions {
    /// Options for a label column, everything else default.
    pub fn new(label_column: &str) -> Self {
        Self {
            sequence_column: "sequence".to_string(),
            label_column: label_column.to_string(),
            id_column: None,
            feature_columns: Vec::new(),
        }
    }
}

/// One row of a table, as text, with its 1-based line.
pub(crate) struct RawTable {
    pub path: PathBuf,
    pub header: Vec<String>,
    pub rows: Vec<(usize, Vec<String>)>,
    /// Rows the CSV reader itself rejected (e.g. bad UTF-8), with their line.
    pub unreadable: Vec<RowError>,
}

impl RawTable {
    pub fn read(path: &Path) -> Result<Self, DataError> {
        let bytes = super::read_maybe_gz(path)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        let first_line = bytes.split(|b| *b == b'\n').next().unwrap_or(&[]);
        let delimiter = if name.ends_with(".csv") {
            b','
        } else if [".tsv", ".tab", ".txt"].iter().any(|e| name.ends_with(e))
            || first_line.contains(&b'\t')
        {
            b'\t'
        } else {
            b','
        };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(true)
            .flexible(true)
            .from_reader(&bytes[..]);
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| DataError::Format {
                path: path.to_path_buf(),
                message: format!("header line: {e}"),
            })?
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
            .collect();
        if header.iter().all(|h| h.is_empty()) {
            return Err(DataError::Format {
                path: path.to_path_buf(),
                message: "the file is empty or has no header line".to_string(),
            });
        }
        // csv's own line counter skips blank lines; count newlines before the record's byte
        // offset instead, so reported lines are the lines an editor shows.
        let mut newline_at: Vec<usize> = Vec::new();
        for (i, b) in bytes.iter().enumerate() {
            if *b == b'\n' {
                newline_at.push(i);
            }
        }
        // A record's position can point at blank lines the reader skipped before it.
        let line_of = |byte: u64| {
            let mut at = byte as usize;
            while at < bytes.len() && (bytes[at] == b'\n' || bytes[at] == b'\r') {
                at += 1;
            }
            newline_at.partition_point(|&nl| nl < at) + 1
        };
        let mut rows = Vec::new();
        let mut unreadable = Vec::new();
        let mut record = csv::StringRecord::new();
        loop {
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    let line = record.position().map_or(0, |p| line_of(p.byte()));
                    // A blank line is no row.
                    if record.len() == 1 && record[0].trim().is_empty() {
                        continue;
                    }
                    rows.push((line, record.iter().map(str::to_string).collect()));
                }
                Err(e) => {
                    let line = e.position().map_or(0, |p| line_of(p.byte()));
                    unreadable.push(RowError {
                        file: path.to_path_buf(),
                        line,
                        is_record: false,
                        message: format!("unreadable row: {e}"),
                    });
                    if e.position().is_none() {
                        break;
                    }
                }
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            header,
            rows,
            unreadable,
        })
    }

    pub fn column(&self, name: &str) -> Result<usize, DataError> {
        self.header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| DataError::MissingColumn {
                path: self.path.clone(),
                column: name.to_string(),
                available: self.header.join(", "),
            })
    }

    /// The index of each named feature column, with its name.
    pub fn feature_columns(&self, names: &[String]) -> Result<Vec<(usize, String)>, DataError> {
        names
            .iter()
            .map(|f| self.column(f).map(|c| (c, f.clone())))
            .collect()
    }

    pub fn id_column(&self, named: Option<&str>) -> Result<Option<usize>, DataError> {
        match named {
            Some(name) => self.column(name).map(Some),
            None => Ok(DEFAULT_ID_COLUMNS
                .iter()
                .find_map(|c| self.header.iter().position(|h| h == c))),
        }
    }

    pub fn row_error(&self, line: usize, message: String) -> RowError {
        RowError {
            file: self.path.clone(),
            line,
            is_record: false,
            message,
        }
    }
}

/// A label row of a table without sequences (for the FASTA join).
pub(crate) struct LabelRow {
    pub line: usize,
    pub id: String,
    pub label: Option<f64>,
    pub features: Vec<f32>,
}

/// Parses the id, label and feature cells of one row.
pub(crate) fn parse_label_cells(
    cells: &[String],
    id_col: Option<usize>,
    label_col: usize,
    feature_cols: &[(usize, String)],
    line: usize,
    width: usize,
) -> Result<LabelRow, String> {
    if cells.len() != width {
        return Err(format!(
            "{} fields, expected {width} (as in the header)",
            cells.len()
        ));
    }
    let id = match id_col {
        Some(c) => {
            let id = cells[c].trim();
            if id.is_empty() {
                return Err("empty id".to_string());
            }
            id.to_string()
        }
        None => format!("line_{line}"),
    };
    let label = parse_label(&cells[label_col])?;
    let mut features = Vec::with_capacity(feature_cols.len());
    for (c, name) in feature_cols {
        let t = cells[*c].trim();
        match t.parse::<f32>() {
            Ok(v) if v.is_finite() => features.push(v),
            _ => return Err(format!("feature {name} = \"{t}\" is not a finite number")),
        }
    }
    Ok(LabelRow {
        line,
        id,
        label,
        features,
    })
}

/// Loads a table with a sequence column.
pub fn load_table(path: &Path, options: &TableOptions) -> Result<Dataset, DataError> {
    let table = RawTable::read(path)?;
    let seq_col = table.column(&options.sequence_column)?;
    let label_col = table.column(&options.label_column)?;
    let id_col = table.id_column(options.id_column.as_deref())?;
    let feature_cols = table.feature_columns(&options.feature_columns)?;
    let width = table.header.len();
    let mut report = LoadReport {
        rows: table.rows.len() + table.unreadable.len(),
        malformed: table.unreadable.clone(),
        ..LoadReport::default()
    };
    let mut examples = Vec::new();
    let mut first_line_of: HashMap<String, usize> = HashMap::new();
    for (line, cells) in &table.rows {
        let row = match parse_label_cells(cells, id_col, label_col, &feature_cols, *line, width) {
            Ok(row) => row,
            Err(message) => {
                report.malformed.push(table.row_error(*line, message));
                continue;
            }
        };
        let sequence = match parse_dna_cell(&cells[seq_col]) {
            Ok(s) => s,
            Err(message) => {
                report.malformed.push(table.row_error(*line, message));
                continue;
            }
        };
        if let Some(first) = first_line_of.get(&row.id) {
            report.malformed.push(table.row_error(
                *line,
                format!("id \"{}\" already used on line {first}", row.id),
            ));
            continue;
        }
        first_line_of.insert(row.id.clone(), *line);
        match row.label {
            None => report.missing_label += 1,
            Some(label) => examples.push(Example {
                id: row.id,
                sequence,
                label,
                features: row.features,
                origin: *line,
            }),
        }
    }
    Ok(Dataset {
        source: path.display().to_string(),
        label_name: options.label_column.clone(),
        feature_names: options.feature_columns.clone(),
        feature_transforms: Vec::new(),
        examples,
        report,
    })
}
