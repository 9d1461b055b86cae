//! Helpers shared by the command-line tests: the repository root and running the built
//! `texcnn` binary there.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (the tests' working directory for `texcnn`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs the `texcnn` binary built for these tests from the repository root.
pub fn texcnn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_texcnn"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("texcnn runs")
}
