//! Helpers shared by the encoder integration tests.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};

/// The repository root: this file is also included by native-train's tests (`#[path]`),
/// whose manifest lies one level down.
pub fn repo_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    if here.join("tests/fixtures").is_dir() {
        here.to_path_buf()
    } else {
        here.join("..")
    }
}

/// `tests/fixtures/dnabert2_golden_tiny/`
pub fn golden_dir() -> PathBuf {
    repo_root().join("tests/fixtures/dnabert2_golden_tiny")
}

/// The golden encoder, from `tests/fixtures/bundles/golden_tiny_f32.texcnn` (what `texcnn
/// import` writes from the golden folder; native-train's `cli_bundle` test checks that it
/// embeds bit-identically to the folder loaded directly), on `device`.
pub fn golden_encoder(
    device: &burn::tensor::Device,
) -> (
    texcnn::encoder::Dnabert2Config,
    texcnn::encoder::Dnabert2Encoder,
) {
    let path = repo_root().join("tests/fixtures/bundles/golden_tiny_f32.texcnn");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let bundle = texcnn::bundle::Bundle::from_bytes(&bytes).expect("the golden bundle reads");
    let encoder = bundle
        .load_encoder(device)
        .expect("the golden encoder loads");
    (bundle.encoder.config, encoder)
}

/// Token ids of the golden sequences, `[CLS]` and `[SEP]` included.
pub fn golden_token_ids() -> Vec<Vec<u32>> {
    #[derive(serde::Deserialize)]
    struct TokenIds {
        token_ids: Vec<Vec<u32>>,
    }
    let text = std::fs::read_to_string(golden_dir().join("token_ids.json"))
        .expect("token_ids.json is readable");
    serde_json::from_str::<TokenIds>(&text)
        .expect("token_ids.json parses")
        .token_ids
}

/// A little-endian float32 C-order `.npy` array: (shape, values).
pub fn read_npy_f32(path: &Path) -> (Vec<usize>, Vec<f32>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        &bytes[..6],
        b"\x93NUMPY",
        "{}: not an npy file",
        path.display()
    );
    let (header_len, header_start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        _ => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
    };
    let header = std::str::from_utf8(&bytes[header_start..header_start + header_len])
        .expect("npy header is text");
    assert!(
        header.contains("'descr': '<f4'"),
        "not little-endian f32: {header}"
    );
    assert!(
        header.contains("'fortran_order': False"),
        "not C order: {header}"
    );
    let shape_text = header
        .split("'shape': (")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .expect("npy header has a shape");
    let shape: Vec<usize> = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().expect("shape is numeric"))
        .collect();
    let values: Vec<f32> = bytes[header_start + header_len..]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    assert_eq!(
        values.len(),
        shape.iter().product::<usize>(),
        "npy data length"
    );
    (shape, values)
}

/// Largest absolute difference between two equally long slices.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// A fresh empty directory under the system temp dir, unique per process and name.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("texcnn-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Largest error the parity tests accept against the original code's outputs.
pub const PARITY_TOLERANCE: f32 = 1e-4;

/// Loads the golden encoder on `device` and checks every `hidden_seqN.npy` (each sequence
/// alone) and `mean_pooled.npy` (all sequences in one batch, by `embed_segments` and by the
/// padded tensor path) against it. Returns the max abs errors: one per sequence, then the
/// two pooled ones.
pub fn check_golden_parity(device: &burn::tensor::Device) -> Vec<f32> {
    use burn::tensor::{Bool, Int, Tensor, TensorData};

    let (config, encoder) = golden_encoder(device);
    let hidden_size = config.hidden_size;
    let token_ids = golden_token_ids();
    assert_eq!(token_ids.len(), 6);
    assert_eq!(token_ids[3].len(), 849, "seq3 is the one past ALiBi's 512");

    let mut errors = Vec::new();
    for (n, ids) in token_ids.iter().enumerate() {
        let (shape, expected) = read_npy_f32(&golden_dir().join(format!("hidden_seq{n}.npy")));
        assert_eq!(shape, vec![ids.len(), hidden_size]);
        let tokens = ids.len();
        let input = Tensor::<2, Int>::from_data(
            TensorData::new(ids.iter().map(|&i| i64::from(i)).collect(), [1, tokens]),
            device,
        );
        let mask =
            Tensor::<2, Bool>::from_data(TensorData::new(vec![true; tokens], [1, tokens]), device);
        let hidden = encoder
            .forward(input, mask)
            .into_data()
            .try_into_vec::<f32>()
            .expect("f32 output");
        errors.push(within_tolerance(
            &hidden,
            &expected,
            &format!("hidden_seq{n} ({tokens} tokens)"),
        ));
    }

    let (shape, expected) = read_npy_f32(&golden_dir().join("mean_pooled.npy"));
    assert_eq!(shape, vec![6, hidden_size]);
    // `embed_segments`: the packed path on the CPU (the six segments' tokens as the rows of one
    // matrix), the padded tensor path elsewhere.
    let pooled: Vec<f32> = encoder
        .embed_segments_to_vec(&token_ids)
        .expect("batch embeds")
        .concat();
    errors.push(within_tolerance(
        &pooled,
        &expected,
        "mean_pooled (embed_segments, one batch of 6)",
    ));
    // The padded tensor path on every device: one batch padded to the longest, masked.
    let (ids, mask) = encoder.batch(&token_ids, device).expect("the batch pads");
    let padded = texcnn::encoder::mean_pool(encoder.forward(ids, mask.clone()), mask)
        .into_data()
        .try_into_vec::<f32>()
        .expect("f32 output");
    errors.push(within_tolerance(
        &padded,
        &expected,
        "mean_pooled (padded tensor path, one batch of 6)",
    ));
    errors
}

/// The max abs error of `got` against `expected`, printed and checked against
/// [`PARITY_TOLERANCE`].
fn within_tolerance(got: &[f32], expected: &[f32], what: &str) -> f32 {
    let error = max_abs_diff(got, expected);
    println!("{what}: max abs error {error:.3e}");
    assert!(
        error <= PARITY_TOLERANCE,
        "{what}: max abs error {error} > {PARITY_TOLERANCE}"
    );
    error
}

/// A GPU test without a GPU: said on stderr and, when `TEXCNN_SKIPPED` names a file (as
/// `tests/run_all.sh` sets it), recorded there, so the summary counts it as skipped, not passed.
pub fn skipped(reason: &str) {
    let test = std::thread::current().name().unwrap_or("?").to_string();
    eprintln!("SKIPPED {test}: {reason}");
    if let Some(path) = std::env::var_os("TEXCNN_SKIPPED") {
        use std::io::Write;
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
        {
            let _ = writeln!(file, "{test}: {reason}");
        }
    }
}
