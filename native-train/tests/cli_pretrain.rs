//! `texcnn pretrain` end to end on a few real promoters: it writes the official layout and
//! a resumable checkpoint, and a second run continues where the first stopped.

use std::path::Path;
use std::process::Command;

fn fixture() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/promoters_excerpt.fa")
}

fn pretrain(out: &Path, steps: usize) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_texcnn"))
        .args(["pretrain", "--fasta"])
        .arg(fixture())
        .arg("--out")
        .arg(out)
        .args([
            "--hidden",
            "32",
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
