//! Export → load from bytes → same segment embeddings, on the golden tiny DNABERT-2 model.
//! The bundles in `tests/fixtures/bundles/` were written by `texcnn import` from
//! `tests/fixtures/dnabert2_golden_tiny/`; native-train's `cli_bundle` test checks they are
//! still exactly what import writes. Runs natively and in wasm32 (Flex, the CPU backend): everything is embedded.

use burn::tensor::Device;
use texcnn::bundle::{Bundle, BundleError, cosine};
use texcnn::encoder::TensorIssue;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const F32_BUNDLE: &[u8] = include_bytes!("fixtures/bundles/golden_tiny_f32.texcnn");
const INT8_BUNDLE: &[u8] = include_bytes!("fixtures/bundles/golden_tiny_int8.texcnn");
const MEAN_POOLED_NPY: &[u8] = include_bytes!("fixtures/dnabert2_golden_tiny/mean_pooled.npy");
const TOKEN_IDS_JSON: &str = include_str!("fixtures/dnabert2_golden_tiny/token_ids.json");

/// Agreement of the f32 bundle with the original code's outputs (as in encoder_parity.rs).
const PARITY_TOLERANCE: f32 = 1e-4;
/// The issue's bar for int8: cosine with the f32 embedding of the same segment.
const MIN_INT8_COSINE: f64 = 0.999;

fn token_ids() -> Vec<Vec<u32>> {
    let value: serde_json::Value = serde_json::from_str(TOKEN_IDS_JSON).expect("JSON");
    serde_json::from_value(value["token_ids"].clone()).expect("lists of ids")
}

/// `mean_pooled.npy`: float32 [6, 64], version 1 header.
fn golden_pooled() -> Vec<Vec<f32>> {
    assert_eq!(&MEAN_POOLED_NPY[..6], b"\x93NUMPY");
    let header_len = u16::from_le_bytes([MEAN_POOLED_NPY[8], MEAN_POOLED_NPY[9]]) as usize;
    let values: Vec<f32> = MEAN_POOLED_NPY[10 + header_len..]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    assert_eq!(values.len(), 6 * 64);
    values.chunks(64).map(<[f32]>::to_vec).collect()
}

fn embed(bundle: &[u8]) -> Vec<Vec<f32>> {
    let bundle = Bundle::from_bytes(bundle).expect("the fixture bundle loads");
    let encoder = bundle
        .load_encoder(&Device::flex())
        .expect("encoder builds");
    encoder.embed_segments_to_vec(&token_ids()).expect("embeds")
}

fn max_abs_diff(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    a.iter()
        .flatten()
        .zip(b.iter().flatten())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn f32_bundle_reproduces_the_original_code() {
    let got = embed(F32_BUNDLE);
    let error = max_abs_diff(&got, &golden_pooled());
    println!("f32 bundle vs original code: max abs error {error:.3e}");
    assert!(error <= PARITY_TOLERANCE, "max abs error {error}");
}

#[test]
fn int8_bundle_keeps_cosine_above_0_999() {
    let reference = embed(F32_BUNDLE);
    let quantized = embed(INT8_BUNDLE);
    let mut cosines: Vec<f64> = reference
        .iter()
        .zip(&quantized)
        .map(|(a, b)| cosine(a, b))
        .collect();
    cosines.sort_by(f64::total_cmp);
    let error = max_abs_diff(&reference, &quantized);
    println!(
        "int8 vs f32 on the 6 golden segments: cosine min {:.7} median {:.7} max {:.7} \
         (1 - min = {:.2e}); max abs diff {error:.3e}",
        cosines[0],
        cosines[3],
        cosines[5],
        1.0 - cosines[0]
    );
    assert!(cosines[0] >= MIN_INT8_COSINE, "cosines {cosines:?}");
}

#[test]
fn shapes_that_disagree_with_the_config_are_listed() {
    let mut bundle = Bundle::from_bytes(INT8_BUNDLE).expect("loads");
    bundle.encoder.config.intermediate_size = 96;
    bundle
        .encoder
        .tensors
        .retain(|t| t.name != "bert.encoder.layer.1.attention.output.dense.bias");
    // Still a well-formed bundle: the container cannot know the shapes are wrong.
    let bytes = bundle.to_bytes().expect("serialises");
    let bundle = Bundle::from_bytes(&bytes).expect("well-formed");
    let err = bundle
        .load_encoder(&Device::flex())
        .expect_err("shapes disagree");
    let BundleError::EncoderWeights(mismatch) = &err else {
        panic!("expected EncoderWeights, got {err}");
    };
    assert!(
        mismatch.0.contains(&TensorIssue::WrongShape {
            name: "bert.encoder.layer.0.mlp.gated_layers.weight".into(),
            expected: vec![192, 64],
            found: vec![256, 64],
        }),
        "{err}"
    );
    assert!(
        mismatch.0.contains(&TensorIssue::Missing {
            name: "bert.encoder.layer.1.attention.output.dense.bias".into(),
            expected: vec![64],
        }),
        "{err}"
    );
}
