"""MusicVAE's configuration: the training config dataclass, the named configs, the model file's
kind and the network sizes a config gives.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from audiogen.musicvae.model import MusicVAEModelConfig

KIND = "musicvae"
HELDOUT_NAME = "heldout.npz"


@dataclass(frozen=True)
class MusicVAETrainConfig:
    """Model sizes and optimisation; saved in the run and the model file."""

    bars: int = 2
    hierarchical: bool = False
    latent: int = 256
    embed: int = 32
    encoder_hidden: int = 128
    encoder_layers: int = 1
    decoder_hidden: int = 128
    decoder_layers: int = 2
    conductor_hidden: int = 128
    conductor_layers: int = 2
    conductor_out: int = 128
    dropout: float = 0.0
    encoder_per_bar: bool = False  # encoder LSTM over each bar, then an LSTM over the bars (model.Encoder)
    bar_encoder_hidden: int = 256
    conductor_tanh: bool = True
    conductor_reads_z: bool = False
    conductor_skip: bool = False
    distill_weight: float = 0.0   # bar-code distillation from the --warm-start 2-bar model (musicvae.distill)
    distill_min_sigma: float = 0.1
    batch_size: int = 64
    lr: float = 1e-3
    lr_decay: float = 0.9999      # per step (Magenta: 1e-3 decaying by 0.9999 a step to 1e-5)
    lr_min: float = 1e-5
    grad_clip: float = 1.0
    beta_max: float = 0.2         # KL weight reaches beta_max * (1 - beta_rate ** step)
    beta_rate: float = 0.999
    free_bits: float = 0.0        # KL cost max(KL - free_bits * ln 2, 0)
    sampling_rate: float = 0.0    # inverse-sigmoid scheduled sampling constant k; 0 = teacher forcing only
    sampling_max: float = 0.5     # ceiling of the scheduled-sampling probability
    hop_bars: int = 1             # bars between window starts when reading MIDI/ABC
    transpose_low: int = 0        # each training window is shifted by a random number of semitones
    transpose_high: int = 0       # in transpose_low..transpose_high (kept inside MIDI 21..108)
    val_fraction: float = 0.05    # melodies (whole tunes) held out for validation
    val_every: int = 250
    val_windows: int = 1000       # held-out windows scored at each validation
    log_every: int = 50
    seed: int = 0


_16BAR = dict(bars=16, hierarchical=True, latent=512, free_bits=256.0, hop_bars=4, batch_size=32, transpose_low=-5,
              transpose_high=6)
# The bundled 16-bar model: sizes of the 2-bar model where a --warm-start from it can copy them
# (embedding 32, encoder LSTM 128 run over each bar, bar decoder 2x128 conditioned on 256 values),
# an LSTM of 256 over the 16 bar summaries, latent 512, conductor 2x256 reading (z, bar number)
# plus a linear map of z per bar, its outputs linear like the 2-bar latent it is distilled toward
# (musicvae.distill). Held-out teacher-forced accuracy at 500 steps (card): conductor fed zeros,
# tanh outputs 0.614; reading (z, bar) 0.614; with the linear map 0.712.
_16BAR_PER_BAR = dict(bars=16, hierarchical=True, latent=512, encoder_per_bar=True, bar_encoder_hidden=256,
                      conductor_hidden=256, conductor_out=256, conductor_tanh=False, conductor_reads_z=True,
                      conductor_skip=True, distill_weight=0.05, free_bits=1024.0, beta_rate=0.9999,
                      sampling_rate=1500.0, hop_bars=1, batch_size=32, transpose_low=-5, transpose_high=6)
CONFIGS: dict[str, MusicVAETrainConfig] = {
    # the bundled 2-bar model: cat-mel_2bar at CPU size (bi-LSTM 128, decoder 2x128, latent 256)
    # Free bits 96 (66.5 nats of KL cost-free): on a CPU budget of ~18k steps, beta 0.2 alone held
    # the KL near 19 nats and held-out accuracy near 0.63 after 1,500 steps, and free bits 48
    # reached 0.92 teacher-forced at 14.7k steps (Magenta's beta_rate 0.99999 hides this over 100k+).
    "2bar": MusicVAETrainConfig(sampling_rate=1500.0, free_bits=96.0, beta_rate=0.9999, transpose_low=-5,
                                transpose_high=6),
    # the hierarchical 16-bar model at CPU size (the bundled musicvae-16bar.safetensors, warm-started
    # from the 2-bar model)
    "16bar": MusicVAETrainConfig(**_16BAR_PER_BAR),
    # the same with one flat decoder over all 256 steps, for the paper's flat vs hierarchical comparison
    "16bar-flat": MusicVAETrainConfig(**{**_16BAR_PER_BAR, "hierarchical": False, "distill_weight": 0.0}),
    # the first CPU 16-bar configs (one encoder LSTM over 256 steps, conductor 2x128, free bits 256)
    "16bar-v1": MusicVAETrainConfig(**_16BAR),
    "16bar-v1-flat": MusicVAETrainConfig(**{**_16BAR, "hierarchical": False}),
    # Magenta's sizes, for a GPU: cat-mel_2bar_small and hierdec-mel_16bar
    "2bar-paper": MusicVAETrainConfig(embed=90, encoder_hidden=512, decoder_hidden=256, batch_size=512,
                                      sampling_rate=1000.0, sampling_max=1.0,
                                      beta_rate=0.99999, transpose_low=-5, transpose_high=6),
    "16bar-paper": MusicVAETrainConfig(**{**_16BAR, "batch_size": 512}, embed=90, encoder_hidden=2048, encoder_layers=2,
                                       conductor_hidden=1024, conductor_out=1024, decoder_hidden=1024,
                                       beta_rate=0.99999),
    # quick experiments and tests
    "tiny": MusicVAETrainConfig(latent=16, embed=16, encoder_hidden=32, decoder_hidden=32, decoder_layers=1,
                                conductor_hidden=32, conductor_layers=1, conductor_out=32, batch_size=16,
                                val_every=50, log_every=10),
}


# what makes a config that model (a resume that names another --config is refused)
SHAPE_FIELDS = tuple(f.name for f in fields(MusicVAEModelConfig))


def model_config(config: MusicVAETrainConfig | dict) -> MusicVAEModelConfig:
    c = config if isinstance(config, dict) else asdict(config)
    names = {f.name for f in fields(MusicVAEModelConfig)}
    return MusicVAEModelConfig(**{k: v for k, v in c.items() if k in names})


def config_from_dict(data: dict) -> MusicVAETrainConfig:
    from audiogen.runtime.configs import dataclass_from_dict

    return dataclass_from_dict(MusicVAETrainConfig, data)
