//! A small regression trainer shared by the neural baselines (and meant for the TExCNN head):
//! mean squared error on standardised labels, Adam, mini-batches shuffled with the run's seed,
//! early stopping on the validation loss, and the best model (lowest validation loss) kept.
//!
//! The trainer knows nothing about the model's input: the caller gives a `forward` closure that
//! builds the input tensors of a batch of example indices on a device and runs the model,
//! returning [batch, 1] predictions in standardised label units.

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use texcnn::bundle::NormStats;
use texcnn::predict::LABEL_NORM;
use texcnn::rng::SplitMix64;

/// Training settings.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainerConfig {
    pub max_epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    /// Stop after this many epochs without a lower validation loss.
    pub patience: usize,
    /// Seeds the batch order (the model's initialisation is seeded by the caller).
    pub seed: u64,
}

impl Default for TrainerConfig {
    fn default() -> Self {
        Self {
            max_epochs: 30,
            batch_size: 32,
            learning_rate: 1e-3,
            patience: 5,
            seed: 0,
        }
    }
}

/// One epoch's losses (MSE in standardised label units).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochLog {
    pub epoch: usize,
    pub train_loss: f64,
    pub valid_loss: f64,
    pub seconds: f64,
}

/// What training did.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainReport {
    pub history: Vec<EpochLog>,
    /// 1-based epoch of the kept model.
    pub best_epoch: usize,
    pub best_valid_loss: f64,
    /// Mean and standard deviation of the training labels: the model learns standardised
    /// labels, and its predictions are mapped back with these (the bundle stores them).
    pub label_norm: NormStats,
}

/// Why training failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainError {
    #[error("no {0} example")]
    Empty(&'static str),
    #[error("the training loss became {loss} in epoch {epoch}")]
    NotFinite { epoch: usize, loss: f64 },
}

/// The statistics of the training labels.
fn label_norm(labels: &[f64], train: &[usize]) -> NormStats {
    let values: Vec<f32> = train.iter().map(|&i| labels[i] as f32).collect();
    NormStats::fit(LABEL_NORM, 1, values.chunks(1))
}

fn targets(labels: &[f64], batch: &[usize], norm: &NormStats, device: &Device) -> Tensor<2> {
    let mut values: Vec<f32> = batch.iter().map(|&i| labels[i] as f32).collect();
    norm.apply(&mut values);
    Tensor::from_data(TensorData::new(values, [batch.len(), 1]), device)
}

/// Predictions (label units) of `model` for `indices`, in batches, without gradients.
pub fn predict<M, F>(
    model: &M,
    indices: &[usize],
    batch_size: usize,
    label_norm: &NormStats,
    device: &Device,
    forward: &F,
) -> Vec<f64>
where
    M: Module,
    F: Fn(&M, &[usize], &Device) -> Tensor<2>,
{
    let mut out = Vec::with_capacity(indices.len());
    for batch in indices.chunks(batch_size.max(1)) {
        let pred = forward(model, batch, device).into_data();
        let mut values = pred.try_to_vec::<f32>().unwrap_or_default();
        label_norm.invert(&mut values);
        out.extend(values.iter().map(|&v| f64::from(v)));
    }
    out
}

fn mean_loss<M, F>(
    model: &M,
    indices: &[usize],
    labels: &[f64],
    config: &TrainerConfig,
    norm: &NormStats,
    device: &Device,
    forward: &F,
) -> f64
where
    M: Module,
    F: Fn(&M, &[usize], &Device) -> Tensor<2>,
{
    let pred = predict(model, indices, config.batch_size, norm, device, forward);
    let std = f64::from(norm.std[0]);
    pred.iter()
        .zip(indices)
        .map(|(p, &i)| ((p - labels[i]) / std).powi(2))
        .sum::<f64>()
        / indices.len() as f64
}

/// The examples a run trains and selects on: indices into `labels` (the label of every example).
#[derive(Debug, Clone, Copy)]
pub struct TrainData<'a> {
    pub train: &'a [usize],
    pub valid: &'a [usize],
    pub labels: &'a [f64],
}

/// Trains `model` (initialised on `device.autodiff()`), returns the best model in validation
/// mode (on the plain `device`) and the report.
pub fn train<M, F>(
    mut model: M,
    data: TrainData<'_>,
    config: &TrainerConfig,
    device: &Device,
    forward: F,
    mut on_epoch: impl FnMut(&EpochLog),
) -> Result<(M, TrainReport), TrainError>
where
    M: Module,
    F: Fn(&M, &[usize], &Device) -> Tensor<2>,
{
    let TrainData {
        train: train_idx,
        valid: valid_idx,
        labels,
    } = data;
    if train_idx.is_empty() {
        return Err(TrainError::Empty("training"));
    }
    if valid_idx.is_empty() {
        return Err(TrainError::Empty("validation"));
    }
    let norm = label_norm(labels, train_idx);
    let train_device = device.clone().autodiff();
    let mut optim = AdamConfig::new().init();
    let mut rng = SplitMix64::new(config.seed);
    let mut order = train_idx.to_vec();
    let mut history = Vec::new();
    let mut best: Option<(f64, usize, M)> = None;
    for epoch in 1..=config.max_epochs {
        let started = std::time::Instant::now();
        rng.shuffle(&mut order);
        let (mut sum, mut count) = (0.0, 0usize);
        for batch in order.chunks(config.batch_size.max(1)) {
            let pred = forward(&model, batch, &train_device);
            let target = targets(labels, batch, &norm, &train_device);
            let loss = (pred - target).powi_scalar(2).mean();
            let value = f64::from(loss.clone().into_scalar::<f32>());
            if !value.is_finite() {
                return Err(TrainError::NotFinite { epoch, loss: value });
            }
            sum += value * batch.len() as f64;
            count += batch.len();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(config.learning_rate, model, grads);
        }
        let valid_model = model.valid();
        let valid_loss = mean_loss(
            &valid_model,
            valid_idx,
            labels,
            config,
            &norm,
            device,
            &forward,
        );
        let log = EpochLog {
            epoch,
            train_loss: sum / count as f64,
            valid_loss,
            seconds: started.elapsed().as_secs_f64(),
        };
        on_epoch(&log);
        history.push(log);
        if best.as_ref().is_none_or(|(b, ..)| valid_loss < *b) {
            best = Some((valid_loss, epoch, valid_model));
        } else if best
            .as_ref()
            .is_some_and(|(_, e, _)| epoch - e >= config.patience)
        {
            break;
        }
    }
    let (best_valid_loss, best_epoch, best_model) = match best {
        Some(b) => b,
        None => return Err(TrainError::Empty("epoch")),
    };
    Ok((
        best_model,
        TrainReport {
            history,
            best_epoch,
            best_valid_loss,
            label_norm: norm,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::{Linear, LinearConfig};

    #[test]
    fn learns_a_line_and_keeps_the_best_epoch() {
        // y = 3x − 1 on x in [−1, 1]; a single Linear layer must fit it.
        let xs: Vec<f64> = (0..64).map(|i| -1.0 + 2.0 * f64::from(i) / 63.0).collect();
        let labels: Vec<f64> = xs.iter().map(|x| 3.0 * x - 1.0).collect();
        let train_idx: Vec<usize> = (0..64).filter(|i| i % 4 != 0).collect();
        let valid_idx: Vec<usize> = (0..64).filter(|i| i % 4 == 0).collect();
        let device = Device::flex();
        device.seed(1);
        let model: Linear = LinearConfig::new(1, 1).init(&device.clone().autodiff());
        let forward = |m: &Linear, batch: &[usize], device: &Device| {
            let x: Vec<f32> = batch.iter().map(|&i| xs[i] as f32).collect();
            m.forward(Tensor::<2>::from_data(
                TensorData::new(x, [batch.len(), 1]),
                device,
            ))
        };
        let config = TrainerConfig {
            max_epochs: 60,
            batch_size: 8,
            learning_rate: 0.05,
            patience: 60,
            seed: 3,
        };
        let mut epochs = 0;
        let (best, report) = train(
            model,
            TrainData {
                train: &train_idx,
                valid: &valid_idx,
                labels: &labels,
            },
            &config,
            &device,
            forward,
            |_| epochs += 1,
        )
        .unwrap();
        assert_eq!(epochs, report.history.len());
        let min = report
            .history
            .iter()
            .map(|e| e.valid_loss)
            .fold(f64::INFINITY, f64::min);
        assert_eq!(report.best_valid_loss, min);
        assert!(report.best_valid_loss < 1e-3, "{report:?}");
        let pred = predict(&best, &valid_idx, 4, &report.label_norm, &device, &forward);
        for (p, &i) in pred.iter().zip(&valid_idx) {
            assert!((p - labels[i]).abs() < 0.1, "{p} vs {}", labels[i]);
        }
    }

    #[test]
    fn empty_parts_are_errors() {
        let device = Device::flex();
        let model: Linear = LinearConfig::new(1, 1).init(&device.clone().autodiff());
        let forward = |m: &Linear, batch: &[usize], device: &Device| {
            m.forward(Tensor::<2>::zeros([batch.len(), 1], device))
        };
        let err = train(
            model,
            TrainData {
                train: &[0],
                valid: &[],
                labels: &[1.0],
            },
            &TrainerConfig::default(),
            &device,
            forward,
            |_| {},
        )
        .unwrap_err();
        assert_eq!(err, TrainError::Empty("validation"));
    }
}
