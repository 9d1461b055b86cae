//! `texcnn fit`'s pieces against the shipped prediction pipeline: a head trained on cached
//! segment embeddings, written into a predictor bundle and loaded back by
//! `texcnn::predict::Predictor`, must predict exactly what training predicted for the same
//! genes (so the bundle's window, segments, tokenizer, int8 weights and both normalisations
//! are the ones the head was trained with). Also: the cache gives back what the encoder gave.

use std::path::PathBuf;

use burn::tensor::Device;
use texcnn::bundle::{Bundle, LabelSpec, ModelCard, OutputSpec, Precision};
use texcnn::head::TextCnnHeadConfig;
use texcnn::pipeline::SegmentEmbedder;
use texcnn::predict::Predictor;
use texcnn::segment::{SegmentPlan, WindowPolicy};
use texcnn::tokenizer::Dnabert2Tokenizer;
use texcnn_native::train::embed_cache::EmbeddingCache;
use texcnn_native::train::fit::{
    BundleEmbedder, embed_all, embedding_norm, encoder_bundle_from_folder, normalise,
    predictor_bundle, quantiles, train_head,
};
use texcnn_native::train::trainer::{TrainData, TrainerConfig};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

fn genes() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(fixtures().join("promoters_excerpt.fa")).unwrap();
    texcnn::sequence::parse_text(&text)
        .records
        .into_iter()
        .map(|r| {
            // Lengths vary (some shorter than the window, most longer): both window cases.
            let keep = 300 + (r.residues.len() % 500);
            (r.id, r.residues[..keep.min(r.residues.len())].to_string())
        })
        .collect()
}

fn gc(s: &str) -> f64 {
    s.bytes().filter(|b| matches!(b, b'G' | b'C')).count() as f64 / s.len() as f64
}

#[test]
fn a_fitted_bundle_predicts_what_training_predicted() {
    let plan = SegmentPlan::new(200, 100)
        .unwrap()
        .with_window(600, WindowPolicy::PadOrTrim)
        .unwrap();
    let encoder_bundle = encoder_bundle_from_folder(
        &fixtures().join("dnabert2_golden_tiny"),
        Precision::Int8,
        plan,
    )
    .unwrap();
    let device = Device::flex();
    let embedder = BundleEmbedder::new(&encoder_bundle, &device).unwrap();
    let genes = genes();
    let refs: Vec<(&str, &str)> = genes
        .iter()
        .map(|(i, s)| (i.as_str(), s.as_str()))
        .collect();

    let root = std::env::temp_dir().join(format!("texcnn-fit-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let cache = EmbeddingCache::open(&root, &embedder.cache_key()).unwrap();
    let mut cached_first = 0;
    let first = embed_all(&embedder, &refs, Some(&cache), 4, |_, c| cached_first = c).unwrap();
    let mut cached_second = 0;
    let second = embed_all(&embedder, &refs, Some(&cache), 4, |_, c| cached_second = c).unwrap();
    assert_eq!(cached_first, 0);
    assert_eq!(cached_second, genes.len());
    assert_eq!(first, second);
    // 600 bp window, 200 bp segments every 100 bp: 5 segments.
    assert!(first.iter().all(|e| e.segments == 5));
    // Another plan is another cache key.
    let other = BundleEmbedder {
        embedder: SegmentEmbedder {
            plan: SegmentPlan::new(300, 100).unwrap(),
            tokenizer: Dnabert2Tokenizer::official().unwrap(),
            encoder: encoder_bundle.load_encoder(&device).unwrap(),
        },
        source: &encoder_bundle,
    };
    assert_ne!(other.cache_key(), embedder.cache_key());

    let labels: Vec<f64> = genes.iter().map(|(_, s)| 10.0 * gc(s)).collect();
    let train: Vec<usize> = (0..28).collect();
    let valid: Vec<usize> = (28..34).collect();
    let all: Vec<usize> = (0..genes.len()).collect();
    let norm = embedding_norm(&first, &train);
    let normalised = normalise(&first, &norm);
    let head_config = TextCnnHeadConfig::new(embedder.embedder.hidden_size())
        .with_filters(8)
        .with_dense(vec![8]);
    let run = train_head(
        &head_config,
        &normalised,
        None,
        5,
        TrainData {
            train: &train,
            valid: &valid,
            labels: &labels,
        },
        &all,
        &TrainerConfig {
            max_epochs: 5,
            batch_size: 8,
            learning_rate: 1e-2,
            patience: 5,
            seed: 7,
        },
        &device,
        |_| {},
    )
    .unwrap();
    let card = ModelCard {
        name: "fit test".into(),
        description: "golden tiny encoder, GC-content label".into(),
        training: None,
        outputs: vec![OutputSpec {
            name: "gc".into(),
            label: LabelSpec {
                name: "GC content × 10".into(),
                unit: "1".into(),
                transform: "none".into(),
            },
            meaning: String::new(),
            reference: quantiles(&labels, 11),
        }],
        metrics: Vec::new(),
        licence: "test".into(),
        created_by: "native-train/tests/fit_pipeline.rs".into(),
    };
    let bundle = predictor_bundle(&encoder_bundle, plan, &head_config, &run, norm, card).unwrap();
    let bytes = bundle.to_bytes().unwrap();
    let predictor = Predictor::from_bundle(&Bundle::from_bytes(&bytes).unwrap(), &device).unwrap();
    for (k, (id, seq)) in genes.iter().enumerate() {
        let got = predictor.predict(seq, 3, false).unwrap().outputs[0].value;
        let want = run.predictions[k];
        assert!(
            (f64::from(got) - want).abs() < 1e-4,
            "{id}: bundle {got} vs training {want}"
        );
    }
    let _ = std::fs::remove_dir_all(&root);
}
