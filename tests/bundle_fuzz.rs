//! Property test of the bundle loader: arbitrary bytes, and valid bundles with bytes flipped,
//! cut, inserted, or edited and re-sealed with a correct checksum, give `Ok` or an error,
//! never a panic. Native only (proptest).
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use serde_json::json;
use texcnn::bundle::{
    Bundle, BundleError, EncoderPart, Encoding, HeadKind, HeadPart, ModelCard, StoredTensor,
    container,
};
use texcnn::encoder::Dnabert2Config;
use texcnn::segment::SegmentPlan;
use texcnn::tokenizer::OFFICIAL_TOKENIZER_JSON;

fn tiny_config() -> Dnabert2Config {
    Dnabert2Config {
        hidden_size: 8,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        intermediate_size: 16,
        ..Dnabert2Config::dnabert2_117m()
    }
}

fn valid_bundle() -> Vec<u8> {
    let values: Vec<f32> = (0..96).map(|i| (i as f32 - 48.0) / 50.0).collect();
    let t = |name: &str, shape: Vec<usize>, encoding| {
        let n: usize = shape.iter().product();
        StoredTensor::encode(name, shape, &values[..n], encoding).expect("encodes")
    };
    Bundle {
        card: ModelCard {
            name: "fuzz".into(),
            description: "fuzz target".into(),
            outputs: Vec::new(),
            training: None,
            metrics: Vec::new(),
            licence: "none".into(),
            created_by: String::new(),
        },
        segment_plan: SegmentPlan::texcnn_xpresso(),
        tokenizer_json: OFFICIAL_TOKENIZER_JSON.to_vec(),
        encoder: EncoderPart {
            config: tiny_config(),
            tensors: vec![
                t("bert.q.weight", vec![4, 16], Encoding::Int8 { block: 16 }),
                t("bert.h.weight", vec![8, 4], Encoding::F16),
                t("bert.f.bias", vec![7], Encoding::F32),
            ],
        },
        head: Some(HeadPart {
            kind: HeadKind::TextCnn,
            version: 1,
            config: json!({}),
            tensors: vec![t("conv.weight", vec![2, 3, 4], Encoding::F32)],
        }),
        normalization: Vec::new(),
        features: None,
    }
    .to_bytes()
    .expect("valid")
}

/// Loads and, when that succeeds, decodes every tensor: neither may panic.
fn load(bytes: &[u8]) -> Result<(), BundleError> {
    let bundle = Bundle::from_bytes(bytes)?;
    for tensor in bundle
        .encoder
        .tensors
        .iter()
        .chain(bundle.head.iter().flat_map(|h| h.tensors.iter()))
    {
        tensor.to_f32()?;
    }
    Ok(())
}

#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Cut(usize),
    Insert(usize, Vec<u8>),
}

fn apply(bytes: &mut Vec<u8>, edit: &Edit) {
    match edit {
        Edit::Flip(at, mask) => {
            let at = at % bytes.len();
            bytes[at] ^= mask | 1;
        }
        Edit::Cut(at) => bytes.truncate(at % bytes.len()),
        Edit::Insert(at, data) => {
            let at = at % (bytes.len() + 1);
            bytes.splice(at..at, data.iter().copied());
        }
    }
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(a, m)| Edit::Flip(a, m)),
        any::<usize>().prop_map(Edit::Cut),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..16)
        )
            .prop_map(|(a, d)| Edit::Insert(a, d)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        prop_assert!(load(&bytes).is_err());
    }

    #[test]
    fn arbitrary_bytes_after_the_magic_never_panic(
        version in prop_oneof![Just(1u32), any::<u32>()],
        rest in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let mut bytes = b"TXCNNBDL".to_vec();
        bytes.extend_from_slice(&version.to_le_bytes());
        bytes.extend_from_slice(&rest);
        prop_assert!(load(&bytes).is_err());
    }

    #[test]
    fn damaged_bundles_are_rejected(edits in proptest::collection::vec(edit(), 1..4)) {
        let original = valid_bundle();
        let mut bytes = original.clone();
        for e in &edits {
            apply(&mut bytes, e);
        }
        // Without a new checksum, any change is caught by the framing or the checksum.
        prop_assert_eq!(load(&bytes).is_ok(), bytes == original);
    }
}

proptest! {
    // Each case parses the 168 kB tokenizer: fewer cases keep this test quick.
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn damaged_and_resealed_bundles_never_panic(edits in proptest::collection::vec(edit(), 1..4)) {
        // Edits behind the header, re-sealed: the deeper checks (manifest, sections, tensors,
        // tokenizer) see the damage instead of the checksum.
        let original = valid_bundle();
        let parts = container::read(&original).expect("valid");
        let mut body = parts.manifest.to_vec();
        let manifest_len = body.len();
        body.extend_from_slice(parts.payload);
        for e in &edits {
            apply(&mut body, e);
        }
        let split = manifest_len.min(body.len());
        let resealed = container::write(&body[..split], &body[split..]);
        let _ = load(&resealed);
    }
}

/// JSON pointers to every leaf of `value`.
fn leaves(value: &serde_json::Value, at: String, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                leaves(v, format!("{at}/{k}"), out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                leaves(v, format!("{at}/{i}"), out);
            }
        }
        _ => out.push(at),
    }
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        any::<u64>().prop_map(|v| json!(v)),
        (0u64..1_000_000).prop_map(|v| json!(v)),
        any::<i64>().prop_map(|v| json!(v)),
        any::<f64>().prop_map(|v| json!(v)),
        Just(json!(0)),
        Just(json!(null)),
        Just(json!("")),
        Just(json!([])),
        Just(json!({"kind": "int8", "block": 0})),
        Just(json!([0, 0])),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn manifest_fields_set_to_anything_never_panic(
        picks in proptest::collection::vec((any::<prop::sample::Index>(), json_value()), 1..4),
    ) {
        // Any field of the manifest (offsets, lengths, shapes, encodings, config sizes,
        // versions) replaced by any JSON value, re-sealed with a correct checksum.
        let original = valid_bundle();
        let parts = container::read(&original).expect("valid");
        let mut manifest: serde_json::Value =
            serde_json::from_slice(parts.manifest).expect("JSON");
        let mut paths = Vec::new();
        leaves(&manifest, String::new(), &mut paths);
        for (index, value) in picks {
            let path = index.get(&paths);
            if let Some(slot) = manifest.pointer_mut(path) {
                *slot = value;
            }
        }
        let bytes = container::write(
            &serde_json::to_vec(&manifest).expect("JSON"),
            parts.payload,
        );
        let _ = load(&bytes);
    }
}
