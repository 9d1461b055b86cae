//! The golden parity check of `encoder_parity.rs`, on burn's wgpu backend. Skipped, with
//! a message, where no wgpu adapter exists. One test per process: wgpu is initialised
//! once.
// Reads model folders from disk: native only.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use burn::tensor::Device;

#[test]
fn golden_hidden_states_and_mean_pooling_match_the_original_code_on_wgpu() {
    // A missing adapter is reported as an error by `init`; some drivers panic instead.
    let device = match std::panic::catch_unwind(|| Device::wgpu_options().init()) {
        Ok(Ok(device)) => device,
        Ok(Err(err)) => {
            eprintln!("SKIPPED: no wgpu adapter ({err})");
            return;
        }
        Err(_) => {
            eprintln!("SKIPPED: wgpu initialisation panicked (no usable adapter)");
            return;
        }
    };
    common::check_golden_parity(&device);
}
