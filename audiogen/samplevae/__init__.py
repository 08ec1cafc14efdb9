"""SampleVAE: a convolutional VAE over log-mel spectrograms of one-shot samples, with an optional
class head, a persistent library index and exact nearest-neighbour search (docs/design.md §4)."""
