//! Loading malformed model folders fails with an error that says what is wrong, never a
//! panic. Each folder is derived from the golden checkpoint in a temp dir.
// Reads model folders from disk: native only.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use texcnn::encoder::{Checkpoint, CheckpointTensor, TensorIssue};
use texcnn_native::files::hf_folder::{
    CONFIG_FILE, LoadError, PYTORCH_FILE, SAFETENSORS_FILE, load_hf_folder, read_pytorch,
};

/// A temp folder with the golden `config.json` and the given weights file.
fn folder_with(name: &str, weights_name: &str, weights: &[u8]) -> PathBuf {
    let dir = common::temp_dir(name);
    std::fs::copy(
        common::golden_dir().join(CONFIG_FILE),
        dir.join(CONFIG_FILE),
    )
    .expect("copy config");
    std::fs::write(dir.join(weights_name), weights).expect("write weights");
    dir
}

fn golden_checkpoint() -> Checkpoint {
    read_pytorch(&common::golden_dir().join(PYTORCH_FILE)).expect("golden checkpoint reads")
}

fn load_err(dir: &Path) -> LoadError {
    load_hf_folder(dir, &Device::flex()).expect_err("the folder is malformed")
}

fn issues(err: &LoadError) -> Vec<TensorIssue> {
    match err {
        LoadError::Weights { mismatch, .. } => mismatch.0.clone(),
        other => panic!("expected a tensor mismatch, got: {other}"),
    }
}

#[test]
fn the_golden_checkpoint_also_loads_from_safetensors() {
    let bytes = golden_checkpoint().to_safetensors().expect("writes");
    let dir = folder_with("safetensors-ok", SAFETENSORS_FILE, &bytes);
    let loaded = load_hf_folder(&dir, &Device::flex()).expect("loads");
    assert!(loaded.weights_path.ends_with(SAFETENSORS_FILE));
    let (_, expected) = common::read_npy_f32(&common::golden_dir().join("mean_pooled.npy"));
    let pooled = loaded
        .encoder
        .embed_segments_to_vec(&common::golden_token_ids()[..1])
        .expect("embeds");
    assert!(common::max_abs_diff(&pooled[0], &expected[..64]) <= common::PARITY_TOLERANCE);
}

#[test]
fn missing_config_is_named() {
    let dir = common::temp_dir("no-config");
    std::fs::copy(
        common::golden_dir().join(PYTORCH_FILE),
        dir.join(PYTORCH_FILE),
    )
    .expect("copy");
    let err = load_err(&dir);
    assert!(matches!(err, LoadError::MissingFile { .. }), "{err}");
    assert!(err.to_string().contains("config.json"), "{err}");
}

#[test]
fn missing_weights_name_both_accepted_files() {
    let dir = common::temp_dir("no-weights");
    std::fs::copy(
        common::golden_dir().join(CONFIG_FILE),
        dir.join(CONFIG_FILE),
    )
    .expect("copy");
    let text = load_err(&dir).to_string();
    assert!(
        text.contains("model.safetensors or pytorch_model.bin"),
        "{text}"
    );
}

#[test]
fn missing_tensors_are_listed_by_name_and_expected_shape() {
    let mut checkpoint = golden_checkpoint();
    checkpoint
        .tensors
        .remove("bert.encoder.layer.1.mlp.wo.bias")
        .expect("exists");
    checkpoint
        .tensors
        .remove("bert.embeddings.word_embeddings.weight")
        .expect("exists");
    let bytes = checkpoint.to_safetensors().expect("writes");
    let err = load_err(&folder_with("missing-tensor", SAFETENSORS_FILE, &bytes));
    let found = issues(&err);
    assert_eq!(
        found,
        vec![
            TensorIssue::Missing {
                name: "bert.embeddings.word_embeddings.weight".into(),
                expected: vec![4096, 64]
            },
            TensorIssue::Missing {
                name: "bert.encoder.layer.1.mlp.wo.bias".into(),
                expected: vec![64]
            },
        ]
    );
    let text = err.to_string();
    assert!(
        text.contains("missing tensor bert.encoder.layer.1.mlp.wo.bias: expected shape [64]"),
        "{text}"
    );
}

#[test]
fn wrong_shapes_are_listed_with_expected_and_found() {
    let mut checkpoint = golden_checkpoint();
    // gated_layers is [2 * intermediate, hidden] = [256, 64]; give it the transpose.
    checkpoint.tensors.insert(
        "bert.encoder.layer.0.mlp.gated_layers.weight".into(),
        CheckpointTensor::from_f32(vec![64, 256], vec![0.0; 64 * 256]),
    );
    checkpoint.tensors.insert(
        "bert.embeddings.LayerNorm.bias".into(),
        CheckpointTensor::from_f32(vec![65], vec![0.0; 65]),
    );
    let bytes = checkpoint.to_safetensors().expect("writes");
    let err = load_err(&folder_with("wrong-shape", SAFETENSORS_FILE, &bytes));
    assert_eq!(
        issues(&err),
        vec![
            TensorIssue::WrongShape {
                name: "bert.embeddings.LayerNorm.bias".into(),
                expected: vec![64],
                found: vec![65]
            },
            TensorIssue::WrongShape {
                name: "bert.encoder.layer.0.mlp.gated_layers.weight".into(),
                expected: vec![256, 64],
                found: vec![64, 256]
            },
        ]
    );
    let text = err.to_string();
    assert!(
        text.contains(
            "wrong shape for bert.encoder.layer.0.mlp.gated_layers.weight: expected [256, 64], found [64, 256]"
        ),
        "{text}"
    );
}

#[test]
fn unexpected_encoder_tensors_are_listed_but_the_mlm_head_is_ignored() {
    let mut checkpoint = golden_checkpoint();
    assert!(
        checkpoint
            .tensors
            .keys()
            .any(|k| k.starts_with("cls.predictions."))
    );
    checkpoint.tensors.insert(
        "bert.encoder.layer.2.mlp.wo.bias".into(),
        CheckpointTensor::from_f32(vec![64], vec![0.0; 64]),
    );
    let bytes = checkpoint.to_safetensors().expect("writes");
    let err = load_err(&folder_with("unexpected", SAFETENSORS_FILE, &bytes));
    assert_eq!(
        issues(&err),
        vec![TensorIssue::Unexpected {
            name: "bert.encoder.layer.2.mlp.wo.bias".into(),
            found: vec![64]
        }]
    );
}

#[test]
fn a_config_that_does_not_match_the_checkpoint_lists_every_layer() {
    // A 3-layer config against the 2-layer checkpoint: layer 2 is missing, tensor by tensor.
    let dir = common::temp_dir("three-layers");
    let text = std::fs::read_to_string(common::golden_dir().join(CONFIG_FILE)).expect("read");
    let text = text.replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3");
    std::fs::write(dir.join(CONFIG_FILE), text).expect("write");
    std::fs::copy(
        common::golden_dir().join(PYTORCH_FILE),
        dir.join(PYTORCH_FILE),
    )
    .expect("copy");
    let found = issues(&load_err(&dir));
    assert_eq!(found.len(), 11, "{found:?}");
    assert!(
        found
            .iter()
            .all(|issue| matches!(issue, TensorIssue::Missing { name, .. }
        if name.starts_with("bert.encoder.layer.2.")))
    );
}

#[test]
fn truncated_pytorch_checkpoint_is_a_clear_error() {
    let bytes = std::fs::read(common::golden_dir().join(PYTORCH_FILE)).expect("read");
    for keep in [bytes.len() / 2, bytes.len() - 100, 10, 0] {
        let dir = folder_with("truncated-bin", PYTORCH_FILE, &bytes[..keep]);
        let err = load_err(&dir);
        assert!(
            matches!(err, LoadError::NotACheckpoint { .. }),
            "{keep} bytes: {err}"
        );
        assert!(err.to_string().contains("pytorch_model.bin"), "{err}");
    }
}

#[test]
fn truncated_safetensors_is_a_clear_error() {
    let bytes = golden_checkpoint().to_safetensors().expect("writes");
    let dir = folder_with(
        "truncated-st",
        SAFETENSORS_FILE,
        &bytes[..bytes.len() - 1000],
    );
    let err = load_err(&dir);
    assert!(matches!(err, LoadError::NotACheckpoint { .. }), "{err}");
    assert!(err.to_string().contains("truncated"), "{err}");
}

#[test]
fn a_file_that_is_not_a_checkpoint_is_a_clear_error() {
    let not_weights = std::fs::read(common::golden_dir().join("input.fa")).expect("read");
    for name in [PYTORCH_FILE, SAFETENSORS_FILE] {
        let err = load_err(&folder_with("not-a-checkpoint", name, &not_weights));
        assert!(
            matches!(err, LoadError::NotACheckpoint { .. }),
            "{name}: {err}"
        );
    }
}

#[test]
fn a_bad_config_is_named() {
    let dir = common::temp_dir("bad-config");
    std::fs::write(dir.join(CONFIG_FILE), "{\"hidden_size\": 64}").expect("write");
    std::fs::copy(
        common::golden_dir().join(PYTORCH_FILE),
        dir.join(PYTORCH_FILE),
    )
    .expect("copy");
    let err = load_err(&dir);
    assert!(matches!(err, LoadError::Config { .. }), "{err}");
    assert!(err.to_string().contains("vocab_size"), "{err}");
}

#[test]
fn corrupted_pytorch_bytes_give_an_error_or_a_model_never_a_panic() {
    let original = std::fs::read(common::golden_dir().join(PYTORCH_FILE)).expect("read");
    // Deterministic spread of positions: zip headers, the pickle, tensor data, the
    // central directory at the end.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let dir = common::temp_dir("corrupted-bin");
    std::fs::copy(
        common::golden_dir().join(CONFIG_FILE),
        dir.join(CONFIG_FILE),
    )
    .expect("copy");
    for round in 0..60 {
        let mut bytes = original.clone();
        for _ in 0..4 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let at = if round % 2 == 0 {
                // Half the rounds hit the first and last 4 KiB, where the structure is.
                let span = 4096.min(bytes.len());
                let offset = (state >> 33) as usize % span;
                if round % 4 == 0 {
                    offset
                } else {
                    bytes.len() - 1 - offset
                }
            } else {
                (state >> 33) as usize % bytes.len()
            };
            bytes[at] ^= (state >> 24) as u8 | 1;
        }
        std::fs::write(dir.join(PYTORCH_FILE), &bytes).expect("write");
        // Either outcome is fine; a panic fails the test.
        let _ = load_hf_folder(&dir, &Device::flex());
    }
}

/// Whatever a model folder's `config.json`, `model.safetensors` or `tokenizer.json` holds
/// (arbitrary sizes, damaged bytes), loading it is a model or an error, never a panic.
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    const SIZE_FIELDS: [&str; 7] = [
        "vocab_size",
        "hidden_size",
        "num_hidden_layers",
        "num_attention_heads",
        "intermediate_size",
        "type_vocab_size",
        "max_position_embeddings",
    ];

    /// Sizes from 0 to `u64::MAX`, the small and the overflowing most often.
    fn size() -> impl Strategy<Value = serde_json::Value> {
        prop_oneof![
            (0u64..300).prop_map(serde_json::Value::from),
            any::<u64>().prop_map(serde_json::Value::from),
            (-5i64..0).prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            "[ -~]{0,6}".prop_map(serde_json::Value::from),
            Just(serde_json::Value::Null),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        #[test]
        fn configs_with_any_sizes_never_panic(
            edits in proptest::collection::vec((proptest::sample::select(SIZE_FIELDS.to_vec()), size()), 1..4),
            eps in any::<f64>(),
        ) {
            let text = std::fs::read_to_string(common::golden_dir().join(CONFIG_FILE)).unwrap();
            let mut config: serde_json::Value = serde_json::from_str(&text).unwrap();
            for (field, value) in edits {
                config[field] = value;
            }
            config["layer_norm_eps"] = serde_json::Value::from(eps);
            let dir = common::temp_dir("fuzz-config");
            std::fs::write(dir.join(CONFIG_FILE), config.to_string()).unwrap();
            std::fs::copy(common::golden_dir().join(PYTORCH_FILE), dir.join(PYTORCH_FILE)).unwrap();
            let _ = load_hf_folder(&dir, &Device::flex());
        }

        #[test]
        fn damaged_safetensors_and_tokenizers_never_panic(
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
            cut in any::<prop::sample::Index>(),
            tokenizer in proptest::collection::vec(any::<u8>(), 0..200),
            config in proptest::collection::vec(any::<u8>(), 0..64),
            raw_config in any::<bool>(),
        ) {
            let mut bytes = golden_checkpoint().to_safetensors().expect("writes");
            // The header (its length, then JSON) is at the start: aim half the flips there.
            for (n, (at, value)) in flips.into_iter().enumerate() {
                let span = if n % 2 == 0 { bytes.len().min(512) } else { bytes.len() };
                let i = at.index(span);
                bytes[i] = value;
            }
            bytes.truncate(cut.index(bytes.len() + 1).max(bytes.len() / 2));
            let dir = folder_with("fuzz-safetensors", SAFETENSORS_FILE, &bytes);
            std::fs::write(dir.join("tokenizer.json"), &tokenizer).unwrap();
            if raw_config {
                std::fs::write(dir.join(CONFIG_FILE), &config).unwrap();
            }
            let _ = load_hf_folder(&dir, &Device::flex());
            let _ = texcnn::tokenizer::Dnabert2Tokenizer::from_json_bytes(&tokenizer);
        }
    }
}
