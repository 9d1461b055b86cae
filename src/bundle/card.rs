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
    /// The predicted label; `None` for an encoder-only bundle (no head).
    #[serde(default)]
    pub label: Option<LabelSpec>,
    /// Where the weights came from and how the data were split.
    #[serde(default)]
    pub training: Option<TrainingData>,
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

impl fmt::Display for ModelCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "name:        {}", self.name)?;
        writeln!(f, "description: {}", self.description)?;
        match &self.label {
            Some(label) => writeln!(
                f,
                "label:       {} [{}], transform {}",
                label.name, label.unit, label.transform
            )?,
            None => writeln!(f, "label:       none (encoder only)")?,
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
