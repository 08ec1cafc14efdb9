#!/usr/bin/env bash
# Installs the system libraries audiogen uses, when this machine lets us (Debian/Ubuntu + root).
# Otherwise says exactly what to install and carries on: everything but FluidSynth rendering works.
set -u
packages=(libfluidsynth3 abcmidi)
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && exit 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "audiogen: installing system packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null && exit 0
    echo "audiogen: apt-get could not install ${missing[*]}; continuing without them" >&2
  else
    echo "audiogen: please run: sudo apt-get install ${missing[*]}  (FluidSynth rendering and the abc2midi check need them); continuing" >&2
  fi
elif command -v brew >/dev/null 2>&1; then
  command -v fluidsynth >/dev/null 2>&1 || echo "audiogen: please run: brew install fluid-synth abcmidi  (FluidSynth rendering and the abc2midi check need them); continuing" >&2
else
  echo "audiogen: install FluidSynth 2.x (the libfluidsynth shared library) for audio rendering; continuing" >&2
fi
exit 0
