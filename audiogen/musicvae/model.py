"""MusicVAE's networks: a bidirectional LSTM encoder and a flat or hierarchical LSTM decoder.

Event classes are those of `audiogen.data.melody` (91: no-event, note-off, 88 note-ons, padding);
a sequence is `bars` segments of 16 steps, (B, T = bars * 16) int64.

- `Encoder`: events -> (mu, sigma) of q(z | x), each (B, latent): one bidirectional LSTM over all T
  steps, or (`encoder_per_bar`) the same LSTM over each 16-step segment and a second bidirectional
  LSTM over the segments' summaries, so no bar is 240 steps from the state that summarises it
  (and a 2-bar model's encoder LSTM can start it: `audiogen.musicvae.warm_start`).
- `BarDecoder`: an autoregressive LSTM over one sequence, conditioned on a vector (z for the flat
  decoder, a conductor output for a bar of the hierarchical one): the vector sets its initial
  state through a tanh layer and is fed again with every step's input (the previous event).
- `MusicVAE`: the encoder plus either one `BarDecoder` over all T steps (flat) or a conductor LSTM
  with one step per segment whose outputs each drive an independent `BarDecoder` pass over that
  segment's 16 steps (hierarchical; as in MusicVAE, a segment's decoding sees the conductor output
  and its own previous events only, so the conductor alone carries information between bars).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from audiogen.data.melody import NUM_CLASSES, PAD, SEGMENT_STEPS

START = NUM_CLASSES  # input id of the "no previous event" token before the first step; never an output
State = tuple[torch.Tensor, torch.Tensor]  # (h, c), each (layers, B, hidden)


@dataclass(frozen=True)
class MusicVAEModelConfig:
    bars: int = 2                   # 16-step segments per sequence
    hierarchical: bool = False      # conductor + per-segment decoder, else one flat decoder
    latent: int = 256
    embed: int = 64                 # event embedding (inputs of encoder and decoders)
    encoder_hidden: int = 256       # per direction
    encoder_layers: int = 1
    decoder_hidden: int = 256
    decoder_layers: int = 2
    conductor_hidden: int = 256
    conductor_layers: int = 2
    conductor_out: int = 256        # size of each conductor output (the bar decoder's conditioning)
    dropout: float = 0.0
    encoder_per_bar: bool = False   # segment LSTM + LSTM over segment summaries, else one LSTM over all steps
    conductor_tanh: bool = True     # squash conductor outputs into (-1, 1); False: linear, like a latent code
    conductor_reads_z: bool = False # conductor step k reads (z, one-hot k) instead of zeros
    conductor_skip: bool = False    # plus a linear map of z per bar added to each conductor output
    bar_encoder_hidden: int = 256   # per direction, the LSTM over segment summaries (encoder_per_bar)

    @property
    def steps(self) -> int:
        return self.bars * SEGMENT_STEPS


def _initial_state(layer: nn.Linear, vector: torch.Tensor, layers: int, hidden: int) -> State:
    """tanh(layer(vector)) (B, 2*layers*hidden) -> (h, c), each (layers, B, hidden)."""
    values = torch.tanh(layer(vector)).view(vector.shape[0], 2, layers, hidden)
    return values[:, 0].transpose(0, 1).contiguous(), values[:, 1].transpose(0, 1).contiguous()


class Encoder(nn.Module):
    """events (B, T) int64 -> mu (B, latent), sigma (B, latent) > 0; T a multiple of 16 when per bar."""

    def __init__(self, config: MusicVAEModelConfig):
        super().__init__()
        self.embedding = nn.Embedding(NUM_CLASSES, config.embed)
        self.lstm = nn.LSTM(config.embed, config.encoder_hidden, config.encoder_layers, batch_first=True,
                            bidirectional=True, dropout=config.dropout if config.encoder_layers > 1 else 0.0)
        summary = 2 * config.encoder_hidden
        if config.encoder_per_bar:
            self.bar_lstm = nn.LSTM(summary, config.bar_encoder_hidden, 1, batch_first=True, bidirectional=True)
            summary = 2 * config.bar_encoder_hidden
        else:
            self.bar_lstm = None
        self.to_mu = nn.Linear(summary, config.latent)
        self.to_sigma = nn.Linear(summary, config.latent)

    def _summary(self, lstm: nn.LSTM, x: torch.Tensor) -> torch.Tensor:
        """(N, L, D) -> (N, 2 * hidden): the last layer's final forward and backward states."""
        _, (h, _) = lstm(x)
        return torch.cat([h[-2], h[-1]], dim=-1)

    def forward(self, events: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.bar_lstm is None:
            final = self._summary(self.lstm, self.embedding(events))
        else:
            b = events.shape[0]
            per_segment = self._summary(self.lstm, self.embedding(events.reshape(-1, SEGMENT_STEPS)))
            final = self._summary(self.bar_lstm, per_segment.reshape(b, -1, per_segment.shape[-1]))
        return self.to_mu(final), F.softplus(self.to_sigma(final)) + 1e-5


class BarDecoder(nn.Module):
    """An autoregressive event LSTM conditioned on a vector (cond_size).

    forward: cond (B, cond_size), inputs (B, T) int64 previous events (START first) -> logits (B, T, 91).
    step: one step at a time, for sampling.
    """

    def __init__(self, config: MusicVAEModelConfig, cond_size: int):
        super().__init__()
        self.layers, self.hidden = config.decoder_layers, config.decoder_hidden
        self.embedding = nn.Embedding(NUM_CLASSES + 1, config.embed)  # + START
        self.init = nn.Linear(cond_size, 2 * self.layers * self.hidden)
        self.lstm = nn.LSTM(config.embed + cond_size, self.hidden, self.layers, batch_first=True,
                            dropout=config.dropout if self.layers > 1 else 0.0)
        self.head = nn.Linear(self.hidden, NUM_CLASSES)

    def initial_state(self, cond: torch.Tensor) -> State:
        return _initial_state(self.init, cond, self.layers, self.hidden)

    def forward(self, cond: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        x = torch.cat([self.embedding(inputs), cond[:, None, :].expand(-1, inputs.shape[1], -1)], dim=-1)
        out, _ = self.lstm(x, self.initial_state(cond))
        return self.head(out)

    def step(self, cond: torch.Tensor, previous: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """cond (B, C), previous (B,) int64, state -> logits (B, 91), new state."""
        x = torch.cat([self.embedding(previous), cond], dim=-1)[:, None, :]
        out, state = self.lstm(x, state)
        return self.head(out[:, 0]), state


class Conductor(nn.Module):
    """z (B, latent) -> one output per segment (B, bars, conductor_out), from an LSTM started from z.

    Its steps read zeros (Magenta: z only through the initial state) or, with `conductor_reads_z`,
    z and the one-hot bar number k, so bar k's output is a function of (z, k) the LSTM need not
    unpack from its state by counting steps; `conductor_skip` adds a linear map of z per bar.
    Outputs go through tanh unless `conductor_tanh` is False: a bar decoder warm-started from a
    2-bar model reads codes like that model's latent, a few of whose values pass +-1.
    """

    def __init__(self, config: MusicVAEModelConfig):
        super().__init__()
        self.bars, self.layers, self.hidden = config.bars, config.conductor_layers, config.conductor_hidden
        self.init = nn.Linear(config.latent, 2 * self.layers * self.hidden)
        self.reads_z = config.conductor_reads_z
        inputs = config.latent + config.bars if self.reads_z else 1
        self.lstm = nn.LSTM(inputs, self.hidden, self.layers, batch_first=True,
                            dropout=config.dropout if self.layers > 1 else 0.0)
        self.out = nn.Linear(self.hidden, config.conductor_out)
        self.skip = nn.Linear(config.latent, config.bars * config.conductor_out) if config.conductor_skip else None
        self.squash = config.conductor_tanh

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        b = z.shape[0]
        if self.reads_z:
            bar = torch.eye(self.bars, dtype=z.dtype, device=z.device).expand(b, -1, -1)
            x = torch.cat([z[:, None, :].expand(-1, self.bars, -1), bar], dim=-1)
        else:
            x = z.new_zeros(b, self.bars, 1)
        out, _ = self.lstm(x, _initial_state(self.init, z, self.layers, self.hidden))
        out = self.out(out)
        if self.skip is not None:
            out = out + self.skip(z).reshape(b, self.bars, -1)
        return torch.tanh(out) if self.squash else out


class MusicVAE(nn.Module):
    """The VAE; see the module docstring. Every method takes and returns batch-first tensors."""

    def __init__(self, config: MusicVAEModelConfig):
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        if config.hierarchical:
            self.conductor = Conductor(config)
            self.decoder = BarDecoder(config, config.conductor_out)
        else:
            self.conductor = None
            self.decoder = BarDecoder(config, config.latent)

    def encode(self, events: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """events (B, T) int64 -> mu, sigma (B, latent)."""
        return self.encoder(events)

    def conditions(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, latent) -> what each decoder pass is conditioned on: (B, U, C).

        Flat: U = 1 pass over all T steps with C = latent (z itself); hierarchical: U = bars
        passes of 16 steps, C = conductor_out.
        """
        return self.conductor(z) if self.conductor is not None else z[:, None, :]

    def decode_conditions(self, conditions: torch.Tensor, targets_in: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits: conditions (B, U, C), previous events (B, T) -> (B, T, 91).

        `targets_in` is the event sequence the decoder reads; each of the U passes reads its own
        T/U steps with START in front, so its first step never sees the previous pass.
        """
        b, u, c = conditions.shape
        inputs = targets_in.reshape(b * u, -1)
        inputs = torch.cat([inputs.new_full((b * u, 1), START), inputs[:, :-1]], dim=1)
        logits = self.decoder(conditions.reshape(b * u, c), inputs)
        return logits.reshape(b, -1, NUM_CLASSES)

    def decode(self, z: torch.Tensor, targets_in: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits: z (B, latent), events read (B, T) -> (B, T, 91)."""
        return self.decode_conditions(self.conditions(z), targets_in)

    @torch.no_grad()
    def sample_conditions(self, conditions: torch.Tensor, *, temperature: float = 1.0,
                          generator: torch.Generator | None = None,
                          pad_layout: torch.Tensor | None = None) -> torch.Tensor:
        """Autoregressive decoding: conditions (B, U, C) -> events (B, T) int64.

        temperature 0 takes the argmax. `pad_layout` (T,) bool forces PAD where True and forbids
        it elsewhere (a meter's bar layout); None lets the model place padding itself.
        """
        b, u, c = conditions.shape
        steps = self.config.steps // u
        cond = conditions.reshape(b * u, c)
        state = self.decoder.initial_state(cond)
        previous = cond.new_full((b * u,), START, dtype=torch.long)
        layout = None if pad_layout is None else pad_layout.to(cond.device).reshape(u, steps)
        is_pad = torch.zeros(NUM_CLASSES, dtype=torch.bool, device=cond.device)
        is_pad[PAD] = True
        out = []
        for t in range(steps):
            logits, state = self.decoder.step(cond, previous, state)
            if layout is not None:
                force = layout[:, t].repeat(b)[:, None]  # (B*U, 1): pass u of every batch row
                logits = logits.masked_fill(force & ~is_pad | ~force & is_pad, float("-inf"))
            if temperature < 1e-4:  # greedy (and logits / 1e-300 would overflow)
                previous = logits.argmax(dim=-1)
            else:
                probs = torch.softmax(logits.float() / temperature, dim=-1)
                previous = torch.multinomial(probs, 1, generator=generator)[:, 0]
            out.append(previous)
        return torch.stack(out, dim=1).reshape(b, -1)

    def sample(self, z: torch.Tensor, **kwargs) -> torch.Tensor:
        """z (B, latent) -> events (B, T) int64; keyword arguments as `sample_conditions`."""
        return self.sample_conditions(self.conditions(z), **kwargs)
