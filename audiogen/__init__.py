"""audiogen: neural audio and music generation (ABC char-LSTM, MusicVAE, SampleVAE, GANSynth)."""

__version__ = "0.1.0"
