#!/usr/bin/env bash
# Installs what the build and the tests need beyond the Rust toolchain, Python 3, Node and npm.
# Idempotent: each step checks first. Sourced by tests/run_all.sh and www/serve.sh.

# ensure_rust_tools: rustfmt, clippy and the wasm32 target (rustup, seconds).
ensure_rust_tools() {
    rustup component add rustfmt clippy >/dev/null 2>&1 || true
    if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
        rustup target add wasm32-unknown-unknown
    fi
    export PATH="$HOME/.cargo/bin:$PATH"
}

# ensure_wasm_bindgen_cli: wasm-bindgen-cli at the wasm-bindgen crate's exact version (a cargo
# install, ~2 minutes on 2 cores the first time).
ensure_wasm_bindgen_cli() {
    export PATH="$HOME/.cargo/bin:$PATH"
    # wasm-bindgen-cli must match the wasm-bindgen crate exactly (the version in Cargo.lock).
    local want
    want=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/[^0-9.]/, ""); print; exit}' Cargo.lock)
    if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
        echo "installing wasm-bindgen-cli $want (a few minutes)" >&2
        # Without --locked: the CLI's own lockfile pins crates that no longer build here.
        # Its own crates are not linted (run_all.sh makes clippy-driver the workspace's compiler).
        env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS \
            cargo install wasm-bindgen-cli --version "$want" --quiet
    fi
}

# ensure_wasm_tools: everything the page build needs from rustup and cargo.
ensure_wasm_tools() {
    ensure_rust_tools
    ensure_wasm_bindgen_cli
}

# ensure_apt PACKAGE...: installs Debian packages that are missing (needs root, as in CI).
ensure_apt() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing Debian packages: ${missing[*]}" >&2
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ensure_www_node_modules: the page's build and test tools (binaryen, playwright-core) exactly
# as www/package-lock.json pins them; npm ci again only when the lockfile changed.
ensure_www_node_modules() {
    local want stamp=www/node_modules/.texcnn-lock-sha256
    want=$(sha256sum www/package-lock.json | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        (cd www && npm ci --no-audit --no-fund --silent)
        echo "$want" >"$stamp"
    fi
}
