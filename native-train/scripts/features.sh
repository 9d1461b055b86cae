#!/usr/bin/env bash
# Reproduces the per-gene features table (docs/features.md): features alone, k-mers, k-mers +
# features (ridge, 5 split seeds) and TExCNN on DNA / DNA + features (training seeds 0-2 on
# each of the same 5 splits), on the median label of genes_2kb.tsv.
#
# Usage: bash native-train/scripts/features.sh FEATURES_DIR [OUT_DIR] [ENCODER_DIR]
#   FEATURES_DIR  the feature tables (e.g. ../shared/data/features; where they come from:
#                 docs/features.md)
#   OUT_DIR       default runs/features
#   ENCODER_DIR   default models/encoder
set -euo pipefail
cd "$(dirname "$0")/../.."
F=${1:?usage: features.sh FEATURES_DIR [OUT_DIR] [ENCODER_DIR]}
OUT=${2:-runs/features}
ENCODER=${3:-models/encoder}
DATA=native-train/data/genes_2kb.tsv
LABEL=xpresso_log10_median_rpkm
cargo build --release -p texcnn-native
BIN=${CARGO_TARGET_DIR:-target}/release/texcnn
mkdir -p "$OUT"

HL_ANN="$F/mrna_halflife.tsv,$F/mrna_annotation_gencode.tsv"
ALL="$HL_ANN,$F/tf_targets_harmonizome.tsv,$F/promoter_sure_k562.tsv"
# hl_n_columns (how many studies measured the gene) is left out: see docs/features.md.
HL_ANN_COLS=hl_saluki_pc1,hl_mean_z,UTR5LEN,CDSLEN,INTRONLEN,UTR3LEN,ORFEXONDENSITY
ALL_COLS="$HL_ANN_COLS,tf_*,sure_*"

ridge() {
  local name=$1
  shift
  "$BIN" baseline "$@" --data "$DATA" --label "$LABEL" --seeds 0-4 --out-dir "$OUT/$name"
  echo "== $name"
  "$BIN" evaluate --predictions "$OUT/$name"/predictions_seed*.tsv | tail -2
}
ridge kmer4 kmer-ridge --k 4
ridge features_hl_ann feature-ridge --features "$HL_ANN" --feature-columns "$HL_ANN_COLS"
ridge features_all feature-ridge --features "$ALL" --feature-columns "$ALL_COLS"
ridge kmer4_hl_ann kmer-ridge --k 4 --use-features --features "$HL_ANN" --feature-columns "$HL_ANN_COLS"
ridge kmer4_all kmer-ridge --k 4 --use-features --features "$ALL" --feature-columns "$ALL_COLS"
ridge hl_n_columns feature-ridge --features "$F/mrna_halflife.tsv" --feature-columns hl_n_columns

for s in 0 1 2 3 4; do
  split="$OUT/kmer4/split_seed$s.json"
  fit=("$BIN" fit --data "$DATA" --label "$LABEL" --split "$split" --encoder "$ENCODER" --seeds 0-2)
  "${fit[@]}" --out-dir "$OUT/texcnn_dna/split$s"
  "${fit[@]}" --out-dir "$OUT/texcnn_hl_ann/split$s" --features "$HL_ANN" --feature-columns "$HL_ANN_COLS"
  "${fit[@]}" --out-dir "$OUT/texcnn_all/split$s" --features "$ALL" --feature-columns "$ALL_COLS"
done
for m in texcnn_dna texcnn_hl_ann texcnn_all; do
  echo "== $m"
  for s in 0 1 2 3 4; do
    "$BIN" evaluate --predictions "$OUT/$m/split$s"/predictions_seed*.tsv | tail -2 | head -1 | sed "s/^/split $s: /"
  done
done
