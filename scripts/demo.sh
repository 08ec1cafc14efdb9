#!/usr/bin/env bash
# `make demo`: the main job on the bundled defaults. Until trained models ship, it shows the
# spectral core on a real sound: a piano note rendered with FluidSynth from the small GM
# SoundFont pretty_midi ships, its spectrogram pictures and its resynthesis through each
# representation; then the data builders: a small NSynth-format set rendered from the GM
# SoundFont, its training cache, and the public-domain ABC tunes of music21's corpus; then three
# folk tunes sampled from the bundled ABC model, rendered to MIDI and WAV; then melodies from the
# bundled 2-bar MusicVAE: four sampled, and an interpolation between a jig and a reel; the 16-bar
# hierarchical MusicVAE: a walk from one whole tune to another and two sampled tunes; then the
# bundled SampleVAE drum model: the drum kits found here indexed, sounds similar to a kick, a few
# classified, a kick morphed into a snare, a map of the library, and four new sounds.
# Outputs go to demo/.
set -euo pipefail
venv=${1:-.venv}
audiogen="$venv/bin/audiogen"
out=demo
mkdir -p "$out"

"$audiogen" info

echo
echo "== rendering a piano note (MIDI 60, velocity 100) with FluidSynth"
if ! "$venv/bin/python" - "$out/note.wav" <<'EOF'
import sys
from audiogen.data.soundfonts import NoteRenderer, small_soundfont
from audiogen.dsp import save_audio
from audiogen.dsp.loudness import OUTPUT_PEAK_DBFS
from audiogen.errors import AudiogenError
try:
    with NoteRenderer(small_soundfont()) as synth:
        save_audio(sys.argv[1], synth.render(program=0, pitch=60, velocity=100), synth.sample_rate,
                   peak_dbfs=OUTPUT_PEAK_DBFS)
except AudiogenError as e:
    sys.exit(f"demo: {e}")
EOF
then
  echo "demo: FluidSynth is missing, so the demo synthesises a tone instead" >&2
  "$venv/bin/python" - "$out/note.wav" <<'EOF'
import sys, numpy as np
from audiogen.dsp import save_audio
from audiogen.dsp.loudness import OUTPUT_PEAK_DBFS
t = np.arange(64000) / 16000
tone = sum(np.sin(2 * np.pi * 261.63 * k * t) / k for k in range(1, 12)) * np.exp(-1.5 * t) * 0.2
save_audio(sys.argv[1], tone, 16000, peak_dbfs=OUTPUT_PEAK_DBFS)
EOF
fi

echo
echo "== spectrogram pictures"
"$audiogen" spec "$out/note.wav" --out "$out/note-if.png" --repr if
"$audiogen" spec "$out/note.wav" --out "$out/note-if-mel.png" --repr if-mel
"$audiogen" spec "$out/note.wav" --out "$out/note-mel.png" --repr mel

echo
echo "== resynthesis: what each representation loses"
for repr in if if-mel griffin-lim; do
  "$audiogen" resynth "$out/note.wav" --out "$out/note-$repr.wav" --repr "$repr" --rng-seed 0 --quiet
done

echo
echo "== data: a small NSynth-format set from the GM SoundFont, its training cache, the ABC tunes"
if "$audiogen" data nsynth --out "$out/nsynth-small" --programs 0,24,40,73 --pitches 48-72 \
     --velocities 50,100 --force --quiet; then
  "$audiogen" data prepare "$out/nsynth-small" --filter gansynth --cache-dir "$out/nsynth-cache" --quiet
else
  echo "demo: skipped the NSynth-format set (FluidSynth is missing)" >&2
fi
"$audiogen" data abc --out "$out/tunes.abc" --quiet

echo
echo "== ABC folk tunes: three sampled from the bundled model, rendered to MIDI and WAV"
"$audiogen" sample abc --seed "X:1" -n 3 --rng-seed 1 --out "$out/sampled-tunes.abc" --quiet
head -n 12 "$out/sampled-tunes.abc"
if ! "$audiogen" render abc "$out/sampled-tunes.abc" --out-dir "$out/sampled-tunes" --wav --quiet; then
  echo "demo: rendering to WAV needs FluidSynth; writing MIDI only" >&2
  "$audiogen" render abc "$out/sampled-tunes.abc" --out-dir "$out/sampled-tunes" --quiet
fi

echo
echo "== MusicVAE: four 2-bar melodies from the bundled model, and a walk from a jig to a reel"
wav=--wav
"$venv/bin/python" -c "from audiogen.data.soundfonts import fluidsynth_available as f; import sys; sys.exit(0 if f()[0] else 1)" \
  || { wav=; echo "demo: FluidSynth is missing; MusicVAE writes MIDI only" >&2; }
"$audiogen" sample musicvae -n 4 --rng-seed 1 --out-dir "$out/musicvae-samples" $wav --quiet
cat > "$out/jig.abc" <<'ABC'
X:1
T:Demo jig
M:6/8
L:1/8
K:G
GAB cBA|GAB d2e|dBG AFD|GBA G3|
ABC
cat > "$out/reel.abc" <<'ABC'
X:1
T:Demo reel
M:4/4
L:1/8
K:D
d2fd A2FA|d2fa g2fe|d2fd A2FA|BcdB A4|
ABC
"$audiogen" interpolate musicvae "$out/jig.abc" "$out/reel.abc" --steps 5 --out-dir "$out/musicvae-walk" $wav

echo
echo "== MusicVAE 16 bars: a walk from one whole tune to another (the repeats played out), and two sampled"
mv16=assets/models/musicvae-16bar.safetensors
cat > "$out/tune-a.abc" <<'ABC'
X:1
T:Demo tune A
M:4/4
L:1/8
K:D
|:d2fd A2FA|d2fa g2fe|d2fd A2FA|BcdB A4|d2fd A2FA|d2fa g2fe|f2ed BcdB|A2F2 D4:|
ABC
cat > "$out/tune-b.abc" <<'ABC'
X:1
T:Demo tune B
M:4/4
L:1/8
K:G
|:G2BG DGBG|A2cA FAcA|G2BG DGBd|edcA G4|B2dB GBdB|c2ec AcEc|B2dB cBAF|G2B2 G4:|
ABC
"$audiogen" interpolate musicvae "$out/tune-a.abc" "$out/tune-b.abc" --model "$mv16" --steps 5 \
  --out-dir "$out/musicvae-16bar-walk" $wav
"$audiogen" sample musicvae --model "$mv16" -n 2 --meter 4/4 --rng-seed 1 --out-dir "$out/musicvae-16bar-samples" $wav --quiet

echo
echo "== SampleVAE: index the drum kits installed here, find sounds like a kick, classify, morph, generate"
shopt -s nullglob
kicks=() snares=() every=()
if "$audiogen" data drums --out "$out/drums" --force --quiet; then
  kicks=("$out"/drums/kick/*.wav) snares=("$out"/drums/snare/*.wav) every=("$out"/drums/*/*.wav)
fi
if [ ${#kicks[@]} -gt 0 ] && [ ${#snares[@]} -gt 0 ]; then
  "$audiogen" index "$out/drums" --index "$out/drum-index" --quiet
  first_kick=${kicks[0]}
  first_snare=${snares[0]}
  echo "sounds nearest to $first_kick:"
  "$audiogen" similar "$first_kick" --index "$out/drum-index" -k 5
  echo "classified:"
  few=()
  for ((i = 0; i < ${#every[@]} && ${#few[@]} < 6; i += 97)); do few+=("${every[i]}"); done
  "$audiogen" classify "${few[@]}"
  "$audiogen" interpolate samplevae "$first_kick" "$first_snare" --steps 6 --out-dir "$out/samplevae-morph" --rng-seed 0
  "$audiogen" map --index "$out/drum-index" --out "$out/drum-map.png" --html "$out/drum-map.html"
else
  echo "demo: no drum kits or SoundFont renderer here; skipping the library part of SampleVAE" >&2
fi
"$audiogen" sample samplevae -n 4 --rng-seed 1 --out-dir "$out/samplevae-samples"

echo
echo "== GANSynth: notes from the bundled model (one latent across pitches), a timbre walk, a melody played, the timbre exported"
"$audiogen" sample gansynth --pitch 48 --pitch 55 --pitch 60 -n 2 --same-latent --rng-seed 1 \
  --out-dir "$out/gansynth-notes"
"$audiogen" interpolate gansynth --pitch 60 --steps 5 --from-rng-seed 1 --to-rng-seed 2 --out-dir "$out/gansynth-walk"
"$audiogen" render gansynth "$out/musicvae-samples/sample-000.mid" --out "$out/gansynth-melody.wav" --rng-seed 1 --check-pitch
echo "-- the same timbre as a SoundFont instrument, and the melody played by FluidSynth with it"
"$audiogen" export gansynth --out "$out/gansynth-timbre.sf2" --rng-seed 1 --force
"$audiogen" export gansynth --out "$out/gansynth-timbre.sfz" --rng-seed 1 --every 3 --force
if "$venv/bin/python" -c "from audiogen.data.soundfonts import fluidsynth_available as f; raise SystemExit(0 if f()[0] else 1)"; then
  "$audiogen" render midi "$out/musicvae-samples/sample-000.mid" --soundfont "$out/gansynth-timbre.sf2" --program 0 \
    --out "$out/gansynth-melody-sf2.wav"
else
  echo "demo: FluidSynth is not installed; skipping the melody played from the .sf2" >&2
fi

echo
echo "== Timbre translation: a piano melody played by the violin (bundled pix2pix model)"
"$audiogen" data pairs --melodies "$out/tune-a.abc" --from piano --to violin --max-seconds 12 \
  --out "$out/translate-pairs" --force --quiet
"$audiogen" translate "$out"/translate-pairs/a/*.wav --out "$out/translate-violin.wav" --picture "$out/translate.png"
echo "the true violin render of the same notes: $(ls "$out"/translate-pairs/b/*.wav)"

echo
echo "demo outputs in $out/:"
ls -1 "$out"
