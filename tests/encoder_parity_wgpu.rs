//! The golden parity check of `encoder_parity.rs`, on burn's wgpu backend. Skipped, with
//! a message, where no wgpu adapter exists. One test per process: wgpu is initialised
//! once.
// Reads model folders from disk: native only.
#![cfg(not(target_arch = "wasm32"))]

mod common;

#[test]
fn golden_hidden_states_and_mean_pooling_match_the_original_code_on_wgpu() {
    let device = match texcnn::device::wgpu() {
        Ok(device) => device,
        Err(err) => {
            common::skipped(&err.to_string());
            return;
        }
    };
    common::check_golden_parity(&device);
}
