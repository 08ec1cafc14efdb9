"""GANSynth's networks (nn.Modules only): a progressive, pitch-conditioned generator and
discriminator over 2-channel spectrogram images (log-magnitude, instantaneous frequency).

Two ways to condition on pitch (`conditioning`):
- "acgan" (the paper): a one-hot pitch concatenated to the latent enters G's first dense layer
  only; D has a pitch-classifier head beside its realness logit.
- "projection" (BigGAN): a learned pitch embedding, concatenated with the latent, drives a
  conditional affine map after every pixel norm of every G block, and D's logit gains a
  projection term `Embed(y) . h` (Miyato & Koyama), so pitch is judged against D's features
  rather than by a separate head.
Either may add a harmonic pitch map (`band_hz` non-empty): for each pitch, where its harmonics
fall on the frequency axis, as one extra input channel of every G block and of D at every
level, so a pitch is placed and checked where it is visible in the picture.

Level 0 is the coarsest resolution (GANSynth: 2 x 16), each further level doubles frames and
bins (GANSynth: up to 128 x 1024 at level 6). Both networks run at any `level` with a fade-in
`alpha` in [0, 1]: at alpha < 1 the newest block's output is blended with the previous level's,
upsampled (G) or downsampled (D), as in progressive growing. Layers use an equalised learning
rate (weights drawn N(0, 1), scaled by He's constant at run time), pixel norm in G and a
minibatch-stddev channel in D.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

LEAK = 0.2


@dataclass(frozen=True)
class GANSynthModelConfig:
    """Network sizes. `channels[l]` is the width at level l; levels = len(channels).

    `base_shape` is (frames, bins) at level 0; the full image is base_shape * 2**(levels - 1).
    """

    latent: int = 256
    pitches: int = 61
    channels: tuple[int, ...] = (256, 256, 256, 256, 128, 64, 32)
    base_shape: tuple[int, int] = (2, 16)
    image_channels: int = 2
    mbstd_group: int = 4
    conditioning: str = "acgan"        # "acgan" or "projection"
    embedding: int = 128               # pitch-embedding width ("projection")
    pitch_min: int = 24                # MIDI number of pitch class 0 (for the harmonic map)
    band_hz: tuple[float, ...] = ()    # centre Hz of each full-resolution frequency bin; () = no map
    style_gain: float = 1.0            # init scale of the conditional affine maps ("projection")

    def __post_init__(self) -> None:
        if self.conditioning not in ("acgan", "projection"):
            raise ValueError(f"conditioning must be 'acgan' or 'projection', got {self.conditioning!r}")

    @property
    def map_channels(self) -> int:
        return 1 if self.band_hz else 0

    @property
    def levels(self) -> int:
        return len(self.channels)

    def shape_at(self, level: int) -> tuple[int, int]:
        """(frames, bins) of the images at `level`."""
        return (self.base_shape[0] << level, self.base_shape[1] << level)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.image_channels, *self.shape_at(self.levels - 1))


class EqualizedLinear(nn.Module):
    def __init__(self, cin: int, cout: int, gain: float = math.sqrt(2)):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin))
        self.bias = nn.Parameter(torch.zeros(cout))
        self.scale = gain / math.sqrt(cin)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.scale, self.bias)


class EqualizedConv2d(nn.Module):
    def __init__(self, cin: int, cout: int, kernel: int, gain: float = math.sqrt(2)):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(cout))
        self.scale = gain / math.sqrt(cin * kernel * kernel)
        self.padding = kernel // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)


def pixel_norm(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Each position's feature vector scaled to unit root-mean-square over channels (dim 1)."""
    return x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + eps)


def minibatch_stddev(x: torch.Tensor, group: int) -> torch.Tensor:
    """(B, C, H, W) -> (B, C + 1, H, W): the mean feature stddev within each group of `group`
    consecutive samples, as an extra channel. Groups are contiguous, so a batch split across
    data-parallel ranks (each rank's batch a multiple of `group`) gets the same values. A batch
    that is not a multiple of `group` uses the largest group below it that divides the batch."""
    b, c, h, w = x.shape
    g = next(d for d in range(min(group, b), 0, -1) if b % d == 0)
    y = x.float().reshape(b // g, g, c, h, w)
    std = (y.var(dim=1, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3))  # (B / g,)
    std = std.to(x.dtype).repeat_interleave(g).reshape(b, 1, 1, 1).expand(b, 1, h, w)
    return torch.cat([x, std], dim=1)


def _upsample(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2.0, mode="nearest")


def _downsample(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, 2)


def harmonic_maps(pitch_min: int, pitches: int, band_hz: tuple[float, ...], harmonics: int = 32) -> torch.Tensor:
    """(pitches, bins) in [0, 1]: for each pitch class, Gaussians one bin wide at the (fractional)
    bin positions of its harmonics k * f0 (weight 1 / k) on an axis whose bins are centred at
    `band_hz` (increasing), each map scaled to peak 1."""
    centres = torch.tensor(band_hz, dtype=torch.float64)
    index = torch.arange(len(band_hz), dtype=torch.float64)
    f0 = 440.0 * 2.0 ** ((torch.arange(pitches, dtype=torch.float64) + pitch_min - 69) / 12)
    k = torch.arange(1, harmonics + 1, dtype=torch.float64)
    hz = f0[:, None] * k[None, :]                                        # (P, K)
    inside = (hz >= centres[0]) & (hz <= centres[-1])
    right = torch.searchsorted(centres, hz.clamp(centres[0], centres[-1])).clamp(1, len(band_hz) - 1)
    lo, hi = centres[right - 1], centres[right]
    position = (right - 1) + (hz.clamp(centres[0], centres[-1]) - lo) / (hi - lo)  # fractional bin index
    bumps = torch.exp(-0.5 * (index[None, None, :] - position[..., None]).square())  # (P, K, bins)
    maps = (bumps * (inside / k)[..., None]).sum(dim=1)
    return (maps / maps.amax(dim=1, keepdim=True).clamp_min(1e-12)).float()


class PitchMaps(nn.Module):
    """One-hot pitches (B, P) -> harmonic map images (B, 1, frames, bins) at any level (average
    pooled along frequency, constant along time). Holds no weights: rebuilt from the config."""

    def __init__(self, config: "GANSynthModelConfig"):
        super().__init__()
        self.config = config
        self.register_buffer("maps", harmonic_maps(config.pitch_min, config.pitches, config.band_hz), persistent=False)

    def forward(self, pitch: torch.Tensor, level: int) -> torch.Tensor:
        frames, bins = self.config.shape_at(level)
        row = pitch.to(self.maps.dtype) @ self.maps                       # (B, full bins)
        factor = self.maps.shape[1] // bins
        if factor > 1:
            row = F.avg_pool1d(row[:, None], factor)[:, 0]
        return row[:, None, None, :].expand(-1, 1, frames, bins)


class ConditionalAffine(nn.Module):
    """x (B, C, H, W), c (B, E) -> x * (1 + gain(c)) + bias(c), per channel (BigGAN's conditional
    normalisation, after a pixel norm)."""

    def __init__(self, embedding: int, channels: int, scale: float = 1.0):
        super().__init__()
        self.gain = EqualizedLinear(embedding, channels, gain=scale)
        self.bias = EqualizedLinear(embedding, channels, gain=scale)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return x * (1.0 + self.gain(c))[:, :, None, None] + self.bias(c)[:, :, None, None]


class _GenBlock(nn.Module):
    """Nearest upsample x2 (+ the pitch map channel), then two 3x3 convs, each followed by
    LeakyReLU, pixel norm and (when conditioned per block) the pitch's affine map."""

    def __init__(self, cin: int, cout: int, *, map_channels: int = 0, embedding: int = 0, style_gain: float = 1.0):
        super().__init__()
        self.conv1 = EqualizedConv2d(cin + map_channels, cout, 3)
        self.conv2 = EqualizedConv2d(cout, cout, 3)
        self.affine1 = ConditionalAffine(embedding, cout, style_gain) if embedding else None
        self.affine2 = ConditionalAffine(embedding, cout, style_gain) if embedding else None

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None, pitch_map: torch.Tensor | None = None) -> torch.Tensor:
        x = _upsample(x)
        if pitch_map is not None:
            x = torch.cat([x, pitch_map.to(x.dtype)], dim=1)
        x = pixel_norm(F.leaky_relu(self.conv1(x), LEAK))
        if self.affine1 is not None:
            x = self.affine1(x, c)
        x = pixel_norm(F.leaky_relu(self.conv2(x), LEAK))
        return x if self.affine2 is None else self.affine2(x, c)


class Generator(nn.Module):
    """z: (B, latent) ~ N(0, I), pitch: (B, pitches) one-hot -> (B, 2, frames, bins) at `level`, in [-1, 1]."""

    def __init__(self, config: GANSynthModelConfig):
        super().__init__()
        self.config = config
        c0 = config.channels[0]
        h0, w0 = config.base_shape
        projection = config.conditioning == "projection"
        embedding = config.embedding if projection else 0
        maps = config.map_channels
        self.embed = EqualizedLinear(config.pitches, embedding, gain=1.0) if projection else None
        self.pitch_maps = PitchMaps(config) if maps else None
        # A dense layer onto the base grid (PGGAN's "4x4 conv on a 1x1 input"), gain sqrt(2)/4.
        self.dense = EqualizedLinear(config.latent + (embedding or config.pitches), c0 * h0 * w0, gain=math.sqrt(2) / 4)
        self.conv0 = EqualizedConv2d(c0 + maps, c0, 3)
        # Every block's affine map sees the pitch embedding and the latent (BigGAN), so neither
        # drowns the other: the embedding alone made pitch move G's output 3.5-6x as much as z.
        style = embedding + config.latent if projection else 0
        self.affine0 = ConditionalAffine(style, c0, config.style_gain) if projection else None
        self.blocks = nn.ModuleList(_GenBlock(a, b, map_channels=maps, embedding=style, style_gain=config.style_gain)
                                    for a, b in zip(config.channels[:-1], config.channels[1:]))
        self.to_spec = nn.ModuleList(EqualizedConv2d(c, config.image_channels, 1, gain=1.0) for c in config.channels)

    def forward(self, z: torch.Tensor, pitch: torch.Tensor, level: int | None = None,
                alpha: float | torch.Tensor = 1.0) -> torch.Tensor:
        level = self.config.levels - 1 if level is None else level
        h0, w0 = self.config.base_shape
        pitch = pitch.to(z.dtype)
        z = pixel_norm(z)
        c = pixel_norm(self.embed(pitch)) if self.embed is not None else None
        x = torch.cat([z, pitch if c is None else c], dim=1)
        x = self.dense(x).reshape(z.shape[0], self.config.channels[0], h0, w0)
        x = pixel_norm(F.leaky_relu(x, LEAK))
        if self.pitch_maps is not None:
            x = torch.cat([x, self.pitch_maps(pitch, 0).to(x.dtype)], dim=1)
        x = pixel_norm(F.leaky_relu(self.conv0(x), LEAK))
        if c is not None:
            c = torch.cat([c, z], dim=1)  # the style every conditional affine map reads
            x = self.affine0(x, c)
        previous = x
        for i, block in enumerate(self.blocks[:level]):
            previous = x
            x = block(x, c, None if self.pitch_maps is None else self.pitch_maps(pitch, i + 1))
        out = torch.tanh(self.to_spec[level](x))
        if level > 0 and not (isinstance(alpha, float) and alpha >= 1.0):
            coarse = _upsample(torch.tanh(self.to_spec[level - 1](previous)))
            out = torch.lerp(coarse, out, alpha if isinstance(alpha, torch.Tensor) else float(alpha))
        return out


class _DiscBlock(nn.Module):
    """Two 3x3 convs with LeakyReLU, then 2x2 average pooling."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv1 = EqualizedConv2d(cin, cin, 3)
        self.conv2 = EqualizedConv2d(cin, cout, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.conv1(x), LEAK)
        return _downsample(F.leaky_relu(self.conv2(x), LEAK))


class Discriminator(nn.Module):
    """x: (B, 2, frames, bins) at `level`, pitch: (B, pitches) one-hot -> (realness logit (B,),
    pitch logits (B, pitches) for "acgan", else None). `pitch` may be None only for "acgan"
    without a harmonic map (the paper's D does not see the label)."""

    def __init__(self, config: GANSynthModelConfig):
        super().__init__()
        self.config = config
        chans = config.channels
        c0 = chans[0]
        h0, w0 = config.base_shape
        self.acgan = config.conditioning == "acgan"
        self.pitch_maps = PitchMaps(config) if config.map_channels else None
        self.from_spec = nn.ModuleList(EqualizedConv2d(config.image_channels + config.map_channels, c, 1) for c in chans)
        # blocks[l - 1] takes level l down to level l - 1.
        self.blocks = nn.ModuleList(_DiscBlock(a, b) for a, b in zip(chans[1:], chans[:-1]))
        self.conv = EqualizedConv2d(c0 + 1, c0, 3)
        self.dense = EqualizedLinear(c0 * h0 * w0, c0)
        self.out = EqualizedLinear(c0, 1 + (config.pitches if self.acgan else 0), gain=1.0)
        self.embed = None if self.acgan else EqualizedLinear(config.pitches, c0, gain=1.0)

    def _with_map(self, x: torch.Tensor, pitch: torch.Tensor | None, level: int) -> torch.Tensor:
        if self.pitch_maps is None:
            return x
        return torch.cat([x, self.pitch_maps(pitch, level).to(x.dtype)], dim=1)

    def forward(self, x: torch.Tensor, level: int | None = None, alpha: float | torch.Tensor = 1.0,
                pitch: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        level = self.config.levels - 1 if level is None else level
        if pitch is None and (self.pitch_maps is not None or not self.acgan):
            raise ValueError("this discriminator judges notes against their pitch: pass `pitch`")
        h = F.leaky_relu(self.from_spec[level](self._with_map(x, pitch, level)), LEAK)
        if level > 0:
            h = self.blocks[level - 1](h)
            if not (isinstance(alpha, float) and alpha >= 1.0):
                coarse = F.leaky_relu(self.from_spec[level - 1](self._with_map(_downsample(x), pitch, level - 1)), LEAK)
                h = torch.lerp(coarse, h, alpha if isinstance(alpha, torch.Tensor) else float(alpha))
        for block in reversed(self.blocks[:level - 1] if level > 1 else []):
            h = block(h)
        h = F.leaky_relu(self.conv(minibatch_stddev(h, self.config.mbstd_group)), LEAK)
        h = F.leaky_relu(self.dense(h.flatten(1)), LEAK)
        out = self.out(h)
        if self.acgan:
            return out[:, 0], out[:, 1:]
        return out[:, 0] + (self.embed(pitch.to(h.dtype)) * h).sum(dim=1), None


@dataclass(frozen=True)
class PitchClassifierConfig:
    """The evaluation classifier: a 1-D CNN over a log-frequency spectrum (3 bins a semitone)."""

    bins: int = 310            # log-frequency bins (MIDI 16 .. 119 at 3 a semitone)
    channels: tuple[int, ...] = (32, 64, 64)
    embedding: int = 128       # the features Fréchet distances are computed in
    classes: int = 128         # MIDI pitches 0-127


class PitchClassifier(nn.Module):
    """x: (B, 2, bins) (time-mean and time-max of the log spectrum) -> (logits (B, classes),
    embedding (B, embedding)). Convolutions along log frequency see a pitch shift as a translation."""

    def __init__(self, config: PitchClassifierConfig):
        super().__init__()
        self.config = config
        layers: list[nn.Module] = [nn.Conv1d(2, config.channels[0], 7, padding=3), nn.LeakyReLU(LEAK)]
        width = config.bins
        for cin, cout in zip(config.channels, config.channels[1:] + (config.channels[-1],)):
            layers += [nn.Conv1d(cin, cout, 7, padding=3), nn.LeakyReLU(LEAK), nn.MaxPool1d(2)]
            width //= 2
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.embed = nn.Linear(config.channels[-1] * width, config.embedding)
        self.out = nn.Linear(config.embedding, config.classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        embedding = F.leaky_relu(self.embed(self.features(x)), LEAK)
        return self.out(embedding), embedding
