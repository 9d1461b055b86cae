//! The model card: what a bundle predicts, from what data, how well, under which licence.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a user must know before trusting a model's numbers. Shown by `texcnn inspect` and by
/// the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// Short name, e.g. "texcnn-xpresso-median".
    pub name: String,
    /// What the model predicts (or, for an encoder-only bundle, what the encoder is).
    pub description: String,
    /// Where the weights came from and how the data were split.
    #[serde(default)]
    pub training: Option<TrainingData>,
    /// What each output of the head is, in the head's order (empty for an encoder-only
    /// bundle). `texcnn predict` names its columns after these.
    #[serde(default)]
    pub outputs: Vec<OutputSpec>,
    /// Measured metrics, on held-out data.
    #[serde(default)]
    pub metrics: Vec<Metric>,
    /// Licence notes for the weights and the data they were trained on.
    pub licence: String,
    /// The program that wrote the bundle, e.g. "texcnn 0.1.0 import".
    #[serde(default)]
    pub created_by: String,
}

/// The label a head predicts, in the units the user sees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelSpec {
    /// What is measured, e.g. "median expression across tissues (Xpresso)".
    pub name: String,
    /// Unit of the raw measurement, e.g. "RPKM".
    pub unit: String,
    /// Transform applied to the raw measurement, e.g. "log10(x + 0.1)".
    pub transform: String,
}

impl LabelSpec {
    /// The unit of a predicted value as a reader sees it: the transform applied to the raw
    /// unit (`log10(x + 0.1)` of `RPKM` reads `log10(RPKM + 0.1)`), the raw unit when there is
    /// no transform (empty, `none`, or no standalone `x`), and the unit as it is when it
    /// already reads transformed (a card whose unit is `log10(RPKM + 0.1)`).
    pub fn value_unit(&self) -> String {
        let transform = self.transform.trim();
        let Some(at) = standalone_x(transform) else {
            return self.unit.clone();
        };
        let before = &transform[..at];
        if transform.eq_ignore_ascii_case("none")
            || (!before.is_empty() && self.unit.starts_with(before))
        {
            return self.unit.clone();
        }
        format!("{before}{}{}", self.unit, &transform[at + 1..])
    }
}

/// Byte position of the first `x` in `text` that is a word of its own (not in `exp`).
fn standalone_x(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let word = |i: usize| {
        bytes
            .get(i)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
    };
    (0..bytes.len()).find(|&i| bytes[i] == b'x' && !word(i.wrapping_sub(1)) && !word(i + 1))
}

/// `1st`, `2nd`, `3rd`, `4th`, `11th`, `12th`, `13th`, `21st`, `100th`: a percentile as read.
pub fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// One output of a predictor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputSpec {
    /// Column name, e.g. `xpresso_median` or `liver`.
    pub name: String,
    /// The label and its units.
    pub label: LabelSpec,
    /// What the number means to a reader, e.g. "higher means more mRNA across tissues".
    #[serde(default)]
    pub meaning: String,
    /// Sorted labels of the training genes (or evenly spaced quantiles of them), to place a
    /// prediction among them as a percentile.
    #[serde(default)]
    pub reference: Vec<f32>,
}

impl OutputSpec {
    /// Percentage (0–100) of reference values at or below `value`; `None` without reference.
    pub fn percentile(&self, value: f32) -> Option<f32> {
        if self.reference.is_empty() || !value.is_finite() {
            return None;
        }
        let below = self.reference.partition_point(|&r| r <= value);
        Some(100.0 * below as f32 / self.reference.len() as f32)
    }
}

/// Training data and split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingData {
    /// The data set(s), with their source.
    pub data: String,
    /// How examples were split into train / validation / test, with the seed.
    pub split: String,
}

/// One measured metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// e.g. "R² (squared Pearson)".
    pub name: String,
    /// The value.
    pub value: f64,
    /// Which data it was measured on, e.g. "test, 129 held-out genes".
    pub on: String,
}

impl ModelCard {
    /// The card of an encoder-only bundle imported from a Hugging Face DNABERT-2 folder:
    /// `name` names the model, `source` says where the folder came from.
    pub fn imported_encoder(name: &str, source: &str) -> Self {
        Self {
            name: name.to_string(),
            description: format!(
                "DNABERT-2 encoder imported from {source}: segment embeddings only, no \
                 expression head (train a head on it to get a predictor)"
            ),
            outputs: Vec::new(),
            training: Some(TrainingData {
                data: "pre-trained by the authors of the source model; see its model card".into(),
                split: "not applicable (no supervised training in this bundle)".into(),
            }),
            metrics: Vec::new(),
            licence: "the licence of the source weights applies (DNABERT-2-117M: Apache-2.0); \
                      the bundled DNABERT-2 tokenizer is Apache-2.0"
                .into(),
            created_by: format!("texcnn {} import", env!("CARGO_PKG_VERSION")),
        }
    }
}

impl fmt::Display for ModelCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "name:        {}", self.name)?;
        writeln!(f, "description: {}", self.description)?;
        if self.outputs.is_empty() {
            writeln!(f, "outputs:     none (encoder only)")?;
        }
        for output in &self.outputs {
            let label = &output.label;
            writeln!(
                f,
                "output:      {}: {} [{}], transform {}",
                output.name, label.name, label.unit, label.transform
            )?;
        }
        if let Some(training) = &self.training {
            writeln!(f, "training:    {}", training.data)?;
            writeln!(f, "split:       {}", training.split)?;
        }
        if self.metrics.is_empty() {
            writeln!(f, "metrics:     none recorded")?;
        }
        for metric in &self.metrics {
            writeln!(
                f,
                "metric:      {} = {} ({})",
                metric.name, metric.value, metric.on
            )?;
        }
        writeln!(f, "licence:     {}", self.licence)?;
        if !self.created_by.is_empty() {
            writeln!(f, "created by:  {}", self.created_by)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(unit: &str, transform: &str) -> LabelSpec {
        LabelSpec {
            name: "median expression".into(),
            unit: unit.into(),
            transform: transform.into(),
        }
    }

    #[test]
    fn value_units_read_as_the_transform_of_the_raw_unit() {
        assert_eq!(
            label("RPKM", "log10(x + 0.1)").value_unit(),
            "log10(RPKM + 0.1)"
        );
        assert_eq!(label("TPM", "ln(1 + x)").value_unit(), "ln(1 + TPM)");
        for transform in ["", "none", "exp-scaled", "max"] {
            assert_eq!(label("TPM", transform).value_unit(), "TPM", "{transform:?}");
        }
        // A unit that already reads transformed is not transformed twice.
        assert_eq!(
            label("log10(RPKM + 0.1)", "log10(x + 0.1)").value_unit(),
            "log10(RPKM + 0.1)"
        );
    }

    #[test]
    fn ordinals_read_as_english() {
        let got: Vec<String> = [0, 1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 99, 100, 101, 111]
            .into_iter()
            .map(ordinal)
            .collect();
        assert_eq!(
            got,
            [
                "0th", "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd",
                "99th", "100th", "101st", "111th"
            ]
        );
    }
}
