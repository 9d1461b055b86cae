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
