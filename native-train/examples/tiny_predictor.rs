//! Writes `tests/fixtures/bundles/tiny_predictor.texcnn`: an UNTRAINED predictor bundle for
//! tests (the page's end-to-end test runs it on WebGPU and on the CPU).
//!
//! It is the golden tiny encoder (`tests/fixtures/bundles/golden_tiny_f32.texcnn`, imported
//! from `tests/fixtures/dnabert2_golden_tiny/`) plus a text-CNN head whose weights are drawn
//! from SplitMix64 (seed 7), uniform in ±1/√fan-in. Its label statistics map the raw outputs
//! for the 40 promoters of `tests/fixtures/promoters_excerpt.fa` to mean 0.5 and standard
//! deviation 0.75 (so predictions of different sequences differ clearly), and the percentile
//! reference is the model's own predictions for the same promoters, rounded to 3 decimals. Nothing here is trained: the numbers mean
//! nothing, and the model card says so.
//!
//! `cargo run -p texcnn-native --example tiny_predictor -- tests/fixtures/bundles/tiny_predictor.texcnn`

use std::path::PathBuf;

use burn::tensor::Device;
use texcnn::bundle::{Bundle, LabelSpec, ModelCard, NormStats, OutputSpec};
use texcnn::head::TextCnnHeadConfig;
use texcnn::predict::{LABEL_NORM, Predictor};
use texcnn::segment::SegmentPlan;
use texcnn::sequence::parse_text;
use texcnn_native::train::untrained::attach_random_head;

const ENCODER: &[u8] = include_bytes!("../../tests/fixtures/bundles/golden_tiny_f32.texcnn");
const PROMOTERS: &str = include_str!("../../tests/fixtures/promoters_excerpt.fa");
const SEED: u64 = 7;

fn build() -> anyhow::Result<Vec<u8>> {
    let device = Device::flex();
    let mut bundle = Bundle::from_bytes(ENCODER)?;
    let head_config = TextCnnHeadConfig::new(bundle.encoder.config.hidden_size)
        .with_kernel_sizes(vec![1, 3, 5])
        .with_filters(8)
        .with_dense(vec![16])
        .with_dropout(0.0)
        .with_outputs(1);
    attach_random_head(&mut bundle, &head_config, SEED)?;
    bundle.segment_plan = SegmentPlan::new(1_000, 500)?;
    bundle.card = ModelCard {
        name: "tiny-untrained-test-predictor".into(),
        description: "UNTRAINED TEST MODEL: a tiny random DNABERT-2-shaped encoder (hidden 64, \
                      2 layers) and a randomly initialised text-CNN head. Its predictions mean \
                      nothing; it exists to test the page and the command-line tool."
            .into(),
        training: None,
        outputs: vec![OutputSpec {
            name: "xpresso_median".into(),
            label: LabelSpec {
                name: "median expression across tissues (Xpresso), NOT learned by this model"
                    .into(),
                unit: "log10(RPKM + 0.1)".into(),
                transform: "log10(x + 0.1)".into(),
            },
            meaning: "untrained test model: the value is a fixed random function of the \
                      sequence, not an expression level"
                .into(),
            reference: Vec::new(),
        }],
        metrics: Vec::new(),
        licence: "test fixture: random weights (no licence needed); the DNABERT-2 tokenizer is \
                  Apache-2.0"
            .into(),
        created_by: format!(
            "texcnn {} native-train/examples/tiny_predictor.rs (seed {SEED})",
            env!("CARGO_PKG_VERSION")
        ),
    };

    // Label statistics: the raw outputs on the excerpt's promoters mapped to mean 0.5, std
    // 0.75 (a random head's raw outputs barely vary; this spreads them like real labels).
    let promoters = parse_text(PROMOTERS).records;
    let outputs = |bundle: &Bundle| -> anyhow::Result<Vec<f64>> {
        let predictor = Predictor::from_bundle(bundle, &device)?;
        promoters
            .iter()
            .map(|r| {
                Ok(f64::from(
                    predictor.predict(&r.residues, 8, false)?.outputs[0].value,
                ))
            })
            .collect()
    };
    let raw = outputs(&bundle)?;
    let n = raw.len() as f64;
    let mean = raw.iter().sum::<f64>() / n;
    let sd = (raw.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    bundle.normalization = vec![NormStats {
        name: LABEL_NORM.into(),
        mean: vec![(0.5 - 0.75 * mean / sd) as f32],
        std: vec![(0.75 / sd) as f32],
    }];
    // The percentile reference: this model's own predictions for the same promoters.
    let mut reference: Vec<f32> = outputs(&bundle)?
        .into_iter()
        .map(|v| ((v * 1000.0).round() / 1000.0) as f32)
        .collect();
    reference.sort_by(f32::total_cmp);
    bundle.card.outputs[0].reference = reference;
    Ok(bundle.to_bytes()?)
}

fn main() -> anyhow::Result<()> {
    let out: PathBuf = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .ok_or_else(|| anyhow::anyhow!("usage: tiny_predictor OUT.texcnn"))?;
    let bytes = build()?;
    std::fs::write(&out, &bytes)?;
    eprintln!("wrote {} ({} bytes)", out.display(), bytes.len());
    Ok(())
}
