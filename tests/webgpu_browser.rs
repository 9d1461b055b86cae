//! In real headless Chromium (WebGPU on SwiftShader, `--enable-unsafe-webgpu`, see
//! `webdriver.json`): an int8 bundle loads on WebGPU and gives the same segment embeddings
//! as the same bundle on the CPU backend, and the golden model's pooled embeddings within
//! the int8 tolerance. Run by `tests/run_all.sh` with Debian's chromium and chromedriver.
#![cfg(target_arch = "wasm32")]

use burn::tensor::{Device, Tensor};
use texcnn::bundle::Bundle;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const INT8_BUNDLE: &[u8] = include_bytes!("fixtures/bundles/golden_tiny_int8.texcnn");
const TOKEN_IDS_JSON: &str = include_str!("fixtures/dnabert2_golden_tiny/token_ids.json");
const MEAN_POOLED_TSV: &str = include_str!("fixtures/dnabert2_golden_tiny/mean_pooled.tsv");

thread_local! {
    static GPU: std::cell::RefCell<Option<Device>> = const { std::cell::RefCell::new(None) };
}

/// WebGPU is initialised once per page: the tests share one device.
async fn webgpu() -> Device {
    if let Some(device) = GPU.with(|g| g.borrow().clone()) {
        return device;
    }
    // cubecl's WebGPU compiler needs the static constructors, which wasm-bindgen-test's
    // runner does not run (see `texcnn::web::run_static_constructors`).
    texcnn::web::run_static_constructors();
    let device = Device::wgpu_options()
        .init_async()
        .await
        .expect("headless Chromium with --enable-unsafe-webgpu gives a WebGPU adapter");
    GPU.with(|g| *g.borrow_mut() = Some(device.clone()));
    device
}

async fn host(t: Tensor<2>) -> Vec<f32> {
    t.into_data_async()
        .await
        .expect("read back")
        .try_into_vec::<f32>()
        .expect("f32")
}

#[wasm_bindgen_test]
async fn int8_bundle_runs_on_webgpu_like_on_the_cpu() {
    let gpu = webgpu().await;
    let bundle = Bundle::from_bytes(INT8_BUNDLE).expect("bundle loads");
    let on_gpu = bundle.load_encoder(&gpu).expect("encoder on WebGPU");
    let on_cpu = bundle
        .load_encoder(&Device::flex())
        .expect("encoder on Flex");

    let value: serde_json::Value = serde_json::from_str(TOKEN_IDS_JSON).expect("json");
    let all: Vec<Vec<u32>> = serde_json::from_value(value["token_ids"].clone()).expect("ids");
    // The three shortest sequences: SwiftShader is slow.
    let ids: Vec<Vec<u32>> = all[..3].to_vec();
    let a = host(on_gpu.embed_segments(&ids).expect("gpu")).await;
    let b = host(on_cpu.embed_segments(&ids).expect("cpu")).await;
    assert_eq!(a.len(), 3 * 64);
    let diff = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    assert!(diff <= 1e-4, "WebGPU vs CPU max abs diff {diff}");

    // Against the original code's fp32 outputs, within what int8 storage costs.
    for (row, line) in MEAN_POOLED_TSV.lines().take(3).enumerate() {
        let want: Vec<f32> = line
            .split('\t')
            .skip(1)
            .map(|v| v.parse().expect("number"))
            .collect();
        let got = &a[row * 64..(row + 1) * 64];
        let dot: f32 = got.iter().zip(&want).map(|(x, y)| x * y).sum();
        let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        let cosine = dot / (norm(got) * norm(&want));
        assert!(
            cosine >= 0.999,
            "sequence {row}: cosine {cosine} with the original fp32 output"
        );
    }
}

/// The page's path: a predictor whose encoder runs on WebGPU (embeddings read back
/// asynchronously, head on the CPU) predicts what the same bundle predicts on the CPU.
#[wasm_bindgen_test]
async fn predictor_on_webgpu_matches_the_cpu() {
    use texcnn::bundle::{Bundle, LabelSpec, OutputSpec};
    use texcnn::head::TextCnnHeadConfig;
    use texcnn::predict::{Predictor, head_part};
    use texcnn::segment::SegmentPlan;

    let gpu = webgpu().await;
    let mut bundle = Bundle::from_bytes(INT8_BUNDLE).expect("bundle loads");
    let head_config = TextCnnHeadConfig::new(64)
        .with_filters(8)
        .with_dense(vec![8]);
    let head = head_config.init(&Device::flex()).expect("head");
    bundle.head = Some(head_part(&head_config, &head).expect("head part"));
    bundle.segment_plan = SegmentPlan::new(200, 100).expect("plan");
    bundle.card.outputs = vec![OutputSpec {
        name: "test".into(),
        label: LabelSpec {
            name: "test".into(),
            unit: "u".into(),
            transform: "none".into(),
        },
        meaning: String::new(),
        reference: Vec::new(),
    }];
    let bytes = bundle.to_bytes().expect("writes");
    let bundle = Bundle::from_bytes(&bytes).expect("reads");
    let dna = "ACGTAGCATCGGATCTATCTATCGACACTTGGTTATCGATCTACGAGCATCTCGTTAGC".repeat(8);

    let on_cpu = Predictor::from_bundle(&bundle, &Device::flex()).expect("cpu predictor");
    let want = on_cpu.predict(&dna, 4, true).expect("cpu prediction");

    let on_gpu = Predictor::from_bundle(&bundle, &gpu).expect("gpu predictor");
    let prepared = on_gpu.prepare(&dna, None).expect("prepared");
    let mut rows = Vec::new();
    let ids = prepared.token_ids();
    for batch in on_gpu.embedder.batches(&ids, 4) {
        let values = host(batch.expect("embed")).await;
        rows.extend(values.chunks(64).map(<[f32]>::to_vec));
    }
    let got = on_gpu
        .finish(&rows, &prepared, true, None)
        .expect("gpu prediction");
    let diff = (got.outputs[0].value - want.outputs[0].value).abs();
    assert!(diff <= 1e-4, "prediction differs by {diff}");
    assert_eq!(got.segments.len(), want.segments.len());
    for (g, w) in got.segments.iter().zip(&want.segments) {
        assert!((g.delta[0] - w.delta[0]).abs() <= 1e-4);
    }
}
