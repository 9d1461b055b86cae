#!/usr/bin/env bash
# Checks that the native tool runs correctly on x86-64 CPUs without AVX-512 (or without AVX),
# although it is built with burn's `x86-v4` feature (AVX-512 gemm kernels): gemm and pulp must
# pick their kernels at run time. Runs `texcnn embed` under QEMU's user-mode emulator with
# older CPU models and compares with
#   1. the original DNABERT-2 code's mean-pooled outputs for the golden tiny model
#      (tests/fixtures/dnabert2_golden_tiny/mean_pooled.tsv), max |diff| <= 1e-4, and
#   2. the same binary run natively, with the default encoder (models/encoder) on
#      www/example.fa's 2,048 bp promoter cut into segments (matmuls large enough for gemm's
#      blocked kernels), max |diff| <= 1e-4.
# Usage: bash native-train/scripts/check_cpu_dispatch.sh [target/release/texcnn]
# Needs qemu-x86_64 (Debian: apt-get install qemu-user); QEMU 7.2 emulates up to AVX2.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="${1:-target/release/texcnn}"
command -v qemu-x86_64 >/dev/null || { echo "qemu-x86_64 not found: apt-get install qemu-user" >&2; exit 2; }
[ -x "$bin" ] || { echo "$bin not found: cargo build --release -p texcnn-native" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The default encoder's input: the example promoter in 512 bp pieces (one FASTA record each).
python3 - www/example.fa > "$work/pieces.fa" <<'PY'
import sys
seq = "".join(l.strip() for l in open(sys.argv[1]) if not l.startswith(">"))
for i in range(0, len(seq), 512):
    print(f">piece{i // 512}\n{seq[i:i + 512]}")
PY

compare() { # compare A.tsv B.tsv LABEL
    python3 - "$1" "$2" "$3" <<'PY'
import sys
def read(p):
    return {l.split("\t")[0]: [float(v) for v in l.split("\t")[1:]] for l in open(p) if l.strip()}
a, b, label = read(sys.argv[1]), read(sys.argv[2]), sys.argv[3]
assert a.keys() == b.keys(), f"{label}: different records"
diff = max(abs(x - y) for k in a for x, y in zip(a[k], b[k], strict=True))
print(f"{label}: max |diff| {diff:.2e}")
sys.exit(0 if diff <= 1e-4 else 1)
PY
}

golden=tests/fixtures/dnabert2_golden_tiny
"$bin" embed --model models/encoder --fasta "$work/pieces.fa" --out "$work/native.tsv" 2>/dev/null
status=0
for cpu in Haswell Nehalem; do
    # Haswell: AVX2 + FMA, no AVX-512; Nehalem: SSE4.2, no AVX (gemm's scalar fallback).
    for run in golden default; do
        if [ "$run" = golden ]; then
            args=(--model "$golden" --fasta "$golden/input.fa"); want="$golden/mean_pooled.tsv"
        else
            args=(--model models/encoder --fasta "$work/pieces.fa"); want="$work/native.tsv"
        fi
        if ! qemu-x86_64 -cpu "$cpu" "$bin" embed "${args[@]}" --out "$work/$cpu-$run.tsv" 2>"$work/err"; then
            echo "FAILED: $bin embed on a $cpu CPU: $(tail -3 "$work/err")" >&2; status=1; continue
        fi
        compare "$work/$cpu-$run.tsv" "$want" "$cpu, $run (vs $( [ "$run" = golden ] && echo "the original code" || echo "native run"))" || status=1
    done
done
exit $status
