//! Snapshots (insta) of the text users read: `texcnn inspect`, the `texcnn predict` table
//! with its error and warning lines, the command line's errors, and the rows the page
//! exports (made by `texcnn::export`, which the page's worker calls). A change to any of them
//! shows up as a diff to review; accept it with `cargo insta review`, or write the new
//! snapshots with `INSTA_UPDATE=always cargo test -p texcnn-native --test snapshots` and read
//! the diff before committing. In CI a difference fails the test.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use burn::tensor::Device;
use common::texcnn;
use insta::assert_snapshot;
use texcnn::bundle::Bundle;
use texcnn::export::{
    PredictionColumns, Separator, ism_fields, ism_header, prediction_fields, prediction_header,
    variant_fields, variant_header,
};
use texcnn::predict::Predictor;
use texcnn::sequence::{ParseOptions, parse_text_with};
use texcnn::variants::saturation_edits;

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
    rounded_split(text, '\t')
}

/// [`rounded`] for cells separated by `sep`.
fn rounded_split(text: &str, sep: char) -> String {
    let mut out = String::new();
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let cells: Vec<String> = line
            .split(sep)
            .map(|cell| match cell.parse::<f64>() {
                Ok(x) if cell.contains('.') => format!("{x:.4}"),
                _ => cell.to_string(),
            })
            .collect();
        out.push_str(&cells.join(&sep.to_string()));
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
    let cases: [(&str, Vec<&str>); 6] = [
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
        (
            // Two predictors on different encoders cannot share one head.
            "error_add_output_other_encoder",
            vec![
                "add-output",
                "--bundle",
                "www/models/default.texcnn",
                "--from",
                "tests/fixtures/bundles/tiny_predictor.texcnn",
                "--out",
                out,
            ],
        ),
    ];
    for (name, args) in cases {
        assert_snapshot!(name, seen(&texcnn(&args), &dir));
    }
}

#[test]
fn page_export_rows_are_the_command_line_tables() {
    // What the page's worker does (src/web.rs) for the excerpt's first record: its row of the
    // predictions CSV (with a note from the input), and the mutagenesis and variants rows.
    let root = common::root();
    let bundle_path = "tests/fixtures/bundles/tiny_predictor.texcnn";
    let bundle = Bundle::from_bytes(&std::fs::read(root.join(bundle_path)).unwrap()).unwrap();
    let predictor = Predictor::from_bundle(&bundle, &Device::flex()).unwrap();
    let excerpt = root.join("tests/fixtures/promoters_excerpt.fa");
    let text = std::fs::read_to_string(&excerpt).unwrap();
    let record = parse_text_with(&text, &ParseOptions::default())
        .records
        .swap_remove(0);
    let names = predictor.output_names();
    let prediction = predictor
        .predict_at(&record.residues, record.tss, 4, false)
        .unwrap();
    let note = ["id \"p0\" is used again (a note from the input)".to_string()];
    let page = PredictionColumns::PAGE;
    let csv = [
        Separator::Comma.line(&prediction_header(&names, page)),
        Separator::Comma.line(&prediction_fields(
            &record.id,
            record.len(),
            &prediction,
            &note,
            page,
        )),
    ]
    .join("\n");

    let (start, end) = (1000, 1001);
    let edits = saturation_edits(&record.residues, start, end);
    let scores = predictor
        .score_edits(&record.residues, record.tss, &edits, None, 4, |_, _| {})
        .unwrap();
    let effects: Vec<_> = scores.effects.iter().map(|e| e.as_ref().unwrap()).collect();
    let mut ism = vec![Separator::Tab.line(&ism_header(&names))];
    for (edit, effect) in edits.iter().zip(&effects) {
        ism.push(Separator::Tab.line(&ism_fields(&record.id, edit, effect, scores.inputs)));
    }
    let ism = ism.join("\n") + "\n";
    let variants = [
        Separator::Tab.line(&variant_header(&names)),
        Separator::Tab.line(&variant_fields(
            &record.id,
            &edits[0],
            &scores.reference,
            effects[0],
            scores.inputs,
        )),
    ]
    .join("\n");
    assert_snapshot!(
        "page_export_rows",
        format!(
            "=== texcnn-predictions.csv ===\n{}\n=== texcnn-ism.tsv ===\n{}=== texcnn-variants.tsv ===\n{}",
            rounded_split(&csv, ','),
            rounded(&ism),
            rounded(&variants)
        )
    );

    // The page's mutagenesis table is, to the byte, what `texcnn ism` writes for the record.
    let dir = scratch("export");
    let fasta = dir.join("p0.fa");
    std::fs::write(&fasta, format!(">{}\n{}\n", record.id, record.residues)).unwrap();
    let out = dir.join("ism.tsv");
    let region = format!("{start}..{end}");
    let output = texcnn(&[
        "ism",
        "--bundle",
        bundle_path,
        "--fasta",
        fasta.to_str().unwrap(),
        "--region",
        &region,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", seen(&output, &dir));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), ism);
}
