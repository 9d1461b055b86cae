//! Scoring predictions: metrics (Pearson r, R², MSE), prediction files, `texcnn evaluate`.

pub mod evaluate;
pub mod metrics;
pub mod predictions;
