//! Full-size DNABERT-2-117M bundles from a random model in the official layout
//! (`config.json` + `model.safetensors`, `bert.*` keys; weights N(0, 0.02) as the Hugging
//! Face initialiser draws them, LayerNorm weights 1, biases 0): bundle sizes for f32, f16
//! and int8, and the cosine between int8 and f32 segment embeddings for several storage
//! plans. Minutes on 2 cores, so ignored by default:
//!
//! ```text
//! cargo test -p texcnn-native --test bundle_full_size -- --ignored --nocapture
//! ```

use std::time::Instant;

use burn::tensor::Device;
use texcnn::bundle::{Bundle, Codec, ModelCard, Precision, QuantPlan, cosine};
use texcnn::encoder::checkpoint::{Checkpoint, CheckpointTensor};
use texcnn::encoder::{Dnabert2Config, Dnabert2Encoder};
use texcnn::segment::SegmentPlan;
use texcnn_native::files::import::import_hf_folder;

const TOKEN_IDS_JSON: &str =
    include_str!("../../tests/fixtures/dnabert2_golden_tiny/token_ids.json");
/// The issue's limit for an int8 DNABERT-2-117M bundle.
const MAX_INT8_BYTES: usize = 125_000_000;

/// xorshift64* and Box-Muller: a reproducible N(0, 1) stream without a dependency.
struct Normal(u64);

impl Normal {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        ((self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn sample(&mut self) -> f32 {
        let (u, v) = (self.uniform(), self.uniform());
        ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
    }
}

fn random_official_folder(config: &Dnabert2Config) -> std::path::PathBuf {
    // Names and shapes from the encoder itself, values redrawn.
    let layout = Dnabert2Encoder::init(config, &Device::flex())
        .to_checkpoint()
        .expect("reads back");
    let mut rng = Normal(0x5eed_1234_abcd_0001);
    let mut checkpoint = Checkpoint::default();
    for (name, tensor) in &layout.tensors {
        let n: usize = tensor.shape.iter().product();
        let values: Vec<f32> =
            if name.contains("LayerNorm.weight") || name.contains("layernorm.weight") {
                vec![1.0; n]
            } else if name.ends_with(".bias") {
                vec![0.0; n]
            } else {
                (0..n).map(|_| 0.02 * rng.sample()).collect()
            };
        checkpoint.tensors.insert(
            name.clone(),
            CheckpointTensor::from_f32(tensor.shape.clone(), values),
        );
    }
    let dir = std::env::temp_dir().join(format!("texcnn-{}-full-size", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("config.json"), config.to_json_string()).expect("config");
    std::fs::write(
        dir.join("model.safetensors"),
        checkpoint.to_safetensors().expect("serialises"),
    )
    .expect("weights");
    dir
}

fn distribution(mut values: Vec<f64>) -> String {
    values.sort_by(f64::total_cmp);
    format!(
        "min {:.6} median {:.6} max {:.6} (1 − min = {:.2e}, n = {})",
        values[0],
        values[values.len() / 2],
        values[values.len() - 1],
        1.0 - values[0],
        values.len()
    )
}

#[test]
#[ignore = "full-size DNABERT-2-117M: minutes on 2 cores; see the module doc"]
fn full_size_bundle_sizes_and_int8_cosine() {
    let config = Dnabert2Config::dnabert2_117m();
    let dir = random_official_folder(&config);
    let card = || ModelCard::imported_encoder("dnabert2-117m-random", "a random model");
    let ids: Vec<Vec<u32>> = {
        let value: serde_json::Value = serde_json::from_str(TOKEN_IDS_JSON).expect("JSON");
        serde_json::from_value(value["token_ids"].clone()).expect("ids")
    };
    let embed = |bytes: &[u8]| {
        let start = Instant::now();
        let bundle = Bundle::from_bytes(bytes).expect("loads");
        let encoder = bundle.load_encoder(&Device::flex()).expect("builds");
        let loaded = start.elapsed();
        let start = Instant::now();
        let out = encoder.embed_segments_to_vec(&ids).expect("embeds");
        println!(
            "    load {:.1} s, embed {} segments {:.1} s",
            loaded.as_secs_f64(),
            ids.len(),
            start.elapsed().as_secs_f64()
        );
        out
    };

    let mut reference = None;
    let plans = [
        ("f32", Precision::F32.plan()),
        ("f16", Precision::F16.plan()),
        (
            "int8 (default: per-row linear + per-row embeddings)",
            Precision::Int8.plan(),
        ),
        (
            "int8 per-row linear, f16 embeddings",
            QuantPlan {
                word_embeddings: Codec::F16,
                ..QuantPlan::int8()
            },
        ),
        (
            "int8 per-block-32 linear + embeddings",
            QuantPlan {
                linear: Codec::Int8Block(32),
                word_embeddings: Codec::Int8Block(32),
                other: Codec::F32,
            },
        ),
    ];
    for (label, plan) in plans {
        let bundle =
            import_hf_folder(&dir, card(), SegmentPlan::texcnn_xpresso(), &plan).expect("imports");
        let bytes = bundle.to_bytes().expect("serialises");
        drop(bundle);
        println!(
            "{label}: {} bytes ({:.1} MB)",
            bytes.len(),
            bytes.len() as f64 / 1e6
        );
        let embedded = embed(&bytes);
        match &reference {
            None => reference = Some(embedded),
            Some(reference) => {
                let cosines: Vec<f64> = reference
                    .iter()
                    .zip(&embedded)
                    .map(|(a, b)| cosine(a, b))
                    .collect();
                println!("    cosine with f32: {}", distribution(cosines.clone()));
                if plan == QuantPlan::int8() {
                    assert!(
                        bytes.len() <= MAX_INT8_BYTES,
                        "int8 bundle {} bytes",
                        bytes.len()
                    );
                    assert!(cosines.iter().all(|&c| c >= 0.999), "cosines {cosines:?}");
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
