#!/usr/bin/env bash
# The bundled MusicVAE models' recipe: public-domain folk tunes from music21's corpus (O'Neill,
# Ryan, Aird, miscFolk: 4,433 tunes) -> melody windows -> training with whole tunes held out ->
# evaluation on those held-out tunes (reconstruction, and a musician's counts of 100 new
# melodies). Every meter is used (3/4 and 6/8 bars are 12 steps + 4 padding). The export fits the
# sampling prior and the bar forms on the training windows. CPU-sized configs; on a GPU use
# --config 2bar-paper / 16bar-paper and more --steps.
# A run stopped by --time-limit continues with the same command and --resume.
#
#   bash recipes/musicvae-folk.sh [OUT_DIR] [MINUTES_PER_MODEL]
set -euo pipefail
out=${1:-runs/musicvae-folk}
minutes=${2:-60}
mkdir -p "$out"

audiogen data abc --out "$out/folk.abc"
audiogen data melodies --data "$out/folk.abc" --bars 2 --out "$out/folk-2bar.npz"
audiogen data melodies --data "$out/folk.abc" --bars 16 --hop-bars 1 --expand-repeats \
  --out "$out/folk-16bar.npz"

# 2-bar flat model (the bundled musicvae-2bar.safetensors)
audiogen train musicvae --data "$out/folk-2bar.npz" --config 2bar --steps 18000 --time-limit "$minutes" \
  --out "$out/2bar"
audiogen eval musicvae --model "$out/2bar/model.safetensors" --data "$out/2bar/heldout.npz"

# 16 bars (the bundled musicvae-16bar.safetensors): warm-started from the 2-bar model, holding out
# the 2-bar run's held-out tunes; the flat decoder trained the same way for comparison
for run in 16bar 16bar-flat; do
  audiogen train musicvae --data "$out/folk-16bar.npz" --config "$run" --warm-start "$out/2bar/model.safetensors" \
    --heldout-tunes "$out/2bar/heldout.npz" --set val_every=500 --set val_windows=500 --steps 20000 \
    --time-limit "$minutes" --out "$out/$run"
  audiogen eval musicvae --model "$out/$run/model.safetensors" --data "$out/$run/heldout.npz" --meter 4/4 \
    --samples 100 --rng-seed 1
done
