//! The shipped default predictor (`www/models/default.texcnn`) keeps the promise on its model
//! card: run through the prediction pipeline the page and `texcnn predict` use, on the test
//! genes of its recorded split, it gives the test R² and Pearson r the card states (which
//! `texcnn fit` measured on its own cached embeddings, a separate path), and `texcnn predict`
//! writes the card's output name as its column.

use std::path::PathBuf;

use burn::tensor::Device;
use texcnn::bundle::Bundle;
use texcnn::predict::{Inputs, Predictor};
use texcnn_native::data::split::Part;
use texcnn_native::data::split_file::SplitFile;
use texcnn_native::data::table::{TableOptions, load_table};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `texcnn predict --bundle www/models/default.texcnn --fasta INPUT --out OUT`.
fn predict_with_default_bundle(
    input: &std::path::Path,
    out: &std::path::Path,
) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_texcnn"))
        .args(["predict", "--bundle"])
        .arg(repo().join("www/models/default.texcnn"))
        .arg("--fasta")
        .arg(input)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

fn metric(bundle: &Bundle, name: &str) -> f64 {
    bundle
        .card
        .metrics
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("the card has no metric {name:?}"))
        .value
}

#[test]
fn default_bundle_reproduces_its_cards_test_metrics() {
    let bytes = std::fs::read(repo().join("www/models/default.texcnn")).unwrap();
    let bundle = Bundle::from_bytes(&bytes).unwrap();
    assert_eq!(bundle.card.outputs[0].name, "xpresso_median");
    let dataset = load_table(
        &repo().join("native-train/data/genes_2kb.tsv"),
        &TableOptions {
            sequence_column: "sequence".into(),
            label_column: "xpresso_log10_median_rpkm".into(),
            id_column: None,
            feature_columns: Vec::new(),
        },
    )
    .unwrap();
    let split = SplitFile::read(&repo().join("native-train/data/splits/xpresso_median_seed0.json"))
        .unwrap();
    assert!(
        bundle
            .card
            .training
            .as_ref()
            .unwrap()
            .split
            .contains("split seed 0")
    );
    let parts = split.assign(&dataset).unwrap();
    let predictor = Predictor::from_bundle(&bundle, &Device::flex()).unwrap();
    // Each test gene through both heads: the DNA-only head (as for a record without a known
    // id) and the features head with the bundle's own values for the gene, looked up by id.
    let (mut dna, mut with_features, mut label) = (Vec::new(), Vec::new(), Vec::new());
    for (example, part) in dataset.examples.iter().zip(&parts) {
        if *part == Some(Part::Test) {
            let prepared = predictor.prepare(&example.sequence, None).unwrap();
            let rows = predictor.embedder.embed_prepared(&prepared, 8).unwrap();
            let p = predictor.finish(&rows, &prepared, false, None).unwrap();
            assert_eq!(p.inputs, Inputs::Dna);
            dna.push(f64::from(p.outputs[0].value));
            let features = predictor
                .feature_inputs(&example.id, None)
                .unwrap()
                .unwrap_or_else(|| panic!("{}: not in the bundle's features", example.id));
            let p = predictor
                .finish(&rows, &prepared, false, Some(&features))
                .unwrap();
            assert_eq!(p.inputs, Inputs::DnaFeatures);
            with_features.push(f64::from(p.outputs[0].value));
            label.push(example.label);
        }
    }
    for (pred, suffix) in [(dna, ""), (with_features, ", DNA + per-gene features")] {
        let scores = texcnn_native::eval::metrics::scores(&pred, &label).unwrap();
        assert_eq!(scores.n, split.test.len());
        let card_r2 = metric(&bundle, &format!("R² (squared Pearson){suffix}"));
        let card_r = metric(&bundle, &format!("Pearson r{suffix}"));
        assert!(
            (scores.r2 - card_r2).abs() < 1e-4,
            "pipeline R² {} vs card {card_r2} ({suffix})",
            scores.r2
        );
        assert!((scores.pearson_r - card_r).abs() < 1e-4);
    }
    // The features travel compactly: the bundle stays under 5 MB.
    assert!(bytes.len() < 5_000_000, "{} bytes", bytes.len());
}

/// The `liver` output, run through the prediction pipeline on the test genes of its own split
/// (random protein-coding promoters, `exp14_dev.csv`, split seed 0), gives the test R² and
/// Pearson r its card states (measured by `texcnn fit` on the liver predictor alone, before
/// `texcnn add-output` joined it to the median one).
#[test]
fn default_bundle_liver_output_reproduces_its_cards_test_metrics() {
    let bytes = std::fs::read(repo().join("www/models/default.texcnn")).unwrap();
    let bundle = Bundle::from_bytes(&bytes).unwrap();
    assert_eq!(bundle.card.outputs[1].name, "liver");
    let dataset = load_table(
        &repo().join("native-train/data/exp14_dev.csv"),
        &TableOptions {
            sequence_column: "sequence".into(),
            label_column: "label".into(),
            id_column: None,
            feature_columns: Vec::new(),
        },
    )
    .unwrap();
    let split =
        SplitFile::read(&repo().join("native-train/data/splits/exp14_liver_seed0.json")).unwrap();
    let parts = split.assign(&dataset).unwrap();
    let predictor = Predictor::from_bundle(&bundle, &Device::flex()).unwrap();
    let (mut liver, mut label) = (Vec::new(), Vec::new());
    for (example, part) in dataset.examples.iter().zip(&parts) {
        if *part == Some(Part::Test) {
            let p = predictor.predict(&example.sequence, 8, false).unwrap();
            assert_eq!(p.inputs, Inputs::Dna);
            liver.push(f64::from(p.outputs[1].value));
            label.push(example.label);
        }
    }
    let scores = texcnn_native::eval::metrics::scores(&liver, &label).unwrap();
    assert_eq!(scores.n, split.test.len());
    let card_r2 = metric(&bundle, "R² (squared Pearson), liver");
    assert!(
        (scores.r2 - card_r2).abs() < 1e-4,
        "pipeline R² {} vs card {card_r2}",
        scores.r2
    );
    assert!((scores.pearson_r - metric(&bundle, "Pearson r, liver")).abs() < 1e-4);
}

#[test]
fn texcnn_predict_runs_with_the_default_bundle() {
    let out = std::env::temp_dir().join(format!("texcnn-default-{}.tsv", std::process::id()));
    let input = std::env::temp_dir().join(format!("texcnn-default-{}.fa", std::process::id()));
    let example = std::fs::read_to_string(repo().join("www/example.fa")).unwrap();
    // The example, then a record with a bad character: the good one still gets its row.
    std::fs::write(&input, format!("{example}>bad\nACGTXACGT\n")).unwrap();
    let run = predict_with_default_bundle(&input, &out);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("line") && stderr.contains("column"),
        "{stderr}"
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "id\txpresso_median\tliver\tinputs\tread\tnotes");
    assert_eq!(lines.len(), 2, "{text}");
    let value: f64 = lines[1].split('\t').nth(1).unwrap().parse().unwrap();
    // log10(RPKM + 0.1): the training labels lie in about −1…3.
    assert!(
        lines[1].starts_with("p5\t") && (-1.5..4.0).contains(&value),
        "{text}"
    );
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_file(&input);
}

/// A TSS-centred promoter named by its Ensembl id (with a version and `|` extras) is predicted
/// from the DNA and the gene's bundled features; the same bases under another name from the
/// DNA alone, as the DNA-only head predicts it.
#[test]
fn texcnn_predict_uses_the_features_of_genes_named_by_ensembl_id() {
    let table = std::fs::read_to_string(repo().join("native-train/data/genes_2kb.tsv")).unwrap();
    let row: Vec<&str> = table.lines().nth(1).unwrap().split('\t').collect();
    let (gene, promoter) = (row[0], row[5]);
    assert!(gene.starts_with("ENSG") && promoter.len() == 2_048);
    let dir = std::env::temp_dir().join(format!("texcnn-ids-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (input, out) = (dir.join("in.fa"), dir.join("out.tsv"));
    std::fs::write(
        &input,
        format!(">{gene}.5|symbol\n{promoter}\n>unnamed\n{promoter}\n"),
    )
    .unwrap();
    let run = predict_with_default_bundle(&input, &out);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect())
        .collect();
    assert_eq!(
        (rows[0][0], rows[0][3]),
        (format!("{gene}.5|symbol").as_str(), "dna+features")
    );
    assert_eq!((rows[1][0], rows[1][3]), ("unnamed", "dna"));
    let bundle =
        Bundle::from_bytes(&std::fs::read(repo().join("www/models/default.texcnn")).unwrap())
            .unwrap();
    let predictor = Predictor::from_bundle(&bundle, &Device::flex()).unwrap();
    let dna = predictor.predict(promoter, 8, false).unwrap().outputs[0].value;
    let value = |row: &[&str]| row[1].parse::<f32>().unwrap();
    assert!((value(&rows[1]) - dna).abs() < 1e-5, "{text}");
    assert!(
        (value(&rows[0]) - dna).abs() > 1e-3,
        "the features changed nothing: {text}"
    );
    // The liver output comes from the DNA on both paths: the same for both rows.
    let liver = |row: &[&str]| row[2].parse::<f32>().unwrap();
    assert!((liver(&rows[0]) - liver(&rows[1])).abs() < 1e-5, "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Human haemoglobin alpha, first 47 residues (UniProt P69905): a protein pasted by mistake.
const PROTEIN: &str = "MVLSPADKTNVKAAWGKVGAHAGEYGAEALERMFLSFPTTKTYFPHF";

/// `texcnn predict` reads a record where its TSS is: a 10,500 bp record with `tss=7001`
/// predicts as its 2,048 bp TSS-centred slice alone, every row says which bases were read, a
/// short record and a 50 kb one get a note, an all-N record and a protein one error each
/// while the others complete, and a duplicate id gets its own row, in input order, with a
/// note and a warning.
#[test]
fn texcnn_predict_reads_records_around_their_tss() {
    let dir = std::env::temp_dir().join(format!("texcnn-tss-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let example = std::fs::read_to_string(repo().join("www/example.fa")).unwrap();
    let promoter: String = example.lines().skip(1).collect();
    assert_eq!(promoter.len(), 2_048);
    let flank: String = promoter.chars().rev().cycle().take(8_452).collect();
    let long = format!("{}{promoter}{}", &flank[..5_976], &flank[5_976..]);
    assert_eq!(long.len(), 10_500);
    let input = dir.join("in.fa");
    let out = dir.join("out.tsv");
    std::fs::write(
        &input,
        format!(
            "{example}>long tss=7001\n{long}\n>short\n{}\n>empty\n{}\n>long50k\n{}\n>prot\n{PROTEIN}\n>p5 again\n{promoter}\n",
            &promoter[1_000..1_030],
            "N".repeat(2_048),
            promoter.chars().cycle().take(50_000).collect::<String>(),
        ),
    )
    .unwrap();
    let run = predict_with_default_bundle(&input, &out);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("record 4 (\"empty\")") && stderr.contains("no A, C, G or T"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "record 6 (\"prot\"), line 12, column 3: invalid character 'L' (the first of 13 in this record): this looks like a protein sequence"
        ),
        "{stderr}"
    );
    assert_eq!(stderr.matches("invalid character").count(), 1, "{stderr}");
    assert!(
        stderr.contains(
            "warning: record 7 (\"p5\"), line 13: the same id as record 1 (line 1); both are kept, in input order"
        ),
        "{stderr}"
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let mut rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(
        rows[0],
        ["id", "xpresso_median", "liver", "inputs", "read", "notes"]
    );
    // No record is named by a gene id: every one is predicted from the DNA alone. The
    // liver and inputs columns are then set aside so the indices below read id, value, read,
    // notes.
    for row in &mut rows[1..] {
        assert_eq!(row[3], "dna", "{text}");
    }
    for row in &mut rows {
        row.drain(2..4);
    }
    assert_eq!(rows.len(), 6, "{text}");
    assert_eq!(rows[4][0], "long50k");
    assert!(
        rows[4][2].ends_with("of 50000, tss 25001 (assumed: centre)"),
        "{text}"
    );
    assert!(rows[4][3].contains("only bases "), "{text}");
    assert_eq!(
        (rows[5][0], rows[5][2], rows[5][3]),
        (
            "p5",
            "1-2048 of 2048, tss 1025",
            "duplicate id: also record 1"
        )
    );
    assert_eq!(rows[5][1], rows[1][1], "{text}");
    let value = |row: &[&str]| row[1].parse::<f64>().unwrap();
    assert_eq!(
        (rows[1][0], rows[1][2], rows[1][3]),
        ("p5", "1-2048 of 2048, tss 1025", "")
    );
    assert_eq!(rows[2][0], "long");
    assert_eq!(rows[2][2], "5977-8024 of 10500, tss 7001");
    assert!((value(&rows[2]) - value(&rows[1])).abs() < 1e-5, "{text}");
    assert_eq!(rows[3][2], "1-30 of 30, tss 16 (assumed: centre)");
    assert!(
        rows[3][3].contains("fills 30 of the window's 2048 bp"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The example promoter (`www/example.fa`, 2,048 bp, TSS at base 1,025).
fn example_promoter() -> String {
    let example = std::fs::read_to_string(repo().join("www/example.fa")).unwrap();
    example.lines().skip(1).collect()
}

/// Every scored edit equals an independent prediction of the edited sequence through the
/// plain predict path (no reuse): substitutions beside and away from the TSS, an insertion
/// upstream (which moves the TSS) and a deletion downstream; a substitution re-embeds at most
/// ⌈segment / stride⌉ segments; bad edits are errors in their place.
#[test]
fn variant_effects_equal_independent_predictions_of_the_edited_sequence() {
    use texcnn::variants::{Edit, EditError, VariantError};
    let bytes = std::fs::read(repo().join("www/models/default.texcnn")).unwrap();
    let bundle = Bundle::from_bytes(&bytes).unwrap();
    let predictor = Predictor::from_bundle(&bundle, &Device::flex()).unwrap();
    let plan = bundle.segment_plan;
    let promoter = example_promoter();
    let base = |pos: usize| &promoter[pos - 1..pos];
    let other = |pos: usize| if base(pos) == "A" { "C" } else { "A" };
    let edits = vec![
        Edit::new(1_000, base(1_000), other(1_000)).unwrap(),
        Edit::new(1_025, base(1_025), other(1_025)).unwrap(),
        Edit::new(257, base(257), other(257)).unwrap(),
        Edit::new(2_048, base(2_048), other(2_048)).unwrap(),
        Edit::new(500, base(500), &format!("{}GGT", base(500))).unwrap(),
        Edit::new(1_500, &promoter[1_499..1_503], base(1_500)).unwrap(),
        Edit::new(10, other(10), base(10)).unwrap(),
        Edit::new(2_048, &format!("{}A", base(2_048)), base(2_048)).unwrap(),
    ];
    let scores = predictor
        .score_edits(&promoter, None, &edits, None, 8, |_, _| {})
        .unwrap();
    let reference = predictor.predict(&promoter, 8, false).unwrap();
    let values: Vec<f32> = reference.outputs.iter().map(|o| o.value).collect();
    assert_eq!(scores.reference, values);
    for (n, (edit, effect)) in edits.iter().zip(&scores.effects).take(6).enumerate() {
        let effect = effect.as_ref().unwrap_or_else(|e| panic!("edit {n}: {e}"));
        let edited = edit.apply(&promoter).unwrap();
        // The insertion upstream of the TSS moves it by 3 bp.
        let tss = if n == 4 { 1_028 } else { 1_025 };
        let independent = predictor.predict_at(&edited, Some(tss), 8, false).unwrap();
        for (o, (after, before)) in independent
            .outputs
            .iter()
            .zip(&reference.outputs)
            .enumerate()
        {
            let want = after.value - before.value;
            assert!(
                (effect.delta[o] - want).abs() <= 1e-5,
                "edit {n} ({edit:?}), {}: delta {} vs independent {want}",
                after.name,
                effect.delta[o]
            );
        }
        assert_eq!(effect.tss_relative, Some(edit.pos as i64 - 1_025));
        if n < 4 {
            assert!(
                (1..=plan.segment_len.div_ceil(plan.stride)).contains(&effect.reembedded),
                "edit {n}: {} segments re-embedded",
                effect.reembedded
            );
        }
    }
    assert!(matches!(
        scores.effects[6],
        Err(VariantError::Edit(EditError::RefMismatch { pos: 10, .. }))
    ));
    assert!(matches!(
        scores.effects[7],
        Err(VariantError::Edit(EditError::OutOfRange { pos: 2_048, .. }))
    ));
    assert!(
        scores.effects[6]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("does not match the record")
    );
}

/// `texcnn variants` writes one row per good variant with ref, alt and delta per output, and
/// reports each bad row (unknown id, ref mismatch, position out of range, a non-ACGT allele)
/// with its line while the rest completes; `texcnn ism` writes three rows per position and a
/// heatmap, and its deltas equal those of `texcnn variants` for the same edits.
#[test]
fn texcnn_variants_and_ism_tables() {
    let dir = std::env::temp_dir().join(format!("texcnn-variants-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let promoter = example_promoter();
    let fasta = dir.join("in.fa");
    std::fs::write(&fasta, format!(">p5 tss=1025\n{promoter}\n")).unwrap();
    let b = |pos: usize| &promoter[pos - 1..pos];
    let alt = |pos: usize| if b(pos) == "G" { "T" } else { "G" };
    let variants = dir.join("v.tsv");
    std::fs::write(
        &variants,
        format!(
            "id\tpos\tref\talt\tnote\np5\t1020\t{}\t{}\tgood\nnope\t5\tA\tC\tunknown id\np5\t1021\t{}\tA\tmismatch\np5\t3000\tA\tC\tout of range\np5\t1022\t{}\tX\tbad allele\np5\t1000\t{}\t{}\tgood\n",
            b(1020),
            alt(1020),
            if b(1021) == "T" { "C" } else { "T" },
            b(1022),
            b(1000),
            alt(1000),
        ),
    )
    .unwrap();
    let out = dir.join("out.tsv");
    let texcnn = |args: &[&std::ffi::OsStr]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_texcnn"))
            .args(args)
            .output()
            .unwrap()
    };
    let bundle = repo().join("www/models/default.texcnn");
    let run = texcnn(&[
        "variants".as_ref(),
        "--bundle".as_ref(),
        bundle.as_os_str(),
        "--fasta".as_ref(),
        fasta.as_os_str(),
        "--variants".as_ref(),
        variants.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    for (line, words) in [
        (3, "no record \"nope\""),
        (4, "does not match the record"),
        (5, "outside the record's 2048 bp"),
        (6, "alt allele \"X\""),
    ] {
        assert!(
            stderr.contains(&format!("v.tsv: line {line}: ")) && stderr.contains(words),
            "line {line}: {stderr}"
        );
    }
    let text = std::fs::read_to_string(&out).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(
        rows[0],
        [
            "id",
            "pos",
            "ref",
            "alt",
            "ref_xpresso_median",
            "alt_xpresso_median",
            "delta_xpresso_median",
            "ref_liver",
            "alt_liver",
            "delta_liver",
            "pos_tss",
            "inputs"
        ]
    );
    assert_eq!(rows.len(), 3, "{text}");
    assert_eq!(
        (rows[1][1], rows[1][10], rows[1][11]),
        ("1020", "-5", "dna")
    );
    assert_eq!((rows[2][1], rows[2][10]), ("1000", "-25"));
    let number = |s: &str| s.parse::<f32>().unwrap();
    for row in &rows[1..] {
        for first in [4, 7] {
            let (r, a, d) = (row[first], row[first + 1], row[first + 2]);
            assert!((number(a) - number(r) - number(d)).abs() < 1e-6, "{text}");
        }
    }

    let ism = dir.join("ism.tsv");
    let svg = dir.join("ism.svg");
    let run = texcnn(&[
        "ism".as_ref(),
        "--bundle".as_ref(),
        bundle.as_os_str(),
        "--fasta".as_ref(),
        fasta.as_os_str(),
        "--region".as_ref(),
        "1018..1022".as_ref(),
        "--out".as_ref(),
        ism.as_os_str(),
        "--svg".as_ref(),
        svg.as_os_str(),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(&ism).unwrap();
    let ism_rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(
        ism_rows[0],
        [
            "id",
            "pos",
            "ref",
            "alt",
            "delta_xpresso_median",
            "delta_liver",
            "pos_tss",
            "inputs"
        ]
    );
    assert_eq!(ism_rows.len(), 1 + 5 * 3, "{text}");
    let same = ism_rows
        .iter()
        .find(|r| r[1] == "1020" && r[3] == alt(1020))
        .unwrap();
    assert!(
        (number(same[4]) - number(rows[1][6])).abs() <= 1e-5,
        "{text}"
    );
    let picture = std::fs::read_to_string(&svg).unwrap();
    assert!(picture.starts_with("<svg") && picture.contains("bp from the TSS"));
    assert_eq!(picture.matches("<rect").count(), 5 * 4);
    let _ = std::fs::remove_dir_all(&dir);
}
