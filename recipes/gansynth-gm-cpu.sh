#!/usr/bin/env bash
# The bundled GANSynth model: an NSynth-format set rendered from the GM SoundFont (programs 0-118
# less the unpitched percussion 113 agogo, 115 woodblock, 116 taiko, 117 melodic tom; MIDI 24-84,
# velocity 100; held out: the same at velocity 75), a pitch judge (a classifier of other widths and
# seed than the bundled one, which eval gansynth scores with), the cpu config trained
# on its acoustic notes in resumable pieces (--time-limit minutes each; rerun to continue), then
# evaluated: the classifier metrics, pYIN on generated and real notes, and the pitch grid.
#
#   bash recipes/gansynth-gm-cpu.sh [OUT_DIR] [MINUTES]
set -euo pipefail
out=${1:-runs/gansynth-cpu}
minutes=${2:-120}
mkdir -p "$out"

[ -f "$out/train/examples.json" ] || audiogen data nsynth --out "$out/train" --programs 0-112,114,118 --pitches 24-84 --velocities 100
[ -f "$out/valid/examples.json" ] || audiogen data nsynth --out "$out/valid" --programs 0-112,114,118 --pitches 24-84 --velocities 75
[ -f "$out/judge/model.safetensors" ] || audiogen train pitch-classifier --data "$out/train" --val-data "$out/valid" \
  --out "$out/judge" --channels 48,96,96 --rng-seed 1 --steps 800 --cache-dir "$out/cache"
resume=()
[ -f "$out/gansynth/checkpoint.pt" ] && resume=(--resume)
audiogen train gansynth --data "$out/train" --out "$out/gansynth" --config cpu --cache-dir "$out/cache" \
  --checkpoint-every 200 --time-limit "$minutes" --pitch-judge "$out/judge/model.safetensors" --judge-weight 10 \
  "${resume[@]}"
audiogen eval gansynth --model "$out/gansynth/model.safetensors" --data "$out/valid" --cache-dir "$out/cache" \
  -n 1000 --json > "$out/eval.json.tmp"
mv "$out/eval.json.tmp" "$out/eval.json"
