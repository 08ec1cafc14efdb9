"""The spectral core: batched torch DSP that runs on CPU, CUDA and MPS.

Imports with torch, torchaudio and numpy alone; soundfile is imported by the audio I/O functions
when they are called.
"""

from audiogen.dsp.audio_io import MAX_INPUT_SECONDS, load_audio, resample, save_audio
from audiogen.dsp.config import GANSYNTH, SpecgramConfig
from audiogen.dsp.griffin_lim import griffin_lim, magnitude_stft, snr_db, spectral_convergence
from audiogen.dsp.mel import (linear_to_mel_matrix, mel_filterbank, mel_spectrogram,
                              mel_to_linear_matrix, scale_db)
from audiogen.dsp.normalize import GANSYNTH_NORMALIZER, Normalizer, denormalize_specgram, normalize_specgram
from audiogen.dsp.phase import instantaneous_frequency, integrate_frequency, unwrap_phase, wrap_phase
from audiogen.dsp.specgram import (melspecgram_to_specgram, specgram_to_melspecgram, specgram_to_wave,
                                   wave_to_specgram)
from audiogen.dsp.fourier import istft, stft

__all__ = [
    "MAX_INPUT_SECONDS",
    "GANSYNTH", "GANSYNTH_NORMALIZER", "Normalizer", "SpecgramConfig",
    "denormalize_specgram", "griffin_lim", "instantaneous_frequency", "integrate_frequency", "istft",
    "linear_to_mel_matrix", "load_audio", "magnitude_stft", "mel_filterbank", "mel_spectrogram",
    "mel_to_linear_matrix", "melspecgram_to_specgram", "normalize_specgram", "resample", "save_audio",
    "scale_db", "snr_db", "specgram_to_melspecgram", "specgram_to_wave", "spectral_convergence", "stft",
    "unwrap_phase", "wave_to_specgram", "wrap_phase",
]
