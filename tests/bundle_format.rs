//! The bundle container: a round trip keeps everything, and every kind of damage gives its
//! own error, never a panic. Runs natively and in wasm32 (no filesystem: bundles are built
//! in memory).

use serde_json::{Value, json};
use texcnn::bundle::{
    Bundle, BundleError, EncoderPart, Encoding, FeaturePart, HeadKind, HeadPart, LabelSpec,
    ModelCard, NormStats, OutputSpec, StoredTensor, container,
};
use texcnn::encoder::Dnabert2Config;
use texcnn::features::{FeatureColumn, FeatureSource, FeatureSpec, FeatureStore, Transform};
use texcnn::segment::SegmentPlan;
use texcnn::tokenizer::OFFICIAL_TOKENIZER_JSON;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn tiny_config() -> Dnabert2Config {
    Dnabert2Config {
        hidden_size: 8,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        intermediate_size: 16,
        ..Dnabert2Config::dnabert2_117m()
    }
}

fn card() -> ModelCard {
    ModelCard {
        name: "test-predictor".into(),
        description: "a test bundle".into(),
        outputs: vec![OutputSpec {
            name: "xpresso_median".into(),
            label: LabelSpec {
                name: "median expression".into(),
                unit: "RPKM".into(),
                transform: "log10(x + 0.1)".into(),
            },
            meaning: "higher means more mRNA".into(),
            reference: vec![-1.0, 0.0, 1.0],
        }],
        training: None,
        metrics: Vec::new(),
        licence: "test data only".into(),
        created_by: "tests/bundle_format.rs".into(),
    }
}

fn tensor(name: &str, shape: Vec<usize>, encoding: Encoding) -> StoredTensor {
    let n: usize = shape.iter().product();
    let values: Vec<f32> = (0..n)
        .map(|i| ((i * 7919 % 211) as f32 - 105.0) / 300.0)
        .collect();
    StoredTensor::encode(name, shape, &values, encoding).expect("encodes")
}

/// A predictor with a few tensors of every encoding (not a loadable encoder: the container
/// does not look at shapes).
fn sample() -> Bundle {
    Bundle {
        card: card(),
        segment_plan: SegmentPlan::texcnn_xpresso(),
        tokenizer_json: OFFICIAL_TOKENIZER_JSON.to_vec(),
        encoder: EncoderPart {
            config: tiny_config(),
            tensors: vec![
                tensor("bert.a.weight", vec![6, 8], Encoding::Int8 { block: 8 }),
                tensor("bert.b.weight", vec![4, 8], Encoding::Int8 { block: 4 }),
                tensor("bert.c.bias", vec![5], Encoding::F16),
                tensor("bert.d.weight", vec![3, 3], Encoding::F32),
            ],
        },
        head: Some(HeadPart {
            kind: HeadKind::TextCnn,
            version: 1,
            config: json!({"filters": 4}),
            tensors: vec![tensor("conv.weight", vec![4, 8, 3], Encoding::F32)],
        }),
        normalization: vec![NormStats {
            name: "label".into(),
            mean: vec![0.5],
            std: vec![1.25],
        }],
        features: Some(features()),
    }
}

/// A half-life column (floats) and a TF-target column (bits) for three genes.
fn features() -> FeaturePart {
    let column = |name: &str, indicator| FeatureColumn {
        name: name.into(),
        transform: Transform::Identity,
        mean: 0.5,
        std: 2.0,
        indicator,
    };
    let names = ["hl_mean_z".to_string(), "tf_CTCF".to_string()];
    FeaturePart {
        spec: FeatureSpec {
            columns: vec![column("hl_mean_z", Some(0)), column("tf_CTCF", None)],
            indicators: vec!["missing: hl_mean_z".into()],
        },
        sources: vec![FeatureSource {
            file: "mrna_halflife.tsv".into(),
            columns: vec![names[0].clone()],
            licence: "Apache-2.0".into(),
        }],
        store: FeatureStore::from_rows(
            &names,
            [
                ("ENSG00000000003".into(), vec![1.5, 1.0]),
                ("ENSG00000000005".into(), vec![f32::NAN, 0.0]),
                ("ENSG00000000419".into(), vec![-0.25, 1.0]),
            ],
        )
        .expect("sorted, unique genes"),
        head: HeadPart {
            kind: HeadKind::TextCnn,
            version: 1,
            config: json!({"filters": 4, "extra_features": 3}),
            tensors: vec![tensor("dense.weight", vec![4, 3], Encoding::F32)],
        },
    }
}

fn sample_bytes() -> Vec<u8> {
    sample().to_bytes().expect("a valid bundle serialises")
}

/// Manifest (as JSON) and payload of valid bundle bytes.
fn open(bytes: &[u8]) -> (Value, Vec<u8>) {
    let parts = container::read(bytes).expect("valid container");
    (
        serde_json::from_slice(parts.manifest).expect("manifest is JSON"),
        parts.payload.to_vec(),
    )
}

/// Re-frames an edited manifest with a correct checksum, so only the edit is wrong.
fn reseal(manifest: &Value, payload: &[u8]) -> Vec<u8> {
    container::write(&serde_json::to_vec(manifest).expect("JSON"), payload)
}

#[test]
fn round_trip_keeps_everything() {
    let bundle = sample();
    let bytes = bundle.to_bytes().expect("serialises");
    let back = Bundle::from_bytes(&bytes).expect("reads back");
    assert_eq!(back, bundle);
    // Writing is deterministic.
    assert_eq!(back.to_bytes().expect("serialises"), bytes);
}

#[test]
fn encoder_only_bundle_has_no_head() {
    let mut bundle = sample();
    bundle.head = None;
    // A features head is an addition to a DNA-only head, never alone.
    let err = bundle.to_bytes().expect_err("features without a DNA head");
    assert!(matches!(err, BundleError::Features(_)), "{err}");
    bundle.features = None;
    let back = Bundle::from_bytes(&bundle.to_bytes().expect("serialises")).expect("reads");
    assert!(back.head.is_none());
}

#[test]
fn wrong_magic() {
    let mut bytes = sample_bytes();
    bytes[..4].copy_from_slice(b"PK\x03\x04");
    let err = Bundle::from_bytes(&bytes).expect_err("a zip file is not a bundle");
    assert!(
        matches!(&err, BundleError::BadMagic { found } if found.starts_with("504b0304")),
        "{err}"
    );
    assert!(
        err.to_string().contains("not a texcnn model bundle"),
        "{err}"
    );
    let err = Bundle::from_bytes(b"{\"json\": true}").expect_err("JSON is not a bundle");
    assert!(matches!(err, BundleError::BadMagic { .. }), "{err}");
}

#[test]
fn unknown_version() {
    let mut bytes = sample_bytes();
    bytes[8..12].copy_from_slice(&2u32.to_le_bytes());
    let err = Bundle::from_bytes(&bytes).expect_err("version 2 is unknown");
    assert!(
        matches!(
            err,
            BundleError::UnsupportedVersion {
                found: 2,
                supported: 1
            }
        ),
        "{err}"
    );
}

#[test]
fn truncated() {
    let bytes = sample_bytes();
    let len = bytes.len() as u64;
    for cut in [1, 32, bytes.len() / 2, bytes.len() - 40] {
        let err = Bundle::from_bytes(&bytes[..bytes.len() - cut]).expect_err("truncated");
        match err {
            BundleError::Truncated { expected, found } => {
                assert_eq!((expected, found), (len, len - cut as u64));
            }
            other => panic!("cut {cut}: expected Truncated, got {other}"),
        }
    }
    let err = Bundle::from_bytes(&bytes[..10]).expect_err("header only");
    assert!(matches!(err, BundleError::Truncated { .. }), "{err}");
    let err = Bundle::from_bytes(&[]).expect_err("empty");
    assert!(
        matches!(err, BundleError::Truncated { found: 0, .. }),
        "{err}"
    );
}

#[test]
fn trailing_bytes() {
    let mut bytes = sample_bytes();
    bytes.push(0);
    let err = Bundle::from_bytes(&bytes).expect_err("one byte too many");
    assert!(matches!(err, BundleError::TrailingBytes { .. }), "{err}");
}

#[test]
fn checksum_mismatch() {
    let bytes = sample_bytes();
    // One bit flipped in the manifest, in the payload, and in the checksum itself.
    for at in [40, bytes.len() / 2, bytes.len() - 1] {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x10;
        let err = Bundle::from_bytes(&damaged).expect_err("damaged");
        assert!(
            matches!(err, BundleError::ChecksumMismatch { .. }),
            "byte {at}: {err}"
        );
    }
}

#[test]
fn manifest_that_is_not_json() {
    let (_, payload) = open(&sample_bytes());
    let bytes = container::write(b"{not json", &payload);
    let err = Bundle::from_bytes(&bytes).expect_err("bad manifest");
    assert!(matches!(err, BundleError::Manifest(_)), "{err}");
}

#[test]
fn bundled_features_look_genes_up_and_damage_is_named() {
    let back = Bundle::from_bytes(&sample_bytes()).expect("reads");
    let store = &back.features.as_ref().expect("features").store;
    assert_eq!(
        store.raw("ENSG00000000419.14|DPM1"),
        Some(vec![Some(-0.25), Some(1.0)])
    );
    assert_eq!(store.raw("ENSG00000000005"), Some(vec![None, Some(0.0)]));
    assert_eq!(store.raw("ENSG00000000457"), None);

    // A bundle without features reads as before, and its manifest has no "features" key.
    let mut plain = sample();
    plain.features = None;
    let (manifest, _) = open(&plain.to_bytes().expect("serialises"));
    assert!(manifest.get("features").is_none());

    let damage = |edit: &dyn Fn(&mut Value)| {
        let (mut manifest, payload) = open(&sample_bytes());
        edit(&mut manifest["features"]);
        Bundle::from_bytes(&reseal(&manifest, &payload)).expect_err("damaged features")
    };
    let err = damage(&|f| f["columns"][1]["encoding"] = json!("f16"));
    assert!(
        err.to_string().contains("unknown encoding \"f16\""),
        "{err}"
    );
    let err = damage(&|f| f["columns"][0]["len"] = json!(8));
    assert!(
        err.to_string()
            .contains("column hl_mean_z: 8 bytes, expected 12 for 3 genes"),
        "{err}"
    );
    let err = damage(&|f| f["spec"]["columns"][1]["name"] = json!("tf_YY1"));
    assert!(err.to_string().contains("tf_YY1"), "{err}");
    let err = damage(&|f| f["spec"]["columns"][0]["std"] = json!(0.0));
    assert!(matches!(err, BundleError::Features(_)), "{err}");
    let err = damage(&|f| f["genes"]["len"] = json!(9999));
    assert!(
        matches!(&err, BundleError::SectionOutOfRange { section, .. } if section == "feature genes"),
        "{err}"
    );
}

#[test]
fn section_outside_the_payload() {
    let (mut manifest, payload) = open(&sample_bytes());
    manifest["encoder"]["tensors"][1]["offset"] = json!(payload.len() as u64 - 4);
    let err = Bundle::from_bytes(&reseal(&manifest, &payload)).expect_err("out of range");
    assert!(
        matches!(&err, BundleError::SectionOutOfRange { section, .. } if section == "bert.b.weight"),
        "{err}"
    );
    let (mut manifest, payload) = open(&sample_bytes());
    manifest["tokenizer"]["len"] = json!(u64::MAX);
    let err = Bundle::from_bytes(&reseal(&manifest, &payload)).expect_err("overflow");
    assert!(
        matches!(&err, BundleError::SectionOutOfRange { section, .. } if section == "tokenizer"),
        "{err}"
    );
}

#[test]
fn tensor_bytes_disagree_with_its_shape() {
    let (mut manifest, payload) = open(&sample_bytes());
    manifest["encoder"]["tensors"][3]["shape"] = json!([3, 4]);
    let err = Bundle::from_bytes(&reseal(&manifest, &payload)).expect_err("wrong shape");
    match err {
        BundleError::Tensor { tensor, reason } => {
            assert_eq!(tensor, "bert.d.weight");
            assert!(reason.contains("needs 48 bytes"), "{reason}");
        }
        other => panic!("expected Tensor, got {other}"),
    }
    let (mut manifest, payload) = open(&sample_bytes());
    manifest["encoder"]["tensors"][0]["encoding"] = json!({"kind": "int8", "block": 5});
    let err = Bundle::from_bytes(&reseal(&manifest, &payload)).expect_err("bad block");
    assert!(
        matches!(&err, BundleError::Tensor { reason, .. } if reason.contains("does not divide")),
        "{err}"
    );
}

#[test]
fn duplicate_tensor() {
    let (mut manifest, payload) = open(&sample_bytes());
    manifest["encoder"]["tensors"][1]["name"] = json!("bert.a.weight");
    let err = Bundle::from_bytes(&reseal(&manifest, &payload)).expect_err("duplicate");
    assert!(
        matches!(&err, BundleError::DuplicateTensor(name) if name == "bert.a.weight"),
        "{err}"
    );
}

#[test]
fn unknown_head_kind_or_version() {
    let (mut manifest, payload) = open(&sample_bytes());
    manifest["head"]["version"] = json!(7);
    let err = Bundle::from_bytes(&reseal(&manifest, &payload)).expect_err("head v7");
    assert!(
        matches!(&err, BundleError::UnsupportedHead { version: 7, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("text_cnn version 1"), "{err}");
    manifest["head"]["kind"] = json!("transformer");
    let err = Bundle::from_bytes(&reseal(&manifest, &payload)).expect_err("unknown kind");
    assert!(matches!(err, BundleError::UnsupportedHead { .. }), "{err}");
}

#[test]
fn vocabulary_disagrees_with_tokenizer() {
    let (mut manifest, payload) = open(&sample_bytes());
    manifest["encoder"]["config"]["vocab_size"] = json!(4097);
    let err = Bundle::from_bytes(&reseal(&manifest, &payload)).expect_err("vocab");
    assert!(matches!(err, BundleError::EncoderConfig(_)), "{err}");
}

#[test]
fn invalid_segment_plan_and_normalisation() {
    let (mut manifest, payload) = open(&sample_bytes());
    manifest["segment_plan"]["stride"] = json!(0);
    let err = Bundle::from_bytes(&reseal(&manifest, &payload)).expect_err("stride 0");
    assert!(matches!(err, BundleError::SegmentPlan(_)), "{err}");
    let (mut manifest, payload) = open(&sample_bytes());
    manifest["normalization"][0]["std"] = json!([0.0]);
    let err = Bundle::from_bytes(&reseal(&manifest, &payload)).expect_err("std 0");
    assert!(matches!(err, BundleError::Normalization { .. }), "{err}");
}

#[test]
fn invalid_encoder_config() {
    let (mut manifest, payload) = open(&sample_bytes());
    manifest["encoder"]["config"]["num_attention_heads"] = json!(3);
    let err = Bundle::from_bytes(&reseal(&manifest, &payload)).expect_err("8 % 3 != 0");
    assert!(
        matches!(&err, BundleError::EncoderConfig(m) if m.contains("num_attention_heads 3")),
        "{err}"
    );
    let (mut manifest, payload) = open(&sample_bytes());
    manifest["encoder"]["architecture"] = json!("bert");
    let err = Bundle::from_bytes(&reseal(&manifest, &payload)).expect_err("architecture");
    assert!(matches!(err, BundleError::EncoderConfig(_)), "{err}");
}
