#!/usr/bin/env bash
# Runs every check of the project on a fresh machine (Rust toolchain, Python 3, Node, npm):
# installs what is missing, then fmt, clippy (host and wasm32, compiled once with the tests),
# the native tests (also with the h5 feature) and the
# wasm32 tests (Node, and headless Chromium for WebGPU), and ends with one summary line over
# all test binaries.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*" >&2; }

# Every step's wall time: `step NAME` ends the step before (printing its time) and starts NAME;
# the table of all of them is printed before the summary line.
T0=$(date +%s)
STEP_NAME="" STEP_T0=$T0 STEP_TIMES=""
step() {
    local now
    now=$(date +%s)
    if [ -n "$STEP_NAME" ]; then
        printf '==> %s: %d s\n' "$STEP_NAME" $((now - STEP_T0)) >&2
        STEP_TIMES+=$(printf '%6d s  %s' $((now - STEP_T0)) "$STEP_NAME")$'\n'
    fi
    STEP_NAME="$*" STEP_T0=$now
    [ -z "$*" ] || log "$*"
}
# CI builds once from scratch: incremental data for the workspace crates is written for nothing.
[ -z "${CI:-}" ] || export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

# --- prerequisites (idempotent) -------------------------------------------------------------
# Debian packages, in one apt transaction, in the background (network and dpkg, little CPU)
# while rustfmt and the lint builds run, which need none of them: Mesa's lavapipe gives wgpu a
# Vulkan adapter on machines without a GPU (the wgpu parity tests run instead of skipping);
# real headless Chromium and its driver run the WebGPU tests (tests/webgpu_browser.rs, flags in
# webdriver.json); libhdf5-dev serves only the h5 loader's tests (`--features h5`, below): the
# default build needs no system library.
step "prerequisites (Debian packages in the background; wasm32 target, rustfmt, clippy)"
# shellcheck source=tests/prereqs.sh
source tests/prereqs.sh
APT_LOG=$(mktemp)
ensure_apt mesa-vulkan-drivers libvulkan1 chromium chromium-driver libhdf5-dev pkg-config \
    >"$APT_LOG" 2>&1 &
APT_PID=$!
wait_apt() {
    if ! wait "$APT_PID"; then
        cat "$APT_LOG" >&2
        echo "installing the Debian packages failed (log above)" >&2
        exit 1
    fi
    cat "$APT_LOG" >&2
}
ensure_rust_tools
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
export CHROMEDRIVER=/usr/bin/chromedriver
# WebGPU on SwiftShader is slow on 2 busy cores: the runner's defaults (20 s per test, 5 s per
# WebDriver request) timed tests/webgpu_browser.rs out here under load.
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-300}"
export WASM_BINDGEN_TEST_DRIVER_TIMEOUT="${WASM_BINDGEN_TEST_DRIVER_TIMEOUT:-60}"

LOG=$(mktemp)
# GPU tests without a GPU append "test: reason" here: counted as skipped, not passed.
export TEXCNN_SKIPPED
TEXCNN_SKIPPED=$(mktemp)
trap 'rm -f "$LOG" "$TEXCNN_SKIPPED"' EXIT
run_tests() { "$@" 2>&1 | tee -a "$LOG"; }

# --- static checks and builds ---------------------------------------------------------------
step "cargo fmt --check"
cargo fmt --all -- --check
# Clippy's lints with `-D warnings` on every workspace target, compiled once: clippy-driver is
# the compiler for the workspace crates (what `cargo clippy` does, but with code generation), so
# the dependency tree is compiled once per target for both the lints and the tests instead of
# once more in check mode. Every cargo command below keeps these two variables, so the tests
# reuse what the lint builds compiled. Same lints, same targets as
# `cargo clippy --all-targets -- -D warnings`.
export RUSTC_WORKSPACE_WRAPPER="${RUSTC_WORKSPACE_WRAPPER:-$(rustup which clippy-driver)}"
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
step "clippy -D warnings + build, host, every target (cargo test --workspace --all-targets --no-run)"
cargo test --workspace --all-targets --no-run --quiet
step "clippy -D warnings + build, wasm32, every target of the core crate"
cargo test -p texcnn --all-targets --target wasm32-unknown-unknown --no-run --quiet
step "wasm-bindgen-cli (the wasm32 test runner and the page build)"
ensure_wasm_bindgen_cli
step "waiting for the Debian packages"
wait_apt

# --- tests ----------------------------------------------------------------------------------
step "native tests (default features)"
run_tests cargo test --workspace
# The h5 loader and the commands that read h5 files, with the system HDF5, linted as above: the
# native tool's library (and its unit tests), its binary and the two test files that read h5
# (everything the feature changes) are built again.
step "native tests that read h5 files, clippy on them (--features h5)"
run_tests cargo test -p texcnn-native --features h5 --lib --test data_loaders --test cli_bench
step "wasm32 tests (Node, wasm-bindgen-test; headless Chromium for WebGPU)"
run_tests cargo test -p texcnn --target wasm32-unknown-unknown --tests
# The page end to end in headless Chromium (www/tests/e2e.mjs), compared with the native
# `texcnn predict` that the native tests built. CI builds the page with the dev profile: a
# release wasm32 build costs about 10 more minutes on 2 cores (docs/page-build.md).
step "web page end to end (headless Chromium, playwright-core)"
ensure_www_node_modules
TEXCNN_WEB_PROFILE="${TEXCNN_WEB_PROFILE:-dev}" bash www/serve.sh --build-only
run_tests env TEXCNN_BIN="${CARGO_TARGET_DIR:-target}/debug/texcnn" node www/tests/e2e.mjs
step ""

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
echo "step times (total $(( $(date +%s) - T0 )) s):"
printf '%s' "$STEP_TIMES"
skipped=$(grep -c . "$TEXCNN_SKIPPED" || true)
if [ "$skipped" -gt 0 ]; then
    echo "skipped for want of a GPU adapter (counted as skipped, not passed):"
    sed 's/^/  /' "$TEXCNN_SKIPPED"
fi
passed=$((passed - skipped))
ignored=$((ignored + skipped))
echo "summary: $passed passed, $failed failed, $ignored skipped"
[ "$failed" -eq 0 ]
