"""GANSynth's configuration: the training config dataclass, the named configs, the model file's
kind, and what follows from a config (network sizes, spectrogram layout, normaliser).
"""

from __future__ import annotations

from dataclasses import dataclass

from audiogen.dsp.config import SpecgramConfig
from audiogen.dsp.normalize import GANSYNTH_NORMALIZER, Normalizer
from audiogen.errors import AudiogenError
from audiogen.gansynth.model import GANSynthModelConfig

KIND = "gansynth"


@dataclass(frozen=True)
class GANSynthTrainConfig:
    """Networks, spectrogram layout, schedule and optimisation; saved in the run and the model file."""

    latent: int = 256
    channels: tuple[int, ...] = (256, 256, 256, 256, 128, 64, 32)
    mbstd_group: int = 4
    # Spectrogram layout (16 kHz, 4 s notes): (2, frames, mel_bins) images, IF-Mel when `mel`.
    n_fft: int = 2048
    hop: int = 512
    pad_left: int = 3072
    min_pad_right: int = 0
    mel: bool = True
    mel_bins: int = 1024
    mag_scale: float = GANSYNTH_NORMALIZER.mag_scale
    mag_offset: float = GANSYNTH_NORMALIZER.mag_offset
    if_scale: float = GANSYNTH_NORMALIZER.if_scale
    if_offset: float = GANSYNTH_NORMALIZER.if_offset
    fit_normalizer: bool = False        # measure the log-magnitude constants on the training notes
    pitch_min: int = 24
    pitch_max: int = 84
    filters: tuple[str, ...] = ("gansynth",)
    batch_size: int = 8                 # the global batch: split across data-parallel ranks
    images_per_stage: int = 800_000
    stage_images: tuple[int, ...] = ()  # one length per stage (2 x levels - 1); () = images_per_stage each
    conditioning: str = "acgan"         # "acgan" (the paper) or "projection" (BigGAN)
    pitch_embedding: int = 128          # "projection": the pitch embedding's width
    style_gain: float = 1.0             # "projection": init scale of every block's conditional affine map
    harmonic_map: bool = False          # a harmonic pitch-map channel into every G block and D
    judge_weight: float = 0.0           # G's loss on a frozen pitch classifier's reading of its notes
    judge_sha256: str = ""              # that classifier's file, recorded so --resume uses the same one
    lr: float = 8e-4
    beta1: float = 0.0
    beta2: float = 0.99
    gp_weight: float = 10.0
    drift_weight: float = 1e-3
    aux_weight: float = 10.0
    ema: float = 0.999                  # per step; faster when stages are short (see `ema_decay`)
    log_every: int = 100
    snapshot_every: int = 5000          # steps between snapshots and independent pitch checks
    seed: int = 0

    @property
    def pitches(self) -> int:
        return self.pitch_max - self.pitch_min + 1


CONFIGS: dict[str, GANSynthTrainConfig] = {
    # The paper's "IF-Mel + H": 128 x 1024 images, 13 stages x 800k images.
    "full": GANSynthTrainConfig(),
    # Narrow networks on 128 x 512 IF-Mel images (n_fft 1024): trainable on a CPU.
    "small": GANSynthTrainConfig(latent=128, channels=(128, 128, 128, 64, 32, 16, 8), n_fft=1024, hop=512,
                                 pad_left=2048, mel_bins=512, images_per_stage=20_000, log_every=20,
                                 snapshot_every=500),
    # CPU scale (the bundled model): 64 x 256 IF-Mel images (n_fft 2048, hop 1024, 256 mel bands,
    # normaliser fitted on the training notes), BigGAN-style conditioning with a harmonic pitch
    # map, and a schedule that spends its images where pitch is visible (levels 3-5).
    "cpu": GANSynthTrainConfig(latent=128, channels=(128, 128, 128, 96, 48, 24), n_fft=2048, hop=1024,
                               pad_left=1024, min_pad_right=1536, mel_bins=256, fit_normalizer=True,
                               conditioning="projection", pitch_embedding=64, harmonic_map=True, style_gain=0.1,
                               batch_size=16, images_per_stage=20_000,
                               stage_images=(3000, 3000, 3000, 4000, 4000, 6000, 8000, 8000, 10000, 6000, 40000),
                               log_every=20, snapshot_every=250),
}


def config_from_dict(data: dict) -> GANSynthTrainConfig:
    from audiogen.runtime.configs import dataclass_from_dict

    return dataclass_from_dict(GANSynthTrainConfig, data)


def spectral_config(config: GANSynthTrainConfig) -> SpecgramConfig:
    """The STFT layout images are made with: 16 kHz, 64000 samples, GANSynth's edge bins."""
    return SpecgramConfig(n_fft=config.n_fft, hop=config.hop, pad_left=config.pad_left,
                          min_pad_right=config.min_pad_right, mel_bins=config.mel_bins)


def normalizer(config: GANSynthTrainConfig) -> Normalizer:
    return Normalizer(config.mag_scale, config.mag_offset, config.if_scale, config.if_offset)


# what makes a config that model: a resume that names another --config is refused
SHAPE_FIELDS = ("latent", "channels", "n_fft", "hop", "pad_left", "min_pad_right", "mel", "mel_bins",
                "conditioning", "pitch_embedding", "harmonic_map")


def model_config(config: GANSynthTrainConfig) -> GANSynthModelConfig:
    """Network sizes; the base shape follows from the image shape and the number of levels."""
    spec = spectral_config(config)
    frames, bins = spec.frames, (config.mel_bins if config.mel else spec.bins)
    down = 2 ** (len(config.channels) - 1)
    if frames % down or bins % down:
        raise AudiogenError(f"images of {frames} x {bins} cannot be halved {len(config.channels) - 1} times "
                            f"for {len(config.channels)} levels")
    band_hz: tuple[float, ...] = ()
    if config.harmonic_map and config.conditioning == "acgan":
        raise AudiogenError("the harmonic pitch map needs --conditioning projection: an AC-GAN discriminator's pitch "
                            "head would read the answer off the map")
    if config.harmonic_map:
        from audiogen.dsp.mel import bin_frequencies, mel_band_centers

        band_hz = tuple(float(f) for f in (mel_band_centers(spec) if config.mel else bin_frequencies(spec)))
    return GANSynthModelConfig(latent=config.latent, pitches=config.pitches, channels=tuple(config.channels),
                               base_shape=(frames // down, bins // down), mbstd_group=config.mbstd_group,
                               conditioning=config.conditioning, embedding=config.pitch_embedding,
                               pitch_min=config.pitch_min, band_hz=band_hz, style_gain=config.style_gain)
