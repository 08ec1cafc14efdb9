"""SampleVAE's configuration: the training config dataclass, the named configs, the model file's
kind, the features and the network sizes a config gives.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from audiogen.samplevae.data import FeatureConfig
from audiogen.samplevae.model import SampleVAEModelConfig

KIND = "samplevae"


@dataclass(frozen=True)
class SampleVAETrainConfig:
    """Sizes, features and optimisation; saved in the run and the model file."""

    latent: int = 64
    channels: tuple[int, ...] = (8, 16, 32, 64, 128)
    hidden: int = 256
    class_hidden: int = 128
    sample_rate: int = 32000      # 16 kHz (SampleVAE's rate) cuts hi-hats and cymbals off at 8 kHz
    n_fft: int = 2048
    hop: int = 512
    n_mels: int = 128
    frames: int = 64
    top_db: float = 80.0
    batch_size: int = 64
    lr: float = 1e-3
    lr_min: float = 1e-4          # cosine decay from lr to lr_min over the run's steps
    beta: float = 1.0             # KL weight, reached linearly over beta_warmup steps
    beta_warmup: int = 500
    class_weight: float = 300.0   # the class loss is on the scale of the per-picture recon sum
    stretch: float = 0.25         # augmentation: mel and time axes scaled by up to +-stretch
    shift_frames: int = 3         # augmentation: up to this many frames of delay
    floor_raise: float = 0.35     # augmentation: the picture's floor raised by up to this (0.35 = 28 dB)
    tilt: float = 0.3             # augmentation: a spectral tilt of up to +-tilt (x top_db dB) across the mel axis
    class_dropout: float = 0.2
    balance_groups: bool = True   # with kit names (manifest.csv), balance kits within each class
    val_fraction: float = 0.1     # files held out (stratified by class) when no split is given
    val_every: int = 250
    log_every: int = 50
    seed: int = 0


CONFIGS: dict[str, SampleVAETrainConfig] = {
    "default": SampleVAETrainConfig(),
    "tiny": SampleVAETrainConfig(latent=8, channels=(4, 8, 8, 16), hidden=32, class_hidden=16, n_mels=32,
                                 frames=32, sample_rate=16000, n_fft=1024, hop=256, batch_size=8, beta_warmup=20, class_weight=30.0,
                                 val_every=20, log_every=10),
}


# what makes a config that model (sizes and features): a resume that names another --config is refused
SHAPE_FIELDS = tuple(f.name for f in fields(SampleVAEModelConfig) + fields(FeatureConfig))


def feature_config(config: SampleVAETrainConfig | dict) -> FeatureConfig:
    c = config if isinstance(config, dict) else asdict(config)
    return FeatureConfig.from_dict(c)


def model_config(config: SampleVAETrainConfig | dict, classes: int) -> SampleVAEModelConfig:
    c = config if isinstance(config, dict) else asdict(config)
    names = {f.name for f in fields(SampleVAEModelConfig)}
    values = {k: v for k, v in c.items() if k in names}
    values["channels"] = tuple(values.get("channels", SampleVAEModelConfig.channels))
    return SampleVAEModelConfig(**{**values, "classes": classes})


def config_from_dict(data: dict) -> SampleVAETrainConfig:
    from audiogen.runtime.configs import dataclass_from_dict

    return dataclass_from_dict(SampleVAETrainConfig, data)
