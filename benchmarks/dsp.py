"""wave -> IF-mel throughput: audiogen's batched torch path vs the plain per-note reference.

Reference (per note, as public ports do it): librosa.stft + np.unwrap + a dense float32 mel
matrix product. Ours: audiogen.dsp.wave_to_specgram(batch, mel=True). Both produce GANSynth's
(2, 128, 1024) IF-Mel specgram from 64000 samples at 16 kHz, on the same machine in the same run.

    python benchmarks/dsp.py                 # CPU, and CUDA when present
    python benchmarks/dsp.py --notes 64 --batch 32 --gpu-batch 512
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch

from audiogen.dsp import GANSYNTH, linear_to_mel_matrix, wave_to_specgram


def synth_notes(n: int, seed: int = 0) -> np.ndarray:
    """(n, 64000) float32 harmonic notes with decays and a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(GANSYNTH.audio_length) / GANSYNTH.sample_rate
    notes = np.zeros((n, t.size), np.float32)
    for i in range(n):
        f0 = 440.0 * 2 ** ((rng.integers(24, 85) - 69) / 12)
        harmonics = np.arange(1, 16)[:, None]
        amps = rng.uniform(0, 1, (15, 1)) / harmonics * (harmonics * f0 < 8000)
        tone = (amps * np.sin(2 * np.pi * f0 * harmonics * t + rng.uniform(0, 6.3, (15, 1)))).sum(0)
        notes[i] = (tone * np.exp(-t * rng.uniform(0.5, 3)) * 0.3 + rng.normal(0, 1e-3, t.size))
    return notes


class Reference:
    """The plain pipeline, one note at a time."""

    def __init__(self):
        self.mel = linear_to_mel_matrix(GANSYNTH).astype(np.float32)  # dense (1024, 1024)

    def __call__(self, wave: np.ndarray) -> np.ndarray:
        import librosa

        padded = np.pad(wave, (GANSYNTH.pad_left, GANSYNTH.pad_right))
        spec = librosa.stft(padded, n_fft=GANSYNTH.n_fft, hop_length=GANSYNTH.hop, window="hann",
                            center=False)[1:].T  # (128, 1024), DC dropped
        phase = np.unwrap(np.angle(spec), axis=0)
        log_power = np.log(np.abs(spec) ** 2 @ self.mel + 1e-6)
        mel_phase = phase @ self.mel
        steps = np.diff(mel_phase, axis=0)
        steps = (steps + np.pi) % (2 * np.pi) - np.pi
        inst_freq = np.concatenate([mel_phase[:1], steps], axis=0) / np.pi
        return np.stack([log_power, inst_freq])


def rate(fn, n_notes: int, repeats: int, sync=lambda: None) -> float:
    """Best-of-`repeats` notes per second."""
    fn()  # warm-up: caches, allocator, kernels
    sync()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - start)
    return n_notes / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notes", type=int, default=64, help="notes per CPU measurement")
    parser.add_argument("--batch", type=int, default=32, help="CPU batch size for audiogen")
    parser.add_argument("--gpu-batch", type=int, default=1024, help="CUDA batch size")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_flush_denormal(True)

    notes = synth_notes(args.notes)
    reference = Reference()
    ours_check = wave_to_specgram(torch.from_numpy(notes[:2]), mel=True).numpy()
    ref_check = np.stack([reference(w) for w in notes[:2]])
    diff = np.abs(ours_check[:, 0] - ref_check[:, 0])
    loud = ref_check[:, 0] > ref_check[:, 0].max() - np.log(1e6)
    print(f"agreement: max |log-mel power difference| on bins within 60 dB of the peak = {diff[loud].max():.2e}")

    ref_rate = rate(lambda: [reference(w) for w in notes], args.notes, args.repeats)
    batches = [torch.from_numpy(notes[i:i + args.batch]) for i in range(0, args.notes, args.batch)]
    ours_rate = rate(lambda: [wave_to_specgram(b, mel=True) for b in batches], args.notes, args.repeats)
    lin_rate = rate(lambda: [wave_to_specgram(b) for b in batches], args.notes, args.repeats)
    print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, "
          f"torch {torch.__version__}")
    print("| path | device | notes/s |")
    print("|---|---|---|")
    print(f"| reference: librosa.stft + np.unwrap + dense mel, per note | cpu | {ref_rate:.1f} |")
    print(f"| audiogen wave_to_specgram(mel=True), batch {args.batch} | cpu | {ours_rate:.1f} |")
    print(f"| audiogen wave_to_specgram (linear IF), batch {args.batch} | cpu | {lin_rate:.1f} |")
    print(f"CPU ratio IF-mel, audiogen / reference: {ours_rate / ref_rate:.2f}x (target >= 3x)")

    if torch.cuda.is_available():
        device = torch.device("cuda")
        gpu_notes = torch.from_numpy(synth_notes(64)).to(device).repeat(args.gpu_batch // 64 + 1, 1)[:args.gpu_batch]
        sync = torch.cuda.synchronize
        gpu_rate = rate(lambda: wave_to_specgram(gpu_notes, mel=True), args.gpu_batch, args.repeats * 3, sync)
        gpu_lin = rate(lambda: wave_to_specgram(gpu_notes), args.gpu_batch, args.repeats * 3, sync)
        print(f"| audiogen wave_to_specgram(mel=True), batch {args.gpu_batch} | {torch.cuda.get_device_name()} | {gpu_rate:.0f} |")
        print(f"| audiogen wave_to_specgram (linear IF), batch {args.gpu_batch} | {torch.cuda.get_device_name()} | {gpu_lin:.0f} |")
        print(f"GPU IF-mel: {gpu_rate:.0f} notes/s (target >= 50,000); NSynth train (289,205 notes) in {289205 / gpu_rate:.1f} s")
    else:
        print("no CUDA device: GPU throughput not measured")


if __name__ == "__main__":
    main()
