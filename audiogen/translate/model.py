"""Timbre translation networks over normalised (log-magnitude, IF) spectrograms.

Layout everywhere: (B, 2, frames, bins), values in [-1, 1] (`audiogen.dsp.normalize`); the time
axis is frames, so every network is fully convolutional along time.

- `UNet` (pix2pix's generator): an encoder of stride-2 4x4 convolutions and a decoder of
  transposed ones, with skips between encoder layer i and decoder layer n-i; dropout in the
  innermost decoder layers is the only noise while training (pix2pix keeps it on at test time
  too; audiogen translates in eval mode, so a file always translates the same way).
  Any number of frames goes in: the time axis is padded to a multiple of 2^depth and cut back.
- `PatchDiscriminator` (PatchGAN): a grid of real/fake logits, each seeing about a 70x70 patch;
  conditioned on the input by channel concatenation (pix2pix) or unconditioned (CycleGAN).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True)
class TranslateModelConfig:
    """Sizes of the networks (saved in the model file).

    bins: frequency bins of the representation (must divide by 2 ** len(channels)).
    channels: encoder widths, one stride-2 layer each (decoder mirrors them).
    dropout: dropout rate of the `dropout_layers` innermost decoder layers.
    residual: the generator predicts a change to its input (out = clamp(x + G(x))) instead of
        the output itself; the IF of a note at the same pitch is nearly the input's.
    disc_channels: PatchGAN widths (stride 2 but the last, then a 1-channel logit map).
    coord_channel: the U-Net also sees each bin's frequency (a ramp from -1 to 1 as a third input
        channel): convolutions are blind to where they are, and a timbre's gains depend on it.
    band_affine: residual models first map each bin's log-magnitude through a learned affine
        (x * (1 + scale_bin) + bias_bin: an EQ plus a compression of the dynamic range), and the
        U-Net's change is added to that. Measured on log-mel spectrograms, that map alone takes
        held-out piano renders about 40% of the way to the violin's.
    """

    bins: int = 512
    channels: tuple[int, ...] = (32, 64, 128, 256, 256, 256)
    dropout: float = 0.5
    dropout_layers: int = 2
    residual: bool = True
    disc_channels: tuple[int, ...] = (32, 64, 128, 256)
    coord_channel: bool = True
    band_affine: bool = True

    def __post_init__(self) -> None:
        if self.bins % (2 ** len(self.channels)):
            raise ValueError(f"bins {self.bins} must divide by 2**{len(self.channels)}")

    def to_dict(self) -> dict:
        return asdict(self)


def _norm(channels: int) -> nn.Module:
    return nn.InstanceNorm2d(channels, affine=True)


class UNet(nn.Module):
    """(B, 2, frames, bins) -> (B, 2, frames, bins) in [-1, 1], for any number of frames.

    `identity_init` (residual models): the last layer starts at zero, so the network starts as
    the identity and training refines the input rather than noise (paired training uses it; a
    CycleGAN starts from random generators, as the paper's does).
    """

    def __init__(self, config: TranslateModelConfig, *, identity_init: bool = False):
        super().__init__()
        self.config = config
        widths = list(config.channels)
        self.down = nn.ModuleList()
        previous = 3 if config.coord_channel else 2
        for i, width in enumerate(widths):
            layers: list[nn.Module] = [nn.Conv2d(previous, width, 4, stride=2, padding=1)]
            if 0 < i < len(widths) - 1:  # pix2pix: no norm on the outermost and innermost layers
                layers.append(_norm(width))
            self.down.append(nn.Sequential(*layers))
            previous = width
        self.up = nn.ModuleList()
        for i in reversed(range(len(widths))):  # decoder layer producing encoder layer i-1's size
            inner = i == len(widths) - 1
            in_width = widths[i] if inner else 2 * widths[i]
            out_width = widths[i - 1] if i > 0 else 2
            layers = [nn.ReLU(), nn.ConvTranspose2d(in_width, out_width, 4, stride=2, padding=1)]
            if i > 0:
                layers.append(_norm(out_width))
                if len(widths) - 1 - i < config.dropout_layers and config.dropout > 0:
                    layers.append(nn.Dropout(config.dropout))
            self.up.append(nn.Sequential(*layers))
        if config.residual and config.band_affine:
            self.band_scale = nn.Parameter(torch.zeros(config.bins))
            self.band_bias = nn.Parameter(torch.zeros(config.bins))
        if config.residual and identity_init:
            last = self.up[-1][-1]
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)

    @property
    def multiple(self) -> int:
        return 2 ** len(self.config.channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        frames = x.shape[-2]
        pad = (-frames) % self.multiple
        h = F.pad(x, (0, 0, 0, pad), mode="replicate") if pad else x
        if self.config.coord_channel:
            ramp = torch.linspace(-1.0, 1.0, h.shape[-1], device=h.device, dtype=h.dtype)
            h = torch.cat([h, ramp.expand(h.shape[0], 1, h.shape[-2], -1)], dim=1)
        skips = []
        for i, layer in enumerate(self.down):
            h = layer(h if i == 0 else F.leaky_relu(h, 0.2))
            skips.append(h)
        skips.pop()
        for i, layer in enumerate(self.up):
            h = layer(h if i == 0 else torch.cat([h, skips.pop()], dim=1))
        h = h[..., :frames, :]
        if self.config.residual:
            if self.config.band_affine:
                magnitude = x[:, :1] * (1.0 + self.band_scale) + self.band_bias
                x = torch.cat([magnitude, x[:, 1:]], dim=1)
            return (x + h).clamp(-1.0, 1.0)
        return torch.tanh(h)


class PatchDiscriminator(nn.Module):
    """(B, in_channels, frames, bins) -> (B, 1, frames', bins') logits, one per patch."""

    def __init__(self, config: TranslateModelConfig, in_channels: int):
        super().__init__()
        layers: list[nn.Module] = []
        previous = in_channels
        widths = list(config.disc_channels)
        for i, width in enumerate(widths):
            stride = 2 if i < len(widths) - 1 else 1
            layers.append(nn.Conv2d(previous, width, 4, stride=stride, padding=1))
            if i > 0:
                layers.append(_norm(width))
            layers.append(nn.LeakyReLU(0.2))
            previous = width
        layers.append(nn.Conv2d(previous, 1, 4, stride=1, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Translator(nn.Module):
    """The generators a model file holds: `ab` (a -> b) and, for unpaired (CycleGAN) models, `ba`."""

    def __init__(self, config: TranslateModelConfig, *, cycle: bool):
        super().__init__()
        self.ab = UNet(config, identity_init=not cycle)
        self.ba = UNet(config) if cycle else None

    def forward(self, x: torch.Tensor, *, reverse: bool = False) -> torch.Tensor:
        if reverse:
            if self.ba is None:
                raise ValueError("this model translates one way only (paired training)")
            return self.ba(x)
        return self.ab(x)


class Discriminators(nn.Module):
    """PatchGANs: `b` judges (input, output) pairs (paired); `a` and `b` judge single sides (unpaired)."""

    def __init__(self, config: TranslateModelConfig, *, cycle: bool):
        super().__init__()
        self.b = PatchDiscriminator(config, 2 if cycle else 4)
        self.a = PatchDiscriminator(config, 2) if cycle else None
