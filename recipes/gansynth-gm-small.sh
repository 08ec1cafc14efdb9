#!/usr/bin/env bash
# The bundled GANSynth model and pitch classifier: an NSynth-format set rendered from the GM
# SoundFont (every pitched program, MIDI 24-84, velocity 100; held out: the same at velocity 75),
# the pitch classifier trained on it, the small GANSynth config trained on its acoustic notes with
# 1,200 images a stage (15,600 images; ~25 minutes on 2 CPU cores), then evaluated.
#
#   bash recipes/gansynth-gm-small.sh [OUT_DIR]
set -euo pipefail
out=${1:-runs/gansynth-gm}
mkdir -p "$out"

audiogen data nsynth --out "$out/train" --programs 0-118 --pitches 24-84 --velocities 100 --force
audiogen data nsynth --out "$out/valid" --programs 0-118 --pitches 24-84 --velocities 75 --force
audiogen train gansynth --data "$out/train" --out "$out/gansynth" --config small --images-per-stage 1200 \
  --checkpoint-every 200 --snapshot-every 300
audiogen train pitch-classifier --data "$out/train" --val-data "$out/valid" --out "$out/pitch" --steps 1000
audiogen eval gansynth --model "$out/gansynth/model.safetensors" --classifier "$out/pitch/model.safetensors" \
  --data "$out/valid" -n 1000 --json > "$out/eval.json"
