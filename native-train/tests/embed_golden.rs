//! `texcnn embed` on the golden model folder reproduces `mean_pooled.npy` of the
//! original DNABERT-2 code (max abs error ≤ 1e-4), tokenizing `input.fa` itself.

use std::path::{Path, PathBuf};
use std::process::Command;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/dnabert2_golden_tiny")
}

fn read_mean_pooled_tsv() -> Vec<(String, Vec<f32>)> {
    let text = std::fs::read_to_string(golden_dir().join("mean_pooled.tsv")).expect("read");
    text.lines().map(parse_row).collect()
}

fn parse_row(line: &str) -> (String, Vec<f32>) {
    let mut fields = line.split('\t');
    let id = fields.next().expect("id").to_string();
    let values = fields.map(|v| v.parse().expect("a number")).collect();
    (id, values)
}

fn temp_file(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("texcnn-embed-{}-{name}", std::process::id()))
}

#[test]
fn embed_reproduces_the_golden_mean_pooled_vectors() {
    let out = temp_file("golden.tsv");
    let output = Command::new(env!("CARGO_BIN_EXE_texcnn"))
        .arg("embed")
        .arg("--model")
        .arg(golden_dir())
        .arg("--fasta")
        .arg(golden_dir().join("input.fa"))
        .arg("--out")
        .arg(&out)
        .output()
        .expect("texcnn runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "texcnn embed failed: {stderr}");
    assert!(
        stderr.contains("using the bundled official DNABERT-2 tokenizer"),
        "{stderr}"
    );

    let text = std::fs::read_to_string(&out).expect("output written");
    let rows: Vec<(String, Vec<f32>)> = text.lines().map(parse_row).collect();
    let expected = read_mean_pooled_tsv();
    assert_eq!(rows.len(), expected.len(), "one row per record, no header");
    for ((id, values), (expected_id, expected_values)) in rows.iter().zip(&expected) {
        assert_eq!(id, expected_id);
        assert_eq!(values.len(), 64);
        let error = values
            .iter()
            .zip(expected_values)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(error <= 1e-4, "{id}: max abs error {error}");
    }
    let _ = std::fs::remove_file(&out);
}

#[test]
fn embed_with_segments_writes_one_row_per_segment_with_its_index() {
    let fasta = temp_file("two.fa");
    // 59 bp and 300 bp: segments of 100 bp at stride 100 give 1 and 3 rows.
    let input = std::fs::read_to_string(golden_dir().join("input.fa")).expect("read");
    let first_two: Vec<&str> = input.lines().take(4).collect();
    std::fs::write(&fasta, first_two.join("\n")).expect("write");
    let out = temp_file("segments.tsv");
    let output = Command::new(env!("CARGO_BIN_EXE_texcnn"))
        .args([
            "embed",
            "--segment-len",
            "100",
            "--stride",
            "100",
            "--model",
        ])
        .arg(golden_dir())
        .arg("--fasta")
        .arg(&fasta)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("texcnn runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(&out).expect("output written");
    let labels: Vec<(&str, &str)> = text
        .lines()
        .map(|l| {
            let mut f = l.split('\t');
            (f.next().unwrap_or(""), f.next().unwrap_or(""))
        })
        .collect();
    assert_eq!(
        labels,
        vec![("seq0", "0"), ("seq1", "0"), ("seq1", "1"), ("seq1", "2")]
    );
    assert!(text.lines().all(|l| l.split('\t').count() == 2 + 64));
    let _ = std::fs::remove_file(&fasta);
    let _ = std::fs::remove_file(&out);
}

#[test]
fn embed_reports_a_missing_model_folder() {
    let output = Command::new(env!("CARGO_BIN_EXE_texcnn"))
        .args([
            "embed",
            "--model",
            "/nonexistent-model-dir",
            "--fasta",
            "x.fa",
            "--out",
        ])
        .arg(temp_file("never.tsv"))
        .output()
        .expect("texcnn runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("config.json"), "{stderr}");
}

#[test]
fn embed_lists_every_tensor_that_does_not_fit_the_config_once() {
    let dir = temp_file("narrow-mlp");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let config = std::fs::read_to_string(golden_dir().join("config.json")).expect("read");
    let config = config.replace("\"intermediate_size\": 128", "\"intermediate_size\": 100");
    std::fs::write(dir.join("config.json"), config).expect("write");
    std::fs::copy(
        golden_dir().join("pytorch_model.bin"),
        dir.join("pytorch_model.bin"),
    )
    .expect("copy");
    let output = Command::new(env!("CARGO_BIN_EXE_texcnn"))
        .arg("embed")
        .arg("--model")
        .arg(&dir)
        .arg("--fasta")
        .arg(golden_dir().join("input.fa"))
        .arg("--out")
        .arg(temp_file("never2.tsv"))
        .output()
        .expect("texcnn runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let expected = "the checkpoint does not fit the DNABERT-2 config (4 problems):
  wrong shape for bert.encoder.layer.0.mlp.gated_layers.weight: expected [200, 64], found [256, 64]
  wrong shape for bert.encoder.layer.0.mlp.wo.weight: expected [64, 100], found [64, 128]
  wrong shape for bert.encoder.layer.1.mlp.gated_layers.weight: expected [200, 64], found [256, 64]
  wrong shape for bert.encoder.layer.1.mlp.wo.weight: expected [64, 100], found [64, 128]
";
    assert!(stderr.ends_with(expected), "{stderr}");
    assert_eq!(stderr.matches("wrong shape").count(), 4, "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
