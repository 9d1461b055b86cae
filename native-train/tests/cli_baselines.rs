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
