//! Snapshots (insta) of the text users read: `texcnn inspect`, the `texcnn predict` table
//! with its error and warning lines, and the command line's errors. A change to any of them
//! shows up as a diff to review; accept it with `cargo insta review`, or write the new
//! snapshots with `INSTA_UPDATE=always cargo test -p texcnn-native --test snapshots` and read
//! the diff before committing. In CI a difference fails the test.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::texcnn;
use insta::assert_snapshot;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("texcnn-snap-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Standard output, then standard error under a rule, with `dir` written as `[TMP]` and the
/// exit status: what a user sees.
fn seen(output: &Output, dir: &Path) -> String {
    let text = format!(
        "{}--- stderr ---\n{}--- exit status: {:?}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        output.status.code()
    );
    text.replace(&dir.display().to_string(), "[TMP]")
}

/// Every number with a fraction rounded to 4 decimals: the snapshot holds the text a user
/// reads, not the last bits of a float (which differ between CPUs' kernels).
fn rounded(text: &str) -> String {
    let mut out = String::new();
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let cells: Vec<String> = line
            .split('\t')
            .map(|cell| match cell.parse::<f64>() {
                Ok(x) if cell.contains('.') => format!("{x:.4}"),
                _ => cell.to_string(),
            })
            .collect();
        out.push_str(&cells.join("\t"));
    }
    out
}

#[test]
fn inspect_prints_the_card_and_sizes() {
    let dir = scratch("inspect");
    for (name, bundle) in [
        (
            "inspect_tiny_predictor",
            "tests/fixtures/bundles/tiny_predictor.texcnn",
        ),
        ("inspect_default_bundle", "www/models/default.texcnn"),
    ] {
        assert_snapshot!(name, seen(&texcnn(&["inspect", bundle]), &dir));
    }
}

#[test]
fn predict_writes_its_table_and_names_each_problem() {
    let dir = scratch("predict");
    let excerpt =
        std::fs::read_to_string(common::root().join("tests/fixtures/promoters_excerpt.fa"))
            .unwrap();
    // The excerpt's first two records.
    let mut headers = 0;
    let first_two: String = excerpt
        .lines()
        .take_while(|l| {
            headers += usize::from(l.starts_with('>'));
            headers <= 2
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let fasta = dir.join("in.fa");
    std::fs::write(
        &fasta,
        format!(
            "{first_two}>protein pasted by mistake\nMVLSPADKTNVKAAWGKVGAHAGEYGAEALERMF\n>empty\nNNNNNNNNNN\n>p0 again\nACGTACGTAC\n"
        ),
    )
    .unwrap();
    let out = dir.join("out.tsv");
    let output = texcnn(&[
        "predict",
        "--bundle",
        "tests/fixtures/bundles/tiny_predictor.texcnn",
        "--fasta",
        fasta.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let table = std::fs::read_to_string(&out).unwrap();
    assert_snapshot!(
        "predict_tiny",
        format!(
            "{}\n=== {} ===\n{}",
            seen(&output, &dir),
            "out.tsv",
            rounded(&table)
        )
    );
}

#[test]
fn command_line_errors_say_what_and_where() {
    let dir = scratch("errors");
    let fasta = dir.join("in.fa");
    std::fs::write(&fasta, ">p\nACGT\n").unwrap();
    let variants = dir.join("v.tsv");
    std::fs::write(&variants, "id\tposition\tref\talt\np\t1\tA\tC\n").unwrap();
    let (fa, out) = (fasta.to_str().unwrap(), dir.join("out.tsv"));
    let out = out.to_str().unwrap();
    let cases: [(&str, Vec<&str>); 5] = [
        (
            "error_missing_bundle",
            vec![
                "predict",
                "--bundle",
                "no/such.texcnn",
                "--fasta",
                fa,
                "--out",
                out,
            ],
        ),
        (
            "error_not_a_bundle",
            vec![
                "predict",
                "--bundle",
                "README.md",
                "--fasta",
                fa,
                "--out",
                out,
            ],
        ),
        (
            "error_variants_header",
            vec![
                "variants",
                "--bundle",
                "tests/fixtures/bundles/tiny_predictor.texcnn",
                "--fasta",
                fa,
                "--variants",
                variants.to_str().unwrap(),
                "--out",
                out,
            ],
        ),
        (
            "error_ism_region",
            vec![
                "ism",
                "--bundle",
                "tests/fixtures/bundles/tiny_predictor.texcnn",
                "--fasta",
                fa,
                "--region",
                "9..3",
                "--out",
                out,
            ],
        ),
        (
            "error_features_without_a_features_head",
            vec![
                "predict",
                "--bundle",
                "tests/fixtures/bundles/tiny_predictor.texcnn",
                "--fasta",
                fa,
                "--out",
                out,
                "--features",
                "README.md",
            ],
        ),
    ];
    for (name, args) in cases {
        assert_snapshot!(name, seen(&texcnn(&args), &dir));
    }
}
