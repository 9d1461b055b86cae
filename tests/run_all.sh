#!/usr/bin/env bash
# Runs every check of the project on a fresh machine (Rust toolchain, Python 3, Node, npm):
# installs what is missing, then fmt, clippy (host and wasm32), the native tests and the
# wasm32 tests (Node, and headless Chromium for WebGPU), and ends with one summary line over
# all test binaries.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*" >&2; }

# --- prerequisites (idempotent) -------------------------------------------------------------
log "prerequisites"
# shellcheck source=tests/prereqs.sh
source tests/prereqs.sh
ensure_wasm_tools
# Debian packages, in one apt transaction: Mesa's lavapipe gives wgpu a Vulkan adapter on
# machines without a GPU (the wgpu parity tests run instead of skipping); real headless
# Chromium and its driver run the WebGPU tests (tests/webgpu_browser.rs, flags in
# webdriver.json); the h5 data loader (native-train, hdf5-metno) links the system HDF5.
ensure_apt mesa-vulkan-drivers libvulkan1 chromium chromium-driver libhdf5-dev pkg-config
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
export CHROMEDRIVER=/usr/bin/chromedriver
# WebGPU on SwiftShader is slow on 2 busy cores: the runner's defaults (20 s per test, 5 s per
# WebDriver request) timed tests/webgpu_browser.rs out here under load.
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-300}"
export WASM_BINDGEN_TEST_DRIVER_TIMEOUT="${WASM_BINDGEN_TEST_DRIVER_TIMEOUT:-60}"

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
# The page end to end in headless Chromium (www/tests/e2e.mjs), compared with the native
# `texcnn predict` that `cargo test --workspace` built. CI builds the page with the dev
# profile: a release wasm32 build costs ~12 more minutes on 2 cores (README, web page).
log "web page end to end (headless Chromium, playwright-core)"
ensure_www_node_modules
TEXCNN_WEB_PROFILE="${TEXCNN_WEB_PROFILE:-dev}" bash www/serve.sh --build-only
run_tests env TEXCNN_BIN="${CARGO_TARGET_DIR:-target}/debug/texcnn" node www/tests/e2e.mjs

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
