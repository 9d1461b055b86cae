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
