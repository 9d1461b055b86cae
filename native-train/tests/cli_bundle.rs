//! `texcnn import` writes the committed golden bundle byte for byte, `texcnn inspect`
//! prints its card and sizes, and a damaged bundle gives one clear error line.

mod common;

use std::path::PathBuf;

use common::{root, texcnn};

fn temp_file(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("texcnn-bundle-{}-{name}", std::process::id()))
}

#[test]
fn import_writes_the_fixture_and_inspect_describes_it() {
    let out = temp_file("int8.texcnn");
    let output = texcnn(&[
        "import",
        "--hf-dir",
        "tests/fixtures/dnabert2_golden_tiny",
        "--out",
        out.to_str().expect("utf-8 path"),
        "--quantize",
        "int8",
        "--name",
        "dnabert2-golden-tiny",
    ]);
    assert!(output.status.success(), "{output:?}");
    let written = std::fs::read(&out).expect("written");
    let fixture = std::fs::read(root().join("tests/fixtures/bundles/golden_tiny_int8.texcnn"))
        .expect("fixture");
    assert!(written == fixture, "import no longer writes the fixture");
    let _ = std::fs::remove_file(&out);

    let output = texcnn(&["inspect", "tests/fixtures/bundles/golden_tiny_int8.texcnn"]);
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).expect("utf-8");
    for expected in [
        "texcnn bundle, format version 1, 542882 bytes (0.54 MB)",
        "name:        dnabert2-golden-tiny",
        "outputs:     none (encoder only)",
        "segments:    2000 bp, stride 500 bp, window 10500 bp (Exact)",
        "encoder:     DNABERT-2, hidden 64, 2 layers, 4 heads, intermediate 128, vocab 4096; 345472 parameters in 26 tensors",
        "int8 per row      9 tensors,      344064 parameters",
        "head:        none (encoder-only bundle)",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn inspect_of_a_truncated_bundle_is_one_clear_error() {
    let bytes = std::fs::read(root().join("tests/fixtures/bundles/golden_tiny_int8.texcnn"))
        .expect("fixture");
    let cut = temp_file("cut.texcnn");
    std::fs::write(&cut, &bytes[..1000]).expect("write");
    let output = texcnn(&["inspect", cut.to_str().expect("utf-8 path")]);
    let _ = std::fs::remove_file(&cut);
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).expect("utf-8");
    assert!(
        stderr.contains(
            "the bundle is truncated: it should be 542882 bytes long, but only 1000 bytes were read"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// The committed fixtures are exactly what `texcnn import` writes today, and the f32
/// bundle gives bit-identical embeddings to the encoder loaded from the folder.
#[test]
fn fixtures_are_what_import_writes_and_f32_is_identical_to_the_folder() {
    use burn::tensor::Device;
    use texcnn::bundle::{Bundle, ModelCard, Precision, cosine};
    use texcnn::segment::SegmentPlan;
    use texcnn_native::files::hf_folder::load_hf_folder;
    use texcnn_native::files::import::import_hf_folder;

    const F32_BUNDLE: &[u8] = include_bytes!("../../tests/fixtures/bundles/golden_tiny_f32.texcnn");
    const INT8_BUNDLE: &[u8] =
        include_bytes!("../../tests/fixtures/bundles/golden_tiny_int8.texcnn");
    /// The bar int8 is held to in the core's bundle_roundtrip test, here for f16.
    const MIN_INT8_COSINE: f64 = 0.999;
    let dir = root().join("tests/fixtures/dnabert2_golden_tiny");
    let token_ids: Vec<Vec<u32>> = {
        let text = std::fs::read_to_string(dir.join("token_ids.json")).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        serde_json::from_value(value["token_ids"].clone()).unwrap()
    };
    let embed = |bytes: &[u8]| {
        Bundle::from_bytes(bytes)
            .unwrap()
            .load_encoder(&Device::flex())
            .unwrap()
            .embed_segments_to_vec(&token_ids)
            .unwrap()
    };
    for (precision, fixture) in [(Precision::F32, F32_BUNDLE), (Precision::Int8, INT8_BUNDLE)] {
        let card = ModelCard::imported_encoder(
            "dnabert2-golden-tiny",
            "tests/fixtures/dnabert2_golden_tiny",
        );
        // `texcnn import`'s default plan: TExCNN's, without a TSS unless `--tss` is given.
        let plan = SegmentPlan {
            tss: None,
            ..SegmentPlan::texcnn_xpresso()
        };
        let bundle = import_hf_folder(&dir, card, plan, &precision.plan()).expect("imports");
        let bytes = bundle.to_bytes().expect("serialises");
        assert!(
            bytes == fixture,
            "{precision:?}: the fixture is stale; regenerate it with `texcnn import` (README)"
        );
    }
    let folder = load_hf_folder(&dir, &Device::flex()).expect("loads");
    let direct = folder
        .encoder
        .embed_segments_to_vec(&token_ids)
        .expect("embeds");
    assert_eq!(
        embed(F32_BUNDLE),
        direct,
        "f32 bundle must be bit-identical"
    );

    // f16 storage (no fixture): close to f32, by the same measure as int8.
    let card = ModelCard::imported_encoder("f16", "tests/fixtures/dnabert2_golden_tiny");
    let f16 = import_hf_folder(
        &dir,
        card,
        SegmentPlan::texcnn_xpresso(),
        &Precision::F16.plan(),
    )
    .expect("imports")
    .to_bytes()
    .expect("serialises");
    let min_cosine = embed(&f16)
        .iter()
        .zip(&direct)
        .map(|(a, b)| cosine(a, b))
        .fold(1f64, f64::min);
    println!("f16 vs f32: min cosine {min_cosine:.7}");
    assert!(min_cosine >= MIN_INT8_COSINE, "f16 min cosine {min_cosine}");
}
