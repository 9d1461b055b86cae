//! An int8 bundle loads on burn's wgpu backend and gives the same embeddings as on Flex.
//! Skipped, with a message, where no wgpu adapter exists. One test per process: wgpu is
//! initialised once. Native only: in the browser WebGPU is initialised asynchronously.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use burn::tensor::Device;
use texcnn::bundle::{Bundle, cosine};

const INT8_BUNDLE: &[u8] = include_bytes!("fixtures/bundles/golden_tiny_int8.texcnn");
const F32_BUNDLE: &[u8] = include_bytes!("fixtures/bundles/golden_tiny_f32.texcnn");
const TOKEN_IDS_JSON: &str = include_str!("fixtures/dnabert2_golden_tiny/token_ids.json");

/// Same f32 weights on two backends: only the order of float operations differs.
const BACKEND_TOLERANCE: f32 = 1e-4;

#[test]
fn int8_bundle_loads_on_wgpu_and_matches_flex() {
    let device = match texcnn::device::wgpu() {
        Ok(device) => device,
        Err(err) => {
            common::skipped(&err.to_string());
            return;
        }
    };
    let value: serde_json::Value = serde_json::from_str(TOKEN_IDS_JSON).expect("JSON");
    let ids: Vec<Vec<u32>> = serde_json::from_value(value["token_ids"].clone()).expect("ids");
    let embed = |bytes: &[u8], device: &Device| {
        Bundle::from_bytes(bytes)
            .expect("loads")
            .load_encoder(device)
            .expect("builds")
            .embed_segments_to_vec(&ids)
            .expect("embeds")
    };
    let on_wgpu = embed(INT8_BUNDLE, &device);
    let on_flex = embed(INT8_BUNDLE, &Device::flex());
    let reference = embed(F32_BUNDLE, &Device::flex());
    let error = on_wgpu
        .iter()
        .flatten()
        .zip(on_flex.iter().flatten())
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    let min_cosine = on_wgpu
        .iter()
        .zip(&reference)
        .map(|(a, b)| cosine(a, b))
        .fold(1f64, f64::min);
    println!(
        "int8 bundle on wgpu vs Flex: max abs diff {error:.3e}; min cosine vs f32 {min_cosine:.6}"
    );
    assert!(error <= BACKEND_TOLERANCE, "max abs diff {error}");
    assert!(min_cosine >= 0.999, "min cosine {min_cosine}");
}
