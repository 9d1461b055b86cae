//! `texcnn pretrain` end to end on a few real promoters: it writes the official layout and
//! a resumable checkpoint, and a second run continues where the first stopped.

use std::path::Path;
use std::process::Command;

fn fixture() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/promoters_excerpt.fa")
}

fn pretrain(out: &Path, steps: usize) -> std::process::Output {
    pretrain_with(out, steps, "32", &[])
}

/// `texcnn pretrain` of a tiny encoder (hidden `hidden`) for `steps` steps, with `extra`
/// arguments.
fn pretrain_with(out: &Path, steps: usize, hidden: &str, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_texcnn"))
        .args(["pretrain", "--fasta"])
        .arg(fixture())
        .arg("--out")
        .arg(out)
        .args([
            "--hidden",
            hidden,
            "--layers",
            "1",
            "--heads",
            "2",
            "--crop-bp",
            "200",
        ])
        .args([
            "--batch",
            "4",
            "--warmup",
            "1",
            "--checkpoint-every",
            "2",
            "--eval-crops",
            "8",
        ])
        .args(["--heldout-per-mille", "200", "--steps", &steps.to_string()])
        .args(extra)
        .output()
        .expect("texcnn runs")
}

fn log_steps(out: &Path) -> Vec<usize> {
    std::fs::read_to_string(out.join("log.tsv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split('\t').next().unwrap().parse().unwrap())
        .collect()
}

#[test]
fn pretrain_writes_official_layout_and_resumes() {
    let dir = std::env::temp_dir().join(format!("texcnn-pretrain-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let first = pretrain(&dir, 4);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    for file in [
        "config.json",
        "tokenizer.json",
        "model.safetensors",
        "loss.svg",
        "log.tsv",
        "model_card.json",
    ] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    assert_eq!(log_steps(&dir), [2, 4]);

    // The saved folder loads through the same loader as the official DNABERT-2.
    let bytes = std::fs::read(dir.join("model.safetensors")).unwrap();
    let checkpoint = texcnn::encoder::Checkpoint::from_safetensors(bytes).unwrap();
    assert!(
        checkpoint
            .tensors
            .contains_key("bert.encoder.layer.0.attention.self.Wqkv.weight")
    );
    assert!(
        checkpoint
            .tensors
            .contains_key("cls.predictions.decoder.bias")
    );
    let loaded =
        texcnn_native::files::hf_folder::load_hf_folder(&dir, &burn::tensor::Device::flex())
            .unwrap();
    assert_eq!(loaded.config.hidden_size, 32);

    let second = pretrain(&dir, 6);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success(), "{stderr}");
    assert!(stderr.contains("resuming"), "{stderr}");
    assert_eq!(log_steps(&dir), [2, 4, 6]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The tensors of the folder's model.safetensors, by name.
fn tensors(dir: &Path) -> std::collections::BTreeMap<String, Vec<f32>> {
    let bytes = std::fs::read(dir.join("model.safetensors")).unwrap();
    let checkpoint = texcnn::encoder::Checkpoint::from_safetensors(bytes).unwrap();
    checkpoint
        .tensors
        .iter()
        .map(|(name, t)| (name.clone(), t.to_f32().unwrap()))
        .collect()
}

#[test]
fn pretrain_continues_from_a_model_folder() {
    let root = std::env::temp_dir().join(format!("texcnn-pretrain-init-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let base = root.join("base");
    let first = pretrain(&base, 2);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );

    // At learning rate 0 a run changes no weight: started from `base` it must save base's
    // tensors (encoder and MLM head), every one; started at random it does not.
    let init = base.to_str().unwrap();
    let continued = root.join("continued");
    let out = pretrain_with(&continued, 2, "32", &["--lr", "0", "--init-from", init]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("starting from the weights of"), "{stderr}");
    let want = tensors(&base);
    assert!(
        want.keys()
            .any(|k| k.starts_with("cls.predictions.transform"))
    );
    assert_eq!(tensors(&continued), want);
    let card = std::fs::read_to_string(continued.join("model_card.json")).unwrap();
    assert!(
        card.contains(&format!("\"initialised_from\": \"{init}\"")),
        "{card}"
    );
    let fresh = root.join("fresh");
    let out = pretrain_with(&fresh, 2, "32", &["--lr", "0"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(tensors(&fresh), want);

    // Other sizes are refused, saying which.
    let out = pretrain_with(&root.join("wider"), 2, "64", &["--init-from", init]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("--init-from") && stderr.contains("sizes"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn pretrain_rejects_a_missing_file() {
    let out = Command::new(env!("CARGO_BIN_EXE_texcnn"))
        .args(["pretrain", "--fasta", "/nonexistent.fa", "--out"])
        .arg(std::env::temp_dir().join("texcnn-never-written"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("reading /nonexistent.fa"));
}
