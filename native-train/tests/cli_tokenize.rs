//! `texcnn tokenize` end to end: good records print, bad ones are reported and skipped.

use std::io::Write;
use std::process::{Command, Stdio};

fn texcnn(args: &[&str], stdin: &str) -> (String, String, Option<i32>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_texcnn"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the texcnn binary starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code(),
    )
}

#[test]
fn tokenize_prints_ids_and_reports_bad_records() {
    let input = ">card\nACGTAGCATCGGATCTATCTATCGACACTTGGTTATCGATCTACGAGCATCTCGTTAGC\n>bad\nACXT\n>tiny\nnnn\n";
    let (stdout, stderr, code) = texcnn(&["tokenize", "--fasta", "-"], input);
    assert_eq!(
        stdout,
        "card\t1\t5\t194\t32\t757\t1239\t2092\t294\t24\t359\t88\t93\t32\t75\t77\t19\t2\ntiny\t1\t0\t0\t0\t2\n"
    );
    assert_eq!(
        stderr.trim_end(),
        "-: record 2 (\"bad\"), line 4, column 3: invalid character 'X'; expected A, C, G, T, U, N or an IUPAC code (R Y S W K M B D H V)"
    );
    assert_eq!(code, Some(2));
}

#[test]
fn tokenize_reports_a_missing_file() {
    let (stdout, stderr, code) = texcnn(&["tokenize", "--fasta", "/nonexistent/x.fa"], "");
    assert!(stdout.is_empty());
    assert!(
        stderr.starts_with("error: reading /nonexistent/x.fa"),
        "{stderr}"
    );
    assert_eq!(code, Some(1));
}
