#!/usr/bin/env bash
# GANSynth as in the paper: NSynth's acoustic notes of MIDI pitch 24-84, the full config (IF-Mel,
# 128x1024, 13 stages x 800k images), on one or more GPUs. Training runs in chunks of
# CHUNK_MINUTES (default 9, for machines lent 10 minutes at a time; 0 = one long run), each
# resuming the last, until the schedule is done; then a few notes are sampled.
#
#   bash recipes/gansynth-nsynth.sh NSYNTH_TRAIN_DIR [OUT_DIR] [GPUS]
set -euo pipefail
data=${1:?usage: recipes/gansynth-nsynth.sh NSYNTH_TRAIN_DIR [OUT_DIR] [GPUS]}
out=${2:-runs/gansynth-full}
gpus=${3:-1}
chunk=${CHUNK_MINUTES:-9}

audiogen data prepare "$data" --filter gansynth
if [ "$gpus" -gt 1 ]; then
  train=(torchrun --nproc_per_node="$gpus" -m audiogen train gansynth)
else
  train=(audiogen train gansynth)
fi
limit=()
[ "$chunk" != 0 ] && limit=(--time-limit "$chunk")
while :; do
  resume=()
  [ -f "$out/checkpoint.pt" ] && resume=(--resume)
  "${train[@]}" --data "$data" --out "$out" --config full --batch-size $((8 * gpus)) \
    --checkpoint-every 2000 "${limit[@]}" "${resume[@]}" --json > "$out.last.json"
  grep -q '"stopped_early": true' "$out.last.json" || break
done
audiogen sample gansynth --model "$out/model.safetensors" --pitches 48-72 -n 2 --same-latent \
  --rng-seed 1 --out-dir "$out/notes"
