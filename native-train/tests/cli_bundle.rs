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
