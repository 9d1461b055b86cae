#!/usr/bin/env bash
# Builds the web page (core crate to wasm32 in release, wasm-bindgen at the crate's exact
# version, wasm-opt from npm's binaryen) and serves www/ on http://localhost:${PORT:-8080}.
# Usage: bash www/serve.sh [--build-only]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tests/prereqs.sh
source tests/prereqs.sh
ensure_wasm_tools

if [ ! -f www/models/default.texcnn ]; then
    echo "error: www/models/default.texcnn (the default predictor bundle) does not exist yet." >&2
    echo "Load another bundle from the page's model picker, or build one with 'texcnn fit'." >&2
fi

echo "building the wasm package (release; about 12 minutes the first time on 2 cores)" >&2
cargo build -p texcnn --lib --release --target wasm32-unknown-unknown
wasm-bindgen --target web --out-dir www/pkg --no-typescript \
    target/wasm32-unknown-unknown/release/texcnn.wasm
(cd www && npm ci --no-audit --no-fund --silent)
# Debian's binaryen corrupts wasm-bindgen output; npm's binaryen@132 does not.
node www/node_modules/binaryen/bin/wasm-opt -O2 --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals www/pkg/texcnn_bg.wasm -o www/pkg/texcnn_bg.opt.wasm
mv www/pkg/texcnn_bg.opt.wasm www/pkg/texcnn_bg.wasm
ls -l www/pkg/texcnn_bg.wasm >&2

[ "${1:-}" = "--build-only" ] && exit 0
echo "serving www/ on http://localhost:${PORT:-8080}/" >&2
exec python3 -m http.server "${PORT:-8080}" --bind 127.0.0.1 --directory www
