//! The encoder against outputs of the original DNABERT-2 code (`tests/fixtures/`), on
//! the CPU (Flex) backend. `tests/encoder_parity_wgpu.rs` runs the same check on wgpu; the
//! padding mask's guards are in `tests/regression.rs`.
// Reads model folders from disk: native only.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use burn::tensor::Device;

#[test]
fn golden_hidden_states_and_mean_pooling_match_the_original_code_on_cpu() {
    common::check_golden_parity(&Device::flex());
}
