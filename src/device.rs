//! Choosing a compute device natively (the browser's is chosen in `web.rs`).

use burn::tensor::Device;

/// burn's wgpu backend on the first adapter (a GPU through Vulkan, Metal or DX12; on a
/// machine without one, Mesa's lavapipe Vulkan driver if installed). wgpu is initialised
/// once per process: call this once and keep the device. A missing adapter is an error;
/// some drivers panic instead, which is turned into the same error.
pub fn wgpu() -> Result<Device, String> {
    match std::panic::catch_unwind(|| Device::wgpu_options().init()) {
        Ok(Ok(device)) => Ok(device),
        Ok(Err(err)) => Err(format!("no wgpu adapter: {err}")),
        Err(_) => Err("wgpu initialisation failed (no usable adapter)".into()),
    }
}
