//! `texcnn bench`'s preparation steps that the browser benchmark relies on
//! (`native-train/bench/web/browser.mjs`): `--prepare-only --write-gene` cuts TExCNN's gene
//! into the 18 segments of 2,000 bp at stride 500 that the paper's plan gives, and
//! `--web-bundle` writes a page bundle whose encoder is the int8 import of the model it came from.
//! Nothing is timed here. The gene comes from an h5 fixture: these tests need the `h5` feature
//! (`tests/run_all.sh` runs them with it).
#![cfg(feature = "h5")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::texcnn;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("texcnn-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// `>id start..end` headers and sequences of a FASTA file.
fn fasta(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).expect("fasta");
    text.split('>')
        .filter(|b| !b.trim().is_empty())
        .map(|block| {
            let (header, seq) = block.split_once('\n').expect("header line");
            (header.to_string(), seq.split_whitespace().collect())
        })
        .collect()
}

/// `texcnn bench --prepare-only` on record 0 of the pig fixture (the 10,500 bp gene), written
/// to `dir`.
fn prepare_gene(model: &str, dir: &Path) -> Output {
    texcnn(&[
        "bench",
        "--model",
        model,
        "--h5",
        "tests/fixtures/pig_test_10seq.h5",
        "--record",
        "0",
        "--prepare-only",
        "--write-gene",
        path_str(dir),
    ])
}

#[test]
fn prepare_only_cuts_the_xpresso_gene_into_texcnn_segments() {
    let dir = temp_dir("gene");
    let output = prepare_gene("tests/fixtures/dnabert2_golden_tiny", &dir);
    assert!(output.status.success(), "{output:?}");
    let report = String::from_utf8(output.stdout).expect("utf-8");
    assert!(report.contains("gene: 18 segments"), "{report}");

    let gene = fasta(&dir.join("gene.fa"));
    assert_eq!(gene.len(), 1);
    let residues = &gene[0].1;
    assert_eq!(
        residues.len(),
        10_500,
        "Xpresso's TSS -7,000..+3,500 window"
    );
    let segments = fasta(&dir.join("segments.fa"));
    // The paper's plan: 2,000 bp every 500 bp over 10,500 bp = 18 segments, the last ending
    // exactly at the end.
    assert_eq!(segments.len(), 18);
    for (i, (header, seq)) in segments.iter().enumerate() {
        let start = 500 * i;
        assert!(
            header.ends_with(&format!(" {start}..{}", start + 2_000)),
            "segment {i}: {header}"
        );
        assert_eq!(seq, &residues[start..start + 2_000], "segment {i}");
    }
    let tokens: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("tokens.json")).expect("tokens.json"))
            .expect("json");
    let ids = tokens["token_ids"].as_array().expect("token_ids");
    assert_eq!(ids.len(), 18);
    // Every segment is wrapped [CLS] … [SEP] (ids 1 and 2 of DNABERT-2's vocabulary).
    for segment in ids {
        let segment = segment.as_array().expect("ids");
        assert_eq!(segment.first().and_then(|v| v.as_u64()), Some(1));
        assert_eq!(segment.last().and_then(|v| v.as_u64()), Some(2));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn web_bundle_holds_the_imported_encoder_and_predicts_any_length() {
    let dir = temp_dir("web");
    let golden = "tests/fixtures/dnabert2_golden_tiny";
    let bundle = dir.join("page.texcnn");
    let output = texcnn(&[
        "bench",
        "--model",
        golden,
        "--web-bundle",
        path_str(&bundle),
    ]);
    assert!(output.status.success(), "{output:?}");

    let output = texcnn(&["inspect", path_str(&bundle)]);
    assert!(output.status.success(), "{output:?}");
    let card = String::from_utf8(output.stdout).expect("utf-8");
    assert!(card.contains("BENCHMARK MODEL, NOT A PREDICTOR"), "{card}");
    assert!(
        card.contains("segments:    2000 bp, stride 500 bp, window any length"),
        "{card}"
    );

    // Its encoder is what `texcnn import` makes of the same folder (int8 by default).
    let imported = dir.join("imported.texcnn");
    let output = texcnn(&["import", "--hf-dir", golden, "--out", path_str(&imported)]);
    assert!(output.status.success(), "{output:?}");
    let output = texcnn(&["inspect", path_str(&imported)]);
    let reference = String::from_utf8(output.stdout).expect("utf-8");
    let encoder_lines = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with("encoder:") || l.trim_start().starts_with("int8 per row"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(encoder_lines(&card).len(), 2, "{card}");
    assert_eq!(encoder_lines(&card), encoder_lines(&reference));
    assert!(card.contains("head:        text_cnn version"), "{card}");

    // A 10,500 bp input and a 700 bp one both predict (no window to match).
    let gene_dir = dir.join("gene");
    let output = prepare_gene(golden, &gene_dir);
    assert!(output.status.success(), "{output:?}");
    let long = &fasta(&gene_dir.join("gene.fa"))[0].1;
    let input = dir.join("in.fa");
    std::fs::write(&input, format!(">long\n{long}\n>short\n{}\n", &long[..700])).expect("write");
    let predictions = dir.join("pred.tsv");
    let output = texcnn(&[
        "predict",
        "--bundle",
        path_str(&bundle),
        "--fasta",
        path_str(&input),
        "--out",
        path_str(&predictions),
    ]);
    assert!(output.status.success(), "{output:?}");
    let text = std::fs::read_to_string(&predictions).expect("predictions");
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 3, "{text}");
    assert!(
        rows[1].starts_with("long\t") && rows[2].starts_with("short\t"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
