#!/usr/bin/env bash
# The bundled SampleVAE drum model's recipe: the drum kits installed here (Debian:
# hydrogen-drumkits, hydrogen-data, sonic-pi-samples, fluid-soundfont-gm) -> a labelled library ->
# the model trained on all of it -> the leave-one-kit-out figures of its card (one model per kit,
# trained without that kit; about 35 minutes on 2 CPU cores) -> an index of the library.
#
#   bash recipes/samplevae-drums.sh [OUT_DIR]
set -euo pipefail
out=${1:-runs/samplevae-drums}
mkdir -p "$out"

audiogen data drums --out "$out/drums" --force
audiogen train samplevae --data "$out/drums" --out "$out/model" --steps 3000 --holdout 0
audiogen eval samplevae --data "$out/drums" --model "$out/model/model.safetensors"
audiogen eval samplevae --data "$out/drums" --leave-one-kit-out --out "$out/loko" --steps 1000 --jobs 2
audiogen index "$out/drums" --index "$out/index" --model "$out/model/model.safetensors"
