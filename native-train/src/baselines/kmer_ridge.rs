//! The k-mer frequency ridge regression baseline.
//!
//! Features: the overlapping k-mer frequencies of the whole sequence (4^k values, see
//! [`crate::baselines::kmer`]), plus the data set's per-gene features if asked (encoded by a
//! [`texcnn::features::FeatureSpec`] fitted on the training genes: transformed, standardised,
//! missing values as 0 with indicators); with no k the features alone (the features-only
//! baseline). The ridge penalty α is chosen
//! on the validation genes only (lowest validation MSE over [`default_alpha_grid`]); the model is
//! fitted on the training genes only. Test genes are only predicted.

use crate::baselines::kmer::{KmerCounter, KmerError};
use crate::baselines::ridge::{Matrix, RidgeError, RidgeModel, RidgeProblem, default_alpha_grid};
use crate::data::split::{Part, part_indices};
use crate::eval::metrics::mse;

use crate::data::Dataset;
use crate::eval::predictions::Prediction;

/// Settings of one k-mer ridge run.
#[derive(Debug, Clone, PartialEq)]
pub struct KmerRidgeConfig {
    /// k-mer length; `None`: no k-mers, the per-gene features alone.
    pub k: Option<usize>,
    /// α values searched on the validation split.
    pub alphas: Vec<f64>,
    /// Append the data set's extra features to the k-mer frequencies.
    pub use_features: bool,
}

impl Default for KmerRidgeConfig {
    fn default() -> Self {
        Self {
            k: Some(4),
            alphas: default_alpha_grid(),
            use_features: false,
        }
    }
}

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum KmerRidgeError {
    #[error(transparent)]
    Kmer(#[from] KmerError),
    #[error(transparent)]
    Ridge(#[from] RidgeError),
    #[error("the split has no {0} example")]
    EmptyPart(&'static str),
    #[error(transparent)]
    Features(#[from] crate::data::features::SpecError),
    #[error("no input: give a k-mer length, or per-gene features (--features) to use")]
    NoInput,
}

/// The fitted model, the validation curve and the predictions of every kept example.
#[derive(Debug, Clone)]
pub struct KmerRidgeRun {
    pub model: RidgeModel,
    /// (α, validation MSE) for every α tried.
    pub validation_curve: Vec<(f64, f64)>,
    pub predictions: Vec<Prediction>,
}

fn features_of(
    counter: Option<&KmerCounter>,
    dataset: &Dataset,
    index: usize,
    encoded: Option<&[Vec<f32>]>,
) -> Vec<f64> {
    let e = &dataset.examples[index];
    let mut x = counter.map_or_else(Vec::new, |c| c.frequencies(&e.sequence));
    if let Some(encoded) = encoded {
        x.extend(encoded[index].iter().map(|v| f64::from(*v)));
    }
    x
}

/// Fits on the train part, picks α on the valid part, predicts every example with a part.
pub fn run(
    dataset: &Dataset,
    parts: &[Option<Part>],
    config: &KmerRidgeConfig,
) -> Result<KmerRidgeRun, KmerRidgeError> {
    let counter = config.k.map(KmerCounter::new).transpose()?;
    let (train, valid) = (
        part_indices(parts, Part::Train),
        part_indices(parts, Part::Valid),
    );
    if train.is_empty() {
        return Err(KmerRidgeError::EmptyPart("train"));
    }
    if valid.is_empty() {
        return Err(KmerRidgeError::EmptyPart("valid"));
    }
    let encoded = if config.use_features {
        crate::data::features::encode_dataset(dataset, &train)?.map(|e| e.rows)
    } else {
        None
    };
    if counter.is_none() && encoded.is_none() {
        return Err(KmerRidgeError::NoInput);
    }
    let matrix = |idx: &[usize]| -> Result<Matrix, RidgeError> {
        let rows: Vec<Vec<f64>> = idx
            .iter()
            .map(|&i| features_of(counter.as_ref(), dataset, i, encoded.as_deref()))
            .collect();
        Matrix::from_rows(&rows)
    };
    let labels =
        |idx: &[usize]| -> Vec<f64> { idx.iter().map(|&i| dataset.examples[i].label).collect() };
    let problem = RidgeProblem::new(&matrix(&train)?, &labels(&train))?;
    let (x_valid, y_valid) = (matrix(&valid)?, labels(&valid));
    let mut best: Option<(f64, RidgeModel)> = None;
    let mut curve = Vec::with_capacity(config.alphas.len());
    for &alpha in &config.alphas {
        let model = problem.solve(alpha)?;
        let pred = model.predict(&x_valid)?;
        let loss = mse(&pred, &y_valid).unwrap_or(f64::INFINITY);
        curve.push((alpha, loss));
        if best.as_ref().is_none_or(|(b, _)| loss < *b) {
            best = Some((loss, model));
        }
    }
    let model = match best {
        Some((_, m)) => m,
        None => return Err(RidgeError::BadAlpha(f64::NAN).into()),
    };
    let mut predictions = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        if let Some(part) = part {
            let x = features_of(counter.as_ref(), dataset, i, encoded.as_deref());
            predictions.push(Prediction {
                id: dataset.examples[i].id.clone(),
                part: *part,
                label: dataset.examples[i].label,
                prediction: model.predict_row(&x)?,
            });
        }
    }
    Ok(KmerRidgeRun {
        model,
        validation_curve: curve,
        predictions,
    })
}
