"""The ABC char-LSTM's configuration: the training config dataclass, the named configs, the model
file's kind and the network sizes a config gives.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from audiogen.abc.model import CharLSTMConfig

KIND = "abc"


@dataclass(frozen=True)
class AbcTrainConfig:
    """Model sizes and optimisation; saved in the run and the model file."""

    embed: int = 128
    hidden: int = 384
    layers: int = 2
    dropout: float = 0.2
    seq_len: int = 128
    batch_size: int = 32
    lr: float = 2e-3
    lr_final: float = 2e-4      # cosine decay from lr to lr_final over the run's steps
    grad_clip: float = 1.0
    val_fraction: float = 0.05
    val_every: int = 250
    log_every: int = 50
    seed: int = 0


CONFIGS: dict[str, AbcTrainConfig] = {
    # the bundled model: 2.0M parameters, ~12k chars/s on a 2-core CPU
    "default": AbcTrainConfig(),
    # quick experiments and tests
    "small": AbcTrainConfig(embed=64, hidden=128, layers=2, dropout=0.1, seq_len=64, batch_size=16,
                            val_every=100),
    # MIT 6.S191 lab 1: embedding 256, one LSTM of 1024, sequence 100, batch 8, Adam 5e-3
    "mit": AbcTrainConfig(embed=256, hidden=1024, layers=1, dropout=0.0, seq_len=100, batch_size=8,
                          lr=5e-3, lr_final=5e-3),
    # folk-rnn's sizes: 3 LSTM layers of 512, dropout 0.5 (for a GPU)
    "folk-rnn": AbcTrainConfig(embed=128, hidden=512, layers=3, dropout=0.5, seq_len=128, batch_size=64),
}


# what makes a config that model: a resume that names another --config is refused
SHAPE_FIELDS = ("embed", "hidden", "layers")


def model_config(config: AbcTrainConfig | dict, vocab_size: int) -> CharLSTMConfig:
    c = config if isinstance(config, dict) else asdict(config)
    return CharLSTMConfig(vocab_size=vocab_size, embed=c["embed"], hidden=c["hidden"], layers=c["layers"],
                          dropout=c["dropout"])


def config_from_dict(data: dict) -> AbcTrainConfig:
    from audiogen.runtime.configs import dataclass_from_dict

    return dataclass_from_dict(AbcTrainConfig, data)
