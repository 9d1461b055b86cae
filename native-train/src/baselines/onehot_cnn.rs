//! An Xpresso-style one-hot CNN baseline (Agarwal and Shendure 2020): one-hot DNA → Conv1d
//! (128 filters, width 6) → ReLU → max-pool 30 → Conv1d (32 filters, width 9) → ReLU → max-pool
//! 10 → flatten → dense 64 → ReLU → dropout → dense 2 → dropout → one output. Xpresso's own
//! hyper-parameters, except that the 2-unit layer is linear (with a ReLU there, 3 of the first
//! 5 training seeds collapsed to a constant prediction). `N` is an all-zero column. All
//! sequences of a run must have one length.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::pool::{MaxPool1d, MaxPool1dConfig};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};

/// Shape of an [`OneHotCnn`].
#[derive(Config, Debug, PartialEq)]
pub struct OneHotCnnConfig {
    /// Input length in bp.
    pub length: usize,
    #[config(default = 128)]
    pub filters1: usize,
    #[config(default = 6)]
    pub width1: usize,
    #[config(default = 30)]
    pub pool1: usize,
    #[config(default = 32)]
    pub filters2: usize,
    #[config(default = 9)]
    pub width2: usize,
    #[config(default = 10)]
    pub pool2: usize,
    #[config(default = 64)]
    pub dense1: usize,
    #[config(default = 2)]
    pub dense2: usize,
    #[config(default = 0.1)]
    pub dropout: f64,
}

/// Why a configuration cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {length} bp input is too short for the convolutions and pools of the one-hot CNN")]
pub struct TooShort {
    pub length: usize,
}

impl OneHotCnnConfig {
    /// Length left after the second pool, or `None` when the input is too short.
    fn flat_len(&self) -> Option<usize> {
        let l1 = self.length.checked_sub(self.width1 - 1)? / self.pool1;
        let l2 = l1.checked_sub(self.width2 - 1)? / self.pool2;
        (l2 > 0).then_some(l2)
    }

    pub fn init(&self, device: &Device) -> Result<OneHotCnn, TooShort> {
        let flat = self.flat_len().ok_or(TooShort {
            length: self.length,
        })? * self.filters2;
        Ok(OneHotCnn {
            conv1: Conv1dConfig::new(4, self.filters1, self.width1).init(device),
            pool1: MaxPool1dConfig::new(self.pool1).init(),
            conv2: Conv1dConfig::new(self.filters1, self.filters2, self.width2).init(device),
            pool2: MaxPool1dConfig::new(self.pool2).init(),
            dense1: LinearConfig::new(flat, self.dense1).init(device),
            dense2: LinearConfig::new(self.dense1, self.dense2).init(device),
            output: LinearConfig::new(self.dense2, 1).init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
        })
    }
}

/// The one-hot CNN.
#[derive(Module, Debug)]
pub struct OneHotCnn {
    pub conv1: Conv1d,
    pub pool1: MaxPool1d,
    pub conv2: Conv1d,
    pub pool2: MaxPool1d,
    pub dense1: Linear,
    pub dense2: Linear,
    pub output: Linear,
    pub dropout: Dropout,
}

impl OneHotCnn {
    /// `x`: [batch, 4, length] one-hot → [batch, 1].
    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        let h = self.pool1.forward(relu(self.conv1.forward(x)));
        let h = self.pool2.forward(relu(self.conv2.forward(h)));
        let h: Tensor<2> = h.flatten(1, 2);
        let h = self.dropout.forward(relu(self.dense1.forward(h)));
        // No ReLU on the 2-unit layer: with one, whole runs died (constant output) here.
        let h = self.dropout.forward(self.dense2.forward(h));
        self.output.forward(h)
    }
}

/// One-hot encodes equally long sequences: [batch, 4, length] (A, C, G, T rows; N all zero).
pub fn one_hot(sequences: &[&str], length: usize, device: &Device) -> Tensor<3> {
    let mut values = vec![0f32; sequences.len() * 4 * length];
    for (b, seq) in sequences.iter().enumerate() {
        for (pos, base) in seq.bytes().take(length).enumerate() {
            let row = match base {
                b'A' => 0,
                b'C' => 1,
                b'G' => 2,
                b'T' => 3,
                _ => continue,
            };
            values[(b * 4 + row) * length + pos] = 1.0;
        }
    }
    Tensor::from_data(
        TensorData::new(values, [sequences.len(), 4, length]),
        device,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_hot_layout_is_channels_first_with_zero_n() {
        let device = Device::flex();
        let x = one_hot(&["ACGTN"], 5, &device);
        assert_eq!(x.dims(), [1, 4, 5]);
        let v = x.into_data().try_to_vec::<f32>().unwrap();
        #[rustfmt::skip]
        let expected = [
            1., 0., 0., 0., 0.,
            0., 1., 0., 0., 0.,
            0., 0., 1., 0., 0.,
            0., 0., 0., 1., 0.,
        ];
        assert_eq!(v, expected);
    }

    #[test]
    fn shapes_for_a_2kb_promoter_and_too_short_inputs() {
        let device = Device::flex();
        let model = OneHotCnnConfig::new(2048).init(&device).unwrap();
        let y = model.forward(one_hot(&["ACGT", "GGCC"], 2048, &device));
        assert_eq!(y.dims(), [2, 1]);
        assert_eq!(
            OneHotCnnConfig::new(100).init(&device).unwrap_err(),
            TooShort { length: 100 }
        );
    }
}
