//! The tables users download: the rows that `texcnn predict`, `texcnn variants` and
//! `texcnn ism` write and that the page exports, made here once so that the two never drift
//! (the page's export buttons join the rows its worker got from this module).

use crate::predict::{Inputs, Prediction};
use crate::variants::{Edit, EditEffect};

/// How a table's fields are joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Separator {
    /// Tab-separated; a tab or line break inside a field becomes a space.
    Tab,
    /// Comma-separated (RFC 4180): a field with a comma, quote or line break is quoted, its
    /// quotes doubled.
    Comma,
}

impl Separator {
    /// One line of the table (without its line break).
    pub fn line<S: AsRef<str>>(self, fields: &[S]) -> String {
        let fields = fields.iter().map(|f| {
            let f = f.as_ref();
            match self {
                Self::Tab if f.contains(['\t', '\n', '\r']) => f.replace(['\t', '\n', '\r'], " "),
                Self::Comma if f.contains([',', '"', '\n', '\r']) => {
                    format!("\"{}\"", f.replace('"', "\"\""))
                }
                _ => f.to_string(),
            }
        });
        let sep = match self {
            Self::Tab => "\t",
            Self::Comma => ",",
        };
        fields.collect::<Vec<_>>().join(sep)
    }
}

/// Which columns a table of predictions has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PredictionColumns {
    /// The record's length in bases, after the id.
    pub length: bool,
    /// After each output's value, its percentile among the model's reference genes.
    pub percentiles: bool,
}

impl PredictionColumns {
    /// `texcnn predict`'s TSV: `id`, one column per output, `inputs`, `read`, `notes`.
    pub const CLI: Self = Self {
        length: false,
        percentiles: false,
    };
    /// The page's CSV: `id`, `length`, each output and `<output>_percentile`, `inputs`,
    /// `read`, `notes`.
    pub const PAGE: Self = Self {
        length: true,
        percentiles: true,
    };
}

/// The header of a predictions table for outputs `names`.
pub fn prediction_header(names: &[String], columns: PredictionColumns) -> Vec<String> {
    let mut header = vec!["id".to_string()];
    if columns.length {
        header.push("length".into());
    }
    for name in names {
        header.push(name.clone());
        if columns.percentiles {
            header.push(format!("{name}_percentile"));
        }
    }
    header.extend(["inputs", "read", "notes"].map(String::from));
    header
}

/// One record's row of a predictions table: the prediction's own notes, then `more` (the
/// input's notes on the record, e.g. a duplicate id), joined by `; `.
pub fn prediction_fields(
    id: &str,
    length: usize,
    prediction: &Prediction,
    more: &[String],
    columns: PredictionColumns,
) -> Vec<String> {
    let mut fields = vec![id.to_string()];
    if columns.length {
        fields.push(length.to_string());
    }
    for output in &prediction.outputs {
        fields.push(output.value.to_string());
        if columns.percentiles {
            fields.push(output.percentile.map(|p| p.to_string()).unwrap_or_default());
        }
    }
    fields.push(prediction.inputs.as_str().to_string());
    fields.push(prediction.read.describe());
    let notes: Vec<&str> = prediction
        .notes
        .iter()
        .chain(more)
        .map(String::as_str)
        .collect();
    fields.push(notes.join("; "));
    fields
}

/// The header of `texcnn ism`'s table: `id pos ref alt`, `delta_<output>` per output,
/// `pos_tss`, `inputs`.
pub fn ism_header(names: &[String]) -> Vec<String> {
    let mut header = edit_columns();
    header.extend(names.iter().map(|n| format!("delta_{n}")));
    header.extend(["pos_tss", "inputs"].map(String::from));
    header
}

/// One scored edit's row of `texcnn ism`'s table.
pub fn ism_fields(id: &str, edit: &Edit, effect: &EditEffect, inputs: Inputs) -> Vec<String> {
    let mut fields = edit_fields(id, edit);
    fields.extend(effect.delta.iter().map(f32::to_string));
    fields.push(tss_cell(effect.tss_relative));
    fields.push(inputs.as_str().to_string());
    fields
}

/// The header of `texcnn variants`' table: `id pos ref alt`, then `ref_<output>`,
/// `alt_<output>`, `delta_<output>` per output, `pos_tss`, `inputs`.
pub fn variant_header(names: &[String]) -> Vec<String> {
    let mut header = edit_columns();
    for n in names {
        header.extend([format!("ref_{n}"), format!("alt_{n}"), format!("delta_{n}")]);
    }
    header.extend(["pos_tss", "inputs"].map(String::from));
    header
}

/// One scored edit's row of `texcnn variants`' table; `reference` is the unedited record's
/// prediction.
pub fn variant_fields(
    id: &str,
    edit: &Edit,
    reference: &[f32],
    effect: &EditEffect,
    inputs: Inputs,
) -> Vec<String> {
    let mut fields = edit_fields(id, edit);
    for ((r, a), d) in reference.iter().zip(&effect.alt).zip(&effect.delta) {
        fields.extend([r.to_string(), a.to_string(), d.to_string()]);
    }
    fields.push(tss_cell(effect.tss_relative));
    fields.push(inputs.as_str().to_string());
    fields
}

fn edit_columns() -> Vec<String> {
    ["id", "pos", "ref", "alt"].map(String::from).to_vec()
}

fn edit_fields(id: &str, edit: &Edit) -> Vec<String> {
    vec![
        id.to_string(),
        edit.pos.to_string(),
        edit.reference.clone(),
        edit.alternative.clone(),
    ]
}

/// The position relative to the TSS, or an empty cell when the TSS is not known.
fn tss_cell(pos_tss: Option<i64>) -> String {
    pos_tss.map(|p| p.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_with_commas_quotes_or_line_breaks_are_quoted() {
        let fields = [
            "p1",
            "1-2048 of 2048, tss 1025",
            "say \"hi\"",
            "two\nlines",
            "3.5",
        ];
        assert_eq!(
            Separator::Comma.line(&fields),
            "p1,\"1-2048 of 2048, tss 1025\",\"say \"\"hi\"\"\",\"two\nlines\",3.5"
        );
    }

    #[test]
    fn tsv_fields_never_split_a_row() {
        let fields = ["p1", "a\tb", "c\r\nd", "1-2048 of 2048, tss 1025"];
        assert_eq!(
            Separator::Tab.line(&fields),
            "p1\ta b\tc  d\t1-2048 of 2048, tss 1025"
        );
    }

    #[test]
    fn headers_name_every_output() {
        let names = ["xpresso_median".to_string(), "liver".to_string()];
        assert_eq!(
            prediction_header(&names, PredictionColumns::PAGE).join(","),
            "id,length,xpresso_median,xpresso_median_percentile,liver,liver_percentile,inputs,read,notes"
        );
        assert_eq!(
            prediction_header(&names, PredictionColumns::CLI).join(","),
            "id,xpresso_median,liver,inputs,read,notes"
        );
        assert_eq!(
            ism_header(&names).join(","),
            "id,pos,ref,alt,delta_xpresso_median,delta_liver,pos_tss,inputs"
        );
        assert_eq!(
            variant_header(&names).join(","),
            "id,pos,ref,alt,ref_xpresso_median,alt_xpresso_median,delta_xpresso_median,ref_liver,alt_liver,delta_liver,pos_tss,inputs"
        );
    }
}
