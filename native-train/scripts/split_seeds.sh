#!/usr/bin/env bash
# The results table over split seeds (issue 17, item 5; README "Training and results"): every
# model on both labels of genes_2kb.tsv on 5 random splits (split seeds 0-4, 80/10/10 by gene
# after removing duplicate sequences), test genes only. Ridge models are deterministic (one run
# per split); TExCNN runs training seeds 0-2 per split (their mean taken first); DeepLncLoc and
# the one-hot CNN training seed 0 per split (for time). Prints, per label and model, the test
# R² mean ± SD over the 5 splits with min-max.
#
# Usage: bash native-train/scripts/split_seeds.sh FEATURES_DIR [OUT_DIR] [ENCODER_DIR]
#   FEATURES_DIR  the feature tables (e.g. ../shared/data/features; docs/features.md)
#   OUT_DIR       default runs/split_seeds
#   ENCODER_DIR   default models/encoder
# About 1 hour on 2 CPU cores (most of it the one-hot CNN); each finished run is kept, and a
# rerun skips the models whose predictions are already there.
set -euo pipefail
cd "$(dirname "$0")/../.."
F=${1:?usage: split_seeds.sh FEATURES_DIR [OUT_DIR] [ENCODER_DIR]}
OUT=${2:-runs/split_seeds}
ENCODER=${3:-models/encoder}
DATA=native-train/data/genes_2kb.tsv
BIN=${CARGO_TARGET_DIR:-target}/release/texcnn
[ -x "$BIN" ] || cargo build --release -p texcnn-native
HL_ANN="$F/mrna_halflife.tsv,$F/mrna_annotation_gencode.tsv"
ALL="$HL_ANN,$F/tf_targets_harmonizome.tsv,$F/promoter_sure_k562.tsv"
HL_ANN_COLS=hl_saluki_pc1,hl_mean_z,UTR5LEN,CDSLEN,INTRONLEN,UTR3LEN,ORFEXONDENSITY
ALL_COLS="$HL_ANN_COLS,tf_*,sure_*"
MODELS="texcnn_dna texcnn_hl_ann texcnn_all features_hl_ann features_all kmer4 deeplncloc onehot_cnn"

# done DIR: whether DIR already holds a finished run's predictions.
done_in() { compgen -G "$1/predictions_seed*.tsv" >/dev/null; }

for label in xpresso_log10_median_rpkm liver_ln1p_tpm; do
  dir="$OUT/$label"
  common=(--data "$DATA" --label "$label")
  # The k-mer ridge writes the five split files every other model reads.
  done_in "$dir/kmer4" || "$BIN" baseline kmer-ridge "${common[@]}" --seeds 0-4 --k 4 --out-dir "$dir/kmer4"
  done_in "$dir/features_hl_ann" || "$BIN" baseline feature-ridge "${common[@]}" --seeds 0-4 \
    --features "$HL_ANN" --feature-columns "$HL_ANN_COLS" --out-dir "$dir/features_hl_ann"
  done_in "$dir/features_all" || "$BIN" baseline feature-ridge "${common[@]}" --seeds 0-4 \
    --features "$ALL" --feature-columns "$ALL_COLS" --out-dir "$dir/features_all"
  for s in 0 1 2 3 4; do
    split=(--split "$dir/kmer4/split_seed$s.json")
    fit=("$BIN" fit "${common[@]}" "${split[@]}" --encoder "$ENCODER" --seeds 0-2)
    done_in "$dir/texcnn_dna/split$s" || "${fit[@]}" --out-dir "$dir/texcnn_dna/split$s"
    done_in "$dir/texcnn_hl_ann/split$s" || "${fit[@]}" --out-dir "$dir/texcnn_hl_ann/split$s" \
      --features "$HL_ANN" --feature-columns "$HL_ANN_COLS"
    done_in "$dir/texcnn_all/split$s" || "${fit[@]}" --out-dir "$dir/texcnn_all/split$s" \
      --features "$ALL" --feature-columns "$ALL_COLS"
    done_in "$dir/deeplncloc/split$s" || "$BIN" baseline deeplncloc "${common[@]}" "${split[@]}" \
      --seeds 0 --out-dir "$dir/deeplncloc/split$s"
    done_in "$dir/onehot_cnn/split$s" || "$BIN" baseline onehot-cnn "${common[@]}" "${split[@]}" \
      --seeds 0 --epochs 30 --patience 5 --out-dir "$dir/onehot_cnn/split$s"
  done
done

# R² per split: the mean over that split's runs (a ridge model has one run per split file,
# named by its split seed).
r2_per_split() {
  local dir=$1 model=$2
  if [ -d "$dir/$model/split0" ]; then
    for s in 0 1 2 3 4; do
      "$BIN" evaluate --predictions "$dir/$model/split$s"/predictions_seed*.tsv |
        awk -F'\t' 'NR > 1 && NF == 5 { sum += $5; n++ } END { if (n) printf "%.6f\n", sum / n }'
    done
  else
    "$BIN" evaluate --predictions "$dir/$model"/predictions_seed*.tsv |
      awk -F'\t' 'NR > 1 && NF == 5 { printf "%.6f\n", $5 }'
  fi
}
echo
echo "| label | model | test R² mean ± SD over 5 split seeds (min–max) |"
echo "| --- | --- | --- |"
for label in xpresso_log10_median_rpkm liver_ln1p_tpm; do
  for model in $MODELS; do
    r2_per_split "$OUT/$label" "$model" | awk -v l="$label" -v m="$model" '
      { x[NR] = $1; s += $1; if (NR == 1 || $1 < lo) lo = $1; if (NR == 1 || $1 > hi) hi = $1 }
      END { mean = s / NR; for (i = 1; i <= NR; i++) v += (x[i] - mean) ^ 2;
            printf "| %s | %s | %.3f ± %.3f (%.3f–%.3f), %d splits |\n", l, m, mean, sqrt(v / (NR - 1)), lo, hi, NR }'
  done
done
