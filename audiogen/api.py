"""The Python API: `audiogen.load(name_or_path)` and the model handles it returns.

Every handle has the same shape: `.name` (the file's stem), `.path`, `.sha256`, `.kind` (the
family), `.device`, `.config` (the training config saved in the file, a dict) and `.bundle` (the
family's own loaded object, for what the handle does not wrap). Audio comes back as float32
`numpy` arrays with the rate in `.sample_rate`; melodies as `pretty_midi.PrettyMIDI`; ABC tunes as
`str`. Every random call takes `rng_seed=` (None: a fresh seed). Each method calls the library
function the matching command calls, so the two give the same result for the same seed.
Errors a caller can fix raise `audiogen.AudiogenError` (bad files and unknown names:
`audiogen.BadInputError`, which names the input). See docs/design.md §7.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from audiogen.errors import AudiogenError, BadInputError

PathLike = str | os.PathLike


class ModelHandle:
    """What every loaded model offers; the family handles below add their calls."""

    kind = ""

    def __init__(self, bundle, path: Path, sha256: str, config: dict):
        self.bundle = bundle
        self.path = Path(path)
        self.sha256 = sha256
        self.config = config

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def device(self):
        module = getattr(self.bundle, "model", self.bundle)  # every family's loaded model calls it .model
        return next(module.parameters()).device

    def __repr__(self) -> str:
        return f"<audiogen {self.kind} model {self.name} on {self.device}>"


def _generator(rng_seed: int | None, device="cpu"):
    from audiogen.runtime.seeding import make_generator, seed_everything

    return make_generator(seed_everything(rng_seed), device)


def _midi_path(midi, folder: Path) -> Path:
    """A path for a MIDI input given as a path or a PrettyMIDI (written into `folder`)."""
    if isinstance(midi, (str, os.PathLike)):
        return Path(midi)
    if not hasattr(midi, "write"):
        raise AudiogenError(f"expected a MIDI/ABC file path or a pretty_midi.PrettyMIDI, got {type(midi).__name__}")
    path = folder / f"input-{len(list(folder.iterdir()))}.mid"
    midi.write(str(path))
    return path


class AbcHandle(ModelHandle):
    """The ABC char-LSTM: folk tunes as text."""

    kind = "abc"

    def sample(self, n: int = 1, *, seed: str = "X:1", temperature: float = 1.0, rng_seed: int | None = None,
               in_meter: bool = True, max_chars: int = 2000) -> list[str]:
        """`n` tunes continuing `seed` (each the whole tune text), every bar kept in meter unless
        `in_meter=False`; as `audiogen sample abc` draws them."""
        from audiogen.abc.generate import check_seed, sample_tunes

        check_seed(self.bundle, seed)
        tunes = sample_tunes(self.bundle, seed, n, temperature=temperature, max_chars=max_chars,
                             generator=_generator(rng_seed, self.device), in_meter=in_meter)
        return [t.text for t in tunes]


class MusicVAEHandle(ModelHandle):
    """MusicVAE melodies (2-bar or 16-bar)."""

    kind = "musicvae"

    @property
    def bars(self) -> int:
        return self.bundle.bars

    def _midi(self, events: np.ndarray, meter: str | None = None):
        from audiogen.data.melody import events_to_pretty_midi
        from audiogen.musicvae.output import preferred_meters, time_signature

        signature = time_signature(events, meter, preferred_meters(self.bundle.extra.get("meters")))
        return events_to_pretty_midi(events, time_signature=signature)

    def _samples(self, n: int, rng_seed: int | None, meter: str | None, temperature: float, prior: str,
                 repeats: bool) -> np.ndarray:
        from audiogen.musicvae.generate import sample_new

        return sample_new(self.bundle, n, _generator(rng_seed, self.device), prior=prior, repeats=repeats,
                          meter=meter, temperature=temperature)

    def sample(self, n: int = 1, *, rng_seed: int | None = None, meter: str | None = None,
               temperature: float = 0.5, prior: str = "fitted", repeats: bool = True) -> list:
        """`n` new melodies as PrettyMIDI (120 bpm, piano), as `sample musicvae` makes them: codes from
        the Gaussian fitted to the training codes (`prior="standard"`: N(0, I)), bars repeating in the
        form of a training tune (`repeats=False`: never); `meter` ("3/4") lays the bars out."""
        events = self._samples(n, rng_seed, meter, temperature, prior, repeats)
        return [self._midi(e, meter) for e in events]

    def sample_counts(self, n: int = 100, *, heldout=None, rng_seed: int | None = 1, meter: str | None = "4/4",
                      temperature: float = 0.5, prior: str = "fitted", repeats: bool = True) -> dict:
        """A musician's counts (in scale, repeated bars, notes per bar, pitch range) of `n` new melodies,
        and of the windows of `heldout` (a .npz window set, MIDI/ABC files or folders) in the same meter,
        as `eval musicvae --samples` reports them: {"samples": {...}, "heldout": {...} or None}."""
        from audiogen.musicvae.melody_counts import melody_counts

        report = {"samples": melody_counts(self._samples(n, rng_seed, meter, temperature, prior, repeats)),
                  "heldout": None}
        if heldout is not None:
            from audiogen.musicvae.evaluate import heldout_windows

            events = heldout_windows(heldout if isinstance(heldout, (list, tuple)) else [heldout], self.bundle,
                                     meter=meter)["events"]
            report["heldout"] = melody_counts(events)
        return report

    def _window(self, melody, folder: Path) -> np.ndarray:
        from audiogen.musicvae.data import file_window

        events, _, _ = file_window(_midi_path(melody, folder), self.bars)
        return events

    def encode(self, melody) -> np.ndarray:
        """The latent code (latent,) float32 of a melody (a MIDI/ABC path or a PrettyMIDI): the
        encoder's mean of its first window of `bars` bars."""
        import tempfile

        with tempfile.TemporaryDirectory(prefix="audiogen-") as folder:
            return self.encode_events(self._window(melody, Path(folder)))

    def interpolate(self, a, b, *, steps: int = 5, temperature: float = 0.0, rng_seed: int | None = None) -> list:
        """`steps` melodies walking (slerp) from melody `a` to melody `b` (paths or PrettyMIDI),
        ends included, greedy by default, as `interpolate musicvae` makes them."""
        import tempfile

        import torch

        from audiogen.musicvae.generate import decode
        from audiogen.runtime.latents import interpolation_path

        if steps < 2:
            raise AudiogenError(f"steps={steps}: an interpolation has at least its two ends")
        with tempfile.TemporaryDirectory(prefix="audiogen-") as folder:
            ends = [self._window(m, Path(folder)) for m in (a, b)]
        mu_a, mu_b = (torch.as_tensor(self.encode_events(e)) for e in ends)
        path = interpolation_path(mu_a, mu_b, steps).to(self.device)
        events = decode(self.bundle.model, path, temperature=temperature, generator=_generator(rng_seed, self.device))
        return [self._midi(e) for e in events]

    def encode_events(self, events: np.ndarray) -> np.ndarray:
        """The latent (latent,) of one event window ((bars * 16,) MusicVAE classes)."""
        from audiogen.musicvae.generate import encode

        mu, _ = encode(self.bundle.model, events)
        return mu[0].float().cpu().numpy().astype(np.float32)


class _Steerable:
    """Latent directions for the handles of families that have them (`audiogen directions ...`)."""

    @property
    def directions(self) -> dict:
        """The latent directions the model file carries ({} when none): {name: {"per_unit", "unit",
        "check", "shipped", ...}}, as `audiogen directions gansynth|samplevae` lists them."""
        from audiogen.runtime.latents import stored_directions

        return {k: {kk: vv for kk, vv in v.items() if kk != "direction"} for k, v in
                stored_directions(self.bundle).items()}

    def _steered(self, z, direction: dict | None):
        from audiogen.runtime.latents import steer

        return steer(self.bundle, z, [f"{k}={v}" for k, v in (direction or {}).items()])


class GANSynthHandle(_Steerable, ModelHandle):
    """GANSynth: pitched 4-s notes, melodies played with one timbre, sampler instruments."""

    kind = "gansynth"

    @property
    def sample_rate(self) -> int:
        return self.bundle.sample_rate

    @property
    def pitch_range(self) -> tuple[int, int]:
        return self.bundle.pitch_range

    def _latent(self, rng_seed: int | None):
        from audiogen.gansynth.generate import latent_from_seed
        from audiogen.runtime.seeding import seed_everything

        return latent_from_seed(seed_everything(rng_seed), self.bundle.config.latent)

    def sample(self, pitches: list[int], *, n: int = 1, same_latent: bool = False, temperature: float = 1.0,
               rng_seed: int | None = None, direction: dict | None = None) -> np.ndarray:
        """(len(pitches) * n, samples) notes, pitch by pitch, as `sample gansynth` makes them (its
        files before the -1 dBFS output level); `same_latent` gives note i of every pitch one timbre;
        `direction={"brightness": 2}` moves the timbres along the model's directions."""
        from audiogen.gansynth.generate import generate_notes, note_latents

        low, high = self.pitch_range
        outside = [p for p in pitches if not low <= int(p) <= high]
        if outside:
            raise AudiogenError(f"pitch {outside[0]} is outside this model's range {low}-{high}")
        z, midi = note_latents(n, [int(p) for p in pitches], self.bundle.config.latent, same_latent=same_latent,
                               temperature=temperature, generator=_generator(rng_seed))
        return generate_notes(self.bundle, self._steered(z, direction), midi).numpy()

    def render(self, midi, *, rng_seed: int | None = None, direction: dict | None = None) -> np.ndarray:
        """A MIDI file (path or PrettyMIDI) played with the timbre of `rng_seed` (moved by
        `direction`), as `render gansynth --rng-seed` plays it: (samples,) at `sample_rate`."""
        import tempfile

        from audiogen.gansynth.render import fit_to_range, read_played_notes, render_midi

        with tempfile.TemporaryDirectory(prefix="audiogen-") as folder:
            notes, _ = read_played_notes(_midi_path(midi, Path(folder)))
        notes, _ = fit_to_range(notes, *self.pitch_range)
        wave, _ = render_midi(self.bundle, notes, self._steered(self._latent(rng_seed)[None], direction))
        return wave

    def export(self, path: PathLike, *, rng_seed: int | None = None, latent=None, pitches: tuple[int, int] | None = None,
               every: int = 1, force: bool = False, direction: dict | None = None) -> dict:
        """Write one timbre (`rng_seed`'s, or `latent`, a (latent,) array) as an `.sf2` or `.sfz`
        instrument, as `export gansynth` does; returns what was written."""
        import torch

        from audiogen.gansynth.export import export_instrument

        z = self._latent(rng_seed) if latent is None else torch.as_tensor(np.asarray(latent, np.float32))
        z = self._steered(z, direction)
        low, high = pitches if pitches is not None else (None, None)
        return export_instrument(self.bundle, z, path, low=low, high=high, every=every, force=force)


class SampleVAEHandle(_Steerable, ModelHandle):
    """SampleVAE: drum one-shots classified, searched and generated."""

    kind = "samplevae"

    @property
    def sample_rate(self) -> int:
        return self.bundle.sample_rate

    @property
    def classes(self) -> list[str]:
        return list(self.bundle.classes)

    def _clips(self, items, sample_rate: int | None):
        import torch

        from audiogen.dsp.audio_io import resample
        from audiogen.samplevae.data import fit_clip, load_clip, start_of_sound

        features, clips = self.bundle.features, []
        for item in items:
            if isinstance(item, (str, os.PathLike)):
                clips.append(load_clip(item, features))
                continue
            if sample_rate is None:
                raise AudiogenError("waves given as arrays need sample_rate=")
            wave = torch.as_tensor(np.asarray(item, np.float32))
            wave = resample(wave.mean(dim=0) if wave.ndim == 2 else wave, sample_rate, features.sample_rate)
            clips.append(fit_clip(wave, features, start_of_sound(wave, features.sample_rate)))
        return torch.stack(clips)

    def classify(self, files_or_waves, *, sample_rate: int | None = None) -> list[str]:
        """The class of each sound (file paths, or (samples,) arrays at `sample_rate`), as
        `audiogen classify` names it."""
        from audiogen.samplevae.generate import class_table, embed_clips

        if not self.bundle.classes:
            raise AudiogenError(f"{self.path}: this model has no class head")
        items = [files_or_waves] if isinstance(files_or_waves, (str, os.PathLike)) else list(files_or_waves)
        _, probs = embed_clips(self.bundle.model, self._clips(items, sample_rate), self.bundle.features)
        return [row["class"] for row in class_table(probs, self.bundle.classes)]

    def similar(self, file: PathLike, *, library: PathLike | None = None, k: int = 10) -> list[tuple[str, float]]:
        """The `k` sounds nearest to `file` in `library` (a folder of audio files, embedded now, or
        an index folder made by `audiogen index`; default: your library index), without the query
        itself: [(path, distance)] nearest first."""
        from audiogen.samplevae.library_index import index_exists
        from audiogen.samplevae.similar import find_similar

        index_path = folder = None
        if library is not None and index_exists(library):
            index_path = library
        else:
            folder = library
        found = find_similar(file, index_path=index_path, library=folder, k=k, model=self.path, device=self.device)
        return [(r["path"], float(r["distance"])) for r in found["results"]]

    def sample(self, n: int = 1, *, temperature: float = 1.0, rng_seed: int | None = None,
               direction: dict | None = None) -> np.ndarray:
        """(n, samples) new sounds from the prior, as `sample samplevae` makes them;
        `direction={"brightness": 2}` moves them along the model's directions."""
        from audiogen.samplevae.generate import decode_audio, prior_latents

        generator = _generator(rng_seed)
        z = self._steered(prior_latents(n, self.bundle.latent, temperature=temperature, generator=generator), direction)
        return decode_audio(self.bundle.model, z, self.bundle.features, generator=generator).numpy()

    def interpolate(self, a, b, *, steps: int = 8, sample_rate: int | None = None, rng_seed: int | None = None,
                    direction: dict | None = None) -> np.ndarray:
        """(steps, samples): sound `a` morphed into sound `b` (file paths, or (samples,) arrays at
        `sample_rate`) along the line between their latent means, as `interpolate samplevae` makes
        it; `direction` moves every step along the model's directions."""
        from audiogen.samplevae.generate import decode_audio, embed_clips, interpolate_latents

        if steps < 2:
            raise AudiogenError(f"steps={steps}: an interpolation needs at least 2 steps (the two ends)")
        means, _ = embed_clips(self.bundle.model, self._clips([a, b], sample_rate), self.bundle.features)
        z = self._steered(interpolate_latents(means[0], means[1], steps), direction)
        return decode_audio(self.bundle.model, z, self.bundle.features, generator=_generator(rng_seed)).numpy()


class TranslateHandle(ModelHandle):
    """Timbre translation (piano -> violin for the bundled model)."""

    kind = "translate"

    @property
    def sample_rate(self) -> int:
        return self.bundle.rep.sample_rate

    def translate(self, wave, sample_rate: int, *, reverse: bool = False) -> np.ndarray:
        """A recording (samples,) or (channels, samples) at `sample_rate` -> its translation,
        mono, the same length and rate, as `audiogen translate` writes it (before the output level)."""
        import torch

        from audiogen.translate.generate import translate_at_rate

        x = torch.as_tensor(np.asarray(wave, np.float32))
        x = x.mean(dim=0) if x.ndim == 2 else x
        if float(x.abs().max()) < 1e-4:
            raise AudiogenError("the recording is silent (peak below -80 dBFS): nothing to translate")
        if reverse and not self.bundle.unpaired:
            raise AudiogenError(f"{self.path}: translates one way only (a paired model)")
        return translate_at_rate(self.bundle, x, sample_rate, reverse=reverse).numpy()


class PitchClassifierHandle(ModelHandle):
    """The pitch classifier `eval gansynth` judges notes with."""

    kind = "pitch-classifier"

    sample_rate = 16000

    def classify(self, waves) -> list[int]:
        """The MIDI pitch of each 16 kHz note ((B, samples) or one (samples,))."""
        import torch

        from audiogen.gansynth.classifier_input import classify_waves

        x = torch.as_tensor(np.asarray(waves, np.float32))
        probs, _ = classify_waves(self.bundle, x[None] if x.ndim == 1 else x)
        return [int(p) for p in probs.argmax(dim=1)]


# kind -> (module, loader function, handle class): each family's own loader, wrapped in its handle
LOADERS = {"abc": ("audiogen.abc.load", "load_abc_model", AbcHandle),
           "musicvae": ("audiogen.musicvae.load", "load_musicvae_model", MusicVAEHandle),
           "gansynth": ("audiogen.gansynth.load", "load_gansynth_model", GANSynthHandle),
           "samplevae": ("audiogen.samplevae.load", "load_samplevae_model", SampleVAEHandle),
           "translate": ("audiogen.translate.load", "load_translate_model", TranslateHandle),
           "pitch-classifier": ("audiogen.gansynth.classifier_train", "load_pitch_classifier", PitchClassifierHandle)}


def _open(kind: str, path: Path, device) -> ModelHandle:
    import dataclasses
    import importlib

    module, function, handle = LOADERS[kind]
    loaded = getattr(importlib.import_module(module), function)(path, device)
    if isinstance(loaded, tuple):  # the pitch classifier: (network, its file)
        network, file = loaded
        return handle(network, file.path, file.sha256, file.config)
    config = dataclasses.asdict(loaded.config) if dataclasses.is_dataclass(loaded.config) else loaded.config
    return handle(loaded, loaded.path, loaded.sha256, config)


def load(name_or_path: PathLike, device: str = "auto") -> ModelHandle:
    """A model handle from a bundled model's name (`abc`, `musicvae-2bar`, `musicvae-16bar`,
    `samplevae-drums`, `gansynth`, `translate-piano-violin`, `pitch-classifier`) or the path of
    any model file of ours; its class follows the file's kind. `device`: auto (CUDA, then MPS,
    then CPU), cpu, cuda, cuda:N or mps. BadInputError (an AudiogenError) for an unknown name (the
    message lists the bundled names) or a file that is not one of our models; nothing is unpickled."""
    from audiogen.runtime.assets import model_kind, resolve_model
    from audiogen.runtime.device import resolve_device
    from audiogen.runtime.modelfile import load_model

    path = resolve_model(name_or_path)
    kind = model_kind(path)  # the header alone
    if kind not in LOADERS:
        kind = load_model(path).kind  # not ours, or unreadable: the full check says why, naming the file
    if kind not in LOADERS:
        raise BadInputError(path, f"is a {kind} model, which audiogen.load does not open")
    return _open(kind, path, resolve_device(device))
