"""GANSynth: a progressive, pitch-conditioned GAN over IF-Mel spectrograms (docs/design.md §4)."""
