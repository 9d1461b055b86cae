//! The three loaders on real files (and small made-up ones for the malformed cases), the split
//! file round trip, and the k-mer ridge baseline end to end.
//!
//! Expected values of the h5 files were read independently with h5py 3.16 (decoding each
//! one-hot row with argmax, all-zero rows as N) and are written here as literals.

use std::path::{Path, PathBuf};

use texcnn_native::baselines::kmer_ridge::{self, KmerRidgeConfig};
use texcnn_native::data::fasta::{FastaOptions, load_fasta_with_labels};
use texcnn_native::data::h5::{H5Options, load_h5};
use texcnn_native::data::split::{Part, SplitFractions};
use texcnn_native::data::split_file::{SplitFile, SplitFileError, make_split};
use texcnn_native::data::table::{TableOptions, load_table};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

#[cfg(feature = "h5")]
fn counts(s: &str) -> [usize; 5] {
    let mut c = [0; 5];
    for b in s.bytes() {
        c["ACGTN".find(b as char).unwrap()] += 1;
    }
    c
}

/// A scratch file under the target's temp dir, unique per test.
fn scratch(name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("texcnn-data-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

#[cfg(feature = "h5")]
#[test]
fn pig_h5_loads_ten_genes_with_their_labels_and_sequences() {
    let ds = load_h5(
        &repo("tests/fixtures/pig_test_10seq.h5"),
        &H5Options::default(),
    )
    .unwrap();
    assert_eq!(ds.examples.len(), 10);
    assert_eq!(ds.report.rows, 10);
    assert!(ds.report.malformed.is_empty());
    assert_eq!(ds.feature_names.len(), 8);
    let first = &ds.examples[0];
    assert_eq!(first.id, "ENSSSCG00000000010");
    assert_eq!(first.label, 0.241_367_574_022_692_9);
    assert_eq!(first.sequence.len(), 10_500);
    assert!(first.sequence.starts_with("AAATTTTATTTGCTTTCCTTTACATCAGCA"));
    assert!(first.sequence.ends_with("ATACAATAAAAGTTTTTTGTCTTCTTTTTT"));
    assert_eq!(counts(&first.sequence), [2204, 2896, 3061, 2339, 0]);
    assert_eq!(first.features, vec![0.0; 8]);
    let last = &ds.examples[9];
    assert_eq!(last.id, "ENSSSCG00000000198");
    assert_eq!(last.label, -0.824_121_297_851_733_4);
    assert!(last.sequence.starts_with("CTTTCTCCCCTTTCAGGTCTCTCCACCTTA"));
    assert_eq!(counts(&last.sequence), [2170, 2956, 3086, 2288, 0]);
}

#[cfg(feature = "h5")]
#[test]
fn xpresso_bool_h5_is_cut_to_the_model_window_and_reports_bad_records() {
    let ds = load_h5(
        &repo("tests/fixtures/xpresso_layout_bool_4genes.h5"),
        &H5Options::default(),
    )
    .unwrap();
    assert_eq!(ds.report.rows, 4);
    assert_eq!(ds.report.missing_label, 1);
    assert_eq!(ds.report.malformed.len(), 1);
    let bad = &ds.report.malformed[0];
    assert_eq!(bad.line, 2);
    assert!(bad.is_record);
    assert!(
        bad.to_string().ends_with(
            "record 2: \"ENSG00000000003\": promoter position 2000: more than one base is set"
        ),
        "{bad}"
    );
    let ids: Vec<&str> = ds.examples.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["ENSG00000000001", "ENSG00000000002"]);
    let (g0, g1) = (&ds.examples[0], &ds.examples[1]);
    assert_eq!(g0.sequence.len(), 10_500);
    assert!(g0.sequence.starts_with("AGATCAGCAACTCGTCAAGTTTAAAGTATA"));
    assert!(g0.sequence.ends_with("TTGAGGTGGTAGGGACTACTGGTTATACAA"));
    assert_eq!(counts(&g0.sequence), [2630, 2645, 2581, 2644, 0]);
    assert!(g1.sequence.starts_with("NNNNNNNNNNTCTACAAGTGCACCATTATG"));
    assert_eq!(counts(&g1.sequence), [2674, 2536, 2557, 2723, 10]);
    assert_eq!(g1.label, -1.25);
    assert_eq!(g1.features, vec![0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5]);
    // The whole 20 kb promoter on request.
    let whole = load_h5(
        &repo("tests/fixtures/xpresso_layout_bool_4genes.h5"),
        &H5Options {
            window: Some((0, 20_000)),
        },
    )
    .unwrap();
    assert!(
        whole.examples[0]
            .sequence
            .starts_with("ATATGAGCGGAGATACGGAG")
    );
    assert!(whole.examples[0].sequence[3000..13_500] == g0.sequence[..]);
    // A window past the end is an error, not a silent truncation.
    let err = load_h5(
        &repo("tests/fixtures/pig_test_10seq.h5"),
        &H5Options {
            window: Some((3000, 13_500)),
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("does not fit"), "{err}");
}

/// A build without the `h5` feature names the file and says how to get one that reads it.
#[cfg(not(feature = "h5"))]
#[test]
fn h5_without_the_feature_is_an_error_that_says_how_to_enable_it() {
    let path = repo("tests/fixtures/pig_test_10seq.h5");
    let err = load_h5(&path, &H5Options::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("pig_test_10seq.h5"), "{err}");
    assert!(err.contains("--features h5"), "{err}");
    assert!(err.contains("libhdf5-dev"), "{err}");
}

#[test]
fn genes_2kb_table_counts_missing_labels() {
    let path = repo("native-train/data/genes_2kb.tsv");
    let ds = load_table(&path, &TableOptions::new("xpresso_log10_median_rpkm")).unwrap();
    assert_eq!(ds.report.rows, 1601);
    assert_eq!(ds.report.missing_label, 316);
    assert!(ds.report.malformed.is_empty());
    assert_eq!(ds.examples.len(), 1285);
    let first = &ds.examples[0];
    assert_eq!(first.id, "ENSG00000000938");
    assert_eq!(first.label, -0.263603497723358);
    assert_eq!(first.sequence.len(), 2048);
    assert!(first.sequence.starts_with("AGCCCCGCGGCGGCCCAGCG"));
    assert_eq!(first.origin, 2);
    let liver = load_table(&path, &TableOptions::new("liver_ln1p_tpm")).unwrap();
    assert_eq!(liver.report.missing_label, 563);
    assert_eq!(liver.examples.len(), 1601 - 563);
}

#[test]
fn exp14_csv_without_ids_gets_line_ids() {
    let ds = load_table(
        &repo("tests/fixtures/exp14_dev_head5.csv"),
        &TableOptions::new("label"),
    )
    .unwrap();
    let got: Vec<(&str, f64)> = ds
        .examples
        .iter()
        .map(|e| (e.id.as_str(), e.label))
        .collect();
    assert_eq!(
        got,
        [
            ("line_2", 0.023),
            ("line_3", 2.829),
            ("line_4", 1.477),
            ("line_5", 0.0),
            ("line_6", 3.013)
        ]
    );
    assert!(ds.examples[0].sequence.starts_with("CTCACTGAGGGCAAAACATC"));
    assert!(ds.examples.iter().all(|e| e.sequence.len() == 2048));
}

#[test]
fn malformed_table_rows_are_reported_by_line() {
    let path = scratch(
        "bad.tsv",
        "gene_id\tlevel\thalf_life\tsequence\n\
         g1\t1.5\t0.1\tACGT\n\
         g2\t\t0.2\tACGA\n\
         g3\tabc\t0.3\tACGG\n\
         g4\t2.0\t0.4\tACXT\n\
         g5\t2.5\t0.5\n\
         g1\t3.0\t0.6\tACCC\n\
         \n\
         g6\t-1\tNaN\tACTT\n\
         g7\t0.5\t0.7\tacgu\n",
    );
    let mut options = TableOptions::new("level");
    options.feature_columns = vec!["half_life".to_string()];
    let ds = load_table(&path, &options).unwrap();
    let ids: Vec<&str> = ds.examples.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["g1", "g7"]);
    assert_eq!(ds.examples[1].sequence, "ACGT");
    assert_eq!(ds.examples[1].features, vec![0.7]);
    assert_eq!(ds.report.missing_label, 1);
    assert_eq!(ds.report.rows, 8);
    let lines: Vec<String> = ds
        .report
        .malformed
        .iter()
        .map(|e| format!("{}: {}", e.line, e.message))
        .collect();
    assert_eq!(
        lines,
        [
            "4: label \"abc\" is not a number",
            "5: sequence column 3: invalid character 'X'",
            "6: 3 fields, expected 4 (as in the header)",
            "7: id \"g1\" already used on line 2",
            "9: feature half_life = \"NaN\" is not a finite number",
        ]
    );
    let err = load_table(&path, &TableOptions::new("expression")).unwrap_err();
    assert!(
        err.to_string().ends_with(
            "no column named \"expression\" (columns: gene_id, level, half_life, sequence)"
        ),
        "{err}"
    );
}

#[test]
fn fasta_joins_labels_by_id() {
    let fasta = scratch(
        "join.fa",
        ">g1|TPM=3 extra words\nACGT\nACGT\n>g2|x\nTTTT\n>g3|x\nGGXG\n>g4|x\nCCCC\n>g1|again\nAAAA\n",
    );
    let labels = scratch(
        "join_labels.csv",
        "gene_id,tpm\ng1,1.5\ng2,\ng4,4.0\ng9,9.0\ng4,5.0\n",
    );
    let options = FastaOptions {
        id_column: None,
        label_column: "tpm".to_string(),
        feature_columns: vec![],
        id_separator: Some('|'),
    };
    let ds = load_fasta_with_labels(&fasta, &labels, &options).unwrap();
    let got: Vec<(&str, &str, f64)> = ds
        .examples
        .iter()
        .map(|e| (e.id.as_str(), e.sequence.as_str(), e.label))
        .collect();
    assert_eq!(got, [("g1", "ACGTACGT", 1.5), ("g4", "CCCC", 4.0)]);
    assert_eq!(ds.report.missing_label, 1); // g2
    assert_eq!(ds.report.unmatched_labels, 1); // g9
    let messages: Vec<String> = ds.report.malformed.iter().map(|e| e.to_string()).collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert!(messages[0].ends_with("join_labels.csv: line 6: id \"g4\" already used on line 4"));
    assert!(
        messages[1].contains("join.fa: line 7: record 3 (\"g3|x\"), line 7, column 3"),
        "{messages:?}"
    );
    assert!(
        messages[2].ends_with("join.fa: line 10: id \"g1\" already used by the record on line 1")
    );
}

#[test]
fn split_file_round_trips_and_refuses_other_data() {
    let path = repo("native-train/data/genes_2kb.tsv");
    let ds = load_table(&path, &TableOptions::new("xpresso_log10_median_rpkm")).unwrap();
    let split = make_split(&ds, 0, SplitFractions::default()).unwrap();
    assert_eq!(
        (split.train.len(), split.valid.len(), split.test.len()),
        (1027, 129, 129)
    );
    assert!(split.duplicates_removed.is_empty());
    let file = std::env::temp_dir().join(format!("texcnn-split-{}.json", std::process::id()));
    split.write(&file).unwrap();
    let back = SplitFile::read(&file).unwrap();
    assert_eq!(back, split);
    let parts = back.assign(&ds).unwrap();
    assert_eq!(
        parts.iter().filter(|p| **p == Some(Part::Test)).count(),
        129
    );
    // The same seed gives the same split; another seed another one.
    assert_eq!(
        make_split(&ds, 0, SplitFractions::default()).unwrap(),
        split
    );
    assert_ne!(
        make_split(&ds, 1, SplitFractions::default()).unwrap().test,
        split.test
    );
    let liver = load_table(&path, &TableOptions::new("liver_ln1p_tpm")).unwrap();
    assert!(matches!(
        back.assign(&liver),
        Err(SplitFileError::Fingerprint { .. })
    ));
}

#[test]
fn duplicate_sequences_never_cross_splits() {
    // 40 genes; genes 30..39 repeat the sequences of genes 0..9 (base-4 digits of the index).
    let mut text = String::from("gene_id\tlabel\tsequence\n");
    for i in 0..40usize {
        let j = if i >= 30 { i - 30 } else { i };
        let seq: String = (0..8)
            .map(|p| b"ACGT"[(j >> (2 * p)) & 3] as char)
            .collect();
        text.push_str(&format!("g{i}\t{i}\t{seq}\n"));
    }
    let path = scratch("dups.tsv", &text);
    let ds = load_table(&path, &TableOptions::new("label")).unwrap();
    assert_eq!(ds.examples.len(), 40);
    let split = make_split(&ds, 7, SplitFractions::default()).unwrap();
    assert_eq!(split.duplicates_removed.len(), 10);
    assert_eq!(split.duplicates_removed[0].removed, "g30");
    assert_eq!(split.duplicates_removed[0].kept, "g0");
    assert_eq!(split.train.len() + split.valid.len() + split.test.len(), 30);
    let parts = split.assign(&ds).unwrap();
    assert!(parts[30..].iter().all(Option::is_none));
}

#[test]
fn kmer_ridge_beats_chance_on_held_out_genes() {
    let path = repo("native-train/data/genes_2kb.tsv");
    let ds = load_table(&path, &TableOptions::new("xpresso_log10_median_rpkm")).unwrap();
    let split = make_split(&ds, 0, SplitFractions::default()).unwrap();
    let parts = split.assign(&ds).unwrap();
    let run = kmer_ridge::run(&ds, &parts, &KmerRidgeConfig::default()).unwrap();
    // Cross-checked with numpy (closed-form ridge on standardised 4-mer frequencies, same
    // split and α grid): α = 1000, test R² = 0.2786 for split seed 0.
    assert_eq!(run.model.alpha, 1000.0);
    let (pred, label): (Vec<f64>, Vec<f64>) = run
        .predictions
        .iter()
        .filter(|p| p.part == Part::Test)
        .map(|p| (p.prediction, p.label))
        .unzip();
    let s = texcnn_native::eval::metrics::scores(&pred, &label).unwrap();
    assert_eq!(s.n, 129);
    assert!((s.r2 - 0.2786).abs() < 5e-4, "R² {}", s.r2);
}

/// Whatever bytes a user's table, FASTA-with-labels or split file holds, the loaders answer
/// with data or an error, never a panic.
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    /// Table text: a header from plausible and arbitrary column names, then rows of cells
    /// that may hold quotes, delimiters, line breaks, numbers, DNA and junk.
    fn table_text() -> impl Strategy<Value = Vec<u8>> {
        let name = prop_oneof![
            Just("sequence".to_string()),
            Just("label".to_string()),
            Just("gene_id".to_string()),
            Just("f1".to_string()),
            "[a-z_\"]{0,6}",
        ];
        let cell = prop_oneof![
            "[ACGTNacgtn]{0,40}",
            "-?[0-9]{0,4}(\\.[0-9]{0,3})?(e-?[0-9]{1,3})?",
            Just("NA".to_string()),
            "[ -~]{0,12}",
            "\"[^\"]{0,8}\"?",
        ];
        (
            proptest::collection::vec(name, 0..6),
            proptest::collection::vec(proptest::collection::vec(cell, 0..7), 0..8),
            proptest::sample::select(vec!["\t", ",", ";"]),
            proptest::collection::vec(any::<u8>(), 0..16),
        )
            .prop_map(|(header, rows, sep, junk)| {
                let mut text = header.join(sep).into_bytes();
                for row in rows {
                    text.push(b'\n');
                    text.extend(row.join(sep).into_bytes());
                }
                text.extend(junk);
                text
            })
    }

    fn options() -> TableOptions {
        TableOptions {
            id_column: None,
            feature_columns: vec!["f1".to_string()],
            ..TableOptions::new("label")
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn tables_never_panic(text in table_text(), ext in proptest::sample::select(vec!["tsv", "csv", "txt", "csv.gz"])) {
            let path = scratch(&format!("fuzz.{ext}"), "");
            std::fs::write(&path, &text).unwrap();
            let _ = load_table(&path, &options());
            let _ = load_table(&path, &TableOptions::new("label"));
        }

        #[test]
        fn fasta_with_labels_never_panics(
            fasta in proptest::collection::vec(any::<u8>(), 0..300),
            records in proptest::collection::vec(("[a-z0-9|.]{0,6}", "[ -~]{0,12}", "[ACGTNX]{0,30}"), 0..5),
            labels in table_text(),
        ) {
            let mut fasta = fasta;
            for (id, attrs, dna) in records {
                fasta.extend(format!("\n>{id} {attrs}\n{dna}\n").into_bytes());
            }
            let fa = scratch("fuzz.fa", "");
            std::fs::write(&fa, &fasta).unwrap();
            let tsv = scratch("fuzz_labels.tsv", "");
            std::fs::write(&tsv, &labels).unwrap();
            let _ = load_fasta_with_labels(&fa, &tsv, &FastaOptions {
                id_column: None,
                label_column: "label".to_string(),
                feature_columns: Vec::new(),
                id_separator: Some('|'),
            });
        }

        /// A split file damaged anywhere (flipped bytes, cut short) or made of arbitrary bytes
        /// reads as an error or as a split that is then checked against the data set.
        #[test]
        fn split_files_never_panic(
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
            cut in any::<prop::sample::Index>(),
            raw in proptest::collection::vec(any::<u8>(), 0..64),
            use_raw in any::<bool>(),
        ) {
            let table = scratch("fuzz_split.tsv", "gene_id\tsequence\tlabel\ng1\tACGT\t1\ng2\tGGCC\t2\ng3\tTTAA\t3\ng4\tCCAA\t4\n");
            let ds = load_table(&table, &TableOptions::new("label")).unwrap();
            let split = make_split(&ds, 0, SplitFractions::default()).unwrap();
            let path = scratch("fuzz_split.json", "");
            split.write(&path).unwrap();
            let mut bytes = std::fs::read(&path).unwrap();
            for (at, value) in flips {
                let i = at.index(bytes.len());
                bytes[i] = value;
            }
            bytes.truncate(cut.index(bytes.len() + 1));
            std::fs::write(&path, if use_raw { &raw } else { &bytes }).unwrap();
            if let Ok(file) = SplitFile::read(&path) {
                let _ = file.assign(&ds);
            }
        }
    }
}
