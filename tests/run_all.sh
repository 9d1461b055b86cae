#!/usr/bin/env bash
# Runs every check of the project on a fresh machine (Rust toolchain, Python 3, Node, npm;
# Debian's libhdf5-dev is installed here when missing):
# installs what is missing, then fmt, clippy (host and wasm32), the native tests and the
# wasm32 tests, and ends with one summary line over all test binaries.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*" >&2; }

# --- prerequisites (idempotent) -------------------------------------------------------------
log "prerequisites"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
# The h5 data loader (native-train, hdf5-metno) links the system HDF5 library.
if ! pkg-config --exists hdf5 2>/dev/null; then
    log "installing libhdf5-dev and pkg-config (Debian)"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libhdf5-dev pkg-config >/dev/null
fi
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown
fi
# wasm-bindgen-cli must match the wasm-bindgen crate exactly (the version in Cargo.lock).
WB_VERSION=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/[^0-9.]/, ""); print; exit}' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WB_VERSION" ]; then
    log "installing wasm-bindgen-cli $WB_VERSION (a few minutes)"
    # Without --locked: the CLI's own lockfile pins crates that no longer build (STACK.md).
    cargo install wasm-bindgen-cli --version "$WB_VERSION" --quiet
fi
export PATH="$HOME/.cargo/bin:$PATH"

LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
run_tests() { "$@" 2>&1 | tee -a "$LOG"; }

# --- static checks --------------------------------------------------------------------------
log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy (host)"
cargo clippy --workspace --all-targets --quiet -- -D warnings
log "cargo clippy (wasm32)"
cargo clippy -p texcnn --all-targets --target wasm32-unknown-unknown --quiet -- -D warnings

# --- tests ----------------------------------------------------------------------------------
log "native tests"
run_tests cargo test --workspace
log "wasm32 tests (Node, wasm-bindgen-test)"
run_tests cargo test -p texcnn --target wasm32-unknown-unknown --tests

# --- summary --------------------------------------------------------------------------------
read -r passed failed ignored < <(awk '
    /^test result:/ {
        for (i = 1; i <= NF; i++) {
            if ($(i+1) ~ /^passed/) p += $i
            if ($(i+1) ~ /^failed/) f += $i
            if ($(i+1) ~ /^ignored/) g += $i
        }
    }
    END { print p+0, f+0, g+0 }' "$LOG")
echo
echo "summary: $passed passed, $failed failed, $ignored skipped"
[ "$failed" -eq 0 ]
