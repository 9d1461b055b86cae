#!/usr/bin/env bash
# Reproduces the results table (README, docs/training-and-results.md): every model × label on one split per label
# (split seed 0, 80/10/10 by gene after removing duplicate sequences), 10 training seeds
# (0-9) for the trained models; the k-mer ridge is deterministic (one run per split).
#
# Usage: bash native-train/scripts/results.sh [OUT_DIR] [ENCODER_DIR]
#   OUT_DIR      where splits, predictions, logs and scatter plots go (default runs/results)
#   ENCODER_DIR  the pre-trained encoder for TExCNN (default models/encoder, the committed one)
# Builds `texcnn` in release first. About 1–2 hours on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-runs/results}
ENCODER=${2:-models/encoder}
DATA=native-train/data/genes_2kb.tsv
SEEDS=0-9
cargo build --release -p texcnn-native
BIN=${CARGO_TARGET_DIR:-target}/release/texcnn
mkdir -p "$OUT"

# label column | output name | model-card meaning | unit | transform | one-hot CNN settings
LABELS=(
  "xpresso_log10_median_rpkm|xpresso_median|median expression across tissues (Xpresso)|RPKM|log10(x + 0.1)|--epochs 30 --patience 5"
  "liver_ln1p_tpm|liver|expression in liver (GTEx)|TPM|ln(1 + x)|--epochs 15 --patience 4"
)

for row in "${LABELS[@]}"; do
  IFS='|' read -r label name meaning unit transform cnn <<<"$row"
  dir="$OUT/$name"
  mkdir -p "$dir"/{kmer_ridge,onehot_cnn,deeplncloc,texcnn}
  # The committed split (what `texcnn split --label $label --seed 0` writes).
  split="native-train/data/splits/${name}_seed0.json"
  common=(--data "$DATA" --label "$label" --split "$split")
  "$BIN" baseline kmer-ridge "${common[@]}" --k 4 --out-dir "$dir/kmer_ridge"
  "$BIN" baseline onehot-cnn "${common[@]}" --seeds "$SEEDS" $cnn --out-dir "$dir/onehot_cnn"
  "$BIN" baseline deeplncloc "${common[@]}" --seeds "$SEEDS" --out-dir "$dir/deeplncloc"
  "$BIN" fit "${common[@]}" --encoder "$ENCODER" --seeds "$SEEDS" --out-dir "$dir/texcnn" \
    --output-name "$name" --label-meaning "$meaning" --label-unit "$unit" \
    --label-transform "$transform" --name "texcnn-$name" --bundle-out "$dir/texcnn/$name.texcnn"
done

echo
echo "| model | label | test R² min / mean / max | Pearson r min / mean / max | runs |"
echo "| --- | --- | --- | --- | --- |"
for row in "${LABELS[@]}"; do
  IFS='|' read -r label name _ _ _ _ <<<"$row"
  for model in texcnn deeplncloc onehot_cnn kmer_ridge; do
    files=("$OUT/$name/$model"/predictions_seed*.tsv)
    "$BIN" evaluate --predictions "${files[@]}" --scatter "$OUT/$name/$model/scatter.svg" \
      >"$OUT/$name/$model/evaluate.txt"
    r2=$(grep '^R²' "$OUT/$name/$model/evaluate.txt" | sed 's/.*min \([^ ]*\)  mean \([^ ]*\)  max \([^ ]*\)/\1 \/ \2 \/ \3/')
    r=$(grep '^Pearson' "$OUT/$name/$model/evaluate.txt" | sed 's/.*min \([^ ]*\)  mean \([^ ]*\)  max \([^ ]*\)/\1 \/ \2 \/ \3/')
    echo "| $model | $label | $r2 | $r | ${#files[@]} |"
  done
done
