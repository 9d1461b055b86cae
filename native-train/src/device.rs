//! Choosing the compute device.

use burn::tensor::Device;

/// burn's wgpu backend on the first adapter (a GPU through Vulkan, Metal or DX12; on a
/// machine without one, Mesa's lavapipe Vulkan driver if installed). Initialised once per
/// process.
pub fn wgpu_device() -> anyhow::Result<Device> {
    match std::panic::catch_unwind(|| Device::wgpu_options().init()) {
        Ok(Ok(device)) => Ok(device),
        Ok(Err(err)) => anyhow::bail!("no wgpu adapter: {err}"),
        Err(_) => anyhow::bail!("wgpu initialisation failed (no usable adapter)"),
    }
}
