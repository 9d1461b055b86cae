//! The encoder against outputs of the original DNABERT-2 code (`tests/fixtures/`), on
//! the CPU (Flex) backend. `tests/encoder_parity_wgpu.rs` runs the same check on wgpu.
// Reads model folders from disk: native only.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use burn::tensor::Device;
use common::{PARITY_TOLERANCE, golden_token_ids, max_abs_diff};

#[test]
fn golden_hidden_states_and_mean_pooling_match_the_original_code_on_cpu() {
    common::check_golden_parity(&Device::flex());
}

#[test]
fn a_segment_gives_the_same_vector_alone_and_in_a_padded_batch() {
    let device = Device::flex();
    let (_, encoder) = common::golden_encoder(&device);
    let ids = golden_token_ids();
    // Short segments next to the 849-token one get hundreds of padded positions.
    let batch = encoder.embed_segments_to_vec(&ids).expect("batch embeds");
    for (n, segment) in ids.iter().enumerate() {
        let alone = encoder
            .embed_segments_to_vec(std::slice::from_ref(segment))
            .expect("segment embeds");
        let error = max_abs_diff(&alone[0], &batch[n]);
        assert!(error <= 1e-5, "seq{n}: alone vs in batch differ by {error}");
    }
}

#[test]
fn padding_changes_nothing_even_in_reverse_order() {
    // Regression guard for the mask: the longest segment first, then the shortest.
    let device = Device::flex();
    let (_, encoder) = common::golden_encoder(&device);
    let ids = golden_token_ids();
    let (expected_shape, expected) =
        common::read_npy_f32(&common::golden_dir().join("mean_pooled.npy"));
    let width = expected_shape[1];
    let batch = encoder
        .embed_segments_to_vec(&[ids[0].clone(), ids[3].clone(), ids[0].clone()])
        .expect("batch embeds");
    for (row, n) in [(0, 0), (1, 3), (2, 0)] {
        let error = max_abs_diff(&batch[row], &expected[n * width..(n + 1) * width]);
        assert!(error <= PARITY_TOLERANCE, "row {row}: error {error}");
    }
}
