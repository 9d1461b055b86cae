//! The Xpresso / TExCNN HDF5 layout, read through the system HDF5 library (hdf5-metno) when
//! the crate's `h5` feature is on; without it [`load_h5`] answers with an error that says how
//! to turn it on, and nothing links HDF5.
//!
//! Datasets at the file's root:
//! - `promoter` [N, L, 4]: one-hot A, C, G, T, stored as bool (Xpresso, L = 20,000, gzip) or
//!   float (TExCNN's own files, L = 10,500). An all-zero row is `N`; a row with more than one
//!   hot column, or a value other than 0/1, makes that record malformed.
//! - `label` [N]: the expression label (NaN = missing).
//! - `data` [N, F] (optional): extra features, e.g. Xpresso's 8 mRNA half-life features.
//! - `geneName` [N] (optional): ids as fixed- or variable-length strings; `record_i` otherwise.
//!
//! The window: Xpresso's model input is positions 3,000..13,500 of the 20,000 bp promoter
//! (TSS −7,000…+3,500). By default a 20,000 bp promoter is cut to that window and any other
//! length is kept whole; [`H5Options::window`] overrides it.
//!
//! Records are read one at a time (a real Xpresso training file is 1.3 GB as bool).

use std::path::Path;

#[cfg(feature = "h5")]
use hdf5::types::{FixedAscii, FixedUnicode, TypeDescriptor, VarLenAscii, VarLenUnicode};
#[cfg(feature = "h5")]
use hdf5_metno as hdf5;

use super::{DataError, Dataset};
#[cfg(feature = "h5")]
use super::{Example, LoadReport, RowError};

/// Length of the promoters in the original Xpresso files.
pub const XPRESSO_PROMOTER_LEN: usize = 20_000;
/// The model input window inside an Xpresso promoter (TSS −7,000…+3,500).
pub const XPRESSO_WINDOW: (usize, usize) = (3_000, 13_500);

/// How to read an h5 file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct H5Options {
    /// Positions `start..end` of `promoter` to keep; `None`: see the module docs.
    pub window: Option<(usize, usize)>,
}

/// The window used for a promoter of length `len`.
pub fn default_window(len: usize) -> (usize, usize) {
    if len == XPRESSO_PROMOTER_LEN {
        XPRESSO_WINDOW
    } else {
        (0, len)
    }
}

/// Decodes one-hot rows (A, C, G, T) to residues; an all-zero row is `N`.
pub fn decode_one_hot<T: Copy>(
    rows: impl Iterator<Item = [T; 4]>,
    is_one: impl Fn(T) -> Option<bool>,
) -> Result<String, String> {
    let mut out = String::new();
    for (pos, row) in rows.enumerate() {
        let mut hot = None;
        for (col, v) in row.iter().enumerate() {
            match is_one(*v) {
                Some(true) if hot.is_some() => {
                    return Err(format!("position {pos}: more than one base is set"));
                }
                Some(true) => hot = Some(col),
                Some(false) => {}
                None => return Err(format!("position {pos}: a value is neither 0 nor 1")),
            }
        }
        out.push(hot.map_or('N', |c| b"ACGT"[c] as char));
    }
    Ok(out)
}

#[cfg(any(feature = "h5", test))]
fn float_is_one(v: f32) -> Option<bool> {
    if v == 1.0 {
        Some(true)
    } else if v == 0.0 {
        Some(false)
    } else {
        None
    }
}

/// How to get a build that reads h5 files, for the error of a build without one.
pub const H5_DISABLED: &str = "this texcnn was built without HDF5 support; rebuild it with \
     `cargo build --release -p texcnn-native --features h5` (needs the system HDF5: \
     `apt-get install libhdf5-dev pkg-config`), or convert the file to TSV or FASTA + labels";

/// Loads an Xpresso/TExCNN h5 file: in a build without the `h5` feature, an error naming the
/// file and saying how to enable it.
#[cfg(not(feature = "h5"))]
pub fn load_h5(path: &Path, _options: &H5Options) -> Result<Dataset, DataError> {
    Err(DataError::Hdf5 {
        path: path.to_path_buf(),
        message: H5_DISABLED.to_string(),
    })
}

/// Loads an Xpresso/TExCNN h5 file.
#[cfg(feature = "h5")]
pub fn load_h5(path: &Path, options: &H5Options) -> Result<Dataset, DataError> {
    let h5err = |message: String| DataError::Hdf5 {
        path: path.to_path_buf(),
        message,
    };
    let file = hdf5::File::open(path).map_err(|e| h5err(format!("cannot open: {e}")))?;
    let promoter = file
        .dataset("promoter")
        .map_err(|e| h5err(format!("dataset \"promoter\": {e}")))?;
    let shape = promoter.shape();
    if shape.len() != 3 || shape[2] != 4 {
        return Err(h5err(format!(
            "\"promoter\" has shape {shape:?}, expected [genes, length, 4]"
        )));
    }
    let (n, len) = (shape[0], shape[1]);
    let (start, end) = options.window.unwrap_or_else(|| default_window(len));
    if start >= end || end > len {
        return Err(h5err(format!(
            "window {start}..{end} does not fit promoters of {len} bp"
        )));
    }

    let labels: Vec<f64> = file
        .dataset("label")
        .and_then(|d| d.read_raw::<f64>())
        .map_err(|e| h5err(format!("dataset \"label\": {e}")))?;
    if labels.len() != n {
        return Err(h5err(format!(
            "\"label\" has {} values for {n} promoters",
            labels.len()
        )));
    }
    let (features, feature_names) = match file.dataset("data") {
        Ok(d) => {
            let s = d.shape();
            let width = match s.as_slice() {
                [rows, w] if *rows == n => *w,
                [rows] if *rows == n => 1,
                _ => {
                    return Err(h5err(format!(
                        "\"data\" has shape {s:?}, expected [{n}, features]"
                    )));
                }
            };
            let values = d
                .read_raw::<f32>()
                .map_err(|e| h5err(format!("dataset \"data\": {e}")))?;
            let names = (0..width).map(|j| format!("data_{j}")).collect();
            (Some((values, width)), names)
        }
        Err(_) => (None, Vec::new()),
    };
    let names = match file.dataset("geneName") {
        Ok(d) => {
            let names =
                read_strings(&d).map_err(|e| h5err(format!("dataset \"geneName\": {e}")))?;
            if names.len() != n {
                return Err(h5err(format!(
                    "\"geneName\" has {} values for {n} promoters",
                    names.len()
                )));
            }
            names
        }
        Err(_) => (0..n).map(|i| format!("record_{i}")).collect(),
    };

    let dtype = promoter
        .dtype()
        .and_then(|t| t.to_descriptor())
        .map_err(|e| h5err(format!("\"promoter\" type: {e}")))?;
    let mut report = LoadReport {
        rows: n,
        ..LoadReport::default()
    };
    let mut examples = Vec::with_capacity(n);
    let record_error = |i: usize, message: String| RowError {
        file: path.to_path_buf(),
        line: i,
        is_record: true,
        message,
    };
    for i in 0..n {
        let selection = (i, start..end, ..);
        let decoded = match &dtype {
            TypeDescriptor::Float(_) => {
                let rows = promoter
                    .read_slice_2d::<f32, _>(selection)
                    .map_err(|e| h5err(format!("\"promoter\" record {i}: {e}")))?;
                let flat = rows
                    .as_slice()
                    .map(<[f32]>::to_vec)
                    .unwrap_or_else(|| rows.iter().copied().collect());
                decode_one_hot(
                    flat.chunks_exact(4).map(|c| [c[0], c[1], c[2], c[3]]),
                    float_is_one,
                )
            }
            TypeDescriptor::Boolean => {
                let rows = promoter
                    .read_slice_2d::<bool, _>(selection)
                    .map_err(|e| h5err(format!("\"promoter\" record {i}: {e}")))?;
                let flat: Vec<bool> = rows.iter().copied().collect();
                decode_one_hot(flat.chunks_exact(4).map(|c| [c[0], c[1], c[2], c[3]]), Some)
            }
            other => {
                return Err(h5err(format!(
                    "\"promoter\" is {other}, expected bool or float one-hot"
                )));
            }
        };
        let sequence = match decoded {
            Ok(s) => s,
            Err(message) => {
                report.malformed.push(record_error(
                    i,
                    format!("\"{}\": promoter {message}", names[i]),
                ));
                continue;
            }
        };
        let label = labels[i];
        if label.is_nan() {
            report.missing_label += 1;
            continue;
        }
        if !label.is_finite() {
            report
                .malformed
                .push(record_error(i, format!("\"{}\": label {label}", names[i])));
            continue;
        }
        let features = match &features {
            Some((values, width)) => values[i * width..(i + 1) * width].to_vec(),
            None => Vec::new(),
        };
        examples.push(Example {
            id: names[i].clone(),
            sequence,
            label,
            features,
            origin: i,
        });
    }
    Ok(Dataset {
        source: path.display().to_string(),
        label_name: "label".to_string(),
        feature_names,
        feature_transforms: Vec::new(),
        examples,
        report,
    })
}

/// Reads a 1-D string dataset of any of HDF5's string kinds.
#[cfg(feature = "h5")]
fn read_strings(d: &hdf5::Dataset) -> Result<Vec<String>, String> {
    let desc = d
        .dtype()
        .and_then(|t| t.to_descriptor())
        .map_err(|e| e.to_string())?;
    let trimmed = |s: &str| s.trim_end_matches('\0').trim().to_string();
    let out = match desc {
        TypeDescriptor::VarLenAscii => d
            .read_raw::<VarLenAscii>()
            .map(|v| v.iter().map(|s| trimmed(s.as_str())).collect()),
        TypeDescriptor::VarLenUnicode => d
            .read_raw::<VarLenUnicode>()
            .map(|v| v.iter().map(|s| trimmed(s.as_str())).collect()),
        TypeDescriptor::FixedAscii(n) if n <= 256 => d
            .read_raw::<FixedAscii<256>>()
            .map(|v| v.iter().map(|s| trimmed(s.as_str())).collect()),
        TypeDescriptor::FixedUnicode(n) if n <= 256 => d
            .read_raw::<FixedUnicode<256>>()
            .map(|v| v.iter().map(|s| trimmed(s.as_str())).collect()),
        other => return Err(format!("{other} is not a supported string type")),
    };
    out.map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_hot_rows_decode_with_n_for_zero_rows() {
        let rows = [
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
            [0.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0],
        ];
        assert_eq!(
            decode_one_hot(rows.into_iter(), float_is_one).unwrap(),
            "ATNCG"
        );
        let two_hot = [[1.0, 1.0, 0.0, 0.0]];
        assert!(
            decode_one_hot(two_hot.into_iter(), float_is_one)
                .unwrap_err()
                .contains("more than one")
        );
        let half = [[0.5f32, 0.0, 0.0, 0.0]];
        assert!(decode_one_hot(half.into_iter(), float_is_one).is_err());
    }

    #[test]
    fn xpresso_window_is_tss_minus_7000_to_plus_3500() {
        assert_eq!(default_window(20_000), (3_000, 13_500));
        assert_eq!(default_window(10_500), (0, 10_500));
    }
}
