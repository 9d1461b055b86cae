//! Prediction files: what every model (baseline or TExCNN) writes, and what `texcnn evaluate`
//! reads. Tab-separated, `#` comment lines first (`# key: value`, e.g. the model, seed and
//! split file), then a header `id part label prediction` and one row per example.

use std::fmt::Write as _;
use std::path::Path;

use crate::data::split::Part;

/// One prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub id: String,
    pub part: Part,
    pub label: f64,
    pub prediction: f64,
}

/// A prediction file's content.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PredictionFile {
    /// `key: value` pairs from the comment lines, in order.
    pub meta: Vec<(String, String)>,
    pub rows: Vec<Prediction>,
}

/// Why a prediction file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum PredictionFileError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: line {line}: {message}")]
    Row {
        path: String,
        line: usize,
        message: String,
    },
}

const HEADER: &str = "id\tpart\tlabel\tprediction";

impl PredictionFile {
    /// The value of a comment key, if present.
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.meta
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Predictions and labels of one part.
    pub fn part(&self, part: Part) -> (Vec<f64>, Vec<f64>) {
        self.rows
            .iter()
            .filter(|r| r.part == part)
            .map(|r| (r.prediction, r.label))
            .unzip()
    }

    /// The file as text.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for (k, v) in &self.meta {
            let _ = writeln!(s, "# {k}: {v}");
        }
        s.push_str(HEADER);
        s.push('\n');
        for r in &self.rows {
            let _ = writeln!(
                s,
                "{}\t{}\t{}\t{}",
                r.id,
                r.part.name(),
                r.label,
                r.prediction
            );
        }
        s
    }

    /// Writes the file.
    pub fn write(&self, path: &Path) -> Result<(), PredictionFileError> {
        let io = |source| PredictionFileError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        crate::files::output::replace_file(path, self.to_text().as_bytes()).map_err(io)
    }

    /// Parses the text of a prediction file (`path` only names it in errors).
    pub fn parse(text: &str, path: &str) -> Result<Self, PredictionFileError> {
        let mut file = PredictionFile::default();
        let mut seen_header = false;
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            let err = |message: String| PredictionFileError::Row {
                path: path.to_string(),
                line: line_no,
                message,
            };
            if let Some(comment) = line.strip_prefix('#') {
                if let Some((k, v)) = comment.split_once(':') {
                    file.meta.push((k.trim().to_string(), v.trim().to_string()));
                }
                continue;
            }
            if line.trim().is_empty() {
                continue;
            }
            if !seen_header {
                if line.trim_end() != HEADER {
                    return Err(err(format!("expected the header \"{HEADER}\"")));
                }
                seen_header = true;
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            if fields.len() != 4 {
                return Err(err(format!("{} fields, expected 4", fields.len())));
            }
            let part = Part::from_name(fields[1])
                .ok_or_else(|| err(format!("part \"{}\" is not train/valid/test", fields[1])))?;
            let number = |s: &str, what: &str| {
                s.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| err(format!("{what} \"{s}\" is not a finite number")))
            };
            file.rows.push(Prediction {
                id: fields[0].to_string(),
                part,
                label: number(fields[2], "label")?,
                prediction: number(fields[3], "prediction")?,
            });
        }
        if !seen_header {
            return Err(PredictionFileError::Row {
                path: path.to_string(),
                line: text.lines().count(),
                message: format!("no header \"{HEADER}\""),
            });
        }
        Ok(file)
    }

    /// Reads a prediction file.
    pub fn read(path: &Path) -> Result<Self, PredictionFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| PredictionFileError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors_name_the_line() {
        let file = PredictionFile {
            meta: vec![("model".into(), "kmer-ridge".into())],
            rows: vec![
                Prediction {
                    id: "g1".into(),
                    part: Part::Test,
                    label: 1.5,
                    prediction: 0.25,
                },
                Prediction {
                    id: "g2".into(),
                    part: Part::Train,
                    label: -1.0,
                    prediction: 2.0,
                },
            ],
        };
        let back = PredictionFile::parse(&file.to_text(), "p.tsv").unwrap();
        assert_eq!(back, file);
        assert_eq!(back.meta("model"), Some("kmer-ridge"));
        let bad = "id\tpart\tlabel\tprediction\ng1\ttest\t1\tx\n";
        let err = PredictionFile::parse(bad, "p.tsv").unwrap_err().to_string();
        assert_eq!(
            err,
            "p.tsv: line 2: prediction \"x\" is not a finite number"
        );
    }
}
