#!/usr/bin/env bash
# Builds the web page (core crate to wasm32, wasm-bindgen at the crate's exact version, and in
# release wasm-opt from npm's binaryen) into www/pkg, the core crate again with WebAssembly
# relaxed SIMD into www/pkg/relaxed (the page's workers load it where the browser has relaxed
# SIMD), and serves www/ on http://localhost:${PORT:-8080}.
# Usage: bash www/serve.sh [--build-only] [--dev]
#   --build-only  build, do not serve
#   --dev         cargo's dev profile (dependencies at opt-level 1), no wasm-opt: a much
#                 faster build that runs several times slower; what CI tests
#                 (TEXCNN_WEB_PROFILE=dev does the same; run_all.sh sets it unless given)
set -euo pipefail
cd "$(dirname "$0")/.."
T0=$(date +%s)
# phase TEXT: what the build does now, with the seconds since it started.
phase() { printf '[serve.sh %4d s] %s\n' $(($(date +%s) - T0)) "$*" >&2; }
# shellcheck source=tests/prereqs.sh
source tests/prereqs.sh
phase "checking the tools (rustup target wasm32-unknown-unknown, wasm-bindgen-cli)"
ensure_wasm_tools

build_only=false
profile="${TEXCNN_WEB_PROFILE:-release}"
for arg in "$@"; do
    case "$arg" in
        --build-only) build_only=true ;;
        --dev) profile=dev ;;
        *) echo "usage: bash www/serve.sh [--build-only] [--dev]" >&2; exit 2 ;;
    esac
done

if [ ! -f www/models/default.texcnn ]; then
    echo "note: www/models/default.texcnn (the default predictor bundle) does not exist yet;" >&2
    echo "open another bundle from the page's model picker, or pass ?bundle=URL." >&2
fi

target_dir="${CARGO_TARGET_DIR:-target}"
if [ "$profile" = dev ]; then
    profile_flag=() profile_dir=debug
else
    profile_flag=(--release) profile_dir=release
fi
wasm="$target_dir/wasm32-unknown-unknown/$profile_dir/texcnn.wasm"
rm -rf www/pkg
phase "compiling the core crate to wasm32 ($profile profile; cargo lists each crate)"
cargo build -p texcnn --lib "${profile_flag[@]}" --target wasm32-unknown-unknown
phase "wasm-bindgen: JS bindings into www/pkg"
wasm-bindgen --target web --out-dir www/pkg --no-typescript "$wasm"
# The same crate with relaxed SIMD on top of SIMD128 (the int8 kernel for 7-bit activations,
# texcnn::encoder::int8): only the core crate is compiled again (`cargo rustc` passes the flag
# to it alone; its dependencies are the ones just built). A module with relaxed-SIMD
# instructions does not validate in a browser without them: worker.js probes first.
phase "compiling the core crate again with relaxed SIMD (its dependencies as built above)"
cargo rustc -p texcnn --lib "${profile_flag[@]}" --target wasm32-unknown-unknown \
    -- -C target-feature=+relaxed-simd
phase "wasm-bindgen: JS bindings into www/pkg/relaxed"
wasm-bindgen --target web --out-dir www/pkg/relaxed --no-typescript "$wasm"
if [ "$profile" != dev ]; then
    phase "npm packages of the page (binaryen for wasm-opt)"
    ensure_www_node_modules
    # Debian's binaryen corrupts wasm-bindgen output; npm's binaryen@132 does not. -O1, not
    # -O2: 77 s instead of 199 s on 2 cores for the same speed in the page
    # (docs/page-build.md). Both modules at once (each run is mostly one thread).
    phase "wasm-opt -O1 on both modules at once (binaryen)"
    pids=()
    for dir in www/pkg www/pkg/relaxed; do
        node www/node_modules/binaryen/bin/wasm-opt -O1 --enable-bulk-memory \
            --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
            --enable-simd --enable-relaxed-simd \
            "$dir/texcnn_bg.wasm" -o "$dir/texcnn_bg.opt.wasm" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid"; done
    for dir in www/pkg www/pkg/relaxed; do
        mv "$dir/texcnn_bg.opt.wasm" "$dir/texcnn_bg.wasm"
    done
fi
# The build's version for the service worker (www/sw.js): a digest of the page's files, and the
# package's files to keep for offline use.
(
    cd www
    version=$(cat pkg/*.js pkg/*.wasm pkg/relaxed/*.js pkg/relaxed/*.wasm index.html main.js worker.js style.css sw.js | sha256sum | cut -c1-16)
    files=$(find pkg -type f ! -name build.js | sort | sed "s/.*/'&'/" | paste -sd, -)
    printf "// Written by www/serve.sh: the build that www/sw.js keeps for offline use.\nself.TEXCNN_BUILD = { version: '%s', files: [%s] };\n" \
        "$version" "$files" >pkg/build.js
)
ls -l www/pkg/texcnn_bg.wasm www/pkg/relaxed/texcnn_bg.wasm >&2
phase "built"

$build_only && exit 0
echo "serving www/ on http://localhost:${PORT:-8080}/" >&2
exec python3 -m http.server "${PORT:-8080}" --bind 127.0.0.1 --directory www
