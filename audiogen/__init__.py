"""audiogen: neural audio and music generation in five model families (ABC char-LSTM, MusicVAE,
SampleVAE, GANSynth, timbre translation with pix2pix/CycleGAN) over one spectral core.

    import audiogen
    gan = audiogen.load("gansynth")          # a bundled model by name, or any model file's path
    notes = gan.sample([48, 60, 72], rng_seed=1)

`import audiogen` is light: torch is imported only when a model is loaded.
"""

from audiogen.errors import AudiogenError, BadInputError  # no torch behind these
from audiogen.version import __version__

__all__ = ["AudiogenError", "BadInputError", "load", "__version__"]


def load(name_or_path, device: str = "auto"):
    """A model handle: see `audiogen.api.load`."""
    from audiogen.api import load as _load

    return _load(name_or_path, device=device)
