//! Choosing the compute device: the one `--device` of every command that computes.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

/// Where a command computes (`--device cpu|wgpu`; `flex` and `gpu` are accepted too).
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    /// burn's Flex CPU backend.
    #[default]
    #[value(alias = "flex")]
    #[serde(alias = "flex")]
    Cpu,
    /// burn's wgpu backend: a GPU through Vulkan, Metal or DX12 (or a software Vulkan
    /// adapter such as Mesa's lavapipe).
    #[value(alias = "gpu")]
    #[serde(alias = "gpu")]
    Wgpu,
}

impl DeviceChoice {
    /// The device (wgpu: the first adapter, or an error that says why there is none).
    pub fn device(self) -> anyhow::Result<Device> {
        match self {
            Self::Cpu => Ok(Device::flex()),
            Self::Wgpu => texcnn::device::wgpu().map_err(anyhow::Error::msg),
        }
    }
}

/// How the encoder's `Linear` layers compute on the CPU (`--compute f32|int8`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ComputeChoice {
    /// `f32`: int8 bundles are dequantized on load (the numbers every backend gives).
    #[default]
    F32,
    /// The bundle's int8 weights times activations quantized per row, summed in integers
    /// (`texcnn::encoder::int8`; segment-embedding cosine ≥ 0.999 against f32). CPU only.
    Int8,
    /// As `int8`, with the activations quantized to 8 bits too, as ONNX Runtime's dynamic
    /// quantization (faster with AVX-512 VNNI; cosine ≥ 0.999 against f32). CPU only.
    #[value(name = "int8-a8")]
    Int8A8,
    /// As `int8-a8` with 7-bit activations: what the page computes where the browser has
    /// WebAssembly relaxed SIMD (the same numbers as the page's). CPU only.
    #[value(name = "int8-a7")]
    Int8A7,
}

impl ComputeChoice {
    /// The core crate's choice.
    pub fn compute(self) -> texcnn::bundle::Compute {
        match self {
            Self::F32 => texcnn::bundle::Compute::F32,
            Self::Int8 => texcnn::bundle::Compute::Int8,
            Self::Int8A8 => texcnn::bundle::Compute::Int8Act8,
            Self::Int8A7 => texcnn::bundle::Compute::Int8Act7,
        }
    }
}

impl std::fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Cpu => "cpu",
            Self::Wgpu => "wgpu",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::DeviceChoice;
    use clap::ValueEnum;

    #[test]
    fn old_checkpoints_and_aliases_read_as_the_same_choice() {
        // `texcnn pretrain` checkpoints store their arguments; before this enum `device` was
        // free text, "cpu" or "wgpu" (also "flex" and "gpu").
        for (text, choice) in [
            ("cpu", DeviceChoice::Cpu),
            ("flex", DeviceChoice::Cpu),
            ("wgpu", DeviceChoice::Wgpu),
            ("gpu", DeviceChoice::Wgpu),
        ] {
            let json = format!("\"{text}\"");
            assert_eq!(serde_json::from_str::<DeviceChoice>(&json).unwrap(), choice);
            assert_eq!(DeviceChoice::from_str(text, true).unwrap(), choice);
        }
        assert_eq!(
            serde_json::to_string(&DeviceChoice::Wgpu).unwrap(),
            "\"wgpu\""
        );
        assert_eq!(DeviceChoice::Cpu.to_string(), "cpu");
        assert!(DeviceChoice::from_str("tpu", true).is_err());
    }
}
