"""SampleVAE's networks: a CNN encoder to a Gaussian latent, a CNN decoder back to the log-mel
picture, and an optional class head on the latent mean (nn.Modules only)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class SampleVAEModelConfig:
    n_mels: int = 128
    frames: int = 64
    channels: tuple[int, ...] = (16, 32, 64, 128, 256)  # one stride-2 conv block each
    hidden: int = 512
    latent: int = 64
    classes: int = 0           # 0: no class head
    class_hidden: int = 128
    class_dropout: float = 0.0


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=2, padding=1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2))


def _up_block(cin: int, cout: int) -> nn.Sequential:
    # Nearest upsampling + 3x3 conv rather than a transposed conv: no checkerboard stripes.
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(cin, cout, 3, padding=1),
                         nn.BatchNorm2d(cout), nn.LeakyReLU(0.2))


class SampleVAE(nn.Module):
    """x: (B, 1, n_mels, frames) in [0, 1] -> mu, logvar (B, latent); z -> (B, 1, n_mels, frames)."""

    def __init__(self, config: SampleVAEModelConfig):
        super().__init__()
        self.config = config
        chans = list(config.channels)
        down = 2 ** len(chans)
        if config.n_mels % down or config.frames % down:
            raise ValueError(f"n_mels and frames must be multiples of {down} for {len(chans)} conv blocks")
        self.grid = (chans[-1], config.n_mels // down, config.frames // down)
        flat = chans[-1] * self.grid[1] * self.grid[2]
        self.encoder = nn.Sequential(*[_block(a, b) for a, b in zip([1] + chans[:-1], chans)], nn.Flatten(),
                                     nn.Linear(flat, config.hidden), nn.LeakyReLU(0.2))
        self.to_mu = nn.Linear(config.hidden, config.latent)
        self.to_logvar = nn.Linear(config.hidden, config.latent)
        self.from_latent = nn.Sequential(nn.Linear(config.latent, config.hidden), nn.LeakyReLU(0.2),
                                         nn.Linear(config.hidden, flat), nn.LeakyReLU(0.2))
        ups = chans[::-1]
        self.decoder = nn.Sequential(*[_up_block(a, b) for a, b in zip(ups[:-1], ups[1:])],
                                     nn.Upsample(scale_factor=2, mode="nearest"),
                                     nn.Conv2d(ups[-1], 1, 3, padding=1))
        self.classifier = (nn.Sequential(nn.Linear(config.latent, config.class_hidden), nn.LeakyReLU(0.2),
                                         nn.Dropout(config.class_dropout),
                                         nn.Linear(config.class_hidden, config.classes))
                           if config.classes else None)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 1, n_mels, frames) -> mu, logvar: (B, latent) each."""
        h = self.encoder(x)
        return self.to_mu(h), self.to_logvar(h).clamp(-12.0, 8.0)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """(B, latent) -> (B, 1, n_mels, frames) logits of the [0, 1] picture."""
        h = self.from_latent(z).view(-1, *self.grid)
        return self.decoder(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(B, latent) -> (B, 1, n_mels, frames) in [0, 1]."""
        return torch.sigmoid(self.decode_logits(z))

    def classify(self, mu: torch.Tensor) -> torch.Tensor:
        """(B, latent) latent means -> (B, classes) logits."""
        if self.classifier is None:
            raise ValueError("this model has no class head")
        return self.classifier(mu)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None):
        """-> (reconstruction logits, mu, logvar, class logits or None); z drawn by reparameterisation."""
        mu, logvar = self.encode(x)
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        z = mu + eps * torch.exp(0.5 * logvar)
        logits = self.classify(mu) if self.classifier is not None else None
        return self.decode_logits(z), mu, logvar, logits
