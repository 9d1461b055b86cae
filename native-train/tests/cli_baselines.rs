//! `texcnn split`, `texcnn baseline kmer-ridge` and `texcnn evaluate` end to end.

use std::path::{Path, PathBuf};
use std::process::Command;

fn texcnn(args: &[&str]) -> (String, String, Option<i32>) {
    let out = Command::new(env!("CARGO_BIN_EXE_texcnn"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .output()
        .expect("the texcnn binary starts");
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code(),
    )
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("texcnn-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn kmer_ridge_then_evaluate_over_two_split_seeds() {
    let dir = scratch_dir("kmer");
    let d = dir.to_str().unwrap();
    let (_, err, code) = texcnn(&[
        "baseline",
        "kmer-ridge",
        "--data",
        "native-train/data/genes_2kb.tsv",
        "--label",
        "xpresso_log10_median_rpkm",
        "--k",
        "2",
        "--seeds",
        "0-1",
        "--out-dir",
        d,
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("1601 rows: 1285 loaded, 316 without label, 0 malformed"),
        "{err}"
    );
    assert!(
        err.contains(
            "seed 1: 1027 train, 129 valid, 129 test genes; 0 duplicate sequences removed"
        ),
        "{err}"
    );
    let p0 = dir.join("predictions_seed0.tsv");
    let p1 = dir.join("predictions_seed1.tsv");
    let svg = dir.join("scatter.svg");
    let (out, err, code) = texcnn(&[
        "evaluate",
        "--predictions",
        p0.to_str().unwrap(),
        p1.to_str().unwrap(),
        "--scatter",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("run\tseed\tn\tpearson_r\tr2\n"), "{out}");
    assert!(out.contains("R² on test over 2 runs: min "), "{out}");
    let picture = std::fs::read_to_string(&svg).unwrap();
    assert_eq!(picture.matches("<circle").count(), 129);
    // The split file of seed 0 reproduces the same predictions.
    let again = scratch_dir("kmer-again");
    let split = dir.join("split_seed0.json");
    let (_, err, code) = texcnn(&[
        "baseline",
        "kmer-ridge",
        "--data",
        "native-train/data/genes_2kb.tsv",
        "--label",
        "xpresso_log10_median_rpkm",
        "--k",
        "2",
        "--split",
        split.to_str().unwrap(),
        "--out-dir",
        again.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let rows = |p: &Path| -> Vec<String> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(rows(&p0), rows(&again.join("predictions_seed0.tsv")));
}

#[test]
fn a_split_for_other_data_is_refused() {
    let dir = scratch_dir("split");
    let split = dir.join("split.json");
    let (_, err, code) = texcnn(&[
        "split",
        "--data",
        "native-train/data/genes_2kb.tsv",
        "--label",
        "liver_ln1p_tpm",
        "--seed",
        "3",
        "--out",
        split.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("seed 3: 828 train, 104 valid, 104 test genes; 2 duplicate sequences removed"),
        "{err}"
    );
    let (_, err, code) = texcnn(&[
        "baseline",
        "kmer-ridge",
        "--data",
        "native-train/data/genes_2kb.tsv",
        "--label",
        "xpresso_log10_median_rpkm",
        "--split",
        split.to_str().unwrap(),
        "--out-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("error: the split was made for other data"),
        "{err}"
    );
}

#[test]
fn deeplncloc_rejects_bad_settings() {
    let dir = scratch_dir("dll-bad");
    let d = dir.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "baseline",
            "deeplncloc",
            "--data",
            "native-train/data/genes_2kb.tsv",
            "--label",
            "xpresso_log10_median_rpkm",
            "--out-dir",
            d,
        ];
        args.extend_from_slice(extra);
        texcnn(&args)
    };
    for (extra, message) in [
        (
            &["--k", "0"][..],
            "error: k must be between 1 and 12, got 0",
        ),
        (
            &["--subsequences", "0"][..],
            "error: the number of subsequences must be at least 1",
        ),
        (
            &["--w2v-dim", "0"][..],
            "error: word2vec vector size must be at least 1",
        ),
        (
            &["--subsequences", "2047"][..],
            "is 2048 bp, 2046 3-mers: too few to cut into 2047 subsequences \
             (lower --subsequences or --k)",
        ),
    ] {
        let (_, err, code) = run(extra);
        assert_eq!(code, Some(1), "{extra:?}: {err}");
        assert!(err.contains(message), "{extra:?}: {err}");
    }
}

#[test]
fn deeplncloc_trains_on_a_small_table() {
    use texcnn::rng::SplitMix64;
    let dir = scratch_dir("dll");
    // 40 random 120 bp genes (one with an N); the label is the GC fraction.
    let mut rng = SplitMix64::new(5);
    let mut table = String::from("gene_id\tlabel\tsequence\n");
    for g in 0..40 {
        let mut seq: Vec<u8> = (0..120).map(|_| b"ACGT"[rng.below(4) as usize]).collect();
        if g == 7 {
            seq[60] = b'N';
        }
        let gc = seq.iter().filter(|&&b| b == b'C' || b == b'G').count() as f64 / 120.0;
        table.push_str(&format!(
            "g{g}\t{gc}\t{}\n",
            String::from_utf8(seq).unwrap()
        ));
    }
    let data = dir.join("genes.tsv");
    std::fs::write(&data, table).unwrap();
    let (_, err, code) = texcnn(&[
        "baseline",
        "deeplncloc",
        "--data",
        data.to_str().unwrap(),
        "--subsequences",
        "8",
        "--w2v-dim",
        "8",
        "--w2v-epochs",
        "2",
        "--epochs",
        "2",
        "--seeds",
        "0-1",
        "--out-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("word2vec epoch 2: loss "), "{err}");
    assert!(err.contains("seed 1 epoch 2: train MSE "), "{err}");
    for seed in 0..2 {
        let pred =
            std::fs::read_to_string(dir.join(format!("predictions_seed{seed}.tsv"))).unwrap();
        assert!(pred.contains("# model: deeplncloc\n"), "{pred}");
        assert!(
            pred.contains("# deeplncloc: k 3, 8 subsequences; word2vec skip-gram on the training genes: dim 8,"),
            "{pred}"
        );
        let rows = pred.lines().filter(|l| l.starts_with('g')).count();
        assert_eq!(rows, 40, "{pred}");
        let log = std::fs::read_to_string(dir.join(format!("train_log_seed{seed}.tsv"))).unwrap();
        assert_eq!(log.lines().count(), 3, "{log}");
    }
    assert!(dir.join("split_seed0.json").exists());
}

/// R² (squared Pearson) of the test rows of a predictions file.
fn test_r2(path: &Path) -> f64 {
    let text = std::fs::read_to_string(path).unwrap();
    let (mut p, mut l) = (Vec::new(), Vec::new());
    for line in text.lines().filter(|l| !l.starts_with('#')).skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        if f[1] == "test" {
            l.push(f[2].parse::<f64>().unwrap());
            p.push(f[3].parse::<f64>().unwrap());
        }
    }
    let n = p.len() as f64;
    let (mp, ml) = (p.iter().sum::<f64>() / n, l.iter().sum::<f64>() / n);
    let cov: f64 = p.iter().zip(&l).map(|(a, b)| (a - mp) * (b - ml)).sum();
    let vp: f64 = p.iter().map(|a| (a - mp).powi(2)).sum();
    let vl: f64 = l.iter().map(|b| (b - ml).powi(2)).sum();
    cov * cov / (vp * vl)
}

/// 300 random 600 bp genes whose label is set by a per-gene feature the DNA does not carry
/// (`hidden`), or, for the genes the feature table lacks, by that absence; a second table
/// holds a length column (log-transformed by its name) and a malformed cell.
fn feature_data(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    use texcnn::rng::SplitMix64;
    let mut rng = SplitMix64::new(11);
    let mut data = String::from("gene_id\tlabel\tsequence\n");
    let mut hidden = String::from("gene_id\thidden\n");
    let mut lengths = String::from("gene_id\tCDSLEN\n");
    for g in 0..300 {
        let seq: String = (0..600)
            .map(|_| b"ACGT"[rng.below(4) as usize] as char)
            .collect();
        let h = rng.next_f64() * 4.0 - 2.0;
        let label = if g % 10 == 3 {
            -4.0
        } else {
            hidden.push_str(&format!("ENSG{g:011}.3\t{h}\n"));
            h
        };
        let cell = if g == 5 {
            "n/a?".to_string()
        } else {
            format!("{}", 100 + g)
        };
        lengths.push_str(&format!("ENSG{g:011}\t{cell}\n"));
        data.push_str(&format!("ENSG{g:011}\t{label}\t{seq}\n"));
    }
    let paths = (
        dir.join("genes.tsv"),
        dir.join("hidden.tsv"),
        dir.join("lengths.tsv"),
    );
    std::fs::write(&paths.0, data).unwrap();
    std::fs::write(&paths.1, hidden).unwrap();
    std::fs::write(&paths.2, lengths).unwrap();
    paths
}

#[test]
fn per_gene_features_reach_the_ridge_baselines() {
    let dir = scratch_dir("features-ridge");
    let (data, hidden, lengths) = feature_data(&dir);
    let tables = format!("{},{}", hidden.display(), lengths.display());
    let run = |args: &[&str], out: &str| -> f64 {
        let out_dir = dir.join(out);
        let mut all = vec!["baseline"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--data", data.to_str().unwrap(), "--seeds", "0"]);
        all.extend_from_slice(&["--out-dir", out_dir.to_str().unwrap()]);
        let (_, err, code) = texcnn(&all);
        assert_eq!(code, Some(0), "{err}");
        test_r2(&out_dir.join("predictions_seed0.tsv"))
    };
    let features_only = run(&["feature-ridge", "--features", &tables], "f");
    let kmers_only = run(&["kmer-ridge", "--k", "2"], "k");
    let both = run(
        &[
            "kmer-ridge",
            "--k",
            "2",
            "--use-features",
            "--features",
            &tables,
        ],
        "kf",
    );
    // The label is the hidden feature (or its absence): only models that read it fit it.
    assert!(features_only > 0.9, "features alone: R² {features_only}");
    assert!(both > 0.9, "k-mers + features: R² {both}");
    assert!(kmers_only < 0.3, "k-mers alone: R² {kmers_only}");
    // The genes without `hidden` are fitted through its missing-value indicator: without it
    // they would be read as average genes and R² above could not reach 0.9.
    let feature_ridge = |extra: &[&str], out: &str| -> (String, Option<i32>) {
        let out_dir = dir.join(out);
        let mut all = vec![
            "baseline",
            "feature-ridge",
            "--data",
            data.to_str().unwrap(),
        ];
        all.extend_from_slice(extra);
        all.extend_from_slice(&["--out-dir", out_dir.to_str().unwrap()]);
        let (_, err, code) = texcnn(&all);
        (err, code)
    };
    let (err, code) = feature_ridge(
        &[
            "--features",
            &tables,
            "--feature-columns",
            "hid*,CDSLEN:raw",
        ],
        "sel",
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains(&format!(
            "malformed: {}: line 7: column 2 (CDSLEN): \"n/a?\" is not a number; counted as missing",
            lengths.display()
        )),
        "{err}"
    );
    assert!(
        err.contains("features: 2 columns from ")
            && err.contains(" (300 genes); of 300 examples 269 have every value, 31 some, 0 none"),
        "{err}"
    );
    let pred = std::fs::read_to_string(dir.join("sel/predictions_seed0.tsv")).unwrap();
    assert!(
        pred.contains("# model: feature-ridge (2 features)\n"),
        "{pred}"
    );
    // Errors name what is wrong.
    let (err, code) = feature_ridge(
        &["--features", &tables, "--feature-columns", "sure_*"],
        "bad",
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("--feature-columns \"sure_*\" matches no column of the feature tables (columns: hidden, CDSLEN)"),
        "{err}"
    );
    let (err, code) = feature_ridge(&[], "none");
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("no per-gene features to use: give --features TABLE"),
        "{err}"
    );
}

#[test]
fn fit_feeds_per_gene_features_to_the_head() {
    let dir = scratch_dir("features-fit");
    let (data, hidden, lengths) = feature_data(&dir);
    let tables = format!("{},{}", hidden.display(), lengths.display());
    let out_dir = dir.join("run");
    let cache = dir.join("cache");
    let bundle = dir.join("model.texcnn");
    let args = vec![
        "fit",
        "--data",
        data.to_str().unwrap(),
        "--features",
        &tables,
        "--encoder",
        "tests/fixtures/dnabert2_golden_tiny",
        "--quantize",
        "f32",
        "--window",
        "600",
        "--segment-len",
        "200",
        "--stride",
        "100",
        "--filters",
        "2",
        "--dense",
        "16",
        "--dropout",
        "0",
        "--lr",
        "0.01",
        "--epochs",
        "40",
        "--patience",
        "40",
        "--cache-dir",
        cache.to_str().unwrap(),
        "--out-dir",
        out_dir.to_str().unwrap(),
        "--bundle-out",
        bundle.to_str().unwrap(),
        "--feature-licence",
        "hidden.tsv=CC0 (made up by this test)",
    ];
    let (_, err, code) = texcnn(&args);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains(
            "head inputs beside the DNA: 2 per-gene features + 2 missing-value indicators"
        ),
        "{err}"
    );
    // lengths.tsv has no --feature-licence: said, and recorded as not given.
    assert!(
        err.contains("warning: no --feature-licence lengths.tsv=TEXT"),
        "{err}"
    );
    let pred = std::fs::read_to_string(out_dir.join("predictions_seed0.tsv")).unwrap();
    assert!(
        pred.contains("with 2 per-gene features + 2 missing-value indicators"),
        "{pred}"
    );
    let with_features = test_r2(&out_dir.join("predictions_seed0.tsv"));
    // The bundle's DNA-only head (the same head without the features) cannot know the label.
    let dna_only = test_r2(&out_dir.join("dna_only/predictions_seed0.tsv"));
    assert!(
        with_features > 0.7,
        "DNA + features: test R² {with_features}"
    );
    assert!(dna_only < 0.2, "DNA alone: test R² {dna_only}");

    // The bundle predicts what training predicted: with the features for records named by a
    // gene it carries (any version suffix or |-extras), from the DNA alone for the others.
    let trained = |path: PathBuf| -> Vec<(String, f64)> {
        let text = std::fs::read_to_string(path).unwrap();
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .skip(1)
            .map(|l| l.split('\t').collect::<Vec<_>>())
            .filter(|f| f[1] == "test")
            .map(|f| (f[0].to_string(), f[3].parse().unwrap()))
            .collect()
    };
    let with = trained(out_dir.join("predictions_seed0.tsv"));
    let without = trained(out_dir.join("dna_only/predictions_seed0.tsv"));
    let sequences: std::collections::HashMap<String, String> = std::fs::read_to_string(&data)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].to_string(), f[2].to_string())
        })
        .collect();
    let predict = |fasta: &str, extra: &[&str]| -> Vec<(String, f64, String)> {
        let (input, out) = (dir.join("in.fa"), dir.join("out.tsv"));
        std::fs::write(&input, fasta).unwrap();
        let mut all = vec!["predict", "--bundle", bundle.to_str().unwrap()];
        all.extend_from_slice(&["--fasta", input.to_str().unwrap()]);
        all.extend_from_slice(&["--out", out.to_str().unwrap()]);
        all.extend_from_slice(extra);
        let (_, err, code) = texcnn(&all);
        assert_eq!(code, Some(0), "{err}");
        let text = std::fs::read_to_string(out).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("id\txpresso_median\tinputs\tread\tnotes")
        );
        lines
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                (f[0].to_string(), f[1].parse().unwrap(), f[2].to_string())
            })
            .collect()
    };
    let named: String = with
        .iter()
        .enumerate()
        .map(|(k, (id, _))| {
            let suffix = if k % 2 == 0 { ".7|SYMBOL" } else { "" };
            format!(">{id}{suffix}\n{}\n", sequences[id])
        })
        .collect();
    let rows = predict(&named, &[]);
    assert_eq!(rows.len(), with.len());
    for ((id, value, inputs), (_, trained)) in rows.iter().zip(&with) {
        assert_eq!(inputs, "dna+features", "{id}");
        assert!((value - trained).abs() < 1e-4, "{id}: {value} vs {trained}");
    }
    let anonymous: String = without
        .iter()
        .enumerate()
        .map(|(k, (id, _))| format!(">promoter{k}\n{}\n", sequences[id]))
        .collect();
    let rows = predict(&anonymous, &[]);
    for ((id, value, inputs), (_, trained)) in rows.iter().zip(&without) {
        assert_eq!(inputs, "dna", "{id}");
        assert!((value - trained).abs() < 1e-4, "{id}: {value} vs {trained}");
    }

    // --features supplies a gene the bundle lacks: given a known gene's values under a new id,
    // it predicts what that gene gets from the bundle.
    let (g, _) = with
        .iter()
        .map(|(id, _)| (id.clone(), id[4..].parse::<usize>().unwrap()))
        .find(|(_, n)| n % 10 != 3 && *n != 5)
        .unwrap();
    let h = std::fs::read_to_string(&hidden)
        .unwrap()
        .lines()
        .find(|l| l.starts_with(&g))
        .unwrap()
        .split('\t')
        .nth(1)
        .unwrap()
        .to_string();
    let cds = 100 + g[4..].parse::<usize>().unwrap();
    let table = dir.join("mine.tsv");
    std::fs::write(
        &table,
        format!("gene_id\thidden\tCDSLEN\nENSG99999999999\t{h}\t{cds}\n"),
    )
    .unwrap();
    let fasta = format!(">{g}\n{0}\n>ENSG99999999999.1\n{0}\n", sequences[&g]);
    let rows = predict(&fasta, &["--features", table.to_str().unwrap()]);
    assert_eq!(rows[1].2, "dna+features");
    assert!((rows[0].1 - rows[1].1).abs() < 1e-5, "{rows:?}");
    let rows = predict(&fasta, &[]);
    assert_eq!(
        (rows[0].2.as_str(), rows[1].2.as_str()),
        ("dna+features", "dna")
    );

    // A table with none of the model's columns is refused, naming them.
    std::fs::write(&table, "gene_id\tother\nENSG99999999999\t1\n").unwrap();
    let input = dir.join("in.fa");
    let (_, err, code) = texcnn(&[
        "predict",
        "--bundle",
        bundle.to_str().unwrap(),
        "--fasta",
        input.to_str().unwrap(),
        "--out",
        dir.join("x.tsv").to_str().unwrap(),
        "--features",
        table.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("none of its columns is one the model reads (hidden, CDSLEN)"),
        "{err}"
    );

    // A licence for a table that is not among --features is refused before any work.
    let mut typo = args.clone();
    let n = typo.len();
    typo[n - 1] = "hiden.tsv=CC0";
    let (_, err, code) = texcnn(&typo);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("no --features table is named hiden.tsv (tables: hidden.tsv, lengths.tsv)"),
        "{err}"
    );

    // The card names both paths and the sources' licences.
    let (out, err, code) = texcnn(&["inspect", bundle.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("R² (squared Pearson), DNA + per-gene features"),
        "{out}"
    );
    assert!(
        out.contains("hidden.tsv: CC0 (made up by this test)"),
        "{out}"
    );
    assert!(
        out.contains("lengths.tsv: not given to texcnn fit"),
        "{out}"
    );
}
