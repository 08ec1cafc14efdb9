"""Timbre translation's configuration: the training config dataclass, the named configs, the model
file's kind, the representation and the network sizes a config gives, and the loss floors in
normalised units.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from audiogen.dsp.normalize import GANSYNTH_NORMALIZER
from audiogen.translate.data import (
    Representation,
)
from audiogen.translate.model import TranslateModelConfig

KIND = "translate"
DB = math.log(10) / 20 * GANSYNTH_NORMALIZER.mag_scale  # one dB of log-magnitude in normalised units
IF_FLOOR = 60 * DB
MAGNITUDE_FLOOR = 80 * DB


@dataclass(frozen=True)
class TranslateTrainConfig:
    """Sizes, representation and optimisation; saved in the run and the model file."""

    channels: tuple[int, ...] = (16, 32, 64, 128, 192, 256)
    disc_channels: tuple[int, ...] = (16, 32, 64, 128)
    dropout: float = 0.5
    dropout_layers: int = 2
    residual: bool = True
    coord_channel: bool = True
    band_affine: bool = True
    sample_rate: int = 16000
    n_fft: int = 1024
    hop: int = 256
    crop_frames: int = 128          # 2.0 s crops
    batch_size: int = 4
    lr: float = 2e-4
    beta1: float = 0.5
    l1_weight: float = 100.0
    if_weight: float = 0.1
    cycle_weight: float = 10.0
    identity_weight: float = 0.5
    pool_size: int = 50
    eq_augment_db: float = 9.0      # inputs get a random EQ: a tilt of up to +-this across the band, ripples half as big
    gate_prob: float = 0.5          # share of inputs whose quiet bins (30-60 dB under the peak) are silenced
    decay_from: float = 0.5         # the learning rate falls linearly to 0 over the last half of the steps
    val_fraction: float = 0.05
    val_crops: int = 16
    val_every: int = 250
    log_every: int = 50
    snapshot_every: int = 500
    seed: int = 0


CONFIGS: dict[str, TranslateTrainConfig] = {
    "cpu": TranslateTrainConfig(),
    "gpu": TranslateTrainConfig(channels=(32, 64, 128, 256, 512, 512), disc_channels=(64, 128, 256, 512),
                                batch_size=16, crop_frames=256, val_crops=64),
    "tiny": TranslateTrainConfig(channels=(8, 16, 16, 32), disc_channels=(8, 16), dropout_layers=1, n_fft=256,
                                 hop=64, crop_frames=32, batch_size=2, lr=1e-3, val_crops=2, val_every=10, log_every=5,
                                 snapshot_every=100, val_fraction=0.0, eq_augment_db=0.0, gate_prob=0.0),
}

# what makes a config that model: a resume that names another --config is refused
SHAPE_FIELDS = ("channels", "disc_channels", "dropout", "dropout_layers", "residual", "coord_channel", "band_affine",
                "sample_rate",
                "n_fft", "hop")


def config_from_dict(data: dict) -> TranslateTrainConfig:
    from audiogen.runtime.configs import dataclass_from_dict

    return dataclass_from_dict(TranslateTrainConfig, data)


def representation(config: TranslateTrainConfig | dict) -> Representation:
    c = config if isinstance(config, dict) else asdict(config)
    return Representation(sample_rate=c["sample_rate"], n_fft=c["n_fft"], hop=c["hop"])


def model_config(config: TranslateTrainConfig | dict) -> TranslateModelConfig:
    c = config if isinstance(config, dict) else asdict(config)
    return TranslateModelConfig(bins=c["n_fft"] // 2, channels=tuple(c["channels"]),
                                disc_channels=tuple(c["disc_channels"]), dropout=c["dropout"],
                                dropout_layers=c["dropout_layers"], residual=c["residual"],
                                coord_channel=c["coord_channel"], band_affine=c["band_affine"])
