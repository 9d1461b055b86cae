//! Choosing the compute device.

use burn::tensor::Device;

/// burn's wgpu backend (see [`texcnn::device::wgpu`]).
pub fn wgpu_device() -> anyhow::Result<Device> {
    texcnn::device::wgpu().map_err(anyhow::Error::msg)
}
